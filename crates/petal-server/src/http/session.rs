//! Starting a session once both factors are verified: the row, the signed token, the CSRF
//! token and the cookie.

use super::{ApiError, AppState};
use crate::auth::extract::ClientMeta;
use axum::Json;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use petal_crypto::SecretToken;
use petal_domain::UserId;
use petal_storage::ScopedTx;
use petal_storage::sessions::{self, NewSession};
use serde::Serialize;

/// The answer to a completed login: the token for API clients, the CSRF token for browsers
/// (which also receive the session cookie), and on first enrolment the backup codes.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionResponse {
    /// Signed session token, for `Authorization: Bearer`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the session ends whatever happens (inactivity ends it sooner).
    pub expires_in: i64,
    /// Send as `X-CSRF-Token` on state-changing requests authenticated by the cookie.
    pub csrf_token: String,
    /// Backup codes, shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup_codes: Option<Vec<String>>,
}

/// Creates a session for `user_id` in `tx` and builds the response that hands it over. The
/// caller commits `tx` (with its audit events) before sending the response.
pub async fn start(
    state: &AppState,
    tx: &mut ScopedTx,
    user_id: UserId,
    meta: &ClientMeta,
    now: DateTime<Utc>,
    backup_codes: Option<Vec<String>>,
) -> Result<Response, ApiError> {
    let csrf = SecretToken::generate().map_err(|e| ApiError::internal(&e))?;
    let csrf_hash = csrf.hash();
    let session = NewSession {
        user_id,
        now,
        max_age: state.auth.max_age,
        csrf_hash: csrf_hash.as_bytes(),
        ip: meta.ip.map(|ip| ip.to_string()),
        user_agent: meta.user_agent.clone(),
    };
    let session_id = sessions::create(tx, &session).await?;
    let expires_at = now + state.auth.max_age;
    let token = state
        .auth
        .tokens
        .issue(user_id, session_id, now, expires_at)
        .map_err(|e| ApiError::internal(&e))?;
    let cookie = session_cookie(state, &token, state.auth.max_age.num_seconds());
    let body = SessionResponse {
        access_token: token,
        token_type: "Bearer",
        expires_in: state.auth.max_age.num_seconds(),
        csrf_token: csrf.expose().to_owned(),
        backup_codes,
    };
    let mut response = Json(body).into_response();
    response.headers_mut().append(header::SET_COOKIE, cookie?);
    Ok(response)
}

/// The session cookie (HttpOnly, SameSite=Strict, Path=/, Secure under TLS); `max_age` 0
/// clears it.
pub fn session_cookie(
    state: &AppState,
    value: &str,
    max_age: i64,
) -> Result<HeaderValue, ApiError> {
    let secure = if state.auth.secure_cookies { "; Secure" } else { "" };
    let cookie = format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}",
        state.auth.cookie_name()
    );
    HeaderValue::from_str(&cookie).map_err(|e| ApiError::internal(&e))
}
