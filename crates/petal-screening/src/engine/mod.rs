//! The local engine: offline, deterministic and explainable. It reads facts from a CV's
//! visible text (never its hidden text, never lines addressed to an evaluator), judges each
//! criterion from them, quotes its evidence, and leaves the total to [`crate::score`].
//!
//! The same text and criteria always give the same [`Screening`], byte for byte: nothing
//! depends on file names, upload order, the clock beyond the month ("present" in a date
//! range), or hash-map order.

mod injection;
pub mod remote;
#[cfg(test)]
mod tests;
mod text;
mod verdicts;

pub use text::Evidence;

use crate::criteria::{Criterion, Requirement};
use crate::profile::{
    ContactKind, DegreeClass, Month, Qualification, a_level_grades, contacts, degree_mentions,
    merged_months, qualification_mentions, skill_mentions, stints,
};
use crate::pseudonym::{Marker, mask};
use crate::score::{CriterionKind, ScoredCriterion, Verdict, score};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::cmp::Ordering;
use text::CvText;

/// The engine's name, recorded with every result.
pub const ENGINE: &str = "local";
/// The version of the engine's rules, recorded with every result: a change to how CVs are
/// read or judged changes it, so results from different rules are never compared unknowingly.
pub const ENGINE_VERSION: &str = "local-1";
/// Most quotes kept as evidence for one criterion.
const MAX_EVIDENCE: usize = 3;

/// A CV's text as read, and what reading it found.
#[derive(Debug, Clone, Copy)]
pub struct CvInput<'a> {
    /// The text a reader sees.
    pub visible: &'a str,
    /// Text in the file hidden from a reader.
    pub hidden: &'a str,
    /// The file was encrypted but opened without a password.
    pub encrypted: bool,
    /// The file has a text layer (a PDF of scanned pages has none).
    pub text_layer: bool,
}

/// Something a reviewer should know about a CV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    /// A PDF with no text layer: not ranked.
    NoTextLayer,
    /// Text a reader would not see was found and excluded from scoring.
    HiddenText,
    /// Text addressed to an evaluator was found and excluded from scoring.
    PromptInjectionSuspected,
    /// The file was encrypted (it opened without a password).
    Encrypted,
    /// The text could not be read.
    ExtractionFailed,
    /// A knockout criterion was not met (shown, never acted on).
    KnockoutFailed,
    /// Samples of a remote engine disagreed on at least one criterion.
    LowAgreement,
    /// The candidate asked for a person to review their CV: no engine judged it.
    ManualReviewOnly,
}

/// The advice a score gives; people decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recommendation {
    /// 70 or more.
    Strong,
    /// 40 to 69.
    Possible,
    /// Under 40.
    Unlikely,
}

impl Recommendation {
    /// The recommendation for a score.
    pub fn for_score(score: u8) -> Self {
        match score {
            70.. => Recommendation::Strong,
            40..=69 => Recommendation::Possible,
            _ => Recommendation::Unlikely,
        }
    }
}

/// Who the candidate is, as the CV says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// Name.
    pub name: Option<String>,
    /// First email address.
    pub email: Option<String>,
    /// First telephone number.
    pub phone: Option<String>,
    /// Links (LinkedIn, GitHub, sites).
    pub links: Vec<String>,
}

/// Facts parsed from the CV.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// Best degree class achieved.
    pub degree_class: Option<DegreeClass>,
    /// Best degree class predicted (kept apart from achieved).
    pub predicted_degree_class: Option<DegreeClass>,
    /// Legal and school qualifications mentioned.
    pub qualifications: Vec<Qualification>,
    /// A-level grades, as written.
    pub a_level_grades: Vec<String>,
    /// Months of dated work, overlapping jobs counted once.
    pub months_experience: u32,
    /// Skills, by canonical name, each once, in order of first mention.
    pub skills: Vec<String>,
}

/// The verdict on one criterion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CriterionResult {
    /// The criterion's id.
    pub criterion_id: String,
    /// The verdict.
    pub verdict: Verdict,
    /// Quotes from the visible text it rests on.
    pub evidence: Vec<Evidence>,
    /// Why, in a few words.
    pub reason: String,
    /// A knockout that is not met (labelled, never acted on).
    pub knockout_failed: bool,
    /// How many samples of a remote engine gave this verdict (absent for the local engine).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement: Option<Agreement>,
}

/// How many of a remote engine's samples agreed on a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agreement {
    /// Samples that gave the verdict.
    pub agreeing: u8,
    /// Samples taken.
    pub samples: u8,
}

/// The local engine's screening of one CV.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Screening {
    /// Who the candidate is.
    pub candidate: Candidate,
    /// What the CV shows.
    pub profile: Profile,
    /// One verdict per criterion, in the job's order.
    pub criteria: Vec<CriterionResult>,
    /// 0–100, computed from verdicts and weights.
    pub score: u8,
    /// Whether the CV takes part in the ranking (not when it has no text layer).
    pub ranked: bool,
    /// Advice from the score; none when not ranked.
    pub recommendation: Option<Recommendation>,
    /// What a reviewer should know, sorted.
    pub flags: Vec<Flag>,
    /// SHA-256 of the visible text, hex: the last tie-break, so equal scores order the same
    /// whatever the upload order or file names.
    pub text_digest: String,
}

