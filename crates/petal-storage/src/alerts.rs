//! Security alerts: stored per organisation, listed to Admins.

use crate::db::on_conn;
use crate::{ScopedTx, StorageError};
use chrono::{DateTime, Utc};
use petal_domain::UserId;
use sqlx::types::Json;
use uuid::Uuid;

/// A stored alert.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// Its id.
    pub id: Uuid,
    /// What happened (`new_login_location`, `account_locked`, `password_spraying`,
    /// `mfa_changed`, `role_escalated`).
    pub kind: String,
    /// The user concerned, if any.
    pub user_id: Option<UserId>,
    /// The client address involved, if any.
    pub ip: Option<String>,
    /// When it was raised.
    pub created_at: DateTime<Utc>,
    /// Small structured facts.
    pub details: serde_json::Value,
}

/// Stores an alert in the transaction's organisation.
pub async fn record(tx: &mut ScopedTx, alert: &Alert) -> Result<(), StorageError> {
    let org = tx.scope().org_id().as_uuid();
    on_conn!(&mut tx.tx, |conn| {
        sqlx::query(
            "INSERT INTO security_alerts (id, org_id, kind, user_id, ip, created_at, details) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(alert.id)
        .bind(org)
        .bind(&alert.kind)
        .bind(alert.user_id.map(|u| u.as_uuid()))
        .bind(&alert.ip)
        .bind(alert.created_at)
        .bind(Json(&alert.details))
        .execute(conn)
        .await
        .map(|_| ())
    })?;
    Ok(())
}

/// The organisation's most recent alerts, newest first.
pub async fn recent(tx: &mut ScopedTx, limit: i64) -> Result<Vec<Alert>, StorageError> {
    type Row = (Uuid, String, Option<Uuid>, Option<String>, DateTime<Utc>, String);
    let org = tx.scope().org_id().as_uuid();
    let rows: Vec<Row> = on_conn!(&mut tx.tx, |conn| {
        sqlx::query_as(
            "SELECT id, kind, user_id, ip, created_at, CAST(details AS TEXT) FROM security_alerts \
             WHERE org_id = $1 ORDER BY created_at DESC, id LIMIT $2",
        )
        .bind(org)
        .bind(limit)
        .fetch_all(conn)
        .await
    })?;
    rows.into_iter()
        .map(|(id, kind, user, ip, created_at, details)| {
            Ok(Alert {
                id,
                kind,
                user_id: user.map(UserId::from_uuid),
                ip,
                created_at,
                details: serde_json::from_str(&details)
                    .map_err(|e| StorageError::Corrupt(format!("alert details: {e}")))?,
            })
        })
        .collect()
}

/// The email addresses of the organisation's active Admins (who receive alerts).
pub async fn admin_emails(tx: &mut ScopedTx) -> Result<Vec<String>, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    Ok(on_conn!(&mut tx.tx, |conn| {
        sqlx::query_scalar(
            "SELECT email FROM users WHERE org_id = $1 AND role = 'admin' AND status = 'active' \
             ORDER BY email",
        )
        .bind(org)
        .fetch_all(conn)
        .await
    })?)
}
