//! Retention, with the server's clock moved by hand: jobs go `retention_days` after their last
//! activity (never with 0), audit events after `PETAL_AUDIT_RETENTION`, leaving a signed anchor
//! from which the rest of the chain still verifies; and `petal retention run` does the same.

use crate::support::{
    Backend, SignedIn, TestApp, json_stdout, on_both_backends, petal, trainee_criteria,
};
use chrono::Duration;
use petal_domain::Clock;
use petal_domain::audit::AuditContext;
use reqwest::Method;
use serde_json::{Value, json};

const CV: &str = "Orla Penhaligon\norla.penhaligon@example.test\nLLB Law, First Class Honours\n";

fn blob_count(app: &TestApp) -> usize {
    std::fs::read_dir(app.db.data_dir.path().join("objects/documents")).map_or(0, |d| d.count())
}

async fn status(app: &TestApp, user: &SignedIn, path: &str) -> u16 {
    app.as_user(user, Method::GET, path).send().await.unwrap().status().as_u16()
}

async fn verify_report(app: &TestApp, admin: &SignedIn) -> Value {
    app.get_json(admin, "/api/v1/audit/verify").await
}

async fn events(app: &TestApp, admin: &SignedIn, query: &str) -> Vec<Value> {
    let page = app.get_json(admin, &format!("/api/v1/audit?limit=500{query}")).await;
    page["events"].as_array().unwrap().clone()
}

async fn new_job(app: &TestApp, user: &SignedIn, title: &str) -> String {
    let job = app.create_job_with(user, title, trainee_criteria()).await;
    job["id"].as_str().unwrap().to_owned()
}

