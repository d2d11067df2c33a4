//! The audit log over HTTP: paging, filters, validation, roles, organisation isolation, and
//! verification that catches a row altered in the database.

use crate::audit_chain::disable_append_only_triggers;
use crate::support::{Backend, SignedIn, TestApp, on_both_backends};
use petal_domain::Clock;
use reqwest::Method;
use serde_json::Value;

impl TestApp {
    async fn audit_page(&self, user: &SignedIn, query: &str) -> reqwest::Response {
        self.as_user(user, Method::GET, &format!("/api/v1/audit?{query}")).send().await.unwrap()
    }

    /// Every event `query` matches, following the cursors page by page.
    async fn audit_all(&self, user: &SignedIn, query: &str, limit: usize) -> Vec<Value> {
        let mut events = Vec::new();
        let mut cursor = String::new();
        loop {
            let response = self.audit_page(user, &format!("{query}&limit={limit}{cursor}")).await;
            assert_eq!(response.status(), 200);
            let page: Value = response.json().await.unwrap();
            let got = page["events"].as_array().unwrap();
            assert!(got.len() <= limit);
            events.extend(got.iter().cloned());
            match page["next_cursor"].as_str() {
                Some(next) => cursor = format!("&cursor={next}"),
                None => return events,
            }
        }
    }
}

