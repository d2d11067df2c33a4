//! First look at an upload: magic bytes decide the family, and anything that announces itself
//! as a program is refused before a parser sees it. The structural check that tells a DOCX from
//! an ODT (or from a zip of anything else) belongs to the container reader.

use serde::Serialize;

/// What the first bytes of a file say it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sniffed {
    /// Starts with `%PDF-`.
    Pdf,
    /// A zip container (DOCX and ODT are both zips; the container reader decides which).
    Zip,
    /// Starts with `{\rtf`.
    Rtf,
    /// UTF-8 text without binary control characters.
    Text,
    /// A native executable or a script with an interpreter line.
    Executable,
    /// No bytes at all.
    Empty,
    /// Anything else.
    Unknown,
}

/// Magic numbers of executable formats: PE (Windows), ELF, Mach-O (both byte orders and
/// fat binaries) and Java class files share `CAFEBABE` with fat Mach-O.
const EXECUTABLE_MAGIC: [&[u8]; 6] = [
    b"MZ",
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
];

/// Classifies a file from its leading bytes (pass at least the first 8 KiB when available).
pub fn sniff(head: &[u8]) -> Sniffed {
    if head.is_empty() {
        return Sniffed::Empty;
    }
    if EXECUTABLE_MAGIC.iter().any(|magic| head.starts_with(magic)) {
        return Sniffed::Executable;
    }
    if head.starts_with(b"%PDF-") {
        return Sniffed::Pdf;
    }
    if head.starts_with(b"PK\x03\x04") {
        return Sniffed::Zip;
    }
    if head.starts_with(b"{\\rtf") {
        return Sniffed::Rtf;
    }
    let text = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    if text.starts_with(b"#!") {
        return Sniffed::Executable;
    }
    if looks_like_text(text) { Sniffed::Text } else { Sniffed::Unknown }
}

/// UTF-8 (allowing a character cut off at the end of the sample) with no control characters
/// other than tab, newline, carriage return and form feed.
fn looks_like_text(sample: &[u8]) -> bool {
    let valid = match std::str::from_utf8(sample) {
        Ok(s) => s,
        // A multi-byte character split by the sample's end is still text.
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(sample.get(..e.valid_up_to()).unwrap_or_default()).unwrap_or("")
        }
        Err(_) => return false,
    };
    !valid.is_empty()
        && valid.chars().all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r' | '\u{c}'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_document_families() {
        assert_eq!(sniff(b"%PDF-1.7\n%\xe2\xe3"), Sniffed::Pdf);
        assert_eq!(sniff(b"PK\x03\x04\x14\x00"), Sniffed::Zip);
        assert_eq!(sniff(b"{\\rtf1\\ansi Hello}"), Sniffed::Rtf);
        assert_eq!(sniff("Jane Doe\nSolicitor — 2:1 LLB\n".as_bytes()), Sniffed::Text);
        assert_eq!(sniff(b"\xef\xbb\xbfWith a byte-order mark"), Sniffed::Text);
    }

    #[test]
    fn content_wins_over_any_name() {
        // An executable renamed cv.pdf is still an executable: only bytes are consulted.
        assert_eq!(sniff(b"MZ\x90\x00\x03\x00\x00\x00"), Sniffed::Executable);
        assert_eq!(sniff(b"\x7fELF\x02\x01\x01"), Sniffed::Executable);
        assert_eq!(sniff(b"#!/bin/sh\nrm -rf /\n"), Sniffed::Executable);
        assert_eq!(sniff(b"\xef\xbb\xbf#!/usr/bin/env python\n"), Sniffed::Executable);
    }

    #[test]
    fn refuses_binary_and_empty_input() {
        assert_eq!(sniff(b""), Sniffed::Empty);
        assert_eq!(sniff(b"\x00\x01\x02binary"), Sniffed::Unknown);
        assert_eq!(sniff(b"\xff\xfe\xfd"), Sniffed::Unknown);
        assert_eq!(sniff(b"text with a bell \x07"), Sniffed::Unknown);
    }

    #[test]
    fn a_character_cut_at_the_sample_end_is_still_text() {
        let mut sample = "Zoë".as_bytes().to_vec();
        sample.pop();
        assert_eq!(sniff(&sample), Sniffed::Text);
    }
}
