//! Bearer tokens handed to people (invite links) and the hashes stored in their place.

use aws_lc_rs::digest;
use secrecy::{ExposeSecret, SecretString};

/// A fresh random token: 256 bits, hex-encoded. `Debug` prints nothing of it.
#[derive(Debug)]
pub struct SecretToken(SecretString);

/// The SHA-256 of a token: what the database keeps, so a copy of the database holds no usable
/// token. (Tokens carry 256 bits of entropy, so an unsalted fast hash is enough.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenHash([u8; 32]);

impl SecretToken {
    /// Generates a token from the system's secure random number generator.
    pub fn generate() -> Result<Self, aws_lc_rs::error::Unspecified> {
        let mut bytes = [0u8; 32];
        aws_lc_rs::rand::fill(&mut bytes)?;
        Ok(Self(SecretString::from(hex::encode(bytes))))
    }

    /// The token text, to be shown once to its owner.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// The hash to store.
    pub fn hash(&self) -> TokenHash {
        TokenHash::of(self.expose())
    }
}

impl TokenHash {
    /// Hashes a token presented by a client, for look-up.
    pub fn of(token: &str) -> Self {
        let digest = digest::digest(&digest::SHA256, token.as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(digest.as_ref());
        Self(out)
    }

    /// The raw hash bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_and_hash_consistently() {
        let a = SecretToken::generate().unwrap();
        let b = SecretToken::generate().unwrap();
        assert_ne!(a.expose(), b.expose());
        assert_eq!(a.expose().len(), 64);
        assert_eq!(a.hash(), TokenHash::of(a.expose()));
        assert_ne!(a.hash(), b.hash());
        assert!(!format!("{a:?}").contains(a.expose()));
    }
}
