//! Signed checkpoints: made on demand (CLI and API) and by the server, kept in the database and
//! the object store, and checked by verification, so that rewriting the database alone, even
//! consistently, or truncating the chain, or forging a checkpoint, is caught.

use crate::audit_chain::{chain_of_six, disable_append_only_triggers, verify};
use crate::support::{Backend, TestApp, TestDb, json_stdout, on_both_backends, petal, with_pool};
use petal_domain::audit::chain::ChainHash;
use petal_domain::{Clock, OrgId};
use petal_storage::audit::{self, AuditFilter};
use petal_storage::{Database, OrgScope};
use reqwest::Method;
use std::path::PathBuf;

/// The folder of an organisation's checkpoint copies in the (file) object store.
fn checkpoint_dir(db: &TestDb, org_id: OrgId) -> PathBuf {
    db.data_dir.path().join(format!("objects/audit/{org_id}/checkpoints"))
}

fn checkpoint(db: &TestDb, org_id: OrgId) -> serde_json::Value {
    json_stdout(&petal(db, &["audit", "checkpoint", "--org", &org_id.to_string()]))
}

/// Rewrites the chain the way someone with full control of the database could: `edit` (SQL)
/// changes events, and every hash and the head are recomputed, so the chain is consistent
/// again.
async fn rewrite_consistently(db: &TestDb, org_id: OrgId, edit: &str) {
    disable_append_only_triggers(db).await;
    db.exec(edit).await;
    let conn = db.connect().await;
    let scope = OrgScope::for_operator(&conn, org_id).await.unwrap().unwrap();
    let mut tx = conn.begin_scoped(&scope).await.unwrap();
    let mut records = audit::list(&mut tx, &AuditFilter::default(), 500).await.unwrap();
    drop(tx);
    records.reverse();
    let mut prev = ChainHash::GENESIS;
    for r in records {
        let seq = r.seq;
        let entry = r.into_entry(org_id.as_uuid()).unwrap();
        let hash = entry.hash_after(&prev);
        set_hashes(&conn, seq, prev, hash).await;
        prev = hash;
    }
    with_pool!(&conn, |pool| sqlx::query("UPDATE audit_heads SET hash = $1")
        .bind(prev.as_bytes().as_slice())
        .execute(pool)
        .await
        .map(|_| ()))
    .unwrap();
    conn.close().await;
}

async fn set_hashes(conn: &Database, seq: i64, prev: ChainHash, hash: ChainHash) {
    with_pool!(conn, |pool| sqlx::query(
        "UPDATE audit_events SET prev_hash = $1, hash = $2 WHERE seq = $3"
    )
    .bind(prev.as_bytes().as_slice())
    .bind(hash.as_bytes().as_slice())
    .bind(seq)
    .execute(pool)
    .await
    .map(|_| ()))
    .unwrap();
}

async fn disable_seal_triggers(db: &TestDb) {
    match db.backend {
        Backend::Sqlite => {
            db.exec("DROP TRIGGER audit_seals_no_update; DROP TRIGGER audit_seals_no_delete;").await
        }
        Backend::Postgres => db.exec("ALTER TABLE audit_seals DISABLE TRIGGER USER").await,
    }
}

async fn a_consistent_database_rewrite_is_caught_by_the_checkpoints(backend: Backend) {
    let (db, org_id) = chain_of_six(backend).await;
    let seal = checkpoint(&db, org_id);
    assert_eq!((seal["kind"].as_str(), seal["seq"].as_i64()), (Some("checkpoint"), Some(6)));
    assert_eq!(seal["signature"].as_str().unwrap().len(), 128);
    assert!(checkpoint_dir(&db, org_id).join("00000000000000000006.json").exists());
    assert_eq!(db.count("SELECT COUNT(*) FROM audit_seals").await, 1);
    assert!(verify(&db, org_id).is_null());

    rewrite_consistently(&db, org_id, "UPDATE audit_events SET outcome = 'failure' WHERE seq = 3")
        .await;
    let bad = verify(&db, org_id);
    assert_eq!(
        (bad["seq"].as_i64(), bad["reason"]["kind"].as_str()),
        (Some(6), Some("checkpoint_mismatch"))
    );

    // Deleting the database's copy of the checkpoint does not help: the store's copy is read.
    disable_seal_triggers(&db).await;
    db.exec("DELETE FROM audit_seals").await;
    let bad = verify(&db, org_id);
    assert_eq!(bad["reason"]["kind"], "checkpoint_mismatch");

    // Only with the store's copy gone too does the rewrite verify: the checkpoints, and
    // nothing else, caught it.
    std::fs::remove_dir_all(checkpoint_dir(&db, org_id)).unwrap();
    assert!(verify(&db, org_id).is_null());
}
on_both_backends!(a_consistent_database_rewrite_is_caught_by_the_checkpoints);

