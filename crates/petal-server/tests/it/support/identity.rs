//! Signing people up and in over HTTP, the way a client would.

use super::TestApp;
use petal_domain::audit::AuditContext;
use petal_domain::{Clock, Email, OrgName};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{Value, json};
use totp_rs::{Builder, Secret};

/// A password the strength rules accept.
pub const PASSWORD: &str = "lantern orbit velvet quarry";

/// A signed-in user and everything a test may need to act as them.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// Their user id.
    pub user_id: String,
    /// Their organisation.
    pub org_id: String,
    /// Their email.
    pub email: String,
    /// The session token (Bearer).
    pub token: String,
    /// The session's CSRF token.
    pub csrf: String,
    /// The `Set-Cookie` value's `name=value` part.
    pub cookie: String,
    /// Their TOTP secret (base32).
    pub totp_secret: String,
    /// The backup codes shown at enrolment.
    pub backup_codes: Vec<String>,
}

impl TestApp {
    /// A request with the user's Bearer token.
    pub fn as_user(&self, user: &SignedIn, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path)).bearer_auth(&user.token)
    }

    /// POSTs JSON without credentials.
    pub async fn post_json(&self, path: &str, body: Value) -> Response {
        self.client.post(self.url(path)).json(&body).send().await.unwrap()
    }

    /// Creates an organisation (as the CLI would) and returns `(org_id, admin invite token)`.
    pub async fn create_org(&self, name: &str, admin_email: &str) -> (String, String) {
        let db = self.db.connect().await;
        let created = petal_server::org_setup::create_org_with_admin_invite(
            &db,
            self.clock.as_ref(),
            &url::Url::parse(&self.base).unwrap(),
            &OrgName::parse(name).unwrap(),
            &Email::parse(admin_email).unwrap(),
            &AuditContext::cli(),
        )
        .await
        .unwrap();
        db.close().await;
        (created.org_id.to_string(), created.invite_token)
    }

    /// The TOTP code an authenticator shows now for `secret`, `steps_back` steps ago.
    pub fn totp_code(&self, secret: &str, steps_back: i64) -> String {
        let secret = Secret::try_from_base32(secret).unwrap();
        let totp = Builder::new().with_secret(secret).build().unwrap();
        let at = self.clock.now().timestamp() - 30 * steps_back;
        totp.generate(u64::try_from(at).unwrap()).to_string()
    }

    /// Moves the clock to the next TOTP step, so a fresh code can be used.
    pub fn next_step(&self) {
        self.clock.advance(chrono::Duration::seconds(30));
    }

    /// Accepts an invite with [`PASSWORD`]; returns the new user's id.
    pub async fn accept_invite(&self, token: &str, name: &str) -> String {
        let response = self
            .post_json(
                "/api/v1/invites/accept",
                json!({"token": token, "name": name, "password": PASSWORD}),
            )
            .await;
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
        let body: Value = response.json().await.unwrap();
        body["user_id"].as_str().unwrap().to_owned()
    }

    /// Logs in with a password; returns the login answer.
    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.post_json("/api/v1/auth/login", json!({"email": email, "password": password})).await
    }

    /// Logs in with [`PASSWORD`] and returns the `mfa_token`.
    pub async fn mfa_token(&self, email: &str) -> String {
        let response = self.login(email, PASSWORD).await;
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
        let body: Value = response.json().await.unwrap();
        body["mfa_token"].as_str().unwrap().to_owned()
    }

    /// Enrols TOTP for a pending login and returns the signed-in user.
    pub async fn enrol_totp(&self, email: &str, mfa_token: &str) -> SignedIn {
        let setup =
            self.post_json("/api/v1/auth/mfa/totp/setup", json!({"mfa_token": mfa_token})).await;
        assert_eq!(setup.status(), 200);
        let setup: Value = setup.json().await.unwrap();
        let secret = setup["secret"].as_str().unwrap().to_owned();
        let code = self.totp_code(&secret, 0);
        let activated = self
            .post_json(
                "/api/v1/auth/mfa/totp/activate",
                json!({"mfa_token": mfa_token, "code": code}),
            )
            .await;
        assert_eq!(activated.status(), 200, "{}", activated.text().await.unwrap());
        self.signed_in(email, &secret, activated).await
    }

    /// Reads a session response into a [`SignedIn`] (and asks `/me` who it is).
    pub async fn signed_in(&self, email: &str, secret: &str, response: Response) -> SignedIn {
        let cookie = response
            .headers()
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let body: Value = response.json().await.unwrap();
        let token = body["access_token"].as_str().unwrap().to_owned();
        let me: Value = self
            .client
            .get(self.url("/api/v1/me"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        SignedIn {
            user_id: me["id"].as_str().unwrap().to_owned(),
            org_id: me["org_id"].as_str().unwrap().to_owned(),
            email: email.to_owned(),
            token,
            csrf: body["csrf_token"].as_str().unwrap().to_owned(),
            cookie,
            totp_secret: secret.to_owned(),
            backup_codes: body["backup_codes"]
                .as_array()
                .map(|a| a.iter().map(|c| c.as_str().unwrap().to_owned()).collect())
                .unwrap_or_default(),
        }
    }

    /// Logs in again with password and TOTP (moving to a fresh step first).
    pub async fn sign_in(&self, user: &SignedIn) -> SignedIn {
        let mfa_token = self.mfa_token(&user.email).await;
        self.next_step();
        let code = self.totp_code(&user.totp_secret, 0);
        let response = self
            .post_json(
                "/api/v1/auth/mfa/verify",
                json!({"mfa_token": mfa_token, "method": "totp", "code": code}),
            )
            .await;
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
        let mut again = self.signed_in(&user.email, &user.totp_secret, response).await;
        again.backup_codes = user.backup_codes.clone();
        again
    }

    /// Steps `user` up (password and a fresh TOTP code) for the next five minutes.
    pub async fn step_up(&self, user: &SignedIn) {
        self.next_step();
        let code = self.totp_code(&user.totp_secret, 0);
        let response = self
            .as_user(user, reqwest::Method::POST, "/api/v1/auth/reauth")
            .json(&json!({"password": PASSWORD, "method": "totp", "code": code}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204, "{}", response.text().await.unwrap());
    }

    /// A new organisation with a signed-in Admin.
    pub async fn admin_of_new_org(&self, org: &str) -> SignedIn {
        let email = format!("admin@{}.test", org.to_lowercase());
        let (_, token) = self.create_org(org, &email).await;
        self.accept_invite(&token, "Ada Admin").await;
        let mfa_token = self.mfa_token(&email).await;
        self.enrol_totp(&email, &mfa_token).await
    }

    /// Invites `email` as `role` into `admin`'s organisation and signs them up.
    pub async fn member(&self, admin: &SignedIn, email: &str, role: &str) -> SignedIn {
        let invite = self
            .as_user(admin, Method::POST, "/api/v1/invites")
            .json(&json!({"email": email, "role": role}))
            .send()
            .await
            .unwrap();
        assert_eq!(invite.status(), 201, "{}", invite.text().await.unwrap());
        let invite: Value = invite.json().await.unwrap();
        self.accept_invite(invite["invite_token"].as_str().unwrap(), "Mo Member").await;
        let mfa_token = self.mfa_token(email).await;
        self.next_step();
        self.enrol_totp(email, &mfa_token).await
    }
}
