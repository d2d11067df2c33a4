//! Administering an organisation's users: invite, list, change role, deactivate, reset MFA.
//! Every route here requires the `ManageUsers` permission (Admins).

use super::{ApiError, AppState, ErrorBody};
use crate::alerts::{self, AlertKind};
use crate::auth::extract::{Authorized, ClientMeta, ManageUsers};
use crate::invitations::{self, invite_link};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use petal_domain::audit::{AuditAction, AuditEvent, Detail, Target};
use petal_domain::{Email, Role, UserId};
use petal_storage::{ScopedTx, audit, sessions, users};
use serde::{Deserialize, Serialize};

/// Whom to invite, as what.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct InviteRequest {
    email: String,
    /// `admin`, `reviewer` or `viewer`.
    role: String,
}

/// The invite to hand over; the token is shown once.
#[derive(Serialize, utoipa::ToSchema)]
pub struct InviteResponse {
    invite_token: String,
    invite_url: String,
    expires_at: DateTime<Utc>,
}

fn invalid(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
}

fn parse_role(role: &str) -> Result<Role, ApiError> {
    Role::parse(role)
        .ok_or_else(|| invalid("invalid_role", "role must be admin, reviewer or viewer"))
}

/// Invites someone to the organisation.
#[utoipa::path(post, path = "/api/v1/invites", tag = "users", request_body = InviteRequest,
    responses((status = 201, body = InviteResponse), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn invite(
    State(state): State<AppState>,
    admin: Authorized<ManageUsers>,
    Json(request): Json<InviteRequest>,
) -> Result<(StatusCode, Json<InviteResponse>), ApiError> {
    let email =
        Email::parse(&request.email).map_err(|e| invalid("invalid_email", e.to_string()))?;
    let role = parse_role(&request.role)?;
    let now = state.clock.now();
    let mut tx = state.db.begin_scoped(admin.user.scope()).await?;
    let issued = invitations::issue(&mut tx, &email, role, &admin.user.audit(), now).await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(InviteResponse {
            invite_url: invite_link(&state.public_url, issued.token.expose()),
            invite_token: issued.token.expose().to_owned(),
            expires_at: issued.expires_at,
        }),
    ))
}

/// A user as listed to Admins.
#[derive(Serialize, utoipa::ToSchema)]
pub struct UserView {
    #[schema(value_type = String, format = Uuid)]
    id: UserId,
    email: String,
    name: String,
    #[schema(value_type = String)]
    role: Role,
    active: bool,
    mfa_enrolled: bool,
    created_at: DateTime<Utc>,
}

impl From<users::User> for UserView {
    fn from(u: users::User) -> Self {
        let mfa_enrolled = u.has_factor();
        UserView {
            id: u.id,
            email: u.email,
            name: u.name,
            role: u.role,
            active: u.active,
            mfa_enrolled,
            created_at: u.created_at,
        }
    }
}

/// The organisation's users.
#[utoipa::path(get, path = "/api/v1/users", tag = "users",
    responses((status = 200, body = [UserView]), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    admin: Authorized<ManageUsers>,
) -> Result<Json<Vec<UserView>>, ApiError> {
    let mut tx = state.db.begin_snapshot(admin.user.scope()).await?;
    Ok(Json(users::list(&mut tx).await?.into_iter().map(UserView::from).collect()))
}

/// Opens the Admin's transaction and loads the target user of their organisation: another
/// organisation's id, or an unknown one, is 404. Admins act on others, not on themselves.
async fn target(
    state: &AppState,
    admin: &Authorized<ManageUsers>,
    id: UserId,
) -> Result<(ScopedTx, users::User), ApiError> {
    let mut tx = state.db.begin_scoped(admin.user.scope()).await?;
    let user = users::get(&mut tx, id).await?.ok_or_else(ApiError::not_found)?;
    if id == admin.user.principal.user_id {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "cannot_change_self",
            "Ask another Admin to change your own account.",
        ));
    }
    Ok((tx, user))
}

/// Ends the user's sessions and pending logins at once (`reason` is recorded on them) and
/// audits `event` by the Admin: what every change to another user's access does.
async fn end_access_and_audit(
    tx: &mut ScopedTx,
    admin: &Authorized<ManageUsers>,
    id: UserId,
    reason: &str,
    event: AuditEvent,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    sessions::revoke_all(tx, id, reason, now).await?;
    audit::append(tx, now, &admin.user.audit(), &event).await?;
    Ok(())
}

fn user_target(id: UserId) -> Option<Target> {
    Some(Target { kind: "user", id: id.to_string() })
}

/// A new role.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct RoleChange {
    /// `admin`, `reviewer` or `viewer`.
    role: String,
}

