//! Login monitoring: delays, lockouts, password spraying, alerts (stored, mailed through the
//! outbox or a real SMTP server, posted to a signed webhook), and client addresses behind
//! trusted proxies.

use crate::support::{Backend, PASSWORD, SignedIn, TestApp, on_both_backends, with_pool};
use axum::body::Bytes;
use axum::http::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::sync::mpsc;

async fn alerts_of(app: &TestApp, admin: &SignedIn) -> Vec<Value> {
    let response = app.as_user(admin, Method::GET, "/api/v1/security/alerts").send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn kinds(alerts: &[Value]) -> Vec<&str> {
    alerts.iter().map(|a| a["kind"].as_str().unwrap()).collect()
}

async fn repeated_failures_delay_the_next_attempt(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_of_new_org("Acme").await;
    for _ in 0..5 {
        assert_eq!(app.login(&admin.email, "wrong horse battery staple").await.status(), 401);
    }
    // The fifth failure delays the account by a second: even the right password waits.
    assert_eq!(app.login(&admin.email, PASSWORD).await.status(), 401);
    app.clock.advance(chrono::Duration::seconds(2));
    assert_eq!(app.login(&admin.email, PASSWORD).await.status(), 200);
    app.stop().await.unwrap();
}
on_both_backends!(repeated_failures_delay_the_next_attempt);

async fn password_spraying_is_throttled_and_alerted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_of_new_org("Acme").await;
    let victim = app.member(&admin, "vic@acme.test", "reviewer").await;
    for i in 0..19 {
        assert_eq!(app.login(&format!("guess{i}@acme.test"), PASSWORD).await.status(), 401);
    }
    // The 20th failure from this address, on a real account, raises the alert.
    assert_eq!(app.login(&victim.email, "wrong horse battery staple").await.status(), 401);
    let throttled = app.login(&admin.email, PASSWORD).await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: i64 = throttled.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=600).contains(&retry), "{retry}");
    let body: Value = throttled.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_attempts");

    // Ten minutes later the address may try again.
    app.clock.advance(chrono::Duration::minutes(10) + chrono::Duration::seconds(1));
    assert_eq!(app.login(&admin.email, PASSWORD).await.status(), 200);
    let alerts = alerts_of(&app, &admin).await;
    assert!(kinds(&alerts).contains(&"password_spraying"), "{alerts:?}");
    app.stop().await.unwrap();
}
on_both_backends!(password_spraying_is_throttled_and_alerted);

