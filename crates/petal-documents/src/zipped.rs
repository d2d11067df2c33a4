//! DOCX and ODT: both are zip containers. The check reads the central directory under entry
//! and expansion limits (declared sizes and ratios, so a zip bomb is refused before anything
//! is inflated), identifies the format by its required parts, then inflates only the main XML
//! part through a hard byte cap and parses it with entity declarations refused.

use crate::validate::{DocumentKind, Limits, Rejection};
use quick_xml::Reader;
use quick_xml::events::Event;
use std::io::{Cursor, Read};
use zip::ZipArchive;
use zip::result::ZipError;

const ODT_MIMETYPE: &[u8] = b"application/vnd.oasis.opendocument.text";

/// Checks a zip container and says whether it is a DOCX or an ODT.
pub(crate) fn check(bytes: &[u8], limits: &Limits) -> Result<DocumentKind, Rejection> {
    let mut archive = ZipArchive::new(Cursor::new(bytes)).map_err(|_| Rejection::Malformed)?;
    if archive.len() > limits.max_archive_entries {
        return Err(Rejection::DecompressionBomb);
    }
    let mut declared_total: u64 = 0;
    let mut names = Vec::with_capacity(archive.len());
    for index in 0..archive.len() {
        let entry = archive.by_index_raw(index).map_err(|_| Rejection::Malformed)?;
        if entry.encrypted() {
            return Err(Rejection::Encrypted);
        }
        let size = entry.size();
        declared_total = declared_total.saturating_add(size);
        let ratio_limit =
            entry.compressed_size().max(1).saturating_mul(limits.max_compression_ratio);
        // Small entries may compress well (a run of spaces); large ones may not expand wildly.
        if declared_total > limits.max_expanded_bytes || (size > 1024 * 1024 && size > ratio_limit)
        {
            return Err(Rejection::DecompressionBomb);
        }
        names.push(entry.name().map_err(|_| Rejection::Malformed)?.into_owned());
    }
    let has = |name: &str| names.iter().any(|n| n == name);
    if names.iter().any(|n| is_active(n)) {
        return Err(Rejection::ActiveContent);
    }
    let (kind, main_part) = if has("[Content_Types].xml") && has("word/document.xml") {
        (DocumentKind::Docx, "word/document.xml")
    } else if has("mimetype") && has("content.xml") {
        if read_part(&mut archive, "mimetype", limits)?.trim_ascii() != ODT_MIMETYPE {
            return Err(Rejection::UnsupportedType);
        }
        (DocumentKind::Odt, "content.xml")
    } else {
        return Err(Rejection::UnsupportedType);
    };
    if kind == DocumentKind::Docx {
        check_xml(&read_part(&mut archive, "[Content_Types].xml", limits)?, limits)?;
    }
    check_xml(&read_part(&mut archive, main_part, limits)?, limits)?;
    Ok(kind)
}

/// Parts that carry code or embedded objects: Word macros, ActiveX controls and OLE
/// embeddings; OpenDocument Basic and scripts.
fn is_active(name: &str) -> bool {
    const FOLDERS: [&str; 4] = ["word/embeddings/", "word/activeX/", "Basic/", "Scripts/"];
    name.ends_with("vbaProject.bin") || FOLDERS.iter().any(|folder| name.starts_with(folder))
}

/// Inflates one entry, refusing it once it passes the expansion limit whatever its header
/// claimed.
fn read_part(
    archive: &mut ZipArchive<Cursor<&[u8]>>,
    name: &str,
    limits: &Limits,
) -> Result<Vec<u8>, Rejection> {
    let entry = archive.by_name(name).map_err(|e| match e {
        ZipError::UnsupportedArchive(_) => Rejection::UnsupportedType,
        _ => Rejection::Malformed,
    })?;
    let mut out = Vec::new();
    entry
        .take(limits.max_expanded_bytes.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|_| Rejection::Malformed)?;
    if u64::try_from(out.len()).unwrap_or(u64::MAX) > limits.max_expanded_bytes {
        return Err(Rejection::DecompressionBomb);
    }
    Ok(out)
}

/// Parses XML to the end: well formed, nesting within the limit, and no `<!DOCTYPE`, so no
/// entity can be declared (let alone expanded).
pub(crate) fn check_xml(xml: &[u8], limits: &Limits) -> Result<(), Rejection> {
    let mut reader = Reader::from_reader(xml);
    reader.config_mut().check_end_names = true;
    let mut depth = 0usize;
    let mut buffer = Vec::new();
    loop {
        match reader.read_event_into(&mut buffer).map_err(|_| Rejection::Malformed)? {
            Event::DocType(_) => return Err(Rejection::XmlEntities),
            Event::Start(_) => {
                depth += 1;
                if depth > limits.max_nesting {
                    return Err(Rejection::Malformed);
                }
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::Eof => break,
            _ => {}
        }
        buffer.clear();
    }
    if depth == 0 { Ok(()) } else { Err(Rejection::Malformed) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_and_embedded_objects_are_recognised() {
        for active in [
            "word/vbaProject.bin",
            "word/embeddings/oleObject1.bin",
            "Scripts/x.js",
            "Basic/Standard/Module1.xml",
            "word/activeX/activeX1.xml",
        ] {
            assert!(is_active(active), "{active}");
        }
        for inert in ["word/document.xml", "word/media/image1.png", "content.xml", "Pictures/a.png"]
        {
            assert!(!is_active(inert), "{inert}");
        }
    }

    #[test]
    fn xml_with_a_doctype_or_bad_nesting_is_refused() {
        let limits = Limits::default();
        assert_eq!(check_xml(b"<w:document><w:p>Hi</w:p></w:document>", &limits), Ok(()));
        let bomb = br#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><a>&lol2;</a>"#;
        assert_eq!(check_xml(bomb, &limits), Err(Rejection::XmlEntities));
        assert_eq!(check_xml(b"<a><b></a></b>", &limits), Err(Rejection::Malformed));
        assert_eq!(check_xml(b"<a><b>", &limits), Err(Rejection::Malformed));
        let deep = format!("{}{}", "<a>".repeat(300), "</a>".repeat(300));
        assert_eq!(check_xml(deep.as_bytes(), &limits), Err(Rejection::Malformed));
    }
}
