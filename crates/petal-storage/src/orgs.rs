//! Organisations.

use crate::db::{on_conn, on_pool};
use crate::{Database, OrgScope, ScopedTx, StorageError, Tx};
use chrono::{DateTime, Utc};
use petal_domain::audit::chain::ChainHash;
use petal_domain::{OrgId, OrgName};
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
