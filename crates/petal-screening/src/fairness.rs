//! Fair criteria: a criterion may not ask about a protected characteristic (Equality Act 2010:
//! age, sex, race, religion or belief, disability, pregnancy and maternity, marriage and civil
//! partnership, sexual orientation, gender reassignment), and phrases that stand in for one
//! ("native speaker", "digital native", a graduation year) are flagged for the recruiter.
//!
//! Matching is on whole words, case-insensitively, so "manage" does not read as "age".
//! Ambiguous words ("white", "single", "black") are left out on purpose: "white-collar crime"
//! and "single point of contact" are ordinary criteria.

use serde::Serialize;

/// A protected characteristic a criterion referred to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProtectedTerm {
    /// The words found, as written in the criterion.
    pub term: String,
    /// The characteristic they refer to.
    pub characteristic: &'static str,
}

/// A phrase that often stands in for a protected characteristic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProxyWarning {
    /// The phrase found, as written.
    pub term: String,
    /// Why it is a concern.
    pub message: &'static str,
}

const PROTECTED: &[(&str, &str)] = &[
    ("age", "age"),
    ("aged", "age"),
    ("years old", "age"),
    ("date of birth", "age"),
    ("year of birth", "age"),
    ("sex", "sex"),
    ("gender", "sex"),
    ("male", "sex"),
    ("female", "sex"),
    ("woman", "sex"),
    ("women", "sex"),
    ("race", "race"),
    ("racial", "race"),
    ("ethnic", "race"),
    ("ethnicity", "race"),
    ("nationality", "race"),
    ("skin colour", "race"),
    ("skin color", "race"),
    ("religion", "religion or belief"),
    ("religious", "religion or belief"),
    ("christian", "religion or belief"),
    ("muslim", "religion or belief"),
    ("jewish", "religion or belief"),
    ("hindu", "religion or belief"),
    ("sikh", "religion or belief"),
    ("buddhist", "religion or belief"),
    ("atheist", "religion or belief"),
    ("disability", "disability"),
    ("disabled", "disability"),
    ("able-bodied", "disability"),
    ("pregnant", "pregnancy and maternity"),
    ("pregnancy", "pregnancy and maternity"),
    ("maternity", "pregnancy and maternity"),
    ("marital", "marriage and civil partnership"),
    ("married", "marriage and civil partnership"),
    ("unmarried", "marriage and civil partnership"),
    ("civil partnership", "marriage and civil partnership"),
    ("sexual orientation", "sexual orientation"),
    ("heterosexual", "sexual orientation"),
    ("homosexual", "sexual orientation"),
    ("gay", "sexual orientation"),
    ("lesbian", "sexual orientation"),
    ("bisexual", "sexual orientation"),
    ("transgender", "gender reassignment"),
    ("gender reassignment", "gender reassignment"),
];

const PROXIES: &[(&str, &str)] = &[
    ("native speaker", "may exclude by race or national origin: ask for fluency instead"),
    ("native english", "may exclude by race or national origin: ask for fluency instead"),
    ("native french", "may exclude by race or national origin: ask for fluency instead"),
    ("mother tongue", "may exclude by race or national origin: ask for fluency instead"),
    ("graduation year", "stands in for age: ask for the qualification instead"),
    ("graduated in", "stands in for age: ask for the qualification instead"),
    ("graduated after", "stands in for age: ask for the qualification instead"),
    ("recent graduate", "stands in for age: ask for the skills instead"),
    ("young", "stands in for age"),
    ("youthful", "stands in for age"),
    ("digital native", "stands in for age: ask for the digital skills instead"),
    ("no more than", "a maximum of experience stands in for age"),
    ("maximum of", "a maximum of experience stands in for age"),
    ("overqualified", "stands in for age"),
];

/// Byte offsets of every whole-word, case-insensitive occurrence of `phrase` (lower-case
/// ASCII) in `text`.
pub(crate) fn find_words(text: &str, phrase: &str) -> Vec<usize> {
    // ASCII folding keeps byte offsets, so matches index the original text.
    let lower = text.to_ascii_lowercase();
    let word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = lower.get(from..).and_then(|rest| rest.find(phrase)) {
        let start = from + at;
        let end = start + phrase.len();
        let before = lower.get(..start).and_then(|b| b.chars().next_back());
        let after = lower.get(end..).and_then(|a| a.chars().next());
        if !word(before) && !word(after) {
            found.push(start);
        }
        from = start + phrase.len().max(1);
    }
    found
}

fn first_match<'a, T>(text: &str, table: &'a [(&'a str, T)]) -> Option<(String, &'a T)> {
    table.iter().find_map(|(phrase, value)| {
        let start = *find_words(text, phrase).first()?;
        Some((text.get(start..start + phrase.len())?.to_owned(), value))
    })
}

/// The protected characteristic `text` refers to, if any.
pub fn protected_term(text: &str) -> Option<ProtectedTerm> {
    first_match(text, PROTECTED)
        .map(|(term, characteristic)| ProtectedTerm { term, characteristic })
}

/// Every proxy phrase in `text`.
pub fn proxy_warnings(text: &str) -> Vec<ProxyWarning> {
    PROXIES
        .iter()
        .filter_map(|(phrase, message)| {
            let start = *find_words(text, phrase).first()?;
            Some(ProxyWarning { term: text.get(start..start + phrase.len())?.to_owned(), message })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protected_characteristics_are_found_as_words() {
        let term = protected_term("Candidates aged 25-35 only").unwrap();
        assert_eq!((term.term.as_str(), term.characteristic), ("aged", "age"));
        assert_eq!(protected_term("Must be MALE").unwrap().characteristic, "sex");
        assert_eq!(
            protected_term("No pregnancy plans").unwrap().characteristic,
            "pregnancy and maternity"
        );
        assert_eq!(
            protected_term("Practising Christian").unwrap().characteristic,
            "religion or belief"
        );
        assert_eq!(protected_term("married, with references").unwrap().term, "married");
    }

    #[test]
    fn ordinary_criteria_pass() {
        for text in [
            "Manage a caseload of commercial disputes",
            "2:1 degree or above",
            "White-collar crime experience",
            "Single point of contact for clients",
            "3-5 years' PQE in commercial litigation",
            "Fluent French",
            "Engaged with pro bono work",
        ] {
            assert_eq!(protected_term(text), None, "{text}");
            assert!(proxy_warnings(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn proxies_are_warned_about() {
        let warnings = proxy_warnings("Young, energetic digital native; native speaker of English");
        let terms: Vec<&str> = warnings.iter().map(|w| w.term.as_str()).collect();
        assert_eq!(terms, ["native speaker", "Young", "digital native"]);
    }
}
