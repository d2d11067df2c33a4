//! Filling the demo organisation through Petal's own HTTP API, as a client would, so the demo
//! holds nothing the API would not have let a person make (and its audit trail shows it).

use super::cvs::DemoCv;
use anyhow::{Context, bail};
use reqwest::multipart::{Form, Part};
use reqwest::{Client, Method, RequestBuilder};
use serde_json::{Value, json};
use std::time::Duration;
use totp_rs::Secret;

/// Files sent per upload request (each request is one transaction).
const UPLOAD_BATCH: usize = 12;

/// An HTTP client of the running demo server.
pub struct Seeder {
    client: Client,
    base: String,
}

/// The demo Admin, signed in: what the seeding acts with and what the operator is shown.
pub struct Admin {
    /// The session's Bearer token.
    token: String,
    /// The enrolled authenticator's key (base32).
    pub totp_secret: String,
    /// The backup codes shown at enrolment.
    pub backup_codes: Vec<String>,
}

/// How far screening came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Documents in the job.
    pub total: i64,
    /// Screened.
    pub done: i64,
    /// Failed.
    pub failed: i64,
}

impl Seeder {
    /// A client of the server at `base` (`http://host:port`).
    pub fn new(base: String) -> anyhow::Result<Self> {
        let client = Client::builder()
            .user_agent(concat!("petal-demo/", env!("CARGO_PKG_VERSION")))
            // The server is on this machine: never through an HTTP(S)_PROXY.
            .no_proxy()
            .timeout(Duration::from_secs(120))
            .build()?;
        Ok(Seeder { client, base })
    }

    fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let request = self.client.request(method, format!("{}{path}", self.base));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// Sends `request`; the JSON answer if it succeeded, else the API's error.
    async fn send(what: &str, request: RequestBuilder) -> anyhow::Result<Value> {
        let response = request.send().await.with_context(|| format!("{what}: no answer"))?;
        let status = response.status();
        let body = response.text().await.with_context(|| format!("{what}: unreadable answer"))?;
        if !status.is_success() {
            bail!("{what}: the API answered {status}: {body}");
        }
        Ok(if body.is_empty() { Value::Null } else { serde_json::from_str(&body)? })
    }

