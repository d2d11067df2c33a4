//! Petal's key material.
//!
//! The master key sits at the top of the key hierarchy (SPEC §3 Documents): it wraps the
//! installation key and one key per organisation, which wraps one key per job, which wraps
//! one data key per document ([`envelope`]). This crate loads the master key file (or creates
//! it on first run) and rotates it, refuses malformed or over-exposed key files, derives one
//! key per purpose from the installation key (session signing, sealing TOTP secrets, hashing
//! typed codes, signing links, sealing the audit trail), and provides the random tokens and token hashes used for
//! invitations and logins. Primitives come from `aws-lc-rs`;
//! nothing here implements cryptography by hand.

mod derive;
pub mod envelope;
mod key;
mod master_key;
mod token;

pub use derive::{CodeHasher, CryptoError, Purpose, SealKey, SecretBox, SigningKey};
pub use key::Key256;
pub use master_key::{KeySource, MasterKey, MasterKeyError, MasterKeyring};
pub use token::{SecretToken, TokenHash};
