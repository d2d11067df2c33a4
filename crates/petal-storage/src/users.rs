//! User accounts: creation from an invite, look-up for login, roles, status and second
//! factors.

use crate::db::{execute, on_conn, on_pool};
use crate::{Database, OrgScope, ScopedTx, StorageError, Tx};
use chrono::{DateTime, Utc};
use petal_domain::{Email, InviteId, OrgId, Role, UserId};
use uuid::Uuid;

/// A user as shown to Admins and to the user themself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The user.
    pub id: UserId,
    /// Their email address.
    pub email: String,
    /// Their name.
    pub name: String,
    /// Their role.
    pub role: Role,
    /// Whether they may sign in.
    pub active: bool,
    /// Whether a TOTP authenticator is enrolled.
    pub totp_enabled: bool,
    /// Whether a verified phone receives SMS codes.
    pub sms_enabled: bool,
    /// Whether at least one passkey is registered.
    pub passkey_enabled: bool,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
}

impl User {
    /// Whether any second factor is enrolled (TOTP, a verified phone or a passkey).
    pub fn has_factor(&self) -> bool {
        self.totp_enabled || self.sms_enabled || self.passkey_enabled
    }
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: Uuid,
    email: String,
    name: String,
    role: String,
    status: String,
    totp_enabled_at: Option<DateTime<Utc>>,
    phone_verified_at: Option<DateTime<Utc>>,
    passkeys: i64,
    created_at: DateTime<Utc>,
}

impl UserRow {
    fn into_user(self) -> Result<User, StorageError> {
        Ok(User {
            id: UserId::from_uuid(self.id),
            email: self.email,
            name: self.name,
            role: parse_role(&self.role)?,
            active: self.status == "active",
            totp_enabled: self.totp_enabled_at.is_some(),
            sms_enabled: self.phone_verified_at.is_some(),
            passkey_enabled: self.passkeys > 0,
            created_at: self.created_at,
        })
    }
}

fn parse_role(role: &str) -> Result<Role, StorageError> {
    Role::parse(role).ok_or_else(|| StorageError::Corrupt(format!("unknown role {role:?}")))
}

/// Why an invite token did not create a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InviteRefusal {
    /// No invite has this token.
    Unknown,
    /// The invite was already used.
    Used,
    /// The invite's 72 hours are over.
    Expired,
    /// A user with the invited email already exists.
    EmailTaken,
}

/// A user created from an invite, in a transaction still open on their organisation.
#[derive(Debug)]
pub struct Accepted {
    /// The open transaction, bound to the invite's organisation; commit it after auditing.
    pub tx: ScopedTx,
    /// The new user.
    pub user_id: UserId,
    /// Their role, as invited.
    pub role: Role,
    /// The invite that was used.
    pub invite_id: InviteId,
}

