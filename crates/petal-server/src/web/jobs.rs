//! The recruiting pages: the jobs dashboard, the new-job form, a job with its ranking and
//! charts, and a candidate with the evidence.

use super::{Me, PageError, api_name, charts, idle_seconds, open_page, page_user, render};
use crate::auth::extract::{Authenticated, Authorized, ManageJobs, ReadJobs};
use crate::http::documents::{job_with_key, open_view};
use crate::http::results::ResultView;
use crate::http::{ApiError, AppState};
use crate::vault::JobKey;
use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::Response;
use petal_domain::{DocumentId, JobId, Permission};
use petal_screening::criteria::{Criterion, Requirement};
use petal_screening::fairness::proxy_warnings;
use petal_storage::{documents, jobs, orgs};
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

pub(super) async fn job_list(
    State(state): State<AppState>,
    session: Result<Authorized<ReadJobs>, ApiError>,
) -> Result<Response, PageError> {
    let user = page_user(session)?;
    let (mut tx, me) = open_page(&state, &user).await?;
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
    /// What the engine judges, in words.
    read_as: String,
}

/// What a criterion asks for, in words, as the engine reads it.
fn read_as(requirement: &Requirement) -> String {
    match requirement {
        Requirement::Skill { skill, synonyms } if synonyms.is_empty() => format!("skill: {skill}"),
        Requirement::Skill { skill, synonyms } => {
            format!("skill: {skill} (or {})", synonyms.join(", "))
        }
        Requirement::YearsExperience { minimum, area: None } => {
            format!("at least {minimum} years of experience")
        }
        Requirement::YearsExperience { minimum, area: Some(area) } => {
            format!("at least {minimum} years of experience, in {area}")
        }
        Requirement::DegreeClass { minimum } => {
            format!("a degree of {} or better", api_name(minimum))
        }
        Requirement::LegalQualification { qualifications } => format!(
            "qualifications: {}",
            qualifications.iter().map(api_name).collect::<Vec<_>>().join(" and ")
        ),
        Requirement::Language { language } => format!("fluent {language}"),
        Requirement::FreeText => "the criterion's own words".to_owned(),
    }
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
    /// Whether the rows offer bulk decisions.
    can_decide: bool,
    histogram: Vec<charts::Bin>,
    coverage: Vec<charts::Coverage>,
}

#[derive(Template)]
#[template(path = "new_job.html")]
struct NewJobPage {
    me: Option<Me>,
    idle_seconds: i64,
}

/// The new-job form (those who may create jobs); the script sends it to `POST /api/v1/jobs`,
/// whose refusals it shows.
pub(super) async fn new_job(
    State(state): State<AppState>,
    session: Result<Authorized<ManageJobs>, ApiError>,
) -> Result<Response, PageError> {
    let user = page_user(session)?;
    let (_, me) = open_page(&state, &user).await?;
    Ok(render(&NewJobPage { me: Some(me), idle_seconds: idle_seconds(&state) }))
}

/// One job: its criteria, progress, the upload form (for those who may upload) and the ranked
/// candidates, read as `GET /api/v1/jobs/{id}/results` reads them (blind review honoured).
pub(super) async fn job_page(
    State(state): State<AppState>,
    session: Result<Authorized<ReadJobs>, ApiError>,
    id: Result<Path<JobId>, PathRejection>,
) -> Result<Response, PageError> {
    let user = page_user(session)?;
    // An id that is not one is a page that does not exist.
    let Path(id) = id.map_err(|_| ApiError::not_found())?;
    let scope = user.scope();
    let (mut tx, me) = open_page(&state, &user).await?;
    let job = jobs::get(&mut tx, id).await?.ok_or_else(ApiError::not_found)?;
    drop(tx);
    let criteria: Vec<Criterion> =
        serde_json::from_value(job.criteria).map_err(|e| ApiError::internal(&e))?;
    let results = crate::http::results::ranked(&state, scope, id, true).await?;
    let role = user.principal.role;
    let histogram = charts::histogram(&results.iter().map(|r| r.score).collect::<Vec<_>>());
    let coverage = charts::coverage(
        criteria
            .iter()
            .map(|c| {
                let verdicts = results
                    .iter()
                    .flat_map(|r| r.criteria.iter().filter(|v| v.criterion_id == c.id))
                    .map(|v| api_name(&v.verdict))
                    .collect();
                (c.text.clone(), verdicts)
            })
            .collect(),
    );
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
                read_as: read_as(&c.effective_requirement()),
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
        can_decide: role.allows(Permission::RecordDecisions),
        histogram,
        coverage,
    };
    Ok(render(&page))
}