/// Reads the mail outbox folder: `(to, subject)` of every message.
fn outbox(app: &TestApp) -> Vec<(String, String)> {
    let dir = app.db.data_dir.path().join("mail-outbox");
    let mut mails: Vec<(String, String)> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| {
                    let mail: Value =
                        serde_json::from_slice(&std::fs::read(e.unwrap().path()).unwrap()).unwrap();
                    (
                        mail["to"].as_str().unwrap().to_owned(),
                        mail["subject"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    mails.sort();
    mails
}

/// Waits (bounded) until `check` holds; alert delivery runs after the response.
async fn eventually(mut check: impl FnMut() -> bool) {
    for _ in 0..250 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("condition never held");
}

/// A local HTTP receiver for the alert webhook, handing each request's headers and body to
/// the test.
async fn webhook_receiver() -> (String, mpsc::UnboundedReceiver<(HeaderMap, Bytes)>) {
    let (sender, received) = mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let sender = sender.clone();
            async move {
                let _ = sender.send((headers, body));
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

const WEBHOOK_SECRET: &str = "test-webhook-secret-0123456789";

#[tokio::test]
async fn alerts_are_stored_mailed_and_posted_signed() {
    let (hook, mut received) = webhook_receiver().await;
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        &[
            ("PETAL_ALERT_WEBHOOK_URL", hook),
            ("PETAL_ALERT_WEBHOOK_SECRET", WEBHOOK_SECRET.to_owned()),
        ],
    )
    .await;
    let admin = app.admin_of_new_org("Acme").await;
    let member = app.member(&admin, "mo@acme.test", "reviewer").await;

    // Role change to Admin, MFA reset, a lockout, and a login from a new device.
    let path = format!("/api/v1/users/{}", member.user_id);
    let promote = app.as_user(&admin, Method::PATCH, &path).json(&json!({"role": "admin"}));
    assert_eq!(promote.send().await.unwrap().status(), 200);
    let reset = format!("/api/v1/users/{}/mfa/reset", member.user_id);
    assert_eq!(app.as_user(&admin, Method::POST, &reset).send().await.unwrap().status(), 204);
    for _ in 0..10 {
        app.login(&member.email, "wrong horse battery staple").await;
        app.clock.advance(chrono::Duration::seconds(20));
    }
    let mfa_token = app.mfa_token(&admin.email).await;
    app.next_step();
    let from_phone = app
        .client
        .post(app.url("/api/v1/auth/mfa/verify"))
        .header("user-agent", "PetalPhone/2")
        .json(&json!({"mfa_token": mfa_token, "method": "totp", "code": app.totp_code(&admin.totp_secret, 0)}))
        .send()
        .await
        .unwrap();
    assert_eq!(from_phone.status(), 200);

    let alerts = alerts_of(&app, &admin).await;
    let mut got = kinds(&alerts);
    got.sort();
    assert_eq!(got, ["account_locked", "mfa_changed", "new_login_location", "role_escalated"]);
    let new_device = alerts.iter().find(|a| a["kind"] == "new_login_location").unwrap();
    assert_eq!(new_device["details"], json!({"new_ip": false, "new_device": true}));

    // Mailed to the organisation's Admins (both, after the promotion), through the outbox.
    eventually(|| outbox(&app).len() >= 7).await;
    let mails = outbox(&app);
    assert!(
        mails
            .iter()
            .all(|(to, s)| to.ends_with("@acme.test") && s.starts_with("Petal security alert"))
    );
    assert!(mails.iter().any(|(to, s)| to == "mo@acme.test" && s.contains("account locked")));

    // Posted to the webhook, each body signed with HMAC-SHA256.
    let mut posted = Vec::new();
    while posted.len() < 4 {
        let (headers, body) =
            tokio::time::timeout(Duration::from_secs(5), received.recv()).await.unwrap().unwrap();
        let signature = headers["x-petal-signature"].to_str().unwrap().to_owned();
        assert_eq!(
            signature,
            petal_server::notify::webhook::signature(WEBHOOK_SECRET.as_bytes(), &body)
        );
        let payload: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(payload["org_id"], admin.org_id.as_str());
        posted.push(payload["kind"].as_str().unwrap().to_owned());
    }
    posted.sort();
    assert_eq!(posted, ["account_locked", "mfa_changed", "new_login_location", "role_escalated"]);

    // Only Admins read alerts.
    let reviewer = app.member(&admin, "rev@acme.test", "reviewer").await;
    let refused =
        app.as_user(&reviewer, Method::GET, "/api/v1/security/alerts").send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    app.stop().await.unwrap();
}

/// Whether the aiosmtpd SMTP server (PyPI) is available; CI installs it and requires it.
fn smtp_server_available() -> bool {
    let available = std::process::Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .status()
        .is_ok_and(|s| s.success());
    if !available {
        assert!(
            std::env::var("PETAL_TEST_REQUIRE_SMTP").is_err(),
            "PETAL_TEST_REQUIRE_SMTP is set but aiosmtpd is not installed"
        );
        eprintln!("SKIPPED: aiosmtpd is not installed (pip install aiosmtpd)");
    }
    available
}

#[tokio::test]
async fn alerts_reach_a_real_smtp_server() {
    if !smtp_server_available() {
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    // A path that does not exist yet, so the server creates a complete Maildir there.
    let maildir = scratch.path().join("maildir");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut server = std::process::Command::new("python3")
        .args([
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            &format!("127.0.0.1:{port}"),
            "-c",
            "aiosmtpd.handlers.Mailbox",
        ])
        .arg(&maildir)
        .spawn()
        .unwrap();
    let mut listening = false;
    for _ in 0..250 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            listening = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(listening, "SMTP server did not start");

    let app = TestApp::spawn_with(
        Backend::Sqlite,
        &[("PETAL_SMTP_URL", format!("smtp://127.0.0.1:{port}"))],
    )
    .await;
    let admin = app.admin_of_new_org("Acme").await;
    let member = app.member(&admin, "mo@acme.test", "reviewer").await;
    let reset = format!("/api/v1/users/{}/mfa/reset", member.user_id);
    assert_eq!(app.as_user(&admin, Method::POST, &reset).send().await.unwrap().status(), 204);

    let new = maildir.join("new");
    eventually(|| std::fs::read_dir(&new).is_ok_and(|mut d| d.next().is_some())).await;
    let entry = std::fs::read_dir(&new).unwrap().next().unwrap().unwrap();
    let message = std::fs::read_to_string(entry.path()).unwrap();
    assert!(message.contains("To: admin@acme.test"), "{message}");
    assert!(message.contains("Subject: Petal security alert: mfa changed"), "{message}");
    // No outbox file when SMTP is configured.
    assert!(!app.db.data_dir.path().join("mail-outbox").exists());
    server.kill().unwrap();
    let _ = server.wait();
    app.stop().await.unwrap();
}

/// The address recorded for a login: the peer, or the forwarded client behind a trusted proxy.
async fn recorded_ip(app: &TestApp) -> String {
    let db = app.db.connect().await;
    let ip: String = with_pool!(&db, |pool| {
        sqlx::query_scalar("SELECT ip FROM audit_events WHERE action = 'auth.login_failed'")
            .fetch_one(pool)
            .await
            .unwrap()
    });
    db.close().await;
    ip
}

#[tokio::test]
async fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
    for (trusted, expected) in [(None, "127.0.0.1"), (Some("127.0.0.1"), "198.51.100.7")] {
        let extra: Vec<(&str, String)> =
            trusted.map(|t| ("PETAL_TRUSTED_PROXIES", t.to_owned())).into_iter().collect();
        let app = TestApp::spawn_with(Backend::Sqlite, &extra).await;
        let admin = app.admin_of_new_org("Acme").await;
        let response = app
            .client
            .post(app.url("/api/v1/auth/login"))
            .header("x-forwarded-for", "198.51.100.7")
            .json(&json!({"email": admin.email, "password": "wrong horse battery staple"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
        assert_eq!(recorded_ip(&app).await, expected, "trusted proxies: {trusted:?}");
        app.stop().await.unwrap();
    }
}
