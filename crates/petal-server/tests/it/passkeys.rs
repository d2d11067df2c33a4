//! WebAuthn passkeys, with a software authenticator: registration at enrolment, login, and
//! refusals (another origin, a replayed ceremony, an unregistered authenticator).

use crate::support::{Backend, PASSWORD, TestApp, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};
use url::Url;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse};

/// A server whose public URL is a domain name (passkeys are not offered for IP addresses).
async fn app(backend: Backend) -> (TestApp, Url) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let public = format!("http://localhost:{port}");
    let app = TestApp::spawn_on_port(backend, port, &[("PETAL_PUBLIC_URL", public.clone())]).await;
    (app, Url::parse(&public).unwrap())
}

async fn register(
    app: &TestApp,
    origin: &Url,
    key: &mut SoftPasskey,
    mfa_token: &str,
) -> reqwest::Response {
    let start = app
        .post_json("/api/v1/auth/mfa/passkey/register/start", json!({"mfa_token": mfa_token}))
        .await;
    assert_eq!(start.status(), 200, "{}", start.text().await.unwrap());
    let challenge: CreationChallengeResponse = start.json().await.unwrap();
    let credential = key.do_registration(origin.clone(), challenge).unwrap();
    app.post_json(
        "/api/v1/auth/mfa/passkey/register/finish",
        json!({"mfa_token": mfa_token, "credential": credential}),
    )
    .await
}

async fn login(
    app: &TestApp,
    origin: &Url,
    key: &mut SoftPasskey,
    email: &str,
) -> reqwest::Response {
    let mfa_token = app.mfa_token(email).await;
    let start = app
        .post_json("/api/v1/auth/mfa/passkey/login/start", json!({"mfa_token": mfa_token}))
        .await;
    assert_eq!(start.status(), 200);
    let challenge: RequestChallengeResponse = start.json().await.unwrap();
    let credential = key.do_authentication(origin.clone(), challenge).unwrap();
    app.post_json(
        "/api/v1/auth/mfa/passkey/login/finish",
        json!({"mfa_token": mfa_token, "credential": credential}),
    )
    .await
}

