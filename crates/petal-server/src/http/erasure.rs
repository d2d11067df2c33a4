//! Erasing a candidate (UK GDPR): every document whose screened candidate has the email, in
//! every job of the organisation, goes at once with its result, decision, task and blob. The
//! audit records how much was erased, never the email.

use super::{ApiError, AppState, ErrorBody};
use crate::auth::extract::{Authorized, ControlData};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use petal_domain::audit::{AuditAction, AuditEvent, Detail};
use petal_domain::{DocumentId, Email, JobId};
use petal_storage::{audit, documents, jobs, results};
use serde::{Deserialize, Serialize};

/// Whom to erase.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EraseRequest {
    /// The candidate's email address, as on their CV.
    email: String,
}

/// What was erased.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Erased {
    #[schema(value_type = Vec<String>)]
    documents: Vec<DocumentId>,
    #[schema(value_type = Vec<String>)]
    jobs: Vec<JobId>,
}

/// Erases a candidate by email across all jobs (Admin, after a step-up): their documents,
/// results and decisions, rows and blobs, at once; audited without the email. A CV not yet
/// screened has no recorded email and is not found: delete it by hand, or erase again once it
/// is screened.
#[utoipa::path(post, path = "/api/v1/candidates/erase", tag = "data",
    request_body = EraseRequest,
    responses((status = 200, body = Erased), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn erase(
    State(state): State<AppState>,
    admin: Authorized<ControlData>,
    Json(request): Json<EraseRequest>,
) -> Result<Json<Erased>, ApiError> {
    let now = state.clock.now();
    admin.user.require_recent_reauth(now)?;
    let email = Email::parse(&request.email).map_err(|_| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_email",
            "That is not an email address.",
        )
    })?;
    let mut tx = state.db.begin_scoped(admin.user.scope()).await?;
    let index =
        state.vault.email_index(&mut tx, &email, now).await.map_err(|e| ApiError::internal(&e))?;
    let found = results::documents_with_email(&mut tx, &index).await?;
    let mut erased = Erased { documents: Vec::new(), jobs: Vec::new() };
    // Each job's row first, in one order (ARCHITECTURE.md, lock order).
    for (_, job) in &found {
        if erased.jobs.last() != Some(job) {
            jobs::lock(&mut tx, *job).await?;
            erased.jobs.push(*job);
        }
    }
    for (document, _) in &found {
        let Some(row) = documents::get(&mut tx, *document).await? else { continue };
        documents::delete(&mut tx, *document).await?;
        // The blob goes before the rows are committed: if it cannot be deleted, nothing is.
        state.objects.delete(&row.object_name).await.map_err(|e| ApiError::internal(&e))?;
        erased.documents.push(*document);
    }
    let event = AuditEvent::success(AuditAction::CandidateErased, None)
        .detail("documents", Detail::Number(erased.documents.len() as i64))
        .detail("jobs", Detail::Number(erased.jobs.len() as i64));
    audit::append(&mut tx, now, &admin.user.audit(), &event).await?;
    for job in &erased.jobs {
        crate::screening::complete_if_done(&mut tx, *job, now).await?;
    }
    // Earlier exports may hold the candidate: they go too.
    let withdrawn = if erased.documents.is_empty() {
        Vec::new()
    } else {
        crate::org_export::withdraw_all(&mut tx, now).await?
    };
    tx.commit().await?;
    crate::org_export::delete_zips(&state.objects, &withdrawn).await;
    super::jobs::flush_deletions(&state).await;
    Ok(Json(erased))
}