async fn the_audit_log_is_paged_filtered_and_for_admins_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_of_new_org("Harbour").await;
    let reviewer = app.member(&admin, "rita@harbour.test", "reviewer").await;
    let job = app.create_job(&reviewer, "Associate").await;
    let stored = app.audit_actions().await.len();

    // Every event, newest first, in pages of 3 that fit together without gap or repeat.
    let all = app.audit_all(&admin, "", 3).await;
    assert_eq!(all.len(), stored, "one organisation holds every event here");
    let seqs: Vec<i64> = all.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] == w[1] + 1), "{seqs:?}");
    assert_eq!(*seqs.last().unwrap(), 1);
    let newest = &all[0];
    assert_eq!(newest["action"], "job.created");
    for field in
        ["id", "occurred_at", "actor_kind", "actor_id", "actor_role", "ip", "request_id", "outcome"]
    {
        assert!(!newest[field].is_null(), "{field} in {newest}");
    }

    // Filters.
    let created = app.audit_all(&admin, "action=job.created", 50).await;
    assert_eq!(created.len(), 1);
    assert_eq!(created[0]["target_id"], job.as_str());
    let by_reviewer = app.audit_all(&admin, &format!("actor={}", reviewer.user_id), 50).await;
    assert!(!by_reviewer.is_empty());
    assert!(by_reviewer.iter().all(|e| e["actor_id"] == reviewer.user_id.as_str()));
    let on_job = app.audit_all(&admin, &format!("target={job}"), 50).await;
    assert!(!on_job.is_empty() && on_job.iter().all(|e| e["target_id"] == job.as_str()));
    let now = app.clock.now();
    let hour = chrono::Duration::hours(1);
    let window = |from: chrono::DateTime<chrono::Utc>, to: chrono::DateTime<chrono::Utc>| {
        format!(
            "from={}&to={}",
            from.to_rfc3339().replace('+', "%2B"),
            to.to_rfc3339().replace('+', "%2B")
        )
    };
    assert_eq!(app.audit_all(&admin, &window(now - hour, now + hour), 500).await.len(), stored);
    assert!(app.audit_all(&admin, &window(now + hour, now + hour * 2), 500).await.is_empty());

    // Windows that cut the trail in the middle give exactly the events inside them; a clock
    // set back does not put an event before its predecessor.
    let step = chrono::Duration::minutes(10);
    let mut moments = Vec::new();
    for i in 0..4 {
        app.clock.advance(step);
        moments.push(app.clock.now());
        app.create_job(&reviewer, &format!("Trainee {i}")).await;
    }
    app.clock.advance(-step * 3);
    app.create_job(&reviewer, "Set back").await;
    let everything = app.audit_all(&admin, "", 500).await;
    let at =
        |e: &Value| e["occurred_at"].as_str().unwrap().parse::<chrono::DateTime<chrono::Utc>>();
    let times: Vec<_> = everything.iter().map(|e| at(e).unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "times never decrease along the chain");
    assert_eq!(times[0], moments[3], "the set-back event takes its predecessor's time");
    for (from, to) in [(1, 3), (0, 1), (2, 3), (3, 3)] {
        let got = app.audit_all(&admin, &window(moments[from], moments[to]), 2).await;
        let expected: Vec<&Value> = everything
            .iter()
            .filter(|e| (moments[from]..moments[to]).contains(&at(e).unwrap()))
            .collect();
        assert_eq!(got.iter().collect::<Vec<_>>(), expected, "window {from}..{to}");
        assert_eq!(got.is_empty(), from == to);
    }

    // Malformed queries are refused with a reason.
    for query in [
        "limit=0",
        "limit=501",
        "limit=ten",
        "cursor=abc",
        "cursor=-4",
        "from=yesterday",
        "actor=rita",
        "colour=red",
        "action=",
    ] {
        let response = app.audit_page(&admin, query).await;
        assert_eq!(response.status(), 422, "{query}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "invalid_query", "{query}");
    }

    // Admins only; another organisation's Admin sees nothing of this one.
    assert_eq!(app.audit_page(&reviewer, "").await.status(), 403);
    let anonymous = app.client.get(app.url("/api/v1/audit")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let other = app.admin_of_new_org("Quay").await;
    let theirs = app.audit_all(&other, "", 500).await;
    let ours: Vec<&Value> = all.iter().map(|e| &e["id"]).collect();
    assert!(theirs.iter().all(|e| !ours.contains(&&e["id"])));
    assert!(app.audit_all(&other, &format!("target={job}"), 50).await.is_empty());
    for path in ["/api/v1/audit/verify"] {
        let response = app.as_user(&reviewer, Method::GET, path).send().await.unwrap();
        assert_eq!(response.status(), 403, "{path}");
    }
}
on_both_backends!(the_audit_log_is_paged_filtered_and_for_admins_only);

async fn verification_over_http_catches_an_altered_row(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_of_new_org("Harbour").await;
    app.create_job(&admin, "Associate").await;
    let intact: Value = app.get_json(&admin, "/api/v1/audit/verify").await;
    assert_eq!(intact["ok"], true, "{intact}");
    let checked = intact["events_checked"].as_u64().unwrap();
    assert!(checked >= 3);
    assert_eq!(intact["first_bad_event"], Value::Null);
    assert_eq!(intact["head_hash"].as_str().unwrap().len(), 64);

    disable_append_only_triggers(&app.db).await;
    app.db
        .exec(&format!(
            "UPDATE audit_events SET outcome = 'failure' WHERE seq = 2 AND org_id = {}",
            match backend {
                Backend::Sqlite => format!("X'{}'", admin.org_id.replace('-', "")),
                Backend::Postgres => format!("'{}'", admin.org_id),
            }
        ))
        .await;
    let broken: Value = app.get_json(&admin, "/api/v1/audit/verify").await;
    assert_eq!(broken["ok"], false, "{broken}");
    assert_eq!(broken["first_bad_event"]["seq"], 2, "{broken}");
}
on_both_backends!(verification_over_http_catches_an_altered_row);

async fn the_audit_log_exports_as_json_lines_and_safe_csv(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_of_new_org("Harbour").await;
    // A user agent written to be run as a spreadsheet formula.
    let response = app
        .as_user(&admin, Method::POST, "/api/v1/jobs")
        .header("user-agent", "=HYPERLINK(\"http://evil.test\")")
        .json(&serde_json::json!({"title": "Associate", "description": "",
            "criteria": [{"text": "Fluent French", "kind": "must", "weight": 2}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let export = |query: &'static str| {
        app.as_user(&admin, Method::GET, &format!("/api/v1/audit/export?{query}")).send()
    };

    let jsonl = export("format=jsonl").await.unwrap();
    assert_eq!(jsonl.status(), 200);
    assert_eq!(jsonl.headers()["content-type"], "application/x-ndjson");
    assert!(jsonl.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    let text = jsonl.text().await.unwrap();
    let events: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let stored = app.audit_actions().await.len();
    assert_eq!(events.len(), stored, "every event, the export's own included");
    assert_eq!(events[0]["action"], "audit.exported");
    let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] == w[1] + 1));

    let csv_text = export("format=csv").await.unwrap().text().await.unwrap();
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[0], "seq");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), stored + 1, "one more export event");
    let agents: Vec<&str> = rows.iter().map(|r| &r[7]).collect();
    assert!(agents.contains(&"'=HYPERLINK(\"http://evil.test\")"), "{agents:?}");
    assert!(agents.iter().all(|a| !a.starts_with('=')));

    let filtered = export("format=jsonl&action=job.created").await.unwrap().text().await.unwrap();
    assert_eq!(filtered.lines().count(), 1);

    for query in ["format=xml", "", "format=csv&limit=5"] {
        assert_eq!(export(query).await.unwrap().status(), 422, "{query}");
    }
    let reviewer = app.member(&admin, "rita@harbour.test", "reviewer").await;
    let refused = app
        .as_user(&reviewer, Method::GET, "/api/v1/audit/export?format=csv")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let exported: Vec<_> =
        app.audit_actions().await.into_iter().filter(|(a, ..)| a == "audit.exported").collect();
    assert_eq!(exported.len(), 3, "each export is audited");
    assert!(exported.iter().all(|(_, _, d)| d.as_deref().unwrap().contains("format")));
}
on_both_backends!(the_audit_log_exports_as_json_lines_and_safe_csv);
