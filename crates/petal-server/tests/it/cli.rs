//! The `petal` command line: help, start-up refusals, and shutdown on SIGTERM.

use crate::support::{Backend, TestDb, petal, petal_with_env};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};

#[test]
fn every_command_has_help() {
    let top = petal_with_env(&HashMap::new(), &["--help"]);
    assert!(top.status.success());
    let text = String::from_utf8_lossy(&top.stdout);
    for word in ["serve", "migrate", "org", "audit", "PETAL_DATA_DIR", "PETAL_MASTER_KEY_FILE"] {
        assert!(text.contains(word), "{word} missing from --help:\n{text}");
    }
    for args in [
        &["serve", "--help"][..],
        &["migrate", "--help"],
        &["org", "create", "--help"],
        &["audit", "verify", "--help"],
        &["audit", "export", "--help"],
    ] {
        let out = petal_with_env(&HashMap::new(), args);
        assert!(out.status.success(), "{args:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Usage: petal"), "{args:?}: {text}");
    }
}

#[tokio::test]
async fn audit_verify_never_creates_a_database_or_a_key() {
    let db = TestDb::new(Backend::Sqlite).await;
    let out = petal(&db, &["audit", "verify"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!db.data_dir.path().join("petal.db").exists());
    assert!(!db.data_dir.path().join("master.key").exists());
}

fn serve_refusal(env: HashMap<String, String>) -> String {
    let out = petal_with_env(&env, &["serve"]);
    assert_eq!(out.status.code(), Some(2), "serve should refuse to start");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test]
async fn serve_refuses_a_malformed_or_exposed_master_key() {
    let db = TestDb::new(Backend::Sqlite).await;
    let key = db.data_dir.path().join("given.key");
    let mut env = db.env();
    env.insert("PETAL_MASTER_KEY_FILE".into(), key.display().to_string());

    let missing = serve_refusal(env.clone());
    assert!(missing.contains("given.key"), "{missing}");

    std::fs::write(&key, "not hex at all").unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let malformed = serve_refusal(env.clone());
    assert!(malformed.contains("malformed"), "{malformed}");

    std::fs::write(&key, "ab".repeat(32)).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o640)).unwrap();
    let exposed = serve_refusal(env.clone());
    assert!(exposed.contains("accessible by other users"), "{exposed}");
    assert!(!exposed.contains(&"ab".repeat(32)), "key material in an error: {exposed}");
}

#[tokio::test]
async fn a_bad_setting_is_named_at_start_up() {
    let db = TestDb::new(Backend::Sqlite).await;
    let mut env = db.env();
    env.insert("PETAL_LISTEN".into(), "everywhere".into());
    let message = serve_refusal(env);
    assert!(message.contains("PETAL_LISTEN"), "{message}");
}

#[tokio::test]
async fn migrate_is_idempotent() {
    let db = TestDb::new(Backend::Sqlite).await;
    assert!(petal(&db, &["migrate"]).status.success());
    let again = petal(&db, &["migrate"]);
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
}

#[tokio::test]
async fn serve_logs_json_and_stops_cleanly_on_sigterm() {
    let db = TestDb::new(Backend::Sqlite).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_petal"))
        .envs(db.env())
        .env("PETAL_LISTEN", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "info")
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut up = false;
    for _ in 0..500 {
        if reqwest::get(format!("http://127.0.0.1:{port}/healthz"))
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(up, "petal serve did not come up");
    let kill = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "exit after SIGTERM: {status}");

    let lines: Vec<String> =
        BufReader::new(child.stderr.take().unwrap()).lines().map(Result::unwrap).collect();
    assert!(!lines.is_empty());
    for line in &lines {
        let parsed: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        assert!(parsed["level"].is_string());
    }
    let all = lines.join("\n");
    assert!(all.contains("generated a new master key"), "{all}");
    assert!(all.contains("shutting down"), "{all}");
    let key = std::fs::read_to_string(db.data_dir.path().join("master.key")).unwrap();
    assert!(!all.contains(key.trim()), "master key logged");

    // Nothing in the data directory is open to other users.
    for (name, mode) in [("master.key", 0o600), ("petal.db", 0o600), ("objects", 0o700)] {
        let meta = std::fs::metadata(db.data_dir.path().join(name)).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, mode, "{name}");
    }
}
