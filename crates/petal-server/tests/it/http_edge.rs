//! What every response carries, and the operational endpoints.

use crate::support::{Backend, TestApp, on_both_backends};
use std::collections::HashSet;

async fn health_and_readiness(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.json::<serde_json::Value>().await.unwrap()["status"], "ok");

    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["checks"]["database"], "ok");
    assert_eq!(body["checks"]["storage"], "ok");
    app.stop().await.unwrap();
}
on_both_backends!(health_and_readiness);

#[tokio::test]
async fn readiness_fails_when_storage_is_unusable() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    // Replace the object store's folder with a plain file: writes can no longer succeed.
    let objects = app.db.data_dir.path().join("objects");
    std::fs::remove_dir_all(&objects).unwrap();
    std::fs::write(&objects, b"not a folder").unwrap();

    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["checks"]["storage"], "unavailable");
    assert_eq!(body["checks"]["database"], "ok");
    // No internal detail (paths, OS errors) in the answer.
    assert!(!body.to_string().contains("objects"), "{body}");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn every_response_carries_security_headers_and_a_fresh_request_id() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut ids = HashSet::new();
    for path in ["/healthz", "/readyz", "/metrics", "/api/openapi.json", "/no/such/route"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        let h = response.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'self'"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert!(h.contains_key("permissions-policy"), "{path}");
        assert_eq!(h["cache-control"], "no-store", "{path}");
        // HSTS only makes sense, and is only sent, over TLS.
        assert!(!h.contains_key("strict-transport-security"), "{path}");
        let id = h["x-request-id"].to_str().unwrap().to_owned();
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{path}: {id}");
        assert!(ids.insert(id), "request id reused");
    }
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_client_cannot_choose_its_request_id() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let response = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "forged-id")
        .send()
        .await
        .unwrap();
    let id = response.headers()["x-request-id"].to_str().unwrap();
    assert_ne!(id, "forged-id");
    assert!(uuid::Uuid::parse_str(id).is_ok());
    app.stop().await.unwrap();
}

async fn error_body(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    assert_eq!(response.headers()["content-type"], "application/json", "status {status}");
    let body: serde_json::Value = response.json().await.unwrap();
    let code = body["error"]["code"].as_str().unwrap().to_owned();
    assert!(!body["error"]["message"].as_str().unwrap().is_empty());
    (status, code)
}

#[tokio::test]
async fn errors_have_the_json_shape_and_the_right_status() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let c = &app.client;

    let not_found = c.get(app.url("/api/v1/nothing-here")).send().await.unwrap();
    assert_eq!(error_body(not_found).await, (404, "route_not_found".into()));

    let wrong_method = c.delete(app.url("/healthz")).send().await.unwrap();
    assert!(wrong_method.headers().contains_key("allow"));
    assert_eq!(error_body(wrong_method).await, (405, "method_not_allowed".into()));

    let too_large =
        c.post(app.url("/healthz")).body(vec![b'x'; 2 * 1024 * 1024]).send().await.unwrap();
    assert_eq!(error_body(too_large).await, (413, "payload_too_large".into()));
    app.stop().await.unwrap();
}

#[tokio::test]
async fn metrics_count_requests_by_route_template() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    for _ in 0..3 {
        app.client.get(app.url("/readyz")).send().await.unwrap();
    }
    app.client.get(app.url("/api/v1/no-such-route/secret-looking-id")).send().await.unwrap();
    for made_up in ["FOO1", "FOO2"] {
        let method = reqwest::Method::from_bytes(made_up.as_bytes()).unwrap();
        app.client.request(method, app.url("/healthz")).send().await.unwrap();
    }
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = response.text().await.unwrap();
    assert!(
        text.contains(r#"petal_http_requests_total{method="GET",route="/readyz",status="200"} 3"#),
        "{text}"
    );
    assert!(text.contains("petal_http_request_duration_seconds_bucket"), "{text}");
    // Unmatched paths are not echoed into labels.
    assert!(!text.contains("secret-looking-id"), "{text}");
    assert!(text.contains(r#"route="unmatched""#), "{text}");
    // Made-up methods share one label instead of minting new series.
    assert!(!text.contains("FOO1"), "{text}");
    assert!(
        text.contains(
            r#"petal_http_requests_total{method="OTHER",route="/healthz",status="405"} 2"#
        ),
        "{text}"
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn shutdown_ends_cleanly_and_stops_serving() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let base = app.base.clone();
    app.stop().await.unwrap();
    assert!(reqwest::get(format!("{base}/healthz")).await.is_err(), "still serving after shutdown");
}
