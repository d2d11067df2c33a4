//! Changing one's own second factors from a signed-in session: a new authenticator app, a new
//! phone number, and SMS codes for step-up. Changes need a step-up within 5 minutes, are
//! audited, and raise an `mfa_changed` alert.

use super::login::{
    PhoneKind, no_verified_phone, parse_phone, phone_context, phone_of, redeem_sms_code,
    send_sms_code,
};
use super::{ApiError, AppState, ErrorBody};
use crate::alerts::{self, AlertKind};
use crate::auth::extract::Authenticated;
use crate::auth::totp;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use petal_domain::audit::{AuditAction, AuditEvent, Detail, Target};
use petal_storage::{ScopedTx, audit, sms_codes, users};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Audits a factor change and stores its alert; the caller commits, then delivers.
async fn record_change(
    tx: &mut ScopedTx,
    user: &Authenticated,
    method: &str,
    now: DateTime<Utc>,
) -> Result<alerts::Raised, ApiError> {
    let id = user.principal.user_id;
    let event = AuditEvent::success(
        AuditAction::MfaEnrolled,
        Some(Target { kind: "user", id: id.to_string() }),
    )
    .detail("method", Detail::Label(method.to_owned()))
    .detail("change", Detail::Label("replaced".to_owned()));
    audit::append(tx, now, &user.audit(), &event).await?;
    let ip = user.meta.ip.map(|ip| ip.to_string());
    let details = json!({"change": "replaced", "method": method});
    Ok(alerts::raise(tx, AlertKind::MfaChanged, Some(id), ip, details, now).await?)
}

fn invalid_code() -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "invalid_code", "That code is not valid.")
}

/// What an authenticator app needs.
#[derive(Serialize, utoipa::ToSchema)]
pub struct NewAuthenticator {
    secret: String,
    otpauth_uri: String,
    qr_svg: String,
}

/// Starts replacing (or adding) the authenticator app. The current one keeps working until a
/// code from the new one is verified.
#[utoipa::path(post, path = "/api/v1/me/mfa/totp/setup", tag = "me",
    responses((status = 200, body = NewAuthenticator), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn totp_setup(
    State(state): State<AppState>,
    user: Authenticated,
) -> Result<Json<NewAuthenticator>, ApiError> {
    user.require_recent_reauth(state.clock.now())?;
    let id = user.principal.user_id;
    let secret = totp::new_secret()?;
    let sealed = state
        .auth
        .user_secrets
        .seal(&secret, id.as_uuid().as_bytes())
        .map_err(|e| ApiError::internal(&e))?;
    let mut tx = state.db.begin_scoped(user.scope()).await?;
    let profile = users::get(&mut tx, id).await?.ok_or_else(ApiError::not_found)?;
    users::set_replacement_totp(&mut tx, id, &sealed).await?;
    tx.commit().await?;
    let enrolment = totp::enrolment(&secret, &profile.email)?;
    Ok(Json(NewAuthenticator {
        secret: enrolment.secret,
        otpauth_uri: enrolment.otpauth_uri,
        qr_svg: enrolment.qr_svg,
    }))
}

/// A code.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct Code {
    code: String,
}

/// Verifies a code from the new authenticator app, which then replaces the old one.
#[utoipa::path(post, path = "/api/v1/me/mfa/totp/activate", tag = "me", request_body = Code,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn totp_activate(
    State(state): State<AppState>,
    user: Authenticated,
    Json(request): Json<Code>,
) -> Result<StatusCode, ApiError> {
    let now = state.clock.now();
    user.require_recent_reauth(now)?;
    let id = user.principal.user_id;
    let mut tx = state.db.begin_scoped(user.scope()).await?;
    let sealed = users::replacement_totp(&mut tx, id).await?.ok_or_else(invalid_code)?;
    let secret = state
        .auth
        .user_secrets
        .open(&sealed, id.as_uuid().as_bytes())
        .map_err(|e| ApiError::internal(&e))?;
    let step = totp::matching_step(&secret, &request.code, now).ok_or_else(invalid_code)?;
    if !users::promote_replacement_totp(&mut tx, id, step, now).await? {
        return Err(invalid_code());
    }
    let raised = record_change(&mut tx, &user, "totp", now).await?;
    tx.commit().await?;
    alerts::deliver(&state, vec![raised]);
    Ok(StatusCode::NO_CONTENT)
}

/// A new phone number.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewPhone {
    /// E.164, e.g. `+447700900123`.
    phone: String,
}

/// Starts changing (or adding) the phone for SMS codes: a code is sent to the new number,
/// which replaces the old one once the code is verified.
#[utoipa::path(post, path = "/api/v1/me/phone", tag = "me", request_body = NewPhone,
    responses((status = 202), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn phone_setup(
    State(state): State<AppState>,
    user: Authenticated,
    Json(request): Json<NewPhone>,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    user.require_recent_reauth(now)?;
    let phone = parse_phone(&request.phone)?;
    let id = user.principal.user_id;
    let sealed = state
        .auth
        .user_secrets
        .seal(phone.as_bytes(), &phone_context(id))
        .map_err(|e| ApiError::internal(&e))?;
    let mut tx = state.db.begin_scoped(user.scope()).await?;
    users::set_pending_phone(&mut tx, id, &sealed).await?;
    sms_codes::void_all(&mut tx, id, now).await?;
    send_sms_code(&state, tx, id, &phone, now).await
}

/// Verifies the code sent to the new number, which then replaces the old one.
#[utoipa::path(post, path = "/api/v1/me/phone/verify", tag = "me", request_body = Code,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn phone_verify(
    State(state): State<AppState>,
    user: Authenticated,
    Json(request): Json<Code>,
) -> Result<StatusCode, ApiError> {
    let now = state.clock.now();
    user.require_recent_reauth(now)?;
    let id = user.principal.user_id;
    let mut tx = state.db.begin_scoped(user.scope()).await?;
    if !redeem_sms_code(&state, &mut tx, id, PhoneKind::Pending, &request.code, now).await? {
        tx.commit().await?;
        return Err(invalid_code());
    }
    if !users::confirm_phone(&mut tx, id, now).await? {
        return Err(invalid_code());
    }
    let raised = record_change(&mut tx, &user, "sms", now).await?;
    tx.commit().await?;
    alerts::deliver(&state, vec![raised]);
    Ok(StatusCode::NO_CONTENT)
}

/// Sends an SMS code to the verified phone, for a step-up (`POST /api/v1/auth/reauth` with
/// method `sms`).
#[utoipa::path(post, path = "/api/v1/me/sms-code", tag = "me",
    responses((status = 202), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn sms_code(
    State(state): State<AppState>,
    user: Authenticated,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let id = user.principal.user_id;
    let mut tx = state.db.begin_scoped(user.scope()).await?;
    let phone =
        phone_of(&state, &mut tx, id, PhoneKind::Verified).await?.ok_or_else(no_verified_phone)?;
    send_sms_code(&state, tx, id, &phone, now).await
}