/// Uses the invite whose token hashes to `token_hash` to create a user with `name` and
/// `password_hash`. The invite is consumed in the same transaction, so it works once even
/// under concurrent attempts.
pub async fn accept_invite(
    mut tx: Tx,
    token_hash: &[u8; 32],
    name: &str,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<Result<Accepted, InviteRefusal>, StorageError> {
    type InviteRow = (Uuid, Uuid, String, String, DateTime<Utc>, Option<DateTime<Utc>>);
    let invite: Option<InviteRow> = on_conn!(&mut tx, |conn| {
        sqlx::query_as(
            "SELECT id, org_id, email, role, expires_at, accepted_at FROM invites \
             WHERE token_hash = $1",
        )
        .bind(token_hash.as_slice())
        .fetch_optional(conn)
        .await
    })?;
    let Some((invite_id, org_id, email, role, expires_at, accepted_at)) = invite else {
        return Ok(Err(InviteRefusal::Unknown));
    };
    if accepted_at.is_some() {
        return Ok(Err(InviteRefusal::Used));
    }
    if expires_at <= now {
        return Ok(Err(InviteRefusal::Expired));
    }
    let role = parse_role(&role)?;
    let mut tx = tx.enter(OrgScope::new(OrgId::from_uuid(org_id))).await?;
    let user_id = UserId::new();
    let inserted = execute!(
        &mut tx.tx,
        "INSERT INTO users (id, org_id, email, name, role, status, created_at, password_hash) \
             VALUES ($1, $2, $3, $4, $5, 'active', $6, $7)",
        user_id.as_uuid(),
        org_id,
        &email,
        name,
        role.as_str(),
        now,
        password_hash
    );
    match inserted {
        Ok(_) => {}
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            return Ok(Err(InviteRefusal::EmailTaken));
        }
        Err(e) => return Err(e.into()),
    }
    let consumed = execute!(
        &mut tx.tx,
        "UPDATE invites SET accepted_at = $2 WHERE id = $1 AND accepted_at IS NULL",
        invite_id,
        now
    )?;
    if consumed != 1 {
        return Ok(Err(InviteRefusal::Used));
    }
    Ok(Ok(Accepted { tx, user_id, role, invite_id: InviteId::from_uuid(invite_id) }))
}

/// What login needs to know about an account.
#[derive(Debug)]
pub struct LoginAccount {
    /// The account's organisation (login is the authentication layer).
    pub scope: OrgScope,
    /// The user.
    pub user_id: UserId,
    /// Their role.
    pub role: Role,
    /// Whether they may sign in.
    pub active: bool,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// The second factors enrolled, by name (`totp`, `sms`, `passkey`); empty when none.
    pub factors: Vec<&'static str>,
    /// Consecutive failed logins.
    pub failed_logins: i64,
    /// Locked until this time, if locked.
    pub locked_until: Option<DateTime<Utc>>,
}

/// Finds the account for a login attempt, across organisations (emails are unique).
pub async fn find_for_login(
    db: &Database,
    email: &Email,
) -> Result<Option<LoginAccount>, StorageError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: Uuid,
        org_id: Uuid,
        role: String,
        status: String,
        password_hash: String,
        totp_enabled_at: Option<DateTime<Utc>>,
        phone_verified_at: Option<DateTime<Utc>>,
        passkeys: i64,
        failed_logins: i64,
        locked_until: Option<DateTime<Utc>>,
    }
    let row: Option<Row> = on_pool!(db, |pool| {
        sqlx::query_as(
            "SELECT id, org_id, role, status, password_hash, totp_enabled_at, phone_verified_at, \
             (SELECT COUNT(*) FROM passkeys p WHERE p.user_id = users.id) AS passkeys, \
             failed_logins, locked_until FROM users WHERE email = $1",
        )
        .bind(email.as_str())
        .fetch_optional(pool)
        .await
    })?;
    row.map(|r| {
        let enrolled = [
            ("totp", r.totp_enabled_at.is_some()),
            ("sms", r.phone_verified_at.is_some()),
            ("passkey", r.passkeys > 0),
        ];
        Ok(LoginAccount {
            scope: OrgScope::new(OrgId::from_uuid(r.org_id)),
            user_id: UserId::from_uuid(r.id),
            role: parse_role(&r.role)?,
            active: r.status == "active",
            password_hash: r.password_hash,
            factors: enrolled.iter().filter(|(_, on)| *on).map(|(name, _)| *name).collect(),
            failed_logins: r.failed_logins,
            locked_until: r.locked_until,
        })
    })
    .transpose()
}

/// One user of the transaction's organisation; `None` for another organisation's id.
pub async fn get(tx: &mut ScopedTx, user_id: UserId) -> Result<Option<User>, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    let row: Option<UserRow> = on_conn!(&mut tx.tx, |conn| {
        sqlx::query_as(
            "SELECT id, email, name, role, status, totp_enabled_at, phone_verified_at, created_at, \
             (SELECT COUNT(*) FROM passkeys p WHERE p.user_id = users.id) AS passkeys FROM users \
             WHERE id = $1 AND org_id = $2",
        )
        .bind(user_id.as_uuid())
        .bind(org)
        .fetch_optional(conn)
        .await
    })?;
    row.map(UserRow::into_user).transpose()
}

