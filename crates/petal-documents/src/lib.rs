//! Petal's document handling before any text is read: deciding what a file is from its bytes
//! (never from its name or declared type), checking its structure under fixed limits, and
//! turning a client's file name into safe metadata. The format readers build on this.

#[cfg(any(test, feature = "corpus"))]
pub mod corpus;
mod filename;
mod pdf;
pub mod read;
mod rtf;
mod sniff;
mod validate;
mod zipped;

pub use filename::sanitize_filename;
pub use sniff::{Sniffed, sniff};
pub use validate::{DocumentKind, Limits, Rejection, check_filename, validate};
