//! The web UI in a real headless Chromium: first sign-in with TOTP enrolment, a job from the
//! form to a decision, the Admin's pages, the idle timeout; a Viewer who is offered (and
//! allowed) nothing more than reading; bulk decisions, sessions and backup codes.

use crate::support::browser::Browser;
use crate::support::{Backend, SignedIn, TestApp};
use fantoccini::Locator;

const ORLA: &str = "Orla Penhaligon\norla.penhaligon@example.test\nLLB Law, 2:1, University of Leeds\n\
    Associate, Harbour LLP, Jan 2015 - Dec 2020: commercial litigation\nSQE1 and SQE2\n";

#[tokio::test]
async fn first_sign_in_enrols_totp_and_the_idle_timeout_signs_out() {
    let Some(browser) = Browser::start().await else { return };
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (_, invite) = app.create_org("Harbour", "ada@harbour.test").await;

    // The invite link: a name and a password (a weak one is refused with the reason).
    browser.client.goto(&app.url(&format!("/invite#token={invite}"))).await.unwrap();
    browser.fill("#name", "Ada Admin").await;
    browser.fill("#new-password", "password1234").await;
    browser.shown("#accept-step button").await.click().await.unwrap();
    assert!(!browser.shown("#error").await.text().await.unwrap().is_empty());
    browser.shown("#new-password").await.clear().await.unwrap();
    browser.fill("#new-password", crate::support::PASSWORD).await;
    browser.snap("invite").await;
    browser.shown("#accept-step button").await.click().await.unwrap();
    browser.shown("#accepted-step a.button").await.click().await.unwrap();
    browser.at("/login").await;

    // Password, then the authenticator: the QR code and key are shown, a code turns it on.
    browser.snap("sign-in").await;
    browser.fill("#email", "ada@harbour.test").await;
    browser.fill("#password", crate::support::PASSWORD).await;
    browser.shown("#password-step button").await.click().await.unwrap();
    browser.shown("#qr svg").await;
    let secret = browser.shown("#secret").await.text().await.unwrap();
    assert!(secret.len() >= 16, "{secret}");
    browser.snap("enrol-authenticator").await;
    browser.fill("#enrol-code", &app.totp_code(&secret, 0)).await;
    browser.shown("#enrol-step button").await.click().await.unwrap();

    // Backup codes, shown once; then the jobs page, signed in by the session cookie.
    browser.shown("#backup-step").await;
    let codes = browser.client.find_all(Locator::Css("#backup-codes li")).await.unwrap();
    assert_eq!(codes.len(), 10);
    browser.snap("backup-codes").await;
    browser.shown("#backup-step a.button").await.click().await.unwrap();
    browser.at("/jobs").await;
    assert_eq!(browser.shown("main h1").await.text().await.unwrap(), "Jobs");
    assert!(browser.shown(".empty").await.text().await.unwrap().starts_with("No jobs yet."));
    assert!(browser.shown(".who").await.text().await.unwrap().contains("Ada Admin"));
    browser.snap("jobs-empty").await;

    // A job made in the form: a criterion about age is refused with the reason, one that
    // stands in for a protected characteristic is pointed out on the job's page.
    browser.shown("a.button[href='/jobs/new']").await.click().await.unwrap();
    browser.at("/jobs/new").await;
    browser.fill("#title", "Trainee solicitor").await;
    let texts = browser.client.find_all(Locator::Css(".c-text")).await.unwrap();
    texts[0].send_keys("2:1 degree or above").await.unwrap();
    texts[1].send_keys("SQE1 and SQE2").await.unwrap();
    texts[2].send_keys("Under 30 years old").await.unwrap();
    browser.shown("#new-job button[type=submit]").await.click().await.unwrap();
    let refusal = browser.shown("#error").await.text().await.unwrap();
    assert!(refusal.contains("age") && refusal.contains("protected characteristic"), "{refusal}");
    browser.snap("new-job").await;
    texts[2].clear().await.unwrap();
    texts[2].send_keys("Native English speaker").await.unwrap();
    // The form points out the proxy under its row as it is typed.
    let note =
        browser.text_when("#criteria-editor tbody tr:nth-child(3) .c-note", |t| !t.is_empty());
    let note = note.await;
    assert!(note.contains("Native English") && note.contains("national origin"), "{note}");
    browser.snap("new-job-warning").await;
    // A fourth criterion, typed explicitly: two years of experience in litigation.
    browser.shown("#add-criterion").await.click().await.unwrap();
    let row = browser.shown("#criteria-editor tbody tr:last-child").await;
    row.find(Locator::Css(".c-text")).await.unwrap().send_keys("Disputes work").await.unwrap();
    let kind = row.find(Locator::Css(".c-type")).await.unwrap();
    kind.select_by_value("years_experience").await.unwrap();
    let value = row.find(Locator::Css(".c-value")).await.unwrap();
    value.send_keys("2 litigation").await.unwrap();
    browser.shown("#new-job button[type=submit]").await.click().await.unwrap();
    browser.shown(".warning").await;
    let warning = browser.shown(".warning").await.text().await.unwrap();
    assert!(warning.contains("Native English"), "{warning}");
    let criteria = browser.shown(".criteria").await.text().await.unwrap();
    assert!(criteria.contains("a degree of upper second or better"), "{criteria}");
    assert!(
        criteria.contains("Disputes work")
            && criteria.contains("at least 2 years of experience, in litigation"),
        "{criteria}"
    );
    let files = tempfile::tempdir().unwrap();
    let cv = files.path().join("orla.txt");
    std::fs::write(&cv, ORLA).unwrap();
    let exe = files.path().join("setup.exe");
    std::fs::write(&exe, b"MZ\x90\x00 not a CV").unwrap();
    for path in [&cv, &exe] {
        browser.shown("#files").await.send_keys(&path.display().to_string()).await.unwrap();
        browser.shown("#upload button").await.click().await.unwrap();
    }
    let refused = browser.shown("#upload-list li.error").await.text().await.unwrap();
    assert!(refused.contains("setup.exe") && refused.contains("refused"), "{refused}");
    browser.shown("#upload-list li.ok").await;
    browser.shown("#refresh a").await.click().await.unwrap();
    browser.shown("#results").await;
    let table = browser.shown("#results").await.text().await.unwrap();
    assert!(table.contains("Orla Penhaligon"), "{table}");
    browser.snap("job").await;

    // The candidate: evidence, the original through a signed link (downloaded, as the server
    // sends it as an attachment), a decision.
    browser.shown("#results td a").await.click().await.unwrap();
    browser.shown(".verdicts mark").await;
    browser.snap("candidate").await;
    browser.shown("#cv-text-link").await.click().await.unwrap();
    let marked = browser.shown("#cv-text mark").await.text().await.unwrap();
    assert!(ORLA.contains(&marked), "{marked}");
    browser.snap("cv-text").await;
    browser.client.back().await.unwrap();
    browser.shown("#open-original").await.click().await.unwrap();
    assert_eq!(
        browser.downloaded("orla.txt").await,
        ORLA.as_bytes(),
        "the original, byte for byte"
    );
    browser.fill("#note", "strong advocacy").await;
    browser.shown("#decide button").await.click().await.unwrap();
    let decided = browser.text_when("#current-decision", |t| t.contains("advance")).await;
    assert_eq!(decided, "advance: strong advocacy");

    // The audit log: what was just done is there, and the chain verifies.
    browser.shown("nav a[href='/audit']").await.click().await.unwrap();
    browser.at("/audit").await;
    assert!(browser.shown("#events").await.text().await.unwrap().contains("decision.recorded"));
    browser.shown("#verify").await.click().await.unwrap();
    let verified = browser.text_when("#verify-result", |t| t.starts_with("Intact")).await;
    assert!(verified.starts_with("Intact"), "{verified}");
    browser.snap("audit").await;

    // The organisation page, six minutes later: a change asks for the password and a code
    // first, then goes through; the export builds and offers its link; the candidate is erased.
    app.clock.advance(chrono::Duration::minutes(6));
    browser.shown("nav a[href='/settings']").await.click().await.unwrap();
    browser.at("/settings").await;
    browser.shown("#retention").await.clear().await.unwrap();
    browser.fill("#retention", "90").await;
    browser.shown("#settings button").await.click().await.unwrap();
    browser.fill("#reauth-password", crate::support::PASSWORD).await;
    app.next_step();
    browser.fill("#reauth-code", &app.totp_code(&secret, 0)).await;
    browser.snap("step-up").await;
    browser.shown("#reauth button").await.click().await.unwrap();
    assert_eq!(browser.shown("#done").await.text().await.unwrap(), "Settings saved.");
    browser.shown("#export").await.click().await.unwrap();
    let link = browser.shown("#export-link").await.attr("href").await.unwrap().unwrap();
    assert!(link.contains("/api/v1/exports/") && link.contains("&s="), "{link}");
    browser.fill("#erase-email", "orla.penhaligon@example.test").await;
    browser.shown("#erase button").await.click().await.unwrap();
    let erased = browser.text_when("#done", |t| t.starts_with("Erased")).await;
    assert_eq!(erased, "Erased 1 document(s) in 1 job(s).");
    browser.client.refresh().await.unwrap();
    let kept = browser.shown("#retention").await.attr("value").await.unwrap();
    assert_eq!(kept.as_deref(), Some("90"));
    browser.snap("organisation").await;

    // The team: an invitation made in the page gives its link.
    browser.shown("nav a[href='/team']").await.click().await.unwrap();
    browser.at("/team").await;
    browser.fill("#invite-email", "rita@harbour.test").await;
    browser.shown("#invite button").await.click().await.unwrap();
    let invite_url = browser.shown("#invite-url").await.text().await.unwrap();
    assert!(invite_url.contains("/invite#token="), "{invite_url}");
    browser.snap("team").await;

    // Idle for longer than the timeout: the server refuses the session and the page goes to
    // the sign-in page.
    app.clock.advance(chrono::Duration::minutes(31));
    browser.client.goto(&app.url("/jobs")).await.unwrap();
    browser.at("/login").await;

    // Signing in again (with a code), then out.
    browser.fill("#email", "ada@harbour.test").await;
    browser.fill("#password", crate::support::PASSWORD).await;
    browser.shown("#password-step button").await.click().await.unwrap();
    app.next_step();
    browser.fill("#code", &app.totp_code(&secret, 0)).await;
    browser.shown("#code-step button[type=submit]").await.click().await.unwrap();
    browser.at("/jobs").await;
    browser.shown("#sign-out").await.click().await.unwrap();
    browser.at("/login").await;
    browser.client.goto(&app.url("/jobs")).await.unwrap();
    browser.at("/login").await;
}

