//! Invites, passwords, second factors and sessions, over HTTP, on both databases.

use crate::support::{
    Backend, PASSWORD, TestApp, json_stdout, on_both_backends, petal_beside, with_pool,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn status_code(response: reqwest::Response) -> (StatusCode, String) {
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (status, body["error"]["code"].as_str().unwrap_or_default().to_owned())
}

/// `(action, outcome, actor_kind, has ip, has user agent, has request id)` of every audit event,
/// in chain order.
async fn audit_trail(app: &TestApp) -> Vec<(String, String, String, bool, bool, bool)> {
    let db = app.db.connect().await;
    type Row = (String, String, String, Option<String>, Option<String>, Option<String>);
    let rows: Vec<Row> = with_pool!(&db, |pool| {
        sqlx::query_as(
            "SELECT action, outcome, actor_kind, ip, user_agent, request_id FROM audit_events \
                 ORDER BY org_id, seq",
        )
        .fetch_all(pool)
        .await
        .unwrap()
    });
    db.close().await;
    rows.into_iter()
        .map(|(a, o, k, ip, ua, rid)| (a, o, k, ip.is_some(), ua.is_some(), rid.is_some()))
        .collect()
}

async fn first_login_flow(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (org_id, token) = app.create_org("Acme LLP", "ada@acme.test").await;
    let user_id = app.accept_invite(&token, "Ada Admin").await;

    let login = app.login("ada@acme.test", PASSWORD).await;
    assert_eq!(login.status(), 200);
    let login: Value = login.json().await.unwrap();
    assert_eq!(login["next"], "enroll");
    // No passkey under an IP address (passkeys.rs shows it offered under a domain name).
    assert_eq!(login["methods"], json!(["totp", "sms"]));
    let mfa_token = login["mfa_token"].as_str().unwrap();

    let setup: Value = app
        .post_json("/api/v1/auth/mfa/totp/setup", json!({"mfa_token": mfa_token}))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        setup["otpauth_uri"].as_str().unwrap().starts_with("otpauth://totp/Petal:ada%40acme.test")
    );
    assert!(setup["qr_svg"].as_str().unwrap().contains("<svg"));
    let code = app.totp_code(setup["secret"].as_str().unwrap(), 0);
    let activated = app
        .post_json("/api/v1/auth/mfa/totp/activate", json!({"mfa_token": mfa_token, "code": code}))
        .await;
    assert_eq!(activated.status(), 200);
    let cookie = activated.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("petal_session="), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let session: Value = activated.json().await.unwrap();
    assert_eq!(session["token_type"], "Bearer");
    assert_eq!(session["expires_in"], 12 * 3600);
    assert!(session["csrf_token"].as_str().unwrap().len() >= 32);
    let codes = session["backup_codes"].as_array().unwrap();
    assert_eq!(codes.len(), 10);

    let me: Value = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth(session["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["id"], user_id.as_str());
    assert_eq!(me["org_id"], org_id.as_str());
    assert_eq!(me["role"], "admin");
    assert_eq!(
        me["mfa"],
        json!({"totp": true, "sms": false, "passkey": false, "backup_codes_left": 10})
    );

    let trail = audit_trail(&app).await;
    let actions: Vec<&str> = trail.iter().map(|t| t.0.as_str()).collect();
    assert_eq!(
        actions,
        [
            "org.created",
            "invite.created",
            "invite.accepted",
            "mfa.enrolled",
            "auth.login_succeeded"
        ]
    );
    for (action, outcome, actor, ip, ua, rid) in &trail[2..] {
        assert_eq!((outcome.as_str(), actor.as_str()), ("success", "user"), "{action}");
        assert!(*ip && *ua && *rid, "{action} lacks ip, user agent or request id");
    }
    let report = json_stdout(&petal_beside(&app.db, &["audit", "verify"]).await);
    assert_eq!(report["ok"], true);
    app.stop().await.unwrap();
}
on_both_backends!(first_login_flow);

async fn login_with_totp_and_backup_codes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_of_new_org("Acme").await;

    let again = app.sign_in(&admin).await;
    assert_ne!(again.token, admin.token);

    let with_backup = |code: String| {
        let app = &app;
        let email = admin.email.clone();
        async move {
            let mfa_token = app.mfa_token(&email).await;
            app.post_json(
                "/api/v1/auth/mfa/verify",
                json!({"mfa_token": mfa_token, "method": "backup_code", "code": code}),
            )
            .await
        }
    };
    let code = admin.backup_codes[0].clone();
    assert_eq!(with_backup(code.to_uppercase().replace('-', " ")).await.status(), 200);
    // A backup code works once.
    assert_eq!(
        status_code(with_backup(code).await).await,
        (StatusCode::UNAUTHORIZED, "invalid_code".into())
    );
    let me: Value =
        app.as_user(&again, Method::GET, "/api/v1/me").send().await.unwrap().json().await.unwrap();
    assert_eq!(me["mfa"]["backup_codes_left"], 9);

    let trail = audit_trail(&app).await;
    assert!(trail.iter().any(|t| t.0 == "mfa.verified"));
    assert!(trail.iter().any(|t| t.0 == "mfa.failed" && t.1 == "failure"));
    app.stop().await.unwrap();
}
on_both_backends!(login_with_totp_and_backup_codes);

async fn an_invite_works_once_within_72_hours_and_a_weak_password_changes_nothing(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let (_, token) = app.create_org("Acme", "ada@acme.test").await;
    let accept = |password: &'static str, token: String| {
        let app = &app;
        async move {
            app.post_json(
                "/api/v1/invites/accept",
                json!({"token": token, "name": "Ada", "password": password}),
            )
            .await
        }
    };
    for weak in ["short", "password1234", "acmeacmeacme"] {
        let (status, code) = status_code(accept(weak, token.clone()).await).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, "weak_password"),
            "{weak}"
        );
    }
    assert_eq!(app.db.count("SELECT COUNT(*) FROM users").await, 0);
    assert_eq!(accept(PASSWORD, token.clone()).await.status(), 201);
    let reused = status_code(accept(PASSWORD, token.clone()).await).await;
    assert_eq!(reused, (StatusCode::BAD_REQUEST, "invalid_invite".into()));
    let unknown = status_code(accept(PASSWORD, "0".repeat(64)).await).await;
    assert_eq!(unknown, (StatusCode::BAD_REQUEST, "invalid_invite".into()));
    assert_eq!(app.db.count("SELECT COUNT(*) FROM users").await, 1);

    let (_, late) = app.create_org("Beta", "bo@beta.test").await;
    app.clock.advance(chrono::Duration::hours(72) + chrono::Duration::seconds(1));
    let expired = status_code(accept(PASSWORD, late).await).await;
    assert_eq!(expired, (StatusCode::GONE, "invite_expired".into()));
    assert_eq!(app.db.count("SELECT COUNT(*) FROM users").await, 1);
    app.stop().await.unwrap();
}
on_both_backends!(an_invite_works_once_within_72_hours_and_a_weak_password_changes_nothing);

