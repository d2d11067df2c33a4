//! The audit hash chain: appended in the action's transaction, append-only in the database,
//! and `petal audit verify` names the first altered, deleted, inserted or reordered event.

use crate::support::{Backend, TestDb, json_stdout, on_both_backends, petal, with_pool};
use petal_domain::audit::chain::{ChainEntry, ChainHash};
use petal_domain::audit::{AuditAction, AuditContext, AuditEvent, Detail, Target};
use petal_domain::{Clock, OrgId, SystemClock};
use petal_storage::{OrgScope, audit};

/// A database with one organisation whose chain holds six events: two from `org create`
/// and four appended by the system, with several detail keys (which PostgreSQL's `jsonb`
/// stores in an order of its own).
pub(crate) async fn chain_of_six(backend: Backend) -> (TestDb, OrgId) {
    let db = TestDb::new(backend).await;
    let created = json_stdout(&petal(
        &db,
        &["org", "create", "--name", "Acme", "--admin-email", "a@acme.test"],
    ));
    let org_id: OrgId = created["org_id"].as_str().unwrap().parse().unwrap();
    let conn = db.connect().await;
    let scope = OrgScope::for_operator(&conn, org_id).await.unwrap().unwrap();
    for i in 0..4 {
        let mut tx = conn.begin_scoped(&scope).await.unwrap();
        let event = AuditEvent::success(
            AuditAction::JobCreated,
            Some(Target { kind: "job", id: format!("job-{i}") }),
        )
        .detail("zeta_criteria", Detail::Number(i))
        .detail("a", Detail::Flag(i % 2 == 0))
        .detail("mid", Detail::Label(format!("label-{i}")));
        audit::append(&mut tx, SystemClock.now(), &AuditContext::system(), &event).await.unwrap();
        tx.commit().await.unwrap();
    }
    conn.close().await;
    (db, org_id)
}

/// Lets the test tamper like someone with full control of the database server.
pub(crate) async fn disable_append_only_triggers(db: &TestDb) {
    match db.backend {
        Backend::Sqlite => {
            db.exec(
                "DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete; \
                 DROP TRIGGER audit_heads_forward_only; DROP TRIGGER audit_heads_no_delete;",
            )
            .await
        }
        Backend::Postgres => {
            db.exec(
                "ALTER TABLE audit_events DISABLE TRIGGER USER; \
                 ALTER TABLE audit_heads DISABLE TRIGGER USER;",
            )
            .await
        }
    }
}

/// Runs `petal audit verify --org` and returns the first bad event (`null` when intact),
/// checking the exit status agrees.
pub(crate) fn verify(db: &TestDb, org_id: OrgId) -> serde_json::Value {
    let out = petal(db, &["audit", "verify", "--org", &org_id.to_string()]);
    let stdout: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let report = &stdout["organisations"][0]["report"];
    let stderr = String::from_utf8_lossy(&out.stderr);
    if report["ok"] == true {
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        assert!(report["first_bad_event"].is_null());
    } else {
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        let seq = report["first_bad_event"]["seq"].as_i64().unwrap();
        assert!(stderr.contains(&format!("broken at event {seq}")), "{stderr}");
    }
    report["first_bad_event"].clone()
}

