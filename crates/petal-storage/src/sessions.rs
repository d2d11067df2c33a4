//! Pending logins (the `mfa_token`) and sessions. Resolving either is where the authentication
//! layer obtains an [`OrgScope`]: the organisation comes from the stored row, never from the
//! request.

use crate::db::{execute, on_conn, on_pool};
use crate::{Database, OrgScope, ScopedTx, StorageError};
use chrono::{DateTime, Duration, Utc};
use petal_domain::{OrgId, Role, SessionId, UserId};
use uuid::Uuid;

/// Wrong second-factor codes allowed on one pending login before it is void.
pub const MAX_CHALLENGE_FAILURES: i64 = 5;

/// A password that was accepted and now waits for a second factor.
#[derive(Debug)]
pub struct PendingLogin {
    /// Its id.
    pub id: Uuid,
    /// The user's organisation.
    pub scope: OrgScope,
    /// The user.
    pub user_id: UserId,
}

/// Stores a pending login for the transaction's organisation.
pub async fn create_pending_login(
    tx: &mut ScopedTx,
    user_id: UserId,
    token_hash: &[u8; 32],
    now: DateTime<Utc>,
    valid_for: Duration,
) -> Result<(), StorageError> {
    let org = tx.scope().org_id().as_uuid();
    execute!(
        &mut tx.tx,
        "INSERT INTO login_challenges (id, org_id, user_id, token_hash, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        Uuid::new_v4(),
        org,
        user_id.as_uuid(),
        token_hash.as_slice(),
        now,
        now + valid_for
    )?;
    Ok(())
}

/// The live pending login whose token hashes to `token_hash`: not consumed, not expired, and
/// with fewer than [`MAX_CHALLENGE_FAILURES`] wrong codes.
pub async fn find_pending_login(
    db: &Database,
    token_hash: &[u8; 32],
    now: DateTime<Utc>,
) -> Result<Option<PendingLogin>, StorageError> {
    let row: Option<(Uuid, Uuid, Uuid)> = on_pool!(db, |pool| {
        sqlx::query_as(
            "SELECT id, org_id, user_id FROM login_challenges WHERE token_hash = $1 \
             AND consumed_at IS NULL AND expires_at > $2 AND failed_attempts < $3",
        )
        .bind(token_hash.as_slice())
        .bind(now)
        .bind(MAX_CHALLENGE_FAILURES)
        .fetch_optional(pool)
        .await
    })?;
    Ok(row.map(|(id, org, user)| PendingLogin {
        id,
        scope: OrgScope::new(OrgId::from_uuid(org)),
        user_id: UserId::from_uuid(user),
    }))
}

/// Counts a wrong code against a pending login.
pub async fn record_pending_login_failure(tx: &mut ScopedTx, id: Uuid) -> Result<(), StorageError> {
    let org = tx.scope().org_id().as_uuid();
    execute!(
        &mut tx.tx,
        "UPDATE login_challenges SET failed_attempts = failed_attempts + 1 \
             WHERE id = $1 AND org_id = $2",
        id,
        org
    )?;
    Ok(())
}

/// Consumes a pending login; `false` if it was consumed already (a concurrent attempt won).
pub async fn consume_pending_login(
    tx: &mut ScopedTx,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    let changed = execute!(
        &mut tx.tx,
        "UPDATE login_challenges SET consumed_at = $3 \
             WHERE id = $1 AND org_id = $2 AND consumed_at IS NULL",
        id,
        org,
        now
    )?;
    Ok(changed == 1)
}

/// A new session's particulars.
#[derive(Debug)]
pub struct NewSession<'a> {
    /// Whose session.
    pub user_id: UserId,
    /// When it starts (also the time of the password and second-factor check).
    pub now: DateTime<Utc>,
    /// Its absolute lifetime.
    pub max_age: Duration,
    /// Hash of its CSRF token.
    pub csrf_hash: &'a [u8; 32],
    /// Client address.
    pub ip: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
}

/// Creates a session in the transaction's organisation.
pub async fn create(
    tx: &mut ScopedTx,
    session: &NewSession<'_>,
) -> Result<SessionId, StorageError> {
    let id = SessionId::new();
    let org = tx.scope().org_id().as_uuid();
    execute!(
        &mut tx.tx,
        "INSERT INTO sessions (id, org_id, user_id, created_at, last_seen_at, expires_at, \
             reauth_at, csrf_hash, ip, user_agent) VALUES ($1, $2, $3, $4, $4, $5, $4, $6, $7, $8)",
        id.as_uuid(),
        org,
        session.user_id.as_uuid(),
        session.now,
        session.now + session.max_age,
        session.csrf_hash.as_slice(),
        &session.ip,
        &session.user_agent
    )?;
    Ok(id)
}

/// Who a live session belongs to.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The session.
    pub session_id: SessionId,
    /// The user's organisation.
    pub scope: OrgScope,
    /// The user.
    pub user_id: UserId,
    /// Their current role (read on every request, so a role change applies at once).
    pub role: Role,
    /// Hash of the session's CSRF token.
    pub csrf_hash: Vec<u8>,
    /// When the password and a second factor were last checked.
    pub reauth_at: DateTime<Utc>,
    /// When the session ends whatever happens.
    pub expires_at: DateTime<Utc>,
}

