//! The web UI: pages rendered on the server with askama (which escapes everything it writes
//! into HTML), one stylesheet and one script served from `/static`, under the same strict CSP
//! as the API (no inline script or style). Pages read through the same storage functions as
//! the API; every action goes through the JSON API from `static/petal.js`, so each rule is
//! enforced in one place. A page asked for without a session sends the browser to `/login`.

use crate::auth::extract::{
    Authenticated, Authorized, Guard, ManageJobs, ManageSettings, ManageUsers, ReadAudit, ReadJobs,
};
use crate::http::audit::AuditQuery;
use crate::http::documents::{job_with_key, open_view};
use crate::http::results::ResultView;
use crate::http::{ApiError, AppState};
use askama::Template;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use petal_domain::{DocumentId, JobId, Permission, ScreeningEngine};
use petal_screening::criteria::Criterion;
use petal_screening::fairness::proxy_warnings;
use petal_storage::{audit, documents, jobs, orgs, users};
use serde::Deserialize;

/// The pages and their assets.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login))
        .route("/invite", get(invite))
        .route("/jobs", get(job_list))
        .route("/jobs/new", get(new_job))
        .route("/jobs/{id}", get(job_page))
        .route("/documents/{id}", get(candidate_page))
        .route("/audit", get(audit_page))
        .route("/settings", get(settings_page))
        .route("/team", get(team_page))
        .route("/static/petal.css", get(stylesheet))
        .route("/static/petal.js", get(script))
}

