//! Exports of all of an organisation's data: one row per export, tracking the background
//! build and, once ready, where its encrypted ZIP is. The export's key is stored in its row,
//! wrapped by the organisation key, as a job's is.

use crate::db::{execute, on_conn};
use crate::{ScopedTx, StorageError};
use chrono::{DateTime, Utc};
use petal_domain::{ExportId, UserId};
use uuid::Uuid;

/// An export as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    /// Its id.
    pub id: ExportId,
    /// Who asked for it.
    pub requested_by: UserId,
    /// `running`, `ready`, `failed` or `expired`.
    pub status: String,
    /// Documents to include.
    pub documents_total: i64,
    /// Documents written so far.
    pub documents_done: i64,
    /// Where the encrypted ZIP is, once ready.
    pub object_name: Option<String>,
    /// The encrypted ZIP's size, once ready.
    pub size_bytes: Option<i64>,
    /// The export's key, wrapped by the organisation key.
    pub wrapped_key: Vec<u8>,
    /// When it was asked for.
    pub requested_at: DateTime<Utc>,
    /// When the build last made progress.
    pub updated_at: DateTime<Utc>,
    /// When it became ready or failed.
    pub finished_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, requested_by, status, documents_total, documents_done, object_name, \
     size_bytes, wrapped_key, requested_at, updated_at, finished_at";

type Row = (
    Uuid,
    Uuid,
    String,
    i64,
    i64,
    Option<String>,
    Option<i64>,
    Vec<u8>,
    DateTime<Utc>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);

fn from_row(row: Row) -> Export {
    let (id, by, status, total, done, object_name, size_bytes, wrapped_key, at, updated, fin) = row;
    Export {
        id: ExportId::from_uuid(id),
        requested_by: UserId::from_uuid(by),
        status,
        documents_total: total,
        documents_done: done,
        object_name,
        size_bytes,
        wrapped_key,
        requested_at: at,
        updated_at: updated,
        finished_at: fin,
    }
}

/// Records a new export, `running`, in the transaction's organisation.
pub async fn insert(
    tx: &mut ScopedTx,
    id: ExportId,
    requested_by: UserId,
    wrapped_key: &[u8],
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    let org = tx.scope().org_id().as_uuid();
    execute!(
        &mut tx.tx,
        "INSERT INTO exports (id, org_id, requested_by, status, wrapped_key, requested_at, \
         updated_at) VALUES ($1, $2, $3, 'running', $4, $5, $5)",
        id.as_uuid(),
        org,
        requested_by.as_uuid(),
        wrapped_key,
        now,
    )?;
    Ok(())
}

/// The export, if it is the transaction's organisation's.
pub async fn get(tx: &mut ScopedTx, id: ExportId) -> Result<Option<Export>, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    let sql = format!("SELECT {COLUMNS} FROM exports WHERE org_id = $1 AND id = $2");
    let row: Option<Row> = on_conn!(&mut tx.tx, |conn| {
        sqlx::query_as(&sql).bind(org).bind(id.as_uuid()).fetch_optional(conn).await
    })?;
    Ok(row.map(from_row))
}

/// Records the build's progress.
pub async fn set_progress(
    tx: &mut ScopedTx,
    id: ExportId,
    done: i64,
    total: i64,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    let org = tx.scope().org_id().as_uuid();
    execute!(
        &mut tx.tx,
        "UPDATE exports SET documents_done = $3, documents_total = $4, updated_at = $5 \
         WHERE org_id = $1 AND id = $2 AND status = 'running'",
        org,
        id.as_uuid(),
        done,
        total,
        now,
    )?;
    Ok(())
}

/// Marks a running export ready, its encrypted ZIP at `object_name`; `false` when it is no
/// longer running (it expired meanwhile: the caller deletes the ZIP).
pub async fn set_ready(
    tx: &mut ScopedTx,
    id: ExportId,
    object_name: &str,
    size_bytes: i64,
    now: DateTime<Utc>,
) -> Result<bool, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    let changed = execute!(
        &mut tx.tx,
        "UPDATE exports SET status = 'ready', object_name = $3, size_bytes = $4, \
         updated_at = $5, finished_at = $5 WHERE org_id = $1 AND id = $2 AND status = 'running'",
        org,
        id.as_uuid(),
        object_name,
        size_bytes,
        now,
    )?;
    Ok(changed == 1)
}

/// Marks a running export failed.
pub async fn set_failed(
    tx: &mut ScopedTx,
    id: ExportId,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    let org = tx.scope().org_id().as_uuid();
    execute!(
        &mut tx.tx,
        "UPDATE exports SET status = 'failed', updated_at = $3, finished_at = $3 \
         WHERE org_id = $1 AND id = $2 AND status = 'running'",
        org,
        id.as_uuid(),
        now,
    )?;
    Ok(())
}

/// The transaction's organisation's exports asked for before `cutoff` and not yet expired.
pub async fn older_than(
    tx: &mut ScopedTx,
    cutoff: DateTime<Utc>,
) -> Result<Vec<ExportId>, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    let rows: Vec<Uuid> = on_conn!(&mut tx.tx, |conn| {
        sqlx::query_scalar(
            "SELECT id FROM exports WHERE org_id = $1 AND requested_at < $2 \
             AND status <> 'expired' ORDER BY requested_at, id",
        )
        .bind(org)
        .bind(cutoff)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows.into_iter().map(ExportId::from_uuid).collect())
}

/// Marks the export expired and destroys its key (its ZIP, if any, is then unreadable; the
/// caller deletes it). A build still running then finds it no longer running and deletes its
/// own ZIP.
pub async fn set_expired(
    tx: &mut ScopedTx,
    id: ExportId,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    let org = tx.scope().org_id().as_uuid();
    execute!(
        &mut tx.tx,
        "UPDATE exports SET status = 'expired', object_name = NULL, wrapped_key = $3, \
         updated_at = $4, finished_at = COALESCE(finished_at, $4) WHERE org_id = $1 AND id = $2",
        org,
        id.as_uuid(),
        Vec::<u8>::new(),
        now,
    )?;
    Ok(())
}
