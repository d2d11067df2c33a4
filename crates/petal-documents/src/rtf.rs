//! RTF's structural check: balanced groups within a nesting limit, and no embedded objects
//! (the way RTF carries OLE payloads and exploits).

use crate::validate::{Limits, Rejection};

/// Control words that introduce embedded objects or their data.
const ACTIVE_WORDS: [&[u8]; 3] = [b"object", b"objdata", b"objclass"];

/// Checks that `bytes` is one balanced RTF group with no embedded object.
pub(crate) fn check(bytes: &[u8], limits: &Limits) -> Result<(), Rejection> {
    let mut depth = 0usize;
    let mut closed = false;
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        if closed && !byte.is_ascii_whitespace() && byte != 0 {
            return Err(Rejection::Malformed);
        }
        match byte {
            b'{' => {
                depth += 1;
                if depth > limits.max_nesting {
                    return Err(Rejection::Malformed);
                }
            }
            b'}' => {
                depth = depth.checked_sub(1).ok_or(Rejection::Malformed)?;
                closed = depth == 0;
            }
            b'\\' => {
                let word: &[u8] = {
                    let rest = bytes.get(i + 1..).unwrap_or_default();
                    let len = rest.iter().take_while(|b| b.is_ascii_alphabetic()).count();
                    rest.get(..len).unwrap_or_default()
                };
                if ACTIVE_WORDS.contains(&word) {
                    return Err(Rejection::ActiveContent);
                }
                // Skip an escaped symbol (`\{`, `\}`, `\\`) or the control word's letters.
                i += word.len().max(1);
            }
            _ => {}
        }
        i += 1;
    }
    if closed { Ok(()) } else { Err(Rejection::Malformed) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_default(rtf: &[u8]) -> Result<(), Rejection> {
        check(rtf, &Limits::default())
    }

    #[test]
    fn accepts_balanced_rtf_with_escapes() {
        assert_eq!(check_default(br"{\rtf1\ansi {\b Jane} Doe \{braces\} \\ end}"), Ok(()));
        assert_eq!(check_default(b"{\\rtf1 x}\r\n\0"), Ok(()));
    }

    #[test]
    fn refuses_unbalanced_trailing_or_deep_rtf() {
        assert_eq!(check_default(br"{\rtf1 {open"), Err(Rejection::Malformed));
        assert_eq!(check_default(br"{\rtf1 x}}"), Err(Rejection::Malformed));
        assert_eq!(check_default(br"{\rtf1 x} trailing"), Err(Rejection::Malformed));
        let deep = format!("{{\\rtf1 {}{}}}", "{".repeat(300), "}".repeat(300));
        assert_eq!(check_default(deep.as_bytes()), Err(Rejection::Malformed));
    }

    #[test]
    fn refuses_embedded_objects() {
        let ole = br"{\rtf1 {\object\objemb{\*\objclass Equation.3}{\*\objdata 0105}}}";
        assert_eq!(check_default(ole), Err(Rejection::ActiveContent));
        // The word must match exactly: \objectx is some other word, and prose is fine.
        assert_eq!(check_default(br"{\rtf1 my objdata object}"), Ok(()));
    }
}
