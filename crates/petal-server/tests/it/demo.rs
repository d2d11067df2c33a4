//! `petal demo`: the real binary seeds an empty installation through its own API, prints
//! working credentials, and on a second run seeds nothing.

use crate::support::{Backend, TestDb, on_both_backends};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running `petal demo`, the lines it has printed, and its standard error (read as it is
/// written, so a full pipe never blocks it). Killed if the test ends without stopping it.
struct Demo {
    child: Child,
    lines: mpsc::Receiver<String>,
    stderr: Option<std::thread::JoinHandle<String>>,
    base: String,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Demo {
    fn start(db: &TestDb) -> Demo {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut command = Command::new(env!("CARGO_BIN_EXE_petal"));
        for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("PETAL_")) {
            command.env_remove(key);
        }
        let mut child = command
            .envs(db.env())
            .env("PETAL_LISTEN", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "info")
            .arg("demo")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (sender, lines) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = sender.send(line);
            }
        });
        let stderr = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap());
        Demo { child, lines, stderr: Some(stderr), base: format!("http://127.0.0.1:{port}") }
    }

    /// Every line printed up to and including the first that contains `end`.
    fn read_until(&self, end: &str) -> Vec<String> {
        let mut read = Vec::new();
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(300))
                .unwrap_or_else(|_| panic!("petal demo printed no {end:?}; so far: {read:#?}"));
            let last = line.contains(end);
            read.push(line);
            if last {
                return read;
            }
        }
    }

    /// Stops the demo with SIGTERM; its standard error.
    fn stop(mut self) -> String {
        let kill =
            Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(kill.success());
        let status = self.child.wait().unwrap();
        assert!(status.success(), "exit after SIGTERM: {status}");
        self.stderr.take().unwrap().join().unwrap()
    }
}

/// The word after `label` on the line that starts with it (after indentation).
fn field<'a>(lines: &'a [String], label: &str) -> Vec<&'a str> {
    let line = lines.iter().find(|l| l.trim_start().starts_with(label)).unwrap();
    line.split_whitespace().skip(1).collect()
}

async fn demo_seeds_an_empty_installation_once(backend: Backend) {
    let db = TestDb::new(backend).await;
    let demo = Demo::start(&db);
    let printed = demo.read_until("reviewer and viewer");
    let client = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", demo.base);

    let admin = field(&printed, "admin ");
    let (email, password) = (admin[0], admin[1]);
    let codes_at = printed.iter().position(|l| l.contains("backup codes")).unwrap();
    let backup_code = printed[codes_at + 1].split_whitespace().next().unwrap();
    let key_at = printed.iter().position(|l| l.contains("time-based key")).unwrap();
    let key = printed[key_at + 1].trim();
    assert_eq!(key.len(), 32, "a 160-bit base32 key: {key}");
    assert!(
        printed.iter().any(|l| l.contains("36 fictional CVs screened") && l.contains("(0 failed)"))
    );

    let login = |email: &str, password: &str| {
        let request = client.post(url("/api/v1/auth/login"));
        let request = request.json(&json!({"email": email, "password": password}));
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };

    // The printed password and backup code sign the Admin in.
    let login_answer = login(email, password).await;
    assert_eq!(login_answer["next"], "verify", "{login_answer}");
    let verify = json!({
        "mfa_token": login_answer["mfa_token"], "method": "backup_code", "code": backup_code
    });
    let session: Value = client
        .post(url("/api/v1/auth/mfa/verify"))
        .json(&verify)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = session["access_token"].as_str().unwrap_or_else(|| panic!("{session}")).to_owned();
    let get = |path: String| {
        let request = client.get(url(&path)).bearer_auth(&token);
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200, "{path}");
            response.json::<Value>().await.unwrap()
        }
    };

    // The three people, with their roles; only the Admin has a second factor yet.
    let users = get("/api/v1/users".to_owned()).await;
    let mut roles: Vec<(String, String, bool)> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["email"].as_str().unwrap().to_owned(),
                u["role"].as_str().unwrap().to_owned(),
                u["mfa_enrolled"].as_bool().unwrap(),
            )
        })
        .collect();
    roles.sort();
    assert_eq!(
        roles,
        [
            ("admin@harbourvale.test".to_owned(), "admin".to_owned(), true),
            ("reviewer@harbourvale.test".to_owned(), "reviewer".to_owned(), false),
            ("viewer@harbourvale.test".to_owned(), "viewer".to_owned(), false),
        ]
    );
    // The Reviewer's and Viewer's printed passwords lead to authenticator enrolment.
    for role in ["reviewer", "viewer"] {
        let person = field(&printed, &format!("{role} "));
        let answer = login(person[0], person[1]).await;
        assert_eq!(answer["next"], "enroll", "{role}: {answer}");
    }

    // One job, every CV screened, ranked with a spread of recommendations and the hidden
    // instructions flagged.
    let jobs = get("/api/v1/jobs".to_owned()).await;
    let job = &jobs.as_array().unwrap()[0];
    assert_eq!(jobs.as_array().unwrap().len(), 1);
    assert_eq!(job["progress"], json!({"total": 36, "done": 36, "failed": 0}));
    let documents = get(format!("/api/v1/jobs/{}/documents", job["id"].as_str().unwrap())).await;
    let formats: std::collections::BTreeSet<&str> =
        documents.as_array().unwrap().iter().map(|d| d["format"].as_str().unwrap()).collect();
    assert_eq!(formats.into_iter().collect::<Vec<_>>(), ["docx", "odt", "pdf", "rtf", "txt"]);
    let results = get(format!("/api/v1/jobs/{}/results", job["id"].as_str().unwrap())).await;
    let results = results.as_array().unwrap();
    assert_eq!(results.len(), 36);
    let recommendations: std::collections::BTreeSet<&str> =
        results.iter().map(|r| r["recommendation"].as_str().unwrap()).collect();
    assert!(recommendations.len() >= 3, "{recommendations:?}");
    let flagged = results
        .iter()
        .filter(|r| {
            r["flags"].as_array().unwrap().iter().any(|f| f == "prompt_injection_suspected")
        })
        .count();
    assert_eq!(flagged, 2);

    // Everything was done through the API, as the audit trail shows, and the trail verifies.
    let trail = get("/api/v1/audit?limit=500".to_owned()).await;
    let count = |action: &str| {
        trail["events"].as_array().unwrap().iter().filter(|e| e["action"] == action).count()
    };
    assert_eq!(count("invite.accepted"), 3);
    assert_eq!(count("job.created"), 1);
    assert_eq!(count("document.uploaded"), 36);
    assert_eq!(count("auth.logout"), 1, "the seeding's own session is ended");
    let verified = get("/api/v1/audit/verify".to_owned()).await;
    assert_eq!(verified["ok"], true, "{verified}");
    let stderr = demo.stop();
    for secret in [password, backup_code, key] {
        assert!(!stderr.contains(secret), "a printed secret reached the logs");
    }

    // A second run finds the organisation and makes nothing.
    let again = Demo::start(&db);
    let printed = again.read_until("already has an organisation");
    assert!(printed.iter().all(|l| !l.contains("Making the demo")), "{printed:#?}");
    again.stop();
    let orgs = db.count("SELECT COUNT(*) FROM organisations").await;
    assert_eq!(orgs, 1);
}
on_both_backends!(demo_seeds_an_empty_installation_once);
