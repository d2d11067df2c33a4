//! Reading a document's text, split into what a person sees and what is hidden from them
//! (vanished runs, white or microscopic text): screening reads only the visible text, and
//! hidden text is reported as a flag, never scored.
//!
//! Each reader works on bytes that already passed [`crate::validate`] and keeps to the same
//! limits (inflated size, nesting). [`read`] picks the reader for a format and contains any
//! panic, so one pathological file fails alone.

mod docx;
mod odt;
mod pdf;
mod rtf;
mod xml;

use crate::validate::{DocumentKind, Limits};
use std::time::Instant;

pub use docx::read_docx;
pub use odt::read_odt;
pub use pdf::read_pdf;
pub use rtf::read_rtf;

/// A document's text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reading {
    /// The text a reader of the document sees, in reading order, one line per paragraph.
    pub visible: String,
    /// Text present in the file but hidden from a reader.
    pub hidden: String,
    /// The file is encrypted but opened without a password (a PDF with an owner password
    /// only): read normally, flagged for information.
    pub encrypted: bool,
}

impl Reading {
    pub(crate) fn push(&mut self, hidden: bool, text: &str) {
        if hidden { self.hidden.push_str(text) } else { self.visible.push_str(text) }
    }

    /// Ends a paragraph in whichever text it wrote to.
    pub(crate) fn end_paragraph(&mut self) {
        for text in [&mut self.visible, &mut self.hidden] {
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
        }
    }
}

/// Why a document's text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// The file is not a readable document of the expected format.
    #[error("the document could not be read")]
    Unreadable,
    /// Reading it would pass a limit.
    #[error("the document's text is larger than allowed")]
    TooLarge,
    /// Reading did not finish by its deadline.
    #[error("reading the document took longer than allowed")]
    TimedOut,
}

/// Reads a document of a known format (as decided by [`crate::validate`]).
///
/// A panic inside a reader is caught and reported as [`ReadError::Unreadable`]; a deadline
/// already passed gives [`ReadError::TimedOut`] (only the PDF reader, the one whose work
/// depends on more than the file's size, also watches the deadline while it reads).
pub fn read(
    kind: DocumentKind,
    bytes: &[u8],
    limits: &Limits,
    deadline: Instant,
) -> Result<Reading, ReadError> {
    if Instant::now() >= deadline {
        return Err(ReadError::TimedOut);
    }
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match kind {
        DocumentKind::Pdf => read_pdf(bytes, limits, deadline),
        DocumentKind::Docx => read_docx(bytes, limits),
        DocumentKind::Odt => read_odt(bytes, limits),
        DocumentKind::Rtf => read_rtf(bytes, limits),
        DocumentKind::Text => read_plain_text(bytes),
    }));
    outcome.unwrap_or(Err(ReadError::Unreadable))
}

/// Reads a plain-text document (already checked to be UTF-8): all of it is visible.
pub fn read_plain_text(bytes: &[u8]) -> Result<Reading, ReadError> {
    let text = std::str::from_utf8(bytes).map_err(|_| ReadError::Unreadable)?;
    let text = text.trim_start_matches('\u{feff}').replace("\r\n", "\n");
    Ok(Reading { visible: text, ..Reading::default() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn plain_text_is_all_visible() {
        let reading = read_plain_text("\u{feff}Jane Marlowe\r\nSolicitor\r\n".as_bytes()).unwrap();
        assert_eq!(reading.visible, "Jane Marlowe\nSolicitor\n");
        assert!(read_plain_text(b"\xff\xfe").is_err());
    }

    #[test]
    fn read_dispatches_by_kind() {
        let limits = Limits::default();
        let soon = Instant::now() + std::time::Duration::from_secs(20);
        let lines = ["Jane Marlowe", "Solicitor"];
        for (kind, bytes) in [
            (DocumentKind::Pdf, crate::corpus::pdf(&lines)),
            (DocumentKind::Docx, crate::corpus::docx(&lines)),
            (DocumentKind::Odt, crate::corpus::odt(&lines)),
            (DocumentKind::Rtf, crate::corpus::rtf(&lines)),
            (DocumentKind::Text, b"Jane Marlowe\nSolicitor\n".to_vec()),
        ] {
            let reading = read(kind, &bytes, &limits, soon).unwrap();
            assert_eq!(reading.visible, "Jane Marlowe\nSolicitor\n", "{kind:?}");
        }
        // The wrong reader for the bytes is an error, not a panic.
        assert_eq!(
            read(DocumentKind::Pdf, &crate::corpus::docx(&lines), &limits, soon),
            Err(ReadError::Unreadable)
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Whatever the bytes, the readers answer (text or an error) and never panic.
        #[test]
        fn readers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let limits = Limits::default();
            let _ = read_rtf(&bytes, &limits);
            let _ = read_docx(&bytes, &limits);
            let _ = read_odt(&bytes, &limits);
            let mut rtf = b"{\\rtf1 ".to_vec();
            rtf.extend_from_slice(&bytes);
            let _ = read_rtf(&rtf, &limits);
        }
    }
}
