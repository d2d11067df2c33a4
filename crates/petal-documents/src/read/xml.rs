//! What the XML readers share: opening a part of a zip container under the expansion limit,
//! and turning text and entity events into characters.

use super::ReadError;
use crate::validate::Limits;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesRef, BytesText};
use std::io::{Cursor, Read};
use zip::ZipArchive;

/// Inflates part `name` of a zip container, refusing to go past the expansion limit.
pub(crate) fn part(bytes: &[u8], name: &str, limits: &Limits) -> Result<Vec<u8>, ReadError> {
    let mut archive = ZipArchive::new(Cursor::new(bytes)).map_err(|_| ReadError::Unreadable)?;
    let entry = archive.by_name(name).map_err(|_| ReadError::Unreadable)?;
    let mut out = Vec::new();
    entry
        .take(limits.max_expanded_bytes.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|_| ReadError::Unreadable)?;
    if u64::try_from(out.len()).unwrap_or(u64::MAX) > limits.max_expanded_bytes {
        return Err(ReadError::TooLarge);
    }
    Ok(out)
}

/// The characters of a text event.
pub(crate) fn text(event: &BytesText<'_>) -> Result<String, ReadError> {
    Ok(event.decode().map_err(|_| ReadError::Unreadable)?.into_owned())
}

/// The character an entity reference stands for (`&amp;`, `&#233;`); other entities cannot
/// occur, since documents that declare any were refused at upload.
pub(crate) fn entity(event: &BytesRef<'_>) -> Result<String, ReadError> {
    if let Some(c) = event.resolve_char_ref().map_err(|_| ReadError::Unreadable)? {
        return Ok(c.to_string());
    }
    let name = event.decode().map_err(|_| ReadError::Unreadable)?;
    resolve_predefined_entity(&name).map(str::to_owned).ok_or(ReadError::Unreadable)
}

/// The value of attribute `name` (by local name) of an element, unescaped.
pub(crate) fn attribute(
    element: &quick_xml::events::BytesStart<'_>,
    local: &[u8],
) -> Option<String> {
    element
        .attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == local)
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}