async fn removing_the_newest_events_is_caught_by_a_checkpoint(backend: Backend) {
    let (db, org_id) = chain_of_six(backend).await;
    checkpoint(&db, org_id);
    disable_append_only_triggers(&db).await;
    db.exec("DELETE FROM audit_events WHERE seq > 4").await;
    let conn = db.connect().await;
    let hash: Vec<u8> =
        with_pool!(&conn, |pool| sqlx::query_scalar("SELECT hash FROM audit_events WHERE seq = 4")
            .fetch_one(pool)
            .await)
        .unwrap();
    with_pool!(&conn, |pool| sqlx::query("UPDATE audit_heads SET seq = 4, hash = $1")
        .bind(hash)
        .execute(pool)
        .await
        .map(|_| ()))
    .unwrap();
    conn.close().await;
    let bad = verify(&db, org_id);
    assert_eq!(
        (bad["seq"].as_i64(), bad["reason"]["kind"].as_str()),
        (Some(6), Some("checkpoint_beyond_end"))
    );
}
on_both_backends!(removing_the_newest_events_is_caught_by_a_checkpoint);

async fn a_forged_or_altered_checkpoint_is_caught(backend: Backend) {
    let (db, org_id) = chain_of_six(backend).await;
    checkpoint(&db, org_id);
    let file = checkpoint_dir(&db, org_id).join("00000000000000000006.json");
    let original = std::fs::read_to_string(&file).unwrap();

    // A copy in the store that differs from the database's.
    let mut document: serde_json::Value = serde_json::from_str(&original).unwrap();
    document["signed_at"] = "2020-01-01T00:00:00.000000Z".into();
    std::fs::write(&file, document.to_string()).unwrap();
    let bad = verify(&db, org_id);
    assert_eq!(
        (bad["seq"].as_i64(), bad["reason"]["kind"].as_str()),
        (Some(6), Some("seal_invalid"))
    );

    // Unreadable junk in the store.
    std::fs::write(&file, "not a checkpoint").unwrap();
    assert_eq!(verify(&db, org_id)["reason"]["kind"], "seal_invalid");
    std::fs::write(&file, &original).unwrap();
    assert!(verify(&db, org_id).is_null());

    // A checkpoint made up in the database (both copies agree, but nobody signed it).
    disable_seal_triggers(&db).await;
    std::fs::remove_file(&file).unwrap();
    db.exec("UPDATE audit_seals SET signed_at = '2020-01-01T00:00:00Z'").await;
    assert_eq!(verify(&db, org_id)["reason"]["kind"], "seal_invalid");
}
on_both_backends!(a_forged_or_altered_checkpoint_is_caught);

async fn the_database_refuses_to_change_seals(backend: Backend) {
    let (db, org_id) = chain_of_six(backend).await;
    checkpoint(&db, org_id);
    let update = db.exec_err("UPDATE audit_seals SET seq = 5").await;
    assert!(update.contains("append-only"), "{update}");
    let delete = db.exec_err("DELETE FROM audit_seals").await;
    assert!(delete.contains("append-only"), "{delete}");
    // Without an anchor, no event may be deleted either.
    let purge = db.exec_err("DELETE FROM audit_events WHERE seq = 1").await;
    assert!(purge.contains("append-only"), "{purge}");
}
on_both_backends!(the_database_refuses_to_change_seals);

