//! The audit trail: appending to an organisation's hash chain inside the caller's transaction,
//! and verifying a stored chain.

use crate::db::on_conn;
use crate::{Database, OrgScope, ScopedTx, StorageError};
use chrono::{DateTime, Utc};
use petal_domain::AuditEventId;
use petal_domain::audit::chain::{ChainEntry, ChainHash, ChainReport, ChainVerifier};
use petal_domain::audit::{AuditContext, AuditEvent};
use sqlx::types::Json;
use uuid::Uuid;

/// An event just appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// Its id.
    pub id: AuditEventId,
    /// Its position in the organisation's chain.
    pub seq: i64,
}

/// Appends `event` to the chain of the transaction's organisation, in `tx`, the transaction of
/// the action it records: if the action rolls back, so does its event, and if the event cannot
/// be stored, the action fails.
///
/// The head row is updated first, which takes its row lock (PostgreSQL) or the write lock
/// (SQLite) before anything is read, so concurrent appenders to one organisation queue up
/// instead of forking the chain.
///
/// The event's time is `now`, or the previous event's time if that is later (an appender
/// that read the clock before waiting for the lock): times never decrease along the chain,
/// so a time window is one range of sequence numbers, which [`list`] relies on.
pub async fn append(
    tx: &mut ScopedTx,
    now: DateTime<Utc>,
    context: &AuditContext,
    event: &AuditEvent,
) -> Result<Appended, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    let (seq, prev): (i64, Vec<u8>) = on_conn!(&mut tx.tx, |conn| {
        sqlx::query_as("UPDATE audit_heads SET seq = seq + 1 WHERE org_id = $1 RETURNING seq, hash")
            .bind(org)
            .fetch_one(conn)
            .await
    })?;
    let prev = ChainHash::from_slice(&prev)
        .ok_or_else(|| StorageError::Corrupt("audit head hash is not 32 bytes".to_owned()))?;
    let previous_at: Option<DateTime<Utc>> = on_conn!(&mut tx.tx, |conn| {
        sqlx::query_scalar("SELECT occurred_at FROM audit_events WHERE org_id = $1 AND seq = $2")
            .bind(org)
            .bind(seq - 1)
            .fetch_optional(conn)
            .await
    })?;
    let now = previous_at.map_or(now, |previous| previous.max(now));
    let entry = ChainEntry::new(org, seq, now, context, event);
    let hash = entry.hash_after(&prev);
    on_conn!(&mut tx.tx, |conn| {
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
    Ok(Appended { id: AuditEventId::from_uuid(entry.id), seq })
}

/// The columns of an [`AuditRecord`]; `details` is read as text, so that a row whose details
/// are not JSON can still be shown and is reported by verification.
const RECORD_COLUMNS: &str = "seq, id, occurred_at, actor_kind, actor_id, actor_role, ip, \
     user_agent, request_id, action, target_kind, target_id, outcome, \
     CAST(details AS TEXT) AS details";

/// One stored event, as read for verification. `details` is read as text so that a row whose
/// details are not JSON is reported as a break rather than failing the whole verification.
#[derive(sqlx::FromRow)]
struct StoredEvent {
    org_id: Uuid,
    #[sqlx(flatten)]
    record: AuditRecord,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
}

/// A stored row: an event, or something that cannot be read as one (with its sequence number
/// when even that is unreadable).
enum StoredRow {
    Event(Box<StoredEvent>),
    Unreadable(Option<i64>),
}

/// Reads a row on either backend without letting a malformed column abort verification.
fn read_row<R: sqlx::Row>(row: &R) -> StoredRow
where
    for<'r> StoredEvent: sqlx::FromRow<'r, R>,
    for<'r> i64: sqlx::Decode<'r, R::Database>,
    i64: sqlx::Type<R::Database>,
    for<'a> &'a str: sqlx::ColumnIndex<R>,
{
    match <StoredEvent as sqlx::FromRow<R>>::from_row(row) {
        Ok(event) => StoredRow::Event(Box::new(event)),
        Err(_) => StoredRow::Unreadable(row.try_get::<i64, _>("seq").ok()),
    }
}

impl StoredEvent {
    /// The hashed fields, or `None` when `details` is not JSON.
    fn into_entry(self) -> Option<(ChainEntry, Vec<u8>, Vec<u8>)> {
        let entry = self.record.into_entry(self.org_id)?;
        Some((entry, self.prev_hash, self.hash))
    }
}

impl AuditRecord {
    /// The event's hashed fields as the chain sees them, for organisation `org_id`; `None`
    /// when its details are not JSON.
    pub fn into_entry(self, org_id: Uuid) -> Option<ChainEntry> {
        let r = self;
        let details = serde_json::from_str(&r.details).ok()?;
        Some(ChainEntry {
            org_id,
            seq: r.seq,
            id: r.id,
            occurred_at: r.occurred_at,
            actor_kind: r.actor_kind,
            actor_id: r.actor_id,
            actor_role: r.actor_role,
            ip: r.ip,
            user_agent: r.user_agent,
            request_id: r.request_id,
            action: r.action,
            target_kind: r.target_kind,
            target_id: r.target_id,
            outcome: r.outcome,
            details,
        })
    }
}

/// Events read per round trip while verifying.
const VERIFY_BATCH: i64 = 1000;

/// The transaction's organisation's chain head: the last event's sequence number and hash
/// (`0` and the genesis hash before the first event).
pub async fn head(tx: &mut ScopedTx) -> Result<(i64, ChainHash), StorageError> {
    let org = tx.scope().org_id().as_uuid();
    let (seq, hash): (i64, Vec<u8>) = on_conn!(&mut tx.tx, |conn| {
        sqlx::query_as("SELECT seq, hash FROM audit_heads WHERE org_id = $1")
            .bind(org)
            .fetch_one(conn)
            .await
    })?;
    let hash = ChainHash::from_slice(&hash)
        .ok_or_else(|| StorageError::Corrupt("audit head hash is not 32 bytes".to_owned()))?;
    Ok((seq, hash))
}

/// The last event of the longest run of events from the start of the stored chain that all
/// happened before `cutoff`, with its hash: what retention may purge. `None` when that run
/// is empty.
pub async fn purgeable_through(
    tx: &mut ScopedTx,
    cutoff: DateTime<Utc>,
) -> Result<Option<(i64, ChainHash)>, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    let first_kept: Option<i64> = on_conn!(&mut tx.tx, |conn| {
        sqlx::query_scalar(
            "SELECT seq FROM audit_events WHERE org_id = $1 AND occurred_at >= $2              ORDER BY seq LIMIT 1",
        )
        .bind(org)
        .bind(cutoff)
        .fetch_optional(conn)
        .await
    })?;
    let through = match first_kept {
        Some(seq) => seq - 1,
        None => head(tx).await?.0,
    };
    let hash: Option<Vec<u8>> = on_conn!(&mut tx.tx, |conn| {
        sqlx::query_scalar("SELECT hash FROM audit_events WHERE org_id = $1 AND seq = $2")
            .bind(org)
            .bind(through)
            .fetch_optional(conn)
            .await
    })?;
    // No row: nothing before the cutoff, or already purged.
    let Some(hash) = hash else { return Ok(None) };
    let hash = ChainHash::from_slice(&hash)
        .ok_or_else(|| StorageError::Corrupt("audit event hash is not 32 bytes".to_owned()))?;
    Ok(Some((through, hash)))
}

