//! Contact details and identity markers: the candidate's name (the CV's first line that reads
//! as a name), email addresses, UK and international phone numbers, and links (LinkedIn,
//! GitHub, personal sites). Each comes with the span it was read from, so it can be quoted,
//! pseudonymised before text leaves for a remote engine, or hidden in blind review.

use super::Span;

/// What kind of contact detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactKind {
    /// The candidate's name.
    Name,
    /// An email address.
    Email,
    /// A telephone number.
    Phone,
    /// A web link.
    Link,
}

/// One contact detail found in a CV.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Contact {
    /// What it is.
    pub kind: ContactKind,
    /// Where it is.
    pub span: Span,
}

/// Every contact detail in `text`, ordered by position.
pub fn contacts(text: &str) -> Vec<Contact> {
    let mut found = Vec::new();
    if let Some(span) = name(text) {
        found.push(Contact { kind: ContactKind::Name, span });
    }
    let tokens_found = tokens(text)
        .filter_map(|(start, token)| {
            // Punctuation around a token, and a label glued to it ("(jane@x.test)", "<…>",
            // "mailto:…", "Email:…").
            let front = token.trim_start_matches(['(', '<', '[', '"', '\'', '{', '‘', '’']);
            let label = match front.split_once(':') {
                Some((word, rest))
                    if !word.is_empty()
                        && word.chars().all(|c| c.is_alphabetic() || c == '-')
                        && !rest.starts_with("//") =>
                {
                    word.len() + 1
                }
                _ => 0,
            };
            let front = front.get(label..).unwrap_or_default();
            let start = start + (token.len() - front.len());
            let trimmed =
                front.trim_end_matches(['.', ',', ';', ':', ')', ']', '>', '"', '\'', '}', '’']);
            let span = Span { start, end: start + trimmed.len() };
            if is_email(trimmed) {
                Some((Contact { kind: ContactKind::Email, span }, Certainty::Sure))
            } else {
                link_kind(trimmed).map(|sure| (Contact { kind: ContactKind::Link, span }, sure))
            }
        })
        .collect::<Vec<_>>();
    found.extend(phones(text).into_iter().map(|span| Contact { kind: ContactKind::Phone, span }));
    // A bare domain counts when it shares its line with other contact details.
    let sure: Vec<Span> = found
        .iter()
        .map(|c| c.span)
        .chain(tokens_found.iter().filter(|(_, k)| *k == Certainty::Sure).map(|(c, _)| c.span))
        .collect();
    for (contact, kind) in tokens_found {
        let line = line_of(text, contact.span);
        let beside =
            sure.iter().any(|s| s.start >= line.start && s.end <= line.end && *s != contact.span);
        if kind == Certainty::Sure || beside {
            found.push(contact);
        }
    }
    found.sort_by_key(|c| (c.span.start, c.span.end));
    found
}

/// The line holding `span`, as a byte range.
fn line_of(text: &str, span: Span) -> Span {
    let start = text.get(..span.start).and_then(|b| b.rfind('\n')).map_or(0, |i| i + 1);
    let end = text.get(span.end..).and_then(|a| a.find('\n')).map_or(text.len(), |i| span.end + i);
    Span { start, end }
}

/// Characters that separate contact details as whitespace does ("Leeds·jane@x.test|…").
const SEPARATORS: [char; 9] = ['·', '|', '•', ';', ',', '«', '»', '“', '”'];

/// Tokens separated by whitespace or [`SEPARATORS`], with their byte offsets.
fn tokens(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split(|c: char| c.is_whitespace() || SEPARATORS.contains(&c))
        .filter(|token| !token.is_empty())
        .map(move |token| (token.as_ptr() as usize - text.as_ptr() as usize, token))
}

fn is_email(token: &str) -> bool {
    let Some((local, domain)) = token.split_once('@') else { return false };
    let local_ok =
        !local.is_empty() && local.chars().all(|c| c.is_alphanumeric() || "._%+-'".contains(c));
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain.chars().all(|c| c.is_alphanumeric() || c == '.' || c == '-');
    local_ok && domain_ok
}

