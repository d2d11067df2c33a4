//! Operational endpoints: liveness, readiness, metrics and the OpenAPI document.

use super::AppState;
use super::error::{ApiError, ErrorBody};
use axum::Extension;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::sync::Arc;

/// The serialised OpenAPI document, built once when the router is.
#[derive(Clone)]
pub struct OpenApiJson(pub Arc<String>);

/// Liveness or readiness status.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok`, `ready` or `unavailable`.
    status: &'static str,
    /// Per dependency: `ok` or `unavailable` (readiness only).
    #[serde(skip_serializing_if = "Option::is_none")]
    checks: Option<Checks>,
}

/// What readiness checked.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Checks {
    database: &'static str,
    storage: &'static str,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "ops",
    responses((status = 200, description = "The process is alive", body = Health)))]
pub async fn healthz() -> axum::Json<Health> {
    axum::Json(Health { status: "ok", checks: None })
}

/// The database and the object store both answer.
#[utoipa::path(get, path = "/readyz", tag = "ops", responses(
    (status = 200, description = "Ready to serve", body = Health),
    (status = 503, description = "A dependency is unreachable", body = Health)))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    let (database, storage) = tokio::join!(state.db.ping(), state.objects.check());
    let label = |result: &Result<(), petal_storage::StorageError>, what: &str| match result {
        Ok(()) => "ok",
        Err(error) => {
            tracing::warn!(%error, dependency = what, "readiness check failed");
            "unavailable"
        }
    };
    let checks =
        Checks { database: label(&database, "database"), storage: label(&storage, "storage") };
    let ready = database.is_ok() && storage.is_ok();
    let (status, word) = if ready {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
    };
    (status, axum::Json(Health { status: word, checks: Some(checks) })).into_response()
}

/// Request counts and latencies in the Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "ops", responses(
    (status = 200, description = "OpenMetrics text", content_type = "application/openmetrics-text"),
    (status = 500, description = "Metrics could not be rendered", body = ErrorBody)))]
pub async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let text = state.metrics.render().map_err(|e| ApiError::internal(&e))?;
    Ok((
        [(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")],
        text,
    )
        .into_response())
}

/// This API's OpenAPI 3 description, generated from the code.
#[utoipa::path(get, path = "/api/openapi.json", tag = "ops",
    responses((status = 200, description = "OpenAPI 3 document", content_type = "application/json")))]
pub async fn openapi(Extension(doc): Extension<OpenApiJson>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], doc.0.as_str().to_owned()).into_response()
}
