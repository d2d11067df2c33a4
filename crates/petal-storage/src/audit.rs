//! The audit trail: appending to an organisation's hash chain inside the caller's transaction,
//! and verifying a stored chain.

use crate::db::on_conn;
use crate::{Database, OrgScope, StorageError, Tx};
use chrono::{DateTime, Utc};
use petal_domain::AuditEventId;
use petal_domain::audit::chain::{ChainEntry, ChainHash, ChainReport, ChainVerifier};
use petal_domain::audit::{AuditContext, AuditEvent};
use sqlx::types::Json;
use uuid::Uuid;

/// Appends `event` to `scope`'s chain in `tx`, the transaction of the action it records: if the
/// action rolls back, so does its event, and if the event cannot be stored, the action fails.
///
/// The head row is updated first, which takes its row lock (PostgreSQL) or the write lock
/// (SQLite) before anything is read, so concurrent appenders to one organisation queue up
/// instead of forking the chain.
pub async fn append(
    tx: &mut Tx,
    scope: &OrgScope,
    now: DateTime<Utc>,
    context: &AuditContext,
    event: &AuditEvent,
) -> Result<AuditEventId, StorageError> {
    let org = scope.org_id().as_uuid();
    let (seq, prev): (i64, Vec<u8>) = on_conn!(tx, |conn| {
        sqlx::query_as("UPDATE audit_heads SET seq = seq + 1 WHERE org_id = $1 RETURNING seq, hash")
            .bind(org)
            .fetch_one(conn)
            .await
    })?;
    let prev = ChainHash::from_slice(&prev)
        .ok_or_else(|| StorageError::Corrupt("audit head hash is not 32 bytes".to_owned()))?;
    let entry = ChainEntry::new(org, seq, now, context, event);
    let hash = entry.hash_after(&prev);
    on_conn!(tx, |conn| {
        sqlx::query(
            "INSERT INTO audit_events (org_id, seq, id, occurred_at, actor_kind, actor_id, \
             actor_role, ip, user_agent, request_id, action, target_kind, target_id, outcome, \
             details, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
        )
        .bind(entry.org_id)
        .bind(entry.seq)
        .bind(entry.id)
        .bind(entry.occurred_at)
        .bind(&entry.actor_kind)
        .bind(entry.actor_id)
        .bind(&entry.actor_role)
        .bind(&entry.ip)
        .bind(&entry.user_agent)
        .bind(&entry.request_id)
        .bind(&entry.action)
        .bind(&entry.target_kind)
        .bind(&entry.target_id)
        .bind(&entry.outcome)
        .bind(Json(&entry.details))
        .bind(prev.as_bytes().as_slice())
        .bind(hash.as_bytes().as_slice())
        .execute(&mut *conn)
        .await?;
        sqlx::query("UPDATE audit_heads SET hash = $2 WHERE org_id = $1")
            .bind(org)
            .bind(hash.as_bytes().as_slice())
            .execute(&mut *conn)
            .await?;
    });
    Ok(AuditEventId::from_uuid(entry.id))
}

/// One stored event, as read for verification.
#[derive(sqlx::FromRow)]
struct StoredEvent {
    org_id: Uuid,
    seq: i64,
    id: Uuid,
    occurred_at: DateTime<Utc>,
    actor_kind: String,
    actor_id: Option<Uuid>,
    actor_role: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    request_id: Option<String>,
    action: String,
    target_kind: Option<String>,
    target_id: Option<String>,
    outcome: String,
    details: Json<serde_json::Value>,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
}

/// Events read per round trip while verifying.
const VERIFY_BATCH: i64 = 1000;

/// Verifies `scope`'s whole chain against its recorded head, reading one consistent snapshot
/// in batches (constant memory whatever the chain's length).
pub async fn verify(db: &Database, scope: &OrgScope) -> Result<ChainReport, StorageError> {
    let org = scope.org_id().as_uuid();
    let mut tx = db.begin_snapshot(scope).await?;
    let head: Option<(i64, Vec<u8>)> = on_conn!(&mut tx, |conn| {
        sqlx::query_as("SELECT seq, hash FROM audit_heads WHERE org_id = $1")
            .bind(org)
            .fetch_optional(conn)
            .await
    })?;
    let head = head.map(|(seq, hash)| {
        // A mangled head hash can never match a real chain end, which verification reports.
        (
            seq,
            ChainHash::from_slice(&hash).unwrap_or(ChainHash::GENESIS),
        )
    });
    let mut verifier = ChainVerifier::default();
    let mut after = 0i64;
    'batches: loop {
        let batch: Vec<StoredEvent> = on_conn!(&mut tx, |conn| {
            sqlx::query_as(
                "SELECT org_id, seq, id, occurred_at, actor_kind, actor_id, actor_role, ip, \
                 user_agent, request_id, action, target_kind, target_id, outcome, details, \
                 prev_hash, hash FROM audit_events WHERE org_id = $1 AND seq > $2 \
                 ORDER BY seq LIMIT $3",
            )
            .bind(org)
            .bind(after)
            .bind(VERIFY_BATCH)
            .fetch_all(conn)
            .await
        })?;
        let Some(last) = batch.last() else { break };
        after = last.seq;
        for row in batch {
            let prev = ChainHash::from_slice(&row.prev_hash);
            let hash = ChainHash::from_slice(&row.hash);
            let entry = ChainEntry {
                org_id: row.org_id,
                seq: row.seq,
                id: row.id,
                occurred_at: row.occurred_at,
                actor_kind: row.actor_kind,
                actor_id: row.actor_id,
                actor_role: row.actor_role,
                ip: row.ip,
                user_agent: row.user_agent,
                request_id: row.request_id,
                action: row.action,
                target_kind: row.target_kind,
                target_id: row.target_id,
                outcome: row.outcome,
                details: row.details.0,
            };
            // A stored hash of the wrong length is as broken as a wrong hash.
            let (prev, hash) = (
                prev.unwrap_or(ChainHash::GENESIS),
                hash.unwrap_or(ChainHash::GENESIS),
            );
            if !verifier.push(&entry, &prev, &hash) {
                break 'batches;
            }
        }
    }
    // Read-only: nothing to commit; dropping rolls the snapshot back.
    drop(tx);
    Ok(verifier.finish(head))
}