/// Sites whose addresses name a person.
const PROFILE_SITES: [&str; 9] = [
    "linkedin.com/",
    "github.com/",
    "gitlab.com/",
    "twitter.com/",
    "x.com/",
    "medium.com/",
    "about.me/",
    "behance.net/",
    "stackoverflow.com/users",
];
/// Top-level domains of personal sites written without `http://` or `www.`.
const SITE_DOMAINS: [&str; 14] = [
    "com", "org", "net", "io", "dev", "me", "uk", "app", "ai", "co", "info", "site", "page", "blog",
];

/// How surely a token is a contact detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Certainty {
    /// An email address, a URL or a profile address.
    Sure,
    /// A bare domain ("janemarlowe.dev"), which may also be a skill or a company ("socket.io",
    /// "booking.com"): a link only with a path, or beside other contact details.
    BareDomain,
}

fn link_kind(token: &str) -> Option<Certainty> {
    // Every link has a dot; most words do not, and are passed over cheaply.
    if !token.contains('.') {
        return None;
    }
    let lower = token.to_ascii_lowercase();
    if lower.starts_with("http://")
        || lower.starts_with("https://")
        || lower.starts_with("www.")
        || PROFILE_SITES.iter().any(|site| {
            // Not inside another host name ("box.com/" is not "x.com/").
            lower.match_indices(site).any(|(at, _)| {
                lower.get(..at).and_then(|b| b.chars().last()).is_none_or(|c| !c.is_alphanumeric())
            })
        })
    {
        return Some(Certainty::Sure);
    }
    // A bare domain ("janemarlowe.dev", "jm.co.uk/cv"), written in lower case (so that
    // "ASP.NET" stays a skill).
    let (host, path) = token.split_once('/').unwrap_or((token, ""));
    let labels: Vec<&str> = host.split('.').collect();
    let domain = token == lower
        && labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        && labels.last().is_some_and(|tld| SITE_DOMAINS.contains(tld));
    match (domain, path.is_empty()) {
        (false, _) => None,
        (true, false) => Some(Certainty::Sure),
        (true, true) => Some(Certainty::BareDomain),
    }
}

/// Phone numbers: a `+` or `0`, then 9 to 13 digits with spaces, dashes, dots or brackets
/// between them.
fn phones(text: &str) -> Vec<Span> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let starts = matches!(bytes.get(i), Some(b'+' | b'0' | b'('))
            && (i == 0 || !bytes.get(i - 1).is_some_and(|b| b.is_ascii_alphanumeric()));
        if !starts {
            i += 1;
            continue;
        }
        let mut j = i;
        let mut digits = 0;
        let mut last_digit = i;
        while let Some(&b) = bytes.get(j) {
            if b.is_ascii_digit() {
                digits += 1;
                last_digit = j;
            } else {
                let separator = b" -.()".contains(&b) || (b == b'+' && j == i);
                // Two spaces in a row end a number (columns of figures are not one number),
                // unless they split one where UK numbers split ("07700  900123").
                let gap = b == b' '
                    && bytes.get(j + 1) == Some(&b' ')
                    && !((4..=6).contains(&digits)
                        && bytes.get(j + 2).is_some_and(u8::is_ascii_digit));
                if !separator || gap {
                    break;
                }
            }
            j += 1;
        }
        let leading_ok = bytes.get(i) == Some(&b'+')
            || bytes.get(i) == Some(&b'0')
            || bytes.get(i + 1) == Some(&b'0')
            || bytes.get(i + 1) == Some(&b'+');
        let after = bytes.get(last_digit + 1).copied();
        if (9..=13).contains(&digits)
            && leading_ok
            && !after.is_some_and(|b| b.is_ascii_alphanumeric())
        {
            found.push(Span { start: i, end: last_digit + 1 });
            i = last_digit + 1;
        } else {
            i = j.max(i + 1);
        }
    }
    found
}

/// Heading words that open a CV and are not part of the name.
const HEADINGS: [&str; 5] = ["curriculum", "vitae", "resume", "résumé", "cv"];
/// Words of a heading or a job title at the top of a CV, never of a name.
const NOT_NAMES: [&str; 32] = [
    "personal",
    "details",
    "contact",
    "information",
    "profile",
    "summary",
    "about",
    "me",
    "experience",
    "education",
    "skills",
    "solicitor",
    "associate",
    "paralegal",
    "trainee",
    "lawyer",
    "barrister",
    "engineer",
    "developer",
    "manager",
    "consultant",
    "analyst",
    "litigation",
    "commercial",
    "senior",
    "junior",
    "legal",
    "counsel",
    "partner",
    "director",
    "assistant",
    "software",
];
/// Non-empty lines at the top of a CV where the name is looked for.
const NAME_LINES: usize = 4;

