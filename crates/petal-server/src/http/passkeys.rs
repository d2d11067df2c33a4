//! WebAuthn passkeys as a second factor: registration during enrolment and authentication at
//! login, both on a pending login (`mfa_token`), and a step-up on a session. The ceremony state
//! is kept with the pending login or the session in the database, so any replica can finish
//! what another started, and each ceremony can be finished once.

use super::login::{
    MfaTokenRequest, already_enrolled, enrolment_alert, finish_login, grant_step_up,
    new_backup_codes, pending, refuse_step_up, reject_code, step_up_password,
};
use super::{ApiError, AppState, ErrorBody};
use crate::auth::extract::{Authenticated, ClientMeta};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use petal_domain::UserId;
use petal_storage::{sessions, users};
use secrecy::SecretString;
use serde::Deserialize;
use webauthn_rs::Webauthn;
use webauthn_rs::prelude::{
    CreationChallengeResponse, Passkey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, RequestChallengeResponse,
};

fn relying_party(state: &AppState) -> Result<&Webauthn, ApiError> {
    state.auth.webauthn.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "passkeys_unavailable",
            "Passkeys need Petal to be served under a domain name (PETAL_PUBLIC_URL).",
        )
    })
}

fn internal(error: impl std::fmt::Display) -> ApiError {
    ApiError::internal(&error)
}

/// Starts registering a passkey for a user who has no second factor yet.
#[utoipa::path(post, path = "/api/v1/auth/mfa/passkey/register/start", tag = "auth",
    request_body = MfaTokenRequest,
    responses((status = 200, description = "WebAuthn creation options (navigator.credentials.create)"),
        (status = 401, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn register_start(
    State(state): State<AppState>,
    meta: ClientMeta,
    Json(request): Json<MfaTokenRequest>,
) -> Result<Json<CreationChallengeResponse>, ApiError> {
    let rp = relying_party(&state)?;
    let mut p = pending(&state, &meta, &request.mfa_token).await?;
    if p.user.has_factor() {
        return Err(already_enrolled());
    }
    let (challenge, registration) = rp
        .start_passkey_registration(p.user.id.as_uuid(), &p.user.email, &p.user.name, None)
        .map_err(internal)?;
    let registration = serde_json::to_string(&registration).map_err(internal)?;
    sessions::set_ceremony(&mut p.tx, p.login.id, &registration).await?;
    p.tx.commit().await?;
    Ok(Json(challenge))
}

/// The authenticator's answer.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct RegisterFinish {
    mfa_token: String,
    /// The `PublicKeyCredential` from `navigator.credentials.create`, as JSON.
    #[schema(value_type = Object)]
    credential: RegisterPublicKeyCredential,
}

/// Finishes registration: the passkey is stored, the session starts, and 10 backup codes are
/// shown once.
#[utoipa::path(post, path = "/api/v1/auth/mfa/passkey/register/finish", tag = "auth",
    request_body = RegisterFinish,
    responses((status = 200, body = super::session::SessionResponse), (status = 401, body = ErrorBody)))]
pub async fn register_finish(
    State(state): State<AppState>,
    meta: ClientMeta,
    Json(request): Json<RegisterFinish>,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let rp = relying_party(&state)?;
    let mut p = pending(&state, &meta, &request.mfa_token).await?;
    let ceremony = sessions::take_ceremony(&mut p.tx, p.login.id).await?;
    let registration = ceremony.and_then(|s| serde_json::from_str::<PasskeyRegistration>(&s).ok());
    let passkey = registration.and_then(|registration| {
        rp.finish_passkey_registration(&request.credential, &registration).ok()
    });
    let Some(passkey) = passkey else {
        return Err(reject_code(&state, p, "passkey", now).await?);
    };
    let credential = serde_json::to_string(&passkey).map_err(internal)?;
    users::add_passkey(&mut p.tx, p.user.id, &credential, now).await?;
    let codes = new_backup_codes(&state, &mut p).await?;
    let raised = enrolment_alert(&mut p, &meta, "passkey", now).await?;
    finish_login(&state, p, &meta, now, Some(codes), raised).await
}

/// Starts a passkey login for a user with registered passkeys.
#[utoipa::path(post, path = "/api/v1/auth/mfa/passkey/login/start", tag = "auth",
    request_body = MfaTokenRequest,
    responses((status = 200, description = "WebAuthn request options (navigator.credentials.get)"),
        (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn login_start(
    State(state): State<AppState>,
    meta: ClientMeta,
    Json(request): Json<MfaTokenRequest>,
) -> Result<Json<RequestChallengeResponse>, ApiError> {
    let rp = relying_party(&state)?;
    let mut p = pending(&state, &meta, &request.mfa_token).await?;
    let stored = users::passkeys(&mut p.tx, p.user.id).await?;
    let keys: Vec<Passkey> =
        stored.iter().filter_map(|(_, c)| serde_json::from_str(c).ok()).collect();
    if keys.is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "method_unavailable",
            "No passkey is registered: use another method.",
        ));
    }
    let (challenge, authentication) = rp.start_passkey_authentication(&keys).map_err(internal)?;
    let authentication = serde_json::to_string(&authentication).map_err(internal)?;
    sessions::set_ceremony(&mut p.tx, p.login.id, &authentication).await?;
    p.tx.commit().await?;
    Ok(Json(challenge))
}

/// The authenticator's assertion.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginFinish {
    mfa_token: String,
    /// The `PublicKeyCredential` from `navigator.credentials.get`, as JSON.
    #[schema(value_type = Object)]
    credential: PublicKeyCredential,
}

