//! Settings of the remote screening engines. Nothing here is used unless an organisation
//! chooses a remote engine; API keys come from the environment or a secret file only, never
//! from the configuration file, and are never shown.

use super::{ConfigError, Sources, duration};
use secrecy::SecretString;
use std::fmt;
use std::time::Duration;
use url::Url;

/// The public Anthropic API.
const ANTHROPIC_PUBLIC: &str = "https://api.anthropic.com";
/// The Claude model used unless `PETAL_ANTHROPIC_MODEL` names another.
const ANTHROPIC_DEFAULT_MODEL: &str = "claude-sonnet-4-5";

/// Where one remote engine is and how to authenticate to it.
#[derive(Clone)]
pub struct Endpoint {
    /// Base URL (the API paths are appended).
    pub base_url: Url,
    /// The model asked.
    pub model: String,
    /// The API key; `None` for a self-hosted endpoint without one.
    pub api_key: Option<SecretString>,
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("base_url", &self.base_url.as_str())
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "(set, not shown)"))
            .finish()
    }
}

/// The remote engines' settings.
#[derive(Debug, Clone)]
pub struct RemoteSettings {
    /// Claude: configured when an API key is.
    pub anthropic: Option<Endpoint>,
    /// An OpenAI-compatible endpoint: configured when its base URL and model are.
    pub openai: Option<Endpoint>,
    /// Longest one request may take.
    pub timeout: Duration,
    /// Samples asked per CV (1–5); with more than one, verdicts are voted and disagreement
    /// is flagged.
    pub samples: u8,
    /// Most CVs of one organisation sent at once by this process.
    pub concurrency: usize,
    /// First wait before retrying a throttled or failed request (doubled each time, with
    /// jitter), unless the engine says how long to wait.
    pub backoff: Duration,
}

impl RemoteSettings {
    /// The longest screening one CV may take with a remote engine: every sample's tries, their
    /// timeouts and the waits between them.
    pub fn budget(&self) -> Duration {
        let per_sample =
            (self.timeout + crate::screening::remote::MAX_WAIT) * crate::screening::remote::TRIES;
        per_sample * u32::from(self.samples)
    }
}

/// Reads the remote engines' settings.
pub(super) fn load(src: &Sources<'_>) -> Result<RemoteSettings, ConfigError> {
    let f = &src.file;
    let anthropic_key = secret(
        src,
        "ANTHROPIC_API_KEY",
        "PETAL_ANTHROPIC_API_KEY_FILE",
        &f.anthropic_api_key_file,
    )?;
    let anthropic = match anthropic_key {
        None => None,
        Some(key) => Some(Endpoint {
            base_url: base_url(
                src.get("anthropic_base_url", &f.anthropic_base_url),
                Some(ANTHROPIC_PUBLIC),
            )?
            .ok_or_else(|| ConfigError("PETAL_ANTHROPIC_BASE_URL is empty".to_owned()))?,
            model: model(src.get("anthropic_model", &f.anthropic_model))?
                .unwrap_or_else(|| ANTHROPIC_DEFAULT_MODEL.to_owned()),
            api_key: Some(key),
        }),
    };
    let openai_url = base_url(src.get("openai_base_url", &f.openai_base_url), None)?;
    let openai_model = model(src.get("openai_model", &f.openai_model))?;
    let openai_key =
        secret(src, "PETAL_OPENAI_API_KEY", "PETAL_OPENAI_API_KEY_FILE", &f.openai_api_key_file)?;
    let openai = match (openai_url, openai_model) {
        (Some(base_url), Some(model)) => Some(Endpoint { base_url, model, api_key: openai_key }),
        (None, None) if openai_key.is_none() => None,
        _ => {
            return Err(ConfigError(
                "the OpenAI-compatible engine needs both PETAL_OPENAI_BASE_URL and \
                 PETAL_OPENAI_MODEL"
                    .to_owned(),
            ));
        }
    };
    let timeout = duration(src.get("remote_timeout", &f.remote_timeout), Duration::from_secs(60))?;
    if timeout > Duration::from_secs(600) {
        return Err(ConfigError("PETAL_REMOTE_TIMEOUT may be at most 10m".to_owned()));
    }
    let backoff = duration(src.get("remote_backoff", &f.remote_backoff), Duration::from_secs(1))?;
    if backoff > Duration::from_secs(60) {
        return Err(ConfigError("PETAL_REMOTE_BACKOFF may be at most 60s".to_owned()));
    }
    let number = |key: &str, from_file: &Option<String>, default: usize, max: usize| match src
        .get(key, from_file)
    {
        None => Ok(default),
        Some((name, value)) => match value.trim().parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(ConfigError(format!("{name}: {value:?} is not a number from 1 to {max}"))),
        },
    };
    let samples = number("remote_samples", &f.remote_samples, 1, 5)?;
    let concurrency = number("remote_concurrency", &f.remote_concurrency, 4, 64)?;
    Ok(RemoteSettings {
        anthropic,
        openai,
        timeout,
        samples: u8::try_from(samples).unwrap_or(1),
        concurrency,
        backoff,
    })
}