/// Every user of the transaction's organisation, by email.
pub async fn list(tx: &mut ScopedTx) -> Result<Vec<User>, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    let rows: Vec<UserRow> = on_conn!(&mut tx.tx, |conn| {
        sqlx::query_as(
            "SELECT id, email, name, role, status, totp_enabled_at, phone_verified_at, created_at, \
             (SELECT COUNT(*) FROM passkeys p WHERE p.user_id = users.id) AS passkeys FROM users \
             WHERE org_id = $1 ORDER BY email",
        )
        .bind(org)
        .fetch_all(conn)
        .await
    })?;
    rows.into_iter().map(UserRow::into_user).collect()
}

/// Runs an `UPDATE users … WHERE id = $1 AND org_id = $2` with one more bound value as `$3`,
/// returning whether a row of the transaction's organisation was changed.
macro_rules! update_user {
    ($tx:expr, $user_id:expr, $sql:literal, $value:expr) => {{
        let org = $tx.scope().org_id().as_uuid();
        let changed = on_conn!(&mut $tx.tx, |conn| {
            sqlx::query($sql)
                .bind($user_id.as_uuid())
                .bind(org)
                .bind($value)
                .execute(conn)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(changed == 1)
    }};
}

/// Changes a user's role; `false` if no such user in the organisation.
pub async fn set_role(
    tx: &mut ScopedTx,
    user_id: UserId,
    role: Role,
) -> Result<bool, StorageError> {
    update_user!(
        tx,
        user_id,
        "UPDATE users SET role = $3 WHERE id = $1 AND org_id = $2",
        role.as_str()
    )
}

/// Deactivates a user; `false` if no such active user in the organisation.
pub async fn deactivate(tx: &mut ScopedTx, user_id: UserId) -> Result<bool, StorageError> {
    update_user!(
        tx,
        user_id,
        "UPDATE users SET status = $3 WHERE id = $1 AND org_id = $2 AND status = 'active'",
        "deactivated"
    )
}

/// Stores a (not yet enabled) TOTP secret, sealed by the caller.
pub async fn set_pending_totp(
    tx: &mut ScopedTx,
    user_id: UserId,
    sealed_secret: &[u8],
) -> Result<bool, StorageError> {
    update_user!(
        tx,
        user_id,
        "UPDATE users SET totp_secret = $3 WHERE id = $1 AND org_id = $2 AND totp_enabled_at IS NULL",
        sealed_secret
    )
}

/// The sealed TOTP secret and whether it is enabled.
pub async fn totp_secret(
    tx: &mut ScopedTx,
    user_id: UserId,
) -> Result<Option<(Vec<u8>, bool)>, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    type Row = (Option<Vec<u8>>, Option<DateTime<Utc>>);
    let row: Option<Row> = on_conn!(&mut tx.tx, |conn| {
        sqlx::query_as(
            "SELECT totp_secret, totp_enabled_at FROM users WHERE id = $1 AND org_id = $2",
        )
        .bind(user_id.as_uuid())
        .bind(org)
        .fetch_optional(conn)
        .await
    })?;
    Ok(row.and_then(|(secret, enabled)| secret.map(|s| (s, enabled.is_some()))))
}

/// Accepts TOTP step `step` for the user if it is later than the last accepted one, in one
/// statement, so the same code cannot be used twice even by concurrent requests. Enables the
/// authenticator when `enable_at` is given.
pub async fn accept_totp_step(
    tx: &mut ScopedTx,
    user_id: UserId,
    step: i64,
    enable_at: Option<DateTime<Utc>>,
) -> Result<bool, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    let changed = execute!(
        &mut tx.tx,
        "UPDATE users SET totp_last_step = $3, totp_enabled_at = COALESCE(totp_enabled_at, $4) \
             WHERE id = $1 AND org_id = $2 AND totp_secret IS NOT NULL \
             AND (totp_last_step IS NULL OR totp_last_step < $3)",
        user_id.as_uuid(),
        org,
        step,
        enable_at
    )?;
    Ok(changed == 1)
}

