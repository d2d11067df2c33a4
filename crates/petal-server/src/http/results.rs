//! Results and decisions: the ranked shortlist of a job, a person's decision on a candidate,
//! re-screening, and the live progress stream.

use super::documents::job_with_key;
use super::{ApiError, AppState, ErrorBody};
use crate::auth::extract::{Authorized, ManageJobs, ReadJobs, RecordDecisions};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use petal_domain::audit::{AuditAction, AuditEvent, Detail, Target};
use petal_domain::{DocumentId, JobId, UserId};
use petal_screening::engine::{
    self, Candidate, CriterionResult, Flag, Profile, Recommendation, Screening,
};
use petal_storage::{OrgScope, audit, decisions, documents, orgs, results};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A person's decision as the API shows it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DecisionView {
    /// `advance`, `hold` or `reject`.
    pub(crate) decision: String,
    pub(crate) note: String,
    #[schema(value_type = String, format = Uuid)]
    pub(crate) decided_by: UserId,
    pub(crate) decided_at: DateTime<Utc>,
}

/// One candidate in the ranked list.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ResultView {
    #[schema(value_type = String, format = Uuid)]
    pub(crate) document_id: DocumentId,
    /// Position in the ranking from 1; none for CVs that are not ranked.
    pub(crate) rank: Option<usize>,
    #[schema(value_type = Object)]
    pub(crate) candidate: Candidate,
    #[schema(value_type = Object)]
    pub(crate) profile: Profile,
    /// 0–100, computed from verdicts and weights.
    pub(crate) score: u8,
    /// `strong`, `possible` or `unlikely`; none when not ranked.
    #[schema(value_type = Option<String>)]
    pub(crate) recommendation: Option<Recommendation>,
    /// Per criterion: `verdict` (`met`, `partial`, `not_met`, `unknown`), `evidence` quoted
    /// from the CV with character offsets, `reason`, `knockout_failed`.
    #[schema(value_type = Vec<Object>)]
    pub(crate) criteria: Vec<CriterionResult>,
    #[schema(value_type = Vec<String>)]
    pub(crate) flags: Vec<Flag>,
    /// The engine that screened it: `local`, `anthropic` or `openai`.
    pub(crate) engine: String,
    /// The local engine's rules version, or the remote engine's prompt version.
    pub(crate) engine_version: String,
    /// The remote model that screened it (none for the local engine).
    pub(crate) model: Option<String>,
    /// SHA-256 of the criteria it was screened against.
    pub(crate) criteria_hash: String,
    /// Whether the job's criteria changed since (re-screen to update).
    pub(crate) stale: bool,
    pub(crate) decision: Option<DecisionView>,
    pub(crate) screened_at: DateTime<Utc>,
}

fn open_decision(
    key: &crate::vault::JobKey,
    decision: decisions::Decision,
) -> Result<DecisionView, ApiError> {
    let note = key
        .open_field("decision_note", decision.document_id, &decision.note_sealed)
        .map_err(|e| ApiError::internal(&e))?;
    Ok(DecisionView {
        decision: decision.decision,
        note: String::from_utf8_lossy(&note).into_owned(),
        decided_by: decision.decided_by,
        decided_at: decision.decided_at,
    })
}

/// The job's screened candidates, ranked: ranked CVs by score, ties broken by evidence and
/// then by the text itself, so the order never depends on upload order or file names; CVs
/// that cannot be ranked (no text layer, unreadable) follow (every role). When the
/// organisation screens blind, candidates' names, emails, phones and links are hidden.
#[utoipa::path(get, path = "/api/v1/jobs/{id}/results", tag = "results",
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = [ResultView]), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    user: Authorized<ReadJobs>,
    Path(id): Path<JobId>,
) -> Result<Json<Vec<ResultView>>, ApiError> {
    Ok(Json(ranked(&state, user.user.scope(), id, true).await?))
}

