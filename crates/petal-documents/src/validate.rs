//! Deciding whether an upload is a document Petal accepts: its bytes (never its name or the
//! client's declared type) must be one of PDF, DOCX, ODT, RTF or plain text, and must pass
//! that format's structural check under fixed limits. Anything else is a [`Rejection`] with a
//! stable code the API reports per file.

use crate::sniff::{Sniffed, sniff};
use crate::{pdf, rtf, zipped};
use serde::Serialize;

/// An accepted document's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// Portable Document Format.
    Pdf,
    /// Office Open XML word-processing document.
    Docx,
    /// OpenDocument text.
    Odt,
    /// Rich Text Format.
    Rtf,
    /// Plain UTF-8 text.
    Text,
}

impl DocumentKind {
    /// The media type served when the document is downloaded.
    pub fn media_type(self) -> &'static str {
        match self {
            DocumentKind::Pdf => "application/pdf",
            DocumentKind::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            DocumentKind::Odt => "application/vnd.oasis.opendocument.text",
            DocumentKind::Rtf => "application/rtf",
            DocumentKind::Text => "text/plain; charset=utf-8",
        }
    }

    /// The stored name of the format (`"pdf"`, `"docx"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Pdf => "pdf",
            DocumentKind::Docx => "docx",
            DocumentKind::Odt => "odt",
            DocumentKind::Rtf => "rtf",
            DocumentKind::Text => "txt",
        }
    }

    /// Parses a stored format name.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Pdf, Self::Docx, Self::Odt, Self::Rtf, Self::Text]
            .into_iter()
            .find(|kind| kind.as_str() == name)
    }
}

/// Why an upload was refused. Each has a stable `code` and a message fit for the person who
/// uploaded the file; neither ever quotes the file's content.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// The file has no bytes.
    #[error("the file is empty")]
    Empty,
    /// The file is larger than the per-file limit.
    #[error("the file is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// The file name is a path, or holds control characters.
    #[error("the file name must be a plain name, not a path")]
    InvalidFilename,
    /// A program or script, whatever its name says.
    #[error("executables and scripts are not accepted")]
    Executable,
    /// Macros or embedded objects that could run code.
    #[error("documents with macros or embedded objects are not accepted")]
    ActiveContent,
    /// Not one of PDF, DOCX, ODT, RTF or plain text.
    #[error("the file is not a PDF, DOCX, ODT, RTF or plain-text document")]
    UnsupportedType,
    /// The format was recognised but the file is damaged or not well formed.
    #[error("the document is damaged or not well formed")]
    Malformed,
    /// The document needs a password to open.
    #[error("the document needs a password to open; upload an unprotected copy")]
    Encrypted,
    /// An archive that expands far beyond its size, or holds too many entries.
    #[error("the document expands beyond the allowed size (a decompression bomb)")]
    DecompressionBomb,
    /// XML that declares a document type (the vehicle of entity expansion attacks).
    #[error("the document's XML declares entities, which are not accepted")]
    XmlEntities,
    /// More pages than a CV plausibly has.
    #[error("the document has more than {limit} pages")]
    TooManyPages {
        /// The page limit.
        limit: usize,
    },
}

impl Rejection {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::Empty => "empty_file",
            Rejection::TooLarge { .. } => "file_too_large",
            Rejection::InvalidFilename => "invalid_filename",
            Rejection::Executable => "executable",
            Rejection::ActiveContent => "active_content",
            Rejection::UnsupportedType => "unsupported_type",
            Rejection::Malformed => "malformed_document",
            Rejection::Encrypted => "encrypted_document",
            Rejection::DecompressionBomb => "decompression_bomb",
            Rejection::XmlEntities => "xml_entities",
            Rejection::TooManyPages { .. } => "too_many_pages",
        }
    }
}

/// The bounds every check runs under.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest accepted file, in bytes.
    pub max_file_bytes: u64,
    /// Most entries a DOCX or ODT may hold.
    pub max_archive_entries: usize,
    /// Largest total a DOCX or ODT may declare when expanded, and the most any one XML part
    /// (or PDF stream) may expand to.
    pub max_expanded_bytes: u64,
    /// Largest expansion ratio of any one archive entry.
    pub max_compression_ratio: u64,
    /// Deepest element nesting in XML, and group nesting in RTF.
    pub max_nesting: usize,
    /// Most pages in a PDF.
    pub max_pages: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_file_bytes: 20 * 1000 * 1000,
            max_archive_entries: 1_000,
            max_expanded_bytes: 100 * 1024 * 1024,
            max_compression_ratio: 200,
            max_nesting: 256,
            max_pages: 300,
        }
    }
}

