//! A job's criteria and what each one asks for. Recruiters mostly write criteria as plain
//! sentences ("2:1 degree or above", "3–5 years' PQE in commercial litigation", "fluent
//! French"); [`interpret`] reads such a sentence into a typed [`Requirement`]. A criterion
//! may also be typed explicitly, which takes precedence.

use crate::profile::{
    DegreeClass, Qualification, degree_mentions, qualification_mentions, skill_mentions,
};
use crate::score::{CriterionKind, Weight};
use serde::{Deserialize, Serialize};

/// One criterion of a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Criterion {
    /// Its id, stable for the job's life (verdicts refer to it).
    pub id: String,
    /// The criterion as the recruiter wrote it.
    pub text: String,
    /// How it counts.
    pub kind: CriterionKind,
    /// Its weight, 1–5.
    pub weight: Weight,
    /// What it asks for, when typed explicitly; otherwise read from `text`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requirement: Option<Requirement>,
}

impl Criterion {
    /// What the criterion asks for: its explicit type, or the one read from its text.
    pub fn effective_requirement(&self) -> Requirement {
        self.requirement.clone().unwrap_or_else(|| interpret(&self.text))
    }
}

/// What a criterion asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Requirement {
    /// A skill, matched through the synonym table and any synonyms given here.
    Skill {
        /// The skill.
        skill: String,
        /// Other spellings that count.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        synonyms: Vec<String>,
    },
    /// At least this many years of dated work experience (overlapping jobs counted once),
    /// optionally in an area, which the CV must also mention.
    YearsExperience {
        /// Minimum whole years.
        minimum: u32,
        /// The area (a skill), if the criterion names one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        area: Option<String>,
    },
    /// An achieved degree of this class or better.
    DegreeClass {
        /// The lowest class that meets it.
        minimum: DegreeClass,
    },
    /// Legal qualifications, all of which are needed.
    LegalQualification {
        /// The qualifications.
        qualifications: Vec<Qualification>,
    },
    /// A language spoken fluently.
    Language {
        /// The language.
        language: String,
    },
    /// Anything else: the criterion's own words, looked for in the CV.
    FreeText,
}

/// Languages recognised in criteria and CVs (lower case).
pub(crate) const LANGUAGES: &[&str] = &[
    "arabic",
    "bengali",
    "cantonese",
    "czech",
    "danish",
    "dutch",
    "english",
    "finnish",
    "french",
    "german",
    "greek",
    "gujarati",
    "hebrew",
    "hindi",
    "hungarian",
    "irish",
    "italian",
    "japanese",
    "korean",
    "mandarin",
    "norwegian",
    "polish",
    "portuguese",
    "punjabi",
    "romanian",
    "russian",
    "spanish",
    "swedish",
    "turkish",
    "ukrainian",
    "urdu",
    "welsh",
];

/// Words that make a language mention a language requirement.
const LANGUAGE_CUES: &[&str] =
    &["fluent", "fluency", "speaker", "speaking", "spoken", "language", "bilingual", "proficient"];

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '+' || c == '-' || c == '–'))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The most years of experience a criterion can ask for.
pub const MAX_YEARS: u32 = 60;

const NUMBER_WORDS: &[&str] =
    &["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"];

/// A number written as digits ("3", "5+", "3-5" gives 3) or as a word ("three").
fn number(word: &str) -> Option<u32> {
    let first = word.split(['-', '–']).next().unwrap_or_default().trim_end_matches('+');
    first.parse().ok().or_else(|| {
        NUMBER_WORDS.iter().position(|w| *w == first).and_then(|i| u32::try_from(i + 1).ok())
    })
}

