//! Organisation names.

use std::fmt;

/// A display name for an organisation: trimmed, 1–200 characters, no control characters.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct OrgName(String);

/// Why a string is not an acceptable organisation name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrgNameError {
    /// Empty or only whitespace.
    #[error("organisation name is empty")]
    Empty,
    /// More than 200 characters.
    #[error("organisation name is longer than 200 characters")]
    TooLong,
    /// Contains a control character (newline, tab, NUL…).
    #[error("organisation name contains a control character")]
    ControlCharacter,
}

impl OrgName {
    /// Parses a name given by an operator or an Admin.
    pub fn parse(input: &str) -> Result<Self, OrgNameError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(OrgNameError::Empty);
        }
        if trimmed.chars().count() > 200 {
            return Err(OrgNameError::TooLong);
        }
        if trimmed.chars().any(char::is_control) {
            return Err(OrgNameError::ControlCharacter);
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The name as given, trimmed.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrgName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_trims_a_name() {
        assert_eq!(OrgName::parse("  Acme LLP ").unwrap().as_str(), "Acme LLP");
    }

    #[test]
    fn refuses_bad_names() {
        assert_eq!(OrgName::parse(" \t ").unwrap_err(), OrgNameError::Empty);
        assert_eq!(OrgName::parse("Acme\nLLP").unwrap_err(), OrgNameError::ControlCharacter);
        assert_eq!(OrgName::parse(&"x".repeat(201)).unwrap_err(), OrgNameError::TooLong);
    }
}