/// The candidate's name: on one of the first non-empty lines, after skipping a heading
/// ("Curriculum Vitae") and a label ("Name:"), and before anything after a separator
/// ("Jane Marlowe, LLB", "Jane Marlowe | Solicitor", "Jane Marlowe (she/her)").
fn name(text: &str) -> Option<Span> {
    let mut start = 0;
    let mut looked = 0;
    for line in text.split('\n') {
        let line_start = start;
        start += line.len() + 1;
        if line.trim().is_empty() {
            continue;
        }
        looked += 1;
        if looked > NAME_LINES {
            return None;
        }
        if let Some(span) = name_in_line(line) {
            return Some(Span { start: line_start + span.start, end: line_start + span.end });
        }
        // Only a heading or a job title ("Curriculum Vitae", "Personal Details", "Commercial
        // Litigation Solicitor") may come before the name; any other line means the name is
        // not at the top.
        let title = line.split_whitespace().all(|w| {
            let lower = w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase();
            lower.is_empty()
                || HEADINGS.contains(&lower.as_str())
                || NOT_NAMES.contains(&lower.as_str())
        });
        if !title {
            return None;
        }
    }
    None
}

/// The name in one line, relative to the line.
fn name_in_line(line: &str) -> Option<Span> {
    let mut from = line.len() - line.trim_start().len();
    let rest = line.get(from..)?;
    if let Some(after) = rest.strip_prefix("Name").or_else(|| rest.strip_prefix("NAME")) {
        let skipped = after.len() - after.trim_start_matches([':', ' ', '\t', '-']).len();
        if skipped > 0 {
            from += "Name".len() + skipped;
        }
    }
    let rest = line.get(from..)?;
    let mut end = rest.find([',', '|', '·', '(', '–', '—', '/', '\t']).unwrap_or(rest.len());
    // A job title after the name on the same line ("Jane Marlowe    Trainee Solicitor").
    let title = rest
        .get(..end)?
        .split_whitespace()
        .skip(2)
        .find(|word| {
            let lower = word.to_lowercase();
            NOT_NAMES.contains(&lower.as_str()) || HEADINGS.contains(&lower.as_str())
        })
        .map(|word| word.as_ptr() as usize - rest.as_ptr() as usize);
    if let Some(at) = title {
        end = at;
    }
    let candidate = rest.get(..end)?.trim_end().trim_end_matches(" -").trim_end();
    let words: Vec<&str> = candidate.split_whitespace().collect();
    let looks_like_name = (2..=4).contains(&words.len())
        && words.iter().all(|w| {
            let lower = w.to_lowercase();
            !HEADINGS.contains(&lower.as_str())
                && !NOT_NAMES.contains(&lower.as_str())
                && w.chars().next().is_some_and(char::is_uppercase)
                && w.chars()
                    .all(|c| c.is_alphabetic() || c == '-' || c == '\'' || c == '’' || c == '.')
        });
    looks_like_name.then(|| Span { start: from, end: from + candidate.len() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(ContactKind, &str)> {
        contacts(text).into_iter().map(|c| (c.kind, c.span.quote(text))).collect()
    }

    #[test]
    fn finds_name_email_phone_and_links_with_exact_quotes() {
        let text = "  Jane O'Neill-Marlowe\nLeeds · jane.marlowe@example.test · +44 7700 900123\n\
                    linkedin.com/in/janemarlowe, https://github.com/jmarlowe.\nTel: (0113) 496 0000";
        use ContactKind::*;
        assert_eq!(
            found(text),
            [
                (Name, "Jane O'Neill-Marlowe"),
                (Email, "jane.marlowe@example.test"),
                (Phone, "+44 7700 900123"),
                (Link, "linkedin.com/in/janemarlowe"),
                (Link, "https://github.com/jmarlowe"),
                (Phone, "(0113) 496 0000"),
            ]
        );
    }

    #[test]
    fn the_name_is_found_past_headings_labels_and_credentials() {
        for (text, name) in [
            ("Curriculum Vitae\n\nJane Marlowe\nLeeds", "Jane Marlowe"),
            ("Name: Jane Marlowe\nLeeds", "Jane Marlowe"),
            ("  Jane Marlowe, LLB (Hons)\n", "Jane Marlowe"),
            ("Jane Marlowe | Solicitor | Leeds", "Jane Marlowe"),
            ("JANE MARLOWE – Associate\n", "JANE MARLOWE"),
            ("CV\nRESUME\nJane O'Neill-Marlowe (she/her)", "Jane O'Neill-Marlowe"),
        ] {
            let names: Vec<_> =
                found(text).into_iter().filter(|(k, _)| *k == ContactKind::Name).collect();
            assert_eq!(names, [(ContactKind::Name, name)], "{text:?}");
        }
        for (text, name) in [
            ("Personal Details\nJane Marlowe\n", "Jane Marlowe"),
            ("Commercial Litigation Solicitor\nJane Marlowe", "Jane Marlowe"),
        ] {
            let names: Vec<_> =
                found(text).into_iter().filter(|(k, _)| *k == ContactKind::Name).collect();
            assert_eq!(names, [(ContactKind::Name, name)], "{text:?}");
        }
        for text in
            ["Jane\nMarlowe", "Experienced litigation associate", "CV\nCV\nCV\nCV\nJane Marlowe"]
        {
            assert!(found(text).iter().all(|(k, _)| *k != ContactKind::Name), "{text:?}");
        }
    }

    #[test]
    fn contacts_are_found_inside_punctuation_labels_and_bare_domains() {
        let text = "(jane@x.test) <jm@y.test> mailto:j.m@z.test Email:jm@w.test\n\
                    twitter.com/jm x.com/jm medium.com/@jm janemarlowe.dev jm.co.uk/cv\n\
                    07700  900123 | ASP.NET, Node.js";
        use ContactKind::*;
        assert_eq!(
            found(text),
            [
                (Email, "jane@x.test"),
                (Email, "jm@y.test"),
                (Email, "j.m@z.test"),
                (Email, "jm@w.test"),
                (Link, "twitter.com/jm"),
                (Link, "x.com/jm"),
                (Link, "medium.com/@jm"),
                (Link, "janemarlowe.dev"),
                (Link, "jm.co.uk/cv"),
                (Phone, "07700  900123"),
            ]
        );
    }

    #[test]
    fn only_a_top_line_that_reads_as_a_name_is_the_name() {
        let names = |text: &str| -> Vec<String> {
            contacts(text)
                .into_iter()
                .filter(|c| c.kind == ContactKind::Name)
                .map(|c| c.span.quote(text).to_owned())
                .collect()
        };
        assert!(names("Pieter van der Berg\nNew York\n").is_empty());
        assert!(names("jane marlowe\nEmployment Law Specialist\n").is_empty());
        assert!(names("Jane Mary Anne Louise Marlowe\nWest Yorkshire").is_empty());
        assert_eq!(names("Jane Marlowe    Trainee Solicitor\nGreater London"), ["Jane Marlowe"]);
    }

    #[test]
    fn skills_and_companies_that_look_like_domains_are_not_links() {
        let text = "Skills: socket.io, asp.net, python.org, booking.com\n\
                    GitHub:github.com/jm Profile:linkedin.com/in/jm Leeds·linkedin.com/in/jl\n\
                    |github.com/x “linkedin.com/in/q” box.com/files\n\
                    jane@x.test | janemarlowe.dev\nE:jo@y.test";
        let links: Vec<_> =
            found(text).into_iter().filter(|(k, _)| *k != ContactKind::Name).collect();
        use ContactKind::*;
        assert_eq!(
            links,
            [
                (Link, "github.com/jm"),
                (Link, "linkedin.com/in/jm"),
                (Link, "linkedin.com/in/jl"),
                (Link, "github.com/x"),
                (Link, "linkedin.com/in/q"),
                (Link, "box.com/files"),
                (Email, "jane@x.test"),
                (Link, "janemarlowe.dev"),
                (Email, "jo@y.test"),
            ]
        );
    }

    #[test]
    fn headings_dates_and_short_numbers_are_not_contacts() {
        let no_name = "Experience\nworked at Harbour LLP\nDisputes team lead, 2019";
        assert!(found(no_name).iter().all(|(k, _)| *k != ContactKind::Name));
        let text = "Experience\nJan 2019 - Mar 2021, 2:1, 120 wpm, ref 0123 45, not@an, x@y";
        assert!(found(text).is_empty(), "{:?}", found(text));
    }
}
