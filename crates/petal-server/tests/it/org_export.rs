//! Exporting all of an organisation's data: a stepped-up Admin asks, a background build
//! writes an encrypted ZIP to the object store, and a signed link for that Admin alone
//! streams it back with every document byte-identical. Requests and downloads are audited.

use crate::support::{Backend, SignedIn, TestApp, on_both_backends, trainee_criteria};
use chrono::Duration;
use petal_domain::Clock;
use petal_domain::audit::AuditContext;
use reqwest::Method;
use serde_json::{Value, json};
use std::io::Read;

const ORLA: &str = "Orla Penhaligon\norla.penhaligon@example.test\nLLB Law, First Class Honours\n";
const TOBIAS: &str = "Tobias Quenby\ntobias.quenby@example.test\nBA History, 2:1\n";
const NOTE: &str = "strong advocacy, call back";

async fn request_export(app: &TestApp, admin: &SignedIn) -> reqwest::Response {
    app.as_user(admin, Method::POST, "/api/v1/org/export").send().await.unwrap()
}

/// Follows an export until it is no longer running.
async fn wait_until_done(app: &TestApp, admin: &SignedIn, id: &str) -> Value {
    for _ in 0..600 {
        let export = app.get_json(admin, &format!("/api/v1/exports/{id}")).await;
        if export["status"] != "running" {
            return export;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("export {id} did not finish");
}

fn read_zip(bytes: Vec<u8>) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).unwrap();
            let mut content = Vec::new();
            file.read_to_end(&mut content).unwrap();
            (file.name().unwrap().into_owned(), content)
        })
        .collect()
}