/// Replaces the user's backup codes with `hashes` (the old set stops working).
pub async fn replace_backup_codes(
    tx: &mut ScopedTx,
    user_id: UserId,
    hashes: &[[u8; 32]],
) -> Result<(), StorageError> {
    let org = tx.scope().org_id().as_uuid();
    on_conn!(&mut tx.tx, |conn| {
        sqlx::query("DELETE FROM backup_codes WHERE user_id = $1 AND org_id = $2")
            .bind(user_id.as_uuid())
            .bind(org)
            .execute(&mut *conn)
            .await?;
        for hash in hashes {
            sqlx::query(
                "INSERT INTO backup_codes (user_id, org_id, code_hash) VALUES ($1, $2, $3)",
            )
            .bind(user_id.as_uuid())
            .bind(org)
            .bind(hash.as_slice())
            .execute(&mut *conn)
            .await?;
        }
    });
    Ok(())
}

/// Uses one backup code; `false` if it does not exist or was used before.
pub async fn use_backup_code(
    tx: &mut ScopedTx,
    user_id: UserId,
    hash: &[u8; 32],
    now: DateTime<Utc>,
) -> Result<bool, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    let changed = execute!(
        &mut tx.tx,
        "UPDATE backup_codes SET used_at = $4 \
             WHERE user_id = $1 AND org_id = $2 AND code_hash = $3 AND used_at IS NULL",
        user_id.as_uuid(),
        org,
        hash.as_slice(),
        now
    )?;
    Ok(changed == 1)
}

/// How many unused backup codes the user has.
pub async fn backup_codes_left(tx: &mut ScopedTx, user_id: UserId) -> Result<i64, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    Ok(on_conn!(&mut tx.tx, |conn| {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM backup_codes WHERE user_id = $1 AND org_id = $2 AND used_at IS NULL",
        )
        .bind(user_id.as_uuid())
        .bind(org)
        .fetch_one(conn)
        .await
    })?)
}

/// Removes every second factor: the user must enrol again at next login.
pub async fn reset_mfa(tx: &mut ScopedTx, user_id: UserId) -> Result<bool, StorageError> {
    replace_backup_codes(tx, user_id, &[]).await?;
    let org = tx.scope().org_id().as_uuid();
    execute!(
        &mut tx.tx,
        "DELETE FROM passkeys WHERE user_id = $1 AND org_id = $2",
        user_id.as_uuid(),
        org
    )?;
    let changed = execute!(
        &mut tx.tx,
        "UPDATE users SET totp_secret = NULL, totp_enabled_at = NULL, totp_last_step = NULL, \
             totp_pending_secret = NULL, phone_pending = NULL, phone = NULL, \
             phone_verified_at = NULL \
             WHERE id = $1 AND org_id = $2",
        user_id.as_uuid(),
        org
    )?;
    Ok(changed == 1)
}

/// When repeated wrong passwords slow an account down and lock it.
#[derive(Debug, Clone, Copy)]
pub struct LockoutPolicy {
    /// From this many consecutive failures on, each failure delays the next attempt, doubling
    /// from one second.
    pub delay_after: i64,
    /// At this many, the account locks.
    pub lock_after: i64,
    /// For this long.
    pub lock_for: chrono::Duration,
}

/// What a failed password did to the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureOutcome {
    /// Nothing yet.
    Counted,
    /// The next attempt must wait until this time.
    Delayed(DateTime<Utc>),
    /// The account is locked until this time (and its count starts again).
    Locked(DateTime<Utc>),
}

