//! Petal's key material.
//!
//! The master key sits at the top of the key hierarchy (SPEC §3 Documents). This crate loads it
//! (or creates it on first run), refuses malformed or over-exposed key files, and provides the
//! random tokens and token hashes used for invitations. Primitives come from `aws-lc-rs`;
//! nothing here implements cryptography by hand.

mod master_key;
mod token;

pub use master_key::{KeySource, MasterKey, MasterKeyError};
pub use token::{SecretToken, TokenHash};