async fn passkey_enrolment_and_login(backend: Backend) {
    let (app, origin) = app(backend).await;
    let (_, invite) = app.create_org("Acme", "ada@acme.test").await;
    app.accept_invite(&invite, "Ada").await;
    let mut key = SoftPasskey::new(true);
    let offered: Value = app.login("ada@acme.test", PASSWORD).await.json().await.unwrap();
    assert_eq!(offered["methods"], json!(["totp", "sms", "passkey"]));
    let mfa_token = app.mfa_token("ada@acme.test").await;
    let registered = register(&app, &origin, &mut key, &mfa_token).await;
    assert_eq!(registered.status(), 200);
    let session: Value = registered.json().await.unwrap();
    assert_eq!(session["backup_codes"].as_array().unwrap().len(), 10);

    let answer: Value = app.login("ada@acme.test", PASSWORD).await.json().await.unwrap();
    assert_eq!(answer["next"], "verify");
    assert_eq!(answer["methods"], json!(["passkey", "backup_code"]));
    assert_eq!(login_status(&app, &origin, &mut key).await, StatusCode::OK);
    // Twice, so the signature counter moves and is kept.
    assert_eq!(login_status(&app, &origin, &mut key).await, StatusCode::OK);

    // A step-up with the passkey, after the password: then sensitive changes go through.
    let session: Value =
        login(&app, &origin, &mut key, "ada@acme.test").await.json().await.unwrap();
    let token = session["access_token"].as_str().unwrap().to_owned();
    let post = |path: &str, body: Value| {
        app.client.post(app.url(path)).bearer_auth(&token).json(&body).send()
    };
    app.clock.advance(chrono::Duration::minutes(6));
    let codes = post("/api/v1/me/backup-codes", json!({})).await.unwrap();
    assert_eq!(codes.status(), StatusCode::FORBIDDEN, "no recent step-up yet");
    let wrong = post("/api/v1/auth/reauth/passkey/start", json!({"password": "not it"}));
    assert_eq!(wrong.await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let start = post("/api/v1/auth/reauth/passkey/start", json!({"password": PASSWORD})).await;
    let start = start.unwrap();
    assert_eq!(start.status(), StatusCode::OK);
    let challenge: RequestChallengeResponse = start.json().await.unwrap();
    let credential = key.do_authentication(origin.clone(), challenge).unwrap();
    let body = json!({"credential": credential});
    let finished = post("/api/v1/auth/reauth/passkey/finish", body.clone()).await.unwrap();
    assert_eq!(finished.status(), StatusCode::NO_CONTENT);
    let replayed = post("/api/v1/auth/reauth/passkey/finish", body).await.unwrap();
    assert_eq!(replayed.status(), StatusCode::UNAUTHORIZED, "each ceremony works once");
    let codes = post("/api/v1/me/backup-codes", json!({})).await.unwrap();
    assert_eq!(codes.status(), StatusCode::OK);
    let step_ups: Vec<String> = app
        .audit_actions()
        .await
        .into_iter()
        .filter(|(action, _, _)| action == "mfa.verified" || action == "mfa.failed")
        .filter_map(|(action, _, details)| {
            details.filter(|d| d.contains("step_up")).map(|d| format!("{action} {d}"))
        })
        .collect();
    assert_eq!(step_ups.len(), 3, "{step_ups:?}");
    assert!(step_ups.iter().filter(|s| s.starts_with("mfa.failed")).count() == 2);
    assert!(step_ups.iter().any(|s| s.starts_with("mfa.verified") && s.contains("passkey")));
    app.stop().await.unwrap();
}
on_both_backends!(passkey_enrolment_and_login);

async fn login_status(app: &TestApp, origin: &Url, key: &mut SoftPasskey) -> StatusCode {
    login(app, origin, key, "ada@acme.test").await.status()
}

#[tokio::test]
async fn foreign_origins_replays_and_unknown_authenticators_are_refused() {
    let (app, origin) = app(Backend::Sqlite).await;
    let (_, invite) = app.create_org("Acme", "ada@acme.test").await;
    app.accept_invite(&invite, "Ada").await;
    let mut key = SoftPasskey::new(true);
    let offered: Value = app.login("ada@acme.test", PASSWORD).await.json().await.unwrap();
    assert_eq!(offered["methods"], json!(["totp", "sms", "passkey"]));
    let mfa_token = app.mfa_token("ada@acme.test").await;

    // A page on another origin that relays the challenge cannot complete registration: the
    // server accepts only its own origin and relying party.
    let start = app
        .post_json("/api/v1/auth/mfa/passkey/register/start", json!({"mfa_token": mfa_token}))
        .await;
    let mut challenge: CreationChallengeResponse = start.json().await.unwrap();
    // The phishing page relays Petal's challenge as its own relying party.
    challenge.public_key.rp.id = "petal-login.test".to_owned();
    let phishing_page = Url::parse("https://petal-login.test/enrol").unwrap();
    let phished = key.do_registration(phishing_page, challenge).unwrap();
    let refused = app
        .post_json(
            "/api/v1/auth/mfa/passkey/register/finish",
            json!({"mfa_token": mfa_token, "credential": phished}),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(register(&app, &origin, &mut key, &mfa_token).await.status(), 200);

    // A finished ceremony cannot be finished again with the same assertion.
    let mfa_token = app.mfa_token("ada@acme.test").await;
    let start = app
        .post_json("/api/v1/auth/mfa/passkey/login/start", json!({"mfa_token": mfa_token}))
        .await;
    let challenge: RequestChallengeResponse = start.json().await.unwrap();
    let assertion = key.do_authentication(origin.clone(), challenge).unwrap();
    let finish = json!({"mfa_token": mfa_token, "credential": assertion});
    let once = app.post_json("/api/v1/auth/mfa/passkey/login/finish", finish.clone()).await;
    assert_eq!(once.status(), StatusCode::OK);
    let again = app.post_json("/api/v1/auth/mfa/passkey/login/finish", finish).await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);

    // An authenticator that was never registered is refused.
    let mut stranger = SoftPasskey::new(true);
    let mfa_token = app.mfa_token("ada@acme.test").await;
    let start = app
        .post_json("/api/v1/auth/mfa/passkey/login/start", json!({"mfa_token": mfa_token}))
        .await;
    let challenge: RequestChallengeResponse = start.json().await.unwrap();
    assert!(stranger.do_authentication(origin.clone(), challenge).is_err(), "no credential to use");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn passkeys_are_not_offered_under_an_ip_address() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (_, invite) = app.create_org("Acme", "ada@acme.test").await;
    app.accept_invite(&invite, "Ada").await;
    let login: Value = app.login("ada@acme.test", PASSWORD).await.json().await.unwrap();
    assert_eq!(login["next"], "enroll");
    assert_eq!(login["methods"], json!(["totp", "sms"]), "no passkey offered");
    let mfa_token = app.mfa_token("ada@acme.test").await;
    let start = app
        .post_json("/api/v1/auth/mfa/passkey/register/start", json!({"mfa_token": mfa_token}))
        .await;
    assert_eq!(start.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = start.json().await.unwrap();
    assert_eq!(body["error"]["code"], "passkeys_unavailable");
    app.stop().await.unwrap();
}