/// Signs `user` in through the sign-in page with their password and a fresh TOTP code.
async fn sign_in(browser: &Browser, app: &TestApp, user: &SignedIn) {
    browser.client.goto(&app.url("/login")).await.unwrap();
    browser.fill("#email", &user.email).await;
    browser.fill("#password", crate::support::PASSWORD).await;
    browser.shown("#password-step button").await.click().await.unwrap();
    app.next_step();
    browser.fill("#code", &app.totp_code(&user.totp_secret, 0)).await;
    browser.shown("#code-step button[type=submit]").await.click().await.unwrap();
    browser.at("/jobs").await;
}

/// Runs `fetch(method, path)` in the page, as the signed-in user's browser would (cookie and
/// CSRF token); the status and the error code of the answer.
async fn fetch_refusal(browser: &Browser, method: &str, path: &str) -> (u64, String) {
    let script = "const [method, path, done] = arguments;
        fetch(path, {method, credentials: 'same-origin',
            headers: {'X-CSRF-Token': localStorage.getItem('petal.csrf') || '',
                      'Content-Type': 'application/json'},
            body: method === 'GET' ? undefined : JSON.stringify({decision: 'reject'})})
          .then(async (r) => done([r.status, (await r.json()).error.code]), () => done([0, '']));";
    let answer =
        browser.client.execute_async(script, vec![method.into(), path.into()]).await.unwrap();
    (answer[0].as_u64().unwrap(), answer[1].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn a_viewer_reads_and_a_reviewer_decides_in_bulk_and_manages_sessions() {
    let Some(browser) = Browser::start().await else { return };
    let app = TestApp::spawn(Backend::Sqlite).await;
    let admin = app.admin_of_new_org("Harbour").await;
    let viewer = app.member(&admin, "vic@harbour.test", "viewer").await;
    let reviewer = app.member(&admin, "rita@harbour.test", "reviewer").await;
    let job = app.create_job_with(&admin, "Associate", crate::support::trainee_criteria()).await;
    let job = job["id"].as_str().unwrap().to_owned();
    let cvs: Vec<(String, Vec<u8>)> = (1..=12)
        .map(|seed| {
            let text = petal_documents::corpus::uk_cv_lines(seed).join("\n");
            (format!("cv-{seed}.txt"), text.into_bytes())
        })
        .collect();
    let files: Vec<(&str, Vec<u8>)> = cvs.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
    let uploaded = app.upload_ok(&admin, &job, &files).await;
    app.wait_for_job(&admin, &job).await;
    // One candidate already has a decision with a note, which bulk decisions must keep.
    let noted = uploaded["documents"][0]["id"].as_str().unwrap().to_owned();
    let decided = app
        .as_user(&admin, reqwest::Method::PUT, &format!("/api/v1/documents/{noted}/decision"))
        .json(&serde_json::json!({"decision": "advance", "note": "met at the fair"}))
        .send()
        .await
        .unwrap();
    assert_eq!(decided.status(), 200);

    // The Viewer: the ranking and its pictures, but no upload, no bulk decision, no control to
    // open a CV; forcing the link from their browser is refused, and so is the new-job page.
    sign_in(&browser, &app, &viewer).await;
    browser.client.goto(&app.url(&format!("/jobs/{job}"))).await.unwrap();
    browser.shown("#score-chart").await;
    let coverage = browser.shown("#coverage-chart").await.text().await.unwrap();
    assert!(coverage.contains("2:1 degree or above") && coverage.contains("met"), "{coverage}");
    for absent in ["#upload", "#bulk", ".pick"] {
        assert!(browser.client.find(Locator::Css(absent)).await.is_err(), "{absent} shown");
    }
    browser.shown("#results td a").await.click().await.unwrap();
    browser.shown(".verdicts").await;
    let document = browser.shown("#candidate").await.attr("data-document").await.unwrap().unwrap();
    for absent in ["#open-original", "#decide"] {
        assert!(browser.client.find(Locator::Css(absent)).await.is_err(), "{absent} shown");
    }
    browser.snap("candidate-viewer").await;
    // Refused for the role (`forbidden`), not for a missing CSRF token, which is also a 403.
    let link = format!("/api/v1/documents/{document}/url");
    assert_eq!(fetch_refusal(&browser, "POST", &link).await, (403, "forbidden".to_owned()));
    let decision = format!("/api/v1/documents/{document}/decision");
    assert_eq!(fetch_refusal(&browser, "PUT", &decision).await, (403, "forbidden".to_owned()));
    browser.client.goto(&app.url("/jobs/new")).await.unwrap();
    assert_eq!(browser.shown("#problem h1").await.text().await.unwrap(), "Not for your role");
    browser.snap("refused").await;
    browser.shown("#problem a[href='/jobs']").await.click().await.unwrap();
    browser.shown("#sign-out").await.click().await.unwrap();
    browser.at("/login").await;

    // The Reviewer: every candidate selected and put on hold at once.
    sign_in(&browser, &app, &reviewer).await;
    browser.client.goto(&app.url(&format!("/jobs/{job}"))).await.unwrap();
    browser.shown("#pick-all").await.click().await.unwrap();
    browser.shown("#bulk-decision").await.select_by_value("hold").await.unwrap();
    browser.snap("job-charts").await;
    browser.shown("#bulk button").await.click().await.unwrap();
    let table = browser.text_when("#results", |t| t.matches("hold").count() == 12).await;
    assert_eq!(table.matches("hold").count(), 12, "every row shows its decision: {table}");
    let recorded = app.audit_actions().await;
    assert_eq!(recorded.iter().filter(|(action, ..)| action == "decision.recorded").count(), 13);
    let results = app.results(&admin, &job).await;
    let kept = results.iter().find(|r| r["document_id"] == noted.as_str()).unwrap();
    assert_eq!(kept["decision"]["note"], "met at the fair");

    // The security page: the Reviewer's other session (the API's) is ended there, and new
    // backup codes come after the password and a code.
    browser.shown("nav a[href='/security']").await.click().await.unwrap();
    browser.at("/security").await;
    let rows = browser.client.find_all(Locator::Css("#sessions tbody tr")).await.unwrap();
    assert_eq!(rows.len(), 2);
    browser.shown("#sessions tr:not([data-current]) .end-session").await.click().await.unwrap();
    assert_eq!(browser.shown("#done").await.text().await.unwrap(), "Session ended.");
    let api_session =
        app.as_user(&reviewer, reqwest::Method::GET, "/api/v1/me").send().await.unwrap();
    assert_eq!(api_session.status(), 401, "the ended session no longer works");
    app.clock.advance(chrono::Duration::minutes(6));
    browser.shown("#new-codes").await.click().await.unwrap();
    browser.fill("#reauth-password", crate::support::PASSWORD).await;
    app.next_step();
    browser.fill("#reauth-code", &app.totp_code(&reviewer.totp_secret, 0)).await;
    browser.shown("#reauth button").await.click().await.unwrap();
    browser.shown("#new-codes-shown").await;
    let codes = browser.client.find_all(Locator::Css("#backup-codes li")).await.unwrap();
    assert_eq!(codes.len(), 10);
    let old = &reviewer.backup_codes[0];
    assert!(!browser.shown("#backup-codes").await.text().await.unwrap().contains(old.as_str()));
    browser.snap("security").await;
}

#[tokio::test]
async fn a_text_message_code_signs_in() {
    let Some(browser) = Browser::start().await else { return };
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (email, mfa_token) = crate::sms::pending_admin(&app).await;
    assert_eq!(crate::sms::enrol_sms(&app, &mfa_token).await.status(), 200);

    browser.client.goto(&app.url("/login")).await.unwrap();
    browser.fill("#email", &email).await;
    browser.fill("#password", crate::support::PASSWORD).await;
    browser.shown("#password-step button").await.click().await.unwrap();
    let help = browser.shown("#code-help").await.text().await.unwrap();
    assert!(help.starts_with("Ask for a code by text message"), "{help}");
    browser.shown("#send-sms").await.click().await.unwrap();
    let sent = browser.text_when("#sms-sent", |t| !t.is_empty()).await;
    assert_eq!(sent, "Sent to +44••••••0123; it expires in 5 minutes.");
    let messages = crate::sms::drain_outbox(&app);
    assert_eq!(messages.len(), 1);
    browser.snap("sign-in-sms").await;
    browser.fill("#code", &messages[0].1).await;
    browser.shown("#code-step button[type=submit]").await.click().await.unwrap();
    browser.at("/jobs").await;
}

#[tokio::test]
async fn a_passkey_is_created_at_first_sign_in_and_signs_in_again() {
    let Some(browser) = Browser::start().await else { return };
    browser.add_virtual_authenticator().await;
    // Passkeys need a domain name: the server and the browser use `localhost`.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let public = format!("http://localhost:{port}");
    let app =
        TestApp::spawn_on_port(Backend::Sqlite, port, &[("PETAL_PUBLIC_URL", public.clone())])
            .await;
    let (_, invite) = app.create_org("Harbour", "ada@harbour.test").await;
    app.accept_invite(&invite, "Ada Admin").await;
    let sign_in_form = || async {
        browser.client.goto(&format!("{public}/login")).await.unwrap();
        browser.fill("#email", "ada@harbour.test").await;
        browser.fill("#password", crate::support::PASSWORD).await;
        browser.shown("#password-step button").await.click().await.unwrap();
    };

    // First sign-in: a passkey instead of an authenticator app, then the backup codes.
    sign_in_form().await;
    browser.shown("#register-passkey").await.click().await.unwrap();
    browser.shown("#backup-step").await;
    let codes = browser.client.find_all(Locator::Css("#backup-codes li")).await.unwrap();
    assert_eq!(codes.len(), 10);
    browser.shown("#backup-step a.button").await.click().await.unwrap();
    browser.at("/jobs").await;
    browser.shown("#sign-out").await.click().await.unwrap();
    browser.at("/login").await;

    // Again: the passkey is offered and signs in.
    sign_in_form().await;
    browser.shown("#use-passkey").await.click().await.unwrap();
    browser.at("/jobs").await;

    // New backup codes, confirmed with the password and the passkey (no code at all).
    app.clock.advance(chrono::Duration::minutes(6));
    browser.client.goto(&format!("{public}/security")).await.unwrap();
    browser.shown("#new-codes").await.click().await.unwrap();
    browser.fill("#reauth-password", crate::support::PASSWORD).await;
    browser.shown("#reauth-passkey").await.click().await.unwrap();
    browser.shown("#new-codes-shown").await;
    let codes = browser.client.find_all(Locator::Css("#backup-codes li")).await.unwrap();
    assert_eq!(codes.len(), 10);
    let actions = app.audit_actions().await;
    let passkey_logins = actions
        .iter()
        .filter(|(action, _, details)| {
            action == "mfa.verified" && details.as_deref().is_some_and(|d| d.contains("passkey"))
        })
        .count();
    assert_eq!(passkey_logins, 2, "a sign-in and a step-up: {actions:?}");
}

#[tokio::test]
async fn the_page_warns_before_the_idle_timeout_and_then_leaves() {
    let Some(browser) = Browser::start().await else { return };
    // A five-second idle timeout: the warning (due two minutes before the end) shows at once,
    // and five seconds later the page goes to the sign-in page, saying why.
    let app =
        TestApp::spawn_with(Backend::Sqlite, &[("PETAL_SESSION_IDLE_TIMEOUT", "5s".to_owned())])
            .await;
    let admin = app.admin_of_new_org("Harbour").await;
    sign_in(&browser, &app, &admin).await;
    let warning = browser.shown("#idle-warning").await.text().await.unwrap();
    assert!(warning.starts_with("You will be signed out in two minutes"), "{warning}");
    browser.snap("idle-warning").await;
    browser.at("/login").await;
    let notice = browser.text_when("#expired", |t| !t.is_empty()).await;
    assert_eq!(notice, "Your session ended. Please sign in again.");
}
