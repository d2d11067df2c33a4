//! Per-request bookkeeping: a fresh request id (in the response's `X-Request-Id`, the log
//! span and, later, audit events), one structured log line, and Prometheus counters.
//!
//! Logs carry the route template (`/api/v1/jobs/{id}`), never the raw path or query, so a
//! token in a URL cannot reach them.

use super::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::time::Instant;
use tracing::Instrument;

/// The id of the request being served, for audit events and error reports.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// Labels of a request metric.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

/// HTTP metrics and the registry that exposes them.
#[derive(Debug)]
pub struct HttpMetrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    duration: Family<RequestLabels, Histogram, fn() -> Histogram>,
}

impl Default for HttpMetrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("petal");
        let requests = Family::<RequestLabels, Counter>::default();
        let duration =
            Family::<RequestLabels, Histogram, fn() -> Histogram>::new_with_constructor(|| {
                Histogram::new(exponential_buckets(0.001, 2.0, 16))
            });
        registry.register("http_requests", "HTTP requests served", requests.clone());
        registry.register(
            "http_request_duration_seconds",
            "Time to produce a response",
            duration.clone(),
        );
        Self { registry, requests, duration }
    }
}

impl HttpMetrics {
    /// The metrics in the Prometheus / OpenMetrics text format.
    pub fn render(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

/// The method as a metric label: the standard methods by name, anything else as `OTHER`, so a
/// client cannot create unbounded label sets.
fn method_label(method: &Method) -> String {
    const STANDARD: [Method; 9] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
        Method::CONNECT,
        Method::TRACE,
    ];
    if STANDARD.contains(method) { method.as_str().to_owned() } else { "OTHER".to_owned() }
}

/// Assigns the request id, logs the request once, and counts it.
pub async fn observe(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = uuid::Uuid::new_v4().to_string();
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    request.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!("request", request_id = %id, method = %method, route = %route);
    let mut response = next.run(request).instrument(span.clone()).await;
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    span.in_scope(|| {
        tracing::info!(status, latency_ms = elapsed.as_secs_f64() * 1000.0, "served");
    });
    let labels = RequestLabels { method, route, status };
    state.metrics.requests.get_or_create(&labels).inc();
    state.metrics.duration.get_or_create(&labels).observe(elapsed.as_secs_f64());
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}