async fn jobs_are_purged_after_their_last_activity_unless_retention_is_never(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_of_new_org("Harbour").await;
    let old = new_job(&app, &admin, "Associate").await;
    app.upload_one(&admin, &old, "orla.txt", CV.as_bytes()).await;
    app.wait_for_job(&admin, &old).await;
    assert_eq!(blob_count(&app), 1);
    let keeper = app.admin_of_new_org("Quay").await;
    app.step_up(&keeper).await;
    let never = app
        .as_user(&keeper, Method::PATCH, "/api/v1/org/settings")
        .json(&json!({"retention_days": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(never.status(), 200);
    let kept_forever = new_job(&app, &keeper, "Paralegal").await;

    // 170 days on, a second job starts; 11 days after that, the first has been idle for 181.
    app.clock.advance(Duration::days(170));
    let admin = app.sign_in(&admin).await;
    let recent = new_job(&app, &admin, "Trainee").await;
    app.clock.advance(Duration::days(11));
    let upkeep = app.upkeep().await;
    let report = upkeep.run_retention(app.clock.now(), &AuditContext::system()).await.unwrap();
    // Both organisations were created at the same instant, so in no particular order.
    let mut purged: Vec<(usize, usize)> =
        report.iter().map(|r| (r.jobs_purged, r.documents_purged)).collect();
    purged.sort_unstable();
    assert_eq!(purged, [(0, 0), (1, 1)], "Harbour's old job with its CV; nothing at Quay");

    let admin = app.sign_in(&admin).await;
    assert_eq!(status(&app, &admin, &format!("/api/v1/jobs/{old}")).await, 404);
    assert_eq!(status(&app, &admin, &format!("/api/v1/jobs/{recent}")).await, 200);
    let keeper = app.sign_in(&keeper).await;
    assert_eq!(status(&app, &keeper, &format!("/api/v1/jobs/{kept_forever}")).await, 200);
    assert_eq!(blob_count(&app), 0, "the blob went with its job");
    assert_eq!(app.db.count("SELECT COUNT(*) FROM documents").await, 0);

    let purges = events(&app, &admin, "&action=job.purged").await;
    assert_eq!(purges.len(), 1);
    assert_eq!(purges[0]["actor_kind"], "system");
    assert_eq!(purges[0]["target_id"], old.as_str());
    assert_eq!(verify_report(&app, &admin).await["ok"], true);

    // Nothing more to do the same day; the recent job goes once it too is idle for 180 days.
    let again = upkeep.run_retention(app.clock.now(), &AuditContext::system()).await.unwrap();
    assert!(again.iter().all(|r| r.jobs_purged == 0));
    app.clock.advance(Duration::days(170));
    let later = upkeep.run_retention(app.clock.now(), &AuditContext::system()).await.unwrap();
    assert_eq!(later.iter().map(|r| r.jobs_purged).sum::<usize>(), 1, "only Harbour's");
    let admin = app.sign_in(&admin).await;
    assert_eq!(status(&app, &admin, &format!("/api/v1/jobs/{recent}")).await, 404);
}
on_both_backends!(jobs_are_purged_after_their_last_activity_unless_retention_is_never);

async fn old_audit_events_are_purged_behind_a_signed_anchor(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_of_new_org("Chancery").await;
    new_job(&app, &admin, "Associate").await;
    let checkpoint = app.as_user(&admin, Method::POST, "/api/v1/audit/checkpoints").send().await;
    assert_eq!(checkpoint.unwrap().status(), 201);
    let before = events(&app, &admin, "").await;
    let purgeable = before[0]["seq"].as_i64().unwrap();
    // Retention purges only as far as a checkpoint signed before its cutoff: the one just
    // asked for stops short of the request's own event; the scheduler's covers it.
    let upkeep = app.upkeep().await;
    assert_eq!(upkeep.checkpoint_all(app.clock.now()).await.unwrap().made, 1);

    // Seven years (the default) and a little more later.
    app.clock.advance(Duration::days(7 * 365 + 10));
    let admin = app.sign_in(&admin).await;
    let report = upkeep.run_retention(app.clock.now(), &AuditContext::system()).await.unwrap();
    assert_eq!(report[0].audit_events_purged, u64::try_from(purgeable).unwrap());

    let report = verify_report(&app, &admin).await;
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["purged_through"], purgeable);
    let remaining = events(&app, &admin, "").await;
    assert_eq!(remaining.last().unwrap()["seq"].as_i64(), Some(purgeable + 1));
    let purge = events(&app, &admin, "&action=audit.purged").await;
    assert_eq!(purge.len(), 1);
    assert_eq!(purge[0]["actor_kind"], "system");
    assert_eq!(app.db.count("SELECT COUNT(*) FROM audit_seals WHERE kind = 'anchor'").await, 1);

    // The anchor covers only what it purged: newer events stay undeletable...
    let refused = app.db.exec_err("DELETE FROM audit_events").await;
    assert!(refused.contains("append-only"), "{refused}");
    // ...and an anchor made up in the database to delete more is not signed, so it is caught.
    let forged_at = purgeable + 2;
    let forge = match backend {
        Backend::Sqlite => format!(
            "INSERT INTO audit_seals SELECT org_id, 'anchor', seq, hash, '2030-01-01T00:00:00Z', \
             zeroblob(64) FROM audit_events WHERE seq = {forged_at}"
        ),
        Backend::Postgres => format!(
            "INSERT INTO audit_seals SELECT org_id, 'anchor', seq, hash, now(), \
             decode(repeat('00', 64), 'hex') FROM audit_events WHERE seq = {forged_at}"
        ),
    };
    app.db.exec(&forge).await;
    app.db.exec(&format!("DELETE FROM audit_events WHERE seq <= {forged_at}")).await;
    let report = verify_report(&app, &admin).await;
    assert_eq!(report["ok"], false);
    assert_eq!(report["first_bad_event"]["reason"]["kind"], "seal_invalid");
}
on_both_backends!(old_audit_events_are_purged_behind_a_signed_anchor);

/// The command line applies retention at the real time: data made while the server's clock
/// stood 200 days in the past is old enough to go.
async fn the_cli_applies_retention_and_audits_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.clock.advance(Duration::days(-200));
    let admin = app.admin_of_new_org("Gray").await;
    let job = new_job(&app, &admin, "Associate").await;
    let app = app
        .restart_with(|db| {
            let out = json_stdout(&petal(db, &["retention", "run"]));
            let org = &out["organisations"][0];
            assert_eq!(org["jobs_purged"], 1, "{out}");
            assert_eq!(org["audit_events_purged"], 0, "{out}");
            assert_eq!(out["checkpoints_made"], 1, "{out}");
            assert_eq!(out["checkpoints_failed"], 0, "{out}");
            assert!(org["error"].is_null(), "{out}");
        })
        .await;
    app.clock.advance(Duration::days(200));
    let admin = app.sign_in(&admin).await;
    assert_eq!(status(&app, &admin, &format!("/api/v1/jobs/{job}")).await, 404);
    let purge = events(&app, &admin, "&action=job.purged").await;
    assert_eq!(purge[0]["actor_kind"], "cli");
    let report = verify_report(&app, &admin).await;
    assert_eq!(
        (report["ok"].as_bool(), report["checkpoints_checked"].as_i64()),
        (Some(true), Some(1))
    );
}
on_both_backends!(the_cli_applies_retention_and_audits_it);

/// Retention purges as far as the newest checkpoint signed before its cutoff, and an
/// organisation at most once a day.
async fn audit_events_go_checkpoint_by_checkpoint_at_most_daily(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_of_new_org("Lincoln").await;
    let upkeep = app.upkeep().await;
    upkeep.checkpoint_all(app.clock.now()).await.unwrap();
    let first = events(&app, &admin, "").await[0]["seq"].as_i64().unwrap();
    app.clock.advance(Duration::hours(2));
    let admin = app.sign_in(&admin).await;
    new_job(&app, &admin, "Associate").await;
    upkeep.checkpoint_all(app.clock.now()).await.unwrap();
    let second = events(&app, &admin, "").await[0]["seq"].as_i64().unwrap();
    let purge = |at| {
        let upkeep = upkeep.clone();
        async move {
            upkeep.run_retention(at, &AuditContext::system()).await.unwrap()[0].audit_events_purged
        }
    };

    // Seven years (7 × 365.25 days) after the first checkpoint and an hour: only it is old
    // enough.
    let seven_years = Duration::hours(7 * 36525 * 24 / 100);
    app.clock.advance(seven_years - Duration::hours(1));
    assert_eq!(purge(app.clock.now()).await, u64::try_from(first).unwrap());
    // Two hours on the second is old enough too, but the day is not over.
    app.clock.advance(Duration::hours(2));
    assert_eq!(purge(app.clock.now()).await, 0);
    app.clock.advance(Duration::days(1));
    let purged = purge(app.clock.now()).await;
    // Up to the second checkpoint: the sign-in and the job (not the first purge's own event,
    // which is recent).
    assert_eq!(i64::try_from(purged).unwrap(), second - first);
    let admin = app.sign_in(&admin).await;
    let report = verify_report(&app, &admin).await;
    assert_eq!(
        (report["ok"].as_bool(), report["purged_through"].as_i64()),
        (Some(true), Some(second))
    );
}
on_both_backends!(audit_events_go_checkpoint_by_checkpoint_at_most_daily);