/// The minimum number of years a criterion asks for: "3–5 years' PQE", "at least 4 years",
/// "5+ yrs", "three to five years".
fn years_minimum(text: &str) -> Option<u32> {
    let words = words(text);
    words.iter().enumerate().find_map(|(i, word)| {
        if !(word.starts_with("year") || word.starts_with("yr")) {
            return None;
        }
        let before = |back: usize| i.checked_sub(back).and_then(|j| words.get(j));
        let last = number(before(1)?).filter(|n| *n <= MAX_YEARS)?;
        // "3 to 5 years": the minimum is the first number.
        match (before(2).map(String::as_str), before(3).and_then(|w| number(w))) {
            (Some("to" | "or"), Some(first)) if first <= last => Some(first),
            _ => Some(last),
        }
    })
}

/// Reads a criterion written as a sentence into what it asks for.
pub fn interpret(text: &str) -> Requirement {
    if let Some(minimum) = degree_mentions(text).iter().map(|m| m.class).min() {
        return Requirement::DegreeClass { minimum };
    }
    if let Some(minimum) = years_minimum(text) {
        let area = skill_mentions(text).first().map(|m| m.skill.to_owned());
        return Requirement::YearsExperience { minimum, area };
    }
    let mut qualifications: Vec<Qualification> = qualification_mentions(text)
        .into_iter()
        .map(|m| m.qualification)
        .filter(|q| *q != Qualification::ALevel)
        .collect();
    let words = words(text);
    if words.iter().any(|w| w == "sqe") {
        qualifications.extend([Qualification::Sqe1, Qualification::Sqe2]);
    }
    let mut unique = Vec::new();
    for q in qualifications {
        if !unique.contains(&q) {
            unique.push(q);
        }
    }
    if !unique.is_empty() {
        return Requirement::LegalQualification { qualifications: unique };
    }
    let language = words.iter().find(|w| LANGUAGES.contains(&w.as_str()));
    let cue = words.iter().any(|w| LANGUAGE_CUES.contains(&w.as_str())) || words.len() <= 2;
    if let Some(language) = language.filter(|_| cue) {
        return Requirement::Language { language: language.clone() };
    }
    if let Some(mention) = skill_mentions(text).first() {
        return Requirement::Skill { skill: mention.skill.to_owned(), synonyms: Vec::new() };
    }
    Requirement::FreeText
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_sentences_are_read_as_typed_requirements() {
        assert_eq!(
            interpret("2:1 degree or above"),
            Requirement::DegreeClass { minimum: DegreeClass::UpperSecond }
        );
        assert_eq!(
            interpret("First class honours"),
            Requirement::DegreeClass { minimum: DegreeClass::First }
        );
        assert_eq!(
            interpret("3–5 years' PQE in commercial litigation"),
            Requirement::YearsExperience { minimum: 3, area: Some("litigation".to_owned()) }
        );
        assert_eq!(
            interpret("At least three to five years of experience"),
            Requirement::YearsExperience { minimum: 3, area: None }
        );
        assert_eq!(
            interpret("5+ yrs in practice"),
            Requirement::YearsExperience { minimum: 5, area: None }
        );
        assert_eq!(
            interpret("Completed the LPC"),
            Requirement::LegalQualification { qualifications: vec![Qualification::Lpc] }
        );
        assert_eq!(
            interpret("Passed the SQE"),
            Requirement::LegalQualification {
                qualifications: vec![Qualification::Sqe1, Qualification::Sqe2]
            }
        );
        assert_eq!(interpret("Fluent French"), Requirement::Language { language: "french".into() });
        assert_eq!(
            interpret("Rust in production"),
            Requirement::Skill { skill: "rust".into(), synonyms: vec![] }
        );
        assert_eq!(
            interpret("Postgres experience"),
            Requirement::Skill { skill: "postgresql".into(), synonyms: vec![] }
        );
        assert_eq!(interpret("Enthusiasm for pro bono work"), Requirement::FreeText);
    }

    #[test]
    fn typed_requirements_take_precedence_and_round_trip() {
        let json = r#"{"id":"c1","text":"Backend","kind":"must","weight":3,
            "requirement":{"type":"skill","skill":"Rust","synonyms":["rustlang"]}}"#;
        let criterion: Criterion = serde_json::from_str(json).unwrap();
        assert_eq!(
            criterion.effective_requirement(),
            Requirement::Skill { skill: "Rust".into(), synonyms: vec!["rustlang".into()] }
        );
        let back: Criterion =
            serde_json::from_str(&serde_json::to_string(&criterion).unwrap()).unwrap();
        assert_eq!(back, criterion);
        let bad = r#"{"id":"c1","text":"x","kind":"must","weight":9}"#;
        assert!(serde_json::from_str::<Criterion>(bad).is_err());
    }
}

