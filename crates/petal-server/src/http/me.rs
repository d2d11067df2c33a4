//! The signed-in user's own account: profile, sessions, password.

use super::{ApiError, AppState, ErrorBody};
use crate::auth::extract::Authenticated;
use crate::auth::password;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use petal_domain::audit::{AuditAction, AuditEvent, Target};
use petal_domain::{OrgId, Role, SessionId, UserId};
use petal_storage::{audit, sessions, users};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// The user's profile.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    #[schema(value_type = String, format = Uuid)]
    id: UserId,
    #[schema(value_type = String, format = Uuid)]
    org_id: OrgId,
    email: String,
    name: String,
    #[schema(value_type = String)]
    role: Role,
    mfa: MfaStatus,
}

/// Which second factors are set up.
#[derive(Serialize, utoipa::ToSchema)]
pub struct MfaStatus {
    totp: bool,
    sms: bool,
    passkey: bool,
    backup_codes_left: i64,
}

/// Who am I.
#[utoipa::path(get, path = "/api/v1/me", tag = "me",
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
pub async fn me(State(state): State<AppState>, user: Authenticated) -> Result<Json<Me>, ApiError> {
    let id = user.principal.user_id;
    let mut tx = state.db.begin_snapshot(user.scope()).await?;
    let profile = users::get(&mut tx, id).await?.ok_or_else(ApiError::not_found)?;
    let backup_codes_left = users::backup_codes_left(&mut tx, id).await?;
    Ok(Json(Me {
        id,
        org_id: user.scope().org_id(),
        email: profile.email,
        name: profile.name,
        role: profile.role,
        mfa: MfaStatus {
            totp: profile.totp_enabled,
            sms: profile.sms_enabled,
            passkey: profile.passkey_enabled,
            backup_codes_left,
        },
    }))
}

/// One of the user's live sessions.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionView {
    #[schema(value_type = String, format = Uuid)]
    id: SessionId,
    created_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    ip: Option<String>,
    user_agent: Option<String>,
    /// Whether this is the session making the request.
    current: bool,
}

/// The user's live sessions.
#[utoipa::path(get, path = "/api/v1/me/sessions", tag = "me",
    responses((status = 200, body = [SessionView]), (status = 401, body = ErrorBody)))]
pub async fn my_sessions(
    State(state): State<AppState>,
    user: Authenticated,
) -> Result<Json<Vec<SessionView>>, ApiError> {
    let now = state.clock.now();
    let mut tx = state.db.begin_snapshot(user.scope()).await?;
    let live = sessions::list_live(&mut tx, user.principal.user_id, now, state.auth.idle).await?;
    Ok(Json(
        live.into_iter()
            .map(|s| SessionView {
                current: s.id == user.principal.session_id,
                id: s.id,
                created_at: s.created_at,
                last_seen_at: s.last_seen_at,
                expires_at: s.expires_at,
                ip: s.ip,
                user_agent: s.user_agent,
            })
            .collect(),
    ))
}

/// Ends one of the user's own sessions at once; another user's session id is a 404.
#[utoipa::path(delete, path = "/api/v1/me/sessions/{id}", tag = "me",
    params(("id" = String, Path, description = "Session id")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_session(
    State(state): State<AppState>,
    user: Authenticated,
    Path(id): Path<SessionId>,
) -> Result<StatusCode, ApiError> {
    let now = state.clock.now();
    let me = user.principal.user_id;
    let mut tx = state.db.begin_scoped(user.scope()).await?;
    if !sessions::revoke(&mut tx, me, id, "revoked_by_user", now).await? {
        return Err(ApiError::not_found());
    }
    let revoked = AuditEvent::success(
        AuditAction::SessionRevoked,
        Some(Target { kind: "session", id: id.to_string() }),
    );
    audit::append(&mut tx, now, &user.audit(), &revoked).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new password.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct PasswordChange {
    #[schema(value_type = String, format = Password)]
    new_password: SecretString,
}

/// Changes the password (needs a step-up within 5 minutes) and ends every session of the
/// user, this one included: they sign in again with the new password.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "me", request_body = PasswordChange,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn change_password(
    State(state): State<AppState>,
    user: Authenticated,
    Json(request): Json<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    let now = state.clock.now();
    user.require_recent_reauth(now)?;
    let id = user.principal.user_id;
    let mut read = state.db.begin_snapshot(user.scope()).await?;
    let profile = users::get(&mut read, id).await?.ok_or_else(ApiError::not_found)?;
    drop(read);
    password::check_strength(&request.new_password, &[&profile.email, &profile.name]).map_err(
        |e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "weak_password", e.to_string()),
    )?;
    // Hashed before the write transaction opens, so no lock is held while Argon2 works.
    let hash = password::hash(request.new_password).await?;
    let mut tx = state.db.begin_scoped(user.scope()).await?;
    users::set_password(&mut tx, id, &hash).await?;
    let ended = sessions::revoke_all(&mut tx, id, "password_changed", now).await?;
    let changed = AuditEvent::success(
        AuditAction::PasswordChanged,
        Some(Target { kind: "user", id: id.to_string() }),
    )
    .detail(
        "sessions_ended",
        petal_domain::audit::Detail::Number(i64::try_from(ended).unwrap_or(i64::MAX)),
    );
    audit::append(&mut tx, now, &user.audit(), &changed).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A fresh set of backup codes, shown this once.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BackupCodes {
    backup_codes: Vec<String>,
}

/// Replaces the user's backup codes (needs a step-up within 5 minutes): the old set stops
/// working at once.
#[utoipa::path(post, path = "/api/v1/me/backup-codes", tag = "me",
    responses((status = 200, body = BackupCodes), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn regenerate_backup_codes(
    State(state): State<AppState>,
    user: Authenticated,
) -> Result<Json<BackupCodes>, ApiError> {
    let now = state.clock.now();
    user.require_recent_reauth(now)?;
    let id = user.principal.user_id;
    let codes = crate::auth::backup_codes::generate()?;
    let hashes: Vec<[u8; 32]> =
        codes.iter().map(|c| crate::auth::backup_codes::hash(&state.auth.codes, id, c)).collect();
    let mut tx = state.db.begin_scoped(user.scope()).await?;
    users::replace_backup_codes(&mut tx, id, &hashes).await?;
    let event = AuditEvent::success(
        AuditAction::MfaEnrolled,
        Some(Target { kind: "user", id: id.to_string() }),
    )
    .detail("method", petal_domain::audit::Detail::Label("backup_codes".to_owned()));
    audit::append(&mut tx, now, &user.audit(), &event).await?;
    let ip = user.meta.ip.map(|ip| ip.to_string());
    let details = serde_json::json!({"change": "backup_codes_regenerated"});
    let raised = crate::alerts::raise(
        &mut tx,
        crate::alerts::AlertKind::MfaChanged,
        Some(id),
        ip,
        details,
        now,
    )
    .await?;
    tx.commit().await?;
    crate::alerts::deliver(&state, vec![raised]);
    Ok(Json(BackupCodes { backup_codes: codes }))
}
