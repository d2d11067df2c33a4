//! Work history dates: ranges such as "Jan 2019 – Mar 2021", "September 2015 to July 2017",
//! "09/2018 - 06/2020", "2016–2018" or "2021 – present", and the total time they cover with
//! overlapping jobs merged (two jobs held at once count once).

use super::Span;

/// A calendar month, counted from year 0 (`year * 12 + month - 1`), so ranges subtract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Month(pub u32);

impl Month {
    /// The month `month` (1–12) of `year`.
    pub fn new(year: u32, month: u32) -> Option<Month> {
        (1..=12).contains(&month).then(|| Month(year * 12 + month - 1))
    }
}

/// One dated stint of work: from its first month to its last, both included.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Stint {
    /// First month.
    pub from: Month,
    /// Last month (the current month for "present").
    pub to: Month,
    /// The date range as written.
    pub span: Span,
}

const MONTHS: [&str; 12] =
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const PRESENT: [&str; 5] = ["present", "current", "now", "date", "ongoing"];

/// A date token: a month and year, or a year alone (`month` is `None`).
struct Date {
    year: u32,
    month: Option<u32>,
    end: usize,
}

/// Reads a date at the start of `text[at..]`, if there is one.
fn date(lower: &str, at: usize) -> Option<Date> {
    let rest = lower.get(at..)?;
    // "Sep 2018", "September 2018", "Sept. 2018"
    if let Some(index) = MONTHS.iter().position(|m| rest.starts_with(m)) {
        let word_len =
            rest.chars().take_while(|c| c.is_alphabetic()).map(char::len_utf8).sum::<usize>();
        let after = rest.get(word_len..)?;
        let skipped = after.len() - after.trim_start_matches(['.', ' ', ',']).len();
        let year = year(lower, at + word_len + skipped)?;
        return Some(Date { year: year.0, month: Some(index as u32 + 1), end: year.1 });
    }
    // "09/2018", "9.2018"
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    if (1..=2).contains(&digits.len()) && rest.get(digits.len()..)?.starts_with(['/', '.']) {
        let month: u32 = digits.parse().ok()?;
        let year = year(lower, at + digits.len() + 1)?;
        return (1..=12).contains(&month).then_some(Date {
            year: year.0,
            month: Some(month),
            end: year.1,
        });
    }
    let (y, end) = year(lower, at)?;
    Some(Date { year: y, month: None, end })
}

/// A four-digit year from 1950 to 2099 at `at`, not part of a longer number.
fn year(lower: &str, at: usize) -> Option<(u32, usize)> {
    let digits = lower.get(at..at + 4)?;
    let value: u32 = digits.parse().ok().filter(|_| digits.bytes().all(|b| b.is_ascii_digit()))?;
    let next_is_digit =
        lower.get(at + 4..).and_then(|r| r.chars().next()).is_some_and(|c| c.is_ascii_digit());
    ((1950..=2099).contains(&value) && !next_is_digit).then_some((value, at + 4))
}

/// Every date range in `text`, in order; "present" ends at `today`.
pub fn stints(text: &str, today: Month) -> Vec<Stint> {
    let lower = text.to_ascii_lowercase();
    let mut found = Vec::new();
    let mut at = 0;
    while at < lower.len() {
        let starts_word = lower
            .get(..at)
            .and_then(|b| b.chars().next_back())
            .is_none_or(|c| !c.is_alphanumeric());
        let Some(first) = starts_word.then(|| date(&lower, at)).flatten() else {
            at += lower.get(at..).and_then(|r| r.chars().next()).map_or(1, char::len_utf8);
            continue;
        };
        let Some((to, end)) = range_end(&lower, first.end, today) else {
            at = first.end;
            continue;
        };
        let from = Month::new(first.year, first.month.unwrap_or(1));
        // A year alone ends in December, unless it is this year.
        if let Some(from) = from.filter(|from| *from <= to) {
            found.push(Stint { from, to, span: Span { start: at, end } });
        }
        at = end;
    }
    found
}

/// After a first date: a dash or "to", then a second date or "present".
fn range_end(lower: &str, at: usize, today: Month) -> Option<(Month, usize)> {
    let rest = lower.get(at..)?;
    let trimmed = rest.trim_start();
    let separator = ["–", "—", "-", "to", "until"].iter().find(|s| trimmed.starts_with(*s))?;
    let after = trimmed.get(separator.len()..)?;
    let start = at + (rest.len() - after.len()) + (after.len() - after.trim_start().len());
    let tail = lower.get(start..)?;
    if let Some(word) = PRESENT.iter().find(|w| tail.starts_with(*w)) {
        return Some((today, start + word.len()));
    }
    let second = date(lower, start)?;
    let month = Month::new(second.year, second.month.unwrap_or(12))?;
    Some((month.min(today), second.end))
}

/// Months covered by `stints`, counting any month once however many jobs overlap it.
pub fn merged_months(stints: &[Stint]) -> u32 {
    let mut ranges: Vec<(u32, u32)> = stints.iter().map(|s| (s.from.0, s.to.0)).collect();
    ranges.sort_unstable();
    let mut total = 0;
    let mut current: Option<(u32, u32)> = None;
    for (from, to) in ranges {
        current = match current {
            Some((start, end)) if from <= end + 1 => Some((start, end.max(to))),
            Some((start, end)) => {
                total += end - start + 1;
                Some((from, to))
            }
            None => Some((from, to)),
        };
    }
    total + current.map_or(0, |(start, end)| end - start + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Month {
        Month::new(2026, 12).unwrap()
    }

    #[test]
    fn reads_ranges_in_their_usual_spellings() {
        let text = "Paralegal, Jan 2019 – Mar 2021\nTrainee, September 2015 to July 2017\n\
                    Clerk 09/2012 - 06/2014\nVolunteer 2010-2011\nAssociate, Apr 2024 - present";
        let found: Vec<(&str, u32, u32)> =
            stints(text, today()).iter().map(|s| (s.span.quote(text), s.from.0, s.to.0)).collect();
        let m = |y, mo| Month::new(y, mo).unwrap().0;
        assert_eq!(
            found,
            [
                ("Jan 2019 – Mar 2021", m(2019, 1), m(2021, 3)),
                ("September 2015 to July 2017", m(2015, 9), m(2017, 7)),
                ("09/2012 - 06/2014", m(2012, 9), m(2014, 6)),
                ("2010-2011", m(2010, 1), m(2011, 12)),
                ("Apr 2024 - present", m(2024, 4), m(2026, 12)),
            ]
        );
    }

    #[test]
    fn overlapping_jobs_count_once() {
        let text = "A: Jan 2018 - Dec 2019\nB: Jun 2019 - Jun 2020\nC: Jan 2022 - Dec 2022";
        let found = stints(text, today());
        // 2018-01..2020-06 is 30 months, plus 12.
        assert_eq!(merged_months(&found), 42);
        assert_eq!(merged_months(&[]), 0);
    }

    #[test]
    fn numbers_that_are_not_ranges_are_ignored() {
        assert!(
            stints("Call 0113 496 0000; 120-140 words per minute; 3000-4000 clients", today())
                .is_empty()
        );
        assert!(stints("Backwards 2020 - 2018", today()).is_empty());
    }
}
