//! Creating an organisation with its first Admin invite (SPEC §2 step 1).

use chrono::{DateTime, Duration, Utc};
use petal_crypto::SecretToken;
use petal_domain::audit::{AuditAction, AuditContext, AuditEvent, Detail, Target};
use petal_domain::{Clock, Email, OrgId, OrgName, Role};
use petal_storage::invites::{self, NewInvite};
use petal_storage::{Database, audit, orgs};
use serde::Serialize;
use url::Url;

/// How long an invite token works.
pub const INVITE_TTL: Duration = Duration::hours(72);

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
    let token = SecretToken::generate()?;
    let token_hash = token.hash();
    let expires_at = now + INVITE_TTL;

    let mut tx = orgs::create(db.begin().await?, name, now).await?;
    let org_id = tx.scope().org_id();
    let invite = NewInvite {
        email: admin_email,
        role: Role::Admin,
        token_hash: token_hash.as_bytes(),
        created_by: None,
        created_at: now,
        expires_at,
    };
    let invite_id = invites::create(&mut tx, &invite).await?;
    let org_created = AuditEvent::success(
        AuditAction::OrgCreated,
        Some(Target { kind: "organisation", id: org_id.to_string() }),
    );
    audit::append(&mut tx, now, context, &org_created).await?;
    let invite_created = AuditEvent::success(
        AuditAction::InviteCreated,
        Some(Target { kind: "invite", id: invite_id.to_string() }),
    )
    .detail("role", Detail::Label(Role::Admin.as_str().to_owned()));
    audit::append(&mut tx, now, context, &invite_created).await?;
    tx.commit().await?;

    Ok(CreatedOrg {
        org_id,
        invite_url: invite_link(public_url, token.expose()),
        invite_token: token.expose().to_owned(),
        expires_at,
    })
}

/// `{public_url}invite#token=…`.
fn invite_link(public_url: &Url, token: &str) -> String {
    let mut url = public_url.clone();
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    let mut link = url.join("invite").unwrap_or(url);
    link.set_fragment(Some(&format!("token={token}")));
    link.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invite_links_keep_the_public_path_and_hide_the_token_in_the_fragment() {
        let link = invite_link(&Url::parse("https://petal.example/hr").unwrap(), "abc");
        assert_eq!(link, "https://petal.example/hr/invite#token=abc");
        let link = invite_link(&Url::parse("http://127.0.0.1:8080/").unwrap(), "abc");
        assert_eq!(link, "http://127.0.0.1:8080/invite#token=abc");
    }
}
