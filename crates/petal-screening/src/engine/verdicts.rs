//! One verdict per requirement, from facts parsed out of the CV. Every verdict other than
//! `unknown` rests on spans of the visible text; a CV that says nothing about a requirement
//! gets `unknown`, which earns nothing.

use super::text::CvText;
use crate::criteria::Requirement;
use crate::fairness::find_words;
use crate::profile::{
    DegreeClass, Month, Span, degree_mentions, merged_months, qualification_mentions,
    skill_mentions, stints,
};
use crate::score::Verdict;

/// A verdict, the spans it rests on, and a short reason in words.
pub(crate) struct Finding {
    pub verdict: Verdict,
    pub spans: Vec<Span>,
    pub reason: String,
}

impl Finding {
    fn unknown(reason: impl Into<String>) -> Self {
        Self { verdict: Verdict::Unknown, spans: Vec::new(), reason: reason.into() }
    }
}

/// Judges one requirement against the CV.
pub(crate) fn judge(
    requirement: &Requirement,
    criterion: &str,
    cv: &CvText<'_>,
    today: Month,
) -> Finding {
    match requirement {
        Requirement::DegreeClass { minimum } => degree(*minimum, cv),
        Requirement::YearsExperience { minimum, area } => {
            years(*minimum, area.as_deref(), cv, today)
        }
        Requirement::LegalQualification { qualifications } => {
            let found: Vec<_> = qualification_mentions(cv.text())
                .into_iter()
                .filter(|m| cv.usable(m.span) && qualifications.contains(&m.qualification))
                .collect();
            let held = qualifications
                .iter()
                .filter(|q| found.iter().any(|m| m.qualification == **q))
                .count();
            let spans = found.iter().map(|m| m.span).collect();
            match held {
                0 => Finding::unknown("no mention of the qualification"),
                n if n == qualifications.len() => Finding {
                    verdict: Verdict::Met,
                    spans,
                    reason: "qualification mentioned".into(),
                },
                n => Finding {
                    verdict: Verdict::Partial,
                    spans,
                    reason: format!("{n} of {} qualifications mentioned", qualifications.len()),
                },
            }
        }
        Requirement::Language { language } => language_level(language, cv),
        Requirement::Skill { skill, synonyms } => {
            let spans = skill_spans(skill, synonyms, cv);
            if spans.is_empty() {
                Finding::unknown(format!("no mention of {skill}"))
            } else {
                Finding { verdict: Verdict::Met, spans, reason: format!("{skill} mentioned") }
            }
        }
        Requirement::FreeText => free_text(criterion, cv),
    }
}

/// Free text: the criterion's own content words, looked for in the CV.
fn free_text(criterion: &str, cv: &CvText<'_>) -> Finding {
    let keywords = keywords(criterion);
    if keywords.is_empty() {
        return Finding::unknown("the criterion has no words to look for");
    }
    let mut spans = Vec::new();
    let mut found = 0;
    for keyword in &keywords {
        let hits: Vec<Span> = find_words(cv.text(), keyword)
            .into_iter()
            .map(|start| Span { start, end: start + keyword.len() })
            .filter(|span| cv.usable(*span))
            .collect();
        if let Some(first) = hits.first() {
            found += 1;
            spans.push(*first);
        }
    }
    let reason = format!("{found} of {} key words found", keywords.len());
    let verdict = if found == keywords.len() {
        Verdict::Met
    } else if found * 2 >= keywords.len() && found > 0 {
        Verdict::Partial
    } else {
        return Finding::unknown(reason);
    };
    Finding { verdict, spans, reason }
}

const STOP_WORDS: &[&str] = &[
    "and",
    "the",
    "for",
    "with",
    "from",
    "into",
    "that",
    "this",
    "have",
    "has",
    "are",
    "was",
    "were",
    "our",
    "your",
    "their",
    "able",
    "ability",
    "must",
    "should",
    "would",
    "strong",
    "good",
    "excellent",
    "experience",
    "experienced",
    "knowledge",
    "skills",
    "skill",
    "work",
    "working",
    "proven",
    "demonstrable",
    "demonstrated",
    "some",
    "any",
    "all",
    "least",
    "more",
    "than",
    "well",
    "very",
    "plus",
    "ideally",
    "preferably",
    "desirable",
    "essential",
    "in",
    "of",
    "to",
    "a",
    "an",
    "or",
    "on",
    "at",
    "by",
    "be",
    "as",
    "is",
];

/// Lower-case content words (three letters or more, not stop words), each once.
fn keywords(text: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for word in text.split(|c: char| !c.is_alphanumeric()) {
        let word = word.to_ascii_lowercase();
        if word.chars().count() >= 3
            && !STOP_WORDS.contains(&word.as_str())
            && !words.contains(&word)
        {
            words.push(word);
        }
    }
    words
}