/// The candidate's name, or (hidden in blind review, or not found on the CV) the document's.
pub(super) fn candidate_name(result: &ResultView) -> String {
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

/// A candidate as the candidate's pages read it, the ranking as
/// `GET /api/v1/jobs/{id}/results` reads it (blind review honoured).
pub(super) struct Candidate {
    /// Their document.
    pub(super) document: documents::Document,
    /// The job's title.
    pub(super) job_title: String,
    /// The job's key.
    pub(super) key: JobKey,
    /// The job's criteria.
    pub(super) criteria: Vec<Criterion>,
    /// Their ranked result.
    pub(super) result: ResultView,
    /// Whether the organisation reviews blind.
    pub(super) blind: bool,
}

impl Candidate {
    /// The candidate of document `id` (an id that is not one, or another organisation's, is
    /// a page that does not exist), and the page header's user.
    pub(super) async fn load(
        state: &AppState,
        user: &Authenticated,
        id: Result<Path<DocumentId>, PathRejection>,
    ) -> Result<(Me, Candidate), PageError> {
        let Path(id) = id.map_err(|_| ApiError::not_found())?;
        let (mut tx, me) = open_page(state, user).await?;
        let document = documents::get(&mut tx, id).await?.ok_or_else(ApiError::not_found)?;
        let (job, key) = job_with_key(state, &mut tx, document.job_id).await?;
        let blind = orgs::settings(&mut tx).await?.blind_review;
        drop(tx);
        let results = crate::http::results::ranked(state, user.scope(), job.id, true).await?;
        let result =
            results.into_iter().find(|r| r.document_id == id).ok_or_else(ApiError::not_found)?;
        let criteria = serde_json::from_value(job.criteria).map_err(|e| ApiError::internal(&e))?;
        let candidate = Candidate { document, job_title: job.title, key, criteria, result, blind };
        Ok((me, candidate))
    }
}

/// The words of criterion `id` (its id, should the job no longer have it).
pub(super) fn criterion_text(criteria: &[Criterion], id: &str) -> String {
    criteria.iter().find(|c| c.id == id).map_or_else(|| id.to_owned(), |c| c.text.clone())
}

/// A candidate: each criterion's verdict with the quoted evidence, the decision, and (for those
/// who may) opening the original and recording a decision. Read as the API reads it.
pub(super) async fn candidate_page(
    State(state): State<AppState>,
    session: Result<Authorized<ReadJobs>, ApiError>,
    id: Result<Path<DocumentId>, PathRejection>,
) -> Result<Response, PageError> {
    let user = page_user(session)?;
    let (me, candidate) = Candidate::load(&state, &user, id).await?;
    let Candidate { document, job_title, key, criteria, result, blind } = candidate;
    let job_id = document.job_id;
    let filename = open_view(&key, document, blind)?.filename;
    let role = user.principal.role;
    let page = CandidatePage {
        me: Some(me),
        idle_seconds: idle_seconds(&state),
        document_id: result.document_id,
        job_id,
        job_title,
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
                text: criterion_text(&criteria, &c.criterion_id),
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

#[cfg(test)]
mod tests {
    use super::*;
    use petal_screening::criteria::interpret;

    #[test]
    fn each_requirement_reads_as_words() {
        let cases = [
            ("2:1 degree or above", "a degree of upper second or better"),
            ("3 years' experience in litigation", "at least 3 years of experience, in litigation"),
            ("SQE1 and SQE2", "qualifications: sqe1 and sqe2"),
            ("Fluent French", "fluent french"),
            ("Enthusiasm for pro bono work", "the criterion's own words"),
        ];
        for (text, words) in cases {
            assert_eq!(read_as(&interpret(text)), words, "{text}");
        }
        let typed = Requirement::Skill { skill: "Rust".into(), synonyms: vec!["rustlang".into()] };
        assert_eq!(read_as(&typed), "skill: Rust (or rustlang)");
    }
}
