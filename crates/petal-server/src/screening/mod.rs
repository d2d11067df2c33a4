//! Background screening. Uploads and re-screens queue one task per document in the database
//! (in the same transaction as the rows they write); workers claim tasks, decrypt the CV,
//! read its text under a deadline, screen it with the organisation's engine (the local one
//! unless an Admin chose a [`remote`] one) and store the sealed result, the document's new
//! status and the audit event in one transaction.
//!
//! Workers run inside `petal serve` (one per core by default) or alone as `petal worker`;
//! several processes may share one PostgreSQL database.

mod process;
pub mod remote;
mod worker;

pub use worker::{Screener, Workers};

use std::sync::Arc;
use tokio::sync::Notify;

/// Wakes this process's idle workers when work is queued, so they need not wait for their
/// next poll. Workers in other processes find the work by polling.
#[derive(Clone, Default)]
pub struct Wakeup(Arc<Notify>);

impl Wakeup {
    /// Tells idle workers that tasks were queued.
    pub fn notify(&self) {
        self.0.notify_waiters();
    }

    async fn notified(&self) {
        self.0.notified().await;
    }
}

use chrono::{DateTime, Utc};
use petal_domain::audit::{AuditAction, AuditContext, AuditEvent, Detail, Target};
use petal_domain::{DocumentId, JobId};
use petal_storage::{ScopedTx, StorageError, audit, jobs, tasks};

/// Queues a job's documents for screening and marks the job `processing` (audited when it
/// was not already), in the caller's transaction: the upload's or the re-screen's, which has
/// already locked the job row (`jobs::lock`, ARCHITECTURE.md lock order). Call
/// [`Wakeup::notify`] after committing.
pub async fn enqueue(
    tx: &mut ScopedTx,
    job: JobId,
    documents: &[DocumentId],
    now: DateTime<Utc>,
    context: &AuditContext,
) -> Result<(), StorageError> {
    if documents.is_empty() {
        return Ok(());
    }
    for document in documents {
        tasks::enqueue(tx, job, *document, now).await?;
    }
    if jobs::set_status(tx, job, "processing", now).await? {
        let event = AuditEvent::success(AuditAction::ProcessingStarted, Some(Target::job(job)))
            .detail("documents", Detail::Number(documents.len() as i64));
        audit::append(tx, now, context, &event).await?;
    }
    Ok(())
}

/// When no task of the job is left: `completed` if any document was screened, `failed` if
/// all failed; audited once, on the change.
pub async fn complete_if_done(
    tx: &mut ScopedTx,
    job: JobId,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    if tasks::pending_for_job(tx, job).await? > 0 {
        return Ok(());
    }
    let Some(current) = jobs::get(tx, job).await? else { return Ok(()) };
    let (status, action) = if current.done == 0 && current.failed > 0 {
        ("failed", AuditAction::JobFailed)
    } else {
        ("completed", AuditAction::JobCompleted)
    };
    if jobs::set_status(tx, job, status, now).await? {
        let event = AuditEvent::success(action, Some(Target::job(job)))
            .detail("screened", Detail::Number(current.done))
            .detail("failed", Detail::Number(current.failed));
        audit::append(tx, now, &AuditContext::system(), &event).await?;
    }
    Ok(())
}
