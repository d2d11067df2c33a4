//! SMS codes: enrolment, login, expiry, single use, wrong guesses, rate limits, the outbox
//! and an HTTP gateway.

use crate::support::{Backend, PASSWORD, TestApp, on_both_backends};
use axum::extract::Form;
use axum::http::HeaderMap;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::mpsc;

const PHONE: &str = "+447700900123";

/// Takes every message from the SMS outbox: `(to, code)`.
pub(crate) fn drain_outbox(app: &TestApp) -> Vec<(String, String)> {
    let dir = app.db.data_dir.path().join("sms-outbox");
    let mut messages = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let message: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        std::fs::remove_file(&path).unwrap();
        let body = message["body"].as_str().unwrap();
        let code: String = body
            .split_whitespace()
            .find(|w| w.len() == 7 && w.ends_with('.'))
            .unwrap()
            .trim_end_matches('.')
            .to_owned();
        messages.push((message["to"].as_str().unwrap().to_owned(), code));
    }
    messages
}

/// The one code just sent to [`PHONE`].
fn sent_code(app: &TestApp) -> String {
    let messages = drain_outbox(app);
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0].0, PHONE);
    messages[0].1.clone()
}

/// A new organisation whose Admin has a pending login (no factor yet); returns `(email, mfa_token)`.
pub(crate) async fn pending_admin(app: &TestApp) -> (String, String) {
    let (_, invite) = app.create_org("Acme", "ada@acme.test").await;
    app.accept_invite(&invite, "Ada").await;
    ("ada@acme.test".to_owned(), app.mfa_token("ada@acme.test").await)
}

pub(crate) async fn enrol_sms(app: &TestApp, mfa_token: &str) -> reqwest::Response {
    let setup = app
        .post_json(
            "/api/v1/auth/mfa/sms/setup",
            json!({"mfa_token": mfa_token, "phone": "+44 7700 900123"}),
        )
        .await;
    assert_eq!(setup.status(), StatusCode::ACCEPTED);
    let setup: Value = setup.json().await.unwrap();
    assert_eq!(setup["to"], "+44••••••0123");
    let code = sent_code(app);
    app.post_json("/api/v1/auth/mfa/sms/activate", json!({"mfa_token": mfa_token, "code": code}))
        .await
}

async fn sms_enrolment_and_login(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (email, mfa_token) = pending_admin(&app).await;
    let activated = enrol_sms(&app, &mfa_token).await;
    assert_eq!(activated.status(), 200);
    let session: Value = activated.json().await.unwrap();
    assert_eq!(session["backup_codes"].as_array().unwrap().len(), 10);
    let token = session["access_token"].as_str().unwrap();
    let me: Value = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["mfa"]["sms"], true);

    // Next login: ask for a code, then verify with it.
    let login: Value = app.login(&email, PASSWORD).await.json().await.unwrap();
    assert_eq!(login["next"], "verify");
    assert_eq!(login["methods"], json!(["sms", "backup_code"]));
    let mfa_token = login["mfa_token"].as_str().unwrap();
    let challenge = app
        .post_json("/api/v1/auth/mfa/challenge", json!({"mfa_token": mfa_token, "method": "sms"}))
        .await;
    assert_eq!(challenge.status(), StatusCode::ACCEPTED);
    let code = sent_code(&app);
    let verify = json!({"mfa_token": mfa_token, "method": "sms", "code": code});
    assert_eq!(app.post_json("/api/v1/auth/mfa/verify", verify.clone()).await.status(), 200);

    // The phone number is sealed at rest.
    let db = app.db.connect().await;
    let stored: Vec<u8> = crate::support::with_pool!(&db, |pool| {
        sqlx::query_scalar("SELECT phone FROM users").fetch_one(pool).await.unwrap()
    });
    db.close().await;
    assert!(!stored.windows(10).any(|w| w == b"7700900123"), "phone stored in clear");
    app.stop().await.unwrap();
}
on_both_backends!(sms_enrolment_and_login);

async fn sms_codes_expire_work_once_and_die_after_five_wrong_guesses(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (email, mfa_token) = pending_admin(&app).await;
    assert_eq!(enrol_sms(&app, &mfa_token).await.status(), 200);
    let verify = |mfa_token: String, code: String| {
        let app = &app;
        async move {
            let response = app
                .post_json(
                    "/api/v1/auth/mfa/verify",
                    json!({"mfa_token": mfa_token, "method": "sms", "code": code}),
                )
                .await;
            response.status()
        }
    };
    let challenge = |mfa_token: String| {
        let app = &app;
        async move {
            app.post_json(
                "/api/v1/auth/mfa/challenge",
                json!({"mfa_token": mfa_token, "method": "sms"}),
            )
            .await
        }
    };

    // Expired after five minutes.
    let token = app.mfa_token(&email).await;
    assert_eq!(challenge(token.clone()).await.status(), StatusCode::ACCEPTED);
    let code = sent_code(&app);
    app.clock.advance(chrono::Duration::minutes(5) + chrono::Duration::seconds(1));
    assert_eq!(verify(token, code).await, StatusCode::UNAUTHORIZED);

    // Used once.
    let token = app.mfa_token(&email).await;
    assert_eq!(challenge(token.clone()).await.status(), StatusCode::ACCEPTED);
    let code = sent_code(&app);
    assert_eq!(verify(token, code.clone()).await, StatusCode::OK);
    let token = app.mfa_token(&email).await;
    assert_eq!(verify(token, code).await, StatusCode::UNAUTHORIZED);

    // Five wrong guesses void the outstanding code (a new login, so the pending-login limit
    // is not what stops it).
    app.clock.advance(chrono::Duration::minutes(11));
    let token = app.mfa_token(&email).await;
    assert_eq!(challenge(token.clone()).await.status(), StatusCode::ACCEPTED);
    let code = sent_code(&app);
    for _ in 0..5 {
        let wrong = if code == "000000" { "111111" } else { "000000" };
        assert_eq!(verify(token.clone(), wrong.to_owned()).await, StatusCode::UNAUTHORIZED);
    }
    // (Wrong codes also count against the account: wait out the short delay they caused.)
    app.clock.advance(chrono::Duration::seconds(20));
    let fresh = app.mfa_token(&email).await;
    assert_eq!(verify(fresh, code).await, StatusCode::UNAUTHORIZED);
    app.stop().await.unwrap();
}
on_both_backends!(sms_codes_expire_work_once_and_die_after_five_wrong_guesses);

