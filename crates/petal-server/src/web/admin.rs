//! The Admins' pages: the audit log, the organisation's settings and the team.

use super::{Me, PageError, idle_seconds, open_page, page_user, render};
use crate::auth::extract::{Authorized, ManageSettings, ManageUsers, ReadAudit};
use crate::http::audit::AuditQuery;
use crate::http::{ApiError, AppState};
use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use petal_domain::ScreeningEngine;
use petal_storage::{audit, orgs, users};
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
pub(super) async fn audit_page(
    State(state): State<AppState>,
    session: Result<Authorized<ReadAudit>, ApiError>,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let user = page_user(session)?;
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
    let (mut tx, me) = open_page(&state, &user).await?;
    page.me = Some(me);
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
pub(super) async fn settings_page(
    State(state): State<AppState>,
    session: Result<Authorized<ManageSettings>, ApiError>,
) -> Result<Response, PageError> {
    let user = page_user(session)?;
    let (mut tx, me) = open_page(&state, &user).await?;
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
pub(super) async fn team_page(
    State(state): State<AppState>,
    session: Result<Authorized<ManageUsers>, ApiError>,
) -> Result<Response, PageError> {
    let user = page_user(session)?;
    let (mut tx, me) = open_page(&state, &user).await?;
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