async fn an_admin_exports_everything_as_an_encrypted_zip(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_of_new_org("Harbour").await;
    let job = app.create_job_with(&admin, "Associate", trainee_criteria()).await;
    let job = job["id"].as_str().unwrap().to_owned();
    let orla = app.upload_one(&admin, &job, "orla.txt", ORLA.as_bytes()).await;
    let tobias = app.upload_one(&admin, &job, "tobias.txt", TOBIAS.as_bytes()).await;
    // Over three envelope segments (64 KiB each), so the ZIP streams through several.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let long: String = (0..8000)
        .map(|i| {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            format!("Matter {i}: reference {state:016x}\n")
        })
        .collect();
    let long_doc = app.upload_one(&admin, &job, "long.txt", long.as_bytes()).await;
    app.wait_for_job(&admin, &job).await;
    let decided = app
        .as_user(&admin, Method::PUT, &format!("/api/v1/documents/{orla}/decision"))
        .json(&json!({"decision": "advance", "note": NOTE}))
        .send()
        .await
        .unwrap();
    assert_eq!(decided.status(), 200);

    // Admins only, and only after a recent step-up.
    let reviewer = app.member(&admin, "rita@harbour.test", "reviewer").await;
    assert_eq!(request_export(&app, &reviewer).await.status(), 403);
    app.clock.advance(Duration::minutes(6));
    let stale = request_export(&app, &admin).await;
    assert_eq!(stale.status(), 403);
    assert_eq!(stale.json::<Value>().await.unwrap()["error"]["code"], "reauthentication_required");
    app.step_up(&admin).await;
    let response = request_export(&app, &admin).await;
    assert_eq!(response.status(), 202);
    let started: Value = response.json().await.unwrap();
    let id = started["id"].as_str().unwrap().to_owned();

    let export = wait_until_done(&app, &admin, &id).await;
    assert_eq!(export["status"], "ready", "{export}");
    assert_eq!(
        (export["documents_done"].as_i64(), export["documents_total"].as_i64()),
        (Some(3), Some(3))
    );
    let url = export["download"]["url"].as_str().unwrap().to_owned();
    let link = url.strip_prefix(&app.base).unwrap().to_owned();

    // At rest it is sealed: no ZIP signature, no CV text.
    let sealed_path = app.db.data_dir.path().join(format!("objects/exports/{id}.zip.sealed"));
    let stored = std::fs::read(&sealed_path).unwrap();
    assert!(stored.starts_with(b"PETALDOC"));
    assert!(stored.len() > 65536, "{} bytes: not over one sealed segment", stored.len());
    assert!(!stored.windows(10).any(|w| w == b"Penhaligon"));

    // Another organisation's Admin sees nothing of it.
    let outsider = app.admin_of_new_org("Quay").await;
    let hidden = app.as_user(&outsider, Method::GET, &format!("/api/v1/exports/{id}")).send();
    assert_eq!(hidden.await.unwrap().status(), 404);

    // The link alone opens nothing; with the Admin's session it streams the ZIP.
    assert_eq!(app.client.get(&url).send().await.unwrap().status(), 401);
    let download = app.as_user(&admin, Method::GET, &link).send().await.unwrap();
    assert_eq!(download.status(), 200);
    assert_eq!(download.headers()["content-type"], "application/zip");
    assert_eq!(download.headers()["cache-control"], "no-store");
    let files = read_zip(download.bytes().await.unwrap().to_vec());
    assert_eq!(files[&format!("jobs/{job}/files/{orla}.txt")], ORLA.as_bytes());
    assert_eq!(files[&format!("jobs/{job}/files/{tobias}.txt")], TOBIAS.as_bytes());
    assert_eq!(files[&format!("jobs/{job}/files/{long_doc}.txt")], long.as_bytes());
    let results: Value =
        serde_json::from_slice(&files[&format!("jobs/{job}/results.json")]).unwrap();
    let orla_result =
        results.as_array().unwrap().iter().find(|r| r["document_id"] == orla.as_str());
    let orla_result = orla_result.unwrap();
    assert_eq!(orla_result["decision"]["note"], NOTE);
    assert_eq!(orla_result["candidate"]["email"], "orla.penhaligon@example.test");
    assert_eq!(orla_result["criteria"].as_array().unwrap().len(), 4);
    let job_file: Value = serde_json::from_slice(&files[&format!("jobs/{job}/job.json")]).unwrap();
    assert_eq!(job_file["criteria"].as_array().unwrap().len(), 4);
    let documents: Value =
        serde_json::from_slice(&files[&format!("jobs/{job}/documents.json")]).unwrap();
    assert!(documents.to_string().contains("orla.txt"));
    let users: Value = serde_json::from_slice(&files["users.json"]).unwrap();
    assert_eq!(users.as_array().unwrap().len(), 2);
    let org: Value = serde_json::from_slice(&files["organisation.json"]).unwrap();
    assert_eq!(org["settings"]["retention_days"], 180);
    let audit = String::from_utf8(files["audit.jsonl"].clone()).unwrap();
    assert!(audit.lines().all(|l| serde_json::from_str::<Value>(l).is_ok()));
    assert!(audit.contains("\"export.requested\"") && audit.contains("\"decision.recorded\""));

    // An altered link, or one past its lifetime, is refused and the refusal audited.
    let altered = link.replace("&s=", "&s=00");
    let refused = app.as_user(&admin, Method::GET, &altered).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    app.clock.advance(Duration::minutes(16));
    let admin = app.sign_in(&admin).await;
    let expired = app.as_user(&admin, Method::GET, &link).send().await.unwrap();
    assert_eq!(expired.status(), 403);

    let page = app.get_json(&admin, "/api/v1/audit?action=export.downloaded").await;
    let outcomes: Vec<(&str, &str)> = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["outcome"].as_str().unwrap(), e["details"]["reason"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(outcomes, [("failure", "expired"), ("failure", "altered"), ("success", "")]);
    for action in ["export.requested", "export.downloaded"] {
        let page = app.get_json(&admin, &format!("/api/v1/audit?action={action}")).await;
        let event = &page["events"][0];
        for field in ["actor_id", "actor_role", "ip", "user_agent", "request_id", "target_id"] {
            assert!(!event[field].is_null(), "{action} has no {field}: {event}");
        }
        assert_eq!(event["target_id"], id.as_str());
    }

    // A day on, retention deletes the ZIP and destroys its key.
    app.clock.advance(Duration::hours(24));
    let upkeep = app.upkeep().await;
    let report = upkeep.run_retention(app.clock.now(), &AuditContext::system()).await.unwrap();
    assert_eq!(report.iter().map(|r| r.exports_expired).sum::<usize>(), 1);
    assert!(!sealed_path.exists());
    assert_eq!(app.db.count("SELECT COUNT(*) FROM exports WHERE length(wrapped_key) > 0").await, 0);
    let admin = app.sign_in(&admin).await;
    let export = app.get_json(&admin, &format!("/api/v1/exports/{id}")).await;
    assert_eq!((export["status"].as_str(), export["download"].is_null()), (Some("expired"), true));
}
on_both_backends!(an_admin_exports_everything_as_an_encrypted_zip);