async fn at_most_three_codes_per_ten_minutes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (email, mfa_token) = pending_admin(&app).await;
    assert_eq!(enrol_sms(&app, &mfa_token).await.status(), 200);
    app.clock.advance(chrono::Duration::minutes(11));
    let token = app.mfa_token(&email).await;
    for _ in 0..3 {
        let sent = app
            .post_json("/api/v1/auth/mfa/challenge", json!({"mfa_token": token, "method": "sms"}))
            .await;
        assert_eq!(sent.status(), StatusCode::ACCEPTED);
    }
    let refused = app
        .post_json("/api/v1/auth/mfa/challenge", json!({"mfa_token": token, "method": "sms"}))
        .await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(drain_outbox(&app).len(), 3);
    app.stop().await.unwrap();
}
on_both_backends!(at_most_three_codes_per_ten_minutes);

#[tokio::test]
async fn a_bad_phone_number_is_refused_and_nothing_is_sent() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (_, mfa_token) = pending_admin(&app).await;
    for bad in ["07700900123", "+0123456789", "+44 abc", "+1234"] {
        let response = app
            .post_json("/api/v1/auth/mfa/sms/setup", json!({"mfa_token": mfa_token, "phone": bad}))
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    assert!(drain_outbox(&app).is_empty());
    app.stop().await.unwrap();
}

/// A local Twilio-style gateway: records each form POST and its Authorization header.
async fn gateway() -> (String, mpsc::UnboundedReceiver<(HeaderMap, HashMap<String, String>)>) {
    let (sender, received) = mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/2010-04-01/Accounts/AC123/Messages.json",
        axum::routing::post(
            move |headers: HeaderMap, Form(form): Form<HashMap<String, String>>| {
                let sender = sender.clone();
                async move {
                    let _ = sender.send((headers, form));
                    (StatusCode::CREATED, axum::Json(json!({"sid": "SM1", "status": "queued"})))
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://AC123:gateway-token@{}/2010-04-01/Accounts/AC123/Messages.json",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

#[tokio::test]
async fn codes_go_through_an_http_gateway_when_configured() {
    let (url, mut received) = gateway().await;
    let app = TestApp::spawn_with(Backend::Sqlite, &[("PETAL_SMS_GATEWAY_URL", url)]).await;
    let (_, mfa_token) = pending_admin(&app).await;
    let setup = app
        .post_json("/api/v1/auth/mfa/sms/setup", json!({"mfa_token": mfa_token, "phone": PHONE}))
        .await;
    assert_eq!(setup.status(), StatusCode::ACCEPTED);
    let (headers, form) =
        tokio::time::timeout(Duration::from_secs(5), received.recv()).await.unwrap().unwrap();
    // Basic auth "AC123:gateway-token".
    assert_eq!(headers["authorization"], "Basic QUMxMjM6Z2F0ZXdheS10b2tlbg==");
    assert_eq!(form["To"], PHONE);
    assert_eq!(form["From"], "Petal");
    let code: String = form["Body"].chars().filter(char::is_ascii_digit).take(6).collect();
    let activated = app
        .post_json("/api/v1/auth/mfa/sms/activate", json!({"mfa_token": mfa_token, "code": code}))
        .await;
    assert_eq!(activated.status(), 200);
    assert!(!app.db.data_dir.path().join("sms-outbox").exists());
    app.stop().await.unwrap();
}

async fn a_code_sent_to_one_number_does_not_confirm_another(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, mfa_token) = pending_admin(&app).await;
    let first = app
        .post_json("/api/v1/auth/mfa/sms/setup", json!({"mfa_token": mfa_token, "phone": PHONE}))
        .await;
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    let code_for_first = sent_code(&app);
    let second = app
        .post_json(
            "/api/v1/auth/mfa/sms/setup",
            json!({"mfa_token": mfa_token, "phone": "+447700900999"}),
        )
        .await;
    assert_eq!(second.status(), StatusCode::ACCEPTED);
    drain_outbox(&app);
    let activated = app
        .post_json(
            "/api/v1/auth/mfa/sms/activate",
            json!({"mfa_token": mfa_token, "code": code_for_first}),
        )
        .await;
    assert_eq!(activated.status(), StatusCode::UNAUTHORIZED);
    app.stop().await.unwrap();
}
on_both_backends!(a_code_sent_to_one_number_does_not_confirm_another);