async fn totp_codes_work_once_and_only_for_the_current_or_previous_step(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_of_new_org("Acme").await;
    let verify = |code: String| {
        let app = &app;
        let email = admin.email.clone();
        async move {
            let mfa_token = app.mfa_token(&email).await;
            app.post_json(
                "/api/v1/auth/mfa/verify",
                json!({"mfa_token": mfa_token, "method": "totp", "code": code}),
            )
            .await
        }
    };
    // The code used at enrolment (same step) is spent.
    let replay = verify(app.totp_code(&admin.totp_secret, 0)).await;
    assert_eq!(status_code(replay).await, (StatusCode::UNAUTHORIZED, "invalid_code".into()));

    app.next_step();
    app.next_step();
    app.next_step();
    let two_old = verify(app.totp_code(&admin.totp_secret, 2)).await;
    assert_eq!(status_code(two_old).await, (StatusCode::UNAUTHORIZED, "invalid_code".into()));
    let previous = verify(app.totp_code(&admin.totp_secret, 1)).await;
    assert_eq!(previous.status(), 200);
    // Once a step is accepted, its predecessor is refused too.
    let older_than_last = verify(app.totp_code(&admin.totp_secret, 2)).await;
    assert_eq!(older_than_last.status(), StatusCode::UNAUTHORIZED);
    let current = verify(app.totp_code(&admin.totp_secret, 0)).await;
    assert_eq!(current.status(), 200);
    let replayed = verify(app.totp_code(&admin.totp_secret, 0)).await;
    assert_eq!(replayed.status(), StatusCode::UNAUTHORIZED);
    app.stop().await.unwrap();
}
on_both_backends!(totp_codes_work_once_and_only_for_the_current_or_previous_step);