/// Decides what `bytes` are and checks their structure; the whole file must be in memory
/// (the caller has already bounded it by [`Limits::max_file_bytes`]).
pub fn validate(bytes: &[u8], limits: &Limits) -> Result<DocumentKind, Rejection> {
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > limits.max_file_bytes {
        return Err(Rejection::TooLarge { limit: limits.max_file_bytes });
    }
    match sniff(bytes.get(..8192).unwrap_or(bytes)) {
        Sniffed::Empty => Err(Rejection::Empty),
        Sniffed::Executable => Err(Rejection::Executable),
        Sniffed::Unknown => Err(Rejection::UnsupportedType),
        Sniffed::Pdf => pdf::check(bytes, limits).map(|()| DocumentKind::Pdf),
        Sniffed::Zip => zipped::check(bytes, limits),
        Sniffed::Rtf => rtf::check(bytes, limits).map(|()| DocumentKind::Rtf),
        Sniffed::Text => check_text(bytes).map(|()| DocumentKind::Text),
    }
}

/// Plain text: UTF-8 throughout, no binary control characters, and not markup that a browser
/// would run (HTML, SVG or XML dressed as a text file).
fn check_text(bytes: &[u8]) -> Result<(), Rejection> {
    let text = std::str::from_utf8(bytes).map_err(|_| Rejection::UnsupportedType)?;
    if text.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{c}')) {
        return Err(Rejection::UnsupportedType);
    }
    let start = text.trim_start_matches('\u{feff}').trim_start().to_ascii_lowercase();
    const MARKUP: [&str; 5] = ["<!doctype", "<html", "<script", "<svg", "<?xml"];
    if MARKUP.iter().any(|tag| start.starts_with(tag)) {
        return Err(Rejection::ActiveContent);
    }
    Ok(())
}

/// Checks a client-supplied file name before it is kept as metadata: a name that is a path
/// (either slash, or `..`) or holds control characters is refused rather than silently
/// rewritten, so the person uploading learns why.
pub fn check_filename(raw: &str) -> Result<String, Rejection> {
    let is_path = raw.contains(['/', '\\']) || raw.trim() == ".." || raw.trim() == ".";
    if is_path || raw.chars().any(char::is_control) || raw.trim().is_empty() {
        return Err(Rejection::InvalidFilename);
    }
    Ok(crate::sanitize_filename(raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_accepted_and_markup_or_binary_is_not() {
        let limits = Limits::default();
        assert_eq!(validate("Jane Doe\nSolicitor\n".as_bytes(), &limits), Ok(DocumentKind::Text));
        assert_eq!(
            validate(b"  <HTML><script>alert(1)</script>", &limits),
            Err(Rejection::ActiveContent)
        );
        assert_eq!(validate(b"<svg onload=x>", &limits), Err(Rejection::ActiveContent));
        // Text for 8 KiB, then a NUL: the whole file is checked, not only the head.
        let mut tail_binary = "a".repeat(10_000).into_bytes();
        tail_binary.push(0);
        assert_eq!(validate(&tail_binary, &limits), Err(Rejection::UnsupportedType));
    }

    #[test]
    fn empty_large_and_executable_files_are_refused_by_content() {
        let limits = Limits { max_file_bytes: 10, ..Limits::default() };
        assert_eq!(validate(b"", &limits), Err(Rejection::Empty));
        assert_eq!(validate(b"0123456789ab", &limits), Err(Rejection::TooLarge { limit: 10 }));
        assert_eq!(validate(b"MZ\x90\x00", &limits), Err(Rejection::Executable));
        assert_eq!(validate(b"#!/bin/sh\n", &limits), Err(Rejection::Executable));
        assert_eq!(validate(b"\x89PNG\r\n", &limits), Err(Rejection::UnsupportedType));
    }

    #[test]
    fn file_names_that_are_paths_are_refused() {
        for bad in ["../../etc/passwd", "..\\boot.ini", "a/b.pdf", "..", "cv\u{0}.pdf", " "] {
            assert_eq!(check_filename(bad), Err(Rejection::InvalidFilename), "{bad:?}");
        }
        assert_eq!(check_filename("Jane Doe CV.pdf").as_deref(), Ok("Jane Doe CV.pdf"));
        assert_eq!(check_filename("cv\u{202e}fdp.exe").as_deref(), Ok("cvfdp.exe"));
    }

    #[test]
    fn codes_are_stable_and_distinct() {
        let all = [
            Rejection::Empty,
            Rejection::TooLarge { limit: 1 },
            Rejection::InvalidFilename,
            Rejection::Executable,
            Rejection::ActiveContent,
            Rejection::UnsupportedType,
            Rejection::Malformed,
            Rejection::Encrypted,
            Rejection::DecompressionBomb,
            Rejection::XmlEntities,
            Rejection::TooManyPages { limit: 1 },
        ];
        let codes: std::collections::BTreeSet<_> = all.iter().map(Rejection::code).collect();
        assert_eq!(codes.len(), all.len());
        assert!(DocumentKind::parse("docx").is_some_and(|k| k == DocumentKind::Docx));
    }
}