/// Resolves a session id to its principal if the session is alive at `now`: not revoked,
/// within its absolute lifetime, used within `idle`, and its user active. When `activity` is
/// set the session's last-seen time moves to `now` (a person's request); background polls pass
/// `false` so they do not keep a session alive.
pub async fn authenticate(
    db: &Database,
    session_id: SessionId,
    now: DateTime<Utc>,
    idle: Duration,
    activity: bool,
) -> Result<Option<Principal>, StorageError> {
    type Row = (Uuid, Uuid, String, Vec<u8>, DateTime<Utc>, DateTime<Utc>);
    let row: Option<Row> = on_pool!(db, |pool| {
        sqlx::query_as(
            "SELECT s.org_id, s.user_id, u.role, s.csrf_hash, s.reauth_at, s.expires_at \
             FROM sessions s JOIN users u ON u.id = s.user_id AND u.org_id = s.org_id \
             WHERE s.id = $1 AND s.revoked_at IS NULL AND s.expires_at > $2 \
             AND s.last_seen_at > $3 AND u.status = 'active'",
        )
        .bind(session_id.as_uuid())
        .bind(now)
        .bind(now - idle)
        .fetch_optional(pool)
        .await
    })?;
    let Some((org, user, role, csrf_hash, reauth_at, expires_at)) = row else {
        return Ok(None);
    };
    let role = Role::parse(&role).ok_or_else(|| StorageError::Corrupt("unknown role".into()))?;
    if activity {
        on_pool!(db, |pool| {
            sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id = $1 AND last_seen_at < $2")
                .bind(session_id.as_uuid())
                .bind(now)
                .execute(pool)
                .await
                .map(|_| ())
        })?;
    }
    Ok(Some(Principal {
        session_id,
        scope: OrgScope::new(OrgId::from_uuid(org)),
        user_id: UserId::from_uuid(user),
        role,
        csrf_hash,
        reauth_at,
        expires_at,
    }))
}

/// A session as listed to its owner.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    /// The session.
    pub id: SessionId,
    /// When it started.
    pub created_at: DateTime<Utc>,
    /// Last activity.
    pub last_seen_at: DateTime<Utc>,
    /// Absolute end.
    pub expires_at: DateTime<Utc>,
    /// Client address at login.
    pub ip: Option<String>,
    /// Client user agent at login.
    pub user_agent: Option<String>,
}

/// The user's live sessions, newest first.
pub async fn list_live(
    tx: &mut ScopedTx,
    user_id: UserId,
    now: DateTime<Utc>,
    idle: Duration,
) -> Result<Vec<SessionInfo>, StorageError> {
    type Row = (Uuid, DateTime<Utc>, DateTime<Utc>, DateTime<Utc>, Option<String>, Option<String>);
    let org = tx.scope().org_id().as_uuid();
    let rows: Vec<Row> = on_conn!(&mut tx.tx, |conn| {
        sqlx::query_as(
            "SELECT id, created_at, last_seen_at, expires_at, ip, user_agent FROM sessions \
             WHERE user_id = $1 AND org_id = $2 AND revoked_at IS NULL AND expires_at > $3 \
             AND last_seen_at > $4 ORDER BY created_at DESC, id",
        )
        .bind(user_id.as_uuid())
        .bind(org)
        .bind(now)
        .bind(now - idle)
        .fetch_all(conn)
        .await
    })?;
    Ok(rows
        .into_iter()
        .map(|(id, created_at, last_seen_at, expires_at, ip, user_agent)| SessionInfo {
            id: SessionId::from_uuid(id),
            created_at,
            last_seen_at,
            expires_at,
            ip,
            user_agent,
        })
        .collect())
}

/// Revokes one of `user_id`'s sessions; `false` if it is not theirs or already ended.
pub async fn revoke(
    tx: &mut ScopedTx,
    user_id: UserId,
    session_id: SessionId,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    let changed = execute!(
        &mut tx.tx,
        "UPDATE sessions SET revoked_at = $4, revoked_reason = $5 \
             WHERE id = $1 AND user_id = $2 AND org_id = $3 AND revoked_at IS NULL",
        session_id.as_uuid(),
        user_id.as_uuid(),
        org,
        now,
        reason
    )?;
    Ok(changed == 1)
}