async fn the_cli_exports_the_log_and_audits_the_export(backend: Backend) {
    let (db, org_id) = chain_of_six(backend).await;
    let org = org_id.to_string();
    let out = petal(&db, &["audit", "export", "--org", &org, "--format", "csv"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("seq,id,occurred_at"));
    assert_eq!(lines.len(), 1 + 7, "header, the export's own event and the six");
    assert!(lines[1].starts_with("7,") && lines[1].contains("audit.exported"));
    let jsonl = petal(&db, &["audit", "export", "--org", &org]);
    let events: Vec<serde_json::Value> = String::from_utf8(jsonl.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 8);
    assert_eq!(events[0]["actor_kind"], "cli");
    assert!(verify(&db, org_id).is_null(), "exports keep the chain intact");
    let bad = petal(&db, &["audit", "export", "--org", &org, "--format", "xml"]);
    assert!(!bad.status.success());
}
on_both_backends!(the_cli_exports_the_log_and_audits_the_export);

async fn an_intact_chain_verifies(backend: Backend) {
    let (db, org_id) = chain_of_six(backend).await;
    assert!(verify(&db, org_id).is_null());
    let out = json_stdout(&petal(&db, &["audit", "verify", "--org", &org_id.to_string()]));
    assert_eq!(out["organisations"][0]["report"]["events_checked"], 6);
}
on_both_backends!(an_intact_chain_verifies);

async fn the_database_refuses_to_change_audit_rows(backend: Backend) {
    let (db, org_id) = chain_of_six(backend).await;
    let update = db.exec_err("UPDATE audit_events SET outcome = 'failure' WHERE seq = 1").await;
    assert!(update.contains("append-only"), "{update}");
    let delete = db.exec_err("DELETE FROM audit_events WHERE seq = 1").await;
    assert!(delete.contains("append-only"), "{delete}");
    let rewind = db.exec_err("UPDATE audit_heads SET seq = seq - 1").await;
    assert!(rewind.contains("only move forward"), "{rewind}");
    let skip = db.exec_err("UPDATE audit_heads SET seq = seq + 2").await;
    assert!(skip.contains("only move forward"), "{skip}");
    let remove = db.exec_err("DELETE FROM audit_heads").await;
    assert!(remove.contains("only move forward"), "{remove}");
    if backend == Backend::Postgres {
        let truncate = db.exec_err("TRUNCATE audit_events").await;
        assert!(truncate.contains("append-only"), "{truncate}");
        let truncate = db.exec_err("TRUNCATE audit_heads").await;
        assert!(truncate.contains("only move forward"), "{truncate}");
    }
    assert!(verify(&db, org_id).is_null());
}
on_both_backends!(the_database_refuses_to_change_audit_rows);

async fn an_altered_event_is_caught(backend: Backend) {
    let (db, org_id) = chain_of_six(backend).await;
    disable_append_only_triggers(&db).await;
    db.exec("UPDATE audit_events SET outcome = 'failure' WHERE seq = 3").await;
    let bad = verify(&db, org_id);
    assert_eq!(bad["seq"], 3);
    assert_eq!(bad["reason"]["kind"], "hash_mismatch");
}
on_both_backends!(an_altered_event_is_caught);

async fn altered_details_are_caught(backend: Backend) {
    let (db, org_id) = chain_of_six(backend).await;
    disable_append_only_triggers(&db).await;
    db.exec(r#"UPDATE audit_events SET details = '{"a": true, "mid": "label-0", "zeta_criteria": 9}' WHERE seq = 3"#)
        .await;
    let bad = verify(&db, org_id);
    assert_eq!(bad["seq"], 3);
    assert_eq!(bad["reason"]["kind"], "hash_mismatch");
}
on_both_backends!(altered_details_are_caught);

async fn a_mangled_previous_hash_is_caught(backend: Backend) {
    let (db, org_id) = chain_of_six(backend).await;
    disable_append_only_triggers(&db).await;
    match backend {
        Backend::Sqlite => db.exec("UPDATE audit_events SET prev_hash = X'' WHERE seq = 1").await,
        Backend::Postgres => {
            db.exec("UPDATE audit_events SET prev_hash = ''::bytea WHERE seq = 1").await
        }
    }
    let bad = verify(&db, org_id);
    assert_eq!(bad["seq"], 1);
    assert_eq!(bad["reason"]["kind"], "previous_hash_mismatch");
}
on_both_backends!(a_mangled_previous_hash_is_caught);

/// Only SQLite can hold details that are not JSON (PostgreSQL's jsonb refuses them).
#[tokio::test]
async fn an_unreadable_row_is_reported_not_fatal() {
    let (db, org_id) = chain_of_six(Backend::Sqlite).await;
    disable_append_only_triggers(&db).await;
    db.exec("UPDATE audit_events SET details = 'not json' WHERE seq = 2").await;
    let bad = verify(&db, org_id);
    assert_eq!(bad["seq"], 2);
    assert_eq!(bad["reason"]["kind"], "unreadable_row");
}

/// An event slipped in before the start of the chain: the database refuses sequence numbers
/// below 1, and if that constraint is removed too, verification still reads the row.
async fn an_event_before_the_first_is_caught(backend: Backend) {
    let (db, org_id) = chain_of_six(backend).await;
    let copy_first = "INSERT INTO audit_events (org_id, seq, id, occurred_at, actor_kind, action, \
         outcome, details, prev_hash, hash) SELECT org_id, 0, id_for_copy, occurred_at, actor_kind, \
         action, outcome, details, prev_hash, hash FROM audit_events WHERE seq = 1";
    let (new_id, drop_check) = match backend {
        Backend::Sqlite => ("randomblob(16)", None),
        Backend::Postgres => (
            "gen_random_uuid()",
            Some("ALTER TABLE audit_events DROP CONSTRAINT audit_events_seq_check"),
        ),
    };
    let copy_first = copy_first.replace("id_for_copy", new_id);
    let refused = db.exec_err(&copy_first).await;
    assert!(refused.to_lowercase().contains("check"), "{refused}");
    if let Some(drop_check) = drop_check {
        db.exec(drop_check).await;
        db.exec(&copy_first).await;
        let bad = verify(&db, org_id);
        assert_eq!(bad["seq"], 0);
        assert_eq!(
            bad["reason"],
            serde_json::json!({"kind": "sequence_gap", "expected": 1, "found": 0})
        );
    }
}
on_both_backends!(an_event_before_the_first_is_caught);

async fn a_missing_head_is_caught(backend: Backend) {
    let (db, org_id) = chain_of_six(backend).await;
    disable_append_only_triggers(&db).await;
    db.exec("DELETE FROM audit_heads").await;
    let bad = verify(&db, org_id);
    assert_eq!(bad["reason"]["kind"], "head_missing");
}
on_both_backends!(a_missing_head_is_caught);

async fn a_deleted_event_is_caught(backend: Backend) {
    let (db, org_id) = chain_of_six(backend).await;
    disable_append_only_triggers(&db).await;
    db.exec("DELETE FROM audit_events WHERE seq = 4").await;
    let bad = verify(&db, org_id);
    assert_eq!(bad["seq"], 5);
    assert_eq!(
        bad["reason"],
        serde_json::json!({"kind": "sequence_gap", "expected": 4, "found": 5})
    );
}
on_both_backends!(a_deleted_event_is_caught);

async fn a_deleted_last_event_is_caught(backend: Backend) {
    let (db, org_id) = chain_of_six(backend).await;
    disable_append_only_triggers(&db).await;
    db.exec("DELETE FROM audit_events WHERE seq = 6").await;
    let bad = verify(&db, org_id);
    assert_eq!(
        bad["reason"],
        serde_json::json!({"kind": "head_mismatch", "head_seq": 6, "chain_end": 5})
    );
}
on_both_backends!(a_deleted_last_event_is_caught);

async fn reordered_events_are_caught(backend: Backend) {
    let (db, org_id) = chain_of_six(backend).await;
    disable_append_only_triggers(&db).await;
    db.exec(
        "UPDATE audit_events SET seq = 1000 WHERE seq = 2; \
         UPDATE audit_events SET seq = 2 WHERE seq = 3; \
         UPDATE audit_events SET seq = 3 WHERE seq = 1000;",
    )
    .await;
    let bad = verify(&db, org_id);
    assert_eq!(bad["seq"], 2);
    assert_eq!(bad["reason"]["kind"], "previous_hash_mismatch");
}
on_both_backends!(reordered_events_are_caught);

/// An attacker who knows the algorithm appends a correctly chained forged event: the recorded
/// head exposes it. (Rewriting the head as well is caught by signed checkpoints, issue 7.)
async fn an_inserted_event_is_caught(backend: Backend) {
    let (db, org_id) = chain_of_six(backend).await;
    let conn = db.connect().await;
    let forged = ChainEntry::new(
        org_id.as_uuid(),
        7,
        SystemClock.now(),
        &AuditContext::cli(),
        &AuditEvent::success(AuditAction::CandidateErased, None),
    );
    let insert = "INSERT INTO audit_events (org_id, seq, id, occurred_at, actor_kind, action, outcome, \
                  details, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
    let head_sql = "SELECT hash FROM audit_heads";
    with_pool!(&conn, |pool| {
        let head: Vec<u8> = sqlx::query_scalar(head_sql).fetch_one(pool).await.unwrap();
        let prev = ChainHash::from_slice(&head).unwrap();
        sqlx::query(insert)
            .bind(forged.org_id)
            .bind(forged.seq)
            .bind(forged.id)
            .bind(forged.occurred_at)
            .bind(&forged.actor_kind)
            .bind(&forged.action)
            .bind(&forged.outcome)
            .bind(sqlx::types::Json(&forged.details))
            .bind(head.clone())
            .bind(forged.hash_after(&prev).as_bytes().to_vec())
            .execute(pool)
            .await
            .unwrap();
    });
    conn.close().await;
    let bad = verify(&db, org_id);
    assert_eq!(
        bad["reason"],
        serde_json::json!({"kind": "head_mismatch", "head_seq": 6, "chain_end": 7})
    );
}
on_both_backends!(an_inserted_event_is_caught);

/// An event lives and dies with the action's transaction.
async fn a_rolled_back_action_leaves_no_event(backend: Backend) {
    let (db, org_id) = chain_of_six(backend).await;
    let conn = db.connect().await;
    let scope = OrgScope::for_operator(&conn, org_id).await.unwrap().unwrap();
    let mut tx = conn.begin_scoped(&scope).await.unwrap();
    let event = AuditEvent::success(AuditAction::JobDeleted, None);
    audit::append(&mut tx, SystemClock.now(), &AuditContext::system(), &event).await.unwrap();
    drop(tx);
    conn.close().await;
    assert_eq!(db.count("SELECT COUNT(*) FROM audit_events").await, 6);
    assert!(verify(&db, org_id).is_null());
}
on_both_backends!(a_rolled_back_action_leaves_no_event);

/// Concurrent appenders to one organisation queue on the chain head instead of forking it.
async fn concurrent_appends_keep_one_chain(backend: Backend) {
    let (db, org_id) = chain_of_six(backend).await;
    let conn = db.connect().await;
    let scope = OrgScope::for_operator(&conn, org_id).await.unwrap().unwrap();
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let (conn, scope) = (conn.clone(), scope.clone());
            tokio::spawn(async move {
                let mut tx = conn.begin_scoped(&scope).await.unwrap();
                let event = AuditEvent::success(
                    AuditAction::DocumentScreened,
                    Some(Target { kind: "document", id: format!("doc-{i}") }),
                );
                audit::append(&mut tx, SystemClock.now(), &AuditContext::system(), &event)
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    conn.close().await;
    assert!(verify(&db, org_id).is_null());
    assert_eq!(db.count("SELECT COUNT(*) FROM audit_events").await, 22);
}
on_both_backends!(concurrent_appends_keep_one_chain);
