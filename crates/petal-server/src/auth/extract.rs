//! Extractors: who is asking, from where, and whether they may. A handler that takes
//! [`Authorized<G>`] cannot run unless the caller holds a live session whose role grants `G`'s
//! permission; the organisation scope comes from that session.

use crate::http::{ApiError, AppState, RequestId};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum_extra::extract::CookieJar;
use ipnet::IpNet;
use petal_crypto::TokenHash;
use petal_domain::Permission;
use petal_domain::audit::{Actor, AuditContext};
use petal_storage::sessions::{self, Principal};
use petal_storage::{OrgScope, users};
use std::marker::PhantomData;
use std::net::{IpAddr, SocketAddr};

/// Header a client sets on background requests (polls, progress streams) so that they do not
/// count as activity and cannot keep an idle session alive.
pub const BACKGROUND_HEADER: &str = "x-petal-background";
/// Header carrying the CSRF token on cookie-authenticated, state-changing requests.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Where a request came from, for the audit trail.
#[derive(Debug, Clone)]
pub struct ClientMeta {
    /// The peer address.
    pub ip: Option<IpAddr>,
    /// `User-Agent`, if sent.
    pub user_agent: Option<String>,
    /// The request id.
    pub request_id: Option<String>,
}

impl ClientMeta {
    /// The audit context of `actor` making this request.
    pub fn context(&self, actor: Actor) -> AuditContext {
        AuditContext {
            actor,
            ip: self.ip,
            user_agent: self.user_agent.clone(),
            request_id: self.request_id.clone(),
        }
    }

    /// The key per-address failure counting uses: the address, or `unknown` when there is
    /// none (all such requests then share one budget).
    pub fn throttle_key(&self) -> String {
        self.ip.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
    }
}

/// The client's address: the peer, unless the peer is a trusted proxy, in which case the
/// right-most address in `X-Forwarded-For` that is not itself a trusted proxy.
pub fn client_ip(parts: &Parts, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())?;
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    // Walk the chain from the right (the hop nearest to us) while hops are trusted proxies;
    // the first untrusted address is the client. A malformed entry ends the walk: anything to
    // its left was written by the client and proves nothing.
    let entries: Vec<&str> = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for entry in entries.iter().rev() {
        let Ok(ip) = entry.parse::<IpAddr>() else { break };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    Some(client)
}

impl FromRequestParts<AppState> for ClientMeta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientMeta {
            ip: client_ip(parts, &state.trusted_proxies),
            user_agent: parts
                .headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.chars().take(512).collect()),
            request_id: parts.extensions.get::<RequestId>().map(|r| r.0.clone()),
        })
    }
}

/// A request from a signed-in user with a live session.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// Who, in which organisation, with which session.
    pub principal: Principal,
    /// From where.
    pub meta: ClientMeta,
}

impl Authenticated {
    /// The user's organisation scope.
    pub fn scope(&self) -> &OrgScope {
        &self.principal.scope
    }

    /// The audit context for this user's request.
    pub fn audit(&self) -> AuditContext {
        self.meta.context(Actor::User { id: self.principal.user_id, role: self.principal.role })
    }

    /// Refuses unless the password and a second factor were checked within the step-up window.
    pub fn require_recent_reauth(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), ApiError> {
        if now - self.principal.reauth_at <= super::STEP_UP_WINDOW {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "reauthentication_required",
                "Confirm your password and second factor first (POST /api/v1/auth/reauth).",
            ))
        }
    }
}

fn unauthenticated(code: &'static str, message: &'static str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, code, message)
}

/// The token a request presents: `Authorization: Bearer` (API clients, no CSRF needed) or the
/// session cookie (browsers, CSRF checked on state-changing requests).
fn presented_token(parts: &Parts, cookie_name: &str) -> Option<(String, bool)> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let value = value.to_str().ok()?;
        let token = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer "))?;
        return Some((token.trim().to_owned(), false));
    }
    let jar = CookieJar::from_headers(&parts.headers);
    jar.get(cookie_name).map(|c| (c.value().to_owned(), true))
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Ok(meta) = ClientMeta::from_request_parts(parts, state).await;
        let (token, via_cookie) = presented_token(parts, state.auth.cookie_name())
            .ok_or_else(|| unauthenticated("unauthenticated", "Sign in first."))?;
        let now = state.clock.now();
        let Some(claims) = state.auth.tokens.verify(&token, now) else {
            return Err(pending_login_refusal(state, &token).await?);
        };
        let activity = !parts.headers.contains_key(BACKGROUND_HEADER);
        let principal =
            sessions::authenticate(&state.db, claims.sid, now, state.auth.idle, activity)
                .await
                .map_err(|e| ApiError::internal(&e))?
                .filter(|p| p.user_id == claims.sub)
                .ok_or_else(|| {
                    unauthenticated("session_ended", "Your session has ended; sign in again.")
                })?;
        if via_cookie && !parts.method.is_safe() {
            let presented = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            let matches = presented.is_some_and(|csrf| {
                aws_lc_rs::constant_time::verify_slices_are_equal(
                    TokenHash::of(csrf).as_bytes(),
                    &principal.csrf_hash,
                )
                .is_ok()
            });
            if !matches {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "csrf_token_invalid",
                    "This request needs the session's X-CSRF-Token header.",
                ));
            }
        }
        Ok(Authenticated { principal, meta })
    }
}

