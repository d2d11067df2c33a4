//! Outgoing SMS behind one interface: an outbox folder (the embedded default: one JSON file
//! per message with `to` and `body`) or an HTTP gateway that takes a Twilio-style form POST
//! (`To`, `From`, `Body`) with basic authentication from the URL's user and password.

use crate::config::SecretUrl;
use anyhow::Context;
use serde::Serialize;
use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;
use std::time::Duration;

/// Where text messages go.
#[derive(Debug)]
pub enum SmsSender {
    /// A folder of JSON files.
    Outbox(PathBuf),
    /// An HTTP gateway.
    Gateway {
        /// Its URL, with credentials as user and password.
        url: SecretUrl,
        /// The HTTP client (with a timeout).
        client: reqwest::Client,
    },
}

#[derive(Serialize)]
struct OutboxMessage<'a> {
    to: &'a str,
    body: &'a str,
}

/// The sender name given to the gateway.
const FROM: &str = "Petal";

impl SmsSender {
    /// The gateway when a URL is configured, otherwise the outbox folder (created, mode 0700).
    pub fn new(gateway: Option<&SecretUrl>, outbox: PathBuf) -> anyhow::Result<Self> {
        match gateway {
            Some(url) => Ok(SmsSender::Gateway {
                url: url.clone(),
                client: reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?,
            }),
            None => {
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(&outbox)
                    .with_context(|| format!("cannot create SMS outbox {}", outbox.display()))?;
                Ok(SmsSender::Outbox(outbox))
            }
        }
    }

    /// Sends `body` to the E.164 number `to`.
    pub async fn send(&self, to: &str, body: &str) -> anyhow::Result<()> {
        match self {
            SmsSender::Outbox(dir) => {
                let path = dir.join(format!("{}.json", uuid::Uuid::new_v4()));
                tokio::fs::write(&path, serde_json::to_vec_pretty(&OutboxMessage { to, body })?)
                    .await?;
                Ok(())
            }
            SmsSender::Gateway { url, client } => {
                let mut endpoint = url::Url::parse(url.expose())?;
                let user = endpoint.username().to_owned();
                let password = endpoint.password().map(str::to_owned);
                let _ = endpoint.set_username("");
                let _ = endpoint.set_password(None);
                let response = client
                    .post(endpoint)
                    .basic_auth(user, password)
                    .form(&[("To", to), ("From", FROM), ("Body", body)])
                    .send()
                    .await
                    .map_err(|e| {
                        anyhow::anyhow!(
                            "SMS gateway {} unreachable: {}",
                            url.redacted(),
                            e.without_url()
                        )
                    })?;
                anyhow::ensure!(
                    response.status().is_success(),
                    "SMS gateway {} answered {}",
                    url.redacted(),
                    response.status()
                );
                Ok(())
            }
        }
    }
}