/// Who is signed in, for the page header.
struct Me {
    name: String,
    role: String,
    /// Whether the audit log is theirs to read (Admins).
    audit: bool,
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

/// Where a browser without a session goes.
fn to_login() -> Response {
    Redirect::to("/login").into_response()
}

/// Where a page sends a browser that may not see it.
enum Elsewhere {
    /// No (live) session: to `/login`.
    Login,
    /// Signed in without the permission: the guard's own refusal.
    Refused(ApiError),
}

impl IntoResponse for Elsewhere {
    fn into_response(self) -> Response {
        match self {
            Elsewhere::Login => to_login(),
            Elsewhere::Refused(error) => error.into_response(),
        }
    }
}

/// A page's signed-in user, holding the guard's permission, or where the browser goes instead.
fn page_user<G: Guard>(
    session: Result<Authorized<G>, ApiError>,
) -> Result<Authenticated, Elsewhere> {
    match session {
        Ok(authorized) => Ok(authorized.user),
        Err(error) if error.status() == StatusCode::UNAUTHORIZED => Err(Elsewhere::Login),
        Err(error) => Err(Elsewhere::Refused(error)),
    }
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

/// A job as the dashboard lists it.
struct JobRow {
    id: JobId,
    title: String,
    status: String,
    done: i64,
    total: i64,
    created_at: String,
    created_on: String,
}

#[derive(Template)]
#[template(path = "jobs.html")]
struct JobsPage {
    me: Option<Me>,
    idle_seconds: i64,
    jobs: Vec<JobRow>,
    can_create: bool,
}

async fn job_list(
    State(state): State<AppState>,
    session: Result<Authorized<ReadJobs>, ApiError>,
) -> Result<Response, ApiError> {
    let user = match page_user(session) {
        Ok(user) => user,
        Err(elsewhere) => return Ok(elsewhere.into_response()),
    };
    let mut tx = state.db.begin_snapshot(user.scope()).await?;
    let me = Me::read(&mut tx, &user).await?;
    let rows = jobs::list(&mut tx).await?;
    drop(tx);
    let role = user.principal.role;
    let page = JobsPage {
        me: Some(me),
        idle_seconds: idle_seconds(&state),
        jobs: rows
            .into_iter()
            .map(|job| JobRow {
                id: job.id,
                title: job.title,
                status: job.status,
                done: job.done,
                total: job.total,
                created_at: job.created_at.to_rfc3339(),
                created_on: job.created_at.format("%-d %b %Y").to_string(),
            })
            .collect(),
        can_create: role.allows(Permission::ManageJobs),
    };
    Ok(render(&page))
}

/// A criterion as the job page shows it.
struct CriterionRow {
    text: String,
    kind: String,
    weight: String,
}

/// A screened candidate as the job page lists them.
struct ResultRow {
    document_id: DocumentId,
    rank: Option<usize>,
    candidate: String,
    score: u8,
    recommendation: String,
    flags: String,
    decision: String,
}

#[derive(Template)]
#[template(path = "job.html")]
struct JobPage {
    me: Option<Me>,
    idle_seconds: i64,
    id: JobId,
    title: String,
    status: String,
    done: i64,
    total: i64,
    failed: i64,
    criteria: Vec<CriterionRow>,
    /// Wording that stands in for a protected characteristic: the term and why.
    warnings: Vec<(String, String)>,
    results: Vec<ResultRow>,
    can_upload: bool,
}

/// The name a value has in the API (its serde name), for showing enums as the API writes them.
fn api_name(value: &impl serde::Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name.replace('_', " "),
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

#[derive(Template)]
#[template(path = "new_job.html")]
struct NewJobPage {
    me: Option<Me>,
    idle_seconds: i64,
}

/// The new-job form (those who may create jobs); the script sends it to `POST /api/v1/jobs`,
/// whose refusals it shows.
async fn new_job(
    State(state): State<AppState>,
    session: Result<Authorized<ManageJobs>, ApiError>,
) -> Result<Response, ApiError> {
    let user = match page_user(session) {
        Ok(user) => user,
        Err(elsewhere) => return Ok(elsewhere.into_response()),
    };
    let mut tx = state.db.begin_snapshot(user.scope()).await?;
    let me = Me::read(&mut tx, &user).await?;
    drop(tx);
    Ok(render(&NewJobPage { me: Some(me), idle_seconds: idle_seconds(&state) }))
}

/// One job: its criteria, progress, the upload form (for those who may upload) and the ranked
/// candidates, read as `GET /api/v1/jobs/{id}/results` reads them (blind review honoured).
async fn job_page(
    State(state): State<AppState>,
    session: Result<Authorized<ReadJobs>, ApiError>,
    Path(id): Path<JobId>,
) -> Result<Response, ApiError> {
    let user = match page_user(session) {
        Ok(user) => user,
        Err(elsewhere) => return Ok(elsewhere.into_response()),
    };
    let scope = user.scope();
    let mut tx = state.db.begin_snapshot(scope).await?;
    let me = Me::read(&mut tx, &user).await?;
    let job = jobs::get(&mut tx, id).await?.ok_or_else(ApiError::not_found)?;
    drop(tx);
    let criteria: Vec<Criterion> =
        serde_json::from_value(job.criteria).map_err(|e| ApiError::internal(&e))?;
    let results = crate::http::results::ranked(&state, scope, id, true).await?;
    let role = user.principal.role;
    let page = JobPage {
        me: Some(me),
        idle_seconds: idle_seconds(&state),
        id,
        title: job.title,
        status: job.status,
        done: job.done,
        total: job.total,
        failed: job.failed,
        warnings: criteria
            .iter()
            .flat_map(|c| proxy_warnings(&c.text))
            .map(|w| (w.term, w.message.to_owned()))
            .collect(),
        criteria: criteria
            .into_iter()
            .map(|c| CriterionRow {
                kind: api_name(&c.kind),
                weight: api_name(&c.weight),
                text: c.text,
            })
            .collect(),
        results: results
            .into_iter()
            .map(|r| ResultRow {
                document_id: r.document_id,
                rank: r.rank,
                candidate: candidate_name(&r),
                score: r.score,
                recommendation: r.recommendation.as_ref().map(api_name).unwrap_or_default(),
                flags: r.flags.iter().map(api_name).collect::<Vec<_>>().join(", "),
                decision: r.decision.map(|d| d.decision).unwrap_or_default(),
            })
            .collect(),
        can_upload: role.allows(Permission::ManageJobs),
    };
    Ok(render(&page))
}

/// The candidate's name, or (hidden in blind review, or not found on the CV) the document's.
fn candidate_name(result: &ResultView) -> String {
    result.candidate.name.clone().unwrap_or_else(|| {
        format!("CV {}", result.document_id.to_string().get(..8).unwrap_or_default())
    })
}

/// One criterion's verdict as the candidate page shows it.
struct VerdictRow {
    text: String,
    verdict: String,
    verdict_class: String,
    evidence: Vec<String>,
    reason: String,
    knockout_failed: bool,
}

#[derive(Template)]
#[template(path = "candidate.html")]
struct CandidatePage {
    me: Option<Me>,
    idle_seconds: i64,
    document_id: DocumentId,
    job_id: JobId,
    job_title: String,
    candidate: String,
    filename: String,
    rank: Option<usize>,
    score: u8,
    recommendation: String,
    flags: String,
    engine: String,
    criteria: Vec<VerdictRow>,
    decision: Option<(String, String)>,
    can_open: bool,
    can_decide: bool,
}

/// A candidate: each criterion's verdict with the quoted evidence, the decision, and (for those
/// who may) opening the original and recording a decision. Read as the API reads it.
async fn candidate_page(
    State(state): State<AppState>,
    session: Result<Authorized<ReadJobs>, ApiError>,
    Path(id): Path<DocumentId>,
) -> Result<Response, ApiError> {
    let user = match page_user(session) {
        Ok(user) => user,
        Err(elsewhere) => return Ok(elsewhere.into_response()),
    };
    let scope = user.scope();
    let mut tx = state.db.begin_snapshot(scope).await?;
    let me = Me::read(&mut tx, &user).await?;
    let document = documents::get(&mut tx, id).await?.ok_or_else(ApiError::not_found)?;
    let (job, key) = job_with_key(&state, &mut tx, document.job_id).await?;
    let blind = orgs::settings(&mut tx).await?.blind_review;
    drop(tx);
    let filename = open_view(&key, document, blind)?.filename;
    let results = crate::http::results::ranked(&state, scope, job.id, true).await?;
    let result =
        results.into_iter().find(|r| r.document_id == id).ok_or_else(ApiError::not_found)?;
    let criteria: Vec<Criterion> =
        serde_json::from_value(job.criteria).map_err(|e| ApiError::internal(&e))?;
    let role = user.principal.role;
    let page = CandidatePage {
        me: Some(me),
        idle_seconds: idle_seconds(&state),
        document_id: id,
        job_id: job.id,
        job_title: job.title,
        candidate: candidate_name(&result),
        filename,
        rank: result.rank,
        score: result.score,
        recommendation: result.recommendation.as_ref().map(api_name).unwrap_or_default(),
        flags: result.flags.iter().map(api_name).collect::<Vec<_>>().join(", "),
        engine: result.engine.clone(),
        criteria: result
            .criteria
            .iter()
            .map(|c| VerdictRow {
                text: criteria
                    .iter()
                    .find(|k| k.id == c.criterion_id)
                    .map_or_else(|| c.criterion_id.clone(), |k| k.text.clone()),
                verdict: api_name(&c.verdict),
                verdict_class: api_name(&c.verdict).replace(' ', "-"),
                evidence: c.evidence.iter().map(|e| e.quote.clone()).collect(),
                reason: c.reason.clone(),
                knockout_failed: c.knockout_failed,
            })
            .collect(),
        decision: result.decision.map(|d| (d.decision, d.note)),
        can_open: role.allows(Permission::OpenDocuments),
        can_decide: role.allows(Permission::RecordDecisions),
    };
    Ok(render(&page))
}

/// One audit event as the log page lists it.
struct EventRow {
    seq: i64,
    time: String,
    action: String,
    outcome: String,
    actor: String,
    target: String,
    ip: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    me: Option<Me>,
    idle_seconds: i64,
    action: String,
    actor: String,
    target: String,
    from: String,
    to: String,
    /// The filters as `&name=value…`, for the export links.
    export_query: String,
    problem: Option<String>,
    events: Vec<EventRow>,
    /// The query of the next (older) page.
    next_page: Option<String>,
}

/// Events per page of the audit log.
const AUDIT_PAGE: usize = 50;

/// The audit log (Admins): filtered and paged as `GET /api/v1/audit` is (its own query
/// parsing), with export links and a button that verifies the chain.
async fn audit_page(
    State(state): State<AppState>,
    session: Result<Authorized<ReadAudit>, ApiError>,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let user = match page_user(session) {
        Ok(user) => user,
        Err(elsewhere) => return Ok(elsewhere.into_response()),
    };
    let mut query = query.map(|Query(q)| q).unwrap_or_default();
    // A blank field in the form is no filter.
    for field in [
        &mut query.action,
        &mut query.actor,
        &mut query.target,
        &mut query.from,
        &mut query.to,
        &mut query.cursor,
    ] {
        if field.as_deref().is_some_and(|v| v.trim().is_empty()) {
            *field = None;
        }
    }
    query.limit = None;
    let shown = |v: &Option<String>| v.clone().unwrap_or_default();
    // The serializer is not `Send`: it is gone before the first await.
    let filters = {
        let mut filters = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("action", &query.action),
            ("actor", &query.actor),
            ("target", &query.target),
            ("from", &query.from),
            ("to", &query.to),
        ] {
            if let Some(value) = value {
                filters.append_pair(name, value);
            }
        }
        filters.finish()
    };
    let mut page = AuditPage {
        me: None,
        idle_seconds: idle_seconds(&state),
        action: shown(&query.action),
        actor: shown(&query.actor),
        target: shown(&query.target),
        from: shown(&query.from),
        to: shown(&query.to),
        export_query: if filters.is_empty() { String::new() } else { format!("&{filters}") },
        problem: None,
        events: Vec::new(),
        next_page: None,
    };
    let mut tx = state.db.begin_snapshot(user.scope()).await?;
    page.me = Some(Me::read(&mut tx, &user).await?);
    match query.parse() {
        Err(_) => {
            page.problem = Some(
                "Check the filters: times are RFC 3339 (2026-12-05T09:00:00Z), the actor is a \
                 user id."
                    .to_owned(),
            );
        }
        Ok((filter, _)) => {
            let limit = i64::try_from(AUDIT_PAGE + 1).unwrap_or(i64::MAX);
            let mut records = audit::list(&mut tx, &filter, limit).await?;
            if records.len() > AUDIT_PAGE {
                records.truncate(AUDIT_PAGE);
                page.next_page = records.last().map(|r| {
                    let cursor = format!("cursor={}", r.seq);
                    if filters.is_empty() { cursor } else { format!("{filters}&{cursor}") }
                });
            }
            page.events = records
                .into_iter()
                .map(|r| EventRow {
                    seq: r.seq,
                    time: r.occurred_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                    action: r.action,
                    outcome: r.outcome,
                    actor: match (r.actor_role, r.actor_id) {
                        (Some(role), Some(id)) => {
                            format!("{role} {}", id.to_string().get(..8).unwrap_or_default())
                        }
                        _ => r.actor_kind,
                    },
                    target: match (r.target_kind, r.target_id) {
                        (Some(kind), Some(id)) => format!("{kind} {}", id.get(..8).unwrap_or(&id)),
                        _ => String::new(),
                    },
                    ip: r.ip.unwrap_or_default(),
                })
                .collect();
        }
    }
    drop(tx);
    Ok(render(&page))
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    me: Option<Me>,
    idle_seconds: i64,
    retention_days: u32,
    /// Each engine this server offers, and whether it is the organisation's.
    engines: Vec<(String, bool)>,
    blind_review: bool,
}

/// The organisation's settings, its export and candidate erasure (Admins). Each goes through
/// the API, which asks for a recent password and code; the page then asks for them.
async fn settings_page(
    State(state): State<AppState>,
    session: Result<Authorized<ManageSettings>, ApiError>,
) -> Result<Response, ApiError> {
    let user = match page_user(session) {
        Ok(user) => user,
        Err(elsewhere) => return Ok(elsewhere.into_response()),
    };
    let mut tx = state.db.begin_snapshot(user.scope()).await?;
    let me = Me::read(&mut tx, &user).await?;
    let settings = orgs::settings(&mut tx).await?;
    drop(tx);
    let engines = [ScreeningEngine::Local, ScreeningEngine::Anthropic, ScreeningEngine::OpenAi]
        .into_iter()
        .filter(|e| *e == ScreeningEngine::Local || state.remote.configured(*e))
        .map(|e| (e.as_str().to_owned(), e == settings.screening_engine))
        .collect();
    Ok(render(&SettingsPage {
        me: Some(me),
        idle_seconds: idle_seconds(&state),
        retention_days: settings.retention_days,
        engines,
        blind_review: settings.blind_review,
    }))
}

/// A member of the team as the page lists them.
struct MemberRow {
    id: String,
    name: String,
    email: String,
    role: String,
    active: bool,
    mfa: bool,
    /// The Admin looking: they cannot change or deactivate themselves here.
    me: bool,
}

#[derive(Template)]
#[template(path = "team.html")]
struct TeamPage {
    me: Option<Me>,
    idle_seconds: i64,
    users: Vec<MemberRow>,
    roles: [&'static str; 3],
}

/// The team (Admins): roles, second-factor resets, deactivation and invitations, each through
/// the API.
async fn team_page(
    State(state): State<AppState>,
    session: Result<Authorized<ManageUsers>, ApiError>,
) -> Result<Response, ApiError> {
    let user = match page_user(session) {
        Ok(user) => user,
        Err(elsewhere) => return Ok(elsewhere.into_response()),
    };
    let mut tx = state.db.begin_snapshot(user.scope()).await?;
    let me = Me::read(&mut tx, &user).await?;
    let members = users::list(&mut tx).await?;
    drop(tx);
    let users = members
        .into_iter()
        .map(|u| MemberRow {
            id: u.id.to_string(),
            mfa: u.has_factor(),
            me: u.id == user.principal.user_id,
            name: u.name,
            email: u.email,
            role: u.role.as_str().to_owned(),
            active: u.active,
        })
        .collect();
    Ok(render(&TeamPage {
        me: Some(me),
        idle_seconds: idle_seconds(&state),
        users,
        roles: ["admin", "reviewer", "viewer"],
    }))
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
