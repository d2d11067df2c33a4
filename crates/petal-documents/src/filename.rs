//! Client file names are metadata only: never a path, never trusted.

/// Longest kept file name, in bytes.
const MAX_FILENAME_BYTES: usize = 255;

/// Reduces a client-supplied file name to a harmless display name: the last path component
/// only (either slash), no control or bidirectional-override characters, no leading dots, at
/// most 255 bytes. Returns `"document"` when nothing is left.
pub fn sanitize_filename(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String =
        last.chars().filter(|c| !c.is_control() && !is_bidi_control(*c)).collect();
    let trimmed = cleaned.trim().trim_start_matches('.').trim();
    let mut name = String::with_capacity(trimmed.len().min(MAX_FILENAME_BYTES));
    for c in trimmed.chars() {
        if name.len() + c.len_utf8() > MAX_FILENAME_BYTES {
            break;
        }
        name.push(c);
    }
    if name.is_empty() { "document".to_owned() } else { name }
}

/// Characters that reorder displayed text (used to disguise `exe.pdf` as `fdp.exe`).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_an_ordinary_name() {
        assert_eq!(sanitize_filename("Jane Doe CV (2026).pdf"), "Jane Doe CV (2026).pdf");
    }

    #[test]
    fn strips_paths_in_either_style() {
        assert_eq!(sanitize_filename("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_filename("C:\\Users\\x\\cv.docx"), "cv.docx");
        assert_eq!(sanitize_filename("/abs/path/"), "document");
    }

    #[test]
    fn removes_hidden_and_control_characters() {
        assert_eq!(sanitize_filename("..hidden"), "hidden");
        assert_eq!(sanitize_filename("cv\u{0}\n.pdf"), "cv.pdf");
        assert_eq!(sanitize_filename("cv\u{202e}fdp.exe"), "cvfdp.exe");
        assert_eq!(sanitize_filename(""), "document");
        assert_eq!(sanitize_filename(".."), "document");
    }

    #[test]
    fn caps_length_on_a_character_boundary() {
        let long = "é".repeat(300);
        let name = sanitize_filename(&long);
        assert!(name.len() <= 255);
        assert_eq!(name.chars().count(), 127);
    }
}
