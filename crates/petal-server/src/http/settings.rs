//! The organisation's settings: which engine screens its CVs, whether reviewers see
//! candidates blind, and how long jobs are kept. Admins only; a change needs a recent step-up
//! (choosing a remote engine sends candidates' CV text out of Petal) and is audited with
//! before and after.

use super::{ApiError, AppState, ErrorBody};
use crate::auth::extract::{Authorized, ManageSettings};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use petal_domain::audit::{AuditAction, AuditEvent, Detail};
use petal_domain::{OrgSettings, ScreeningEngine};
use petal_storage::{audit, orgs};
use serde::{Deserialize, Serialize};

/// Longest retention accepted, in days (100 years).
const MAX_RETENTION_DAYS: u32 = 36_500;

/// The settings as the API shows them.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SettingsView {
    /// Days after their last activity that jobs are purged; 0 keeps them.
    retention_days: u32,
    /// `local`, `anthropic` or `openai`.
    #[schema(value_type = String)]
    screening_engine: ScreeningEngine,
    /// Reviewers see candidates without name, email, phone or links.
    blind_review: bool,
    /// The engines this server is configured for.
    #[schema(value_type = Vec<String>)]
    available_engines: Vec<ScreeningEngine>,
}

/// A change of settings; fields left out keep their value.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsChange {
    retention_days: Option<u32>,
    /// `local`, `anthropic` or `openai`.
    #[schema(value_type = Option<String>)]
    screening_engine: Option<ScreeningEngine>,
    blind_review: Option<bool>,
}

fn view(state: &AppState, settings: &OrgSettings) -> SettingsView {
    let available_engines =
        [ScreeningEngine::Local, ScreeningEngine::Anthropic, ScreeningEngine::OpenAi]
            .into_iter()
            .filter(|e| *e == ScreeningEngine::Local || state.remote.configured(*e))
            .collect();
    SettingsView {
        retention_days: settings.retention_days,
        screening_engine: settings.screening_engine,
        blind_review: settings.blind_review,
        available_engines,
    }
}

/// The organisation's settings (Admin).
#[utoipa::path(get, path = "/api/v1/org/settings", tag = "organisation",
    responses((status = 200, body = SettingsView), (status = 403, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    admin: Authorized<ManageSettings>,
) -> Result<Json<SettingsView>, ApiError> {
    let mut tx = state.db.begin_snapshot(admin.user.scope()).await?;
    let settings = orgs::settings(&mut tx).await?;
    drop(tx);
    Ok(Json(view(&state, &settings)))
}

/// Changes the organisation's settings (Admin, after a step-up); audited with before and after.
#[utoipa::path(patch, path = "/api/v1/org/settings", tag = "organisation",
    request_body = SettingsChange,
    responses((status = 200, body = SettingsView), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn change(
    State(state): State<AppState>,
    admin: Authorized<ManageSettings>,
    Json(change): Json<SettingsChange>,
) -> Result<Json<SettingsView>, ApiError> {
    let now = state.clock.now();
    admin.user.require_recent_reauth(now)?;
    if change.retention_days.is_some_and(|days| days > MAX_RETENTION_DAYS) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_retention",
            "retention_days must be from 0 (keep) to 36500.",
        ));
    }
    if let Some(engine) = change.screening_engine
        && engine.is_remote()
        && !state.remote.configured(engine)
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "engine_not_configured",
            "This server has no settings for that engine; its operator must configure it first.",
        ));
    }
    let mut tx = state.db.begin_scoped(admin.user.scope()).await?;
    let before = orgs::settings(&mut tx).await?;
    let after = OrgSettings {
        screening_engine: change.screening_engine.unwrap_or(before.screening_engine),
        blind_review: change.blind_review.unwrap_or(before.blind_review),
        retention_days: change.retention_days.unwrap_or(before.retention_days),
    };
    orgs::set_settings(&mut tx, &after).await?;
    let describe = |s: &OrgSettings| {
        format!(
            "screening_engine={} blind_review={} retention_days={}",
            s.screening_engine, s.blind_review, s.retention_days
        )
    };
    let event = AuditEvent::success(AuditAction::SettingsChanged, None)
        .detail("before", Detail::Label(describe(&before)))
        .detail("after", Detail::Label(describe(&after)));
    audit::append(&mut tx, now, &admin.user.audit(), &event).await?;
    tx.commit().await?;
    Ok(Json(view(&state, &after)))
}