fn degree(minimum: DegreeClass, cv: &CvText<'_>) -> Finding {
    let mentions: Vec<_> =
        degree_mentions(cv.text()).into_iter().filter(|m| cv.usable(m.span)).collect();
    // Classes order from First (best) to Pass, so "at least the minimum" is `<=`.
    let best = |predicted: bool| {
        mentions.iter().filter(|m| m.predicted == predicted).min_by_key(|m| (m.class, m.span.start))
    };
    match (best(false), best(true)) {
        (Some(achieved), _) if achieved.class <= minimum => Finding {
            verdict: Verdict::Met,
            spans: vec![achieved.span],
            reason: "degree class achieved".into(),
        },
        (_, Some(predicted)) if predicted.class <= minimum => Finding {
            verdict: Verdict::Partial,
            spans: vec![predicted.span],
            reason: "degree class predicted, not yet achieved".into(),
        },
        (Some(achieved), _) => Finding {
            verdict: Verdict::NotMet,
            spans: vec![achieved.span],
            reason: "degree class below the minimum".into(),
        },
        (None, Some(predicted)) => Finding {
            verdict: Verdict::NotMet,
            spans: vec![predicted.span],
            reason: "predicted degree class below the minimum".into(),
        },
        (None, None) => Finding::unknown("no degree class mentioned"),
    }
}

fn years(minimum: u32, area: Option<&str>, cv: &CvText<'_>, today: Month) -> Finding {
    let dated: Vec<_> =
        stints(cv.text(), today).into_iter().filter(|s| cv.usable(s.span)).collect();
    if dated.is_empty() {
        return Finding::unknown("no dated work history");
    }
    let months = merged_months(&dated);
    let spans: Vec<Span> = dated.iter().map(|s| s.span).collect();
    let described = format!("{} years {} months of dated experience", months / 12, months % 12);
    let wanted = minimum.saturating_mul(12);
    let verdict = if months >= wanted {
        Verdict::Met
    } else if months.saturating_mul(2) >= wanted {
        Verdict::Partial
    } else {
        Verdict::NotMet
    };
    match area {
        Some(area) if verdict == Verdict::Met && skill_spans(area, &[], cv).is_empty() => Finding {
            verdict: Verdict::Partial,
            spans,
            reason: format!("{described}, none of it shown to be in {area}"),
        },
        _ => Finding { verdict, spans, reason: described },
    }
}

/// Spans naming `skill`: through the synonym table, the criterion's own synonyms, or the
/// skill's own words.
fn skill_spans(skill: &str, synonyms: &[String], cv: &CvText<'_>) -> Vec<Span> {
    let canonical = skill.to_lowercase();
    let mut spans: Vec<Span> = skill_mentions(cv.text())
        .into_iter()
        .filter(|m| m.skill.eq_ignore_ascii_case(&canonical))
        .map(|m| m.span)
        .collect();
    for spelling in std::iter::once(&canonical).chain(synonyms.iter()) {
        let spelling = spelling.to_ascii_lowercase();
        if spelling.is_empty() {
            continue;
        }
        spans.extend(
            find_words(cv.text(), &spelling)
                .into_iter()
                .map(|start| Span { start, end: start + spelling.len() }),
        );
    }
    spans.retain(|span| cv.usable(*span));
    spans.sort_by_key(|s| (s.start, s.end));
    spans.dedup_by_key(|s| s.start);
    spans
}

const FLUENT: &[&str] = &[
    "fluent",
    "fluency",
    "native",
    "bilingual",
    "proficient",
    "advanced",
    "c1",
    "c2",
    "professional working",
    "full professional",
    "mother tongue",
];
const BASIC: &[&str] = &["basic", "beginner", "elementary", "a1", "a2", "rudimentary"];

fn language_level(language: &str, cv: &CvText<'_>) -> Finding {
    let language = language.to_ascii_lowercase();
    let text = cv.text();
    let mentions: Vec<Span> = skill_spans(&language, &[], cv);
    let line_of = |span: &Span| {
        let start = text.get(..span.start).and_then(|b| b.rfind('\n')).map_or(0, |i| i + 1);
        let end =
            text.get(span.end..).and_then(|a| a.find('\n')).map_or(text.len(), |i| span.end + i);
        text.get(start..end).unwrap_or_default()
    };
    let level = |span: &Span, words: &[&str]| {
        words.iter().any(|w| !find_words(line_of(span), w).is_empty())
    };
    if let Some(span) = mentions.iter().find(|s| level(s, FLUENT)) {
        return Finding { verdict: Verdict::Met, spans: vec![*span], reason: "fluent".into() };
    }
    if let Some(span) = mentions.iter().find(|s| level(s, BASIC)) {
        return Finding {
            verdict: Verdict::NotMet,
            spans: vec![*span],
            reason: "basic level only".into(),
        };
    }
    match mentions.first() {
        Some(span) => Finding {
            verdict: Verdict::Partial,
            spans: vec![*span],
            reason: "language mentioned, level not stated".into(),
        },
        None => Finding::unknown(format!("no mention of {language}")),
    }
}
