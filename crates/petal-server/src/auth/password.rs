//! Passwords: Argon2id hashing off the async threads, and the strength rules.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use secrecy::{ExposeSecret, SecretString};

/// Shortest password accepted, in characters.
pub const MIN_CHARS: usize = 12;
/// Longest password accepted, in bytes (bounds the hashing work an attacker can ask for).
pub const MAX_BYTES: usize = 1024;
/// Lowest acceptable zxcvbn score (0–4).
const MIN_SCORE: u8 = 3;

/// Why a new password is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeakPassword {
    /// Fewer than [`MIN_CHARS`] characters.
    #[error("the password must have at least 12 characters")]
    TooShort,
    /// More than [`MAX_BYTES`] bytes.
    #[error("the password must be at most 1024 bytes")]
    TooLong,
    /// Guessable: common, a dictionary word with decorations, or built from the user's details.
    #[error("the password is too easy to guess: {0}")]
    Guessable(String),
}

/// Checks a new password against the length rules and a strength estimator with a built-in
/// dictionary, also penalising words from `context` (the user's email and name).
pub fn check_strength(password: &SecretString, context: &[&str]) -> Result<(), WeakPassword> {
    let password = password.expose_secret();
    if password.len() > MAX_BYTES {
        return Err(WeakPassword::TooLong);
    }
    if password.chars().count() < MIN_CHARS {
        return Err(WeakPassword::TooShort);
    }
    // Each detail counts whole and in parts ("ada.lovelace@acme.test" → "ada", "lovelace",
    // "acme"…), so a password built from the user's own name or firm is recognised.
    let words: Vec<&str> = context
        .iter()
        .flat_map(|c| std::iter::once(*c).chain(c.split(|ch: char| !ch.is_alphanumeric())))
        .filter(|w| w.len() >= 3)
        .collect();
    let lowered = password.to_lowercase();
    if words.iter().any(|w| w.len() >= 4 && lowered.contains(&w.to_lowercase())) {
        return Err(WeakPassword::Guessable("it contains your name or email address".to_owned()));
    }
    let estimate = zxcvbn::zxcvbn(password, &words);
    if (estimate.score() as u8) < MIN_SCORE {
        let advice = estimate
            .feedback()
            .and_then(|f| f.warning().map(|w| w.to_string()))
            .unwrap_or_else(|| "add more unrelated words".to_owned());
        return Err(WeakPassword::Guessable(advice));
    }
    Ok(())
}

/// Hashes a password with Argon2id at the OWASP parameters (19 MiB, 2 passes, 1 lane), on a
/// blocking thread.
pub async fn hash(password: SecretString) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.expose_secret().as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("password hashing failed: {e}"))
    })
    .await?
}

/// Whether `password` matches the stored PHC string, on a blocking thread. A malformed stored
/// hash never matches.
pub async fn verify(password: SecretString, stored: String) -> anyhow::Result<bool> {
    Ok(tokio::task::spawn_blocking(move || {
        let Ok(parsed) = PasswordHash::new(&stored) else { return false };
        let bytes = password.expose_secret().as_bytes();
        bytes.len() <= MAX_BYTES && Argon2::default().verify_password(bytes, &parsed).is_ok()
    })
    .await?)
}

/// A hash of a random password, verified against when an account does not exist.
pub async fn dummy_hash() -> anyhow::Result<String> {
    let token = petal_crypto::SecretToken::generate()?;
    hash(SecretString::from(token.expose().to_owned())).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(p: &str) -> SecretString {
        SecretString::from(p.to_owned())
    }

    #[test]
    fn length_and_guessability_are_enforced() {
        assert_eq!(check_strength(&s("short1!"), &[]), Err(WeakPassword::TooShort));
        assert_eq!(check_strength(&s(&"a".repeat(1025)), &[]), Err(WeakPassword::TooLong));
        for weak in ["password1234", "qwertyuiop123", "aaaaaaaaaaaaaaa", "Password2026!"] {
            assert!(
                matches!(check_strength(&s(weak), &[]), Err(WeakPassword::Guessable(_))),
                "{weak} accepted"
            );
        }
        assert!(matches!(
            check_strength(
                &s("Lovelace-Secure-Harbour"),
                &["ada.lovelace@acme.test", "Ada Lovelace"]
            ),
            Err(WeakPassword::Guessable(_))
        ));
        assert_eq!(check_strength(&s("lantern orbit velvet quarry"), &[]), Ok(()));
    }

    #[tokio::test]
    async fn hashes_verify_only_the_right_password() {
        let stored = hash(s("lantern orbit velvet quarry")).await.unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored}");
        assert!(verify(s("lantern orbit velvet quarry"), stored.clone()).await.unwrap());
        assert!(!verify(s("lantern orbit velvet quarrY"), stored).await.unwrap());
        assert!(!verify(s("anything"), "not a hash".to_owned()).await.unwrap());
    }
}
