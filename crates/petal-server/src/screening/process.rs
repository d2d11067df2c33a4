//! One document through the pipeline: decrypt → read (under a deadline, on a blocking
//! thread, panics contained) → screen with the organisation's engine → store the sealed
//! result, status and audit event in one transaction, and complete the job when it was the
//! last. A CV for a remote engine waits for its answer beside the workers (which go on
//! claiming), within its organisation's limit of CVs in flight.

use super::remote::Failure;
use super::worker::Screener;
use crate::vault::JobKey;
use chrono::{DateTime, Datelike, Utc};
use petal_documents::DocumentKind;
use petal_documents::read::{self, Reading};
use petal_domain::audit::{AuditAction, AuditContext, AuditEvent, Detail, Target};
use petal_domain::{Email, ScreeningEngine};
use petal_screening::criteria::Criterion;
use petal_screening::engine::{self, CvInput, Screening, remote};
use petal_screening::profile::Month;
use petal_storage::{ScopedTx, audit, documents, jobs, orgs, results, tasks};
use std::time::Instant;

/// How a document is to be screened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    /// By the local engine.
    Local,
    /// By no engine: the candidate asked for manual review.
    Manual,
    /// By a remote engine.
    Remote(ScreeningEngine),
}

/// What reading (and, for the local routes, screening) gave.
enum Read {
    /// Screened, or failed to read.
    Done(Box<Outcome>),
    /// Read, for this remote engine to judge.
    ForRemote(Reading, Option<DocumentKind>, ScreeningEngine),
}

/// What screening one document gave.
struct Outcome {
    screening: Screening,
    /// Set when the document failed (its code).
    failure: Option<&'static str>,
    /// The engine, its rules or prompt version, and the remote model.
    engine: &'static str,
    version: &'static str,
    model: Option<String>,
}

impl Outcome {
    fn local(screening: Screening, failure: Option<&'static str>) -> Self {
        Self {
            screening,
            failure,
            engine: engine::ENGINE,
            version: engine::ENGINE_VERSION,
            model: None,
        }
    }
}

/// What a document's screening needs beyond the task.
struct Context {
    key: JobKey,
    criteria: Vec<Criterion>,
    today: Month,
}

/// Screens the task's document and stores the outcome; for a remote engine, starts the wait
/// for its answer and returns.
pub(super) async fn process(screener: &Screener, task: &tasks::Claimed) -> anyhow::Result<()> {
    let now = screener.clock.now();
    let mut tx = screener.db.begin_snapshot(&task.scope).await?;
    // A job or document deleted meanwhile took its task with it; nothing to do.
    let Some(job) = jobs::get(&mut tx, task.job_id).await? else { return Ok(()) };
    let Some(document) = documents::get(&mut tx, task.document_id).await? else { return Ok(()) };
    let settings = orgs::settings(&mut tx).await?;
    let key = screener.vault.job_key(&mut tx, job.id, &job.wrapped_key).await?;
    tx.commit().await?;
    let route = match settings.screening_engine {
        _ if document.manual_review => Route::Manual,
        ScreeningEngine::Local => Route::Local,
        remote => Route::Remote(remote),
    };
    // A CV for a remote engine takes its place among its organisation's CVs in flight before
    // it is read; with none free, the task goes back to the queue, uncounted.
    let permit = match route {
        Route::Remote(engine) if !screener.remote.configured(engine) => {
            tracing::warn!(engine = engine.as_str(), "the organisation's engine is not configured");
            return give_up(screener, task, Failure::NotConfigured.code()).await;
        }
        Route::Remote(_) => match screener.remote.permit(task.scope.org_id()) {
            Some(permit) => Some(permit),
            // Due at once: claims pass over the organisation until a place is free.
            None => return Ok(tasks::release(&screener.db, task, now).await?),
        },
        Route::Local | Route::Manual => None,
    };
    let criteria: Vec<Criterion> = serde_json::from_value(job.criteria)?;
    let blob = screener.objects.get(&document.object_name).await?;
    let kind = DocumentKind::parse(&document.kind);
    let limits = screener.limits;
    let deadline = screener.read_deadline;
    let today = month(now);
    let id = document.id;
    let (key, criteria, read) = tokio::task::spawn_blocking(move || {
        let read = key.open_document(id, &blob).map(|plain| {
            let reading = kind
                .ok_or(read::ReadError::Unreadable)
                .and_then(|kind| read::read(kind, &plain, &limits, Instant::now() + deadline));
            screen_locally(reading, kind, &criteria, today, route)
        });
        (key, criteria, read)
    })
    .await?;
    let context = Context { key, criteria, today };
    match read? {
        Read::Done(outcome) => store(screener, task, &context, *outcome).await,
        Read::ForRemote(reading, kind, engine) => {
            let screener = screener.clone();
            let task = task.clone();
            screener.at_remote.clone().spawn(async move {
                let outcome =
                    screen_remotely(&screener, &task, &context, &reading, kind, engine).await;
                drop(permit);
                screener.settle(&task, outcome).await;
            });
            Ok(())
        }
    }
}