/// Deletes the transaction's organisation's events up to and including `through`; the
/// database allows it only for events a stored anchor covers. Returns how many were deleted.
pub async fn purge_through(tx: &mut ScopedTx, through: i64) -> Result<u64, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    Ok(crate::db::execute!(
        &mut tx.tx,
        "DELETE FROM audit_events WHERE org_id = $1 AND seq <= $2",
        org,
        through
    )?)
}

/// Verifies `scope`'s whole chain against its recorded head, reading one consistent snapshot
/// in batches (constant memory whatever the chain's length). Every stored row of the
/// organisation is examined, whatever its sequence number. `start` receives the
/// organisation's stored seals, from the same snapshot, and returns the verifier to use
/// (starting from the latest anchor, comparing with the checkpoints it trusts).
pub async fn verify(
    db: &Database,
    scope: &OrgScope,
    start: impl FnOnce(Vec<crate::seals::StoredSeal>) -> ChainVerifier,
) -> Result<ChainReport, StorageError> {
    let org = scope.org_id().as_uuid();
    let mut tx = db.begin_snapshot(scope).await?;
    let mut verifier = start(crate::seals::list(&mut tx).await?);
    let head: Result<Option<(i64, Vec<u8>)>, sqlx::Error> = on_conn!(&mut tx.tx, |conn| {
        sqlx::query_as("SELECT seq, hash FROM audit_heads WHERE org_id = $1")
            .bind(org)
            .fetch_optional(conn)
            .await
    });
    let head = match head {
        Ok(head) => head,
        // A head that cannot be decoded is as good as missing, which verification reports.
        Err(sqlx::Error::ColumnDecode { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    let mut after = i64::MIN;
    'batches: loop {
        let batch: Vec<StoredRow> = on_conn!(&mut tx.tx, |conn| {
            sqlx::query(&format!(
                "SELECT org_id, {RECORD_COLUMNS}, prev_hash, hash \
                 FROM audit_events WHERE org_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
            ))
            .bind(org)
            .bind(after)
            .bind(VERIFY_BATCH)
            .fetch_all(conn)
            .await
            .map(|rows| rows.iter().map(read_row).collect())
        })?;
        if batch.is_empty() {
            break;
        }
        for row in batch {
            let event = match row {
                StoredRow::Event(event) => event,
                StoredRow::Unreadable(seq) => {
                    verifier.push_unreadable(seq);
                    break 'batches;
                }
            };
            after = event.record.seq;
            let seq = event.record.seq;
            let Some((entry, prev_hash, hash)) = event.into_entry() else {
                verifier.push_unreadable(Some(seq));
                break 'batches;
            };
            if !verifier.push(&entry, &prev_hash, &hash) {
                break 'batches;
            }
        }
    }
    // Read-only: nothing to commit; dropping the transaction ends the snapshot.
    drop(tx);
    Ok(verifier.finish(head))
}

/// What to look for in an organisation's audit trail; every field narrows the search.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// The action's name (`document.accessed`).
    pub action: Option<String>,
    /// The acting user.
    pub actor: Option<Uuid>,
    /// The target's id (a document, job or user id).
    pub target: Option<String>,
    /// From this time (inclusive).
    pub from: Option<DateTime<Utc>>,
    /// Until this time (exclusive).
    pub to: Option<DateTime<Utc>>,
    /// Only events before this sequence number (the previous page's last).
    pub before_seq: Option<i64>,
}

/// One stored event, as the audit log shows it (serialised without its details, which the
/// caller shows parsed).
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct AuditRecord {
    /// Its position in the organisation's chain, from 1.
    pub seq: i64,
    /// Its id.
    pub id: Uuid,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// `user`, `system` or `cli`.
    pub actor_kind: String,
    /// The acting user.
    pub actor_id: Option<Uuid>,
    /// The acting user's role then.
    pub actor_role: Option<String>,
    /// The client address.
    pub ip: Option<String>,
    /// The client's user agent.
    pub user_agent: Option<String>,
    /// The request's id.
    pub request_id: Option<String>,
    /// What happened.
    pub action: String,
    /// What it happened to.
    pub target_kind: Option<String>,
    /// Its id.
    pub target_id: Option<String>,
    /// `success` or `failure`.
    pub outcome: String,
    /// Details, as JSON text.
    #[serde(skip)]
    pub details: String,
}

/// The sequence number of the event nearest the edge of a time window: with `Edge::From`,
/// the first at or after `at`; with `Edge::To`, the last before `at`. Read from the time
/// index, a few rows whatever the trail's length.
async fn window_edge(
    tx: &mut ScopedTx,
    edge: WindowEdge,
    at: DateTime<Utc>,
) -> Result<Option<i64>, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    let sql = match edge {
        WindowEdge::From => {
            "SELECT seq FROM audit_events WHERE org_id = $1 AND occurred_at >= $2 \
             ORDER BY occurred_at, seq LIMIT 1"
        }
        WindowEdge::To => {
            "SELECT seq FROM audit_events WHERE org_id = $1 AND occurred_at < $2 \
             ORDER BY occurred_at DESC, seq DESC LIMIT 1"
        }
    };
    Ok(on_conn!(&mut tx.tx, |conn| {
        sqlx::query_scalar(sql).bind(org).bind(at).fetch_optional(conn).await
    })?)
}

