//! The alert webhook: a JSON POST whose body is signed with HMAC-SHA256, so the receiver can
//! check it came from this Petal and was not altered.

use crate::config::Webhook;
use aws_lc_rs::hmac;
use secrecy::ExposeSecret;
use std::time::Duration;

/// Header carrying `sha256=<hex HMAC of the body>`.
pub const SIGNATURE_HEADER: &str = "x-petal-signature";

/// A configured webhook with its HTTP client.
#[derive(Debug)]
pub struct WebhookSender {
    config: Webhook,
    client: reqwest::Client,
}

/// The signature header value for `body` under `secret`.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    format!("sha256={}", hex::encode(hmac::sign(&key, body).as_ref()))
}

impl WebhookSender {
    /// Prepares a sender with a short timeout (a slow receiver must not pile up work).
    pub fn new(config: Webhook) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
        Ok(Self { config, client })
    }

    /// POSTs `payload`, signed.
    pub async fn post(&self, payload: &serde_json::Value) -> anyhow::Result<()> {
        let body = serde_json::to_vec(payload)?;
        let signed = signature(self.config.secret.expose_secret().as_bytes(), &body);
        let response = self
            .client
            .post(self.config.url.expose())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signed)
            .body(body)
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "webhook {} unreachable: {}",
                    self.config.url.redacted(),
                    e.without_url()
                )
            })?;
        anyhow::ensure!(
            response.status().is_success(),
            "webhook {} answered {}",
            self.config.url.redacted(),
            response.status()
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_rfc_4231_case_2() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