/// Reads the outcome of a reading on the local routes: a document that could not be read
/// fails alone, with every verdict unknown; otherwise the local engine screens it (or, for
/// manual review, only reads who the candidate is). A reading for a remote engine is passed
/// on.
fn screen_locally(
    reading: Result<Reading, read::ReadError>,
    kind: Option<DocumentKind>,
    criteria: &[Criterion],
    today: Month,
    route: Route,
) -> Read {
    let reading = match reading {
        Ok(reading) => reading,
        Err(error) => {
            tracing::info!(error = %error, "a document could not be read");
            let unreadable = engine::unreadable(criteria);
            return Read::Done(Box::new(Outcome::local(unreadable, Some("extraction_failed"))));
        }
    };
    let cv = cv_input(&reading, kind);
    match route {
        Route::Local => {
            Read::Done(Box::new(Outcome::local(engine::screen(&cv, criteria, today), None)))
        }
        Route::Manual => {
            Read::Done(Box::new(Outcome::local(engine::manual_review(&cv, criteria, today), None)))
        }
        Route::Remote(engine) => Read::ForRemote(reading, kind, engine),
    }
}

/// A PDF without visible text is a scan, even when an OCR layer (invisible text) was added to
/// it: it has no text layer and is not ranked.
fn cv_input(reading: &Reading, kind: Option<DocumentKind>) -> CvInput<'_> {
    let blank = reading.visible.trim().is_empty();
    CvInput {
        visible: &reading.visible,
        hidden: &reading.hidden,
        encrypted: reading.encrypted,
        text_layer: !(kind == Some(DocumentKind::Pdf) && blank),
    }
}

/// Asks the remote engine and stores its checked screening; an engine that gives none fails
/// the document with the reason.
async fn screen_remotely(
    screener: &Screener,
    task: &tasks::Claimed,
    context: &Context,
    reading: &Reading,
    kind: Option<DocumentKind>,
    engine: ScreeningEngine,
) -> anyhow::Result<()> {
    if !still_to_send(screener, task, engine).await? {
        return Ok(());
    }
    let cv = cv_input(reading, kind);
    let prepared = remote::prepare(&cv);
    let (answers, model) = if prepared.sendable() {
        match screener.remote.screen(engine, &prepared, &context.criteria).await {
            Ok(answered) => (answered.answers, Some(answered.model)),
            Err(failure) => return give_up(screener, task, failure.code()).await,
        }
    } else {
        // Nothing to send (a scan, an empty file): every verdict is unknown.
        (Vec::new(), None)
    };
    let screening = remote::finish(&prepared, &context.criteria, &answers, context.today);
    let outcome = Outcome {
        screening,
        failure: None,
        engine: engine.as_str(),
        version: remote::PROMPT_VERSION,
        model,
    };
    store(screener, task, context, outcome).await
}

/// Whether the CV may still go to `engine`, checked just before it would be sent: the task is
/// still this worker's (the document was not deleted, re-queued or taken over), the
/// candidate was not marked for manual review, and the organisation still uses `engine`.
/// When the mark or the engine changed, the task goes back to the queue to take its new route.
async fn still_to_send(
    screener: &Screener,
    task: &tasks::Claimed,
    engine: ScreeningEngine,
) -> anyhow::Result<bool> {
    let mut tx = screener.db.begin_snapshot(&task.scope).await?;
    if !tasks::held(&mut tx, task).await? {
        return Ok(false);
    }
    let manual = documents::get(&mut tx, task.document_id).await?.is_none_or(|d| d.manual_review);
    let chosen = orgs::settings(&mut tx).await?.screening_engine;
    drop(tx);
    if manual || chosen != engine {
        tasks::release(&screener.db, task, screener.clock.now()).await?;
        return Ok(false);
    }
    Ok(true)
}

/// Seals and stores an outcome.
async fn store(
    screener: &Screener,
    task: &tasks::Claimed,
    context: &Context,
    outcome: Outcome,
) -> anyhow::Result<()> {
    let now = screener.clock.now();
    let id = task.document_id;
    let sealed = context.key.seal_field("result", id, &serde_json::to_vec(&outcome.screening)?)?;
    let mut tx = screener.db.begin_scoped(&task.scope).await?;
    let email_index = match outcome.screening.candidate.email.as_deref().map(Email::parse) {
        Some(Ok(email)) => Some(screener.vault.email_index(&mut tx, &email, now).await?.to_vec()),
        _ => None,
    };
    let result = results::StoredResult {
        document_id: id,
        job_id: task.job_id,
        score: i32::from(outcome.screening.score),
        ranked: outcome.screening.ranked,
        engine: outcome.engine.to_owned(),
        engine_version: outcome.version.to_owned(),
        model: outcome.model,
        criteria_hash: engine::criteria_hash(&context.criteria),
        sealed,
        email_index,
        screened_at: now,
    };
    record(&mut tx, task, Some(&result), outcome.failure, now).await?;
    tx.commit().await?;
    Ok(())
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
        event = event
            .detail("engine", Detail::Label(result.engine.clone()))
            .detail("engine_version", Detail::Label(result.engine_version.clone()));
        if let Some(model) = &result.model {
            event = event.detail("model", Detail::Label(model.clone()));
        }
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
