//! Invitations to join an organisation.

use crate::db::on_conn;
use crate::{ScopedTx, StorageError};
use chrono::{DateTime, Utc};
use petal_domain::{Email, InviteId, Role, UserId};

/// A new invitation, stored with the hash of its token (never the token).
#[derive(Debug)]
pub struct NewInvite<'a> {
    /// Who is invited.
    pub email: &'a Email,
    /// The role they will hold.
    pub role: Role,
    /// SHA-256 of the invite token.
    pub token_hash: &'a [u8; 32],
    /// The inviting Admin, or `None` when an operator invited from the CLI.
    pub created_by: Option<UserId>,
    /// When the invite was made.
    pub created_at: DateTime<Utc>,
    /// When the token stops working.
    pub expires_at: DateTime<Utc>,
}

/// Stores an invite in the transaction's organisation.
pub async fn create(tx: &mut ScopedTx, invite: &NewInvite<'_>) -> Result<InviteId, StorageError> {
    let id = InviteId::new();
    let org = tx.scope().org_id().as_uuid();
    on_conn!(&mut tx.tx, |conn| {
        sqlx::query(
            "INSERT INTO invites (id, org_id, email, role, token_hash, created_by, created_at, \
             expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id.as_uuid())
        .bind(org)
        .bind(invite.email.as_str())
        .bind(invite.role.as_str())
        .bind(invite.token_hash.as_slice())
        .bind(invite.created_by.map(|u| u.as_uuid()))
        .bind(invite.created_at)
        .bind(invite.expires_at)
        .execute(conn)
        .await
        .map(|_| ())
    })
    .map_err(|e| StorageError::unique_as_conflict(e, "invite token"))?;
    Ok(id)
}
