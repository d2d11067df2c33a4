//! The web UI over HTTP: pages render under the strict CSP with no inline script, style or
//! handler; pages need a session (else to `/login`); what users typed is escaped; the assets
//! are served. (The browser flows themselves are driven in headless Chromium.)

use crate::support::{Backend, TestApp, on_both_backends};
use reqwest::Method;
use reqwest::redirect::Policy;

/// Asserts a page is HTML that runs nothing inline: every script is a file, no element
/// carries a `style` attribute or an event-handler attribute.
fn assert_strict_html(html: &str) {
    for (i, _) in html.match_indices("<script") {
        assert!(html[i..].starts_with("<script src=\"/static/"), "inline script: {}", &html[i..]);
    }
    assert!(!html.contains(" style="), "inline style");
    let lower = html.to_lowercase();
    for handler in [" onclick=", " onload=", " onerror=", " onsubmit=", "javascript:"] {
        assert!(!lower.contains(handler), "{handler} in the page");
    }
}

/// Asserts a page refused with `status` as an HTML page (not the API's JSON) saying `says`.
async fn assert_refused_page(response: reqwest::Response, status: u16, says: &str) {
    assert_eq!(response.status(), status);
    assert_eq!(response.headers()["content-type"], "text/html; charset=utf-8");
    let html = response.text().await.unwrap();
    assert_strict_html(&html);
    assert!(html.contains(says), "{says} in {html}");
}

async fn pages_render_strictly_and_need_a_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let browser = reqwest::Client::builder().redirect(Policy::none()).build().unwrap();

    let login = app.client.get(app.url("/login")).send().await.unwrap();
    assert_eq!(login.status(), 200);
    assert_eq!(login.headers()["content-type"], "text/html; charset=utf-8");
    let csp = login.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    let html = login.text().await.unwrap();
    assert!(html.contains("<form id=\"password-step\">"));
    assert!(html.contains("<label for=\"email\">Email</label>"));
    assert!(!html.contains("Your session ended"));
    assert_strict_html(&html);
    let invite = app.client.get(app.url("/invite")).send().await.unwrap().text().await.unwrap();
    assert!(invite.contains("<form id=\"accept-step\">"));
    assert_strict_html(&invite);
    let expired = app.client.get(app.url("/login?expired=1")).send().await.unwrap();
    assert!(expired.text().await.unwrap().contains("Your session ended"));

    for path in ["/", "/jobs"] {
        let response = browser.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 303, "{path}");
        assert_eq!(response.headers()["location"], "/login", "{path}");
    }

    for (path, kind) in [("/static/petal.js", "text/javascript"), ("/static/petal.css", "text/css")]
    {
        let asset = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(asset.status(), 200, "{path}");
        assert!(asset.headers()["content-type"].to_str().unwrap().starts_with(kind), "{path}");
    }
}
on_both_backends!(pages_render_strictly_and_need_a_session);

