//! Remote screening engines: Claude through the Anthropic Messages API, and any
//! OpenAI-compatible chat completions endpoint. Only a CV prepared by
//! [`petal_screening::engine::remote`] is sent (visible text, identity markers replaced,
//! instructions withheld); the answer is checked there too. Here: the HTTP calls, their
//! retries, a circuit breaker per engine and a limit on each organisation's calls in flight.

mod anthropic;
mod breaker;
mod call;
mod openai;

use crate::config::{Endpoint, RemoteSettings};
use breaker::Breaker;
use call::{CallError, Request};
use petal_domain::{OrgId, ScreeningEngine};
use petal_screening::criteria::Criterion;
use petal_screening::engine::remote::{Answer, Prepared, parse_answer};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use secrecy::ExposeSecret;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Tries per request (the first and two retries).
pub const TRIES: u32 = 3;
/// Longest wait between tries; an engine asking for longer fails the document instead.
pub const MAX_WAIT: Duration = Duration::from_secs(30);

/// Why a remote engine gave no screening: the document fails with this code and can be
/// re-screened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The organisation chose an engine this server has no settings for.
    NotConfigured,
    /// Throttled, overloaded, failing or unreachable on every try, or the breaker is open.
    Unavailable,
    /// The engine refused the request (a bad key or model, for instance).
    Refused,
    /// The engine's answers were malformed or did not follow the schema.
    InvalidAnswer,
}

impl Failure {
    /// The document's failure code.
    pub fn code(self) -> &'static str {
        match self {
            Failure::NotConfigured => "engine_not_configured",
            Failure::Unavailable => "engine_unavailable",
            Failure::Refused => "engine_refused",
            Failure::InvalidAnswer => "engine_invalid_answer",
        }
    }
}

/// What a remote engine answered.
pub struct Answered {
    /// One checked answer per sample.
    pub answers: Vec<Answer>,
    /// The model that answered.
    pub model: String,
}

/// The remote engines of this process.
pub struct RemoteEngines {
    client: reqwest::Client,
    settings: RemoteSettings,
    anthropic: Breaker,
    openai: Breaker,
    orgs: Mutex<HashMap<OrgId, Arc<Semaphore>>>,
}

impl RemoteEngines {
    /// The engines as configured (none may be).
    pub fn new(settings: RemoteSettings) -> anyhow::Result<Self> {
        for endpoint in [&settings.anthropic, &settings.openai].into_iter().flatten() {
            let url = &endpoint.base_url;
            let local = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
            if url.scheme() == "http" && !local {
                tracing::warn!(
                    url = url.as_str(),
                    "a remote engine is reached over plain HTTP: CV text and keys travel unencrypted"
                );
            }
        }
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            client,
            settings,
            anthropic: Breaker::default(),
            openai: Breaker::default(),
            orgs: Mutex::new(HashMap::new()),
        })
    }

    /// Whether this server can use `engine`.
    pub fn configured(&self, engine: ScreeningEngine) -> bool {
        self.endpoint(engine).is_some()
    }

    /// The longest screening one CV may take.
    pub fn budget(&self) -> Duration {
        self.settings.budget()
    }

    fn endpoint(&self, engine: ScreeningEngine) -> Option<&Endpoint> {
        match engine {
            ScreeningEngine::Local => None,
            ScreeningEngine::Anthropic => self.settings.anthropic.as_ref(),
            ScreeningEngine::OpenAi => self.settings.openai.as_ref(),
        }
    }

    fn semaphore(&self, org: OrgId) -> Arc<Semaphore> {
        let mut orgs = self.orgs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        orgs.entry(org)
            .or_insert_with(|| Arc::new(Semaphore::new(self.settings.concurrency)))
            .clone()
    }

    /// The organisations with as many CVs at a remote engine as they may have: workers pass
    /// over their tasks, so one organisation's large job never holds up another's.
    pub fn saturated(&self) -> Vec<OrgId> {
        let orgs = self.orgs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        orgs.iter().filter(|(_, s)| s.available_permits() == 0).map(|(org, _)| *org).collect()
    }

    /// A place among the organisation's CVs at a remote engine, if one is free.
    pub fn permit(&self, org: OrgId) -> Option<OwnedSemaphorePermit> {
        self.semaphore(org).try_acquire_owned().ok()
    }

    /// Screens a prepared CV with `engine`: one request per sample, each answer checked
    /// against the schema (a malformed answer is asked again).
    pub async fn screen(
        &self,
        engine: ScreeningEngine,
        prepared: &Prepared<'_>,
        criteria: &[Criterion],
    ) -> Result<Answered, Failure> {
        let endpoint = self.endpoint(engine).ok_or(Failure::NotConfigured)?;
        let breaker = match engine {
            ScreeningEngine::OpenAi => &self.openai,
            _ => &self.anthropic,
        };
        let prompt = prepared.prompt(criteria);
        let (url, headers, body, extract): (_, _, _, fn(&_) -> _) = match engine {
            ScreeningEngine::OpenAi => (
                format!("{}/chat/completions", endpoint.base_url.as_str().trim_end_matches('/')),
                openai_headers(endpoint)?,
                openai::body(&endpoint.model, &prompt),
                openai::answer,
            ),
            _ => (
                format!("{}/v1/messages", endpoint.base_url.as_str().trim_end_matches('/')),
                anthropic_headers(endpoint)?,
                anthropic::body(&endpoint.model, &prompt),
                anthropic::answer,
            ),
        };
        let request = Request {
            client: &self.client,
            engine: engine.as_str(),
            url,
            headers,
            body: &body,
            timeout: self.settings.timeout,
            backoff: self.settings.backoff,
        };
        let mut answers = Vec::with_capacity(usize::from(self.settings.samples));
        for _ in 0..self.settings.samples {
            if !breaker.allow(Instant::now()) {
                tracing::warn!(engine = engine.as_str(), "circuit open: not calling the engine");
                return Err(Failure::Unavailable);
            }
            let outcome = request.send(extract, |value| parse_answer(value, criteria).ok()).await;
            breaker.report(outcome != Err(CallError::Unavailable), Instant::now());
            answers.push(outcome.map_err(|error| match error {
                CallError::Unavailable => Failure::Unavailable,
                CallError::Refused => Failure::Refused,
                CallError::Invalid => Failure::InvalidAnswer,
            })?);
        }
        Ok(Answered { answers, model: endpoint.model.clone() })
    }
}

fn anthropic_headers(endpoint: &Endpoint) -> Result<HeaderMap, Failure> {
    let mut headers = HeaderMap::new();
    headers.insert(
        HeaderName::from_static("anthropic-version"),
        HeaderValue::from_static(anthropic::API_VERSION),
    );
    if let Some(key) = &endpoint.api_key {
        headers.insert(HeaderName::from_static("x-api-key"), secret_header(key.expose_secret())?);
    }
    Ok(headers)
}

fn openai_headers(endpoint: &Endpoint) -> Result<HeaderMap, Failure> {
    let mut headers = HeaderMap::new();
    if let Some(key) = &endpoint.api_key {
        headers.insert(AUTHORIZATION, secret_header(&format!("Bearer {}", key.expose_secret()))?);
    }
    Ok(headers)
}

/// A header holding a key: marked sensitive, so HTTP libraries never print it.
fn secret_header(value: &str) -> Result<HeaderValue, Failure> {
    let mut header = HeaderValue::from_str(value).map_err(|_| Failure::NotConfigured)?;
    header.set_sensitive(true);
    Ok(header)
}
