//! Audit log query benchmark: one organisation with a million events (and a second one with
//! 100 000, so isolation is part of every query), then `audit::list` under each filter the
//! API offers, timed with the query indexes of migration 0007 and again without them, in the
//! same run. Prints a markdown table.
//!
//! Run through `scripts/bench-audit-query.sh`. Optional: `PETAL_BENCH_DATABASE_URL` (a
//! PostgreSQL database to fill; default a fresh SQLite file), the number of events (default
//! 1 000 000) and of timed runs per query (default 30).

// A benchmark program, not part of the library: it may unwrap and panic on a broken setup.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use chrono::{DateTime, TimeZone, Utc};
use petal_domain::OrgName;
use petal_storage::audit::{self, AuditFilter};
use petal_storage::{Database, OrgScope, orgs};
use std::time::{Duration, Instant};
use uuid::Uuid;

const ACTIONS: [&str; 10] = [
    "auth.login_succeeded",
    "document.uploaded",
    "document.screened",
    "document.accessed",
    "document.link_issued",
    "job.created",
    "decision.recorded",
    "auth.mfa_verified",
    "session.revoked",
    "job.completed",
];
/// One event in this many is the rare action.
const RARE_EVERY: i64 = 10_000;
/// One event in this many is by the known actor.
const ACTOR_EVERY: i64 = 50;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

/// Fills `org`'s trail with `count` events in one statement (hashes are not real: this
/// measures queries, not verification).
async fn fill(db: &Database, org: Uuid, actor: Uuid, count: i64) {
    let case = ACTIONS
        .iter()
        .enumerate()
        .map(|(i, a)| format!("WHEN {i} THEN '{a}'"))
        .collect::<Vec<_>>()
        .join(" ");
    match db {
        Database::Sqlite(pool) => {
            let sql = format!(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $3) \
                 INSERT INTO audit_events (org_id, seq, id, occurred_at, actor_kind, actor_id, \
                 actor_role, ip, user_agent, request_id, action, target_kind, target_id, \
                 outcome, details, prev_hash, hash) \
                 SELECT $1, i, randomblob(16), \
                 strftime('%Y-%m-%dT%H:%M:%S+00:00', '2026-01-01', '+' || i || ' seconds'), \
                 'user', CASE WHEN i % {ACTOR_EVERY} = 0 THEN $2 ELSE randomblob(16) END, \
                 'reviewer', '192.0.2.1', 'bench', 'req', \
                 CASE WHEN i % {RARE_EVERY} = 0 THEN 'export.requested' \
                 ELSE CASE i % 10 {case} END END, \
                 'document', 'doc-' || (i % 100000), 'success', '{{}}', zeroblob(32), zeroblob(32) \
                 FROM n"
            );
            sqlx::query(&sql).bind(org).bind(actor).bind(count).execute(pool).await.unwrap();
        }
        Database::Postgres(pool) => {
            let sql = format!(
                "INSERT INTO audit_events (org_id, seq, id, occurred_at, actor_kind, actor_id, \
                 actor_role, ip, user_agent, request_id, action, target_kind, target_id, \
                 outcome, details, prev_hash, hash) \
                 SELECT $1, i, gen_random_uuid(), \
                 timestamptz '2026-01-01 00:00:00+00' + i * interval '1 second', \
                 'user', CASE WHEN i % {ACTOR_EVERY} = 0 THEN $2 ELSE gen_random_uuid() END, \
                 'reviewer', '192.0.2.1', 'bench', 'req', \
                 CASE WHEN i % {RARE_EVERY} = 0 THEN 'export.requested' \
                 ELSE CASE i % 10 {case} END END, \
                 'document', 'doc-' || (i % 100000), 'success', '{{}}'::jsonb, \
                 '\\x'::bytea, '\\x'::bytea \
                 FROM generate_series(1, $3::bigint) AS i"
            );
            sqlx::query(&sql).bind(org).bind(actor).bind(count).execute(pool).await.unwrap();
            sqlx::query("ANALYZE audit_events").execute(pool).await.unwrap();
        }
    }
}

