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
use petal_screening::criteria::{Criterion, Requirement, propose};
use petal_screening::fairness::{protected_term, proxy_warnings};
use petal_screening::{CriterionKind, Weight};
use petal_storage::{audit, jobs};
use serde::{Deserialize, Serialize};

/// One criterion as submitted.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CriterionInput {
    /// The criterion in the recruiter's words ("2:1 degree or above").
    text: String,
    /// `knockout`, `must` or `nice`.
    kind: String,
    /// 1 to 5.
    weight: i64,
    /// An explicit type; without one, the type is read from `text`. One of
    /// `{"type": "skill", "skill", "synonyms"}`, `{"type": "years_experience", "minimum",
    /// "area"}`, `{"type": "degree_class", "minimum": "first" | "upper_second" | …}`,
    /// `{"type": "legal_qualification", "qualifications": ["lpc", "sqe1", …]}`,
    /// `{"type": "language", "language"}`, `{"type": "free_text"}`.
    #[schema(value_type = Option<Object>)]
    #[serde(default)]
    requirement: Option<serde_json::Value>,
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

/// One criterion as the API shows it: as stored, and what the engine reads it as.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CriterionView {
    id: String,
    text: String,
    /// `knockout`, `must` or `nice`.
    #[schema(value_type = String)]
    kind: CriterionKind,
    #[schema(value_type = i64)]
    weight: Weight,
    /// The explicit type, if one was given.
    #[schema(value_type = Option<Object>)]
    requirement: Option<Requirement>,
    /// What the engine judges: the explicit type, or the one read from the text.
    #[schema(value_type = Object)]
    interpreted_as: Requirement,
}