/// The refusal for a token that is not a session token: if it is a live `mfa_token`, the
/// user has not finished signing in (403 `mfa_enrollment_required` without a factor, 401
/// `mfa_required` with one); otherwise it is simply invalid.
async fn pending_login_refusal(state: &AppState, token: &str) -> Result<ApiError, ApiError> {
    let now = state.clock.now();
    let hash = TokenHash::of(token);
    let pending = sessions::find_pending_login(&state.db, hash.as_bytes(), now)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let Some(pending) = pending else {
        return Ok(unauthenticated("unauthenticated", "Sign in first."));
    };
    let mut tx =
        state.db.begin_snapshot(&pending.scope).await.map_err(|e| ApiError::internal(&e))?;
    let user = users::get(&mut tx, pending.user_id).await.map_err(|e| ApiError::internal(&e))?;
    Ok(if user.is_some_and(|u| u.has_factor()) {
        unauthenticated("mfa_required", "Verify your second factor to finish signing in.")
    } else {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "mfa_enrollment_required",
            "Enrol a second factor before anything else.",
        )
    })
}

/// A permission that a route requires, as a type.
pub trait Guard: Send + Sync + 'static {
    /// The permission checked.
    const PERMISSION: Permission;
}

macro_rules! guards {
    ($($(#[$doc:meta])* $name:ident => $permission:ident,)*) => {
        $(
            $(#[$doc])*
            #[derive(Debug)]
            pub struct $name;
            impl Guard for $name {
                const PERMISSION: Permission = Permission::$permission;
            }
        )*
    };
}

guards! {
    /// Read jobs, rankings and screening results.
    ReadJobs => ReadJobs,
    /// Create jobs, upload CVs and re-screen.
    ManageJobs => ManageJobs,
    /// Open or download the original CV documents.
    OpenDocuments => OpenDocuments,
    /// Record a human decision on a candidate.
    RecordDecisions => RecordDecisions,
    /// Invite and deactivate users, change roles, reset MFA.
    ManageUsers => ManageUsers,
    /// Read the audit log and security alerts.
    ReadAudit => ReadAudit,
    /// Change the organisation's settings (engine, blind review, retention).
    ManageSettings => ManageSettings,
    /// Export the organisation's data and erase candidates.
    ControlData => ControlData,
}

/// A signed-in user whose role grants `G::PERMISSION`; anyone else gets 403 `forbidden`.
#[derive(Debug)]
pub struct Authorized<G: Guard> {
    /// The caller.
    pub user: Authenticated,
    _guard: PhantomData<G>,
}

impl<G: Guard> FromRequestParts<AppState> for Authorized<G> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let user = Authenticated::from_request_parts(parts, state).await?;
        if user.principal.role.allows(G::PERMISSION) {
            Ok(Authorized { user, _guard: PhantomData })
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("Your role ({}) may not do this.", user.principal.role),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(peer: &str, forwarded: Option<&str>) -> Parts {
        let mut builder = Request::builder().uri("/");
        if let Some(f) = forwarded {
            builder = builder.header("x-forwarded-for", f);
        }
        let (mut parts, ()) = builder.body(()).unwrap().into_parts();
        parts.extensions.insert(ConnectInfo(SocketAddr::new(peer.parse().unwrap(), 4000)));
        parts
    }

    #[test]
    fn forwarding_headers_count_only_from_trusted_proxies() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let ip = |p: &str, f: Option<&str>| client_ip(&parts(p, f), &trusted).unwrap().to_string();
        // An untrusted peer cannot choose its address.
        assert_eq!(ip("203.0.113.9", Some("198.51.100.1")), "203.0.113.9");
        // Behind a trusted proxy, the right-most untrusted hop is the client.
        assert_eq!(ip("10.0.0.2", Some("198.51.100.1")), "198.51.100.1");
        assert_eq!(ip("10.0.0.2", Some("6.6.6.6, 198.51.100.1, 10.0.0.3")), "198.51.100.1");
        // A malformed entry ends the walk; entries right of it still count.
        assert_eq!(ip("10.0.0.2", Some("not-an-ip")), "10.0.0.2");
        assert_eq!(ip("10.0.0.2", Some("junk, 198.51.100.1")), "198.51.100.1");
        assert_eq!(ip("10.0.0.2", Some("198.51.100.9, junk, 10.0.0.3")), "10.0.0.3");
        assert_eq!(ip("10.0.0.2", None), "10.0.0.2");
    }
}
