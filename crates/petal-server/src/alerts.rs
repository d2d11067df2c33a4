//! Raising security alerts: stored with the action that caused them (same transaction), then,
//! once committed, mailed to the organisation's Admins and posted to the webhook.

use crate::http::AppState;
use crate::notify::mail::Mail;
use chrono::{DateTime, Utc};
use petal_domain::UserId;
use petal_storage::alerts::{self, Alert};
use petal_storage::{ScopedTx, StorageError};
use serde_json::json;

/// Kinds of alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertKind {
    /// A login from an address or device the user had not used before.
    NewLoginLocation,
    /// An account was locked after repeated wrong passwords.
    AccountLocked,
    /// Many accounts failed from one address (password spraying).
    PasswordSpraying,
    /// A user's second factors changed (reset or re-enrolled).
    MfaChanged,
    /// A user became an Admin.
    RoleEscalated,
}

impl AlertKind {
    fn as_str(self) -> &'static str {
        match self {
            AlertKind::NewLoginLocation => "new_login_location",
            AlertKind::AccountLocked => "account_locked",
            AlertKind::PasswordSpraying => "password_spraying",
            AlertKind::MfaChanged => "mfa_changed",
            AlertKind::RoleEscalated => "role_escalated",
        }
    }
}

/// An alert stored in a transaction, to be delivered after that transaction commits.
#[derive(Debug)]
pub struct Raised {
    alert: Alert,
    recipients: Vec<String>,
    org_id: String,
}

/// Stores an alert in `tx`'s organisation and returns it for delivery after commit.
pub async fn raise(
    tx: &mut ScopedTx,
    kind: AlertKind,
    user_id: Option<UserId>,
    ip: Option<String>,
    details: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<Raised, StorageError> {
    let alert = Alert {
        id: uuid::Uuid::new_v4(),
        kind: kind.as_str().to_owned(),
        user_id,
        ip,
        created_at: now,
        details,
    };
    alerts::record(tx, &alert).await?;
    let recipients = alerts::admin_emails(tx).await?;
    Ok(Raised { alert, recipients, org_id: tx.scope().org_id().to_string() })
}

/// Delivers committed alerts in the background: failures are logged, never retried into the
/// request, and never block it.
pub fn deliver(state: &AppState, raised: Vec<Raised>) {
    if raised.is_empty() {
        return;
    }
    let state = state.clone();
    tokio::spawn(async move {
        for r in raised {
            let payload = json!({
                "id": r.alert.id,
                "org_id": r.org_id,
                "kind": r.alert.kind,
                "user_id": r.alert.user_id,
                "ip": r.alert.ip,
                "created_at": r.alert.created_at,
                "details": r.alert.details,
            });
            for to in &r.recipients {
                let mail = Mail {
                    to: to.clone(),
                    subject: format!("Petal security alert: {}", r.alert.kind.replace('_', " ")),
                    body: format!(
                        "A security event needs your attention.\n\n{}\n\nReview it under Security in Petal.",
                        serde_json::to_string_pretty(&payload).unwrap_or_default()
                    ),
                };
                if let Err(error) = state.mailer.send(&mail).await {
                    tracing::warn!(error = %format!("{error:#}"), kind = %r.alert.kind, "alert mail not sent");
                }
            }
            if let Some(webhook) = &state.webhook
                && let Err(error) = webhook.post(&payload).await
            {
                tracing::warn!(error = %format!("{error:#}"), kind = %r.alert.kind, "alert webhook failed");
            }
        }
    });
}