/// Changes a user's role (audited with before and after) and ends their sessions at once.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", request_body = RoleChange,
    params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = UserView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn change_role(
    State(state): State<AppState>,
    admin: Authorized<ManageUsers>,
    Path(id): Path<UserId>,
    Json(request): Json<RoleChange>,
) -> Result<Json<UserView>, ApiError> {
    let role = parse_role(&request.role)?;
    let now = state.clock.now();
    let (mut tx, before) = target(&state, &admin, id).await?;
    users::set_role(&mut tx, id, role).await?;
    let changed = AuditEvent::success(AuditAction::RoleChanged, user_target(id))
        .detail("before", Detail::Label(before.role.as_str().to_owned()))
        .detail("after", Detail::Label(role.as_str().to_owned()));
    end_access_and_audit(&mut tx, &admin, id, "role_changed", changed, now).await?;
    let mut raised = Vec::new();
    if role == Role::Admin && before.role != Role::Admin {
        let details = serde_json::json!({"before": before.role.as_str(), "after": "admin",
                                         "changed_by": admin.user.principal.user_id});
        let ip = admin.user.meta.ip.map(|ip| ip.to_string());
        raised.push(
            alerts::raise(&mut tx, AlertKind::RoleEscalated, Some(id), ip, details, now).await?,
        );
    }
    let after = users::get(&mut tx, id).await?.ok_or_else(ApiError::not_found)?;
    tx.commit().await?;
    alerts::deliver(&state, raised);
    Ok(Json(after.into()))
}

/// Deactivates a user and ends their sessions at once.
#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "users",
    params(("id" = String, Path, description = "User id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn deactivate(
    State(state): State<AppState>,
    admin: Authorized<ManageUsers>,
    Path(id): Path<UserId>,
) -> Result<StatusCode, ApiError> {
    let now = state.clock.now();
    let (mut tx, _) = target(&state, &admin, id).await?;
    users::deactivate(&mut tx, id).await?;
    let event = AuditEvent::success(AuditAction::UserDeactivated, user_target(id));
    end_access_and_audit(&mut tx, &admin, id, "deactivated", event, now).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a user's second factors and ends their sessions: they enrol again at next login.
#[utoipa::path(post, path = "/api/v1/users/{id}/mfa/reset", tag = "users",
    params(("id" = String, Path, description = "User id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn reset_mfa(
    State(state): State<AppState>,
    admin: Authorized<ManageUsers>,
    Path(id): Path<UserId>,
) -> Result<StatusCode, ApiError> {
    let now = state.clock.now();
    let (mut tx, _) = target(&state, &admin, id).await?;
    users::reset_mfa(&mut tx, id).await?;
    let event = AuditEvent::success(AuditAction::MfaReset, user_target(id));
    end_access_and_audit(&mut tx, &admin, id, "mfa_reset", event, now).await?;
    let details =
        serde_json::json!({"change": "reset", "changed_by": admin.user.principal.user_id});
    let ip = admin.user.meta.ip.map(|ip| ip.to_string());
    let raised = alerts::raise(&mut tx, AlertKind::MfaChanged, Some(id), ip, details, now).await?;
    tx.commit().await?;
    alerts::deliver(&state, vec![raised]);
    Ok(StatusCode::NO_CONTENT)
}

/// Accepting an invite.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct AcceptRequest {
    token: String,
    name: String,
    #[schema(value_type = String, format = Password)]
    password: secrecy::SecretString,
}

/// The new account.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AcceptResponse {
    #[schema(value_type = String, format = Uuid)]
    user_id: UserId,
    #[schema(value_type = String)]
    role: Role,
}

/// Creates the invited user with a name and password. The token works once, for 72 hours;
/// nothing is stored when it is refused or the password is weak.
#[utoipa::path(post, path = "/api/v1/invites/accept", tag = "users", request_body = AcceptRequest,
    responses((status = 201, body = AcceptResponse), (status = 400, body = ErrorBody),
        (status = 410, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn accept(
    State(state): State<AppState>,
    meta: ClientMeta,
    Json(request): Json<AcceptRequest>,
) -> Result<(StatusCode, Json<AcceptResponse>), ApiError> {
    use petal_storage::users::InviteRefusal;
    let now = state.clock.now();
    let name = request.name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(invalid("invalid_name", "name must be 1 to 200 characters"));
    }
    crate::auth::password::check_strength(&request.password, &[name])
        .map_err(|e| invalid("weak_password", e.to_string()))?;
    let hash = crate::auth::password::hash(request.password).await?;
    let token_hash = petal_crypto::TokenHash::of(request.token.trim());
    let accepted =
        users::accept_invite(state.db.begin().await?, token_hash.as_bytes(), name, &hash, now)
            .await?;
    let mut accepted = accepted.map_err(|refusal| match refusal {
        InviteRefusal::Unknown | InviteRefusal::Used => ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_invite",
            "This invite is not valid or was already used.",
        ),
        InviteRefusal::Expired => ApiError::new(
            StatusCode::GONE,
            "invite_expired",
            "This invite has expired; ask for a new one.",
        ),
        // Answered like an unusable invite: a distinct answer would tell an Admin that the
        // address has an account in some other organisation.
        InviteRefusal::EmailTaken => ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_invite",
            "This invite is not valid or was already used.",
        ),
    })?;
    let context = meta
        .context(petal_domain::audit::Actor::User { id: accepted.user_id, role: accepted.role });
    let event = AuditEvent::success(
        AuditAction::InviteAccepted,
        Some(Target { kind: "invite", id: accepted.invite_id.to_string() }),
    )
    .detail("user_id", Detail::Label(accepted.user_id.to_string()))
    .detail("role", Detail::Label(accepted.role.as_str().to_owned()));
    audit::append(&mut accepted.tx, now, &context, &event).await?;
    accepted.tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(AcceptResponse { user_id: accepted.user_id, role: accepted.role }),
    ))
}
