//! Configuration: defaults, then an optional TOML file, then `PETAL_*` environment variables,
//! each value typed and checked once at start-up with a message that names the setting.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use url::Url;

mod remote;

pub use remote::{Endpoint, RemoteSettings};

/// The settings Petal runs with.
#[derive(Debug, Clone)]
pub struct Config {
    /// Folder for the embedded database, the local object store, the master key and outboxes.
    pub data_dir: PathBuf,
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Base of every link Petal hands out (invites, signed document links).
    pub public_url: Url,
    /// Database connection URL (may hold a password: redacted in `Debug`).
    pub database_url: SecretUrl,
    /// Object store URL.
    pub storage_url: String,
    /// Object store options from the environment (`AWS_*` and `GOOGLE_*`, lower-cased):
    /// endpoint, region, credentials. Values are secrets: never logged.
    pub storage_options: Vec<(String, SecretString)>,
    /// Largest accepted file in an upload, in bytes.
    pub max_upload_bytes: u64,
    /// Largest upload request (all files together), in bytes.
    pub max_upload_request_bytes: u64,
    /// How long a signed document link works.
    pub signed_url_ttl: Duration,
    /// How long audit events are kept before retention purges them (at least a day).
    pub audit_retention: Duration,
    /// Screening workers `petal serve` runs (0: none, for a separate `petal worker`).
    pub workers: usize,
    /// Longest a document's text may take to read before it fails alone.
    pub read_timeout: Duration,
    /// Master key file.
    pub master_key_file: PathBuf,
    /// Whether the master key file is the default one, which is generated when missing. An
    /// explicitly configured key file is never invented.
    pub master_key_generated_if_missing: bool,
    /// Certificate and key for TLS; `None` serves plain HTTP.
    pub tls: Option<TlsFiles>,
    /// Peers whose `X-Forwarded-For` is believed (reverse proxies, load balancers).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Folder where mail is written when no SMTP server is configured.
    pub mail_outbox: PathBuf,
    /// SMTP server for mail (`smtp://host:port`, `smtps://…`); may hold credentials.
    pub smtp_url: Option<SecretUrl>,
    /// Folder where text messages are written when no gateway is configured.
    pub sms_outbox: PathBuf,
    /// HTTP gateway for text messages (credentials as the URL's user and password).
    pub sms_gateway_url: Option<SecretUrl>,
    /// Where security alerts are POSTed, signed.
    pub alert_webhook: Option<Webhook>,
    /// Login monitoring thresholds.
    pub limits: crate::auth::Limits,
    /// A session ends after this long without a person's request.
    pub session_idle_timeout: Duration,
    /// A session ends this long after login, whatever happens.
    pub session_max_age: Duration,
    /// The remote screening engines (used only by organisations that choose one).
    pub remote: RemoteSettings,
    /// `PETAL_*` variables that are set but mean nothing to this version (likely typos); the
    /// caller warns about them once logging is up.
    pub unknown_variables: Vec<String>,
}

/// Every `PETAL_*` variable this version reads. `PETAL_TEST_*` variables belong to the tests.
const KNOWN_VARIABLES: [&str; 41] = [
    "PETAL_DATA_DIR",
    "PETAL_LISTEN",
    "PETAL_PUBLIC_URL",
    "PETAL_DATABASE_URL",
    "PETAL_STORAGE_URL",
    "PETAL_MASTER_KEY_FILE",
    "PETAL_TLS_CERT",
    "PETAL_TLS_KEY",
    "PETAL_SESSION_IDLE_TIMEOUT",
    "PETAL_SESSION_MAX_AGE",
    "PETAL_LOGIN_DELAY_AFTER",
    "PETAL_LOGIN_LOCK_AFTER",
    "PETAL_LOGIN_LOCK_DURATION",
    "PETAL_IP_FAILURE_LIMIT",
    "PETAL_IP_FAILURE_WINDOW",
    "PETAL_SMS_CODE_LIMIT",
    "PETAL_SMS_CODE_WINDOW",
    "PETAL_TRUSTED_PROXIES",
    "PETAL_MAIL_OUTBOX",
    "PETAL_SMTP_URL",
    "PETAL_SMS_OUTBOX",
    "PETAL_SMS_GATEWAY_URL",
    "PETAL_ALERT_WEBHOOK_URL",
    "PETAL_ALERT_WEBHOOK_SECRET",
    "PETAL_MAX_UPLOAD_BYTES",
    "PETAL_MAX_UPLOAD_REQUEST_BYTES",
    "PETAL_SIGNED_URL_TTL",
    "PETAL_AUDIT_RETENTION",
    "PETAL_WORKERS",
    "PETAL_READ_TIMEOUT",
    "PETAL_ANTHROPIC_BASE_URL",
    "PETAL_ANTHROPIC_MODEL",
    "PETAL_ANTHROPIC_API_KEY_FILE",
    "PETAL_OPENAI_BASE_URL",
    "PETAL_OPENAI_MODEL",
    "PETAL_OPENAI_API_KEY",
    "PETAL_OPENAI_API_KEY_FILE",
    "PETAL_REMOTE_TIMEOUT",
    "PETAL_REMOTE_BACKOFF",
    "PETAL_REMOTE_SAMPLES",
    "PETAL_REMOTE_CONCURRENCY",
];

