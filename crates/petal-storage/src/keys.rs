//! Wrapped keys: the installation key and one key per organisation, each stored encrypted
//! under a master key and labelled with that master key's id, so `petal keys rotate` can find
//! and re-wrap everything a previous master key protects.

use crate::db::{execute, on_conn, on_pool};
use crate::{Database, ScopedTx, StorageError, Tx};
use chrono::{DateTime, Utc};
use petal_domain::OrgId;
use uuid::Uuid;

/// A key as stored: the id of the master key that wraps it and the wrapped bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKey {
    /// Key id of the wrapping master key.
    pub master_key_id: String,
    /// The wrapped key (`nonce ‖ ciphertext ‖ tag`).
    pub wrapped: Vec<u8>,
}

/// The installation key named `name`, if stored.
pub async fn installation_key(
    db: &Database,
    name: &str,
) -> Result<Option<WrappedKey>, StorageError> {
    let row: Option<(String, Vec<u8>)> = on_pool!(db, |pool| {
        sqlx::query_as("SELECT master_key_id, wrapped FROM installation_keys WHERE name = $1")
            .bind(name)
            .fetch_optional(pool)
            .await
    })?;
    Ok(row.map(|(master_key_id, wrapped)| WrappedKey { master_key_id, wrapped }))
}

/// Whether any user account exists, in any organisation: an installation-level fact (no tenant
/// data is read), used to refuse to invent an installation key for a database whose second
/// factors were sealed under keys an earlier build derived differently.
pub async fn any_user_exists(db: &Database) -> Result<bool, StorageError> {
    let count: i64 = on_pool!(db, |pool| {
        sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(pool).await
    })?;
    Ok(count > 0)
}

/// Stores the installation key `name` unless one exists; returns the stored key either way,
/// so replicas starting together agree on one.
pub async fn insert_installation_key(
    db: &Database,
    name: &str,
    key: &WrappedKey,
    now: DateTime<Utc>,
) -> Result<WrappedKey, StorageError> {
    let mut tx = db.begin().await?;
    execute!(
        &mut tx,
        "INSERT INTO installation_keys (name, master_key_id, wrapped, created_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING",
        name,
        &key.master_key_id,
        key.wrapped.as_slice(),
        now,
    )?;
    tx.commit().await?;
    installation_key(db, name)
        .await?
        .ok_or_else(|| StorageError::Corrupt("installation key vanished after insert".to_owned()))
}

/// The transaction's organisation key, if one was made.
pub async fn org_key(tx: &mut ScopedTx) -> Result<Option<WrappedKey>, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    let row: Option<(String, Vec<u8>)> = on_conn!(&mut tx.tx, |conn| {
        sqlx::query_as("SELECT master_key_id, wrapped FROM org_keys WHERE org_id = $1")
            .bind(org)
            .fetch_optional(conn)
            .await
    })?;
    Ok(row.map(|(master_key_id, wrapped)| WrappedKey { master_key_id, wrapped }))
}

/// Stores the transaction's organisation key unless one exists, and returns the stored one.
pub async fn insert_org_key(
    tx: &mut ScopedTx,
    key: &WrappedKey,
    now: DateTime<Utc>,
) -> Result<WrappedKey, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    execute!(
        &mut tx.tx,
        "INSERT INTO org_keys (org_id, master_key_id, wrapped, created_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (org_id) DO NOTHING",
        org,
        &key.master_key_id,
        key.wrapped.as_slice(),
        now,
    )?;
    org_key(tx)
        .await?
        .ok_or_else(|| StorageError::Corrupt("organisation key vanished after insert".to_owned()))
}

/// Which stored key a rotation re-wraps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyOwner {
    /// An installation key, by name.
    Installation(String),
    /// An organisation's key.
    Org(OrgId),
}

/// Every key not wrapped under `current_master_key_id`, for rotation (an operator tool: it
/// reads across organisations and is run from the CLI only).
pub async fn wrapped_under_other_keys(
    tx: &mut Tx,
    current_master_key_id: &str,
) -> Result<Vec<(KeyOwner, WrappedKey)>, StorageError> {
    let installation: Vec<(String, String, Vec<u8>)> = on_conn!(&mut *tx, |conn| {
        sqlx::query_as(
            "SELECT name, master_key_id, wrapped FROM installation_keys \
             WHERE master_key_id <> $1 ORDER BY name",
        )
        .bind(current_master_key_id)
        .fetch_all(conn)
        .await
    })?;
    let orgs: Vec<(Uuid, String, Vec<u8>)> = on_conn!(&mut *tx, |conn| {
        sqlx::query_as(
            "SELECT org_id, master_key_id, wrapped FROM org_keys \
             WHERE master_key_id <> $1 ORDER BY org_id",
        )
        .bind(current_master_key_id)
        .fetch_all(conn)
        .await
    })?;
    let installation = installation.into_iter().map(|(name, master_key_id, wrapped)| {
        (KeyOwner::Installation(name), WrappedKey { master_key_id, wrapped })
    });
    let orgs = orgs.into_iter().map(|(org, master_key_id, wrapped)| {
        (KeyOwner::Org(OrgId::from_uuid(org)), WrappedKey { master_key_id, wrapped })
    });
    Ok(installation.chain(orgs).collect())
}

/// Replaces an installation key with its re-wrapped form, if it is still wrapped as
/// `previous` says (so two rotations cannot interleave). Returns whether it was replaced.
pub async fn rewrap_installation_key(
    tx: &mut Tx,
    name: &str,
    previous: &WrappedKey,
    next: &WrappedKey,
) -> Result<bool, StorageError> {
    let changed = execute!(
        &mut *tx,
        "UPDATE installation_keys SET master_key_id = $1, wrapped = $2 \
             WHERE name = $3 AND master_key_id = $4 AND wrapped = $5",
        &next.master_key_id,
        next.wrapped.as_slice(),
        name,
        &previous.master_key_id,
        previous.wrapped.as_slice(),
    )?;
    Ok(changed == 1)
}

/// Replaces the transaction's organisation key with its re-wrapped form, under the same
/// condition as [`rewrap_installation_key`].
pub async fn rewrap_org_key(
    tx: &mut ScopedTx,
    previous: &WrappedKey,
    next: &WrappedKey,
) -> Result<bool, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    let changed = execute!(
        &mut tx.tx,
        "UPDATE org_keys SET master_key_id = $1, wrapped = $2 \
         WHERE org_id = $3 AND master_key_id = $4 AND wrapped = $5",
        &next.master_key_id,
        next.wrapped.as_slice(),
        org,
        &previous.master_key_id,
        previous.wrapped.as_slice(),
    )?;
    Ok(changed == 1)
}
