//! The OpenAPI document matches the routes the server serves.

use crate::support::{Backend, TestApp};
use std::collections::BTreeSet;

/// Every path named in SPEC §4, with ids filled in. A path that the server answers for must
/// be in the document; one that is not yet built must be an unmatched 404.
const SPEC_PATHS: &[(&str, &str)] = &[
    ("POST", "/api/v1/invites/accept"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/mfa/totp/setup"),
    ("POST", "/api/v1/auth/mfa/totp/activate"),
    ("POST", "/api/v1/auth/mfa/sms/setup"),
    ("POST", "/api/v1/auth/mfa/sms/activate"),
    ("POST", "/api/v1/auth/mfa/challenge"),
    ("POST", "/api/v1/auth/mfa/verify"),
    ("POST", "/api/v1/auth/reauth"),
    ("POST", "/api/v1/auth/logout"),
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/me/sessions"),
    ("DELETE", "/api/v1/me/sessions/00000000-0000-4000-8000-000000000000"),
    ("GET", "/api/v1/users"),
    ("POST", "/api/v1/invites"),
    ("PATCH", "/api/v1/users/00000000-0000-4000-8000-000000000000"),
    ("POST", "/api/v1/users/00000000-0000-4000-8000-000000000000/mfa/reset"),
    ("GET", "/api/v1/jobs"),
    ("POST", "/api/v1/jobs"),
    ("GET", "/api/v1/jobs/00000000-0000-4000-8000-000000000000"),
    ("DELETE", "/api/v1/jobs/00000000-0000-4000-8000-000000000000"),
    ("GET", "/api/v1/jobs/00000000-0000-4000-8000-000000000000/documents"),
    ("DELETE", "/api/v1/documents/00000000-0000-4000-8000-000000000000"),
    ("POST", "/api/v1/jobs/00000000-0000-4000-8000-000000000000/documents"),
    ("GET", "/api/v1/documents/00000000-0000-4000-8000-000000000000"),
    ("POST", "/api/v1/documents/00000000-0000-4000-8000-000000000000/url"),
    ("GET", "/api/v1/jobs/00000000-0000-4000-8000-000000000000/results"),
    ("POST", "/api/v1/jobs/00000000-0000-4000-8000-000000000000/rescreen"),
    ("PUT", "/api/v1/documents/00000000-0000-4000-8000-000000000000/decision"),
    ("GET", "/api/v1/audit"),
    ("GET", "/api/v1/audit/export"),
    ("GET", "/api/v1/audit/verify"),
    ("POST", "/api/v1/audit/checkpoints"),
    ("GET", "/api/v1/security/alerts"),
    ("GET", "/api/v1/org/settings"),
    ("PATCH", "/api/v1/org/settings"),
    ("POST", "/api/v1/org/export"),
    ("GET", "/api/v1/exports/00000000-0000-4000-8000-000000000000"),
    ("POST", "/api/v1/candidates/erase"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/api/openapi.json"),
];

async fn document(app: &TestApp) -> serde_json::Value {
    let response = app.client.get(app.url("/api/openapi.json")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    response.json().await.unwrap()
}

/// `(METHOD, path template)` for every operation in the document.
fn operations(doc: &serde_json::Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, _) in item.as_object().unwrap() {
            ops.insert((method.to_uppercase(), path.clone()));
        }
    }
    ops
}

/// Whether a template such as `/api/v1/jobs/{id}` matches a concrete path.
fn template_matches(template: &str, path: &str) -> bool {
    let (t, p): (Vec<_>, Vec<_>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len() && t.iter().zip(&p).all(|(t, p)| t.starts_with('{') || t == p)
}

#[tokio::test]
async fn the_document_is_openapi_3_with_a_response_for_every_operation() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let doc = document(&app).await;
    let version = doc["openapi"].as_str().unwrap();
    assert!(version.starts_with("3."), "{version}");
    assert_eq!(doc["info"]["title"], "Petal");
    assert!(doc["info"]["version"].is_string());
    for (path, item) in doc["paths"].as_object().unwrap() {
        assert!(path.starts_with('/'), "{path}");
        for (method, op) in item.as_object().unwrap() {
            assert!(
                ["get", "post", "put", "patch", "delete"].contains(&method.as_str()),
                "{method} {path}"
            );
            assert!(!op["responses"].as_object().unwrap().is_empty(), "{method} {path}");
        }
    }
    app.stop().await.unwrap();
}

#[tokio::test]
async fn the_document_lists_exactly_the_routes_served() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let documented = operations(&document(&app).await);
    assert!(!documented.is_empty());

    // Everything documented is served: answered by a route, not the 404/405 fallbacks.
    for (method, template) in &documented {
        let path = template.replace("{id}", "00000000-0000-4000-8000-000000000000");
        let request = app.client.request(method.parse().unwrap(), app.url(&path));
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let body = response.text().await.unwrap();
        let unrouted = status == 405 || (status == 404 && body.contains("\"route_not_found\""));
        assert!(!unrouted, "{method} {template} is documented but not served ({status})");
    }

    // Everything served among the SPEC's paths is documented.
    for (method, path) in SPEC_PATHS {
        let is_documented =
            documented.iter().any(|(m, t)| m == method && template_matches(t, path));
        let response =
            app.client.request(method.parse().unwrap(), app.url(path)).send().await.unwrap();
        let status = response.status().as_u16();
        let body = response.text().await.unwrap();
        let unrouted = status == 405 || (status == 404 && body.contains("\"route_not_found\""));
        assert_eq!(
            !unrouted, is_documented,
            "{method} {path}: served={} documented={is_documented}",
            !unrouted
        );
    }
    app.stop().await.unwrap();
}
