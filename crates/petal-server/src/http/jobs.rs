//! Jobs: create, list, read, delete. Creating a job makes its key (wrapped by the
//! organisation key); deleting it destroys that key with the row, then removes the blobs.

use super::{ApiError, AppState, ErrorBody};
use crate::auth::extract::{Authenticated, Authorized, ManageJobs, ReadJobs};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use petal_domain::audit::{AuditAction, AuditEvent, Detail, Target};
use petal_domain::{JobId, Permission, UserId};
use petal_storage::{audit, jobs};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One criterion as submitted.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CriterionInput {
    text: String,
    /// `must` or `nice`.
    kind: String,
    /// 1 to 5.
    weight: i64,
}

/// A new job.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewJobRequest {
    title: String,
    #[serde(default)]
    description: String,
    criteria: Vec<CriterionInput>,
}

/// One criterion as stored, with its id.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct Criterion {
    id: Uuid,
    text: String,
    kind: String,
    weight: i64,
}

/// How far processing has come.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Progress {
    total: i64,
    done: i64,
    failed: i64,
}

/// A job as the API shows it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct JobView {
    #[schema(value_type = String, format = Uuid)]
    id: JobId,
    title: String,
    description: String,
    criteria: Vec<Criterion>,
    /// `draft`, `processing`, `completed` or `failed`.
    status: String,
    progress: Progress,
    #[schema(value_type = String, format = Uuid)]
    created_by: UserId,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<jobs::Job> for JobView {
    type Error = ApiError;

    fn try_from(job: jobs::Job) -> Result<Self, ApiError> {
        let criteria = serde_json::from_value(job.criteria).map_err(|e| ApiError::internal(&e))?;
        Ok(JobView {
            id: job.id,
            title: job.title,
            description: job.description,
            criteria,
            status: job.status,
            progress: Progress { total: job.total, done: job.done, failed: job.failed },
            created_by: job.created_by,
            created_at: job.created_at,
            updated_at: job.updated_at,
        })
    }
}

const MAX_TITLE: usize = 200;
const MAX_DESCRIPTION: usize = 20_000;
const MAX_CRITERIA: usize = 50;
const MAX_CRITERION: usize = 500;

fn invalid(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
}

/// Checks a new job and gives each criterion its id.
fn validate(request: NewJobRequest) -> Result<(String, String, Vec<Criterion>), ApiError> {
    let title = request.title.trim().to_owned();
    if title.is_empty() || title.chars().count() > MAX_TITLE {
        return Err(invalid("invalid_title", format!("title must be 1 to {MAX_TITLE} characters")));
    }
    if request.description.chars().count() > MAX_DESCRIPTION {
        return Err(invalid(
            "invalid_description",
            format!("description must be at most {MAX_DESCRIPTION} characters"),
        ));
    }
    if request.criteria.is_empty() || request.criteria.len() > MAX_CRITERIA {
        return Err(invalid(
            "invalid_criteria",
            format!("a job needs 1 to {MAX_CRITERIA} criteria"),
        ));
    }
    let mut criteria = Vec::with_capacity(request.criteria.len());
    for (i, c) in request.criteria.into_iter().enumerate() {
        let text = c.text.trim().to_owned();
        if text.is_empty() || text.chars().count() > MAX_CRITERION {
            return Err(invalid(
                "invalid_criteria",
                format!("criterion {} must be 1 to {MAX_CRITERION} characters", i + 1),
            ));
        }
        if !matches!(c.kind.as_str(), "must" | "nice") {
            return Err(invalid(
                "invalid_criteria",
                format!("criterion {}: kind must be must or nice", i + 1),
            ));
        }
        if !(1..=5).contains(&c.weight) {
            return Err(invalid(
                "invalid_criteria",
                format!("criterion {}: weight must be 1 to 5", i + 1),
            ));
        }
        criteria.push(Criterion { id: Uuid::new_v4(), text, kind: c.kind, weight: c.weight });
    }
    Ok((title, request.description, criteria))
}