async fn five_wrong_codes_void_the_pending_login(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_of_new_org("Acme").await;
    let mfa_token = app.mfa_token(&admin.email).await;
    for _ in 0..5 {
        let wrong = app
            .post_json(
                "/api/v1/auth/mfa/verify",
                json!({"mfa_token": mfa_token, "method": "totp", "code": "000000"}),
            )
            .await;
        assert_eq!(status_code(wrong).await.1, "invalid_code");
    }
    app.next_step();
    let right = app
        .post_json(
            "/api/v1/auth/mfa/verify",
            json!({"mfa_token": mfa_token, "method": "totp", "code": app.totp_code(&admin.totp_secret, 0)}),
        )
        .await;
    assert_eq!(status_code(right).await, (StatusCode::UNAUTHORIZED, "invalid_mfa_token".into()));
    app.stop().await.unwrap();
}
on_both_backends!(five_wrong_codes_void_the_pending_login);

#[tokio::test]
async fn login_does_not_reveal_whether_an_account_exists() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let admin = app.admin_of_new_org("Acme").await;
    let mut unknown_times = Vec::new();
    let mut wrong_times = Vec::new();
    for i in 0..5 {
        let started = std::time::Instant::now();
        let unknown = app.login(&format!("nobody{i}@acme.test"), PASSWORD).await;
        unknown_times.push(started.elapsed());
        let (s1, b1) = (unknown.status(), unknown.text().await.unwrap());

        let started = std::time::Instant::now();
        let wrong = app.login(&admin.email, "wrong horse battery staple").await;
        wrong_times.push(started.elapsed());
        let (s2, b2) = (wrong.status(), wrong.text().await.unwrap());

        assert_eq!((s1, &b1), (s2, &b2), "status or body differ");
        assert_eq!(s1, StatusCode::UNAUTHORIZED);
    }
    // Same timing class: both answers pay for one Argon2id verification, so their medians are
    // of the same order (a missing dummy verification would make unknown emails ~100x faster).
    unknown_times.sort();
    wrong_times.sort();
    let (unknown, wrong) = (unknown_times[2].as_secs_f64(), wrong_times[2].as_secs_f64());
    assert!(
        unknown > wrong / 4.0 && wrong > unknown / 4.0,
        "unknown {unknown:.4}s vs wrong {wrong:.4}s"
    );
    app.stop().await.unwrap();
}

async fn ten_wrong_passwords_lock_the_account_for_15_minutes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_of_new_org("Acme").await;
    for _ in 0..10 {
        assert_eq!(app.login(&admin.email, "wrong horse battery staple").await.status(), 401);
        // Past any delay, so every attempt counts.
        app.clock.advance(chrono::Duration::seconds(20));
    }
    // Locked: even the right password is refused, with the same answer; and attempts while
    // locked neither count nor shorten the lock.
    for _ in 0..6 {
        assert_eq!(app.login(&admin.email, "wrong horse battery staple").await.status(), 401);
    }
    app.clock.advance(chrono::Duration::minutes(14));
    let (status, code) = status_code(app.login(&admin.email, PASSWORD).await).await;
    assert_eq!((status, code.as_str()), (StatusCode::UNAUTHORIZED, "invalid_credentials"));
    let trail = audit_trail(&app).await;
    assert_eq!(trail.iter().filter(|t| t.0 == "auth.login_locked").count(), 1);
    assert!(trail.iter().any(|t| t.0 == "auth.login_failed" && t.1 == "failure"));

    assert_eq!(app.login(&admin.email, PASSWORD).await.status(), 401, "lock cut short");
    app.clock.advance(chrono::Duration::minutes(1) + chrono::Duration::seconds(1));
    assert_eq!(app.login(&admin.email, PASSWORD).await.status(), 200);
    app.stop().await.unwrap();
}
on_both_backends!(ten_wrong_passwords_lock_the_account_for_15_minutes);