/// PEM files for TLS.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// Certificate chain.
    pub cert: PathBuf,
    /// Private key.
    pub key: PathBuf,
}

/// The alert webhook: where to POST and the key that signs each body (HMAC-SHA256).
#[derive(Debug, Clone)]
pub struct Webhook {
    /// The receiver.
    pub url: SecretUrl,
    /// The signing key.
    pub secret: SecretString,
}

/// A URL that may carry credentials. `Debug` and `redacted()` hide user name, password and
/// query.
#[derive(Clone)]
pub struct SecretUrl(SecretString);

impl SecretUrl {
    /// The full URL, to hand to the driver and nowhere else.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// The URL without credentials, safe to log.
    pub fn redacted(&self) -> String {
        if self.expose().starts_with("sqlite:") {
            // A file path, not a credential.
            return self.expose().to_owned();
        }
        match Url::parse(self.expose()) {
            Ok(mut url) if url.has_host() => {
                let _ = url.set_username("");
                let _ = url.set_password(None);
                url.set_query(None);
                url.to_string()
            }
            Ok(url) => format!("{}:…", url.scheme()),
            Err(_) => "(unparseable URL)".to_owned(),
        }
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretUrl({})", self.redacted())
    }
}

/// A setting with a bad value, or an unreadable configuration file.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

/// What a TOML file may set; every key optional, unknown keys refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    data_dir: Option<String>,
    listen: Option<String>,
    public_url: Option<String>,
    database_url: Option<String>,
    storage_url: Option<String>,
    master_key_file: Option<String>,
    tls_cert: Option<String>,
    tls_key: Option<String>,
    trusted_proxies: Option<String>,
    mail_outbox: Option<String>,
    smtp_url: Option<String>,
    sms_outbox: Option<String>,
    sms_gateway_url: Option<String>,
    alert_webhook_url: Option<String>,
    alert_webhook_secret: Option<String>,
    session_idle_timeout: Option<String>,
    session_max_age: Option<String>,
    login_delay_after: Option<String>,
    login_lock_after: Option<String>,
    login_lock_duration: Option<String>,
    ip_failure_limit: Option<String>,
    ip_failure_window: Option<String>,
    sms_code_limit: Option<String>,
    sms_code_window: Option<String>,
    max_upload_bytes: Option<String>,
    max_upload_request_bytes: Option<String>,
    signed_url_ttl: Option<String>,
    audit_retention: Option<String>,
    workers: Option<String>,
    read_timeout: Option<String>,
    anthropic_base_url: Option<String>,
    anthropic_model: Option<String>,
    anthropic_api_key_file: Option<String>,
    openai_base_url: Option<String>,
    openai_model: Option<String>,
    openai_api_key_file: Option<String>,
    remote_timeout: Option<String>,
    remote_backoff: Option<String>,
    remote_samples: Option<String>,
    remote_concurrency: Option<String>,
}

/// Looks a setting up in the environment first, then in the file, and remembers which, so an
/// error names the place to fix.
struct Sources<'a> {
    env: &'a HashMap<String, String>,
    file: FileSettings,
}

impl Sources<'_> {
    fn get(&self, key: &str, from_file: &Option<String>) -> Option<(String, String)> {
        let env_name = format!("PETAL_{}", key.to_uppercase());
        if let Some(value) = self.env.get(&env_name) {
            return Some((env_name, value.clone()));
        }
        from_file.clone().map(|value| (format!("{key} (config file)"), value))
    }
}

