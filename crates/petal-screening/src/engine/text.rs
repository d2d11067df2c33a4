//! The CV text the engine scores: the visible text with the lines it must not score from
//! (instructions addressed to an evaluator) set aside, and evidence quoted from it with
//! character offsets.

use crate::profile::Span;
use serde::{Deserialize, Serialize};

/// A quote from the CV's visible text: `quote` is exactly the characters `start..end`
/// (counted in Unicode scalar values, not bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// The quoted text.
    pub quote: String,
    /// Offset of its first character.
    pub start: usize,
    /// Offset one past its last character.
    pub end: usize,
}

/// Longest quote, in bytes, before a line is cut down to the words around the match.
const MAX_QUOTE: usize = 240;
/// Context kept on each side of a match when a line is cut down.
const CONTEXT: usize = 80;

/// The visible text and the byte ranges excluded from scoring.
pub(crate) struct CvText<'a> {
    text: &'a str,
    excluded: Vec<(usize, usize)>,
}

impl<'a> CvText<'a> {
    pub(crate) fn new(text: &'a str, excluded: Vec<(usize, usize)>) -> Self {
        Self { text, excluded }
    }

    /// The whole visible text.
    pub(crate) fn text(&self) -> &'a str {
        self.text
    }

    /// The byte ranges set aside (lines addressed to an evaluator).
    pub(crate) fn excluded(&self) -> &[(usize, usize)] {
        &self.excluded
    }

    /// Whether a fact read from `span` may count: it does not touch an excluded line.
    pub(crate) fn usable(&self, span: Span) -> bool {
        self.excluded.iter().all(|&(start, end)| span.end <= start || span.start >= end)
    }

    /// The evidence for a fact read from `span`: the line holding it, trimmed, or the words
    /// around it when the line is long.
    pub(crate) fn evidence(&self, span: Span) -> Evidence {
        let text = self.text;
        let line_start = text.get(..span.start).and_then(|b| b.rfind('\n')).map_or(0, |i| i + 1);
        let line_end =
            text.get(span.end..).and_then(|a| a.find('\n')).map_or(text.len(), |i| span.end + i);
        let (mut start, mut end) = (line_start, line_end);
        if end - start > MAX_QUOTE {
            start = floor_boundary(text, span.start.saturating_sub(CONTEXT).max(line_start));
            end = ceil_boundary(text, (span.end + CONTEXT).min(line_end));
        }
        let slice = text.get(start..end).unwrap_or_default();
        let trimmed_front = slice.len() - slice.trim_start().len();
        let trimmed = slice.trim();
        let start = start + trimmed_front;
        let chars_before = text.get(..start).map_or(0, |b| b.chars().count());
        Evidence {
            quote: trimmed.to_owned(),
            start: chars_before,
            end: chars_before + trimmed.chars().count(),
        }
    }
}

fn floor_boundary(text: &str, mut at: usize) -> usize {
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn ceil_boundary(text: &str, mut at: usize) -> usize {
    while at < text.len() && !text.is_char_boundary(at) {
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_is_the_line_with_character_offsets() {
        let text = "Zoë Ångström\n  Rust and Go, 2019–2024  \nother";
        let cv = CvText::new(text, vec![]);
        let at = text.find("Rust").unwrap();
        let evidence = cv.evidence(Span { start: at, end: at + 4 });
        assert_eq!(evidence.quote, "Rust and Go, 2019–2024");
        let chars: Vec<char> = text.chars().collect();
        let quoted: String = chars[evidence.start..evidence.end].iter().collect();
        assert_eq!(quoted, evidence.quote);
    }

    #[test]
    fn long_lines_are_cut_around_the_match_on_character_boundaries() {
        let text = format!("{}Kubernetes{}", "é".repeat(200), "ü".repeat(200));
        let cv = CvText::new(&text, vec![]);
        let at = text.find("Kubernetes").unwrap();
        let evidence = cv.evidence(Span { start: at, end: at + 10 });
        assert!(evidence.quote.contains("Kubernetes"));
        assert!(evidence.quote.len() < text.len());
        let chars: Vec<char> = text.chars().collect();
        let quoted: String = chars[evidence.start..evidence.end].iter().collect();
        assert_eq!(quoted, evidence.quote);
    }

    #[test]
    fn excluded_ranges_make_facts_unusable() {
        let cv = CvText::new("abc\ndef\n", vec![(4, 8)]);
        assert!(cv.usable(Span { start: 0, end: 3 }));
        assert!(!cv.usable(Span { start: 5, end: 6 }));
    }
}
