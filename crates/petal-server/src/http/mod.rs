//! The HTTP API: routes, the layers every request passes through, and shared state.
//!
//! Every route is registered through [`utoipa_axum`]'s `routes!`, which adds it to the router
//! and to the OpenAPI document at once, so the document cannot omit a served route.

pub(crate) mod audit;
pub(crate) mod documents;
mod erasure;
mod error;
mod exports;
mod factors;
pub(crate) mod jobs;
pub mod links;
mod login;
mod me;
mod observe;
mod ops;
mod passkeys;
mod progress;
pub(crate) mod results;
mod security;
mod session;
mod settings;
pub(crate) mod users;

pub use error::{ApiError, ErrorBody};
pub use observe::{HttpMetrics, RequestId};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use petal_storage::Database;
use petal_storage::objects::ObjectStorage;
use std::sync::Arc;
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Largest request body accepted by API routes (uploads will set their own limit).
const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Longest time a request may take before it is answered with 408.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest time an upload may take.
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// Room for multipart headers and boundaries beyond the files' own bytes.
const MULTIPART_OVERHEAD: u64 = 1024 * 1024;

/// What handlers share.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: Database,
    /// The object store.
    pub objects: ObjectStorage,
    /// The key hierarchy.
    pub vault: crate::vault::Vault,
    /// Signs and checks document links.
    pub links: Arc<links::LinkSigner>,
    /// Upload size limits.
    pub uploads: crate::upload::UploadLimits,
    /// The longest time one document may take to read (`PETAL_READ_TIMEOUT`).
    pub read_timeout: std::time::Duration,
    /// Request metrics.
    pub metrics: Arc<HttpMetrics>,
    /// Authentication keys and session settings.
    pub auth: Arc<crate::auth::Auth>,
    /// The clock every decision about time reads.
    pub clock: Arc<dyn petal_domain::Clock>,
    /// Base of the links Petal hands out.
    pub public_url: url::Url,
    /// Peers whose forwarding headers are believed.
    pub trusted_proxies: Arc<Vec<ipnet::IpNet>>,
    /// Outgoing mail.
    pub mailer: Arc<crate::notify::mail::Mailer>,
    /// Outgoing text messages.
    pub sms: Arc<crate::notify::sms::SmsSender>,
    /// The alert webhook, if configured.
    pub webhook: Option<Arc<crate::notify::webhook::WebhookSender>>,
    /// Wakes this process's screening workers when documents are queued.
    pub wakeup: crate::screening::Wakeup,
    /// The remote screening engines this server is configured for.
    pub remote: Arc<crate::screening::remote::RemoteEngines>,
    /// Signs and checks the audit trail's checkpoints and anchors.
    pub sealer: Arc<crate::audit_seals::AuditSealer>,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Petal",
        description = "CV screening with evidence, encryption and a tamper-evident audit trail.",
        license(name = "Apache-2.0")
    ),
    tags(
        (name = "ops", description = "Liveness, readiness, metrics and this document"),
        (name = "auth", description = "Signing in: password, second factor, session"),
        (name = "me", description = "The signed-in user's own account"),
        (name = "users", description = "Invitations and user administration (Admins)"),
        (name = "jobs", description = "Screening jobs"),
        (name = "documents", description = "CVs: upload, list, signed links, deletion"),
        (name = "results", description = "Ranked results, decisions, re-screening, progress"),
        (name = "organisation", description = "The organisation's settings"),
        (name = "audit", description = "The audit log and its verification"),
        (name = "data", description = "Data control: candidate erasure"),
        (name = "security", description = "Security alerts (Admins)")
    )
)]
struct ApiDoc;

/// Every route with its OpenAPI description.
fn api() -> OpenApiRouter<AppState> {
    json_api().merge(upload_api()).merge(stream_api())
}

/// Long-lived streams: background traffic (not session activity), no request deadline.
fn stream_api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(progress::events))
        .layer(axum::middleware::map_request(progress::as_background))
}

/// The upload route, which takes large multipart bodies and may run longer.
fn upload_api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(documents::upload))
}

