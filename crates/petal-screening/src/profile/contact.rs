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
    found.extend(tokens(text).filter_map(|(start, token)| {
        // Punctuation around a token, and a label glued to it ("(jane@x.test)", "<…>",
        // "mailto:…", "Email:…").
        let front = token.trim_start_matches(['(', '<', '[', '"', '\'', '{']);
        let lower = front.to_ascii_lowercase();
        let label = ["mailto:", "email:", "e-mail:", "web:", "website:", "linkedin:"]
            .iter()
            .find(|l| lower.starts_with(*l))
            .map_or(0, |l| l.len());
        let front = front.get(label..).unwrap_or_default();
        let start = start + (token.len() - front.len());
        let trimmed = front.trim_end_matches(['.', ',', ';', ':', ')', ']', '>', '"', '\'', '}']);
        let span = Span { start, end: start + trimmed.len() };
        let kind = if is_email(trimmed) {
            ContactKind::Email
        } else if is_link(trimmed) {
            ContactKind::Link
        } else {
            return None;
        };
        Some(Contact { kind, span })
    }));
    found.extend(phones(text).into_iter().map(|span| Contact { kind: ContactKind::Phone, span }));
    found.sort_by_key(|c| (c.span.start, c.span.end));
    found
}

/// Whitespace-separated tokens with their byte offsets.
fn tokens(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split_whitespace()
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

fn is_link(token: &str) -> bool {
    let lower = token.to_ascii_lowercase();
    if lower.starts_with("http://")
        || lower.starts_with("https://")
        || lower.starts_with("www.")
        || PROFILE_SITES.iter().any(|site| {
            lower.starts_with(site)
                || lower.contains(&format!(".{site}"))
                || lower.contains(&format!("/{site}"))
        })
    {
        return true;
    }
    // A bare domain ("janemarlowe.dev", "jm.co.uk/cv"), written in lower case (so that
    // "ASP.NET" stays a skill).
    let host = token.split('/').next().unwrap_or_default();
    let labels: Vec<&str> = host.split('.').collect();
    token == lower
        && labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        && labels.last().is_some_and(|tld| SITE_DOMAINS.contains(tld))
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
    let end = rest.find([',', '|', '·', '(', '–', '—', '/', '\t']).unwrap_or(rest.len());
    let candidate = rest.get(..end)?.trim_end().trim_end_matches(" -");
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
    looks_like_name.then(|| Span { start: from, end: from + candidate.trim_end().len() })
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
    fn headings_dates_and_short_numbers_are_not_contacts() {
        let no_name = "Experience\nworked at Harbour LLP\nDisputes team lead, 2019";
        assert!(found(no_name).iter().all(|(k, _)| *k != ContactKind::Name));
        let text = "Experience\nJan 2019 - Mar 2021, 2:1, 120 wpm, ref 0123 45, not@an, x@y";
        assert!(found(text).is_empty(), "{:?}", found(text));
    }
}