/// Creates a job (Reviewers and Admins).
#[utoipa::path(post, path = "/api/v1/jobs", tag = "jobs", request_body = NewJobRequest,
    responses((status = 201, body = JobView), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    user: Authorized<ManageJobs>,
    Json(request): Json<NewJobRequest>,
) -> Result<(StatusCode, Json<JobView>), ApiError> {
    let (title, description, criteria) = validate(request)?;
    let criteria = serde_json::to_value(&criteria).map_err(|e| ApiError::internal(&e))?;
    let now = state.clock.now();
    let id = JobId::new();
    let mut tx = state.db.begin_scoped(user.user.scope()).await?;
    let (_, wrapped_key) =
        state.vault.new_job_key(&mut tx, id, now).await.map_err(|e| ApiError::internal(&e))?;
    let new = jobs::NewJob {
        id,
        created_by: user.user.principal.user_id,
        title: &title,
        description: &description,
        criteria: &criteria,
        wrapped_key: &wrapped_key,
        now,
    };
    jobs::create(&mut tx, &new).await?;
    let event = AuditEvent::success(AuditAction::JobCreated, Some(Target::job(id)))
        .detail("criteria", Detail::Number(criteria.as_array().map_or(0, |a| a.len() as i64)));
    audit::append(&mut tx, now, &user.user.audit(), &event).await?;
    let job = jobs::get(&mut tx, id).await?.ok_or_else(ApiError::not_found)?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(JobView::try_from(job)?)))
}

/// The organisation's jobs, newest first (every role).
#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs",
    responses((status = 200, body = [JobView]), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    user: Authorized<ReadJobs>,
) -> Result<Json<Vec<JobView>>, ApiError> {
    let mut tx = state.db.begin_snapshot(user.user.scope()).await?;
    let jobs = jobs::list(&mut tx).await?;
    Ok(Json(jobs.into_iter().map(JobView::try_from).collect::<Result<_, _>>()?))
}

/// One job (every role); another organisation's job is 404.
#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "jobs",
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = JobView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    user: Authorized<ReadJobs>,
    Path(id): Path<JobId>,
) -> Result<Json<JobView>, ApiError> {
    let mut tx = state.db.begin_snapshot(user.user.scope()).await?;
    let job = jobs::get(&mut tx, id).await?.ok_or_else(ApiError::not_found)?;
    Ok(Json(JobView::try_from(job)?))
}

/// Whether `user` may delete (or remove documents from) a job created by `creator`: Admins
/// any job, Reviewers their own.
pub fn may_delete(user: &Authenticated, creator: UserId) -> bool {
    let role = user.principal.role;
    role.allows(Permission::DeleteAnyJob)
        || (role.allows(Permission::DeleteOwnJobs) && creator == user.principal.user_id)
}

/// 403 for a delete the role does not allow.
pub fn delete_forbidden() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "forbidden",
        "Only an Admin or the Reviewer who created this job may delete from it.",
    )
}

/// Deletes a job at once: its row and its key (so every blob of the job is unreadable from
/// that moment), its documents' rows, then its blobs.
#[utoipa::path(delete, path = "/api/v1/jobs/{id}", tag = "jobs",
    params(("id" = String, Path, format = Uuid)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    user: Authorized<ManageJobs>,
    Path(id): Path<JobId>,
) -> Result<StatusCode, ApiError> {
    let now = state.clock.now();
    let mut tx = state.db.begin_scoped(user.user.scope()).await?;
    let job = jobs::get(&mut tx, id).await?.ok_or_else(ApiError::not_found)?;
    if !may_delete(&user.user, job.created_by) {
        return Err(delete_forbidden());
    }
    let names = jobs::delete(&mut tx, id).await?.ok_or_else(ApiError::not_found)?;
    let event = AuditEvent::success(AuditAction::JobDeleted, Some(Target::job(id)))
        .detail("documents", Detail::Number(names.len() as i64));
    audit::append(&mut tx, now, &user.user.audit(), &event).await?;
    tx.commit().await?;
    crate::upload::delete_all(&state.objects, names).await;
    flush_deletions(&state).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Makes a committed deletion final on disk; a failure is logged, since the deletion itself
/// has already happened and must not be reported as failed.
pub async fn flush_deletions(state: &AppState) {
    if let Err(error) = state.db.flush_deletions().await {
        tracing::warn!(%error, "could not checkpoint the database after a deletion");
    }
}
