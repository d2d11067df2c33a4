//! The one error type at the HTTP edge, and the guarantee that every error response has the
//! SPEC §4 shape `{"error": {"code", "message"}}`.

use axum::Json;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An error answered to a client. Each carries its status and a stable snake_case code;
/// 5xx messages are generic, and their cause is logged once where the error is made.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

#[derive(Serialize, utoipa::ToSchema)]
/// The error body of every failed request.
pub struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
/// A machine-readable code and a human-readable message.
pub struct ErrorDetail {
    code: &'static str,
    message: String,
}

impl ApiError {
    /// An error with an explicit status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into() }
    }

    /// The status it is answered with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The message for the person, as the body carries it.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// 404: also the answer for another organisation's ids, which behave exactly like ids
    /// that do not exist.
    pub fn not_found() -> Self {
        Self::for_status(StatusCode::NOT_FOUND)
    }

    /// 404 for a path no route serves (distinct from a missing resource, for clients and
    /// for the test that compares the router with the OpenAPI document).
    pub fn route_not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "route_not_found", "No such route.")
    }

    /// 500 with a generic message; `cause` is logged here, never sent.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::for_status(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The default code and message for a status.
    fn for_status(status: StatusCode) -> Self {
        let (code, message) = match status.as_u16() {
            400 => ("bad_request", "The request is malformed."),
            401 => ("unauthenticated", "Authentication is required."),
            403 => ("forbidden", "You may not do this."),
            404 => ("not_found", "Not found."),
            405 => ("method_not_allowed", "This method is not allowed here."),
            408 => ("request_timeout", "The request took too long."),
            409 => ("conflict", "The request conflicts with the current state."),
            413 => ("payload_too_large", "The request body is too large."),
            415 => ("unsupported_media_type", "This content type is not supported."),
            422 => ("invalid", "The request is invalid."),
            429 => ("too_many_requests", "Too many requests; try again later."),
            503 => ("unavailable", "The service is unavailable."),
            s if s >= 500 => ("internal_error", "Something went wrong on our side."),
            _ => ("error", "The request failed."),
        };
        Self::new(status, code, message)
    }
}

impl From<petal_storage::StorageError> for ApiError {
    fn from(error: petal_storage::StorageError) -> Self {
        ApiError::internal(&error)
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(error: anyhow::Error) -> Self {
        ApiError::internal(&format!("{error:#}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody { error: ErrorDetail { code: self.code, message: self.message } };
        (self.status, Json(body)).into_response()
    }
}

/// Replaces any error response that is not already JSON or a web page's own HTML error page
/// (so axum's 405, tower-http's 408 and 413, a caught panic's 500) with the standard error
/// body, keeping headers such as `Allow` and `Retry-After`.
pub async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let answered = response.headers().get(header::CONTENT_TYPE).is_some_and(|v| {
        v.as_bytes().starts_with(b"application/json") || v.as_bytes().starts_with(b"text/html")
    });
    if !(status.is_client_error() || status.is_server_error()) || answered {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Response::from_parts(parts, ApiError::for_status(status).into_response().into_body())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;

    #[tokio::test]
    async fn plain_errors_become_json_and_keep_their_headers() {
        let app = Router::new()
            .route(
                "/slow-down",
                get(|| async {
                    (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "7")], "plain text")
                }),
            )
            .layer(axum::middleware::from_fn(json_errors));
        let request = Request::builder().uri("/slow-down").body(Body::empty()).unwrap();
        let response = app.oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "7");
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
        let body = axum::body::to_bytes(response.into_body(), 4096).await.unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["error"]["code"], "too_many_requests");
    }

    #[tokio::test]
    async fn a_pages_own_html_error_is_kept() {
        let app = Router::new()
            .route(
                "/page",
                get(|| async {
                    (StatusCode::FORBIDDEN, axum::response::Html("<h1>Not for your role</h1>"))
                }),
            )
            .layer(axum::middleware::from_fn(json_errors));
        let request = Request::builder().uri("/page").body(Body::empty()).unwrap();
        let response = app.oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "text/html; charset=utf-8");
        let body = axum::body::to_bytes(response.into_body(), 4096).await.unwrap();
        assert_eq!(&body[..], b"<h1>Not for your role</h1>");
    }
}
