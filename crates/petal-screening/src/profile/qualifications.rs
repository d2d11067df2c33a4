//! UK legal and school qualifications: the LPC, SQE1 and SQE2, the GDL/PGDL (and the older
//! CPE), qualifying work experience (QWE), the BPTC/BTC, and A-levels with their grades.

use super::Span;

/// A qualification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Qualification {
    /// Legal Practice Course.
    Lpc,
    /// Solicitors Qualifying Examination, part 1.
    Sqe1,
    /// Solicitors Qualifying Examination, part 2.
    Sqe2,
    /// Graduate Diploma in Law, or its postgraduate form, or the older CPE.
    Gdl,
    /// Qualifying work experience.
    Qwe,
    /// Bar course (BPTC, BTC, BVC).
    BarCourse,
    /// An A-level.
    ALevel,
}

/// One qualification mentioned in a CV.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct QualificationMention {
    /// Which.
    pub qualification: Qualification,
    /// The words it was read from.
    pub span: Span,
}

/// Spellings, lower-cased, longest first.
const SPELLINGS: &[(&str, Qualification)] = &[
    ("solicitors qualifying examination 1", Qualification::Sqe1),
    ("solicitors qualifying examination 2", Qualification::Sqe2),
    ("graduate diploma in law", Qualification::Gdl),
    ("common professional examination", Qualification::Gdl),
    ("qualifying work experience", Qualification::Qwe),
    ("legal practice course", Qualification::Lpc),
    ("bar practice course", Qualification::BarCourse),
    ("a-levels", Qualification::ALevel),
    ("a levels", Qualification::ALevel),
    ("a-level", Qualification::ALevel),
    ("a level", Qualification::ALevel),
    ("sqe 1", Qualification::Sqe1),
    ("sqe 2", Qualification::Sqe2),
    ("sqe1", Qualification::Sqe1),
    ("sqe2", Qualification::Sqe2),
    ("pgdl", Qualification::Gdl),
    ("bptc", Qualification::BarCourse),
    ("lpc", Qualification::Lpc),
    ("gdl", Qualification::Gdl),
    ("cpe", Qualification::Gdl),
    ("qwe", Qualification::Qwe),
    ("btc", Qualification::BarCourse),
    ("bvc", Qualification::BarCourse),
];

/// Every qualification mentioned in `text`, in order of appearance.
pub fn qualification_mentions(text: &str) -> Vec<QualificationMention> {
    // ASCII folding keeps every byte offset, so spans index the original text exactly.
    let lower = text.to_ascii_lowercase();
    let word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    let mut found = Vec::new();
    let mut at = 0;
    while at < lower.len() {
        let before = lower.get(..at).and_then(|b| b.chars().next_back());
        let rest = lower.get(at..).unwrap_or_default();
        let hit = (!word(before))
            .then(|| {
                SPELLINGS.iter().find(|(spelling, _)| {
                    rest.starts_with(spelling)
                        && !word(rest.get(spelling.len()..).and_then(|r| r.chars().next()))
                })
            })
            .flatten();
        match hit {
            Some((spelling, qualification)) => {
                let span = Span { start: at, end: at + spelling.len() };
                found.push(QualificationMention { qualification: *qualification, span });
                at = span.end;
            }
            None => at += rest.chars().next().map_or(1, char::len_utf8),
        }
    }
    found
}

/// A-level grades listed after an A-level mention on the same line: "A-levels: A*AB" or
/// "A Level Law (A*), History (A)" → the grades in order, as written (`A*`, `A`, …).
pub fn a_level_grades(text: &str, mention: &QualificationMention) -> Vec<String> {
    let line = text.get(mention.span.end..).unwrap_or_default();
    let line = line.split('\n').next().unwrap_or_default();
    let mut grades = Vec::new();
    for token in line.split(|c: char| c.is_whitespace() || ",;:()".contains(c)) {
        // A run of grades such as "A*AB", or a single grade.
        let mut chars = token.chars().peekable();
        let mut run = Vec::new();
        while let Some(c) = chars.next() {
            if !"ABCDE".contains(c) {
                run.clear();
                break;
            }
            if chars.peek() == Some(&'*') {
                chars.next();
                run.push(format!("{c}*"));
            } else {
                run.push(c.to_string());
            }
        }
        grades.extend(run);
    }
    grades
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_qualification_in_its_spellings() {
        use Qualification::*;
        let text = "LPC (Distinction), SQE1 passed 2024; SQE 2 booked. PGDL, City. \
                    18 months' qualifying work experience. A-levels: A*AB";
        let found: Vec<(Qualification, &str)> = qualification_mentions(text)
            .iter()
            .map(|m| (m.qualification, m.span.quote(text)))
            .collect();
        assert_eq!(
            found,
            [
                (Lpc, "LPC"),
                (Sqe1, "SQE1"),
                (Sqe2, "SQE 2"),
                (Gdl, "PGDL"),
                (Qwe, "qualifying work experience"),
                (ALevel, "A-levels"),
            ]
        );
    }

    #[test]
    fn reads_a_level_grades_in_both_layouts() {
        let text = "A-levels: A*AB\nA Level Law (A*), History (A), French (B)";
        let mentions = qualification_mentions(text);
        assert_eq!(a_level_grades(text, &mentions[0]), ["A*", "A", "B"]);
        assert_eq!(a_level_grades(text, &mentions[1]), ["A*", "A", "B"]);
    }

    #[test]
    fn words_containing_the_letters_are_not_mentions() {
        assert!(qualification_mentions("Help clpc; the gdls; sqe12").is_empty());
    }
}
