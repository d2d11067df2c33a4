//! Failed logins by client address, shared by every replica through the database.

use crate::db::on_pool;
use crate::{Database, StorageError};
use chrono::{DateTime, Utc};

/// Records a failed login from `ip` and forgets failures older than `forget_before`.
pub async fn record_failure(
    db: &Database,
    ip: &str,
    now: DateTime<Utc>,
    forget_before: DateTime<Utc>,
) -> Result<(), StorageError> {
    on_pool!(db, |pool| {
        sqlx::query("INSERT INTO login_failures (ip, at) VALUES ($1, $2)")
            .bind(ip)
            .bind(now)
            .execute(pool)
            .await
            .map(|_| ())
    })?;
    on_pool!(db, |pool| {
        sqlx::query("DELETE FROM login_failures WHERE at < $1")
            .bind(forget_before)
            .execute(pool)
            .await
            .map(|_| ())
    })?;
    Ok(())
}

/// How many failures `ip` had since `since`, and when the oldest of them happened.
pub async fn failures_since(
    db: &Database,
    ip: &str,
    since: DateTime<Utc>,
) -> Result<(i64, Option<DateTime<Utc>>), StorageError> {
    Ok(on_pool!(db, |pool| {
        sqlx::query_as("SELECT COUNT(*), MIN(at) FROM login_failures WHERE ip = $1 AND at > $2")
            .bind(ip)
            .bind(since)
            .fetch_one(pool)
            .await
    })?)
}
