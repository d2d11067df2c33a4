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