    async fn post(
        &self,
        what: &str,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> anyhow::Result<Value> {
        Self::send(what, self.request(Method::POST, path, token).json(&body)).await
    }

    /// Waits until the server answers `/readyz` ready (about a minute at most).
    pub async fn wait_ready(&self) -> anyhow::Result<()> {
        for _ in 0..600 {
            let probe = self.request(Method::GET, "/readyz", None).timeout(Duration::from_secs(1));
            let ready = probe.send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("the demo server did not become ready within a minute")
    }

    /// Accepts an invite: the account gets `name` and `password`.
    pub async fn accept_invite(
        &self,
        token: &str,
        name: &str,
        password: &str,
    ) -> anyhow::Result<()> {
        let body = json!({"token": token, "name": name, "password": password});
        self.post("accepting an invite", "/api/v1/invites/accept", None, body).await?;
        Ok(())
    }

    /// Signs the Admin in for the first time, enrolling an authenticator as the sign-in page
    /// would; the key and backup codes are kept to show the operator.
    pub async fn enrol_admin(&self, email: &str, password: &str) -> anyhow::Result<Admin> {
        let login = json!({"email": email, "password": password});
        let login = self.post("signing in", "/api/v1/auth/login", None, login).await?;
        let mfa_token = text(&login, "mfa_token")?;
        let setup = json!({"mfa_token": mfa_token});
        let setup = self.post("enrolling TOTP", "/api/v1/auth/mfa/totp/setup", None, setup).await?;
        let totp_secret = text(&setup, "secret")?;
        // The previous step's code, which the server also accepts: the operator's first code,
        // even within the same 30 seconds, is then a later step and not a replay.
        let code = previous_code(&totp_secret)?;
        let activate = json!({"mfa_token": mfa_token, "code": code});
        let session =
            self.post("activating TOTP", "/api/v1/auth/mfa/totp/activate", None, activate).await?;
        let backup_codes = session
            .get("backup_codes")
            .and_then(Value::as_array)
            .context("no backup codes at enrolment")?
            .iter()
            .filter_map(|c| c.as_str().map(str::to_owned))
            .collect();
        Ok(Admin { token: text(&session, "access_token")?, totp_secret, backup_codes })
    }

    /// Invites `email` as `role` and accepts the invite with `name` and `password`.
    pub async fn add_member(
        &self,
        admin: &Admin,
        (role, name, email): (&str, &str, &str),
        password: &str,
    ) -> anyhow::Result<()> {
        let invite = json!({"email": email, "role": role});
        let invite = self.post("inviting", "/api/v1/invites", Some(&admin.token), invite).await?;
        self.accept_invite(&text(&invite, "invite_token")?, name, password).await
    }

    /// Creates a job with `criteria` (the API's `CriterionInput`s); returns its id.
    pub async fn create_job(
        &self,
        admin: &Admin,
        title: &str,
        description: &str,
        criteria: Value,
    ) -> anyhow::Result<String> {
        let job = json!({"title": title, "description": description, "criteria": criteria});
        let job = self.post("creating the job", "/api/v1/jobs", Some(&admin.token), job).await?;
        text(&job, "id")
    }

    /// Uploads `cvs` into `job`, a batch per request; fails if any file is refused.
    pub async fn upload(&self, admin: &Admin, job: &str, cvs: Vec<DemoCv>) -> anyhow::Result<()> {
        let path = format!("/api/v1/jobs/{job}/documents");
        let mut cvs = cvs.into_iter().peekable();
        while cvs.peek().is_some() {
            let form = cvs.by_ref().take(UPLOAD_BATCH).fold(Form::new(), |form, cv| {
                form.part("file", Part::bytes(cv.bytes).file_name(cv.filename))
            });
            let request = self.request(Method::POST, &path, Some(&admin.token)).multipart(form);
            let answer = Self::send("uploading CVs", request).await?;
            if let Some(rejected) = answer.get("rejected").filter(|r| r != &&json!([])) {
                bail!("uploading CVs: some were refused: {rejected}");
            }
        }
        Ok(())
    }

    /// Ends the Admin's seeding session.
    pub async fn sign_out(&self, admin: &Admin) -> anyhow::Result<()> {
        let request = self.request(Method::POST, "/api/v1/auth/logout", Some(&admin.token));
        Self::send("signing out", request).await?;
        Ok(())
    }

    /// Waits until every document of `job` is screened or has failed (ten minutes at most).
    pub async fn wait_screened(&self, admin: &Admin, job: &str) -> anyhow::Result<Progress> {
        let path = format!("/api/v1/jobs/{job}");
        for _ in 0..1200 {
            let job =
                Self::send("reading the job", self.request(Method::GET, &path, Some(&admin.token)))
                    .await?;
            let count = |field: &str| {
                job.pointer(&format!("/progress/{field}")).and_then(Value::as_i64).unwrap_or(0)
            };
            let progress =
                Progress { total: count("total"), done: count("done"), failed: count("failed") };
            if progress.total > 0 && progress.done + progress.failed >= progress.total {
                return Ok(progress);
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        bail!("screening did not finish within ten minutes")
    }
}

/// A string field of an API answer.
fn text(value: &Value, field: &str) -> anyhow::Result<String> {
    value
        .get(field)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .with_context(|| format!("the API's answer has no {field}"))
}

/// The code an authenticator app showed one step ago for the base32 `secret`.
fn previous_code(secret: &str) -> anyhow::Result<String> {
    let secret = Secret::try_from_base32(secret).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let step = chrono::Utc::now().timestamp() / 30;
    crate::auth::totp::code_at(secret.as_bytes(), step - 1)
}
