//! `petal org create`: an organisation, a pending Admin invite, and both audited.

use crate::support::{Backend, TestDb, json_stdout, on_both_backends, petal, with_pool};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

async fn creates_an_org_with_an_admin_invite(backend: Backend) {
    let db = TestDb::new(backend).await;
    let out = petal(
        &db,
        &["org", "create", "--name", "  Acme LLP ", "--admin-email", "A.Admin@Acme.TEST"],
    );
    let created = json_stdout(&out);

    let org_id = uuid::Uuid::parse_str(created["org_id"].as_str().unwrap()).unwrap();
    let token = created["invite_token"].as_str().unwrap();
    assert_eq!(token.len(), 64);
    assert!(token.chars().all(|c| c.is_ascii_hexdigit()));
    let url = created["invite_url"].as_str().unwrap();
    assert_eq!(url, format!("http://127.0.0.1:8080/invite#token={token}"));
    let expires = DateTime::parse_from_rfc3339(created["expires_at"].as_str().unwrap()).unwrap();
    // The token is printed once on stdout and nowhere else.
    assert!(!String::from_utf8_lossy(&out.stderr).contains(token));

    let conn = db.connect().await;
    type Invite = (String, String, Vec<u8>, DateTime<Utc>, DateTime<Utc>);
    let (name, (invite_email, role, hash, created_at, expires_at)): (String, Invite) =
        with_pool!(&conn, |pool| {
            let name = sqlx::query_scalar("SELECT name FROM organisations WHERE id = $1")
                .bind(org_id)
                .fetch_one(pool)
                .await
                .unwrap();
            let invite = sqlx::query_as(
                "SELECT email, role, token_hash, created_at, expires_at FROM invites \
                 WHERE org_id = $1",
            )
            .bind(org_id)
            .fetch_one(pool)
            .await
            .unwrap();
            (name, invite)
        });
    conn.close().await;
    assert_eq!(name, "Acme LLP");
    assert_eq!(invite_email, "a.admin@acme.test");
    assert_eq!(role, "admin");
    // Only the hash of the token is stored.
    assert_eq!(hash, Sha256::digest(token.as_bytes()).to_vec());
    assert_eq!(expires_at - created_at, chrono::Duration::hours(72));
    assert_eq!(expires_at, expires.to_utc());

    // Two events, by the CLI, in one chain that verifies.
    let actions = db
        .count(
            "SELECT COUNT(*) FROM audit_events WHERE actor_kind = 'cli' AND outcome = 'success' \
         AND action IN ('org.created', 'invite.created')",
        )
        .await;
    assert_eq!(actions, 2);
    assert_eq!(db.count("SELECT COUNT(*) FROM audit_events").await, 2);
    let report = json_stdout(&petal(&db, &["audit", "verify"]));
    assert_eq!(report["ok"], true);
    assert_eq!(report["organisations"][0]["report"]["events_checked"], 2);
}
on_both_backends!(creates_an_org_with_an_admin_invite);

async fn bad_input_creates_nothing(backend: Backend) {
    let db = TestDb::new(backend).await;
    assert!(petal(&db, &["migrate"]).status.success());
    let cases: [(&[&str], &str); 4] = [
        (&["--name", "", "--admin-email", "a@acme.test"], "organisation name is empty"),
        (&["--name", "   ", "--admin-email", "a@acme.test"], "organisation name is empty"),
        (&["--name", "Acme", "--admin-email", "not-an-email"], "not of the form"),
        (&["--name", "Acme", "--admin-email", ""], "email address is empty"),
    ];
    for (args, message) in cases {
        let mut full = vec!["org", "create"];
        full.extend_from_slice(args);
        let out = petal(&db, &full);
        assert!(!out.status.success(), "{args:?} succeeded");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty());
    }
    for table in ["organisations", "invites", "audit_events", "audit_heads"] {
        assert_eq!(db.count(&format!("SELECT COUNT(*) FROM {table}")).await, 0, "{table}");
    }
}
on_both_backends!(bad_input_creates_nothing);
