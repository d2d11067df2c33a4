//! UK degree classifications in the spellings CVs use — "First", "1st", "2:1", "2.1",
//! "2(i)", "II.i", "upper second", "2:2", "lower second", "Third", "Pass" — and whether the
//! class is predicted (expected, anticipated, on track for) or achieved.

use super::Span;

/// A UK undergraduate degree classification.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum DegreeClass {
    /// First-class honours.
    First,
    /// Upper second-class honours (2:1).
    UpperSecond,
    /// Lower second-class honours (2:2).
    LowerSecond,
    /// Third-class honours.
    Third,
    /// An ordinary degree (pass).
    Pass,
}

/// One mention of a degree class in a CV.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DegreeMention {
    /// The class.
    pub class: DegreeClass,
    /// Whether the text says it is predicted rather than achieved.
    pub predicted: bool,
    /// The words it was read from.
    pub span: Span,
}

/// Spellings, lower-cased, longest first so that "first class honours" wins over "first".
const SPELLINGS: &[(&str, DegreeClass)] = &[
    ("upper second class", DegreeClass::UpperSecond),
    ("lower second class", DegreeClass::LowerSecond),
    ("upper second", DegreeClass::UpperSecond),
    ("lower second", DegreeClass::LowerSecond),
    ("first class", DegreeClass::First),
    ("first-class", DegreeClass::First),
    ("third class", DegreeClass::Third),
    ("third-class", DegreeClass::Third),
    ("2(ii)", DegreeClass::LowerSecond),
    ("2(i)", DegreeClass::UpperSecond),
    ("ii.ii", DegreeClass::LowerSecond),
    ("ii.i", DegreeClass::UpperSecond),
    ("ii:ii", DegreeClass::LowerSecond),
    ("ii:i", DegreeClass::UpperSecond),
    ("2:1", DegreeClass::UpperSecond),
    ("2.1", DegreeClass::UpperSecond),
    ("2:2", DegreeClass::LowerSecond),
    ("2.2", DegreeClass::LowerSecond),
    ("2ii", DegreeClass::LowerSecond),
    ("2i", DegreeClass::UpperSecond),
    ("1st", DegreeClass::First),
    ("3rd", DegreeClass::Third),
];

/// Words that, shortly before a class, make it a prediction.
const PREDICTED: [&str; 6] =
    ["predicted", "expected", "anticipated", "on track for", "forecast", "projected"];

/// Bare words that name a class only next to degree vocabulary ("First" alone is too common).
const BARE: &[(&str, DegreeClass)] =
    &[("first", DegreeClass::First), ("third", DegreeClass::Third), ("pass", DegreeClass::Pass)];

/// Words that show a bare class word is about a degree.
const DEGREE_WORDS: [&str; 9] =
    ["hons", "honours", "honors", "degree", "llb", "ba ", "bsc", "ma ", "class"];

fn is_boundary(text: &str, at: usize) -> bool {
    text.get(at..).and_then(|rest| rest.chars().next()).is_none_or(|c| !c.is_alphanumeric())
}

fn is_start_boundary(text: &str, at: usize) -> bool {
    text.get(..at)
        .and_then(|before| before.chars().next_back())
        .is_none_or(|c| !c.is_alphanumeric())
}

/// Every degree class mentioned in `text`, in order of appearance.
pub fn degree_mentions(text: &str) -> Vec<DegreeMention> {
    // ASCII folding keeps every byte offset, so spans index the original text exactly.
    let lower = text.to_ascii_lowercase();
    let mut mentions = Vec::new();
    let mut at = 0;
    while at < lower.len() {
        if !lower.is_char_boundary(at) || !is_start_boundary(&lower, at) {
            at += 1;
            continue;
        }
        let rest = lower.get(at..).unwrap_or_default();
        let found = SPELLINGS
            .iter()
            .find(|(spelling, _)| {
                rest.starts_with(spelling) && is_boundary(&lower, at + spelling.len())
            })
            .or_else(|| {
                BARE.iter().find(|(word, _)| {
                    rest.starts_with(word)
                        && is_boundary(&lower, at + word.len())
                        && near_degree_words(&lower, at, word.len())
                })
            });
        match found {
            Some((spelling, class)) => {
                let span = Span { start: at, end: at + spelling.len() };
                mentions.push(DegreeMention {
                    class: *class,
                    predicted: predicted(&lower, at),
                    span,
                });
                at = span.end;
            }
            None => at += 1,
        }
    }
    mentions
}

/// Whether degree vocabulary appears within the same line, around the word.
fn near_degree_words(lower: &str, at: usize, len: usize) -> bool {
    let line_start = lower.get(..at).and_then(|b| b.rfind('\n')).map_or(0, |i| i + 1);
    let line_end =
        lower.get(at + len..).and_then(|a| a.find('\n')).map_or(lower.len(), |i| at + len + i);
    let line = format!("{} ", lower.get(line_start..line_end).unwrap_or_default());
    DEGREE_WORDS.iter().any(|word| line.contains(word))
}

/// Whether a prediction word comes shortly before `at`, on the same line.
fn predicted(lower: &str, at: usize) -> bool {
    let mut from = at.saturating_sub(40);
    while !lower.is_char_boundary(from) {
        from += 1;
    }
    let before = lower.get(from..at).unwrap_or_default();
    let before = before.rsplit('\n').next().unwrap_or_default();
    PREDICTED.iter().any(|word| before.contains(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes(text: &str) -> Vec<(DegreeClass, bool, &str)> {
        degree_mentions(text)
            .into_iter()
            .map(|m| (m.class, m.predicted, m.span.quote(text)))
            .collect()
    }

    #[test]
    fn every_spelling_of_each_class() {
        use DegreeClass::*;
        for (text, class) in [
            ("LLB (Hons) 2:1", UpperSecond),
            ("BA Law 2.1", UpperSecond),
            ("BA Law 2(i)", UpperSecond),
            ("BA Law II.i", UpperSecond),
            ("Upper Second Class Honours", UpperSecond),
            ("BSc 2:2", LowerSecond),
            ("BSc 2(ii)", LowerSecond),
            ("Lower second", LowerSecond),
            ("First Class Honours", First),
            ("LLB (Hons), First", First),
            ("1st class degree", First),
            ("Third Class Honours", Third),
            ("BA (Hons) 3rd", Third),
            ("Ordinary degree: Pass", Pass),
        ] {
            let found = classes(text);
            assert_eq!(found.len(), 1, "{text}: {found:?}");
            assert_eq!(found[0].0, class, "{text}");
        }
    }

    #[test]
    fn quotes_are_exact_and_predictions_are_told_apart() {
        let text = "LLB Law, University of Leeds — predicted 2:1\nBA History, First Class Honours";
        assert_eq!(
            classes(text),
            [(DegreeClass::UpperSecond, true, "2:1"), (DegreeClass::First, false, "First Class")]
        );
    }

    #[test]
    fn ordinary_words_and_numbers_are_not_classes() {
        assert!(
            classes("First, I led the team. I passed my driving test. Version 2.10 shipped.")
                .is_empty()
        );
        assert!(classes("Ratio 12:1 and 2:15pm").is_empty());
    }
}
