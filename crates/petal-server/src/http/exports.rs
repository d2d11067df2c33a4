//! Exporting all of the organisation's data (Admin): request it (after a step-up), follow its
//! progress, and fetch the ZIP through a signed link that also needs the requester's session.
//! Requests and downloads, refused or not, are audited.

use super::links::{LinkClaims, LinkTarget, SignedLink, content_disposition, decrypting_stream};
use super::{ApiError, AppState, ErrorBody};
use crate::auth::extract::{Authorized, ControlData};
use axum::Json;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, Utc};
use petal_crypto::envelope::Opener;
use petal_domain::ExportId;
use petal_domain::audit::{AuditAction, AuditEvent, Detail, Target};
use petal_storage::{audit, exports};
use serde::Serialize;

/// A build that has not reported progress for this long was interrupted (its server stopped).
const STALLED_AFTER: chrono::Duration = chrono::Duration::minutes(10);

fn target(id: ExportId) -> Target {
    Target { kind: "export", id: id.to_string() }
}

/// An export as the API shows it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ExportView {
    #[schema(value_type = String, format = Uuid)]
    id: ExportId,
    /// `running`, `ready`, `failed` or `expired` (a day after it was asked for, its ZIP is
    /// deleted and its key destroyed).
    status: &'static str,
    /// Documents written so far, of `documents_total`.
    documents_done: i64,
    documents_total: i64,
    requested_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
    /// The encrypted ZIP's size in bytes, once ready.
    size_bytes: Option<i64>,
    /// Once ready: a link for the requester alone, valid for the signed-link lifetime; ask
    /// again for a fresh one.
    download: Option<SignedLink>,
}

fn view(
    state: &AppState,
    admin: &Authorized<ControlData>,
    export: exports::Export,
    now: DateTime<Utc>,
) -> Result<ExportView, ApiError> {
    let status = match export.status.as_str() {
        "ready" => "ready",
        "expired" => "expired",
        "running" if now - export.updated_at < STALLED_AFTER => "running",
        _ => "failed",
    };
    let download = if status == "ready" && export.requested_by == admin.user.principal.user_id {
        let path = format!("/api/v1/exports/{}/content", export.id);
        let (org, me) = (admin.user.scope().org_id(), admin.user.principal.user_id);
        Some(SignedLink::issue(state, LinkTarget::Export(export.id), org, me, &path, now)?)
    } else {
        None
    };
    Ok(ExportView {
        id: export.id,
        status,
        documents_done: export.documents_done,
        documents_total: export.documents_total,
        requested_at: export.requested_at,
        finished_at: export.finished_at,
        size_bytes: export.size_bytes,
        download,
    })
}

/// Starts an export of all of the organisation's data (Admin, after a step-up): jobs,
/// criteria, candidates, results, decisions, the original documents decrypted, the team and
/// the audit log, as one ZIP built in the background. Answers the export to follow with
/// `GET /api/v1/exports/{id}`.
#[utoipa::path(post, path = "/api/v1/org/export", tag = "data",
    responses((status = 202, body = ExportView), (status = 403, body = ErrorBody)))]
pub async fn request(
    State(state): State<AppState>,
    admin: Authorized<ControlData>,
) -> Result<(StatusCode, Json<ExportView>), ApiError> {
    let now = state.clock.now();
    admin.user.require_recent_reauth(now)?;
    let id = ExportId::new();
    let scope = admin.user.scope().clone();
    let mut tx = state.db.begin_scoped(&scope).await?;
    let (key, wrapped) =
        state.vault.new_export_key(&mut tx, id, now).await.map_err(|e| ApiError::internal(&e))?;
    exports::insert(&mut tx, id, admin.user.principal.user_id, &wrapped, now).await?;
    let event = AuditEvent::success(AuditAction::ExportRequested, Some(target(id)));
    audit::append(&mut tx, now, &admin.user.audit(), &event).await?;
    let export = exports::get(&mut tx, id).await?.ok_or_else(ApiError::not_found)?;
    tx.commit().await?;
    tokio::spawn(crate::org_export::build(state.clone(), scope, id, key));
    Ok((StatusCode::ACCEPTED, Json(view(&state, &admin, export, now)?)))
}

/// An export's progress and, when ready, a signed link to it for the Admin who asked for it
/// (Admin); another organisation's is 404.
#[utoipa::path(get, path = "/api/v1/exports/{id}", tag = "data",
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = ExportView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    admin: Authorized<ControlData>,
    Path(id): Path<ExportId>,
) -> Result<Json<ExportView>, ApiError> {
    let now = state.clock.now();
    let mut tx = state.db.begin_snapshot(admin.user.scope()).await?;
    let export = exports::get(&mut tx, id).await?.ok_or_else(ApiError::not_found)?;
    drop(tx);
    Ok(Json(view(&state, &admin, export, now)?))
}

/// Streams a ready export's ZIP, decrypted, through its signed link: the link must be
/// genuine, unexpired and for the Admin whose session comes with it. Audited, as is a refusal.
#[utoipa::path(get, path = "/api/v1/exports/{id}/content", tag = "data",
    params(("id" = String, Path, format = Uuid), ("o" = String, Query), ("u" = String, Query),
        ("e" = i64, Query), ("k" = i64, Query), ("s" = String, Query)),
    responses((status = 200, description = "the export's ZIP"), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn content(
    State(state): State<AppState>,
    admin: Authorized<ControlData>,
    Path(id): Path<ExportId>,
    query: Result<Query<LinkClaims>, QueryRejection>,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let (org, me) = (admin.user.scope().org_id(), admin.user.principal.user_id);
    let claims = query.ok().map(|Query(claims)| claims);
    let refusal = match claims {
        None => Some("altered"),
        Some(c) if !state.links.genuine(LinkTarget::Export(id), &c, now) => Some("altered"),
        Some(c) if c.u != me || c.o != org => Some("other_user"),
        Some(c) if c.e <= now.timestamp() => Some("expired"),
        Some(_) => None,
    };
    let mut tx = state.db.begin_scoped(admin.user.scope()).await?;
    if let Some(reason) = refusal {
        let event = AuditEvent::failure(AuditAction::ExportDownloaded, Some(target(id)))
            .detail("reason", Detail::Label(reason.to_owned()));
        audit::append(&mut tx, now, &admin.user.audit(), &event).await?;
        tx.commit().await?;
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "link_refused",
            "This link is expired, altered, or not yours.",
        ));
    }
    let export = exports::get(&mut tx, id).await?.ok_or_else(ApiError::not_found)?;
    let Some(object_name) = export.object_name.filter(|_| export.status == "ready") else {
        return Err(ApiError::not_found());
    };
    let key = state
        .vault
        .export_key(&mut tx, id, &export.wrapped_key)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let event = AuditEvent::success(AuditAction::ExportDownloaded, Some(target(id)));
    audit::append(&mut tx, now, &admin.user.audit(), &event).await?;
    tx.commit().await?;

    let opener = Opener::new(key, &crate::vault::export_context(org, id));
    let source = state.objects.get_stream(&object_name).await?;
    let name = format!("petal-export-{}.zip", export.requested_at.format("%Y%m%dT%H%M%SZ"));
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/zip")
        .header(header::CONTENT_DISPOSITION, content_disposition(&name))
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .body(Body::from_stream(decrypting_stream(source, opener)))
        .map_err(|e| ApiError::internal(&e))
}
