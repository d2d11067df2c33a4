//! Skills, normalised through a synonym table kept as data (`data/skills.txt`): "M&A",
//! "mergers & acquisitions" and "corporate transactions" are one skill, named once.

use super::Span;
use std::sync::OnceLock;

/// A skill found in a CV: its canonical name and the words it was read from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SkillMention {
    /// The canonical name from the table.
    pub skill: &'static str,
    /// The words as written.
    pub span: Span,
}

/// (spelling, canonical name), longest spelling first so "uk gdpr" wins over "gdpr".
fn table() -> &'static [(String, &'static str)] {
    static TABLE: OnceLock<Vec<(String, &'static str)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = Vec::new();
        for line in include_str!("../../data/skills.txt").lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut names = line.split('|').map(str::trim).filter(|n| !n.is_empty());
            let Some(canonical) = names.next() else { continue };
            table.push((canonical.to_lowercase(), canonical));
            table.extend(names.map(|spelling| (spelling.to_lowercase(), canonical)));
        }
        table.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        table
    })
}

fn word_char(c: Option<char>) -> bool {
    c.is_some_and(|c| c.is_alphanumeric())
}

/// Every skill mentioned in `text`, in order of appearance (a skill may appear more than once).
pub fn skill_mentions(text: &str) -> Vec<SkillMention> {
    // ASCII folding keeps every byte offset, so spans index the original text exactly.
    let lower = text.to_ascii_lowercase();
    let mut found = Vec::new();
    let mut at = 0;
    while at < lower.len() {
        let before = lower.get(..at).and_then(|b| b.chars().next_back());
        let rest = lower.get(at..).unwrap_or_default();
        let hit = (!word_char(before))
            .then(|| {
                table().iter().find(|(spelling, _)| {
                    rest.starts_with(spelling.as_str())
                        && !word_char(rest.get(spelling.len()..).and_then(|r| r.chars().next()))
                })
            })
            .flatten();
        match hit {
            Some((spelling, skill)) => {
                found.push(SkillMention {
                    skill,
                    span: Span { start: at, end: at + spelling.len() },
                });
                at += spelling.len();
            }
            None => at += rest.chars().next().map_or(1, char::len_utf8),
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synonyms_map_to_one_canonical_skill() {
        let text = "Led M&A due-diligence; UK GDPR audits; fluent in Français. Excellent commercial acumen.";
        let found: Vec<(&str, &str)> =
            skill_mentions(text).iter().map(|m| (m.skill, m.span.quote(text))).collect();
        assert_eq!(
            found,
            [
                ("mergers and acquisitions", "M&A"),
                ("due diligence", "due-diligence"),
                ("data protection", "UK GDPR"),
                ("french", "Français"),
                ("commercial awareness", "commercial acumen"),
            ]
        );
    }

    #[test]
    fn matches_whole_words_only() {
        assert!(skill_mentions("Excellence in wordsmithing; sqlish; pythonic").is_empty());
        // "Word" alone is too common a word to count; "MS Word" is the skill.
        assert_eq!(skill_mentions("MS Word, Excel and SQL").len(), 3);
        assert_eq!(skill_mentions("Word, Excel and SQL").len(), 2);
    }

    #[test]
    fn the_table_loads_every_line() {
        assert!(table().iter().any(|(s, c)| s == "prince2" && *c == "project management"));
        assert!(table().windows(2).all(|w| w[0].0.len() >= w[1].0.len()));
    }
}
