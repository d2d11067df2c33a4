//! Documents: upload into a job, list, read, delete. Files are validated, encrypted and stored
//! by [`crate::upload`]; here are the routes and who may use them.

use super::jobs::{delete_forbidden, may_delete};
use super::{ApiError, AppState, ErrorBody};
use crate::auth::extract::{Authorized, ManageJobs, ReadJobs};
use crate::upload::{self, Destination, Rejected};
use crate::vault::JobKey;
use axum::Json;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use petal_domain::audit::{AuditAction, AuditEvent, Target};
use petal_domain::{DocumentId, JobId, UserId};
use petal_storage::{ScopedTx, audit, documents, jobs, orgs};
use serde::Serialize;
use std::sync::Arc;

/// A document as the API shows it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DocumentView {
    #[schema(value_type = String, format = Uuid)]
    id: DocumentId,
    #[schema(value_type = String, format = Uuid)]
    job_id: JobId,
    /// The sanitised file name it was uploaded with (`CV <id prefix>.<format>` when the
    /// organisation screens blind: file names often hold the candidate's name).
    pub(crate) filename: String,
    /// `pdf`, `docx`, `odt`, `rtf` or `txt`, decided from its content.
    format: String,
    size_bytes: i64,
    /// `queued`, `processing`, `screened` or `failed`.
    status: String,
    /// Why it failed (`extraction_failed`, `processing_failed`, `engine_unavailable`,
    /// `engine_refused`, `engine_invalid_answer`, `engine_not_configured`), when it did.
    failure: Option<String>,
    /// The candidate asked for manual review only: no engine judges the CV.
    manual_review: bool,
    #[schema(value_type = String, format = Uuid)]
    uploaded_by: UserId,
    uploaded_at: DateTime<Utc>,
}

fn view(document: documents::Document, filename: String) -> DocumentView {
    DocumentView {
        id: document.id,
        job_id: document.job_id,
        filename,
        format: document.kind,
        size_bytes: document.size_bytes,
        status: document.status,
        failure: document.failure,
        manual_review: document.manual_review,
        uploaded_by: document.uploaded_by,
        uploaded_at: document.created_at,
    }
}

pub(crate) fn open_view(
    key: &JobKey,
    document: documents::Document,
    blind: bool,
) -> Result<DocumentView, ApiError> {
    if blind {
        let id = document.id.to_string();
        let name = format!("CV {}.{}", id.get(..8).unwrap_or_default(), document.kind);
        return Ok(view(document, name));
    }
    let name = key
        .open_field("filename", document.id, &document.filename_sealed)
        .map_err(|e| ApiError::internal(&e))?;
    Ok(view(document, String::from_utf8_lossy(&name).into_owned()))
}

/// What an upload answers.
#[derive(Serialize, utoipa::ToSchema)]
pub struct UploadResponse {
    documents: Vec<DocumentView>,
    rejected: Vec<Rejected>,
}

/// Loads a job of the transaction's organisation and unwraps its key; 404 if there is none.
pub(crate) async fn job_with_key(
    state: &AppState,
    tx: &mut ScopedTx,
    id: JobId,
) -> Result<(jobs::Job, JobKey), ApiError> {
    let job = jobs::get(tx, id).await?.ok_or_else(ApiError::not_found)?;
    let key =
        state.vault.job_key(tx, id, &job.wrapped_key).await.map_err(|e| ApiError::internal(&e))?;
    Ok((job, key))
}

