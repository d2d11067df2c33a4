//! The web UI: pages rendered on the server with askama (which escapes everything it writes
//! into HTML), one stylesheet and one script served from `/static`, under the same strict CSP
//! as the API (no inline script or style). Pages read through the same storage functions as
//! the API; every action goes through the JSON API from `static/petal.js`, so each rule is
//! enforced in one place. A page asked for without a session sends the browser to `/login`.

use crate::auth::extract::{Authenticated, Authorized, Guard, ReadJobs};
use crate::http::{ApiError, AppState};
use askama::Template;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use petal_domain::Permission;
use petal_storage::users;
use serde::Deserialize;

mod admin;
mod charts;
mod cv_text;
mod jobs;
mod security;

/// The pages and their assets.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login))
        .route("/invite", get(invite))
        .route("/jobs", get(jobs::job_list))
        .route("/jobs/new", get(jobs::new_job))
        .route("/jobs/{id}", get(jobs::job_page))
        .route("/documents/{id}", get(jobs::candidate_page))
        .route("/documents/{id}/text", get(cv_text::cv_text_page))
        .route("/audit", get(admin::audit_page))
        .route("/settings", get(admin::settings_page))
        .route("/team", get(admin::team_page))
        .route("/security", get(security::security_page))
        .route("/static/petal.css", get(stylesheet))
        .route("/static/petal.js", get(script))
}

/// Who is signed in, for the page header.
struct Me {
    name: String,
    role: String,
    /// Whether the audit log is theirs to read (Admins).
    audit: bool,
    /// Whether they have an authenticator app.
    totp: bool,
    /// Whether they can confirm a step-up with a text message.
    sms: bool,
    /// Whether they can confirm a step-up with a passkey.
    passkey: bool,
}

impl Me {
    /// The signed-in user, read in the page's transaction.
    async fn read(tx: &mut petal_storage::ScopedTx, user: &Authenticated) -> Result<Me, ApiError> {
        let principal = &user.principal;
        let profile = users::get(tx, principal.user_id).await?.ok_or_else(ApiError::not_found)?;
        Ok(Me {
            name: profile.name,
            role: principal.role.as_str().to_owned(),
            audit: principal.role.allows(Permission::ReadAudit),
            totp: profile.totp_enabled,
            sms: profile.sms_enabled,
            passkey: profile.passkey_enabled,
        })
    }
}

/// Renders `page`, or answers a generic 500 (the cause is logged).
fn render(page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => ApiError::internal(&e).into_response(),
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    me: Option<Me>,
    idle_seconds: i64,
    status: u16,
    heading: &'static str,
    message: &'a str,
}

/// Where a page sends a browser it does not show: to `/login` without a (live) session;
/// otherwise an HTML page with the API error's status and message (the API's own routes
/// answer JSON).
pub(super) enum PageError {
    /// No (live) session.
    Login,
    /// Refused (a permission, another organisation's id) or failed.
    Refused(ApiError),
}

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> Self {
        PageError::Refused(error)
    }
}

impl From<petal_storage::StorageError> for PageError {
    fn from(error: petal_storage::StorageError) -> Self {
        PageError::Refused(error.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let error = match self {
            PageError::Login => return to_login(),
            PageError::Refused(error) => error,
        };
        let status = error.status();
        let heading = match status {
            StatusCode::FORBIDDEN => "Not for your role",
            StatusCode::NOT_FOUND => "Not found",
            s if s.is_server_error() => "Something went wrong",
            _ => "This cannot be shown",
        };
        let page = ErrorPage {
            me: None,
            idle_seconds: 0,
            status: status.as_u16(),
            heading,
            message: error.message(),
        };
        match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(e) => ApiError::internal(&e).into_response(),
        }
    }
}

/// Where a browser without a session goes.
fn to_login() -> Response {
    Redirect::to("/login").into_response()
}

/// A page's signed-in user, or where the browser goes instead.
fn page_session(session: Result<Authenticated, ApiError>) -> Result<Authenticated, PageError> {
    match session {
        Ok(user) => Ok(user),
        Err(error) if error.status() == StatusCode::UNAUTHORIZED => Err(PageError::Login),
        Err(error) => Err(PageError::Refused(error)),
    }
}

/// A page's signed-in user, holding the guard's permission, or where the browser goes instead.
fn page_user<G: Guard>(
    session: Result<Authorized<G>, ApiError>,
) -> Result<Authenticated, PageError> {
    page_session(session.map(|authorized| authorized.user))
}

/// What every page reads first: a snapshot of the user's organisation, and who they are (for
/// the header).
async fn open_page(
    state: &AppState,
    user: &Authenticated,
) -> Result<(petal_storage::ScopedTx, Me), PageError> {
    let mut tx = state.db.begin_snapshot(user.scope()).await?;
    let me = Me::read(&mut tx, user).await?;
    Ok((tx, me))
}

fn idle_seconds(state: &AppState) -> i64 {
    state.auth.idle.num_seconds()
}

async fn home(session: Result<Authorized<ReadJobs>, ApiError>) -> Response {
    match session {
        Ok(_) => Redirect::to("/jobs").into_response(),
        Err(_) => to_login(),
    }
}

#[derive(Deserialize)]
struct LoginQuery {
    expired: Option<String>,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    me: Option<Me>,
    idle_seconds: i64,
    expired: bool,
}

async fn login(
    State(state): State<AppState>,
    query: Result<Query<LoginQuery>, QueryRejection>,
) -> Response {
    let expired = query.is_ok_and(|Query(q)| q.expired.is_some());
    render(&LoginPage { me: None, idle_seconds: idle_seconds(&state), expired })
}

#[derive(Template)]
#[template(path = "invite.html")]
struct InvitePage {
    me: Option<Me>,
    idle_seconds: i64,
}

/// Accepting an invite: the token stays in the link's fragment, read by the script.
async fn invite(State(state): State<AppState>) -> Response {
    render(&InvitePage { me: None, idle_seconds: idle_seconds(&state) })
}

/// The name a value has in the API (its serde name), for showing enums as the API writes them.
pub(super) fn api_name(value: &impl serde::Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name.replace('_', " "),
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// A static asset, cached for an hour.
fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600")),
        ],
        body,
    )
        .into_response()
}

async fn stylesheet() -> Response {
    asset("text/css; charset=utf-8", include_str!("../../static/petal.css"))
}

async fn script() -> Response {
    asset("text/javascript; charset=utf-8", include_str!("../../static/petal.js"))
}
