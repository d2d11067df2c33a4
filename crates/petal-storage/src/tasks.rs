//! The screening queue: one task per document, in the database, so that work survives a
//! restart and several workers (in several processes) share it without doing a document twice.
//!
//! A worker claims the oldest due task by writing a fresh lease id and pushing `run_after`
//! to the end of its lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so concurrent workers
//! pass over each other's rows; SQLite's single writer gives the same guarantee). If the worker
//! dies, the task is due again when the lease runs out. Finishing deletes the row — in the
//! transaction that stores the result, and only if the lease is still the worker's, so a
//! result is stored once even when a slow worker's lease was taken over.

use crate::db::{execute, on_conn, on_pool};
use crate::{Database, OrgScope, ScopedTx, StorageError, Tx};
use chrono::{DateTime, Utc};
use petal_domain::{DocumentId, JobId, OrgId};
use uuid::Uuid;

/// A task a worker holds until its lease ends.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// The organisation the document belongs to (read from the task row, which only a
    /// scoped transaction of that organisation can write).
    pub scope: OrgScope,
    /// The job.
    pub job_id: JobId,
    /// The document to screen.
    pub document_id: DocumentId,
    /// Which attempt this is, from 1.
    pub attempt: i32,
    /// The lease: finishing or retrying requires it.
    pub lease: Uuid,
}

/// Queues (or re-queues, resetting attempts) the document for screening, and marks it
/// `queued`.
pub async fn enqueue(
    tx: &mut ScopedTx,
    job: JobId,
    document: DocumentId,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    let org = tx.scope().org_id().as_uuid();
    execute!(
        &mut tx.tx,
        "INSERT INTO tasks (document_id, org_id, job_id, attempts, run_after, lease, created_at) \
         VALUES ($1, $2, $3, 0, $4, NULL, $4) ON CONFLICT (document_id) DO UPDATE \
         SET attempts = 0, run_after = excluded.run_after, lease = NULL",
        document.as_uuid(),
        org,
        job.as_uuid(),
        now,
    )?;
    execute!(
        &mut tx.tx,
        "UPDATE documents SET status = 'queued', failure = NULL WHERE org_id = $1 AND id = $2",
        org,
        document.as_uuid(),
    )?;
    Ok(())
}

/// ` AND org_id NOT IN ($first, …)` for `count` organisations, or nothing.
fn excluding(count: usize, first: usize) -> String {
    if count == 0 {
        return String::new();
    }
    let placeholders: Vec<String> = (first..first + count).map(|i| format!("${i}")).collect();
    format!(" AND org_id NOT IN ({})", placeholders.join(", "))
}

/// Whether a task is due, outside the `excluded` organisations (a read, no lock).
async fn due(db: &Database, now: DateTime<Utc>, excluded: &[OrgId]) -> Result<bool, StorageError> {
    let sql = format!(
        "SELECT 1 FROM tasks WHERE run_after <= $1{} LIMIT 1",
        excluding(excluded.len(), 2)
    );
    let found: Option<i32> = on_pool!(db, |pool| {
        let mut query = sqlx::query_scalar(&sql).bind(now);
        for org in excluded {
            query = query.bind(org.as_uuid());
        }
        query.fetch_optional(pool).await
    })?;
    Ok(found.is_some())
}

