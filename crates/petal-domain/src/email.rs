//! Email addresses, parsed once at the edge.

use serde::{Serialize, Serializer};
use std::fmt;

/// A syntactically valid email address, trimmed and lower-cased so that one mailbox has one
/// spelling (used for uniqueness and, later, for the erasure blind index).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

/// Why a string is not an acceptable email address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// Nothing was given.
    #[error("email address is empty")]
    Empty,
    /// Longer than the 254 characters SMTP allows.
    #[error("email address is longer than 254 characters")]
    TooLong,
    /// Not of the form local@domain.tld.
    #[error("email address is not of the form name@example.org")]
    Malformed,
}

impl Email {
    /// Parses and normalises an address.
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(EmailError::Empty);
        }
        if trimmed.chars().count() > 254 {
            return Err(EmailError::TooLong);
        }
        let lowered = trimmed.to_lowercase();
        let (local, domain) = lowered.split_once('@').ok_or(EmailError::Malformed)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local.chars().all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
        let domain_ok = domain.contains('.')
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if local_ok && domain_ok { Ok(Self(lowered)) } else { Err(EmailError::Malformed) }
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Shows only the domain: an address is personal data and must not reach logs by accident.
impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let domain = self.0.split_once('@').map_or("", |(_, d)| d);
        write!(f, "Email(…@{domain})")
    }
}

impl Serialize for Email {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_and_whitespace() {
        assert_eq!(Email::parse("  A.Person@Acme.Test ").unwrap().as_str(), "a.person@acme.test");
    }

    #[test]
    fn refuses_malformed_addresses() {
        for bad in [
            "",
            "   ",
            "no-at-sign",
            "@acme.test",
            "a@",
            "a@acme",
            "a b@acme.test",
            "a@acme..test",
            ".a@acme.test",
            "a@-acme.test",
            "a@@acme.test",
            "a\u{0}@acme.test",
        ] {
            assert!(Email::parse(bad).is_err(), "accepted {bad:?}");
        }
        assert_eq!(Email::parse("").unwrap_err(), EmailError::Empty);
        assert_eq!(Email::parse("a@acme").unwrap_err(), EmailError::Malformed);
        let long = format!("{}@acme.test", "a".repeat(250));
        assert_eq!(Email::parse(&long).unwrap_err(), EmailError::TooLong);
    }

    #[test]
    fn debug_hides_the_mailbox() {
        let email = Email::parse("secret.person@acme.test").unwrap();
        let shown = format!("{email:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains("acme.test"));
    }
}
