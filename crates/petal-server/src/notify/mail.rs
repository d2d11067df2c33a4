//! Outgoing mail behind one interface: an outbox folder (the embedded default: one JSON file
//! per message) or an SMTP server.

use crate::config::SecretUrl;
use anyhow::Context;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Serialize;
use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;

/// One message.
#[derive(Debug, Clone, Serialize)]
pub struct Mail {
    /// Recipient address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
}

/// Where mail goes.
#[derive(Debug)]
pub enum Mailer {
    /// A folder of JSON files, for the embedded default and for inspection.
    Outbox(PathBuf),
    /// An SMTP server.
    Smtp(Box<AsyncSmtpTransport<Tokio1Executor>>),
}

/// The sender shown on Petal's mail.
const FROM: &str = "Petal <petal@localhost>";

impl Mailer {
    /// SMTP when a URL is configured, otherwise the outbox folder (created, mode 0700).
    pub fn new(smtp_url: Option<&SecretUrl>, outbox: PathBuf) -> anyhow::Result<Self> {
        match smtp_url {
            Some(url) => Ok(Mailer::Smtp(Box::new(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
                    .with_context(|| format!("SMTP URL {} is not usable", url.redacted()))?
                    .build(),
            ))),
            None => {
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(&outbox)
                    .with_context(|| format!("cannot create mail outbox {}", outbox.display()))?;
                Ok(Mailer::Outbox(outbox))
            }
        }
    }

    /// Sends one message.
    pub async fn send(&self, mail: &Mail) -> anyhow::Result<()> {
        match self {
            Mailer::Outbox(dir) => {
                let path = dir.join(format!("{}.json", uuid::Uuid::new_v4()));
                tokio::fs::write(&path, serde_json::to_vec_pretty(mail)?).await?;
                Ok(())
            }
            Mailer::Smtp(transport) => {
                let message = Message::builder()
                    .from(FROM.parse::<Mailbox>()?)
                    .to(mail.to.parse::<Mailbox>()?)
                    .subject(&mail.subject)
                    .body(mail.body.clone())?;
                transport.send(message).await.context("SMTP delivery failed")?;
                Ok(())
            }
        }
    }
}