impl Config {
    /// Reads the process environment (`PETAL_*`, `ANTHROPIC_API_KEY`, and the object store's
    /// `AWS_*` and `GOOGLE_*`) and, if given, a TOML file.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let env: HashMap<String, String> = std::env::vars()
            .filter(|(k, _)| {
                k.starts_with("PETAL_")
                    || k.starts_with("AWS_")
                    || k.starts_with("GOOGLE_")
                    || k == "ANTHROPIC_API_KEY"
            })
            .collect();
        Self::from_sources(file, &env)
    }

    /// Builds the configuration from an explicit environment (for tests) and optional file.
    pub fn from_sources(
        file: Option<&Path>,
        env: &HashMap<String, String>,
    ) -> Result<Self, ConfigError> {
        let file = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    ConfigError(format!("cannot read config file {}: {e}", path.display()))
                })?;
                toml::from_str(&text).map_err(|e| {
                    ConfigError(format!("config file {} is invalid: {e}", path.display()))
                })?
            }
            None => FileSettings::default(),
        };
        let src = Sources { env, file };

        let data_dir = match src.get("data_dir", &src.file.data_dir) {
            Some((name, value)) if value.trim().is_empty() => {
                return Err(ConfigError(format!("{name} is empty")));
            }
            Some((_, value)) => PathBuf::from(value),
            None => PathBuf::from("petal-data"),
        };
        let data_dir = absolute(&data_dir)?;

        let listen = match src.get("listen", &src.file.listen) {
            Some((name, value)) => value.parse::<SocketAddr>().map_err(|_| {
                ConfigError(format!(
                    "{name}: {value:?} is not an address and port such as 127.0.0.1:8080"
                ))
            })?,
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
        };

        let tls = match (
            src.get("tls_cert", &src.file.tls_cert),
            src.get("tls_key", &src.file.tls_key),
        ) {
            (Some((_, cert)), Some((_, key))) => {
                Some(TlsFiles { cert: PathBuf::from(cert), key: PathBuf::from(key) })
            }
            (None, None) => None,
            _ => {
                return Err(ConfigError(
                    "PETAL_TLS_CERT and PETAL_TLS_KEY must be set together".to_owned(),
                ));
            }
        };

        let public_url = match src.get("public_url", &src.file.public_url) {
            Some((name, value)) => parse_public_url(&name, &value)?,
            None => {
                let scheme = if tls.is_some() { "https" } else { "http" };
                parse_public_url("PETAL_PUBLIC_URL", &format!("{scheme}://{listen}"))?
            }
        };

        let database_url = match src.get("database_url", &src.file.database_url) {
            Some((name, value)) => {
                if !(value.starts_with("sqlite:")
                    || value.starts_with("postgres://")
                    || value.starts_with("postgresql://"))
                {
                    return Err(ConfigError(format!(
                        "{name} must start with postgres:// or sqlite: (value not shown)"
                    )));
                }
                value
            }
            None => format!("sqlite://{}", data_dir.join("petal.db").display()),
        };

        let storage_url = match src.get("storage_url", &src.file.storage_url) {
            Some((name, value)) => {
                Url::parse(&value).map_err(|e| {
                    ConfigError(format!("{name} is not a URL ({e}; value not shown)"))
                })?;
                value
            }
            None => Url::from_directory_path(data_dir.join("objects"))
                .map_err(|()| ConfigError("data directory is not an absolute path".to_owned()))?
                .to_string(),
        };

        let mut storage_options: Vec<(String, SecretString)> = env
            .iter()
            .filter(|(k, _)| k.starts_with("AWS_") || k.starts_with("GOOGLE_"))
            .map(|(k, v)| (k.to_lowercase(), SecretString::from(v.clone())))
            .collect();
        storage_options.sort_by(|a, b| a.0.cmp(&b.0));

        let bytes =
            |key: &str, from_file: &Option<String>, default: u64| match src.get(key, from_file) {
                None => Ok(default),
                Some((name, value)) => match value.trim().parse::<u64>() {
                    Ok(n) if (1..=(1u64 << 40)).contains(&n) => Ok(n),
                    _ => Err(ConfigError(format!("{name}: {value:?} is not a size in bytes"))),
                },
            };
        let max_upload_bytes =
            bytes("max_upload_bytes", &src.file.max_upload_bytes, 20 * 1000 * 1000)?;
        let max_upload_request_bytes = bytes(
            "max_upload_request_bytes",
            &src.file.max_upload_request_bytes,
            (10 * max_upload_bytes).max(200 * 1000 * 1000),
        )?;
        if max_upload_request_bytes < max_upload_bytes {
            return Err(ConfigError(
                "PETAL_MAX_UPLOAD_REQUEST_BYTES must be at least PETAL_MAX_UPLOAD_BYTES".to_owned(),
            ));
        }
        let signed_url_ttl = duration(
            src.get("signed_url_ttl", &src.file.signed_url_ttl),
            Duration::from_secs(15 * 60),
        )?;
        if signed_url_ttl > Duration::from_secs(24 * 3600) {
            return Err(ConfigError("PETAL_SIGNED_URL_TTL may be at most 24h".to_owned()));
        }
        let audit_retention = duration(
            src.get("audit_retention", &src.file.audit_retention),
            humantime::parse_duration("7y").map_err(|e| ConfigError(e.to_string()))?,
        )?;
        if audit_retention < Duration::from_secs(24 * 3600) {
            return Err(ConfigError("PETAL_AUDIT_RETENTION must be at least 1d".to_owned()));
        }

        let workers = match src.get("workers", &src.file.workers) {
            None => std::thread::available_parallelism().map_or(1, usize::from),
            Some((name, value)) => match value.trim().parse::<usize>() {
                Ok(n) if n <= 64 => n,
                _ => return Err(ConfigError(format!("{name}: {value:?} is not 0 to 64"))),
            },
        };
        let read_timeout =
            duration(src.get("read_timeout", &src.file.read_timeout), Duration::from_secs(30))?;
        if read_timeout.is_zero() || read_timeout > Duration::from_secs(600) {
            return Err(ConfigError("PETAL_READ_TIMEOUT must be between 1s and 10m".to_owned()));
        }

        let (master_key_file, master_key_generated_if_missing) =
            match src.get("master_key_file", &src.file.master_key_file) {
                Some((_, value)) => (PathBuf::from(value), false),
                None => (data_dir.join("master.key"), true),
            };

        let session_idle_timeout = duration(
            src.get("session_idle_timeout", &src.file.session_idle_timeout),
            Duration::from_secs(30 * 60),
        )?;
        let session_max_age = duration(
            src.get("session_max_age", &src.file.session_max_age),
            Duration::from_secs(12 * 3600),
        )?;
        // The defaults are the longest allowed: sessions may be made shorter, never longer.
        if session_idle_timeout > Duration::from_secs(30 * 60)
            || session_max_age > Duration::from_secs(12 * 3600)
        {
            return Err(ConfigError(
                "PETAL_SESSION_IDLE_TIMEOUT may be at most 30m and PETAL_SESSION_MAX_AGE at most 12h"
                    .to_owned(),
            ));
        }
        if session_idle_timeout > session_max_age {
            return Err(ConfigError(
                "PETAL_SESSION_IDLE_TIMEOUT must not exceed PETAL_SESSION_MAX_AGE".to_owned(),
            ));
        }

        let trusted_proxies = match src.get("trusted_proxies", &src.file.trusted_proxies) {
            None => Vec::new(),
            Some((name, value)) => value
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| {
                    p.parse::<ipnet::IpNet>()
                        .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                        .map_err(|_| {
                            ConfigError(format!("{name}: {p:?} is not an IP address or CIDR range"))
                        })
                })
                .collect::<Result<_, _>>()?,
        };
        let mail_outbox = src
            .get("mail_outbox", &src.file.mail_outbox)
            .map_or_else(|| data_dir.join("mail-outbox"), |(_, v)| PathBuf::from(v));
        let smtp_url = match src.get("smtp_url", &src.file.smtp_url) {
            None => None,
            Some((name, value)) => {
                let scheme = Url::parse(&value).map(|u| u.scheme().to_owned()).unwrap_or_default();
                if !matches!(scheme.as_str(), "smtp" | "smtps") {
                    return Err(ConfigError(format!(
                        "{name} must be an smtp:// or smtps:// URL (value not shown)"
                    )));
                }
                Some(SecretUrl(SecretString::from(value)))
            }
        };
        let sms_outbox = src
            .get("sms_outbox", &src.file.sms_outbox)
            .map_or_else(|| data_dir.join("sms-outbox"), |(_, v)| PathBuf::from(v));
        let sms_gateway_url = match src.get("sms_gateway_url", &src.file.sms_gateway_url) {
            None => None,
            Some((name, value)) => {
                let scheme = Url::parse(&value).map(|u| u.scheme().to_owned()).unwrap_or_default();
                if !matches!(scheme.as_str(), "http" | "https") {
                    return Err(ConfigError(format!(
                        "{name} must be an http:// or https:// URL (value not shown)"
                    )));
                }
                Some(SecretUrl(SecretString::from(value)))
            }
        };
        let alert_webhook = match (
            src.get("alert_webhook_url", &src.file.alert_webhook_url),
            src.get("alert_webhook_secret", &src.file.alert_webhook_secret),
        ) {
            (None, None) => None,
            (Some((name, url)), Some((_, secret))) => {
                let parsed = Url::parse(&url)
                    .map_err(|_| ConfigError(format!("{name} is not a URL (value not shown)")))?;
                if !matches!(parsed.scheme(), "http" | "https") || secret.len() < 16 {
                    return Err(ConfigError(format!(
                        "{name} must be http(s) and PETAL_ALERT_WEBHOOK_SECRET at least 16 characters"
                    )));
                }
                Some(Webhook {
                    url: SecretUrl(SecretString::from(url)),
                    secret: SecretString::from(secret),
                })
            }
            _ => {
                return Err(ConfigError(
                    "PETAL_ALERT_WEBHOOK_URL and PETAL_ALERT_WEBHOOK_SECRET must be set together"
                        .to_owned(),
                ));
            }
        };

        let count = |key: &str, from_file: &Option<String>, default: i64| match src
            .get(key, from_file)
        {
            None => Ok(default),
            Some((name, value)) => match value.trim().parse::<i64>() {
                Ok(n) if (1..=1_000_000).contains(&n) => Ok(n),
                _ => Err(ConfigError(format!("{name}: {value:?} is not a positive whole number"))),
            },
        };
        let span = |key: &str, from_file: &Option<String>, default: u64| {
            duration(src.get(key, from_file), Duration::from_secs(default))
                .map(|d| chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX))
        };
        let f = &src.file;
        let limits = crate::auth::Limits {
            lockout: petal_storage::users::LockoutPolicy {
                delay_after: count("login_delay_after", &f.login_delay_after, 5)?,
                lock_after: count("login_lock_after", &f.login_lock_after, 10)?,
                lock_for: span("login_lock_duration", &f.login_lock_duration, 15 * 60)?,
            },
            ip_failures: count("ip_failure_limit", &f.ip_failure_limit, 20)?,
            ip_window: span("ip_failure_window", &f.ip_failure_window, 10 * 60)?,
            sms_codes: count("sms_code_limit", &f.sms_code_limit, 3)?,
            sms_window: span("sms_code_window", &f.sms_code_window, 10 * 60)?,
        };

        let remote = remote::load(&src)?;

        Ok(Config {
            data_dir,
            listen,
            public_url,
            database_url: SecretUrl(SecretString::from(database_url)),
            storage_url,
            storage_options,
            max_upload_bytes,
            max_upload_request_bytes,
            signed_url_ttl,
            audit_retention,
            workers,
            read_timeout,
            master_key_file,
            master_key_generated_if_missing,
            tls,
            trusted_proxies,
            mail_outbox,
            smtp_url,
            sms_outbox,
            sms_gateway_url,
            alert_webhook,
            limits,
            session_idle_timeout,
            session_max_age,
            remote,
            unknown_variables: unknown_variables(env),
        })
    }
}

