//! One document through the pipeline: decrypt → read (under a deadline, on a blocking
//! thread, panics contained) → screen → store the sealed result, status and audit event in
//! one transaction, and complete the job when it was the last.

use super::worker::Screener;
use chrono::{DateTime, Datelike, Utc};
use petal_documents::DocumentKind;
use petal_documents::read::{self, Reading};
use petal_domain::Email;
use petal_domain::audit::{AuditAction, AuditContext, AuditEvent, Detail, Target};
use petal_screening::criteria::Criterion;
use petal_screening::engine::{self, CvInput, Screening};
use petal_screening::profile::Month;
use petal_storage::{ScopedTx, audit, documents, jobs, results, tasks};
use std::time::Instant;

/// What screening one document gave.
struct Outcome {
    screening: Screening,
    /// Set when the document failed (its code).
    failure: Option<&'static str>,
}

/// Screens the task's document and stores the outcome.
pub(super) async fn process(screener: &Screener, task: &tasks::Claimed) -> anyhow::Result<()> {
    let now = screener.clock.now();
    let mut tx = screener.db.begin_snapshot(&task.scope).await?;
    // A job or document deleted meanwhile took its task with it; nothing to do.
    let Some(job) = jobs::get(&mut tx, task.job_id).await? else { return Ok(()) };
    let Some(document) = documents::get(&mut tx, task.document_id).await? else { return Ok(()) };
    let key = screener.vault.job_key(&mut tx, job.id, &job.wrapped_key).await?;
    tx.commit().await?;
    let criteria: Vec<Criterion> = serde_json::from_value(job.criteria)?;
    let criteria_hash = engine::criteria_hash(&criteria);
    let blob = screener.objects.get(&document.object_name).await?;
    let kind = DocumentKind::parse(&document.kind);
    let limits = screener.limits;
    let deadline = screener.read_deadline;
    let today = month(now);
    let id = document.id;
    let (key, outcome) = tokio::task::spawn_blocking(move || {
        let plain = key.open_document(id, &blob);
        let outcome = plain.map(|plain| {
            let reading = kind
                .ok_or(read::ReadError::Unreadable)
                .and_then(|kind| read::read(kind, &plain, &limits, Instant::now() + deadline));
            screen(reading, kind, &criteria, today)
        });
        (key, outcome)
    })
    .await?;
    let outcome = outcome?;
    let sealed = key.seal_field("result", id, &serde_json::to_vec(&outcome.screening)?)?;
    let mut tx = screener.db.begin_scoped(&task.scope).await?;
    let email_index = match outcome.screening.candidate.email.as_deref().map(Email::parse) {
        Some(Ok(email)) => Some(screener.vault.email_index(&mut tx, &email, now).await?.to_vec()),
        _ => None,
    };
    let result = results::StoredResult {
        document_id: id,
        job_id: job.id,
        score: i32::from(outcome.screening.score),
        ranked: outcome.screening.ranked,
        engine: engine::ENGINE.to_owned(),
        engine_version: engine::ENGINE_VERSION.to_owned(),
        criteria_hash,
        sealed,
        email_index,
        screened_at: now,
    };
    record(&mut tx, task, Some(&result), outcome.failure, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Screens a reading: a document that could not be read fails alone, with every verdict
/// unknown; a PDF without any text has no text layer.
fn screen(
    reading: Result<Reading, read::ReadError>,
    kind: Option<DocumentKind>,
    criteria: &[Criterion],
    today: Month,
) -> Outcome {
    match reading {
        Ok(reading) => {
            // A PDF without visible text is a scan, even when an OCR layer (invisible text)
            // was added to it: it is not ranked.
            let blank = reading.visible.trim().is_empty();
            let cv = CvInput {
                visible: &reading.visible,
                hidden: &reading.hidden,
                encrypted: reading.encrypted,
                text_layer: !(kind == Some(DocumentKind::Pdf) && blank),
            };
            Outcome { screening: engine::screen(&cv, criteria, today), failure: None }
        }
        Err(error) => {
            tracing::info!(error = %error, "a document could not be read");
            Outcome { screening: engine::unreadable(criteria), failure: Some("extraction_failed") }
        }
    }
}

fn month(now: DateTime<Utc>) -> Month {
    let year = u32::try_from(now.year()).unwrap_or(0);
    Month::new(year, now.month()).unwrap_or(Month(0))
}

/// Stores an outcome if the task is still ours: the result (none when the document could not
/// be processed at all), the document's status, the audit event, and the job's completion
/// when this was its last document. `failure` is the code of a failed document.
async fn record(
    tx: &mut ScopedTx,
    task: &tasks::Claimed,
    result: Option<&results::StoredResult>,
    failure: Option<&str>,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    // Lock the job row first, so that an upload adding work to it and this completion check
    // are ordered one after the other.
    if !jobs::lock(tx, task.job_id).await? {
        return Ok(());
    }
    if !tasks::finish(tx, task).await? {
        tracing::warn!(document = %task.document_id, "lease lost before the outcome was stored");
        return Ok(());
    }
    if let Some(result) = result {
        results::put(tx, result).await?;
    }
    let status = if failure.is_some() { "failed" } else { "screened" };
    documents::set_status(tx, task.document_id, status, failure).await?;
    let target = Some(Target::document(task.document_id));
    let mut event = match failure {
        None => AuditEvent::success(AuditAction::DocumentScreened, target),
        Some(code) => AuditEvent::failure(AuditAction::DocumentScreened, target)
            .detail("code", Detail::Label(code.to_owned())),
    }
    .detail("job_id", Detail::Label(task.job_id.to_string()));
    if let Some(result) = result {
        event = event.detail("engine", Detail::Label(result.engine_version.clone()));
    }
    audit::append(tx, now, &AuditContext::system(), &event).await?;
    Ok(super::complete_if_done(tx, task.job_id, now).await?)
}

/// Records a document that failed on every attempt (or could not be processed at all).
pub(super) async fn give_up(
    screener: &Screener,
    task: &tasks::Claimed,
    code: &'static str,
) -> anyhow::Result<()> {
    let mut tx = screener.db.begin_scoped(&task.scope).await?;
    record(&mut tx, task, None, Some(code), screener.clock.now()).await?;
    tx.commit().await?;
    Ok(())
}
