//! Every audited action of SPEC §3 that exists today, performed over HTTP, found in the audit
//! log with its actor, role, address, user agent, request id, target and outcome — and no CV
//! content, password, code, token or key in any event.

use crate::support::{Backend, PASSWORD, TestApp, on_both_backends, trainee_criteria};
use reqwest::Method;
use serde_json::{Value, json};

const CV: &str = "Orla Penhaligon\norla.penhaligon@example.test\nLLB Law, First Class Honours\n\
    Associate, Harbour LLP, Jan 2015 - Dec 2020: commercial litigation\n";
const NEW_PASSWORD: &str = "copper meadow lantern drift";
const NOTE: &str = "strong advocacy, call back";

async fn every_audited_action_is_recorded_with_who_where_and_what(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        &[("PETAL_LOGIN_DELAY_AFTER", "3".into()), ("PETAL_LOGIN_LOCK_AFTER", "3".into())],
    )
    .await;
    let admin = app.admin_of_new_org("Harbour").await;
    let reviewer = app.member(&admin, "rita@harbour.test", "reviewer").await;
    let viewer = app.member(&admin, "vic@harbour.test", "viewer").await;
    let locked = app.member(&admin, "lou@harbour.test", "viewer").await;

    // Sign-in failures, a lockout, a wrong code, a good second sign-in.
    assert_eq!(app.login(&reviewer.email, "not the password at all").await.status(), 401);
    for _ in 0..3 {
        app.login(&locked.email, "not the password at all").await;
    }
    let mfa_token = app.mfa_token(&reviewer.email).await;
    let wrong = app
        .post_json(
            "/api/v1/auth/mfa/verify",
            json!({"mfa_token": mfa_token, "method": "totp", "code": "000000"}),
        )
        .await;
    assert_eq!(wrong.status(), 401);
    let reviewer = app.sign_in(&reviewer).await;

    // A job, its documents and their screening.
    let job = app.create_job_with(&reviewer, "Associate", trainee_criteria()).await;
    let job = job["id"].as_str().unwrap().to_owned();
    let upload = app
        .upload(&reviewer, &job, &[("orla.txt", CV.as_bytes().to_vec()), ("empty.txt", Vec::new())])
        .await;
    assert_eq!(upload.status(), 201);
    let upload: Value = upload.json().await.unwrap();
    let document = upload["documents"][0]["id"].as_str().unwrap().to_owned();
    app.wait_for_job(&reviewer, &job).await;
    let criteria = json!({"criteria": [{"text": "Fluent French", "kind": "must", "weight": 2}]});
    let changed = app
        .as_user(&reviewer, Method::PUT, &format!("/api/v1/jobs/{job}/criteria"))
        .json(&criteria)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200, "{}", changed.text().await.unwrap());
    let rescreen = app
        .as_user(&reviewer, Method::POST, &format!("/api/v1/jobs/{job}/rescreen"))
        .send()
        .await
        .unwrap();
    assert_eq!(rescreen.status(), 202);
    app.wait_for_job(&reviewer, &job).await;
    let decision = app
        .as_user(&reviewer, Method::PUT, &format!("/api/v1/documents/{document}/decision"))
        .json(&json!({"decision": "advance", "note": NOTE}))
        .send()
        .await
        .unwrap();
    assert_eq!(decision.status(), 200, "{}", decision.text().await.unwrap());
    let mark = app
        .as_user(&reviewer, Method::PUT, &format!("/api/v1/documents/{document}/manual-review"))
        .json(&json!({"manual_review": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(mark.status(), 202);
    app.wait_for_job(&reviewer, &job).await;

    // Document access: a link issued and fetched; the same link refused to someone else.
    let url = app.link_url(&reviewer, &document).await;
    assert_eq!(
        app.client.get(&url).bearer_auth(&reviewer.token).send().await.unwrap().status(),
        200
    );
    assert_ne!(app.client.get(&url).bearer_auth(&admin.token).send().await.unwrap().status(), 200);

    // People and settings.
    let settings = app
        .as_user(&admin, Method::PATCH, "/api/v1/org/settings")
        .json(&json!({"blind_review": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(settings.status(), 200);
    let role = app
        .as_user(&admin, Method::PATCH, &format!("/api/v1/users/{}", viewer.user_id))
        .json(&json!({"role": "reviewer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(role.status(), 200);
    let reset = app
        .as_user(&admin, Method::POST, &format!("/api/v1/users/{}/mfa/reset", viewer.user_id))
        .send()
        .await
        .unwrap();
    assert!(reset.status().is_success());
    let deactivate = app
        .as_user(&admin, Method::DELETE, &format!("/api/v1/users/{}", viewer.user_id))
        .send()
        .await
        .unwrap();
    assert!(deactivate.status().is_success());
    let second = app.sign_in(&reviewer).await;
    let sessions: Value = app.get_json(&second, "/api/v1/me/sessions").await;
    let other = sessions.as_array().unwrap().iter().find(|s| s["current"] != true).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoke = app
        .as_user(&second, Method::DELETE, &format!("/api/v1/me/sessions/{other}"))
        .send()
        .await
        .unwrap();
    assert!(revoke.status().is_success());
    app.step_up(&second).await;
    let password = app
        .as_user(&second, Method::POST, "/api/v1/me/password")
        .json(&json!({"new_password": NEW_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(password.status(), 204);
    let brief = app.sign_in(&admin).await;
    assert!(
        app.as_user(&brief, Method::POST, "/api/v1/auth/logout")
            .send()
            .await
            .unwrap()
            .status()
            .is_success()
    );

    // Data control, and deletions.
    let export =
        app.as_user(&admin, Method::GET, "/api/v1/audit/export?format=jsonl").send().await.unwrap();
    assert_eq!(export.status(), 200);
    export.bytes().await.unwrap();
    let checkpoint =
        app.as_user(&admin, Method::POST, "/api/v1/audit/checkpoints").send().await.unwrap();
    assert_eq!(checkpoint.status(), 201);
    let erased = app
        .as_user(&admin, Method::POST, "/api/v1/candidates/erase")
        .json(&json!({"email": "nobody@example.test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(erased.status(), 200);
    let second_doc = app.upload_one(&admin, &job, "again.txt", CV.as_bytes()).await;
    app.wait_for_job(&admin, &job).await;
    let deleted = app
        .as_user(&admin, Method::DELETE, &format!("/api/v1/documents/{second_doc}"))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let gone =
        app.as_user(&admin, Method::DELETE, &format!("/api/v1/jobs/{job}")).send().await.unwrap();
    assert_eq!(gone.status(), 204);

    // Every action is in the log; those a person performed name them, their role, address,
    // user agent and request.
    let system = ["job.processing_started", "document.screened", "job.completed"];
    for action in [
        "invite.created",
        "invite.accepted",
        "mfa.enrolled",
        "auth.login_succeeded",
        "auth.login_failed",
        "auth.login_locked",
        "mfa.failed",
        "mfa.verified",
        "job.created",
        "document.uploaded",
        "document.rejected",
        "job.processing_started",
        "document.screened",
        "job.completed",
        "job.criteria_changed",
        "job.rescreened",
        "decision.recorded",
        "document.manual_review_set",
        "document.link_issued",
        "document.accessed",
        "document.link_refused",
        "settings.changed",
        "user.role_changed",
        "mfa.reset",
        "user.deactivated",
        "session.revoked",
        "password.changed",
        "auth.logout",
        "audit.exported",
        "audit.checkpoint_created",
        "candidate.erased",
        "document.deleted",
        "job.deleted",
    ] {
        let page = app.get_json(&admin, &format!("/api/v1/audit?action={action}")).await;
        let events = page["events"].as_array().unwrap();
        assert!(!events.is_empty(), "no {action} event");
        let event = &events[0];
        assert!(event["outcome"].is_string(), "{event}");
        if !system.contains(&action)
            && !action.starts_with("auth.login")
            && !action.starts_with("mfa.failed")
        {
            for field in ["actor_id", "actor_role", "ip", "user_agent", "request_id"] {
                assert!(!event[field].is_null(), "{action} has no {field}: {event}");
            }
        }
        if action.starts_with("auth.") || action.starts_with("mfa.failed") {
            for field in ["ip", "user_agent", "request_id"] {
                assert!(!event[field].is_null(), "{action} has no {field}: {event}");
            }
        }
        if action.starts_with("document.")
            || action.starts_with("job.")
            || action.starts_with("user.")
        {
            assert!(!event["target_id"].is_null(), "{action} has no target: {event}");
        }
    }

    // Nothing secret in any event.
    let all = app.get_json(&admin, "/api/v1/audit?limit=500").await.to_string();
    let secrets = [
        PASSWORD,
        NEW_PASSWORD,
        NOTE,
        "First Class Honours",
        "Penhaligon",
        &reviewer.token,
        &reviewer.csrf,
        &admin.totp_secret,
        &mfa_token,
        &url,
    ];
    for secret in secrets {
        assert!(!all.contains(secret), "{secret} is in the audit log");
    }
}
on_both_backends!(every_audited_action_is_recorded_with_who_where_and_what);
