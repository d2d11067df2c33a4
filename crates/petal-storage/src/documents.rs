//! Documents: one row per stored CV. The bytes are in the object store, encrypted, under a
//! random object name; the row holds that name and the client's file name sealed with the job
//! key.

use crate::db::{execute, on_conn};
use crate::{ScopedTx, StorageError};
use chrono::{DateTime, Utc};
use petal_domain::{DocumentId, JobId, UserId};
use uuid::Uuid;

/// A stored document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// Its id.
    pub id: DocumentId,
    /// The job holding it.
    pub job_id: JobId,
    /// Who uploaded it.
    pub uploaded_by: UserId,
    /// Where its encrypted bytes are in the object store.
    pub object_name: String,
    /// The sanitised client file name, sealed with the job key.
    pub filename_sealed: Vec<u8>,
    /// Its format (`pdf`, `docx`, `odt`, `rtf`, `txt`).
    pub kind: String,
    /// Its size in bytes (plaintext).
    pub size_bytes: i64,
    /// Where it is in processing (`uploaded`, then the screening states).
    pub status: String,
    /// When it was uploaded.
    pub created_at: DateTime<Utc>,
    /// Why it failed, as a code (`extraction_failed`, …), when its status is `failed`.
    pub failure: Option<String>,
    /// The candidate asked for a person to review their CV: no engine judges it, and it is
    /// never sent anywhere.
    pub manual_review: bool,
}

/// Stores a document row (status `uploaded`) in the transaction's organisation.
pub async fn insert(tx: &mut ScopedTx, document: &Document) -> Result<(), StorageError> {
    let org = tx.scope().org_id().as_uuid();
    execute!(
        &mut tx.tx,
        "INSERT INTO documents (id, org_id, job_id, uploaded_by, object_name, filename, kind, \
         size_bytes, status, created_at, manual_review) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        document.id.as_uuid(),
        org,
        document.job_id.as_uuid(),
        document.uploaded_by.as_uuid(),
        &document.object_name,
        document.filename_sealed.as_slice(),
        &document.kind,
        document.size_bytes,
        &document.status,
        document.created_at,
        document.manual_review,
    )?;
    Ok(())
}

type Row =
    (Uuid, Uuid, Uuid, String, Vec<u8>, String, i64, String, DateTime<Utc>, Option<String>, bool);

const SELECT: &str = "SELECT id, job_id, uploaded_by, object_name, filename, kind, size_bytes, \
     status, created_at, failure, manual_review FROM documents WHERE org_id = $1";

fn from_row(row: Row) -> Document {
    let (
        id,
        job_id,
        uploaded_by,
        object_name,
        filename_sealed,
        kind,
        size_bytes,
        status,
        created_at,
        failure,
        manual_review,
    ) = row;
    Document {
        id: DocumentId::from_uuid(id),
        job_id: JobId::from_uuid(job_id),
        uploaded_by: UserId::from_uuid(uploaded_by),
        object_name,
        filename_sealed,
        kind,
        size_bytes,
        status,
        created_at,
        failure,
        manual_review,
    }
}

/// The document with this id in the transaction's organisation.
pub async fn get(tx: &mut ScopedTx, id: DocumentId) -> Result<Option<Document>, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    let sql = format!("{SELECT} AND id = $2");
    let row: Option<Row> = on_conn!(&mut tx.tx, |conn| {
        sqlx::query_as(&sql).bind(org).bind(id.as_uuid()).fetch_optional(conn).await
    })?;
    Ok(row.map(from_row))
}

/// The job's documents, oldest first.
pub async fn list_for_job(tx: &mut ScopedTx, job: JobId) -> Result<Vec<Document>, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    let sql = format!("{SELECT} AND job_id = $2 ORDER BY created_at, id");
    let rows: Vec<Row> = on_conn!(&mut tx.tx, |conn| {
        sqlx::query_as(&sql).bind(org).bind(job.as_uuid()).fetch_all(conn).await
    })?;
    Ok(rows.into_iter().map(from_row).collect())
}

/// Deletes the document's row; returns whether it existed.
pub async fn delete(tx: &mut ScopedTx, id: DocumentId) -> Result<bool, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    let deleted = execute!(
        &mut tx.tx,
        "DELETE FROM documents WHERE org_id = $1 AND id = $2",
        org,
        id.as_uuid()
    )?;
    Ok(deleted == 1)
}

/// Sets the document's processing status (`processing`, `screened`, `failed`) and, for a
/// failure, its reason code.
pub async fn set_status(
    tx: &mut ScopedTx,
    id: DocumentId,
    status: &str,
    failure: Option<&str>,
) -> Result<(), StorageError> {
    let org = tx.scope().org_id().as_uuid();
    execute!(
        &mut tx.tx,
        "UPDATE documents SET status = $3, failure = $4 WHERE org_id = $1 AND id = $2",
        org,
        id.as_uuid(),
        status,
        failure,
    )?;
    Ok(())
}

/// Marks whether the candidate asked for manual review only; returns whether the document
/// exists.
pub async fn set_manual_review(
    tx: &mut ScopedTx,
    id: DocumentId,
    manual_review: bool,
) -> Result<bool, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    let updated = execute!(
        &mut tx.tx,
        "UPDATE documents SET manual_review = $3 WHERE org_id = $1 AND id = $2",
        org,
        id.as_uuid(),
        manual_review,
    )?;
    Ok(updated == 1)
}