impl Screening {
    /// Hides who the candidate is, for reviewers who screen blind: their details are removed
    /// and masked wherever a quote holds them (the quote's offsets still point into the CV).
    pub fn blind(&mut self) {
        let candidate = std::mem::take(&mut self.candidate);
        let mut known: Vec<(&str, Marker)> = Vec::new();
        known.extend(candidate.name.as_deref().map(|v| (v, Marker::Name)));
        known.extend(candidate.email.as_deref().map(|v| (v, Marker::Email)));
        known.extend(candidate.phone.as_deref().map(|v| (v, Marker::Phone)));
        known.extend(candidate.links.iter().map(|v| (v.as_str(), Marker::Link)));
        for result in &mut self.criteria {
            for evidence in &mut result.evidence {
                // Any other email, phone or link in the quote goes too.
                let quote = &evidence.quote;
                let mut all = known.clone();
                all.extend(contacts(quote).into_iter().filter_map(|c| {
                    let marker = match c.kind {
                        ContactKind::Name => return None,
                        ContactKind::Email => Marker::Email,
                        ContactKind::Phone => Marker::Phone,
                        ContactKind::Link => Marker::Link,
                    };
                    Some((c.span.quote(quote), marker))
                }));
                let masked = mask(quote, &all);
                evidence.quote = masked;
            }
        }
    }

    /// How many criteria have evidence either way (not `unknown`).
    pub fn evidenced(&self) -> usize {
        self.criteria.iter().filter(|c| c.verdict != Verdict::Unknown).count()
    }
}

/// The ranking order: ranked CVs first, higher scores first, then more criteria with
/// evidence, then the text digest; total and independent of upload order and file names.
pub fn rank_order(a: &Screening, b: &Screening) -> Ordering {
    b.ranked
        .cmp(&a.ranked)
        .then(b.score.cmp(&a.score))
        .then(b.evidenced().cmp(&a.evidenced()))
        .then(a.text_digest.cmp(&b.text_digest))
}

/// SHA-256 over the criteria as stored (ids, texts, kinds, weights and types) and the
/// engine version, hex: results carry it, so a change of criteria shows which are stale.
pub fn criteria_hash(criteria: &[Criterion]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(ENGINE_VERSION.as_bytes());
    hasher.update([0]);
    // Serialising a Vec of plain structs is deterministic (fields in declaration order).
    hasher.update(serde_json::to_vec(criteria).unwrap_or_default());
    hex::encode(hasher.finalize())
}

/// Screens one CV against a job's criteria. `today` ends "present" in date ranges.
pub fn screen(cv: &CvInput<'_>, criteria: &[Criterion], today: Month) -> Screening {
    let (text, flags) = read(cv);
    let results = criteria
        .iter()
        .map(|criterion| {
            let finding = if cv.text_layer {
                verdicts::judge(&criterion.effective_requirement(), &criterion.text, &text, today)
            } else {
                verdicts::Finding {
                    verdict: Verdict::Unknown,
                    spans: Vec::new(),
                    reason: "no text layer to read".into(),
                }
            };
            let mut spans = finding.spans;
            spans.sort_by_key(|s| (s.start, s.end));
            spans.dedup();
            let mut evidence: Vec<Evidence> = Vec::new();
            for span in spans {
                let quote = text.evidence(span);
                if !evidence.contains(&quote) && evidence.len() < MAX_EVIDENCE {
                    evidence.push(quote);
                }
            }
            CriterionResult {
                criterion_id: criterion.id.clone(),
                verdict: finding.verdict,
                evidence,
                reason: finding.reason,
                knockout_failed: false,
                agreement: None,
            }
        })
        .collect();
    assemble(cv, &text, flags, criteria, results, today)
}

/// A screening for a candidate who asked for a person to review their CV: read (offline) for
/// who they are and what the CV shows, but judged by no engine, scored 0 and not ranked.
pub fn manual_review(cv: &CvInput<'_>, criteria: &[Criterion], today: Month) -> Screening {
    let (text, mut flags) = read(cv);
    flags.push(Flag::ManualReviewOnly);
    let results =
        criteria.iter().map(|c| unknown(c, "the candidate asked for manual review")).collect();
    let mut screening = assemble(cv, &text, flags, criteria, results, today);
    screening.ranked = false;
    screening.recommendation = None;
    screening
}