/// Claims the oldest due task until `lease_until`, passing over the organisations in
/// `excluded` (those with as much work in flight as they may have), or returns `None` when
/// nothing is due. Looking costs a read; only when a task is due does claiming take the
/// write lock.
pub async fn claim(
    db: &Database,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    excluded: &[OrgId],
) -> Result<Option<Claimed>, StorageError> {
    if !due(db, now, excluded).await? {
        return Ok(None);
    }
    let mut tx = db.begin().await?;
    let lease = Uuid::new_v4();
    let lock = match &tx {
        Tx::Postgres(_) => " FOR UPDATE SKIP LOCKED",
        Tx::Sqlite(_) => "",
    };
    let sql = format!(
        "UPDATE tasks SET lease = $1, attempts = attempts + 1, run_after = $2 \
         WHERE document_id = (SELECT document_id FROM tasks WHERE run_after <= $3{} \
         ORDER BY run_after, document_id LIMIT 1{lock}) \
         RETURNING document_id, org_id, job_id, attempts",
        excluding(excluded.len(), 4),
    );
    let row: Option<(Uuid, Uuid, Uuid, i32)> = on_conn!(&mut tx, |conn| {
        let mut query = sqlx::query_as(&sql).bind(lease).bind(lease_until).bind(now);
        for org in excluded {
            query = query.bind(org.as_uuid());
        }
        query.fetch_optional(conn).await
    })?;
    tx.commit().await?;
    Ok(row.map(|(document, org, job, attempt)| Claimed {
        scope: OrgScope::new(petal_domain::OrgId::from_uuid(org)),
        job_id: JobId::from_uuid(job),
        document_id: DocumentId::from_uuid(document),
        attempt,
        lease,
    }))
}

/// Removes the finished task, inside the transaction that stores its outcome. Returns false
/// if the lease is no longer the worker's (the caller then rolls back).
pub async fn finish(tx: &mut ScopedTx, task: &Claimed) -> Result<bool, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    let removed = execute!(
        &mut tx.tx,
        "DELETE FROM tasks WHERE org_id = $1 AND document_id = $2 AND lease = $3",
        org,
        task.document_id.as_uuid(),
        task.lease,
    )?;
    Ok(removed == 1)
}

/// Gives the task back to be tried again after `run_after` (if the lease is still ours).
pub async fn retry(
    db: &Database,
    task: &Claimed,
    run_after: DateTime<Utc>,
) -> Result<(), StorageError> {
    give_back(db, task, run_after, 0).await
}

/// Gives the task back untouched, to be claimed again after `run_after`, without counting the
/// attempt (the worker could not start it: its organisation had as much work in flight as
/// it may).
pub async fn release(
    db: &Database,
    task: &Claimed,
    run_after: DateTime<Utc>,
) -> Result<(), StorageError> {
    give_back(db, task, run_after, 1).await
}

/// Ends the lease (if it is still ours), makes the task due at `run_after`, and takes back
/// `uncounted` of its attempts.
async fn give_back(
    db: &Database,
    task: &Claimed,
    run_after: DateTime<Utc>,
    uncounted: i32,
) -> Result<(), StorageError> {
    let mut tx = db.begin_scoped(&task.scope).await?;
    execute!(
        &mut tx.tx,
        "UPDATE tasks SET lease = NULL, run_after = $4, attempts = attempts - $5 \
         WHERE org_id = $1 AND document_id = $2 AND lease = $3",
        task.scope.org_id().as_uuid(),
        task.document_id.as_uuid(),
        task.lease,
        run_after,
        uncounted,
    )?;
    tx.commit().await
}

/// Whether the worker still holds the task's lease.
pub async fn held(tx: &mut ScopedTx, task: &Claimed) -> Result<bool, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    let found: Option<i32> = on_conn!(&mut tx.tx, |conn| {
        sqlx::query_scalar(
            "SELECT 1 FROM tasks WHERE org_id = $1 AND document_id = $2 AND lease = $3",
        )
        .bind(org)
        .bind(task.document_id.as_uuid())
        .bind(task.lease)
        .fetch_optional(conn)
        .await
    })?;
    Ok(found.is_some())
}

/// How many of the job's documents are still waiting or being screened.
pub async fn pending_for_job(tx: &mut ScopedTx, job: JobId) -> Result<i64, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    on_conn!(&mut tx.tx, |conn| {
        sqlx::query_scalar("SELECT COUNT(*) FROM tasks WHERE org_id = $1 AND job_id = $2")
            .bind(org)
            .bind(job.as_uuid())
            .fetch_one(conn)
            .await
    })
    .map_err(Into::into)
}