async fn wrong_second_factor_codes_lock_the_account_too(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_of_new_org("Acme").await;
    // Knowing the password gives five guesses per login, and the guesses add up.
    for _ in 0..2 {
        app.clock.advance(chrono::Duration::seconds(20));
        let mfa_token = app.mfa_token(&admin.email).await;
        for _ in 0..5 {
            let wrong = app
                .post_json(
                    "/api/v1/auth/mfa/verify",
                    json!({"mfa_token": mfa_token, "method": "totp", "code": "000000"}),
                )
                .await;
            assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        }
    }
    app.clock.advance(chrono::Duration::seconds(20));
    assert_eq!(app.login(&admin.email, PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    let trail = audit_trail(&app).await;
    assert_eq!(trail.iter().filter(|t| t.0 == "auth.login_locked").count(), 1);
    app.stop().await.unwrap();
}
on_both_backends!(wrong_second_factor_codes_lock_the_account_too);

#[tokio::test]
async fn a_password_alone_cannot_enrol_a_second_factor_over_an_existing_one() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let admin = app.admin_of_new_org("Acme").await;
    // An attacker with the password gets an mfa_token, and tries to enrol their own factor.
    let mfa_token = app.mfa_token(&admin.email).await;
    for (path, body) in [
        ("/api/v1/auth/mfa/totp/setup", json!({"mfa_token": mfa_token})),
        ("/api/v1/auth/mfa/totp/activate", json!({"mfa_token": mfa_token, "code": "123456"})),
        ("/api/v1/auth/mfa/sms/setup", json!({"mfa_token": mfa_token, "phone": "+447700900999"})),
        ("/api/v1/auth/mfa/sms/activate", json!({"mfa_token": mfa_token, "code": "123456"})),
    ] {
        let (status, code) = status_code(app.post_json(path, body).await).await;
        assert_eq!((status, code.as_str()), (StatusCode::CONFLICT, "already_enrolled"), "{path}");
    }
    // The victim's backup codes still work.
    let mfa_token = app.mfa_token(&admin.email).await;
    let backup = app
        .post_json(
            "/api/v1/auth/mfa/verify",
            json!({"mfa_token": mfa_token, "method": "backup_code", "code": admin.backup_codes[0]}),
        )
        .await;
    assert_eq!(backup.status(), 200);
    app.stop().await.unwrap();
}

/// Two sign-ins racing to spend the same backup code: exactly one wins.
async fn a_code_cannot_be_spent_twice_concurrently(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_of_new_org("Acme").await;
    let first = app.mfa_token(&admin.email).await;
    let second = app.mfa_token(&admin.email).await;
    let code = admin.backup_codes[0].clone();
    let spend = |mfa_token: String| {
        let app = &app;
        let code = code.clone();
        async move {
            app.post_json(
                "/api/v1/auth/mfa/verify",
                json!({"mfa_token": mfa_token, "method": "backup_code", "code": code}),
            )
            .await
            .status()
        }
    };
    let (a, b) = tokio::join!(spend(first), spend(second));
    let mut outcomes = [a.as_u16(), b.as_u16()];
    outcomes.sort();
    assert_eq!(outcomes, [200, 401]);
    app.stop().await.unwrap();
}
on_both_backends!(a_code_cannot_be_spent_twice_concurrently);