/// Counts a failed password for the user and applies `policy`.
pub async fn record_login_failure(
    tx: &mut ScopedTx,
    user_id: UserId,
    now: DateTime<Utc>,
    policy: &LockoutPolicy,
) -> Result<FailureOutcome, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    let failures: i64 = on_conn!(&mut tx.tx, |conn| {
        sqlx::query_scalar(
            "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1 AND org_id = $2 \
             RETURNING failed_logins",
        )
        .bind(user_id.as_uuid())
        .bind(org)
        .fetch_one(conn)
        .await
    })?;
    let (outcome, reset) = if failures >= policy.lock_after {
        (FailureOutcome::Locked(now + policy.lock_for), true)
    } else if failures >= policy.delay_after {
        let doublings = u32::try_from(failures - policy.delay_after).unwrap_or(u32::MAX).min(10);
        (FailureOutcome::Delayed(now + chrono::Duration::seconds(1i64 << doublings)), false)
    } else {
        return Ok(FailureOutcome::Counted);
    };
    let until = match outcome {
        FailureOutcome::Delayed(t) | FailureOutcome::Locked(t) => t,
        FailureOutcome::Counted => now,
    };
    execute!(
        &mut tx.tx,
        "UPDATE users SET locked_until = $3, \
             failed_logins = CASE WHEN $4 THEN 0 ELSE failed_logins END \
             WHERE id = $1 AND org_id = $2",
        user_id.as_uuid(),
        org,
        until,
        reset
    )?;
    Ok(outcome)
}

/// Clears the failure count after a successful password.
pub async fn clear_login_failures(tx: &mut ScopedTx, user_id: UserId) -> Result<(), StorageError> {
    update_user!(
        tx,
        user_id,
        "UPDATE users SET failed_logins = $3, locked_until = NULL WHERE id = $1 AND org_id = $2",
        0i64
    )
    .map(|_: bool| ())
}

/// The user's password hash and email (for step-up checks and strength context).
pub async fn credentials(
    tx: &mut ScopedTx,
    user_id: UserId,
) -> Result<Option<(String, String)>, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    Ok(on_conn!(&mut tx.tx, |conn| {
        sqlx::query_as("SELECT password_hash, email FROM users WHERE id = $1 AND org_id = $2")
            .bind(user_id.as_uuid())
            .bind(org)
            .fetch_optional(conn)
            .await
    })?)
}

/// Replaces the user's password hash.
pub async fn set_password(
    tx: &mut ScopedTx,
    user_id: UserId,
    password_hash: &str,
) -> Result<bool, StorageError> {
    update_user!(
        tx,
        user_id,
        "UPDATE users SET password_hash = $3 WHERE id = $1 AND org_id = $2",
        password_hash
    )
}

/// Stores a phone number (sealed by the caller) waiting for its first code.
pub async fn set_pending_phone(
    tx: &mut ScopedTx,
    user_id: UserId,
    sealed_phone: &[u8],
) -> Result<bool, StorageError> {
    update_user!(
        tx,
        user_id,
        "UPDATE users SET phone_pending = $3 WHERE id = $1 AND org_id = $2",
        sealed_phone
    )
}

/// The sealed phone numbers: `(verified, pending)`.
pub async fn phones(
    tx: &mut ScopedTx,
    user_id: UserId,
) -> Result<(Option<Vec<u8>>, Option<Vec<u8>>), StorageError> {
    let org = tx.scope().org_id().as_uuid();
    type Row = (Option<Vec<u8>>, Option<Vec<u8>>);
    let row: Option<Row> = on_conn!(&mut tx.tx, |conn| {
        sqlx::query_as("SELECT phone, phone_pending FROM users WHERE id = $1 AND org_id = $2")
            .bind(user_id.as_uuid())
            .bind(org)
            .fetch_optional(conn)
            .await
    })?;
    Ok(row.unwrap_or((None, None)))
}

