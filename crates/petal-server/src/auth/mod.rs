//! Authentication: passwords, second factors, session tokens, and the extractors that turn a
//! request into an authenticated, authorised principal.

pub mod backup_codes;
pub mod extract;
pub mod password;
pub mod token;
pub mod totp;

use petal_crypto::{CodeHasher, Key256, Purpose, SecretBox};
use std::time::Duration;

/// Keys and settings for authentication, derived once at start-up from the master key.
#[derive(Debug)]
pub struct Auth {
    /// Signs and verifies session tokens.
    pub tokens: token::TokenKeys,
    /// Seals TOTP secrets and phone numbers at rest (the user id is bound in).
    pub user_secrets: SecretBox,
    /// Hashes backup codes.
    pub codes: CodeHasher,
    /// Verified against when an email is unknown, so that answer takes as long as a real one.
    pub dummy_password_hash: String,
    /// Session idle timeout.
    pub idle: chrono::Duration,
    /// Session absolute lifetime.
    pub max_age: chrono::Duration,
    /// Whether cookies are `Secure` and `__Host-` prefixed (under TLS).
    pub secure_cookies: bool,
    /// Delays, lockouts and rate limits.
    pub limits: Limits,
    /// WebAuthn relying party for passkeys; `None` when the public URL's host is not a domain
    /// name (browsers refuse passkeys for IP addresses).
    pub webauthn: Option<webauthn_rs::Webauthn>,
}

/// Thresholds of login monitoring (SPEC §3 defaults; configurable).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Per account: wrong passwords or codes from which attempts are delayed (doubling from one
    /// second), at which the account locks, and for how long.
    pub lockout: petal_storage::users::LockoutPolicy,
    /// Per address: failures across accounts that throttle it…
    pub ip_failures: i64,
    /// …within this window.
    pub ip_window: chrono::Duration,
    /// Per user: SMS codes sent…
    pub sms_codes: i64,
    /// …within this window.
    pub sms_window: chrono::Duration,
}

/// How long an `mfa_token` works.
pub const MFA_TOKEN_TTL: chrono::Duration = chrono::Duration::minutes(10);
/// How recent a password and second-factor check must be for a sensitive change.
pub const STEP_UP_WINDOW: chrono::Duration = chrono::Duration::minutes(5);

impl Auth {
    /// Derives the keys from the installation key and prepares the timing-equaliser hash.
    pub async fn new(
        master: &Key256,
        public_url: &url::Url,
        idle: Duration,
        max_age: Duration,
        secure_cookies: bool,
        limits: Limits,
    ) -> anyhow::Result<Self> {
        let to_chrono =
            |d: Duration| chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX);
        Ok(Self {
            tokens: token::TokenKeys::new(&master.session_signing_key()?),
            user_secrets: master.secret_box(Purpose::UserSecrets)?,
            codes: master.code_hasher(),
            dummy_password_hash: password::dummy_hash().await?,
            idle: to_chrono(idle),
            max_age: to_chrono(max_age),
            secure_cookies,
            limits,
            webauthn: relying_party(public_url),
        })
    }

    /// The session cookie's name: `__Host-` prefixed under TLS, which browsers only accept
    /// with `Secure`, `Path=/` and no `Domain`.
    pub fn cookie_name(&self) -> &'static str {
        if self.secure_cookies { "__Host-petal_session" } else { "petal_session" }
    }
}

/// The WebAuthn relying party for `public_url`: its host is the RP id, its origin the only
/// origin accepted.
fn relying_party(public_url: &url::Url) -> Option<webauthn_rs::Webauthn> {
    let host = public_url.domain()?;
    let built = webauthn_rs::WebauthnBuilder::new(host, public_url)
        .and_then(|builder| builder.rp_name("Petal").build());
    match built {
        Ok(webauthn) => Some(webauthn),
        Err(error) => {
            tracing::warn!(%error, "passkeys unavailable for this public URL");
            None
        }
    }
}
