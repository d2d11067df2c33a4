//! Sessions: what ends them, what they accept, and the attacks they must resist.

use crate::support::{Backend, PASSWORD, SignedIn, TestApp, on_both_backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn code_of(response: reqwest::Response) -> (StatusCode, String) {
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (status, body["error"]["code"].as_str().unwrap_or_default().to_owned())
}

async fn me_with_token(app: &TestApp, token: &str) -> (StatusCode, String) {
    code_of(app.client.get(app.url("/api/v1/me")).bearer_auth(token).send().await.unwrap()).await
}

const ENDED: (StatusCode, &str) = (StatusCode::UNAUTHORIZED, "session_ended");

fn ended() -> (StatusCode, String) {
    (ENDED.0, ENDED.1.to_owned())
}

#[tokio::test]
async fn forged_and_expired_tokens_are_refused() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let admin = app.admin_of_new_org("Acme").await;
    assert_eq!(me_with_token(&app, &admin.token).await.0, StatusCode::OK);
    let parts: Vec<&str> = admin.token.split('.').collect();

    // alg: none, keeping the real claims, with and without the real signature.
    let none = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0";
    for forged in [format!("{none}.{}.", parts[1]), format!("{none}.{}.{}", parts[1], parts[2])] {
        assert_eq!(me_with_token(&app, &forged).await.0, StatusCode::UNAUTHORIZED);
    }
    // HS256 header over the real claims (algorithm confusion).
    let hs256 = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";
    let confused = format!("{hs256}.{}.{}", parts[1], parts[2]);
    assert_eq!(me_with_token(&app, &confused).await.0, StatusCode::UNAUTHORIZED);
    // Altered claims: one character of the payload changed.
    let mut payload = parts[1].to_owned();
    let last = payload.pop().unwrap();
    payload.push(if last == 'A' { 'B' } else { 'A' });
    let altered = format!("{}.{payload}.{}", parts[0], parts[2]);
    assert_eq!(me_with_token(&app, &altered).await.0, StatusCode::UNAUTHORIZED);

    // A token signed by another installation (another master key).
    let other = TestApp::spawn(Backend::Sqlite).await;
    let foreign = other.admin_of_new_org("Other").await;
    assert_eq!(me_with_token(&app, &foreign.token).await.0, StatusCode::UNAUTHORIZED);
    other.stop().await.unwrap();

    // Twelve hours end a session whatever happens (activity included).
    for _ in 0..24 {
        app.clock.advance(chrono::Duration::minutes(29));
        assert_eq!(me_with_token(&app, &admin.token).await.0, StatusCode::OK);
    }
    app.clock.advance(chrono::Duration::minutes(25));
    assert_eq!(me_with_token(&app, &admin.token).await.0, StatusCode::UNAUTHORIZED);
    app.stop().await.unwrap();
}