/// The job's screened candidates, ranked, with their decisions; with `honour_blind`, hidden
/// as the organisation's blind review says (an export of all data passes `false`).
pub(crate) async fn ranked(
    state: &AppState,
    scope: &OrgScope,
    id: JobId,
    honour_blind: bool,
) -> Result<Vec<ResultView>, ApiError> {
    let mut tx = state.db.begin_snapshot(scope).await?;
    let (job, key) = job_with_key(state, &mut tx, id).await?;
    let stored = results::list_for_job(&mut tx, id).await?;
    let blind = honour_blind && orgs::settings(&mut tx).await?.blind_review;
    let mut decided: HashMap<DocumentId, decisions::Decision> =
        decisions::list_for_job(&mut tx, id)
            .await?
            .into_iter()
            .map(|d| (d.document_id, d))
            .collect();
    drop(tx);
    let criteria: Vec<petal_screening::criteria::Criterion> =
        serde_json::from_value(job.criteria).map_err(|e| ApiError::internal(&e))?;
    let current_hash = engine::criteria_hash(&criteria);
    let mut opened = Vec::with_capacity(stored.len());
    for result in stored {
        let plain = key
            .open_field("result", result.document_id, &result.sealed)
            .map_err(|e| ApiError::internal(&e))?;
        // The decoder's message could quote the candidate's data: it is not logged.
        let mut screening: Screening = serde_json::from_slice(&plain).map_err(|_| {
            ApiError::internal(&format!("stored result of {} does not decode", result.document_id))
        })?;
        if blind {
            screening.blind();
        }
        opened.push((result, screening));
    }
    opened
        .sort_by(|a, b| engine::rank_order(&a.1, &b.1).then(a.0.document_id.cmp(&b.0.document_id)));
    let mut views = Vec::with_capacity(opened.len());
    for (position, (result, screening)) in opened.into_iter().enumerate() {
        let decision = match decided.remove(&result.document_id) {
            Some(decision) => Some(open_decision(&key, decision)?),
            None => None,
        };
        views.push(ResultView {
            document_id: result.document_id,
            rank: screening.ranked.then_some(position + 1),
            candidate: screening.candidate,
            profile: screening.profile,
            score: screening.score,
            recommendation: screening.recommendation,
            criteria: screening.criteria,
            flags: screening.flags,
            stale: result.criteria_hash != current_hash,
            engine: result.engine,
            engine_version: result.engine_version,
            model: result.model,
            criteria_hash: result.criteria_hash,
            decision,
            screened_at: result.screened_at,
        });
    }
    Ok(views)
}

/// Whether a candidate asked for a person to review their CV.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ManualReviewRequest {
    /// `true`: no engine judges the CV and nothing of it is sent anywhere.
    manual_review: bool,
}

/// Marks a candidate for manual review only (Reviewer+), or lifts the mark (Reviewer+, after
/// a step-up: the CV may then go to a remote engine); audited. The CV is screened again at
/// once: with the mark, no engine judges it and it is not ranked. Setting the mark it already
/// has changes nothing. A CV a remote engine already received cannot be called back; mark it
/// at upload (`manual_review=true`) to be sure it is never sent.
#[utoipa::path(put, path = "/api/v1/documents/{id}/manual-review", tag = "results",
    request_body = ManualReviewRequest, params(("id" = String, Path, format = Uuid)),
    responses((status = 202), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn manual_review(
    State(state): State<AppState>,
    user: Authorized<ManageJobs>,
    Path(id): Path<DocumentId>,
    Json(request): Json<ManualReviewRequest>,
) -> Result<StatusCode, ApiError> {
    let now = state.clock.now();
    if !request.manual_review {
        user.user.require_recent_reauth(now)?;
    }
    let mut tx = state.db.begin_scoped(user.user.scope()).await?;
    let document = documents::get(&mut tx, id).await?.ok_or_else(ApiError::not_found)?;
    if document.manual_review == request.manual_review {
        return Ok(StatusCode::ACCEPTED);
    }
    // The job row first (ARCHITECTURE.md, lock order).
    if !petal_storage::jobs::lock(&mut tx, document.job_id).await?
        || !documents::set_manual_review(&mut tx, id, request.manual_review).await?
    {
        return Err(ApiError::not_found());
    }
    crate::screening::enqueue(&mut tx, document.job_id, &[id], now, &user.user.audit()).await?;
    let event = AuditEvent::success(AuditAction::ManualReviewSet, Some(Target::document(id)))
        .detail("before", Detail::Flag(document.manual_review))
        .detail("after", Detail::Flag(request.manual_review));
    audit::append(&mut tx, now, &user.user.audit(), &event).await?;
    tx.commit().await?;
    state.wakeup.notify();
    Ok(StatusCode::ACCEPTED)
}

/// A decision to record.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// `advance`, `hold` or `reject`.
    decision: String,
    /// Why (up to 2 000 characters); an empty note clears it. Left out, the note already
    /// recorded stays (as when many candidates are decided at once).
    #[serde(default)]
    note: Option<String>,
}

const MAX_NOTE: usize = 2000;

