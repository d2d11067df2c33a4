//! Keys derived from the installation key, one per purpose, with HKDF-SHA256. Deriving (rather
//! than storing) them means every replica agrees on them. The installation key itself is
//! random, stored in the database wrapped by the master key, so rotating the master key
//! re-wraps it and changes none of these.

use crate::Key256;
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::signature::KeyPair;
use aws_lc_rs::{hmac, signature};
use zeroize::Zeroizing;

/// What a derived key is for; the label is bound into the derivation.
#[derive(Debug, Clone, Copy)]
pub enum Purpose {
    /// Signing session tokens (Ed25519 seed).
    SessionSigning,
    /// Encrypting users' second-factor secrets at rest (TOTP secrets, phone numbers).
    UserSecrets,
    /// Keyed hashes of backup codes and one-time codes.
    CodeHashing,
    /// Signing document links (one subkey per rotation epoch).
    LinkSigning,
    /// Signing audit checkpoints and retention anchors (Ed25519 seed).
    AuditSealing,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Purpose::SessionSigning => b"petal/v1/session-signing",
            Purpose::UserSecrets => b"petal/v1/user-secrets",
            Purpose::CodeHashing => b"petal/v1/code-hashing",
            Purpose::LinkSigning => b"petal/v1/link-signing",
            Purpose::AuditSealing => b"petal/v1/audit-sealing",
        }
    }
}

impl Key256 {
    /// The 32-byte key for `purpose`.
    fn purpose_key(&self, purpose: Purpose) -> Key256 {
        self.derive(purpose.label())
    }

    /// The key that signs document links issued during `epoch`: links are signed with a key
    /// that changes every epoch, so one key signs only a bounded number of links.
    pub fn link_signing_key(&self, epoch: u64) -> Key256 {
        self.purpose_key(Purpose::LinkSigning).derive(&epoch.to_be_bytes())
    }

    /// The Ed25519 key pair that signs session tokens: PKCS#8 document and raw public key.
    pub fn session_signing_key(&self) -> Result<SigningKey, CryptoError> {
        let seed = self.purpose_key(Purpose::SessionSigning);
        let pair = signature::Ed25519KeyPair::from_seed_unchecked(seed.bytes())
            .map_err(|_| CryptoError)?;
        let pkcs8 = Zeroizing::new(pair.to_pkcs8().map_err(|_| CryptoError)?.as_ref().to_vec());
        Ok(SigningKey { pkcs8, public: pair.public_key().as_ref().to_vec() })
    }

    /// The Ed25519 key pair that signs audit checkpoints and retention anchors.
    pub fn audit_sealing_key(&self) -> Result<SealKey, CryptoError> {
        let seed = self.purpose_key(Purpose::AuditSealing);
        signature::Ed25519KeyPair::from_seed_unchecked(seed.bytes())
            .map(SealKey)
            .map_err(|_| CryptoError)
    }

    /// An AEAD for sealing small secrets (TOTP secrets) at rest.
    pub fn secret_box(&self, purpose: Purpose) -> Result<SecretBox, CryptoError> {
        SecretBox::new(self.purpose_key(purpose).bytes())
    }

    /// A keyed hash for codes that people type (backup codes, SMS codes): without the keys, a
    /// copy of the database does not let anyone test guesses offline.
    pub fn code_hasher(&self) -> CodeHasher {
        let key = self.purpose_key(Purpose::CodeHashing);
        CodeHasher(hmac::Key::new(hmac::HMAC_SHA256, key.bytes()))
    }
}

/// A cryptographic operation failed (bad key material, or a sealed value that does not open).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cryptographic operation failed")]
pub struct CryptoError;

/// An Ed25519 signing key as the JWT library wants it.
pub struct SigningKey {
    /// PKCS#8 v2 document holding the private key.
    pub pkcs8: Zeroizing<Vec<u8>>,
    /// The raw 32-byte public key.
    pub public: Vec<u8>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey(public {})", hex::encode(&self.public))
    }
}

/// An Ed25519 key pair that signs statements about the audit trail.
pub struct SealKey(signature::Ed25519KeyPair);

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SealKey(public {})", hex::encode(self.public_key()))
    }
}

impl SealKey {
    /// The raw 32-byte public key.
    pub fn public_key(&self) -> &[u8] {
        self.0.public_key().as_ref()
    }

    /// The 64-byte signature of `message`.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.0.sign(message).as_ref().to_vec()
    }

    /// Whether `signature` is this key's signature of `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        signature::UnparsedPublicKey::new(&signature::ED25519, self.public_key())
            .verify(message, signature)
            .is_ok()
    }
}

/// AES-256-GCM with a random 96-bit nonce per message; the output is `nonce ‖ ciphertext ‖ tag`.
pub struct SecretBox(LessSafeKey);

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox")
    }
}

impl SecretBox {
    pub(crate) fn new(key: &[u8; 32]) -> Result<Self, CryptoError> {
        let unbound = UnboundKey::new(&AES_256_GCM, key).map_err(|_| CryptoError)?;
        Ok(SecretBox(LessSafeKey::new(unbound)))
    }