async fn idle_sessions_end_and_background_requests_do_not_keep_them_alive(backend: Backend) {
    let app =
        TestApp::spawn_with(backend, &[("PETAL_SESSION_IDLE_TIMEOUT", "3s".to_owned())]).await;
    let admin = app.admin_of_new_org("Acme").await;
    let background = |token: String| {
        let app = &app;
        async move {
            app.client
                .get(app.url("/api/v1/me"))
                .bearer_auth(token)
                .header("x-petal-background", "1")
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    // A person's request at 2 s keeps the session alive past 3 s.
    app.clock.advance(chrono::Duration::seconds(2));
    assert_eq!(me_with_token(&app, &admin.token).await.0, StatusCode::OK);
    app.clock.advance(chrono::Duration::seconds(2));
    // A background poll is answered but does not count as activity…
    assert_eq!(background(admin.token.clone()).await, StatusCode::OK);
    app.clock.advance(chrono::Duration::seconds(2));
    // …so 4 s after the last person's request the session has ended.
    assert_eq!(me_with_token(&app, &admin.token).await, ended());
    app.stop().await.unwrap();
}
on_both_backends!(idle_sessions_end_and_background_requests_do_not_keep_them_alive);

async fn cookie_sessions_need_the_csrf_token_to_change_anything(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_of_new_org("Acme").await;
    let with_cookie = |method: Method, path: &str| {
        app.client.request(method, app.url(path)).header("cookie", &admin.cookie)
    };
    // Reading with the cookie needs no CSRF token.
    assert_eq!(
        with_cookie(Method::GET, "/api/v1/me").send().await.unwrap().status(),
        StatusCode::OK
    );
    // A state-changing request without it, or with a wrong one, is refused and changes nothing.
    let missing = with_cookie(Method::POST, "/api/v1/auth/logout").send().await.unwrap();
    assert_eq!(code_of(missing).await, (StatusCode::FORBIDDEN, "csrf_token_invalid".into()));
    let wrong = with_cookie(Method::POST, "/api/v1/auth/logout")
        .header("x-csrf-token", "0".repeat(64))
        .send()
        .await
        .unwrap();
    assert_eq!(code_of(wrong).await.1, "csrf_token_invalid");
    assert_eq!(me_with_token(&app, &admin.token).await.0, StatusCode::OK);
    // With the session's token it works.
    let logout = with_cookie(Method::POST, "/api/v1/auth/logout")
        .header("x-csrf-token", &admin.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    assert!(logout.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(me_with_token(&app, &admin.token).await, ended());
    app.stop().await.unwrap();
}
on_both_backends!(cookie_sessions_need_the_csrf_token_to_change_anything);

async fn logout_role_change_deactivation_and_mfa_reset_end_sessions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_of_new_org("Acme").await;
    let admin_do = |method: Method, path: String, body: Option<Value>| {
        let request = app.as_user(&admin, method, &path);
        let request = match body {
            Some(b) => request.json(&b),
            None => request,
        };
        async move { request.send().await.unwrap().status() }
    };

    // Logout.
    let me = app.sign_in(&admin).await;
    assert_eq!(
        app.as_user(&me, Method::POST, "/api/v1/auth/logout").send().await.unwrap().status(),
        204
    );
    assert_eq!(me_with_token(&app, &me.token).await, ended());

    // Role change: the old session ends; the next one has the new role.
    let member = app.member(&admin, "mo@acme.test", "reviewer").await;
    let path = format!("/api/v1/users/{}", member.user_id);
    assert_eq!(admin_do(Method::PATCH, path.clone(), Some(json!({"role": "viewer"}))).await, 200);
    assert_eq!(me_with_token(&app, &member.token).await, ended());
    let member = app.sign_in(&member).await;
    let me: Value =
        app.as_user(&member, Method::GET, "/api/v1/me").send().await.unwrap().json().await.unwrap();
    assert_eq!(me["role"], "viewer");

    // MFA reset: sessions end and the next login must enrol again.
    let reset = format!("/api/v1/users/{}/mfa/reset", member.user_id);
    assert_eq!(admin_do(Method::POST, reset, None).await, 204);
    assert_eq!(me_with_token(&app, &member.token).await, ended());
    let login: Value = app.login(&member.email, PASSWORD).await.json().await.unwrap();
    assert_eq!(login["next"], "enroll");
    let member = app.enrol_totp(&member.email, login["mfa_token"].as_str().unwrap()).await;

    // Deactivation: sessions end and the password no longer works.
    assert_eq!(admin_do(Method::DELETE, path, None).await, 204);
    assert_eq!(me_with_token(&app, &member.token).await, ended());
    assert_eq!(app.login(&member.email, PASSWORD).await.status(), StatusCode::UNAUTHORIZED);

    let db = app.db.connect().await;
    let trail: Vec<(String, serde_json::Value)> = crate::support::with_pool!(&db, |pool| {
        sqlx::query_as("SELECT action, CAST(details AS TEXT) FROM audit_events ORDER BY seq")
            .fetch_all(pool)
            .await
            .unwrap()
            .into_iter()
            .map(|(a, d): (String, String)| (a, serde_json::from_str(&d).unwrap()))
            .collect()
    });
    db.close().await;
    let role_change = trail.iter().find(|(a, _)| a == "user.role_changed").unwrap();
    assert_eq!(role_change.1, json!({"before": "reviewer", "after": "viewer"}));
    for action in ["auth.logout", "mfa.reset", "user.deactivated"] {
        assert!(trail.iter().any(|(a, _)| a == action), "{action} not audited");
    }
    app.stop().await.unwrap();
}
on_both_backends!(logout_role_change_deactivation_and_mfa_reset_end_sessions);

async fn users_list_and_revoke_only_their_own_sessions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_of_new_org("Acme").await;
    let second = app.sign_in(&admin).await;
    let sessions: Vec<Value> = app
        .as_user(&admin, Method::GET, "/api/v1/me/sessions")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    let other =
        sessions.iter().find(|s| s["current"] == false).unwrap()["id"].as_str().unwrap().to_owned();

    // Someone else (even an Admin of the same organisation) cannot end it.
    let colleague = app.member(&admin, "rae@acme.test", "admin").await;
    let path = format!("/api/v1/me/sessions/{other}");
    let refused = app.as_user(&colleague, Method::DELETE, &path).send().await.unwrap();
    assert_eq!(code_of(refused).await.0, StatusCode::NOT_FOUND);
    assert_eq!(me_with_token(&app, &second.token).await.0, StatusCode::OK);

    assert_eq!(app.as_user(&admin, Method::DELETE, &path).send().await.unwrap().status(), 204);
    assert_eq!(me_with_token(&app, &second.token).await, ended());
    assert_eq!(me_with_token(&app, &admin.token).await.0, StatusCode::OK);
    app.stop().await.unwrap();
}
on_both_backends!(users_list_and_revoke_only_their_own_sessions);

async fn change_password(app: &TestApp, user: &SignedIn, new: &str) -> reqwest::Response {
    app.as_user(user, Method::POST, "/api/v1/me/password")
        .json(&json!({"new_password": new}))
        .send()
        .await
        .unwrap()
}

async fn a_password_change_needs_a_recent_step_up_and_ends_every_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_of_new_org("Acme").await;
    let other = app.sign_in(&admin).await;
    app.clock.advance(chrono::Duration::minutes(6));

    let stale = change_password(&app, &admin, "copper meadow tundra falcon").await;
    assert_eq!(code_of(stale).await, (StatusCode::FORBIDDEN, "reauthentication_required".into()));

    app.next_step();
    let bad_reauth = app
        .as_user(&admin, Method::POST, "/api/v1/auth/reauth")
        .json(&json!({"password": "wrong horse battery", "method": "totp",
                       "code": app.totp_code(&admin.totp_secret, 0)}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_reauth.status(), StatusCode::UNAUTHORIZED);
    let reauth = app
        .as_user(&admin, Method::POST, "/api/v1/auth/reauth")
        .json(&json!({"password": PASSWORD, "method": "totp", "code": app.totp_code(&admin.totp_secret, 0)}))
        .send()
        .await
        .unwrap();
    assert_eq!(reauth.status(), StatusCode::NO_CONTENT);

    let weak = change_password(&app, &admin, "password1234").await;
    assert_eq!(code_of(weak).await.1, "weak_password");
    assert_eq!(change_password(&app, &admin, "copper meadow tundra falcon").await.status(), 204);
    assert_eq!(me_with_token(&app, &other.token).await, ended());
    assert_eq!(me_with_token(&app, &admin.token).await, ended());
    assert_eq!(app.login(&admin.email, PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.login(&admin.email, "copper meadow tundra falcon").await.status(),
        StatusCode::OK
    );
    app.stop().await.unwrap();
}
on_both_backends!(a_password_change_needs_a_recent_step_up_and_ends_every_session);

async fn an_mfa_token_opens_nothing_but_the_mfa_routes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, invite) = app.create_org("Acme", "ada@acme.test").await;
    app.accept_invite(&invite, "Ada").await;
    let before = app.mfa_token("ada@acme.test").await;
    assert_eq!(
        me_with_token(&app, &before).await,
        (StatusCode::FORBIDDEN, "mfa_enrollment_required".into())
    );
    let admin = app.enrol_totp("ada@acme.test", &before).await;
    // The spent token opens nothing now.
    assert_eq!(me_with_token(&app, &before).await.0, StatusCode::UNAUTHORIZED);
    let pending = app.mfa_token(&admin.email).await;
    assert_eq!(
        me_with_token(&app, &pending).await,
        (StatusCode::UNAUTHORIZED, "mfa_required".into())
    );
    let users =
        app.client.get(app.url("/api/v1/users")).bearer_auth(&pending).send().await.unwrap();
    assert_eq!(code_of(users).await, (StatusCode::UNAUTHORIZED, "mfa_required".into()));
    app.stop().await.unwrap();
}
on_both_backends!(an_mfa_token_opens_nothing_but_the_mfa_routes);

#[tokio::test]
async fn regenerating_backup_codes_needs_a_step_up_and_voids_the_old_set() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let admin = app.admin_of_new_org("Acme").await;
    let regenerate = || app.as_user(&admin, Method::POST, "/api/v1/me/backup-codes").send();
    // The login counts as a step-up for five minutes.
    let fresh: Value = regenerate().await.unwrap().json().await.unwrap();
    let new_codes: Vec<String> = fresh["backup_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(new_codes.len(), 10);
    assert!(new_codes.iter().all(|c| !admin.backup_codes.contains(c)));

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
            .status()
        }
    };
    assert_eq!(with_backup(admin.backup_codes[0].clone()).await, StatusCode::UNAUTHORIZED);
    assert_eq!(with_backup(new_codes[0].clone()).await, StatusCode::OK);

    app.clock.advance(chrono::Duration::minutes(6));
    let stale = regenerate().await.unwrap();
    assert_eq!(code_of(stale).await, (StatusCode::FORBIDDEN, "reauthentication_required".into()));
    app.stop().await.unwrap();
}