/// Every other route: small JSON bodies, short deadlines.
fn json_api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::readyz))
        .routes(routes!(ops::metrics))
        .routes(routes!(ops::openapi))
        .routes(routes!(users::accept))
        .routes(routes!(users::invite))
        .routes(routes!(users::list))
        .routes(routes!(users::change_role, users::deactivate))
        .routes(routes!(users::reset_mfa))
        .routes(routes!(login::login))
        .routes(routes!(login::totp_setup))
        .routes(routes!(login::totp_activate))
        .routes(routes!(login::sms_setup))
        .routes(routes!(login::sms_activate))
        .routes(routes!(login::mfa_challenge))
        .routes(routes!(passkeys::register_start))
        .routes(routes!(passkeys::register_finish))
        .routes(routes!(passkeys::login_start))
        .routes(routes!(passkeys::login_finish))
        .routes(routes!(login::mfa_verify))
        .routes(routes!(login::reauth))
        .routes(routes!(passkeys::step_up_start))
        .routes(routes!(passkeys::step_up_finish))
        .routes(routes!(login::logout))
        .routes(routes!(me::me))
        .routes(routes!(me::my_sessions))
        .routes(routes!(me::revoke_session))
        .routes(routes!(me::change_password))
        .routes(routes!(me::regenerate_backup_codes))
        .routes(routes!(factors::totp_setup))
        .routes(routes!(factors::totp_activate))
        .routes(routes!(factors::phone_setup))
        .routes(routes!(factors::phone_verify))
        .routes(routes!(factors::sms_code))
        .routes(routes!(security::alerts))
        .routes(routes!(jobs::create, jobs::list))
        .routes(routes!(jobs::get, jobs::delete))
        .routes(routes!(jobs::set_criteria))
        .routes(routes!(jobs::check_criteria))
        .routes(routes!(documents::list))
        .routes(routes!(documents::get, documents::delete))
        .routes(routes!(links::issue))
        .routes(routes!(links::content))
        .routes(routes!(results::list))
        .routes(routes!(results::decide))
        .routes(routes!(results::rescreen))
        .routes(routes!(results::manual_review))
        .routes(routes!(settings::get, settings::change))
        .routes(routes!(audit::list))
        .routes(routes!(audit::verify))
        .routes(routes!(audit::checkpoint))
        .routes(routes!(audit::export))
        .routes(routes!(erasure::erase))
        .routes(routes!(exports::request))
        .routes(routes!(exports::get))
        .routes(routes!(exports::content))
}

/// The OpenAPI document for every route [`router`] serves.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().split_for_parts().1
}

/// The headers on every response: a strict CSP with no inline script or style, no framing,
/// no sniffing, no referrer and no powerful browser features.
const SECURITY_HEADERS: [(&str, &str); 6] = [
    (
        "content-security-policy",
        "default-src 'self'; base-uri 'none'; object-src 'none'; form-action 'self'; \
         frame-ancestors 'none'",
    ),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    (
        "permissions-policy",
        "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
    ),
    ("cross-origin-opener-policy", "same-origin"),
];

/// Builds the application: routes, fallbacks and the layers every response passes through.
/// `tls` adds `Strict-Transport-Security`.
pub fn router(state: AppState, tls: bool) -> Result<Router, serde_json::Error> {
    let (routes, mut doc) = json_api().split_for_parts();
    let (uploads, upload_doc) = upload_api().split_for_parts();
    let (streams, stream_doc) = stream_api().split_for_parts();
    doc.merge(upload_doc);
    doc.merge(stream_doc);
    let doc = ops::OpenApiJson(Arc::new(doc.to_json()?));
    let upload_limit =
        usize::try_from(state.uploads.per_request.saturating_add(MULTIPART_OVERHEAD))
            .unwrap_or(usize::MAX);
    let uploads = uploads
        .layer(DefaultBodyLimit::max(upload_limit))
        .layer(RequestBodyLimitLayer::new(upload_limit))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, UPLOAD_TIMEOUT));
    let mut headers: Vec<(HeaderName, HeaderValue)> = SECURITY_HEADERS
        .iter()
        .map(|(name, value)| (HeaderName::from_static(name), HeaderValue::from_static(value)))
        .collect();
    if tls {
        headers.push((
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        ));
    }
    let inner = routes
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
        .merge(uploads)
        .merge(streams)
        .merge(crate::web::routes())
        .fallback(|| async { ApiError::route_not_found() })
        .layer(axum::Extension(doc))
        .layer(CatchPanicLayer::new())
        .layer(axum::middleware::from_fn(error::json_errors))
        // API answers are personal and must not be cached unless a route says otherwise.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));
    let with_headers = headers.into_iter().fold(inner, |router, (name, value)| {
        // A route may set a stricter CSP of its own (document downloads are sandboxed).
        if name == header::CONTENT_SECURITY_POLICY {
            router.layer(SetResponseHeaderLayer::if_not_present(name, value))
        } else {
            router.layer(SetResponseHeaderLayer::overriding(name, value))
        }
    });
    Ok(with_headers
        .layer(axum::middleware::from_fn_with_state(state.clone(), observe::observe))
        .with_state(state))
}