/// Which edge of a time window.
#[derive(Clone, Copy)]
enum WindowEdge {
    From,
    To,
}

/// The organisation's events matching `filter`, newest first, at most `limit`.
///
/// A time window is first turned into the range of sequence numbers it covers, which is
/// exact because times never decrease along the chain (see [`append`]); reading it then walks
/// the primary key over that range only, however deep in the trail it lies. (Events recorded
/// before times were kept in order could be out of order by the few milliseconds an appender
/// waited for the chain; at a window's edges such an event may fall on the wrong side.)
pub async fn list(
    tx: &mut ScopedTx,
    filter: &AuditFilter,
    limit: i64,
) -> Result<Vec<AuditRecord>, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    let mut seq_range = (None, None);
    if let Some(from) = filter.from {
        match window_edge(tx, WindowEdge::From, from).await? {
            Some(seq) => seq_range.0 = Some(seq),
            None => return Ok(Vec::new()),
        }
    }
    if let Some(to) = filter.to {
        match window_edge(tx, WindowEdge::To, to).await? {
            Some(seq) => seq_range.1 = Some(seq),
            None => return Ok(Vec::new()),
        }
    }
    let mut sql = format!("SELECT {RECORD_COLUMNS} FROM audit_events WHERE org_id = $1");
    let mut next = 2;
    let mut clause = |sql: &mut String, column: &str, op: &str| {
        sql.push_str(&format!(" AND {column} {op} ${next}"));
        next += 1;
    };
    if filter.action.is_some() {
        clause(&mut sql, "action", "=");
    }
    if filter.actor.is_some() {
        clause(&mut sql, "actor_id", "=");
    }
    if filter.target.is_some() {
        clause(&mut sql, "target_id", "=");
    }
    if filter.before_seq.is_some() {
        clause(&mut sql, "seq", "<");
    }
    if seq_range.0.is_some() {
        clause(&mut sql, "seq", ">=");
    }
    if seq_range.1.is_some() {
        clause(&mut sql, "seq", "<=");
    }
    sql.push_str(&format!(" ORDER BY seq DESC LIMIT ${next}"));
    let rows = on_conn!(&mut tx.tx, |conn| {
        let mut query = sqlx::query_as::<_, AuditRecord>(&sql).bind(org);
        if let Some(action) = &filter.action {
            query = query.bind(action);
        }
        if let Some(actor) = filter.actor {
            query = query.bind(actor);
        }
        if let Some(target) = &filter.target {
            query = query.bind(target);
        }
        if let Some(seq) = filter.before_seq {
            query = query.bind(seq);
        }
        for seq in [seq_range.0, seq_range.1].into_iter().flatten() {
            query = query.bind(seq);
        }
        query.bind(limit).fetch_all(conn).await
    })?;
    Ok(rows)
}
