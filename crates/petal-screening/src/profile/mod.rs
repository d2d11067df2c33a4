//! Facts parsed from a CV's visible text, each with the exact span it was read from (so the
//! evidence shown to reviewers is a quote with character offsets, never a paraphrase).

mod contact;
mod degree;
mod experience;
mod qualifications;
mod skills;

pub use contact::{Contact, ContactKind, contacts};
pub use degree::{DegreeClass, DegreeMention, degree_mentions};
pub use experience::{Month, Stint, merged_months, stints};
pub use qualifications::{
    Qualification, QualificationMention, a_level_grades, qualification_mentions,
};
pub use skills::{SkillMention, skill_mentions};

/// Where in the text a fact was read: byte offsets of the quote, which is `text[start..end]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Span {
    /// First byte of the quote.
    pub start: usize,
    /// One past its last byte.
    pub end: usize,
}

impl Span {
    /// The quoted text.
    pub fn quote<'t>(&self, text: &'t str) -> &'t str {
        text.get(self.start..self.end).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Whatever the text (any Unicode, any length), every parser answers without panicking
        /// and every span it gives is a valid quote of that text.
        #[test]
        fn parsers_never_panic_and_spans_are_quotes(text in "\\PC{0,400}") {
            let today = Month::new(2026, 12).unwrap();
            let spans: Vec<Span> = contacts(&text).iter().map(|c| c.span)
                .chain(degree_mentions(&text).iter().map(|m| m.span))
                .chain(qualification_mentions(&text).iter().map(|m| m.span))
                .chain(skill_mentions(&text).iter().map(|m| m.span))
                .chain(stints(&text, today).iter().map(|s| s.span))
                .collect();
            for span in spans {
                prop_assert!(text.get(span.start..span.end).is_some_and(|q| !q.is_empty()));
            }
        }
    }
}
