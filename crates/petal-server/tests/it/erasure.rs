//! Erasing a candidate by email: every job's copy goes at once (rows and blobs), others stay,
//! the audit keeps no email, and only a stepped-up Admin of the organisation may do it.

use crate::support::{Backend, TestApp, on_both_backends, trainee_criteria};
use reqwest::Method;
use serde_json::{Value, json};

const ORLA: &str = "Orla Penhaligon\norla.penhaligon@example.test\nLLB Law, First Class Honours\n";
const TOBIAS: &str = "Tobias Quenby\ntobias.quenby@example.test\nBA History, 2:1\n";

fn blob_count(app: &TestApp) -> usize {
    std::fs::read_dir(app.db.data_dir.path().join("objects/documents")).map_or(0, |d| d.count())
}

async fn a_candidate_is_erased_from_every_job_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_of_new_org("Harbour").await;
    let mut jobs = Vec::new();
    for title in ["Associate", "Trainee"] {
        let job = app.create_job_with(&admin, title, trainee_criteria()).await;
        jobs.push(job["id"].as_str().unwrap().to_owned());
    }
    let orla_a = app.upload_one(&admin, &jobs[0], "orla.txt", ORLA.as_bytes()).await;
    let orla_b = app.upload_one(&admin, &jobs[1], "orla.txt", ORLA.as_bytes()).await;
    let tobias = app.upload_one(&admin, &jobs[0], "tobias.txt", TOBIAS.as_bytes()).await;
    for job in &jobs {
        app.wait_for_job(&admin, job).await;
    }
    assert_eq!(blob_count(&app), 3);
    let erase = |user: &crate::support::SignedIn, email: &str| {
        app.as_user(user, Method::POST, "/api/v1/candidates/erase")
            .json(&json!({"email": email}))
            .send()
    };

    // Only an Admin of this organisation, and not for an address that is not one.
    let reviewer = app.member(&admin, "rita@harbour.test", "reviewer").await;
    assert_eq!(erase(&reviewer, "orla.penhaligon@example.test").await.unwrap().status(), 403);
    assert_eq!(erase(&admin, "not an email").await.unwrap().status(), 422);
    let outsider = app.admin_of_new_org("Quay").await;
    let nothing: Value =
        erase(&outsider, "orla.penhaligon@example.test").await.unwrap().json().await.unwrap();
    assert_eq!(nothing, json!({"documents": [], "jobs": []}));
    assert_eq!(blob_count(&app), 3);

    // An export made before holds her CV: erasing her withdraws it.
    let export: Value = app
        .as_user(&admin, Method::POST, "/api/v1/org/export")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let export_path = format!("/api/v1/exports/{}", export["id"].as_str().unwrap());
    while app.get_json(&admin, &export_path).await["status"] == "running" {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(app.get_json(&admin, &export_path).await["status"], "ready");

    // The address in any case finds both copies.
    let response = erase(&admin, "Orla.Penhaligon@Example.test").await.unwrap();
    assert_eq!(response.status(), 200);
    let erased: Value = response.json().await.unwrap();
    let mut documents: Vec<&str> =
        erased["documents"].as_array().unwrap().iter().map(|d| d.as_str().unwrap()).collect();
    documents.sort_unstable();
    let mut expected = vec![orla_a.as_str(), orla_b.as_str()];
    expected.sort_unstable();
    assert_eq!(documents, expected);
    assert_eq!(erased["jobs"].as_array().unwrap().len(), 2);
    assert_eq!(app.get_json(&admin, &export_path).await["status"], "expired");
    let exports = app.db.data_dir.path().join("objects/exports");
    assert_eq!(std::fs::read_dir(exports).map_or(0, |d| d.count()), 0, "the ZIP is gone");
    for document in [&orla_a, &orla_b] {
        let gone = app
            .as_user(&admin, Method::GET, &format!("/api/v1/documents/{document}"))
            .send()
            .await
            .unwrap();
        assert_eq!(gone.status(), 404);
    }
    assert_eq!(blob_count(&app), 1, "the blobs went with the rows");
    let left = app.results(&admin, &jobs[0]).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["document_id"], tobias.as_str());
    assert!(app.results(&admin, &jobs[1]).await.is_empty());

    // Audited in both organisations (the attempt that found nothing too), without the address.
    let erasures: Vec<Value> = app
        .audit_actions()
        .await
        .into_iter()
        .filter(|(action, ..)| action == "candidate.erased")
        .map(|(_, outcome, details)| {
            assert_eq!(outcome, "success");
            let details = details.unwrap();
            assert!(!details.to_lowercase().contains("penhaligon"), "{details}");
            serde_json::from_str(&details).unwrap()
        })
        .collect();
    assert_eq!(erasures.len(), 2);
    assert!(erasures.contains(&json!({"documents": 2, "jobs": 2})), "{erasures:?}");

    // A step-up older than five minutes is not enough.
    app.clock.advance(chrono::Duration::minutes(6));
    assert_eq!(erase(&admin, "tobias.quenby@example.test").await.unwrap().status(), 403);
    app.step_up(&admin).await;
    let erased: Value =
        erase(&admin, "tobias.quenby@example.test").await.unwrap().json().await.unwrap();
    assert_eq!(erased["documents"], json!([tobias]));
    assert_eq!(blob_count(&app), 0);
}
on_both_backends!(a_candidate_is_erased_from_every_job_at_once);
