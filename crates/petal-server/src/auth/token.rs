//! Session tokens: EdDSA-signed JWTs that name a session. The signature proves the token was
//! issued here; the session row (checked on every request) decides whether it still works.

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use petal_crypto::SigningKey;
use petal_domain::{SessionId, UserId};
use serde::{Deserialize, Serialize};

const ISSUER: &str = "petal";
const AUDIENCE: &str = "petal-api";

/// The claims of a session token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer: always `petal`.
    pub iss: String,
    /// Audience: always `petal-api`.
    pub aud: String,
    /// The user.
    pub sub: UserId,
    /// The session.
    pub sid: SessionId,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Expires at (seconds since the epoch): the session's absolute end.
    pub exp: i64,
}

/// The key pair that signs and verifies session tokens.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys")
    }
}

impl TokenKeys {
    /// Wraps a signing key derived from the installation key.
    pub fn new(key: &SigningKey) -> Self {
        Self {
            encoding: EncodingKey::from_ed_der(&key.pkcs8),
            decoding: DecodingKey::from_ed_der(&key.public),
        }
    }

    /// Issues a token for `session` of `user`, valid until `expires_at`.
    pub fn issue(
        &self,
        user: UserId,
        session: SessionId,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let claims = Claims {
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            sub: user,
            sid: session,
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), &claims, &self.encoding)
    }

    /// Verifies a token's signature (EdDSA only: `none`, HMAC and RSA tokens are refused),
    /// issuer, audience and expiry against `now`, and returns its claims.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Option<Claims> {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // Expiry is checked against Petal's clock below, not the library's.
        validation.validate_exp = false;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation).ok()?;
        (data.claims.exp > now.timestamp()).then_some(data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use petal_crypto::Key256;

    fn keys() -> ((), TokenKeys) {
        let root = Key256::generate().unwrap();
        ((), TokenKeys::new(&root.session_signing_key().unwrap()))
    }

    fn b64(bytes: &[u8]) -> String {
        use std::fmt::Write;
        // base64url without padding, enough for crafting test tokens.
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
            for i in 0..=chunk.len() {
                let _ = out.write_char(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out
    }

    #[test]
    fn a_token_round_trips_until_it_expires() {
        let (_d, keys) = keys();
        let now = Utc::now();
        let (user, session) = (UserId::new(), SessionId::new());
        let token = keys.issue(user, session, now, now + chrono::Duration::hours(1)).unwrap();
        let claims = keys.verify(&token, now).unwrap();
        assert_eq!((claims.sub, claims.sid), (user, session));
        assert!(keys.verify(&token, now + chrono::Duration::hours(2)).is_none());
    }

    #[test]
    fn forged_tokens_are_refused() {
        let (_d, keys) = keys();
        let (_d2, other) = self::keys();
        let now = Utc::now();
        let (user, session) = (UserId::new(), SessionId::new());
        let token = keys.issue(user, session, now, now + chrono::Duration::hours(1)).unwrap();

        // Signed by another key.
        let foreign = other.issue(user, session, now, now + chrono::Duration::hours(1)).unwrap();
        assert!(keys.verify(&foreign, now).is_none());

        // Altered claims under the original signature.
        let parts: Vec<&str> = token.split('.').collect();
        let altered_claims = serde_json::json!({
            "iss": "petal", "aud": "petal-api", "sub": UserId::new(), "sid": session,
            "iat": now.timestamp(), "exp": now.timestamp() + 3600
        });
        let altered =
            format!("{}.{}.{}", parts[0], b64(altered_claims.to_string().as_bytes()), parts[2]);
        assert!(keys.verify(&altered, now).is_none());

        // alg: none, with and without a signature.
        let none_header = b64(br#"{"alg":"none","typ":"JWT"}"#);
        assert!(keys.verify(&format!("{none_header}.{}.", parts[1]), now).is_none());
        assert!(keys.verify(&format!("{none_header}.{}.{}", parts[1], parts[2]), now).is_none());

        // HS256 "signed" with the public key (algorithm confusion).
        let hs_header = b64(br#"{"alg":"HS256","typ":"JWT"}"#);
        assert!(keys.verify(&format!("{hs_header}.{}.{}", parts[1], parts[2]), now).is_none());

        assert!(keys.verify("not.a.token", now).is_none());
        assert!(keys.verify("", now).is_none());
    }
}