async fn admins_request_checkpoints_over_http_and_verify_checks_them(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_of_new_org("Chancery").await;
    let reviewer = app.member(&admin, "rhea@chancery.test", "reviewer").await;
    let post = |user| app.as_user(user, Method::POST, "/api/v1/audit/checkpoints").send();
    assert_eq!(post(&reviewer).await.unwrap().status(), 403);
    let anonymous = app.client.post(app.url("/api/v1/audit/checkpoints")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);

    let response = post(&admin).await.unwrap();
    assert_eq!(response.status(), 201);
    let seal: serde_json::Value = response.json().await.unwrap();
    let seq = seal["seq"].as_i64().unwrap();
    let org_id: OrgId = seal["org_id"].as_str().unwrap().parse().unwrap();
    assert!(checkpoint_dir(&app.db, org_id).join(format!("{seq:020}.json")).exists());

    // The request is audited after the checkpoint it made.
    let events: serde_json::Value = app
        .as_user(&admin, Method::GET, "/api/v1/audit?action=audit.checkpoint_created")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let event = &events["events"][0];
    assert_eq!(event["seq"].as_i64(), Some(seq + 1));
    assert_eq!(event["actor_role"], "admin");

    // Asking again checkpoints the head, which is now the first request's own event.
    let again: serde_json::Value = post(&admin).await.unwrap().json().await.unwrap();
    assert_eq!(again["seq"].as_i64(), Some(seq + 1));

    let report: serde_json::Value = app
        .as_user(&admin, Method::GET, "/api/v1/audit/verify")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["checkpoints_checked"], 2);
    assert_eq!(report["purged_through"], 0);
}
on_both_backends!(admins_request_checkpoints_over_http_and_verify_checks_them);

async fn the_server_checkpoints_every_organisation_that_moved(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.admin_of_new_org("Temple").await;
    let upkeep = app.upkeep().await;
    assert_eq!(upkeep.checkpoint_all(app.clock.now()).await.unwrap().made, 1);
    assert_eq!(upkeep.checkpoint_all(app.clock.now()).await.unwrap().made, 0, "nothing moved");
    app.admin_of_new_org("Inn").await;
    assert_eq!(upkeep.checkpoint_all(app.clock.now()).await.unwrap().made, 1, "only the new one");
    assert_eq!(app.db.count("SELECT COUNT(*) FROM audit_seals").await, 2);
}
on_both_backends!(the_server_checkpoints_every_organisation_that_moved);

/// Backdating every event in the database does not make retention purge them: it stops at
/// checkpoints signed before its cutoff, and there are none that old.
async fn a_backdated_trail_is_not_purged(backend: Backend) {
    let (db, org_id) = chain_of_six(backend).await;
    checkpoint(&db, org_id);
    rewrite_consistently(
        &db,
        org_id,
        "UPDATE audit_events SET occurred_at = '1970-01-01T00:00:00Z'",
    )
    .await;
    let out = petal(&db, &["retention", "run"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["organisations"][0]["audit_events_purged"], 0, "{report}");
    assert_eq!(db.count("SELECT COUNT(*) FROM audit_events").await, 7);
    assert_eq!(verify(&db, org_id)["reason"]["kind"], "checkpoint_mismatch");
}
on_both_backends!(a_backdated_trail_is_not_purged);

/// Two processes sealing the same event at once, each at its own time: the second finds the
/// first one's copy in the object store (it had not read the database row yet) and adopts it,
/// so the two copies agree and the genuine one is never overwritten.
async fn a_second_seal_of_the_same_event_adopts_the_first(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.admin_of_new_org("Temple").await;
    let upkeep = app.upkeep().await;
    let conn = app.db.connect().await;
    let org_id = petal_storage::orgs::list_ids(&conn).await.unwrap()[0];
    let scope = OrgScope::for_operator(&conn, org_id).await.unwrap().unwrap();
    conn.close().await;
    let now = app.clock.now();
    let seal = |at| {
        petal_server::audit_seals::checkpoint(
            &upkeep.db,
            &upkeep.objects,
            &upkeep.sealer,
            &scope,
            at,
            None,
        )
    };
    let first = seal(now).await.unwrap().unwrap();
    // As if the second process had read the database before the first wrote to it.
    disable_seal_triggers(&app.db).await;
    app.db.exec("DELETE FROM audit_seals").await;
    let second = seal(now + chrono::Duration::seconds(5)).await.unwrap().unwrap();
    assert_eq!(second, first, "the store's copy was adopted");
    let stored = std::fs::read(
        checkpoint_dir(&app.db, org_id).join(format!("{:020}.json", first.statement.seq)),
    )
    .unwrap();
    let stored: serde_json::Value = serde_json::from_slice(&stored).unwrap();
    assert_eq!(stored["signature"], hex::encode(&first.signature));
    let report =
        petal_server::audit_seals::verify(&upkeep.db, &upkeep.objects, &upkeep.sealer, &scope)
            .await
            .unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.checkpoints_checked, 1);
}
on_both_backends!(a_second_seal_of_the_same_event_adopts_the_first);
