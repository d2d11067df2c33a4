//! Changing second factors from a signed-in session: step-up first, then the new factor
//! replaces the old, audited and alerted.

use crate::support::{Backend, PASSWORD, TestApp, on_both_backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn replacing_the_authenticator_needs_a_step_up(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_of_new_org("Acme").await;
    app.clock.advance(chrono::Duration::minutes(6));
    let stale =
        app.as_user(&admin, Method::POST, "/api/v1/me/mfa/totp/setup").send().await.unwrap();
    assert_eq!(stale.status(), StatusCode::FORBIDDEN);

    app.next_step();
    let reauth = app
        .as_user(&admin, Method::POST, "/api/v1/auth/reauth")
        .json(&json!({"password": PASSWORD, "method": "totp", "code": app.totp_code(&admin.totp_secret, 0)}))
        .send()
        .await
        .unwrap();
    assert_eq!(reauth.status(), StatusCode::NO_CONTENT);
    let setup: Value = app
        .as_user(&admin, Method::POST, "/api/v1/me/mfa/totp/setup")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let new_secret = setup["secret"].as_str().unwrap().to_owned();
    // A code from the old authenticator does not activate the new one.
    let wrong = app
        .as_user(&admin, Method::POST, "/api/v1/me/mfa/totp/activate")
        .json(&json!({"code": app.totp_code(&admin.totp_secret, 0)}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let activated = app
        .as_user(&admin, Method::POST, "/api/v1/me/mfa/totp/activate")
        .json(&json!({"code": app.totp_code(&new_secret, 0)}))
        .send()
        .await
        .unwrap();
    assert_eq!(activated.status(), StatusCode::NO_CONTENT);

    // Next login: the old authenticator no longer works, the new one does.
    let verify = |secret: String| {
        let app = &app;
        let email = admin.email.clone();
        async move {
            app.next_step();
            let mfa_token = app.mfa_token(&email).await;
            let code = app.totp_code(&secret, 0);
            app.post_json(
                "/api/v1/auth/mfa/verify",
                json!({"mfa_token": mfa_token, "method": "totp", "code": code}),
            )
            .await
            .status()
        }
    };
    assert_eq!(verify(admin.totp_secret.clone()).await, StatusCode::UNAUTHORIZED);
    assert_eq!(verify(new_secret).await, StatusCode::OK);

    let alerts: Vec<Value> = app
        .as_user(&admin, Method::GET, "/api/v1/security/alerts")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(alerts.iter().any(|a| a["kind"] == "mfa_changed" && a["details"]["method"] == "totp"));
    app.stop().await.unwrap();
}
on_both_backends!(replacing_the_authenticator_needs_a_step_up);

/// The one code just written to the SMS outbox.
fn outbox_code(app: &TestApp) -> (String, String) {
    let dir = app.db.data_dir.path().join("sms-outbox");
    let entries: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(entries.len(), 1);
    let message: Value = serde_json::from_slice(&std::fs::read(&entries[0]).unwrap()).unwrap();
    std::fs::remove_file(&entries[0]).unwrap();
    let code: String =
        message["body"].as_str().unwrap().chars().filter(char::is_ascii_digit).take(6).collect();
    (message["to"].as_str().unwrap().to_owned(), code)
}

async fn a_phone_added_from_a_session_serves_step_up(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_of_new_org("Acme").await;
    let added = app
        .as_user(&admin, Method::POST, "/api/v1/me/phone")
        .json(&json!({"phone": "+447700900456"}))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), StatusCode::ACCEPTED);
    let (to, code) = outbox_code(&app);
    assert_eq!(to, "+447700900456");
    let verified = app
        .as_user(&admin, Method::POST, "/api/v1/me/phone/verify")
        .json(&json!({"code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(verified.status(), StatusCode::NO_CONTENT);
    let me: Value =
        app.as_user(&admin, Method::GET, "/api/v1/me").send().await.unwrap().json().await.unwrap();
    assert_eq!(me["mfa"]["sms"], true);

    // Later, a step-up by SMS.
    app.clock.advance(chrono::Duration::minutes(6));
    let sent = app.as_user(&admin, Method::POST, "/api/v1/me/sms-code").send().await.unwrap();
    assert_eq!(sent.status(), StatusCode::ACCEPTED);
    let (_, code) = outbox_code(&app);
    let reauth = app
        .as_user(&admin, Method::POST, "/api/v1/auth/reauth")
        .json(&json!({"password": PASSWORD, "method": "sms", "code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(reauth.status(), StatusCode::NO_CONTENT);
    app.stop().await.unwrap();
}
on_both_backends!(a_phone_added_from_a_session_serves_step_up);

/// A code sent to the verified number cannot prove a new number: codes are bound to the
/// number they were sent to.
async fn a_code_for_the_old_number_does_not_confirm_a_new_one(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_of_new_org("Acme").await;
    let post = |path: &'static str, body: Value| {
        app.as_user(&admin, Method::POST, path).json(&body).send()
    };
    assert_eq!(
        post("/api/v1/me/phone", json!({"phone": "+447700900456"})).await.unwrap().status(),
        202
    );
    let (_, code) = outbox_code(&app);
    assert_eq!(post("/api/v1/me/phone/verify", json!({"code": code})).await.unwrap().status(), 204);

    // Start moving to a new number, then ask for a code on the old, verified one.
    assert_eq!(
        post("/api/v1/me/phone", json!({"phone": "+447700900999"})).await.unwrap().status(),
        202
    );
    let (to_new, _) = outbox_code(&app);
    assert_eq!(to_new, "+447700900999");
    assert_eq!(post("/api/v1/me/sms-code", json!({})).await.unwrap().status(), 202);
    let (to_old, old_code) = outbox_code(&app);
    assert_eq!(to_old, "+447700900456");
    let confirm = post("/api/v1/me/phone/verify", json!({"code": old_code})).await.unwrap();
    assert_eq!(confirm.status(), StatusCode::UNAUTHORIZED);
    let me: Value =
        app.as_user(&admin, Method::GET, "/api/v1/me").send().await.unwrap().json().await.unwrap();
    assert_eq!(me["mfa"]["sms"], true);
    app.stop().await.unwrap();
}
on_both_backends!(a_code_for_the_old_number_does_not_confirm_a_new_one);