/// Finishes a passkey login and starts the session.
#[utoipa::path(post, path = "/api/v1/auth/mfa/passkey/login/finish", tag = "auth",
    request_body = LoginFinish,
    responses((status = 200, body = super::session::SessionResponse), (status = 401, body = ErrorBody)))]
pub async fn login_finish(
    State(state): State<AppState>,
    meta: ClientMeta,
    Json(request): Json<LoginFinish>,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let rp = relying_party(&state)?;
    let mut p = pending(&state, &meta, &request.mfa_token).await?;
    let ceremony = sessions::take_ceremony(&mut p.tx, p.login.id).await?;
    let authentication =
        ceremony.and_then(|s| serde_json::from_str::<PasskeyAuthentication>(&s).ok());
    let result = authentication.and_then(|authentication| {
        rp.finish_passkey_authentication(&request.credential, &authentication).ok()
    });
    let Some(result) = result else {
        return Err(reject_code(&state, p, "passkey", now).await?);
    };
    keep_counters(&mut p.tx, p.user.id, &result).await?;
    let verified = petal_domain::audit::AuditEvent::success(
        petal_domain::audit::AuditAction::MfaVerified,
        Some(petal_domain::audit::Target { kind: "user", id: p.user.id.to_string() }),
    )
    .detail("method", petal_domain::audit::Detail::Label("passkey".to_owned()));
    petal_storage::audit::append(&mut p.tx, now, &p.context, &verified).await?;
    finish_login(&state, p, &meta, now, None, Vec::new()).await
}

/// Keeps the user's passkeys' signature counters current after `result`, so a cloned
/// authenticator is noticed.
async fn keep_counters(
    tx: &mut petal_storage::ScopedTx,
    user: UserId,
    result: &webauthn_rs::prelude::AuthenticationResult,
) -> Result<(), ApiError> {
    for (id, credential) in users::passkeys(tx, user).await? {
        let Ok(mut passkey) = serde_json::from_str::<Passkey>(&credential) else { continue };
        if passkey.update_credential(result) == Some(true) {
            let updated = serde_json::to_string(&passkey).map_err(internal)?;
            users::update_passkey(tx, id, &updated).await?;
        }
    }
    Ok(())
}

/// The password, to start a step-up with a passkey.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct StepUpStart {
    #[schema(value_type = String, format = Password)]
    password: SecretString,
}

/// Starts a step-up with a passkey (instead of a code): the password first, then WebAuthn
/// request options for the user's passkeys. A wrong password counts as a failed step-up.
#[utoipa::path(post, path = "/api/v1/auth/reauth/passkey/start", tag = "auth",
    request_body = StepUpStart,
    responses((status = 200, description = "WebAuthn request options (navigator.credentials.get)"),
        (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn step_up_start(
    State(state): State<AppState>,
    user: Authenticated,
    Json(request): Json<StepUpStart>,
) -> Result<Json<RequestChallengeResponse>, ApiError> {
    let rp = relying_party(&state)?;
    let now = state.clock.now();
    let id = user.principal.user_id;
    let password_ok = step_up_password(&state, &user, request.password).await?;
    let mut tx = state.db.begin_scoped(user.scope()).await?;
    if !password_ok {
        return Err(refuse_step_up(&state, tx, &user, now).await?);
    }
    let keys: Vec<Passkey> = users::passkeys(&mut tx, id)
        .await?
        .iter()
        .filter_map(|(_, c)| serde_json::from_str(c).ok())
        .collect();
    if keys.is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "method_unavailable",
            "No passkey is registered: use a code.",
        ));
    }
    let (challenge, authentication) = rp.start_passkey_authentication(&keys).map_err(internal)?;
    let authentication = serde_json::to_string(&authentication).map_err(internal)?;
    sessions::set_reauth_ceremony(&mut tx, user.principal.session_id, &authentication).await?;
    tx.commit().await?;
    Ok(Json(challenge))
}

/// The authenticator's assertion for a step-up.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct StepUpFinish {
    /// The `PublicKeyCredential` from `navigator.credentials.get`, as JSON.
    #[schema(value_type = Object)]
    credential: PublicKeyCredential,
}

/// Finishes a passkey step-up: sensitive changes are allowed on this session for 5 minutes.
/// Each ceremony works once; a refused assertion counts as a failed step-up.
#[utoipa::path(post, path = "/api/v1/auth/reauth/passkey/finish", tag = "auth",
    request_body = StepUpFinish,
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn step_up_finish(
    State(state): State<AppState>,
    user: Authenticated,
    Json(request): Json<StepUpFinish>,
) -> Result<StatusCode, ApiError> {
    let rp = relying_party(&state)?;
    let now = state.clock.now();
    let mut tx = state.db.begin_scoped(user.scope()).await?;
    let ceremony = sessions::take_reauth_ceremony(&mut tx, user.principal.session_id).await?;
    let authentication =
        ceremony.and_then(|s| serde_json::from_str::<PasskeyAuthentication>(&s).ok());
    let result = authentication.and_then(|authentication| {
        rp.finish_passkey_authentication(&request.credential, &authentication).ok()
    });
    let Some(result) = result else {
        return Err(refuse_step_up(&state, tx, &user, now).await?);
    };
    keep_counters(&mut tx, user.principal.user_id, &result).await?;
    grant_step_up(tx, &user, "passkey", now).await?;
    Ok(StatusCode::NO_CONTENT)
}
