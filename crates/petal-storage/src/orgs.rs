//! Organisations.

use crate::db::{execute, on_conn, on_pool};
use crate::{Database, OrgScope, ScopedTx, StorageError, Tx};
use chrono::{DateTime, Utc};
use petal_domain::audit::chain::ChainHash;
use petal_domain::{OrgId, OrgName, OrgSettings, ScreeningEngine};
use uuid::Uuid;

/// Creates an organisation and the empty head of its audit chain in `tx`, and returns the
/// transaction bound to the new organisation, so the creator can record what it did there.
pub async fn create(
    mut tx: Tx,
    name: &OrgName,
    now: DateTime<Utc>,
) -> Result<ScopedTx, StorageError> {
    let scope = OrgScope::new(OrgId::new());
    let id = scope.org_id().as_uuid();
    on_conn!(&mut tx, |conn| {
        sqlx::query("INSERT INTO organisations (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(name.as_str())
            .bind(now)
            .execute(&mut *conn)
            .await?;
        sqlx::query("INSERT INTO audit_heads (org_id, seq, hash) VALUES ($1, 0, $2)")
            .bind(id)
            .bind(ChainHash::GENESIS.as_bytes().as_slice())
            .execute(&mut *conn)
            .await?;
    });
    tx.enter(scope).await
}

/// Whether an organisation with this id exists.
pub async fn exists(db: &Database, org_id: OrgId) -> Result<bool, StorageError> {
    let found: Option<Uuid> = on_pool!(db, |pool| {
        sqlx::query_scalar("SELECT id FROM organisations WHERE id = $1")
            .bind(org_id.as_uuid())
            .fetch_optional(pool)
            .await
    })?;
    Ok(found.is_some())
}

/// Every organisation's id, oldest first; for operator tools that walk all tenants.
pub async fn list_ids(db: &Database) -> Result<Vec<OrgId>, StorageError> {
    let ids: Vec<Uuid> = on_pool!(db, |pool| {
        sqlx::query_scalar("SELECT id FROM organisations ORDER BY created_at, id")
            .fetch_all(pool)
            .await
    })?;
    Ok(ids.into_iter().map(OrgId::from_uuid).collect())
}

/// The transaction's organisation's settings.
pub async fn settings(tx: &mut ScopedTx) -> Result<OrgSettings, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    let (engine, blind_review, retention_days): (String, bool, i32) =
        on_conn!(&mut tx.tx, |conn| {
            sqlx::query_as(
                "SELECT screening_engine, blind_review, retention_days FROM organisations \
                 WHERE id = $1",
            )
            .bind(org)
            .fetch_one(conn)
            .await
        })?;
    Ok(OrgSettings {
        screening_engine: ScreeningEngine::parse(&engine)
            .ok_or_else(|| StorageError::Corrupt("unknown screening engine".to_owned()))?,
        blind_review,
        retention_days: u32::try_from(retention_days)
            .map_err(|_| StorageError::Corrupt("negative retention".to_owned()))?,
    })
}

/// Replaces the transaction's organisation's settings.
pub async fn set_settings(tx: &mut ScopedTx, settings: &OrgSettings) -> Result<(), StorageError> {
    let org = tx.scope().org_id().as_uuid();
    let retention = i32::try_from(settings.retention_days)
        .map_err(|_| StorageError::Config("retention out of range".to_owned()))?;
    execute!(
        &mut tx.tx,
        "UPDATE organisations SET screening_engine = $2, blind_review = $3, \
         retention_days = $4 WHERE id = $1",
        org,
        settings.screening_engine.as_str(),
        settings.blind_review,
        retention,
    )?;
    Ok(())
}
