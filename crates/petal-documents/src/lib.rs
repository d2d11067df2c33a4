//! Petal's document handling, before any parser runs: deciding what a file is from its bytes
//! (never from its name or declared type) and turning a client's file name into safe metadata.
//! The format readers (PDF, DOCX, ODT, RTF, TXT) build on this.

mod filename;
mod sniff;

pub use filename::sanitize_filename;
pub use sniff::{Sniffed, sniff};
