//! Issuing invitations: a random token shown once, its hash stored, 72 hours to accept.

use chrono::{DateTime, Duration, Utc};
use petal_crypto::SecretToken;
use petal_domain::audit::{AuditAction, AuditContext, AuditEvent, Detail, Target};
use petal_domain::{Email, InviteId, Role};
use petal_storage::invites::{self, NewInvite};
use petal_storage::{ScopedTx, audit};
use url::Url;

/// How long an invite token works.
pub const INVITE_TTL: Duration = Duration::hours(72);

/// A stored invite and the token to hand to the invitee.
#[derive(Debug)]
pub struct IssuedInvite {
    /// The invite.
    pub id: InviteId,
    /// The token (only its hash is stored).
    pub token: SecretToken,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// Stores an invite for `email` as `role` in the transaction's organisation and audits it as
/// `invite.created` by `context`'s actor.
pub async fn issue(
    tx: &mut ScopedTx,
    email: &Email,
    role: Role,
    context: &AuditContext,
    now: DateTime<Utc>,
) -> anyhow::Result<IssuedInvite> {
    let token = SecretToken::generate()?;
    let token_hash = token.hash();
    let expires_at = now + INVITE_TTL;
    let created_by = match context.actor {
        petal_domain::audit::Actor::User { id, .. } => Some(id),
        _ => None,
    };
    let invite = NewInvite {
        email,
        role,
        token_hash: token_hash.as_bytes(),
        created_by,
        created_at: now,
        expires_at,
    };
    let id = invites::create(tx, &invite).await?;
    let event = AuditEvent::success(
        AuditAction::InviteCreated,
        Some(Target { kind: "invite", id: id.to_string() }),
    )
    .detail("role", Detail::Label(role.as_str().to_owned()));
    audit::append(tx, now, context, &event).await?;
    Ok(IssuedInvite { id, token, expires_at })
}

/// `{public_url}invite#token=…`: the token travels in the fragment, which browsers do not
/// send to servers, so it stays out of access logs and `Referer` headers.
pub fn invite_link(public_url: &Url, token: &str) -> String {
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