/// A criterion proposed from a job description, for the recruiter to confirm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Proposal {
    /// The sentence it came from.
    pub text: String,
    /// `must`, or `nice` when the sentence says so ("desirable", "ideally", …).
    pub kind: CriterionKind,
    /// 4 for what the sentence calls essential, 3 for other musts, 1 for nice-to-haves.
    pub weight: Weight,
}

const NICE_CUES: &[&str] = &[
    "desirable",
    "ideally",
    "preferred",
    "preferably",
    "nice to have",
    "bonus",
    "advantage",
    "a plus",
];
const ESSENTIAL_CUES: &[&str] = &["essential", "required", "must", "minimum", "at least"];

/// Criteria proposed from a job description: each sentence or bullet that reads as a
/// recognised requirement (degree class, experience, qualification, language, skill), at most
/// twelve, never one that refers to a protected characteristic.
pub fn propose(description: &str) -> Vec<Proposal> {
    let mut proposals: Vec<(Proposal, Requirement)> = Vec::new();
    let sentences = description
        .split(['\n', ';', '•'])
        .flat_map(|line| line.split(". "))
        .map(|s| s.trim_matches(|c: char| c.is_whitespace() || "-*–.".contains(c)));
    for sentence in sentences {
        let length = sentence.chars().count();
        if !(3..=300).contains(&length) || crate::fairness::protected_term(sentence).is_some() {
            continue;
        }
        let requirement = interpret(sentence);
        if requirement == Requirement::FreeText || proposals.iter().any(|(_, r)| *r == requirement)
        {
            continue;
        }
        let lower = sentence.to_lowercase();
        let has = |cues: &[&str]| cues.iter().any(|cue| lower.contains(cue));
        let (kind, weight) = if has(NICE_CUES) {
            (CriterionKind::Nice, 1)
        } else if has(ESSENTIAL_CUES) {
            (CriterionKind::Must, 4)
        } else {
            (CriterionKind::Must, 3)
        };
        let weight = Weight::new(weight).unwrap_or(Weight::MIN);
        proposals.push((Proposal { text: sentence.to_owned(), kind, weight }, requirement));
        if proposals.len() == 12 {
            break;
        }
    }
    proposals.into_iter().map(|(p, _)| p).collect()
}

#[cfg(test)]
mod proposal_tests {
    use super::*;

    #[test]
    fn requirements_are_proposed_from_a_description() {
        let description = "We are a friendly City firm looking for a litigator.\n\
            - A 2:1 degree or above is essential\n\
            - At least 3 years' PQE in commercial litigation\n\
            - Fluent French would be an advantage; Kubernetes is a bonus\n\
            - Aged under 30\n\
            Join our award-winning team.";
        let proposed: Vec<(String, CriterionKind, u8)> =
            propose(description).into_iter().map(|p| (p.text, p.kind, p.weight.get())).collect();
        assert_eq!(
            proposed,
            [
                ("A 2:1 degree or above is essential".to_owned(), CriterionKind::Must, 4),
                (
                    "At least 3 years' PQE in commercial litigation".to_owned(),
                    CriterionKind::Must,
                    4
                ),
                ("Fluent French would be an advantage".to_owned(), CriterionKind::Nice, 1),
                ("Kubernetes is a bonus".to_owned(), CriterionKind::Nice, 1),
            ]
        );
        assert!(propose("").is_empty());
    }
}
