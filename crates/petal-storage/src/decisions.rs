//! Human decisions on candidates (`advance`, `hold`, `reject`): people decide, the software
//! only advises. The note may name the candidate, so it is sealed with the job key.

use crate::db::{execute, on_conn};
use crate::{ScopedTx, StorageError};
use chrono::{DateTime, Utc};
use petal_domain::{DocumentId, JobId, UserId};
use uuid::Uuid;

/// A recorded decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The candidate's document.
    pub document_id: DocumentId,
    /// Its job.
    pub job_id: JobId,
    /// `advance`, `hold` or `reject`.
    pub decision: String,
    /// The note, sealed with the job key.
    pub note_sealed: Vec<u8>,
    /// Who decided.
    pub decided_by: UserId,
    /// When.
    pub decided_at: DateTime<Utc>,
}

/// Records (or replaces) the decision on a document.
pub async fn put(tx: &mut ScopedTx, decision: &Decision) -> Result<(), StorageError> {
    let org = tx.scope().org_id().as_uuid();
    execute!(
        &mut tx.tx,
        "INSERT INTO decisions (document_id, org_id, job_id, decision, note, decided_by, \
         decided_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (document_id) DO UPDATE \
         SET decision = excluded.decision, note = excluded.note, \
         decided_by = excluded.decided_by, decided_at = excluded.decided_at",
        decision.document_id.as_uuid(),
        org,
        decision.job_id.as_uuid(),
        &decision.decision,
        decision.note_sealed.as_slice(),
        decision.decided_by.as_uuid(),
        decision.decided_at,
    )?;
    Ok(())
}

type Row = (Uuid, Uuid, String, Vec<u8>, Uuid, DateTime<Utc>);

fn from_row((document, job, decision, note, by, at): Row) -> Decision {
    Decision {
        document_id: DocumentId::from_uuid(document),
        job_id: JobId::from_uuid(job),
        decision,
        note_sealed: note,
        decided_by: UserId::from_uuid(by),
        decided_at: at,
    }
}

const SELECT: &str = "SELECT document_id, job_id, decision, note, decided_by, decided_at \
     FROM decisions WHERE org_id = $1";

/// The decision on one document, if any.
pub async fn get(
    tx: &mut ScopedTx,
    document: DocumentId,
) -> Result<Option<Decision>, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    let sql = format!("{SELECT} AND document_id = $2");
    let row: Option<Row> = on_conn!(&mut tx.tx, |conn| {
        sqlx::query_as(&sql).bind(org).bind(document.as_uuid()).fetch_optional(conn).await
    })?;
    Ok(row.map(from_row))
}

/// The decisions taken in a job.
pub async fn list_for_job(tx: &mut ScopedTx, job: JobId) -> Result<Vec<Decision>, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    let sql = format!("{SELECT} AND job_id = $2");
    let rows: Vec<Row> = on_conn!(&mut tx.tx, |conn| {
        sqlx::query_as(&sql).bind(org).bind(job.as_uuid()).fetch_all(conn).await
    })?;
    Ok(rows.into_iter().map(from_row).collect())
}