/// Records a person's decision on a candidate (Reviewers and Admins). Scores are advice; this
/// is the decision, and it is audited with what it replaced. The note is not audited (it may
/// name the candidate): only whether it changed.
#[utoipa::path(put, path = "/api/v1/documents/{id}/decision", tag = "results",
    params(("id" = String, Path, format = Uuid)), request_body = DecisionRequest,
    responses((status = 200, body = DecisionView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn decide(
    State(state): State<AppState>,
    user: Authorized<RecordDecisions>,
    Path(id): Path<DocumentId>,
    Json(request): Json<DecisionRequest>,
) -> Result<Json<DecisionView>, ApiError> {
    if !matches!(request.decision.as_str(), "advance" | "hold" | "reject") {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_decision",
            "decision must be advance, hold or reject",
        ));
    }
    let given = request.note.as_deref().map(str::trim);
    if given.is_some_and(|note| note.chars().count() > MAX_NOTE) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_note",
            format!("note must be at most {MAX_NOTE} characters"),
        ));
    }
    let now = state.clock.now();
    let mut tx = state.db.begin_scoped(user.user.scope()).await?;
    let document = documents::get(&mut tx, id).await?.ok_or_else(ApiError::not_found)?;
    let (_, key) = job_with_key(&state, &mut tx, document.job_id).await?;
    let before = decisions::get(&mut tx, id).await?;
    let before_note = match &before {
        Some(b) => Some(
            key.open_field("decision_note", id, &b.note_sealed)
                .map_err(|e| ApiError::internal(&e))?,
        ),
        None => None,
    };
    let note = match (given, &before_note) {
        (Some(note), _) => note.to_owned(),
        (None, Some(kept)) => {
            String::from_utf8(kept.to_vec()).map_err(|e| ApiError::internal(&e))?
        }
        (None, None) => String::new(),
    };
    let note_sealed =
        key.seal_field("decision_note", id, note.as_bytes()).map_err(|e| ApiError::internal(&e))?;
    let decision = decisions::Decision {
        document_id: id,
        job_id: document.job_id,
        decision: request.decision.clone(),
        note_sealed,
        decided_by: user.user.principal.user_id,
        decided_at: now,
    };
    decisions::put(&mut tx, &decision).await?;
    let event = AuditEvent::success(AuditAction::DecisionRecorded, Some(Target::document(id)))
        .detail("job_id", Detail::Label(document.job_id.to_string()))
        .detail(
            "before",
            Detail::Label(
                before.as_ref().map_or_else(|| "none".to_owned(), |b| b.decision.clone()),
            ),
        )
        .detail("after", Detail::Label(request.decision.clone()))
        .detail(
            "note_changed",
            Detail::Flag(before_note.as_deref().map(Vec::as_slice) != Some(note.as_bytes())),
        );
    audit::append(&mut tx, now, &user.user.audit(), &event).await?;
    tx.commit().await?;
    Ok(Json(DecisionView {
        decision: request.decision,
        note,
        decided_by: decision.decided_by,
        decided_at: now,
    }))
}

/// What a re-screen queued.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RescreenResponse {
    /// Documents queued.
    queued: usize,
}

/// Screens every document of the job again, against its current criteria (Reviewers and
/// Admins). Earlier results stay until each new one replaces them.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/rescreen", tag = "results",
    params(("id" = String, Path, format = Uuid)),
    responses((status = 202, body = RescreenResponse), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn rescreen(
    State(state): State<AppState>,
    user: Authorized<ManageJobs>,
    Path(id): Path<JobId>,
) -> Result<(StatusCode, Json<RescreenResponse>), ApiError> {
    let now = state.clock.now();
    let mut tx = state.db.begin_scoped(user.user.scope()).await?;
    // The job row first (ARCHITECTURE.md, lock order): documents deleted meanwhile are not
    // listed.
    if !petal_storage::jobs::lock(&mut tx, id).await? {
        return Err(ApiError::not_found());
    }
    let ids: Vec<DocumentId> =
        documents::list_for_job(&mut tx, id).await?.into_iter().map(|d| d.id).collect();
    crate::screening::enqueue(&mut tx, id, &ids, now, &user.user.audit()).await?;
    let event = AuditEvent::success(AuditAction::JobRescreened, Some(Target::job(id)))
        .detail("documents", Detail::Number(ids.len() as i64));
    audit::append(&mut tx, now, &user.user.audit(), &event).await?;
    tx.commit().await?;
    state.wakeup.notify();
    Ok((StatusCode::ACCEPTED, Json(RescreenResponse { queued: ids.len() })))
}