async fn the_jobs_page_lists_jobs_escaped(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_of_new_org("Harbour").await;
    let viewer = app.member(&admin, "vic@harbour.test", "viewer").await;
    let empty = app.as_user(&viewer, Method::GET, "/jobs").send().await.unwrap();
    let empty = empty.text().await.unwrap();
    assert!(empty.contains("No jobs yet."), "{empty}");
    assert!(!empty.contains("A Reviewer or Admin creates one"), "a Viewer is not offered it");

    let title = "<script>alert(1)</script> & \"Partners\"";
    let created = app
        .as_user(&admin, Method::POST, "/api/v1/jobs")
        .json(&serde_json::json!({"title": title, "description": "", "criteria": [
            {"text": "2:1 degree or above", "kind": "must", "weight": 3}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let page = app.as_user(&admin, Method::GET, "/jobs").send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("&#60;script&#62;alert(1)&#60;/script&#62; &#38; &#34;Partners&#34;"),
        "{html}"
    );
    assert!(!html.contains("<script>alert"));
    assert!(html.contains("Ada Admin") && html.contains("admin"));
    assert_strict_html(&html);
    let as_viewer = app.as_user(&viewer, Method::GET, "/jobs").send().await.unwrap();
    assert!(as_viewer.text().await.unwrap().contains("&#60;script&#62;alert(1)"));
}
on_both_backends!(the_jobs_page_lists_jobs_escaped);

async fn the_job_page_shows_criteria_and_ranking_and_offers_upload_to_those_who_may(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_of_new_org("Harbour").await;
    let viewer = app.member(&admin, "vic@harbour.test", "viewer").await;
    let job =
        app.create_job_with(&admin, "Associate <b>", crate::support::trainee_criteria()).await;
    let job = job["id"].as_str().unwrap().to_owned();
    let document =
        app.upload_one(&admin, &job, "orla.txt", b"Orla <i>Penhaligon</i>\nLLB Law, 2:1\n").await;
    app.wait_for_job(&admin, &job).await;
    let path = format!("/jobs/{job}");
    let html = app.as_user(&admin, Method::GET, &path).send().await.unwrap().text().await.unwrap();
    assert_strict_html(&html);
    assert!(html.contains("<h1>Associate &#60;b&#62;</h1>"), "{html}");
    assert!(html.contains("2:1 degree or above") && html.contains("knockout"));
    assert!(html.contains("<form id=\"upload\""));
    assert!(html.contains("<table id=\"results\">"));
    assert!(!html.contains("<i>Penhaligon"), "candidate text is escaped");
    // The pictures: the one candidate in its score's band, and each criterion's coverage.
    assert!(html.contains("<svg id=\"score-chart\""), "{html}");
    let results = app.results(&admin, &job).await;
    let score = results[0]["score"].as_u64().unwrap();
    let low = score.min(99) / 10 * 10;
    let band = if low == 90 { "90–100: 1".to_owned() } else { format!("{low}–{}: 1", low + 9) };
    assert!(html.contains(&band), "{band} in {html}");
    assert!(html.contains("aria-label=\"2:1 degree or above: 1 met\""), "{html}");
    assert!(html.contains("<form id=\"bulk\"") && html.contains("class=\"pick\""));
    let as_viewer =
        app.as_user(&viewer, Method::GET, &path).send().await.unwrap().text().await.unwrap();
    assert!(!as_viewer.contains("<form id=\"upload\""), "a Viewer is not offered uploads");
    assert!(!as_viewer.contains("id=\"bulk\"") && !as_viewer.contains("class=\"pick\""));
    assert!(as_viewer.contains("<table id=\"results\">") && as_viewer.contains("score-chart"));
    let outsider = app.admin_of_new_org("Quay").await;
    let hidden = app.as_user(&outsider, Method::GET, &path).send().await.unwrap();
    assert_refused_page(hidden, 404, "<h1>Not found</h1>").await;
    let malformed = app.as_user(&admin, Method::GET, "/jobs/not-a-job").send().await.unwrap();
    assert_refused_page(malformed, 404, "<h1>Not found</h1>").await;

    // The candidate: verdicts with their quoted evidence; the original and the decision only
    // for those who may (and the API refuses a Viewer who forces it).
    let candidate = format!("/documents/{document}");
    assert!(html.contains(&format!("href=\"{candidate}\"")));
    let page =
        app.as_user(&admin, Method::GET, &candidate).send().await.unwrap().text().await.unwrap();
    assert_strict_html(&page);
    assert!(page.contains("<mark>LLB Law, 2:1</mark>"), "{page}");
    assert!(page.contains("2:1 degree or above</strong> — met"), "{page}");
    assert!(page.contains("id=\"open-original\"") && page.contains("<form id=\"decide\">"));
    let as_viewer =
        app.as_user(&viewer, Method::GET, &candidate).send().await.unwrap().text().await.unwrap();
    assert!(as_viewer.contains("<mark>LLB Law, 2:1</mark>"));
    assert!(!as_viewer.contains("open-original") && !as_viewer.contains("id=\"decide\""));
    let forced = app
        .as_user(&viewer, Method::POST, &format!("/api/v1/documents/{document}/url"))
        .send()
        .await
        .unwrap();
    assert_eq!(forced.status(), 403);
    let elsewhere = app.as_user(&outsider, Method::GET, &candidate).send().await.unwrap();
    assert_refused_page(elsewhere, 404, "<h1>Not found</h1>").await;

    // The CV's text with the evidence marked where it stands: for those who may open CVs,
    // audited as an access; refused to a Viewer, unknown to another organisation.
    assert!(page.contains("id=\"cv-text-link\"") && !as_viewer.contains("cv-text-link"));
    let text_path = format!("/documents/{document}/text");
    let text =
        app.as_user(&admin, Method::GET, &text_path).send().await.unwrap().text().await.unwrap();
    assert_strict_html(&text);
    assert!(text.contains("<mark title=\"2:1 degree or above"), "{text}");
    assert!(text.contains("\">LLB Law, 2:1</mark>"), "{text}");
    assert!(text.contains("Orla &#60;i&#62;Penhaligon&#60;/i&#62;"), "escaped: {text}");
    let accesses = app.audit_actions().await.into_iter().filter(|(action, _, details)| {
        action == "document.accessed" && details.as_deref().is_some_and(|d| d.contains("text"))
    });
    assert_eq!(accesses.count(), 1);
    let refused = app.as_user(&viewer, Method::GET, &text_path).send().await.unwrap();
    assert_refused_page(refused, 403, "Not for your role").await;
    let elsewhere = app.as_user(&outsider, Method::GET, &text_path).send().await.unwrap();
    assert_refused_page(elsewhere, 404, "<h1>Not found</h1>").await;
}
on_both_backends!(the_job_page_shows_criteria_and_ranking_and_offers_upload_to_those_who_may);

async fn the_new_job_form_is_for_those_who_may_create_jobs(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_of_new_org("Harbour").await;
    let viewer = app.member(&admin, "vic@harbour.test", "viewer").await;
    let form = app.as_user(&admin, Method::GET, "/jobs/new").send().await.unwrap();
    assert_eq!(form.status(), 200);
    let form = form.text().await.unwrap();
    assert_strict_html(&form);
    assert!(
        form.contains("<form id=\"new-job\">") && form.contains("<template id=\"criterion-row\">")
    );
    let dashboard = |user| app.as_user(user, Method::GET, "/jobs").send();
    assert!(dashboard(&admin).await.unwrap().text().await.unwrap().contains("href=\"/jobs/new\""));
    assert!(!dashboard(&viewer).await.unwrap().text().await.unwrap().contains("/jobs/new"));
    let refused = app.as_user(&viewer, Method::GET, "/jobs/new").send().await.unwrap();
    assert_refused_page(refused, 403, "<h1>Not for your role</h1>").await;
}
on_both_backends!(the_new_job_form_is_for_those_who_may_create_jobs);

async fn the_audit_log_page_is_for_admins_and_filters_like_the_api(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_of_new_org("Harbour").await;
    let reviewer = app.member(&admin, "rita@harbour.test", "reviewer").await;
    app.create_job(&reviewer, "Associate").await;
    let page = |user, query: &str| app.as_user(user, Method::GET, &format!("/audit{query}")).send();
    let html = page(&admin, "").await.unwrap().text().await.unwrap();
    assert_strict_html(&html);
    assert!(html.contains("<table id=\"events\">") && html.contains("job.created"));
    assert!(html.contains("href=\"/api/v1/audit/export?format=csv\""));
    let created = page(&admin, "?action=job.created&actor=&target=&from=&to=")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(created.contains("job.created") && !created.contains("invite.created"), "{created}");
    assert!(created.contains("format=jsonl&#38;action=job.created"), "{created}");
    let bad = page(&admin, "?from=yesterday").await.unwrap().text().await.unwrap();
    assert!(bad.contains("Check the filters"), "{bad}");
    assert!(!page(&reviewer, "").await.unwrap().status().is_success());
    let dashboard = |user| app.as_user(user, Method::GET, "/jobs").send();
    assert!(dashboard(&admin).await.unwrap().text().await.unwrap().contains("href=\"/audit\""));
    assert!(!dashboard(&reviewer).await.unwrap().text().await.unwrap().contains("href=\"/audit\""));
}
on_both_backends!(the_audit_log_page_is_for_admins_and_filters_like_the_api);

async fn the_organisation_page_is_for_admins(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_of_new_org("Harbour").await;
    let reviewer = app.member(&admin, "rita@harbour.test", "reviewer").await;
    let page = |user| app.as_user(user, Method::GET, "/settings").send();
    let html = page(&admin).await.unwrap().text().await.unwrap();
    assert_strict_html(&html);
    assert!(html.contains("value=\"180\"") && html.contains("<option value=\"local\" selected>"));
    assert!(!html.contains("value=\"anthropic\""), "an engine the server lacks is not offered");
    assert!(html.contains("<form id=\"erase\"") && html.contains("id=\"export\""));
    assert_eq!(page(&reviewer).await.unwrap().status(), 403);
}
on_both_backends!(the_organisation_page_is_for_admins);

async fn the_team_page_is_for_admins(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_of_new_org("Harbour").await;
    let reviewer = app.member(&admin, "rita@harbour.test", "reviewer").await;
    let page = |user| app.as_user(user, Method::GET, "/team").send();
    let html = page(&admin).await.unwrap().text().await.unwrap();
    assert_strict_html(&html);
    assert!(html.contains("rita@harbour.test") && html.contains("admin@harbour.test"));
    // Actions for the others, none for the Admin's own row.
    assert_eq!(html.matches("class=\"link deactivate\"").count(), 1);
    assert!(html.contains(&format!("data-user=\"{}\"", reviewer.user_id)));
    assert_refused_page(page(&reviewer).await.unwrap(), 403, "Your role (reviewer) may not").await;
}
on_both_backends!(the_team_page_is_for_admins);

async fn the_security_page_shows_ones_own_sessions_and_factors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin_of_new_org("Harbour").await;
    let viewer = app.member(&admin, "vic@harbour.test", "viewer").await;
    let again = app.sign_in(&viewer).await;
    let page = |user| app.as_user(user, Method::GET, "/security").send();
    let html = page(&again).await.unwrap().text().await.unwrap();
    assert_strict_html(&html);
    // Both of the Viewer's sessions, this one marked; none of the Admin's.
    assert_eq!(html.matches("class=\"link end-session\"").count(), 2, "{html}");
    assert_eq!(html.matches("this session").count(), 1);
    assert!(html.contains("Authenticator app: <strong>enrolled"));
    assert!(html.contains("Passkey: <strong>not enrolled"));
    assert!(html.contains("10 left"), "{html}");
    assert!(!html.contains("Security alerts"), "alerts are for Admins");
    let admin_page = page(&admin).await.unwrap().text().await.unwrap();
    assert_eq!(admin_page.matches("class=\"link end-session\"").count(), 1);
    assert!(admin_page.contains("<h2>Security alerts</h2>"));
    let anonymous = reqwest::Client::builder().redirect(Policy::none()).build().unwrap();
    let response = anonymous.get(app.url("/security")).send().await.unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/login");
}
on_both_backends!(the_security_page_shows_ones_own_sessions_and_factors);
