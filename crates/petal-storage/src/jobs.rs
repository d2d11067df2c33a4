//! Jobs: what a set of CVs is screened against. A job's key is stored in its row, wrapped by
//! the organisation key, so deleting the row destroys the key of everything the job holds.

use crate::db::{execute, on_conn};
use crate::{ScopedTx, StorageError};
use chrono::{DateTime, Utc};
use petal_domain::{JobId, UserId};
use sqlx::types::Json;
use uuid::Uuid;

/// A job to store.
#[derive(Debug)]
pub struct NewJob<'a> {
    /// The job's id (chosen by the caller, who binds it into the wrapped key).
    pub id: JobId,
    /// Who created it.
    pub created_by: UserId,
    /// Its title.
    pub title: &'a str,
    /// Its description.
    pub description: &'a str,
    /// Its criteria, as validated JSON.
    pub criteria: &'a serde_json::Value,
    /// The job key, wrapped by the organisation key.
    pub wrapped_key: &'a [u8],
    /// Whether a recruiter gave the criteria (false: proposed from the description).
    pub criteria_confirmed: bool,
    /// When it was created.
    pub now: DateTime<Utc>,
}

/// A stored job with its document counts.
#[derive(Debug, Clone)]
pub struct Job {
    /// Its id.
    pub id: JobId,
    /// Who created it.
    pub created_by: UserId,
    /// Its title.
    pub title: String,
    /// Its description.
    pub description: String,
    /// Its criteria.
    pub criteria: serde_json::Value,
    /// Whether a recruiter confirmed the criteria.
    pub criteria_confirmed: bool,
    /// `draft`, `processing`, `completed` or `failed`.
    pub status: String,
    /// The job key, wrapped by the organisation key.
    pub wrapped_key: Vec<u8>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// Documents in the job.
    pub total: i64,
    /// Documents screened.
    pub done: i64,
    /// Documents that failed.
    pub failed: i64,
}

/// Stores a new job (status `draft`) in the transaction's organisation.
pub async fn create(tx: &mut ScopedTx, job: &NewJob<'_>) -> Result<(), StorageError> {
    let org = tx.scope().org_id().as_uuid();
    execute!(
        &mut tx.tx,
        "INSERT INTO jobs (id, org_id, created_by, title, description, criteria, status, \
         wrapped_key, created_at, updated_at, criteria_confirmed) \
         VALUES ($1, $2, $3, $4, $5, $6, 'draft', $7, $8, $8, $9)",
        job.id.as_uuid(),
        org,
        job.created_by.as_uuid(),
        job.title,
        job.description,
        Json(job.criteria),
        job.wrapped_key,
        job.now,
        job.criteria_confirmed,
    )?;
    Ok(())
}

type Row = (
    Uuid,
    Uuid,
    String,
    String,
    String,
    bool,
    String,
    Vec<u8>,
    DateTime<Utc>,
    DateTime<Utc>,
    i64,
    i64,
    i64,
);

const SELECT: &str = "SELECT j.id, j.created_by, j.title, j.description, CAST(j.criteria AS TEXT), \
     j.criteria_confirmed, j.status, j.wrapped_key, j.created_at, j.updated_at, \
     (SELECT COUNT(*) FROM documents d WHERE d.job_id = j.id), \
     (SELECT COUNT(*) FROM documents d WHERE d.job_id = j.id AND d.status = 'screened'), \
     (SELECT COUNT(*) FROM documents d WHERE d.job_id = j.id AND d.status = 'failed') \
     FROM jobs j WHERE j.org_id = $1";

fn from_row(row: Row) -> Result<Job, StorageError> {
    let (
        id,
        created_by,
        title,
        description,
        criteria,
        criteria_confirmed,
        status,
        wrapped_key,
        created_at,
        updated_at,
        total,
        done,
        failed,
    ) = row;
    let criteria = serde_json::from_str(&criteria)
        .map_err(|e| StorageError::Corrupt(format!("job criteria: {e}")))?;
    Ok(Job {
        id: JobId::from_uuid(id),
        created_by: UserId::from_uuid(created_by),
        title,
        description,
        criteria,
        criteria_confirmed,
        status,
        wrapped_key,
        created_at,
        updated_at,
        total,
        done,
        failed,
    })
}