/// An API key from the variable `name`, or from the file named by `file_variable` (or by
/// `from_file` in the configuration file); never from the configuration file itself.
fn secret(
    src: &Sources<'_>,
    name: &str,
    file_variable: &str,
    from_file: &Option<String>,
) -> Result<Option<SecretString>, ConfigError> {
    let path = src.env.get(file_variable).cloned().or_else(|| from_file.clone());
    let value = match (src.env.get(name), path) {
        (Some(_), Some(_)) => {
            return Err(ConfigError(format!("set {name} or {file_variable}, not both")));
        }
        (Some(value), None) => value.clone(),
        (None, Some(path)) => std::fs::read_to_string(&path)
            .map_err(|e| ConfigError(format!("{file_variable}: cannot read {path}: {e}")))?,
        (None, None) => return Ok(None),
    };
    let value = value.trim();
    if value.is_empty() || value.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(ConfigError(format!("{name} is empty or malformed (value not shown)")));
    }
    Ok(Some(SecretString::from(value.to_owned())))
}

fn base_url(
    setting: Option<(String, String)>,
    default: Option<&str>,
) -> Result<Option<Url>, ConfigError> {
    let (name, value) = match setting {
        Some(found) => found,
        None => match default {
            Some(value) => ("default".to_owned(), value.to_owned()),
            None => return Ok(None),
        },
    };
    let url = Url::parse(value.trim())
        .map_err(|e| ConfigError(format!("{name}: {value:?} is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https")
        || !url.has_host()
        || url.query().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(ConfigError(format!(
            "{name} must be an http(s) URL without credentials or query (value not shown)"
        )));
    }
    Ok(Some(url))
}

fn model(setting: Option<(String, String)>) -> Result<Option<String>, ConfigError> {
    let Some((name, value)) = setting else { return Ok(None) };
    let value = value.trim();
    if value.is_empty() || value.len() > 200 || value.chars().any(char::is_control) {
        return Err(ConfigError(format!("{name}: not a model name")));
    }
    Ok(Some(value.to_owned()))
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use std::collections::HashMap;

    const KEY: &str = "sk-ant-secret-0123456789";

    fn load(pairs: &[(&str, &str)]) -> Result<Config, String> {
        let mut env: HashMap<String, String> =
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        env.insert("PETAL_DATA_DIR".into(), "/tmp/petal-config-test".into());
        Config::from_sources(None, &env).map_err(|e| e.to_string())
    }

    #[test]
    fn no_remote_engine_unless_configured() {
        let config = load(&[]).unwrap();
        assert!(config.remote.anthropic.is_none() && config.remote.openai.is_none());
        assert_eq!((config.remote.samples, config.remote.concurrency), (1, 4));
    }

    #[test]
    fn an_anthropic_key_enables_claude_and_is_never_shown() {
        let config = load(&[("ANTHROPIC_API_KEY", KEY)]).unwrap();
        let anthropic = config.remote.anthropic.clone().unwrap();
        assert_eq!(anthropic.base_url.as_str(), "https://api.anthropic.com/");
        assert_eq!(anthropic.model, "claude-sonnet-4-5");
        assert!(!format!("{config:?}").contains(KEY));
    }

    #[test]
    fn keys_come_from_a_file_but_not_from_both_places() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("openai.key");
        std::fs::write(&file, format!("{KEY}\n")).unwrap();
        let path = file.to_str().unwrap();
        let config = load(&[
            ("PETAL_OPENAI_BASE_URL", "http://llm.internal:8000/v1"),
            ("PETAL_OPENAI_MODEL", "local-model"),
            ("PETAL_OPENAI_API_KEY_FILE", path),
        ])
        .unwrap();
        let openai = config.remote.openai.unwrap();
        assert!(openai.api_key.is_some() && openai.model == "local-model");
        let both = load(&[("ANTHROPIC_API_KEY", KEY), ("PETAL_ANTHROPIC_API_KEY_FILE", path)]);
        assert!(!both.unwrap_err().contains(KEY));
    }

    #[test]
    fn incomplete_or_out_of_range_settings_are_refused() {
        for pairs in [
            &[("PETAL_OPENAI_BASE_URL", "http://llm.internal/v1")][..],
            &[("PETAL_OPENAI_API_KEY", KEY)][..],
            &[("PETAL_REMOTE_SAMPLES", "9")][..],
            &[("PETAL_REMOTE_CONCURRENCY", "0")][..],
            &[("PETAL_REMOTE_TIMEOUT", "1h")][..],
            &[("ANTHROPIC_API_KEY", "two words")][..],
            &[("ANTHROPIC_API_KEY", KEY), ("PETAL_ANTHROPIC_BASE_URL", "https://u:p@host")][..],
        ] {
            let error = load(pairs).unwrap_err();
            assert!(!error.contains(KEY) && !error.contains("two words"), "{error}");
        }
    }
}