async fn exec(db: &Database, sql: &str) {
    match db {
        Database::Sqlite(pool) => sqlx::raw_sql(sql).execute(pool).await.map(|_| ()),
        Database::Postgres(pool) => sqlx::raw_sql(sql).execute(pool).await.map(|_| ()),
    }
    .unwrap();
}

/// The median time of `runs` runs of `filter` (50 events per page), and how many it returned.
async fn time(
    db: &Database,
    scope: &OrgScope,
    filter: &AuditFilter,
    runs: usize,
) -> (Duration, usize) {
    let mut times = Vec::with_capacity(runs);
    let mut found = 0;
    for _ in 0..runs {
        let started = Instant::now();
        let mut tx = db.begin_snapshot(scope).await.unwrap();
        found = audit::list(&mut tx, filter, 51).await.unwrap().len();
        drop(tx);
        times.push(started.elapsed());
    }
    times.sort();
    (times[runs / 2], found)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let count: i64 = args.next().map_or(1_000_000, |a| a.parse().expect("number of events"));
    let runs: usize = args.next().map_or(30, |a| a.parse().expect("number of runs"));
    let dir = tempfile::tempdir().unwrap();
    let url = std::env::var("PETAL_BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}", dir.path().join("bench.db").display()));
    let db = Database::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    let backend = format!("{:?}", db.backend());

    let mut orgs_made = Vec::new();
    for name in ["Bench LLP", "Neighbour LLP"] {
        let tx = db.begin().await.unwrap();
        let scoped = orgs::create(tx, &OrgName::parse(name).unwrap(), Utc::now()).await.unwrap();
        let scope = scoped.scope().clone();
        scoped.commit().await.unwrap();
        orgs_made.push(scope);
    }
    let (scope, neighbour) = (orgs_made[0].clone(), orgs_made[1].clone());
    let actor = Uuid::new_v4();
    let started = Instant::now();
    fill(&db, scope.org_id().as_uuid(), actor, count).await;
    fill(&db, neighbour.org_id().as_uuid(), Uuid::new_v4(), count / 10).await;
    println!(
        "{backend}: {count} events for one organisation and {} for another, written in {:.1} s.",
        count / 10,
        started.elapsed().as_secs_f64()
    );

    let middle = start() + chrono::Duration::seconds(count / 2);
    let cases: Vec<(&str, AuditFilter)> = vec![
        ("newest page, no filter", AuditFilter::default()),
        (
            "a page in the middle (cursor)",
            AuditFilter { before_seq: Some(count / 2), ..Default::default() },
        ),
        (
            "rare action (1 in 10 000)",
            AuditFilter { action: Some("export.requested".into()), ..Default::default() },
        ),
        (
            "common action (1 in 10)",
            AuditFilter { action: Some("document.accessed".into()), ..Default::default() },
        ),
        ("one actor (1 in 50)", AuditFilter { actor: Some(actor), ..Default::default() }),
        (
            "one target (10 events)",
            AuditFilter { target: Some("doc-4242".into()), ..Default::default() },
        ),
        (
            "one hour in the middle",
            AuditFilter {
                from: Some(middle),
                to: Some(middle + chrono::Duration::hours(1)),
                ..Default::default()
            },
        ),
        (
            "rare action within one day",
            AuditFilter {
                action: Some("export.requested".into()),
                from: Some(middle),
                to: Some(middle + chrono::Duration::days(1)),
                ..Default::default()
            },
        ),
    ];
    let mut with = Vec::new();
    for (_, filter) in &cases {
        with.push(time(&db, &scope, filter, runs).await);
    }
    exec(
        &db,
        "DROP INDEX audit_events_org_action; DROP INDEX audit_events_org_actor; \
         DROP INDEX audit_events_org_target; DROP INDEX audit_events_org_time_seq;",
    )
    .await;
    let mut without = Vec::new();
    for (_, filter) in &cases {
        without.push(time(&db, &scope, filter, runs.min(5)).await);
    }
    println!();
    println!(
        "| query (50 per page), median | with the indexes | without (before) | events found |"
    );
    println!("|---|---|---|---|");
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    for (((name, _), (w, found)), (wo, _)) in cases.iter().zip(&with).zip(&without) {
        println!("| {name} | {:.2} ms | {:.2} ms | {found} |", ms(*w), ms(*wo));
    }
    db.close().await;
}