/// The job with this id in the transaction's organisation.
pub async fn get(tx: &mut ScopedTx, id: JobId) -> Result<Option<Job>, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    let sql = format!("{SELECT} AND j.id = $2");
    let row: Option<Row> = on_conn!(&mut tx.tx, |conn| {
        sqlx::query_as(&sql).bind(org).bind(id.as_uuid()).fetch_optional(conn).await
    })?;
    row.map(from_row).transpose()
}

/// The organisation's jobs, newest first.
pub async fn list(tx: &mut ScopedTx) -> Result<Vec<Job>, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    let sql = format!("{SELECT} ORDER BY j.created_at DESC, j.id");
    let rows: Vec<Row> =
        on_conn!(&mut tx.tx, |conn| sqlx::query_as(&sql).bind(org).fetch_all(conn).await)?;
    rows.into_iter().map(from_row).collect()
}

/// The jobs with no activity since `cutoff`, oldest first: not changed (status, criteria),
/// given no document, screened nothing and recorded no decision since. What retention purges.
pub async fn inactive_since(
    tx: &mut ScopedTx,
    cutoff: DateTime<Utc>,
) -> Result<Vec<JobId>, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    let ids: Vec<Uuid> = on_conn!(&mut tx.tx, |conn| {
        sqlx::query_scalar(
            "SELECT j.id FROM jobs j WHERE j.org_id = $1 AND j.updated_at < $2 \
             AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.job_id = j.id \
                             AND d.created_at >= $2) \
             AND NOT EXISTS (SELECT 1 FROM results r WHERE r.job_id = j.id \
                             AND r.screened_at >= $2) \
             AND NOT EXISTS (SELECT 1 FROM decisions x WHERE x.job_id = j.id \
                             AND x.decided_at >= $2) \
             ORDER BY j.updated_at, j.id",
        )
        .bind(org)
        .bind(cutoff)
        .fetch_all(conn)
        .await
    })?;
    Ok(ids.into_iter().map(JobId::from_uuid).collect())
}

/// Deletes the job, its documents' rows and its key; returns the object names of its
/// documents (for the caller to delete), or `None` if there was no such job.
pub async fn delete(tx: &mut ScopedTx, id: JobId) -> Result<Option<Vec<String>>, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    let names: Vec<String> = on_conn!(&mut tx.tx, |conn| {
        sqlx::query_scalar(
            "SELECT object_name FROM documents WHERE org_id = $1 AND job_id = $2 ORDER BY id",
        )
        .bind(org)
        .bind(id.as_uuid())
        .fetch_all(conn)
        .await
    })?;
    execute!(
        &mut tx.tx,
        "DELETE FROM documents WHERE org_id = $1 AND job_id = $2",
        org,
        id.as_uuid()
    )?;
    let deleted =
        execute!(&mut tx.tx, "DELETE FROM jobs WHERE org_id = $1 AND id = $2", org, id.as_uuid())?;
    Ok((deleted == 1).then_some(names))
}

/// Sets the job's status (`draft`, `processing`, `completed`, `failed`); returns whether it
/// changed.
pub async fn set_status(
    tx: &mut ScopedTx,
    id: JobId,
    status: &str,
    now: DateTime<Utc>,
) -> Result<bool, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    let changed = execute!(
        &mut tx.tx,
        "UPDATE jobs SET status = $3, updated_at = $4 WHERE org_id = $1 AND id = $2 \
         AND status <> $3",
        org,
        id.as_uuid(),
        status,
        now,
    )?;
    Ok(changed == 1)
}

/// Locks the job's row until the transaction ends (on PostgreSQL; SQLite's single writer
/// already orders transactions); returns whether the job exists.
pub async fn lock(tx: &mut ScopedTx, id: JobId) -> Result<bool, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    let locked = execute!(
        &mut tx.tx,
        "UPDATE jobs SET status = status WHERE org_id = $1 AND id = $2",
        org,
        id.as_uuid(),
    )?;
    Ok(locked == 1)
}

/// Replaces the job's criteria with ones a recruiter gave (so they are confirmed).
pub async fn set_criteria(
    tx: &mut ScopedTx,
    id: JobId,
    criteria: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    let org = tx.scope().org_id().as_uuid();
    execute!(
        &mut tx.tx,
        "UPDATE jobs SET criteria = $3, criteria_confirmed = $4, updated_at = $5 \
         WHERE org_id = $1 AND id = $2",
        org,
        id.as_uuid(),
        Json(criteria),
        true,
        now,
    )?;
    Ok(())
}