/// A phrase in a criterion that often stands in for a protected characteristic.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CriterionWarning {
    criterion_id: String,
    /// The phrase.
    term: String,
    /// Why it is a concern.
    message: String,
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
    criteria: Vec<CriterionView>,
    /// False while the criteria are proposals read from the description: confirm them with
    /// `PUT /api/v1/jobs/{id}/criteria` before uploading CVs.
    criteria_confirmed: bool,
    /// Proxies for protected characteristics found in the criteria, for the recruiter to
    /// reconsider.
    warnings: Vec<CriterionWarning>,
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
        let criteria: Vec<Criterion> =
            serde_json::from_value(job.criteria).map_err(|e| ApiError::internal(&e))?;
        let CriteriaCheck { criteria, warnings } = CriteriaCheck::of(criteria);
        Ok(JobView {
            id: job.id,
            title: job.title,
            description: job.description,
            criteria,
            criteria_confirmed: job.criteria_confirmed,
            warnings,
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

/// Longest word of a typed requirement (a skill, synonym, area or language).
const MAX_TERM: usize = 100;
/// Most synonyms of a skill.
const MAX_SYNONYMS: usize = 20;

/// Whether `text` holds control characters other than line breaks and tabs (PostgreSQL
/// refuses NUL; none belongs in a job).
fn has_controls(text: &str) -> bool {
    text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
}

/// Checks the free words of a typed requirement: sizes, and numbers in range.
fn check_requirement(n: usize, requirement: &Requirement) -> Result<(), ApiError> {
    let too_long = |term: &str| {
        term.trim().is_empty() || term.chars().count() > MAX_TERM || has_controls(term)
    };
    let problem = match requirement {
        Requirement::Skill { skill, synonyms }
            if too_long(skill)
                || synonyms.len() > MAX_SYNONYMS
                || synonyms.iter().any(|s| too_long(s)) =>
        {
            format!(
                "a skill and each of at most {MAX_SYNONYMS} synonyms must be 1 to {MAX_TERM} characters"
            )
        }
        Requirement::YearsExperience { minimum, area }
            if *minimum > petal_screening::criteria::MAX_YEARS
                || area.as_deref().is_some_and(too_long) =>
        {
            format!(
                "minimum must be 0 to {} years, and an area 1 to {MAX_TERM} characters",
                petal_screening::criteria::MAX_YEARS
            )
        }
        Requirement::Language { language } if too_long(language) => {
            format!("language must be 1 to {MAX_TERM} characters")
        }
        Requirement::LegalQualification { qualifications }
            if qualifications.is_empty() || qualifications.len() > 10 =>
        {
            "name 1 to 10 qualifications".to_owned()
        }
        _ => return Ok(()),
    };
    Err(invalid("invalid_criteria", format!("criterion {n}: {problem}")))
}

/// Checks one criterion (the `n`th) and gives it its id.
fn criterion(n: usize, input: CriterionInput) -> Result<Criterion, ApiError> {
    let text = input.text.trim().to_owned();
    if text.is_empty() || text.chars().count() > MAX_CRITERION || has_controls(&text) {
        return Err(invalid(
            "invalid_criteria",
            format!("criterion {n} must be 1 to {MAX_CRITERION} characters"),
        ));
    }
    if let Some(found) = protected_term(&text) {
        return Err(invalid(
            "protected_characteristic",
            format!(
                "criterion {n} refers to {} (\"{}\"), a protected characteristic; \
                 screening on it is unlawful discrimination",
                found.characteristic, found.term
            ),
        ));
    }
    let kind = match input.kind.as_str() {
        "knockout" => CriterionKind::Knockout,
        "must" => CriterionKind::Must,
        "nice" => CriterionKind::Nice,
        _ => {
            return Err(invalid(
                "invalid_criteria",
                format!("criterion {n}: kind must be knockout, must or nice"),
            ));
        }
    };
    let weight = Weight::new(input.weight).map_err(|_| {
        invalid("invalid_criteria", format!("criterion {n}: weight must be 1 to 5"))
    })?;
    let requirement = input
        .requirement
        .map(serde_json::from_value::<Requirement>)
        .transpose()
        .map_err(|e| invalid("invalid_criteria", format!("criterion {n}: requirement: {e}")))?;
    if let Some(requirement) = &requirement {
        check_requirement(n, requirement)?;
    }
    if let Some(found) =
        requirement.as_ref().and_then(requirement_words).and_then(|w| protected_term(&w))
    {
        return Err(invalid(
            "protected_characteristic",
            format!("criterion {n} refers to {}, a protected characteristic", found.characteristic),
        ));
    }
    // Ids are positions: the same criteria in another job have the same ids (and hash), so
    // results are comparable across jobs.
    Ok(Criterion { id: format!("c{n}"), text, kind, weight, requirement })
}

/// The free words of a typed requirement, which the fairness check reads too.
fn requirement_words(requirement: &Requirement) -> Option<String> {
    match requirement {
        Requirement::Skill { skill, synonyms } => Some(format!("{skill} {}", synonyms.join(" "))),
        Requirement::YearsExperience { area, .. } => area.clone(),
        Requirement::Language { language } => Some(language.clone()),
        _ => None,
    }
}

/// Checks a list of criteria and gives each its id.
fn validate_criteria(inputs: Vec<CriterionInput>) -> Result<Vec<Criterion>, ApiError> {
    if inputs.is_empty() || inputs.len() > MAX_CRITERIA {
        return Err(invalid(
            "invalid_criteria",
            format!("a job needs 1 to {MAX_CRITERIA} criteria"),
        ));
    }
    inputs.into_iter().enumerate().map(|(i, c)| criterion(i + 1, c)).collect()
}

/// Checks a new job and gives each criterion its id. Without criteria, they are proposed
/// from the description (unconfirmed); the last value says whether they were given.
fn validate(request: NewJobRequest) -> Result<(String, String, Vec<Criterion>, bool), ApiError> {
    let title = request.title.trim().to_owned();
    if title.is_empty() || title.chars().count() > MAX_TITLE || has_controls(&title) {
        return Err(invalid("invalid_title", format!("title must be 1 to {MAX_TITLE} characters")));
    }
    if request.description.chars().count() > MAX_DESCRIPTION || has_controls(&request.description) {
        return Err(invalid(
            "invalid_description",
            format!(
                "description must be at most {MAX_DESCRIPTION} characters, without control characters"
            ),
        ));
    }
    if !request.criteria.is_empty() {
        let criteria = validate_criteria(request.criteria)?;
        return Ok((title, request.description, criteria, true));
    }
    let proposed: Vec<Criterion> = propose(&request.description)
        .into_iter()
        .enumerate()
        .map(|(i, p)| Criterion {
            id: format!("c{}", i + 1),
            text: p.text,
            kind: p.kind,
            weight: p.weight,
            requirement: None,
        })
        .collect();
    if proposed.is_empty() {
        return Err(invalid(
            "invalid_criteria",
            "give criteria, or a description from which criteria can be proposed",
        ));
    }
    Ok((title, request.description, proposed, false))
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
    let (title, description, criteria, criteria_confirmed) = validate(request)?;
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
        criteria_confirmed,
        now,
    };
    jobs::create(&mut tx, &new).await?;
    let event = AuditEvent::success(AuditAction::JobCreated, Some(Target::job(id)))
        .detail("criteria", Detail::Number(criteria.as_array().map_or(0, |a| a.len() as i64)))
        .detail("criteria_proposed", Detail::Flag(!criteria_confirmed));
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

/// New criteria for a job.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CriteriaRequest {
    criteria: Vec<CriterionInput>,
}

/// Criteria as the engine reads them, with the wording that stands in for a protected
/// characteristic.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CriteriaCheck {
    criteria: Vec<CriterionView>,
    warnings: Vec<CriterionWarning>,
}

