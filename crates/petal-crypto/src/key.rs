//! A 256-bit secret key, the unit of Petal's key hierarchy: the installation key (from which
//! per-purpose keys are derived), one key per organisation and one per job. Each level is
//! stored only wrapped by the level above ([`WrappingKey::wrap_key`]); the master key, at the
//! top, lives outside the database.

use crate::envelope::WrappingKey;
use crate::{CryptoError, SecretBox};
use aws_lc_rs::hkdf::{HKDF_SHA256, KeyType, Salt};
use aws_lc_rs::hmac;
use zeroize::Zeroizing;

/// A 256-bit key. `Debug` prints nothing of it, and its bytes are wiped when dropped.
pub struct Key256(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for Key256 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key256(…)")
    }
}

struct Len32;

impl KeyType for Len32 {
    fn len(&self) -> usize {
        32
    }
}

impl Key256 {
    /// A fresh key from the system's secure random number generator.
    pub fn generate() -> Result<Self, CryptoError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        aws_lc_rs::rand::fill(bytes.as_mut_slice()).map_err(|_| CryptoError)?;
        Ok(Self(bytes))
    }

    pub(crate) fn from_bytes(bytes: Zeroizing<[u8; 32]>) -> Self {
        Self(bytes)
    }

    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// A subkey for `label` (HKDF-SHA256): different labels give independent keys.
    pub fn derive(&self, label: &[u8]) -> Key256 {
        let prk = Salt::new(HKDF_SHA256, b"petal key derivation").extract(self.0.as_slice());
        let mut out = Zeroizing::new([0u8; 32]);
        let info = [label];
        // Expanding 32 bytes from SHA-256 cannot exceed HKDF's limit, so these cannot fail.
        if let Ok(okm) = prk.expand(&info, Len32) {
            let _ = okm.fill(out.as_mut_slice());
        }
        Key256(out)
    }

    /// This key as a key-encryption key named `id` (for wrapping lower keys and sealing
    /// documents).
    pub fn wrapping_key(&self, id: &str) -> Result<WrappingKey, CryptoError> {
        WrappingKey::new(id, self.bytes())
    }

    /// This key as an AEAD for small values (database fields), each sealed with a random
    /// nonce and a caller-chosen context.
    pub fn sealer(&self) -> Result<SecretBox, CryptoError> {
        SecretBox::new(self.bytes())
    }

    /// HMAC-SHA256 of `data` under this key: a keyed, deterministic fingerprint (a blind index
    /// or a link signature) that a copy of the database cannot recompute.
    pub fn mac(&self, data: &[u8]) -> [u8; 32] {
        let key = hmac::Key::new(hmac::HMAC_SHA256, self.0.as_slice());
        let tag = hmac::sign(&key, data);
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        out
    }

    /// Checks `tag` against the HMAC of `data` in constant time.
    pub fn verify_mac(&self, data: &[u8], tag: &[u8]) -> bool {
        let key = hmac::Key::new(hmac::HMAC_SHA256, self.0.as_slice());
        hmac::verify(&key, data, tag).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivation_separates_labels_and_keys() {
        let a = Key256::generate().unwrap();
        let b = Key256::generate().unwrap();
        assert_ne!(a.derive(b"x").bytes(), a.derive(b"y").bytes());
        assert_eq!(a.derive(b"x").bytes(), a.derive(b"x").bytes());
        assert_ne!(a.derive(b"x").bytes(), b.derive(b"x").bytes());
    }

    #[test]
    fn macs_verify_only_for_the_same_key_and_data() {
        let key = Key256::generate().unwrap();
        let tag = key.mac(b"jane@example.test");
        assert!(key.verify_mac(b"jane@example.test", &tag));
        assert!(!key.verify_mac(b"john@example.test", &tag));
        assert!(!Key256::generate().unwrap().verify_mac(b"jane@example.test", &tag));
        assert!(!format!("{key:?}").contains(&hex::encode(key.bytes())));
    }

    #[test]
    fn wrapped_keys_unwrap_only_with_their_context() {
        let kek = Key256::generate().unwrap().wrapping_key("org:1").unwrap();
        let job = Key256::generate().unwrap();
        let wrapped = kek.wrap_key(&job, b"org:1|job:2").unwrap();
        assert_eq!(kek.unwrap_key(&wrapped, b"org:1|job:2").unwrap().bytes(), job.bytes());
        assert!(kek.unwrap_key(&wrapped, b"org:1|job:3").is_err());
    }
}
