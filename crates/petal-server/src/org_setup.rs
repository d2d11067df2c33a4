//! Creating an organisation with its first Admin invite (SPEC §2 step 1).

use crate::invitations::{self, invite_link};
use chrono::{DateTime, Utc};
use petal_domain::audit::{AuditAction, AuditContext, AuditEvent, Target};
use petal_domain::{Clock, Email, OrgId, OrgName, Role};
use petal_storage::{Database, audit, orgs};
use serde::Serialize;
use url::Url;

/// What the operator is shown once: the token is not stored, only its hash.
#[derive(Debug, Serialize)]
pub struct CreatedOrg {
    /// The new organisation.
    pub org_id: OrgId,
    /// The Admin's invite token.
    pub invite_token: String,
    /// The link that carries the token (in the fragment, so it is not sent to servers or logs).
    pub invite_url: String,
    /// When the invite stops working.
    pub expires_at: DateTime<Utc>,
}

/// Creates the organisation and a pending Admin invite for `admin_email`, and audits both
/// with `context`, all in one transaction: either everything is stored or nothing is.
pub async fn create_org_with_admin_invite(
    db: &Database,
    clock: &dyn Clock,
    public_url: &Url,
    name: &OrgName,
    admin_email: &Email,
    context: &AuditContext,
) -> anyhow::Result<CreatedOrg> {
    let now = clock.now();
    let mut tx = orgs::create(db.begin().await?, name, now).await?;
    let org_id = tx.scope().org_id();
    let org_created = AuditEvent::success(
        AuditAction::OrgCreated,
        Some(Target { kind: "organisation", id: org_id.to_string() }),
    );
    audit::append(&mut tx, now, context, &org_created).await?;
    let invite = invitations::issue(&mut tx, admin_email, Role::Admin, context, now).await?;
    tx.commit().await?;

    Ok(CreatedOrg {
        org_id,
        invite_url: invite_link(public_url, invite.token.expose()),
        invite_token: invite.token.expose().to_owned(),
        expires_at: invite.expires_at,
    })
}