/// Names in `env` that start with `PETAL_` but are not settings, sorted.
fn unknown_variables(env: &HashMap<String, String>) -> Vec<String> {
    let mut unknown: Vec<String> = env
        .keys()
        .filter(|k| k.starts_with("PETAL_") && !k.starts_with("PETAL_TEST_"))
        .filter(|k| !KNOWN_VARIABLES.contains(&k.as_str()))
        .cloned()
        .collect();
    unknown.sort();
    unknown
}

/// A positive duration written like `30m`, `4s`, `12h`, `7y`, or `default` when unset.
fn duration(setting: Option<(String, String)>, default: Duration) -> Result<Duration, ConfigError> {
    let Some((name, value)) = setting else { return Ok(default) };
    match humantime::parse_duration(value.trim()) {
        Ok(d) if !d.is_zero() => Ok(d),
        _ => Err(ConfigError(format!(
            "{name}: {value:?} is not a positive duration such as 30m, 4s or 12h"
        ))),
    }
}

/// `path` made absolute against the current directory.
fn absolute(path: &Path) -> Result<PathBuf, ConfigError> {
    std::path::absolute(path)
        .map_err(|e| ConfigError(format!("data directory {}: {e}", path.display())))
}

/// An `http(s)` URL without query or fragment; links are built by appending paths to it.
fn parse_public_url(name: &str, value: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(value)
        .map_err(|e| ConfigError(format!("{name}: {value:?} is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || !url.has_host() {
        return Err(ConfigError(format!("{name}: {value:?} must be an http:// or https:// URL")));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ConfigError(format!("{name}: {value:?} must not have a query or fragment")));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_need_no_configuration() {
        let config = Config::from_sources(None, &env(&[])).unwrap();
        assert!(config.data_dir.ends_with("petal-data"));
        assert!(config.data_dir.is_absolute());
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.public_url.as_str(), "http://127.0.0.1:8080/");
        assert!(config.database_url.expose().starts_with("sqlite://"));
        assert!(config.database_url.expose().ends_with("petal-data/petal.db"));
        assert!(config.storage_url.starts_with("file:///"));
        assert!(config.master_key_file.ends_with("petal-data/master.key"));
        assert!(config.master_key_generated_if_missing);
        assert!(config.tls.is_none());
        assert_eq!(config.session_idle_timeout, Duration::from_secs(1800));
        assert_eq!(config.session_max_age, Duration::from_secs(12 * 3600));
    }

    #[test]
    fn session_durations_accept_short_forms_and_refuse_nonsense() {
        let config = Config::from_sources(
            None,
            &env(&[("PETAL_SESSION_IDLE_TIMEOUT", "3s"), ("PETAL_SESSION_MAX_AGE", "1h")]),
        )
        .unwrap();
        assert_eq!(config.session_idle_timeout, Duration::from_secs(3));
        for bad in ["0s", "soon", "-5m"] {
            let err = Config::from_sources(None, &env(&[("PETAL_SESSION_IDLE_TIMEOUT", bad)]))
                .unwrap_err()
                .to_string();
            assert!(err.contains("PETAL_SESSION_IDLE_TIMEOUT"), "{bad}: {err}");
        }
        let err = Config::from_sources(None, &env(&[("PETAL_SESSION_IDLE_TIMEOUT", "31m")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("at most 30m"), "{err}");
        let err = Config::from_sources(
            None,
            &env(&[("PETAL_SESSION_IDLE_TIMEOUT", "20m"), ("PETAL_SESSION_MAX_AGE", "10m")]),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("must not exceed"), "{err}");
    }

    #[test]
    fn audit_retention_defaults_to_seven_years_and_is_never_under_a_day() {
        let default = Config::from_sources(None, &env(&[])).unwrap().audit_retention;
        let year = 365.25 * 24.0 * 3600.0;
        assert!((default.as_secs_f64() / year - 7.0).abs() < 1e-9, "{default:?}");
        let set = Config::from_sources(None, &env(&[("PETAL_AUDIT_RETENTION", "10y")])).unwrap();
        assert!((set.audit_retention.as_secs_f64() / year - 10.0).abs() < 1e-9);
        for bad in ["12h", "0s", "forever"] {
            let err = Config::from_sources(None, &env(&[("PETAL_AUDIT_RETENTION", bad)]))
                .unwrap_err()
                .to_string();
            assert!(err.contains("PETAL_AUDIT_RETENTION"), "{bad}: {err}");
        }
    }

    #[test]
    fn environment_overrides_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("petal.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:9000\"\ndata_dir = \"/srv/petal\"\n").unwrap();
        let config =
            Config::from_sources(Some(&file), &env(&[("PETAL_LISTEN", "0.0.0.0:7000")])).unwrap();
        assert_eq!(config.listen.to_string(), "0.0.0.0:7000");
        assert_eq!(config.data_dir, PathBuf::from("/srv/petal"));
        assert_eq!(config.public_url.as_str(), "http://0.0.0.0:7000/");
    }

    #[test]
    fn bad_values_name_the_setting() {
        let cases = [
            (("PETAL_LISTEN", "localhost"), "PETAL_LISTEN"),
            (("PETAL_PUBLIC_URL", "ftp://x"), "PETAL_PUBLIC_URL"),
            (("PETAL_PUBLIC_URL", "https://x/?q=1"), "PETAL_PUBLIC_URL"),
            (("PETAL_DATABASE_URL", "mysql://u:hunter2@h/db"), "PETAL_DATABASE_URL"),
            (("PETAL_STORAGE_URL", "not a url"), "PETAL_STORAGE_URL"),
            (("PETAL_TLS_CERT", "/x.pem"), "PETAL_TLS_KEY"),
            (("PETAL_DATA_DIR", " "), "PETAL_DATA_DIR"),
        ];
        for ((key, value), named) in cases {
            let err = Config::from_sources(None, &env(&[(key, value)])).unwrap_err().to_string();
            assert!(err.contains(named), "{key}={value}: {err}");
            assert!(!err.contains("hunter2"), "secret leaked: {err}");
        }
    }

    #[test]
    fn proxies_mail_and_webhook_settings_are_checked() {
        let config = Config::from_sources(
            None,
            &env(&[
                ("PETAL_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1"),
                ("PETAL_SMTP_URL", "smtp://mailer:s3cret@mail.internal:2525"),
                ("PETAL_ALERT_WEBHOOK_URL", "https://hooks.internal/petal"),
                ("PETAL_ALERT_WEBHOOK_SECRET", "0123456789abcdef0123"),
            ]),
        )
        .unwrap();
        assert_eq!(config.trusted_proxies.len(), 2);
        assert!(!format!("{config:?}").contains("s3cret"));
        assert!(!format!("{config:?}").contains("0123456789abcdef0123"));
        for (key, value) in [
            ("PETAL_TRUSTED_PROXIES", "10.0.0.0/33"),
            ("PETAL_SMTP_URL", "http://mail.internal"),
            ("PETAL_ALERT_WEBHOOK_URL", "https://hooks.internal/petal"),
        ] {
            let err = Config::from_sources(None, &env(&[(key, value)])).unwrap_err().to_string();
            assert!(err.contains(key), "{key}: {err}");
        }
    }

    #[test]
    fn login_thresholds_default_to_the_spec_and_can_be_set() {
        let defaults = Config::from_sources(None, &env(&[])).unwrap().limits;
        assert_eq!((defaults.lockout.delay_after, defaults.lockout.lock_after), (5, 10));
        assert_eq!(defaults.lockout.lock_for, chrono::Duration::minutes(15));
        assert_eq!((defaults.ip_failures, defaults.sms_codes), (20, 3));
        assert_eq!(defaults.ip_window, chrono::Duration::minutes(10));
        let set = Config::from_sources(
            None,
            &env(&[("PETAL_LOGIN_LOCK_AFTER", "6"), ("PETAL_IP_FAILURE_WINDOW", "1h")]),
        )
        .unwrap()
        .limits;
        assert_eq!((set.lockout.lock_after, set.ip_window), (6, chrono::Duration::hours(1)));
        let err = Config::from_sources(None, &env(&[("PETAL_SMS_CODE_LIMIT", "0")])).unwrap_err();
        assert!(err.to_string().contains("PETAL_SMS_CODE_LIMIT"), "{err}");
    }

    #[test]
    fn misspelt_variables_are_reported() {
        let config = Config::from_sources(
            None,
            &env(&[
                ("PETAL_DATABSE_URL", "postgres://x/y"),
                ("PETAL_LISTEN", "127.0.0.1:1"),
                ("PETAL_TEST_DATABASE_URL", "postgres://x/y"),
            ]),
        )
        .unwrap();
        assert_eq!(config.unknown_variables, vec!["PETAL_DATABSE_URL".to_owned()]);
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("petal.toml");
        std::fs::write(&file, "listne = \"127.0.0.1:9000\"\n").unwrap();
        let err = Config::from_sources(Some(&file), &env(&[])).unwrap_err().to_string();
        assert!(err.contains("listne"), "{err}");
    }

    #[test]
    fn database_credentials_never_show() {
        let config = Config::from_sources(
            None,
            &env(&[(
                "PETAL_DATABASE_URL",
                "postgres://petal:hunter2@db.internal/petal?sslmode=require",
            )]),
        )
        .unwrap();
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("db.internal"), "{shown}");
    }

    #[test]
    fn tls_defaults_the_public_url_to_https() {
        let config = Config::from_sources(
            None,
            &env(&[("PETAL_TLS_CERT", "/c.pem"), ("PETAL_TLS_KEY", "/k.pem")]),
        )
        .unwrap();
        assert_eq!(config.public_url.scheme(), "https");
    }
}