/// Makes the pending phone the verified one.
pub async fn confirm_phone(
    tx: &mut ScopedTx,
    user_id: UserId,
    now: DateTime<Utc>,
) -> Result<bool, StorageError> {
    update_user!(
        tx,
        user_id,
        "UPDATE users SET phone = phone_pending, phone_pending = NULL, phone_verified_at = $3 \
         WHERE id = $1 AND org_id = $2 AND phone_pending IS NOT NULL",
        now
    )
}

/// Registers a passkey (serialised credential) for the user.
pub async fn add_passkey(
    tx: &mut ScopedTx,
    user_id: UserId,
    credential: &str,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    let org = tx.scope().org_id().as_uuid();
    execute!(
        &mut tx.tx,
        "INSERT INTO passkeys (id, org_id, user_id, credential, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        Uuid::new_v4(),
        org,
        user_id.as_uuid(),
        credential,
        now
    )?;
    Ok(())
}

/// The user's passkeys: `(id, serialised credential)`.
pub async fn passkeys(
    tx: &mut ScopedTx,
    user_id: UserId,
) -> Result<Vec<(Uuid, String)>, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    Ok(on_conn!(&mut tx.tx, |conn| {
        sqlx::query_as("SELECT id, credential FROM passkeys WHERE user_id = $1 AND org_id = $2 ORDER BY created_at, id")
            .bind(user_id.as_uuid())
            .bind(org)
            .fetch_all(conn)
            .await
    })?)
}

/// Stores a passkey's updated credential (its signature counter moves on each use).
pub async fn update_passkey(
    tx: &mut ScopedTx,
    id: Uuid,
    credential: &str,
) -> Result<(), StorageError> {
    let org = tx.scope().org_id().as_uuid();
    execute!(
        &mut tx.tx,
        "UPDATE passkeys SET credential = $3 WHERE id = $1 AND org_id = $2",
        id,
        org,
        credential
    )?;
    Ok(())
}

/// Stores a replacement TOTP secret (sealed by the caller) until a code from it is verified;
/// the current authenticator keeps working meanwhile.
pub async fn set_replacement_totp(
    tx: &mut ScopedTx,
    user_id: UserId,
    sealed_secret: &[u8],
) -> Result<bool, StorageError> {
    update_user!(
        tx,
        user_id,
        "UPDATE users SET totp_pending_secret = $3 WHERE id = $1 AND org_id = $2",
        sealed_secret
    )
}

/// The sealed replacement TOTP secret, if one is being set up.
pub async fn replacement_totp(
    tx: &mut ScopedTx,
    user_id: UserId,
) -> Result<Option<Vec<u8>>, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    let row: Option<Option<Vec<u8>>> = on_conn!(&mut tx.tx, |conn| {
        sqlx::query_scalar("SELECT totp_pending_secret FROM users WHERE id = $1 AND org_id = $2")
            .bind(user_id.as_uuid())
            .bind(org)
            .fetch_optional(conn)
            .await
    })?;
    Ok(row.flatten())
}

/// Makes the replacement TOTP secret the user's authenticator, with `step` (the code that
/// proved it) as the last accepted step.
pub async fn promote_replacement_totp(
    tx: &mut ScopedTx,
    user_id: UserId,
    step: i64,
    now: DateTime<Utc>,
) -> Result<bool, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    let changed = execute!(
        &mut tx.tx,
        "UPDATE users SET totp_secret = totp_pending_secret, totp_pending_secret = NULL, \
             totp_enabled_at = $3, totp_last_step = $4 \
             WHERE id = $1 AND org_id = $2 AND totp_pending_secret IS NOT NULL",
        user_id.as_uuid(),
        org,
        now,
        step
    )?;
    Ok(changed == 1)
}