/// Revokes every session of `user_id` (role change, deactivation, MFA reset, password change),
/// and voids their pending logins; returns how many sessions were live.
pub async fn revoke_all(
    tx: &mut ScopedTx,
    user_id: UserId,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<u64, StorageError> {
    let org = tx.scope().org_id().as_uuid();
    execute!(
        &mut tx.tx,
        "UPDATE login_challenges SET consumed_at = $3 \
             WHERE user_id = $1 AND org_id = $2 AND consumed_at IS NULL",
        user_id.as_uuid(),
        org,
        now
    )?;
    Ok(execute!(
        &mut tx.tx,
        "UPDATE sessions SET revoked_at = $3, revoked_reason = $4 \
             WHERE user_id = $1 AND org_id = $2 AND revoked_at IS NULL",
        user_id.as_uuid(),
        org,
        now,
        reason
    )?)
}

/// Records a successful step-up (password and second factor) on a session.
pub async fn record_reauth(
    tx: &mut ScopedTx,
    session_id: SessionId,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    let org = tx.scope().org_id().as_uuid();
    execute!(
        &mut tx.tx,
        "UPDATE sessions SET reauth_at = $3 WHERE id = $1 AND org_id = $2",
        session_id.as_uuid(),
        org,
        now
    )?;
    Ok(())
}

/// Whether the user had any session before, and whether one came from `ip` and one from
/// `user_agent` (to notice logins from a new address or device).
pub async fn seen_before(
    tx: &mut ScopedTx,
    user_id: UserId,
    ip: Option<&str>,
    user_agent: Option<&str>,
) -> Result<(bool, bool, bool), StorageError> {
    let org = tx.scope().org_id().as_uuid();
    let (any, same_ip, same_agent): (i64, i64, i64) = on_conn!(&mut tx.tx, |conn| {
        sqlx::query_as(
            "SELECT COUNT(*), \
             COALESCE(SUM(CASE WHEN ip = $3 THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN user_agent = $4 THEN 1 ELSE 0 END), 0) \
             FROM sessions WHERE user_id = $1 AND org_id = $2",
        )
        .bind(user_id.as_uuid())
        .bind(org)
        .bind(ip)
        .bind(user_agent)
        .fetch_one(conn)
        .await
    })?;
    Ok((any > 0, same_ip > 0, same_agent > 0))
}

/// Where a WebAuthn ceremony's state waits between its start and its finish.
#[derive(Clone, Copy)]
enum CeremonyHolder {
    /// A pending login (`login_challenges.webauthn_state`): enrolment and sign-in.
    PendingLogin,
    /// A session (`sessions.reauth_webauthn_state`): a step-up.
    Session,
}

impl CeremonyHolder {
    /// The statements that set, read and clear the state (`$1` the row, `$2` its organisation).
    fn statements(self) -> [&'static str; 3] {
        match self {
            CeremonyHolder::PendingLogin => [
                "UPDATE login_challenges SET webauthn_state = $3 WHERE id = $1 AND org_id = $2",
                "SELECT webauthn_state FROM login_challenges WHERE id = $1 AND org_id = $2",
                "UPDATE login_challenges SET webauthn_state = NULL WHERE id = $1 AND org_id = $2",
            ],
            CeremonyHolder::Session => [
                "UPDATE sessions SET reauth_webauthn_state = $3 WHERE id = $1 AND org_id = $2",
                "SELECT reauth_webauthn_state FROM sessions WHERE id = $1 AND org_id = $2",
                "UPDATE sessions SET reauth_webauthn_state = NULL WHERE id = $1 AND org_id = $2",
            ],
        }
    }

    /// Keeps `state` on row `id`, replacing any earlier.
    async fn set(self, tx: &mut ScopedTx, id: Uuid, state: &str) -> Result<(), StorageError> {
        let org = tx.scope().org_id().as_uuid();
        let [set, _, _] = self.statements();
        execute!(&mut tx.tx, set, id, org, state)?;
        Ok(())
    }

    /// Takes (reads and clears) the state on row `id`: each ceremony is finished once.
    async fn take(self, tx: &mut ScopedTx, id: Uuid) -> Result<Option<String>, StorageError> {
        let org = tx.scope().org_id().as_uuid();
        let [_, read, clear] = self.statements();
        let state: Option<Option<String>> = on_conn!(&mut tx.tx, |conn| {
            sqlx::query_scalar(read).bind(id).bind(org).fetch_optional(conn).await
        })?;
        execute!(&mut tx.tx, clear, id, org)?;
        Ok(state.flatten())
    }
}

/// Keeps the state of a WebAuthn ceremony on a pending login (replacing any earlier one).
pub async fn set_ceremony(
    tx: &mut ScopedTx,
    pending_id: Uuid,
    state: &str,
) -> Result<(), StorageError> {
    CeremonyHolder::PendingLogin.set(tx, pending_id, state).await
}

/// Takes (reads and clears) the WebAuthn ceremony state of a pending login: each ceremony
/// can be finished once.
pub async fn take_ceremony(
    tx: &mut ScopedTx,
    pending_id: Uuid,
) -> Result<Option<String>, StorageError> {
    CeremonyHolder::PendingLogin.take(tx, pending_id).await
}

/// Keeps a passkey step-up's WebAuthn ceremony state on the session, replacing any earlier.
pub async fn set_reauth_ceremony(
    tx: &mut ScopedTx,
    session_id: SessionId,
    state: &str,
) -> Result<(), StorageError> {
    CeremonyHolder::Session.set(tx, session_id.as_uuid(), state).await
}

/// Takes the session's passkey step-up ceremony state, clearing it: each works once.
pub async fn take_reauth_ceremony(
    tx: &mut ScopedTx,
    session_id: SessionId,
) -> Result<Option<String>, StorageError> {
    CeremonyHolder::Session.take(tx, session_id.as_uuid()).await
}
