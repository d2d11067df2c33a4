//! Every identity and security route × role × own or other organisation: the wrong role gets 403, another
//! organisation's id behaves exactly like an id that does not exist (404), and no credentials
//! get 401.

use crate::support::{Backend, SignedIn, TestApp, on_both_backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// An Admin-only route: method, path (with `{id}` for a user id) and body.
struct AdminRoute {
    method: Method,
    path: &'static str,
    body: Option<Value>,
    /// The Admin's success status on their own organisation's user.
    ok: u16,
}

fn admin_routes() -> Vec<AdminRoute> {
    vec![
        AdminRoute { method: Method::GET, path: "/api/v1/users", body: None, ok: 200 },
        AdminRoute { method: Method::GET, path: "/api/v1/security/alerts", body: None, ok: 200 },
        AdminRoute { method: Method::GET, path: "/api/v1/audit/verify", body: None, ok: 200 },
        AdminRoute { method: Method::POST, path: "/api/v1/audit/checkpoints", body: None, ok: 201 },
        AdminRoute {
            method: Method::POST,
            path: "/api/v1/invites",
            body: Some(json!({"email": "new@acme.test", "role": "viewer"})),
            ok: 201,
        },
        AdminRoute {
            method: Method::PATCH,
            path: "/api/v1/users/{id}",
            body: Some(json!({"role": "viewer"})),
            ok: 200,
        },
        AdminRoute {
            method: Method::POST,
            path: "/api/v1/users/{id}/mfa/reset",
            body: None,
            ok: 204,
        },
        // Last: it deactivates the target.
        AdminRoute { method: Method::DELETE, path: "/api/v1/users/{id}", body: None, ok: 204 },
    ]
}

async fn send(app: &TestApp, who: Option<&SignedIn>, route: &AdminRoute, id: &str) -> (u16, Value) {
    let path = route.path.replace("{id}", id);
    let mut request = app.client.request(route.method.clone(), app.url(&path));
    if let Some(user) = who {
        request = request.bearer_auth(&user.token);
    }
    if let Some(body) = &route.body {
        request = request.json(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn every_admin_route_checks_role_and_organisation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_of_new_org("Acme").await;
    let reviewer = app.member(&admin, "rev@acme.test", "reviewer").await;
    let viewer = app.member(&admin, "vi@acme.test", "viewer").await;
    let target = app.member(&admin, "tara@acme.test", "reviewer").await;
    let other_admin = app.admin_of_new_org("Beta").await;
    let outsider = app.member(&other_admin, "out@beta.test", "reviewer").await;
    assert_ne!(admin.org_id, other_admin.org_id);

    for route in admin_routes() {
        let what = format!("{} {}", route.method, route.path);
        assert_eq!(
            send(&app, None, &route, &target.user_id).await.0,
            401,
            "{what} without credentials"
        );
        for lesser in [&reviewer, &viewer] {
            let (status, body) = send(&app, Some(lesser), &route, &target.user_id).await;
            assert_eq!(
                (status, body["error"]["code"].as_str()),
                (403, Some("forbidden")),
                "{what}"
            );
        }
        if route.path.contains("{id}") {
            // Another organisation's user: exactly like a missing one, and untouched.
            let (status, body) = send(&app, Some(&admin), &route, &outsider.user_id).await;
            let (missing_status, missing_body) =
                send(&app, Some(&admin), &route, "00000000-0000-4000-8000-000000000000").await;
            assert_eq!(
                (status, &body),
                (404, &missing_body),
                "{what} on another organisation's id"
            );
            assert_eq!(missing_status, 404);
        }
        let (status, body) = send(&app, Some(&admin), &route, &target.user_id).await;
        assert_eq!(status, route.ok, "{what}: {body}");
    }

    // Lists never show another organisation's rows.
    let users: Vec<Value> = app
        .as_user(&admin, Method::GET, "/api/v1/users")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let emails: Vec<&str> = users.iter().map(|u| u["email"].as_str().unwrap()).collect();
    assert_eq!(emails, ["admin@acme.test", "rev@acme.test", "tara@acme.test", "vi@acme.test"]);
    // The outsider was never touched.
    let me = app.as_user(&outsider, Method::GET, "/api/v1/me").send().await.unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    let me: Value = me.json().await.unwrap();
    assert_eq!((me["role"].as_str(), me["mfa"]["totp"].as_bool()), (Some("reviewer"), Some(true)));
    app.stop().await.unwrap();
}
on_both_backends!(every_admin_route_checks_role_and_organisation);

#[tokio::test]
async fn self_service_routes_need_a_session() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    for (method, path) in [
        (Method::GET, "/api/v1/me"),
        (Method::GET, "/api/v1/me/sessions"),
        (Method::DELETE, "/api/v1/me/sessions/00000000-0000-4000-8000-000000000000"),
        (Method::POST, "/api/v1/me/password"),
        (Method::POST, "/api/v1/auth/reauth"),
        (Method::POST, "/api/v1/auth/logout"),
    ] {
        let response = app
            .client
            .request(method.clone(), app.url(path))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
    }
    app.stop().await.unwrap();
}
