//! Organisation names and the choices an organisation makes.

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

/// The engine that screens an organisation's CVs.
#[derive(Clone, Copy, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScreeningEngine {
    /// Petal's own engine: offline, deterministic, explainable (the default).
    Local,
    /// Claude, through the Anthropic Messages API.
    Anthropic,
    /// Any OpenAI-compatible chat completions endpoint, such as a self-hosted model.
    #[serde(rename = "openai")]
    OpenAi,
}

impl ScreeningEngine {
    /// The name stored and shown (`local`, `anthropic`, `openai`).
    pub fn as_str(self) -> &'static str {
        match self {
            ScreeningEngine::Local => "local",
            ScreeningEngine::Anthropic => "anthropic",
            ScreeningEngine::OpenAi => "openai",
        }
    }

    /// The engine with this name.
    pub fn parse(name: &str) -> Option<Self> {
        [ScreeningEngine::Local, ScreeningEngine::Anthropic, ScreeningEngine::OpenAi]
            .into_iter()
            .find(|engine| engine.as_str() == name)
    }

    /// Whether CV text leaves Petal for this engine.
    pub fn is_remote(self) -> bool {
        self != ScreeningEngine::Local
    }
}

impl fmt::Display for ScreeningEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an organisation's Admins chose.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct OrgSettings {
    /// The engine screening its CVs.
    pub screening_engine: ScreeningEngine,
    /// Reviewers see candidates without identity markers (name, email, phone, links).
    pub blind_review: bool,
    /// Days after their last activity that jobs are purged; 0 keeps them.
    pub retention_days: u32,
}

impl Default for OrgSettings {
    fn default() -> Self {
        Self { screening_engine: ScreeningEngine::Local, blind_review: false, retention_days: 180 }
    }
}

#[cfg(test)]
mod engine_tests {
    use super::ScreeningEngine;

    #[test]
    fn engine_names_round_trip() {
        for engine in [ScreeningEngine::Local, ScreeningEngine::Anthropic, ScreeningEngine::OpenAi]
        {
            assert_eq!(ScreeningEngine::parse(engine.as_str()), Some(engine));
            let json = serde_json::to_string(&engine).unwrap();
            assert_eq!(json, format!("\"{engine}\""));
        }
        assert_eq!(ScreeningEngine::parse("claude"), None);
        assert!(!ScreeningEngine::Local.is_remote() && ScreeningEngine::OpenAi.is_remote());
    }
}