impl CriteriaCheck {
    fn of(criteria: Vec<Criterion>) -> Self {
        let warnings = criteria
            .iter()
            .flat_map(|c| {
                proxy_warnings(&c.text).into_iter().map(|w| CriterionWarning {
                    criterion_id: c.id.clone(),
                    term: w.term,
                    message: w.message.to_owned(),
                })
            })
            .collect();
        let criteria = criteria
            .into_iter()
            .map(|c| CriterionView {
                interpreted_as: c.effective_requirement(),
                id: c.id,
                text: c.text,
                kind: c.kind,
                weight: c.weight,
                requirement: c.requirement,
            })
            .collect();
        CriteriaCheck { criteria, warnings }
    }
}

/// Checks criteria as a new job or a criteria change would (Reviewers and Admins), storing
/// nothing: 422 with the reason for what a job would refuse (a protected characteristic, a
/// bad type or weight); otherwise what each is read as and the proxy wording to reconsider.
/// The new-job form asks it as the recruiter types.
#[utoipa::path(post, path = "/api/v1/criteria/check", tag = "jobs", request_body = CriteriaRequest,
    responses((status = 200, body = CriteriaCheck), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn check_criteria(
    _user: Authorized<ManageJobs>,
    Json(request): Json<CriteriaRequest>,
) -> Result<Json<CriteriaCheck>, ApiError> {
    Ok(Json(CriteriaCheck::of(validate_criteria(request.criteria)?)))
}

/// Confirms or replaces a job's criteria (Reviewers and Admins). Results screened against
/// earlier criteria show as `stale` until the job is re-screened.
#[utoipa::path(put, path = "/api/v1/jobs/{id}/criteria", tag = "jobs",
    params(("id" = String, Path, format = Uuid)), request_body = CriteriaRequest,
    responses((status = 200, body = JobView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_criteria(
    State(state): State<AppState>,
    user: Authorized<ManageJobs>,
    Path(id): Path<JobId>,
    Json(request): Json<CriteriaRequest>,
) -> Result<Json<JobView>, ApiError> {
    let criteria = validate_criteria(request.criteria)?;
    let hash = petal_screening::engine::criteria_hash(&criteria);
    let criteria = serde_json::to_value(&criteria).map_err(|e| ApiError::internal(&e))?;
    let now = state.clock.now();
    let mut tx = state.db.begin_scoped(user.user.scope()).await?;
    if !jobs::lock(&mut tx, id).await? {
        return Err(ApiError::not_found());
    }
    let before = jobs::get(&mut tx, id).await?.ok_or_else(ApiError::not_found)?;
    let before: Vec<Criterion> =
        serde_json::from_value(before.criteria).map_err(|e| ApiError::internal(&e))?;
    jobs::set_criteria(&mut tx, id, &criteria, now).await?;
    let event = AuditEvent::success(AuditAction::CriteriaChanged, Some(Target::job(id)))
        .detail("before_hash", Detail::Label(petal_screening::engine::criteria_hash(&before)))
        .detail("after_hash", Detail::Label(hash))
        .detail("criteria", Detail::Number(criteria.as_array().map_or(0, |a| a.len() as i64)));
    audit::append(&mut tx, now, &user.user.audit(), &event).await?;
    let job = jobs::get(&mut tx, id).await?.ok_or_else(ApiError::not_found)?;
    tx.commit().await?;
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
    jobs::lock(&mut tx, id).await?;
    let names = jobs::delete(&mut tx, id).await?.ok_or_else(ApiError::not_found)?;
    let event = AuditEvent::success(AuditAction::JobDeleted, Some(Target::job(id)))
        .detail("documents", Detail::Number(names.len() as i64));
    audit::append(&mut tx, now, &user.user.audit(), &event).await?;
    // Earlier exports may hold the job: they go too.
    let withdrawn = crate::org_export::withdraw_all(&mut tx, now).await?;
    tx.commit().await?;
    crate::upload::delete_all(&state.objects, names).await;
    crate::org_export::delete_zips(&state.objects, &withdrawn).await;
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