    /// Encrypts `plaintext`, binding `context` (e.g. the owning user's id) as associated data.
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).map_err(|_| CryptoError)?;
        let mut buffer = plaintext.to_vec();
        self.0
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context),
                &mut buffer,
            )
            .map_err(|_| CryptoError)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buffer);
        Ok(out)
    }

    /// Decrypts what [`SecretBox::seal`] produced with the same `context`.
    pub fn open(&self, sealed: &[u8], context: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let (nonce, ciphertext) = sealed.split_at_checked(NONCE_LEN).ok_or(CryptoError)?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError)?;
        let mut buffer = Zeroizing::new(ciphertext.to_vec());
        let plain_len = self
            .0
            .open_in_place(nonce, Aad::from(context), buffer.as_mut_slice())
            .map_err(|_| CryptoError)?
            .len();
        buffer.truncate(plain_len);
        Ok(buffer)
    }
}

/// HMAC-SHA256 under a key derived from the installation key.
pub struct CodeHasher(hmac::Key);

impl std::fmt::Debug for CodeHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodeHasher")
    }
}

impl CodeHasher {
    /// The keyed hash of `code`, bound to `context` (e.g. the owning user's id).
    pub fn hash(&self, context: &[u8], code: &str) -> [u8; 32] {
        let mut ctx = hmac::Context::with_key(&self.0);
        ctx.update(&(context.len() as u64).to_be_bytes());
        ctx.update(context);
        ctx.update(code.as_bytes());
        let tag = ctx.sign();
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ((), Key256) {
        ((), Key256::generate().unwrap())
    }

    #[test]
    fn purposes_get_different_keys_and_derivation_is_stable() {
        let (_d, key) = key();
        assert_ne!(
            key.purpose_key(Purpose::UserSecrets).bytes(),
            key.purpose_key(Purpose::CodeHashing).bytes()
        );
        assert_eq!(
            key.purpose_key(Purpose::UserSecrets).bytes(),
            key.purpose_key(Purpose::UserSecrets).bytes()
        );
        let (_d2, other) = self::key();
        assert_ne!(
            key.purpose_key(Purpose::UserSecrets).bytes(),
            other.purpose_key(Purpose::UserSecrets).bytes()
        );
    }

    #[test]
    fn sealed_secrets_open_only_with_the_same_context_and_intact_bytes() {
        let (_d, key) = key();
        let sealed_box = key.secret_box(Purpose::UserSecrets).unwrap();
        let sealed = sealed_box.seal(b"JBSWY3DPEHPK3PXP", b"user-1").unwrap();
        assert_eq!(sealed_box.open(&sealed, b"user-1").unwrap().as_slice(), b"JBSWY3DPEHPK3PXP");
        assert!(sealed_box.open(&sealed, b"user-2").is_err());
        let mut flipped = sealed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(sealed_box.open(&flipped, b"user-1").is_err());
        assert!(sealed_box.open(&sealed[..5], b"user-1").is_err());
        assert_ne!(
            sealed,
            sealed_box.seal(b"JBSWY3DPEHPK3PXP", b"user-1").unwrap(),
            "nonce reused"
        );
    }

    #[test]
    fn code_hashes_are_keyed_and_bound_to_their_owner() {
        let (_d, key) = key();
        let hasher = key.code_hasher();
        assert_eq!(hasher.hash(b"u1", "abcd-efgh"), hasher.hash(b"u1", "abcd-efgh"));
        assert_ne!(hasher.hash(b"u1", "abcd-efgh"), hasher.hash(b"u2", "abcd-efgh"));
        let (_d2, other) = self::key();
        assert_ne!(hasher.hash(b"u1", "abcd-efgh"), other.code_hasher().hash(b"u1", "abcd-efgh"));
    }

    #[test]
    fn seal_signatures_verify_only_for_their_message_and_key() {
        let (_d, key) = key();
        let seal = key.audit_sealing_key().unwrap();
        let signature = seal.sign(b"org 1 seq 7");
        assert_eq!(signature.len(), 64);
        assert!(seal.verify(b"org 1 seq 7", &signature));
        assert!(!seal.verify(b"org 1 seq 8", &signature));
        let mut flipped = signature.clone();
        flipped[10] ^= 1;
        assert!(!seal.verify(b"org 1 seq 7", &flipped));
        assert!(!seal.verify(b"org 1 seq 7", &signature[..63]));
        assert_eq!(key.audit_sealing_key().unwrap().public_key(), seal.public_key());
        let (_d2, other) = self::key();
        assert!(!other.audit_sealing_key().unwrap().verify(b"org 1 seq 7", &signature));
        assert_ne!(
            key.session_signing_key().unwrap().public.as_slice(),
            seal.public_key(),
            "one key per purpose"
        );
    }

    #[test]
    fn the_session_key_is_stable_per_installation_key() {
        let (_d, key) = key();
        let a = key.session_signing_key().unwrap();
        let b = key.session_signing_key().unwrap();
        assert_eq!(a.public, b.public);
        assert_eq!(a.public.len(), 32);
        assert!(!format!("{a:?}").contains(&hex::encode(&*a.pkcs8)));
    }
}