/// Uploads CVs into a job (Reviewers and Admins): multipart, one or many `file` parts. Each
/// file is stored or listed in `rejected` with its reason; nothing refused is kept.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/documents", tag = "documents",
    params(("id" = String, Path, format = Uuid)),
    request_body(content_type = "multipart/form-data", description = "one or more `file` parts"),
    responses((status = 201, body = UploadResponse), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn upload(
    State(state): State<AppState>,
    user: Authorized<ManageJobs>,
    Path(id): Path<JobId>,
    multipart: Multipart,
) -> Result<(StatusCode, Json<UploadResponse>), ApiError> {
    // A short read: no transaction is held while the files stream in.
    let mut tx = state.db.begin_snapshot(user.user.scope()).await?;
    let (job, key) = job_with_key(&state, &mut tx, id).await?;
    drop(tx);
    if !job.criteria_confirmed {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "criteria_not_confirmed",
            "The job's criteria were proposed from its description: confirm them \
             (PUT /api/v1/jobs/{id}/criteria) before uploading CVs.",
        ));
    }
    let to = Destination {
        scope: user.user.scope(),
        job: id,
        key: Arc::new(key),
        user: user.user.principal.user_id,
        audit: user.user.audit(),
    };
    let outcome = upload::receive(&state, to, multipart).await?;
    let documents = outcome.stored.into_iter().map(|s| view(s.document, s.filename)).collect();
    Ok((StatusCode::CREATED, Json(UploadResponse { documents, rejected: outcome.rejected })))
}

/// A job's documents, oldest first (every role).
#[utoipa::path(get, path = "/api/v1/jobs/{id}/documents", tag = "documents",
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = [DocumentView]), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    user: Authorized<ReadJobs>,
    Path(id): Path<JobId>,
) -> Result<Json<Vec<DocumentView>>, ApiError> {
    let mut tx = state.db.begin_snapshot(user.user.scope()).await?;
    let (_, key) = job_with_key(&state, &mut tx, id).await?;
    let rows = documents::list_for_job(&mut tx, id).await?;
    let blind = orgs::settings(&mut tx).await?.blind_review;
    Ok(Json(rows.into_iter().map(|d| open_view(&key, d, blind)).collect::<Result<_, _>>()?))
}

/// One document (every role); another organisation's is 404.
#[utoipa::path(get, path = "/api/v1/documents/{id}", tag = "documents",
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = DocumentView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    user: Authorized<ReadJobs>,
    Path(id): Path<DocumentId>,
) -> Result<Json<DocumentView>, ApiError> {
    let mut tx = state.db.begin_snapshot(user.user.scope()).await?;
    let document = documents::get(&mut tx, id).await?.ok_or_else(ApiError::not_found)?;
    let (_, key) = job_with_key(&state, &mut tx, document.job_id).await?;
    let blind = orgs::settings(&mut tx).await?.blind_review;
    Ok(Json(open_view(&key, document, blind)?))
}

/// Deletes one document: its blob and its row, at once (an Admin, or the Reviewer who created
/// the job).
#[utoipa::path(delete, path = "/api/v1/documents/{id}", tag = "documents",
    params(("id" = String, Path, format = Uuid)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    user: Authorized<ManageJobs>,
    Path(id): Path<DocumentId>,
) -> Result<StatusCode, ApiError> {
    let now = state.clock.now();
    let mut tx = state.db.begin_scoped(user.user.scope()).await?;
    let document = documents::get(&mut tx, id).await?.ok_or_else(ApiError::not_found)?;
    let job = jobs::get(&mut tx, document.job_id).await?.ok_or_else(ApiError::not_found)?;
    if !may_delete(&user.user, job.created_by) {
        return Err(delete_forbidden());
    }
    // The job row first, as everything that changes a job's documents locks it (ARCHITECTURE.md).
    jobs::lock(&mut tx, job.id).await?;
    documents::delete(&mut tx, id).await?;
    // The blob goes before the row is committed: if it cannot be deleted, nothing is. It goes
    // before the audit append too, so the organisation's audit head is not held while the
    // object store answers.
    state.objects.delete(&document.object_name).await.map_err(|e| ApiError::internal(&e))?;
    let event = AuditEvent::success(AuditAction::DocumentDeleted, Some(Target::document(id)))
        .detail("job_id", petal_domain::audit::Detail::Label(job.id.to_string()));
    audit::append(&mut tx, now, &user.user.audit(), &event).await?;
    // If it was the last document waiting, the job is done.
    crate::screening::complete_if_done(&mut tx, job.id, now).await?;
    tx.commit().await?;
    super::jobs::flush_deletions(&state).await;
    Ok(StatusCode::NO_CONTENT)
}
