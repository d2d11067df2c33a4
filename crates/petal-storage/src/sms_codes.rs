//! One-time SMS codes: stored as keyed hashes, valid 5 minutes, used once, void after five
//! wrong guesses.

use crate::db::{execute, on_conn};
use crate::{ScopedTx, StorageError};
use chrono::{DateTime, Duration, Utc};
use petal_domain::UserId;
use uuid::Uuid;

/// Wrong guesses that void a user's outstanding codes.
pub const MAX_WRONG_GUESSES: i64 = 5;

/// Stores a new code for the user.
pub async fn create(
    tx: &mut ScopedTx,
    user_id: UserId,
    code_hash: &[u8; 32],
    now: DateTime<Utc>,
    valid_for: Duration,
) -> Result<(), StorageError> {
    let org = tx.scope().org_id().as_uuid();
    execute!(
        &mut tx.tx,
        "INSERT INTO sms_codes (id, org_id, user_id, code_hash, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        Uuid::new_v4(),
        org,
        user_id.as_uuid(),
        code_hash.as_slice(),
        now,
        now + valid_for
    )?;
    Ok(())
}

/// How many codes were sent to the user since `since` (for rate limiting).
pub async fn sent_since(
    tx: &mut ScopedTx,
    user_id: UserId,
    since: DateTime<Utc>,
) -> Result<i64, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    Ok(on_conn!(&mut tx.tx, |conn| {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM sms_codes WHERE user_id = $1 AND org_id = $2 AND created_at > $3",
        )
        .bind(user_id.as_uuid())
        .bind(org)
        .bind(since)
        .fetch_one(conn)
        .await
    })?)
}

/// Uses the live code whose hash is `code_hash`; on a miss, counts a wrong guess against every
/// live code of the user. Returns whether the code was right.
pub async fn redeem(
    tx: &mut ScopedTx,
    user_id: UserId,
    code_hash: &[u8; 32],
    now: DateTime<Utc>,
) -> Result<bool, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    let used = execute!(
        &mut tx.tx,
        "UPDATE sms_codes SET used_at = $4 WHERE user_id = $1 AND org_id = $2 \
             AND code_hash = $3 AND used_at IS NULL AND expires_at > $4 AND wrong_guesses < $5",
        user_id.as_uuid(),
        org,
        code_hash.as_slice(),
        now,
        MAX_WRONG_GUESSES
    )?;
    if used >= 1 {
        return Ok(true);
    }
    execute!(
        &mut tx.tx,
        "UPDATE sms_codes SET wrong_guesses = wrong_guesses + 1 WHERE user_id = $1 \
             AND org_id = $2 AND used_at IS NULL AND expires_at > $3",
        user_id.as_uuid(),
        org,
        now
    )?;
    Ok(false)
}

/// Voids every outstanding code of the user (a new number is being enrolled).
pub async fn void_all(
    tx: &mut ScopedTx,
    user_id: UserId,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    let org = tx.scope().org_id().as_uuid();
    execute!(
        &mut tx.tx,
        "UPDATE sms_codes SET used_at = $3 WHERE user_id = $1 AND org_id = $2 AND used_at IS NULL",
        user_id.as_uuid(),
        org,
        now
    )?;
    Ok(())
}
