//! PDF's structural check: the file must load (cross-reference, trailer and page tree) under
//! a per-stream decompression bound, have between one and the page limit of pages, and open
//! without a password. A PDF protected only by an owner password (restrictions on printing or
//! copying, empty user password) opens without one, so it is accepted.

use crate::validate::{Limits, Rejection};
use lopdf::{Document, LoadOptions};

/// Checks that `bytes` is a readable PDF.
pub(crate) fn check(bytes: &[u8], limits: &Limits) -> Result<(), Rejection> {
    let options = LoadOptions {
        max_decompressed_size: usize::try_from(limits.max_expanded_bytes).ok(),
        ..LoadOptions::default()
    };
    let document = match Document::load_mem_with_options(bytes, options) {
        Ok(document) => document,
        Err(lopdf::Error::InvalidPassword) => return Err(Rejection::Encrypted),
        Err(_) => return Err(Rejection::Malformed),
    };
    // Encrypted, and the empty user password did not open it.
    if document.is_encrypted() && document.encryption_state.is_none() {
        return Err(Rejection::Encrypted);
    }
    let pages = document.get_pages().len();
    if pages == 0 {
        return Err(Rejection::Malformed);
    }
    if pages > limits.max_pages {
        return Err(Rejection::TooManyPages { limit: limits.max_pages });
    }
    Ok(())
}
