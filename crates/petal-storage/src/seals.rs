//! The audit trail's signed checkpoints and retention anchors (table `audit_seals`,
//! append-only). Signing and checking signatures happen above this layer.

use crate::db::on_conn;
use crate::{ScopedTx, StorageError};
use chrono::{DateTime, Utc};
use petal_domain::audit::chain::ChainHash;
use petal_domain::audit::seal::{Seal, SealKind, SealStatement};

/// A stored seal whose row cannot be read as one (a hash of the wrong length, an unknown
/// kind): verification treats it as invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnreadableSeal {
    /// Its sequence number.
    pub seq: i64,
}

/// A stored seal, read or not.
pub type StoredSeal = Result<Seal, UnreadableSeal>;

type Row = (String, i64, Vec<u8>, DateTime<Utc>, Vec<u8>);

fn read(org_id: uuid::Uuid, (kind, seq, hash, signed_at, signature): Row) -> StoredSeal {
    let kind = SealKind::parse(&kind).ok_or(UnreadableSeal { seq })?;
    let hash = ChainHash::from_slice(&hash).ok_or(UnreadableSeal { seq })?;
    Ok(Seal { statement: SealStatement { kind, org_id, seq, hash, signed_at }, signature })
}

/// Stores `seal` for the transaction's organisation; `false` when one of its kind already
/// exists at its sequence number (that one is kept).
pub async fn insert(tx: &mut ScopedTx, seal: &Seal) -> Result<bool, StorageError> {
    let s = &seal.statement;
    if s.org_id != tx.scope().org_id().as_uuid() {
        return Err(StorageError::Config("a seal for another organisation".to_owned()));
    }
    let inserted = on_conn!(&mut tx.tx, |conn| {
        sqlx::query(
            "INSERT INTO audit_seals (org_id, kind, seq, hash, signed_at, signature) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        )
        .bind(s.org_id)
        .bind(s.kind.as_str())
        .bind(s.seq)
        .bind(s.hash.as_bytes().as_slice())
        .bind(s.signed_at)
        .bind(&seal.signature)
        .execute(conn)
        .await
        .map(|done| done.rows_affected())
    })?;
    Ok(inserted == 1)
}

/// Every seal of the transaction's organisation, by kind and sequence number.
pub async fn list(tx: &mut ScopedTx) -> Result<Vec<StoredSeal>, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    let rows: Vec<Row> = on_conn!(&mut tx.tx, |conn| {
        sqlx::query_as(
            "SELECT kind, seq, hash, signed_at, signature FROM audit_seals \
             WHERE org_id = $1 ORDER BY kind, seq",
        )
        .bind(org)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows.into_iter().map(|row| read(org, row)).collect())
}

/// The seal of `kind` at `seq`, if there is one.
pub async fn get(
    tx: &mut ScopedTx,
    kind: SealKind,
    seq: i64,
) -> Result<Option<StoredSeal>, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    let row: Option<Row> = on_conn!(&mut tx.tx, |conn| {
        sqlx::query_as(
            "SELECT kind, seq, hash, signed_at, signature FROM audit_seals \
             WHERE org_id = $1 AND kind = $2 AND seq = $3",
        )
        .bind(org)
        .bind(kind.as_str())
        .bind(seq)
        .fetch_optional(conn)
        .await
    })?;
    Ok(row.map(|row| read(org, row)))
}

/// The highest sequence number sealed with `kind` (0 when none is).
pub async fn latest(tx: &mut ScopedTx, kind: SealKind) -> Result<i64, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    let seq: Option<i64> = on_conn!(&mut tx.tx, |conn| {
        sqlx::query_scalar("SELECT MAX(seq) FROM audit_seals WHERE org_id = $1 AND kind = $2")
            .bind(org)
            .bind(kind.as_str())
            .fetch_one(conn)
            .await
    })?;
    Ok(seq.unwrap_or(0))
}
