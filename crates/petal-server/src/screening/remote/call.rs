//! One request to a remote engine: sent with a timeout; retried with jittered, doubling
//! waits on throttling, overload, server errors, lost connections and malformed answers,
//! honouring `retry-after`; and classified when it cannot succeed. Nothing from a request or
//! an error body is logged but the status and the API's error type.

use super::{MAX_WAIT, TRIES};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde_json::Value;
use std::time::Duration;

/// Largest response read, in bytes.
const MAX_RESPONSE: usize = 4 << 20;

/// A response without a usable answer (the reason names no content).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BadAnswer(pub &'static str);

/// Why a request did not give an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CallError {
    /// Throttled, overloaded, failing or unreachable on every try.
    Unavailable,
    /// The engine refused the request (a 4xx other than 408 and 429: a bad key, a bad model,
    /// a request too large); trying again would not help.
    Refused,
    /// Every answer was malformed or did not follow the schema.
    Invalid,
}

/// A request ready to send.
pub(super) struct Request<'a> {
    pub client: &'a reqwest::Client,
    /// The engine's name, for logs.
    pub engine: &'static str,
    pub url: String,
    pub headers: HeaderMap,
    pub body: &'a Value,
    pub timeout: Duration,
    /// First wait between tries.
    pub backoff: Duration,
}

impl Request<'_> {
    /// Sends the request until `accept` takes an answer or the tries run out. `extract`
    /// finds the answer in a response; `accept` checks it.
    pub(super) async fn send<T>(
        &self,
        extract: fn(&Value) -> Result<Value, BadAnswer>,
        accept: impl Fn(&Value) -> Option<T>,
    ) -> Result<T, CallError> {
        let mut last = CallError::Unavailable;
        for attempt in 1..=TRIES {
            let mut wait = None;
            match self.once().await {
                Ok(response) => match extract(&response) {
                    Ok(answer) => match accept(&answer) {
                        Some(accepted) => return Ok(accepted),
                        None => {
                            tracing::warn!(
                                engine = self.engine,
                                attempt,
                                "the answer does not follow the schema"
                            );
                            last = CallError::Invalid;
                        }
                    },
                    Err(BadAnswer(why)) => {
                        tracing::warn!(engine = self.engine, attempt, why, "unusable answer");
                        last = CallError::Invalid;
                    }
                },
                Err(Failed::Retry(retry_after)) => {
                    if retry_after.is_some_and(|after| after > MAX_WAIT) {
                        return Err(CallError::Unavailable);
                    }
                    wait = retry_after;
                    last = CallError::Unavailable;
                }
                Err(Failed::Refused) => return Err(CallError::Refused),
            }
            if attempt < TRIES {
                let backoff = jittered(self.backoff * 2u32.pow(attempt - 1));
                tokio::time::sleep(wait.unwrap_or_default().max(backoff).min(MAX_WAIT)).await;
            }
        }
        Err(last)
    }

    async fn once(&self) -> Result<Value, Failed> {
        let sent = self
            .client
            .post(&self.url)
            .headers(self.headers.clone())
            .json(self.body)
            .timeout(self.timeout)
            .send()
            .await;
        let mut response = match sent {
            Ok(response) => response,
            Err(error) => {
                // The error names the URL (no credentials in it) and the cause, never headers.
                let cause = if error.is_timeout() { "timeout" } else { "connection" };
                tracing::warn!(engine = self.engine, cause, "remote engine unreachable");
                return Err(Failed::Retry(None));
            }
        };
        let status = response.status();
        let retry_after = retry_after(response.headers());
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) if body.len() + chunk.len() <= MAX_RESPONSE => {
                    body.extend_from_slice(&chunk);
                }
                Ok(Some(_)) => return Err(Failed::Retry(None)),
                Ok(None) => break,
                Err(_) => return Err(Failed::Retry(None)),
            }
        }
        let parsed: Option<Value> = serde_json::from_slice(&body).ok();
        if status.is_success() {
            return parsed.ok_or(Failed::Retry(None));
        }
        let kind = parsed.as_ref().map(error_kind).unwrap_or_default();
        tracing::warn!(engine = self.engine, status = status.as_u16(), kind, "remote engine error");
        if retryable(status) { Err(Failed::Retry(retry_after)) } else { Err(Failed::Refused) }
    }
}

enum Failed {
    /// Worth another try, after at least this long when the engine said.
    Retry(Option<Duration>),
    Refused,
}

/// Throttled (429), timed out (408), overloaded (529) or a server error.
fn retryable(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 429 | 529) || status.is_server_error()
}

/// `retry-after` in seconds (the form both APIs send).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    value.parse::<f64>().ok().filter(|s| s.is_finite() && *s >= 0.0).map(Duration::from_secs_f64)
}

/// The API's error type (`rate_limit_error`, `overloaded_error`, `invalid_api_key`…), kept
/// only if it looks like one, so no content can reach the logs through it.
fn error_kind(body: &Value) -> String {
    let error = body.get("error");
    let field = |name: &str| error.and_then(|e| e.get(name)).and_then(Value::as_str);
    let kind = field("type").or_else(|| field("code")).unwrap_or_default();
    if kind.len() <= 40 && kind.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
        kind.to_owned()
    } else {
        String::new()
    }
}

/// A wait between half and all of `base`, so that workers throttled together do not all
/// come back at once.
fn jittered(base: Duration) -> Duration {
    let random = uuid::Uuid::new_v4().as_u128() % 1000;
    let fraction = 0.5 + (random as f64) / 2000.0;
    base.mul_f64(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_is_read_in_seconds() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(RETRY_AFTER, HeaderValue::from_static("2"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("0.5"));
        assert_eq!(retry_after(&headers), Some(Duration::from_millis(500)));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn only_throttling_overload_and_server_errors_are_retried() {
        for status in [408, 429, 500, 502, 503, 529] {
            assert!(retryable(StatusCode::from_u16(status).unwrap()), "{status}");
        }
        for status in [400, 401, 403, 404, 413, 422] {
            assert!(!retryable(StatusCode::from_u16(status).unwrap()), "{status}");
        }
    }

    #[test]
    fn error_kinds_are_kept_only_when_they_look_like_one() {
        let anthropic = serde_json::json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}});
        assert_eq!(error_kind(&anthropic), "overloaded_error");
        let openai =
            serde_json::json!({"error": {"message": "m", "type": null, "code": "invalid_api_key"}});
        assert_eq!(error_kind(&openai), "invalid_api_key");
        let odd = serde_json::json!({"error": {"type": "Jane Marlowe's CV"}});
        assert_eq!(error_kind(&odd), "");
    }

    #[test]
    fn jitter_stays_between_half_and_all() {
        for _ in 0..100 {
            let wait = jittered(Duration::from_secs(2));
            assert!(wait >= Duration::from_secs(1) && wait <= Duration::from_secs(2));
        }
    }
}
