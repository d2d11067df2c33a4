//! Screening results, one per document. The score and whether the CV is ranked are plain
//! columns; everything about the candidate (who they are, verdicts, evidence quoted from the
//! CV) is sealed with the job key, so it goes when the job key goes.

use crate::db::{execute, on_conn};
use crate::{ScopedTx, StorageError};
use chrono::{DateTime, Utc};
use petal_domain::{DocumentId, JobId};
use uuid::Uuid;

/// A document's screening result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResult {
    /// The document screened.
    pub document_id: DocumentId,
    /// Its job.
    pub job_id: JobId,
    /// 0–100.
    pub score: i32,
    /// Whether it takes part in the ranking.
    pub ranked: bool,
    /// The engine that screened it (`local`, …).
    pub engine: String,
    /// The local engine's rules version, or the remote engine's prompt version.
    pub engine_version: String,
    /// The remote model that screened it (none for the local engine).
    pub model: Option<String>,
    /// SHA-256 of the criteria it was screened against.
    pub criteria_hash: String,
    /// The screening itself, sealed with the job key.
    pub sealed: Vec<u8>,
    /// Keyed index of the candidate's email, to find them for erasure.
    pub email_index: Option<Vec<u8>>,
    /// When it was screened.
    pub screened_at: DateTime<Utc>,
}

/// Stores (or replaces) a document's result.
pub async fn put(tx: &mut ScopedTx, result: &StoredResult) -> Result<(), StorageError> {
    let org = tx.scope().org_id().as_uuid();
    execute!(
        &mut tx.tx,
        "INSERT INTO results (document_id, org_id, job_id, score, ranked, engine, \
         engine_version, criteria_hash, sealed, email_index, screened_at, model) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (document_id) DO UPDATE SET score = excluded.score, \
         ranked = excluded.ranked, engine = excluded.engine, \
         engine_version = excluded.engine_version, criteria_hash = excluded.criteria_hash, \
         sealed = excluded.sealed, email_index = excluded.email_index, \
         screened_at = excluded.screened_at, model = excluded.model",
        result.document_id.as_uuid(),
        org,
        result.job_id.as_uuid(),
        result.score,
        result.ranked,
        &result.engine,
        &result.engine_version,
        &result.criteria_hash,
        result.sealed.as_slice(),
        result.email_index.as_deref(),
        result.screened_at,
        result.model.as_deref(),
    )?;
    Ok(())
}

/// A result row: ids, score, ranked, engine, version, criteria hash, sealed, email index,
/// screened at, model.
type Row = (
    Uuid,
    Uuid,
    i32,
    bool,
    String,
    String,
    String,
    Vec<u8>,
    Option<Vec<u8>>,
    DateTime<Utc>,
    Option<String>,
);

/// The job's results, in no particular order (the caller ranks them).
pub async fn list_for_job(
    tx: &mut ScopedTx,
    job: JobId,
) -> Result<Vec<StoredResult>, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    let rows: Vec<Row> = on_conn!(&mut tx.tx, |conn| {
        sqlx::query_as(
            "SELECT document_id, job_id, score, ranked, engine, engine_version, criteria_hash, \
             sealed, email_index, screened_at, model FROM results \
             WHERE org_id = $1 AND job_id = $2",
        )
        .bind(org)
        .bind(job.as_uuid())
        .fetch_all(conn)
        .await
    })?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let (document, job, score, ranked, engine, version, hash, sealed, index, at, model) =
                row;
            StoredResult {
                document_id: DocumentId::from_uuid(document),
                job_id: JobId::from_uuid(job),
                score,
                ranked,
                engine,
                engine_version: version,
                criteria_hash: hash,
                sealed,
                email_index: index,
                screened_at: at,
                model,
            }
        })
        .collect())
}

/// The documents (and their jobs) whose screened candidate has this email blind index, in the
/// transaction's organisation, ordered by job then document.
pub async fn documents_with_email(
    tx: &mut ScopedTx,
    email_index: &[u8],
) -> Result<Vec<(DocumentId, JobId)>, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    let rows: Vec<(Uuid, Uuid)> = on_conn!(&mut tx.tx, |conn| {
        sqlx::query_as(
            "SELECT document_id, job_id FROM results WHERE org_id = $1 AND email_index = $2 \
             ORDER BY job_id, document_id",
        )
        .bind(org)
        .bind(email_index)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows.into_iter().map(|(d, j)| (DocumentId::from_uuid(d), JobId::from_uuid(j))).collect())
}