/// What the engine reads from a CV before judging it: the text it may score from (visible,
/// with the lines addressed to an evaluator set aside) and the flags reading raised.
fn read<'a>(cv: &CvInput<'a>) -> (CvText<'a>, Vec<Flag>) {
    let mut flags = Vec::new();
    if !cv.hidden.trim().is_empty() {
        flags.push(Flag::HiddenText);
    }
    let excluded = injection::instruction_lines(cv.visible);
    if !excluded.is_empty() || !injection::instruction_lines(cv.hidden).is_empty() {
        flags.push(Flag::PromptInjectionSuspected);
    }
    if cv.encrypted {
        flags.push(Flag::Encrypted);
    }
    if !cv.text_layer {
        flags.push(Flag::NoTextLayer);
    }
    (CvText::new(cv.visible, excluded), flags)
}

/// Puts a screening together from an engine's verdicts: knockouts labelled, flags sorted and
/// the score computed here, from verdicts and weights.
fn assemble(
    cv: &CvInput<'_>,
    text: &CvText<'_>,
    mut flags: Vec<Flag>,
    criteria: &[Criterion],
    mut results: Vec<CriterionResult>,
    today: Month,
) -> Screening {
    for (criterion, result) in criteria.iter().zip(results.iter_mut()) {
        result.knockout_failed =
            criterion.kind == CriterionKind::Knockout && result.verdict == Verdict::NotMet;
    }
    if results.iter().any(|r| r.knockout_failed) {
        flags.push(Flag::KnockoutFailed);
    }
    flags.sort();
    flags.dedup();
    let scored: Vec<ScoredCriterion> = criteria
        .iter()
        .zip(&results)
        .map(|(c, r)| ScoredCriterion { kind: c.kind, weight: c.weight, verdict: r.verdict })
        .collect();
    let score = if cv.text_layer { score(&scored) } else { 0 };
    Screening {
        candidate: candidate(cv.visible),
        profile: profile(text, today),
        criteria: results,
        score,
        ranked: cv.text_layer,
        recommendation: cv.text_layer.then(|| Recommendation::for_score(score)),
        flags,
        text_digest: hex::encode(Sha256::digest(cv.visible.as_bytes())),
    }
}

/// An `unknown` verdict on `criterion`, for `reason`.
fn unknown(criterion: &Criterion, reason: &str) -> CriterionResult {
    CriterionResult {
        criterion_id: criterion.id.clone(),
        verdict: Verdict::Unknown,
        evidence: Vec::new(),
        reason: reason.to_owned(),
        knockout_failed: false,
        agreement: None,
    }
}

/// A screening for a document whose text could not be read: not ranked, every verdict
/// unknown.
pub fn unreadable(criteria: &[Criterion]) -> Screening {
    Screening {
        candidate: Candidate::default(),
        profile: Profile::default(),
        criteria: criteria.iter().map(|c| unknown(c, "the document could not be read")).collect(),
        score: 0,
        ranked: false,
        recommendation: None,
        flags: vec![Flag::ExtractionFailed],
        text_digest: String::new(),
    }
}

fn candidate(text: &str) -> Candidate {
    let mut candidate = Candidate::default();
    for contact in contacts(text) {
        let value = contact.span.quote(text).to_owned();
        match contact.kind {
            ContactKind::Name => candidate.name = candidate.name.or(Some(value)),
            ContactKind::Email => candidate.email = candidate.email.or(Some(value)),
            ContactKind::Phone => candidate.phone = candidate.phone.or(Some(value)),
            ContactKind::Link => candidate.links.push(value),
        }
    }
    candidate
}

fn profile(text: &CvText<'_>, today: Month) -> Profile {
    let visible = text.text();
    let degrees: Vec<_> =
        degree_mentions(visible).into_iter().filter(|m| text.usable(m.span)).collect();
    let best = |predicted: bool| {
        degrees.iter().filter(|m| m.predicted == predicted).map(|m| m.class).min()
    };
    let mentions: Vec<_> =
        qualification_mentions(visible).into_iter().filter(|m| text.usable(m.span)).collect();
    let mut qualifications = Vec::new();
    let mut grades = Vec::new();
    for mention in &mentions {
        if !qualifications.contains(&mention.qualification) {
            qualifications.push(mention.qualification);
        }
        if mention.qualification == Qualification::ALevel && grades.is_empty() {
            grades = a_level_grades(visible, mention);
        }
    }
    let dated: Vec<_> =
        stints(visible, today).into_iter().filter(|s| text.usable(s.span)).collect();
    let mut skills: Vec<String> = Vec::new();
    for mention in skill_mentions(visible).into_iter().filter(|m| text.usable(m.span)) {
        if !skills.iter().any(|s| s == mention.skill) {
            skills.push(mention.skill.to_owned());
        }
    }
    Profile {
        degree_class: best(false),
        predicted_degree_class: best(true),
        qualifications,
        a_level_grades: grades,
        months_experience: merged_months(&dated),
        skills,
    }
}

/// The requirement each criterion was judged as (its type, or the one read from its text),
/// for showing the recruiter what the engine understood.
pub fn interpreted(criteria: &[Criterion]) -> Vec<Requirement> {
    criteria.iter().map(Criterion::effective_requirement).collect()
}
