//! Petal's key material.
//!
//! The master key sits at the top of the key hierarchy (SPEC §3 Documents). This crate loads it
//! (or creates it on first run), refuses malformed or over-exposed key files, derives one key
//! per purpose from it (session signing, sealing TOTP secrets, hashing typed codes), and
//! provides the random tokens and token hashes used for invitations and logins. Primitives come from `aws-lc-rs`;
//! nothing here implements cryptography by hand.

mod derive;
pub mod envelope;
mod master_key;
mod token;

pub use derive::{CodeHasher, CryptoError, Purpose, SecretBox, SigningKey};
pub use master_key::{KeySource, MasterKey, MasterKeyError};
pub use token::{SecretToken, TokenHash};
