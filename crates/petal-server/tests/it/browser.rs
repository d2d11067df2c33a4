//! The web UI in a real headless Chromium: first sign-in with TOTP enrolment, the jobs page,
//! signing out, and the idle timeout.

use crate::support::browser::Browser;
use crate::support::{Backend, TestApp};
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
    browser.shown("#new-job button[type=submit]").await.click().await.unwrap();
    browser.shown(".warning").await;
    let warning = browser.shown(".warning").await.text().await.unwrap();
    assert!(warning.contains("Native English"), "{warning}");
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
    browser.shown("#open-original").await.click().await.unwrap();
    assert_eq!(
        browser.downloaded("orla.txt").await,
        ORLA.as_bytes(),
        "the original, byte for byte"
    );
    browser.fill("#note", "strong advocacy").await;
    browser.shown("#decide button").await.click().await.unwrap();
    for _ in 0..200 {
        if browser.shown("#current-decision").await.text().await.unwrap().contains("advance") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let decided = browser.shown("#current-decision").await.text().await.unwrap();
    assert_eq!(decided, "advance: strong advocacy");

    // The audit log: what was just done is there, and the chain verifies.
    browser.shown("nav a[href='/audit']").await.click().await.unwrap();
    browser.at("/audit").await;
    assert!(browser.shown("#events").await.text().await.unwrap().contains("decision.recorded"));
    browser.shown("#verify").await.click().await.unwrap();
    for _ in 0..200 {
        if browser.shown("#verify-result").await.text().await.unwrap().starts_with("Intact") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let verified = browser.shown("#verify-result").await.text().await.unwrap();
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
    for _ in 0..200 {
        if browser.shown("#done").await.text().await.unwrap().starts_with("Erased") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let erased = browser.shown("#done").await.text().await.unwrap();
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
    browser.shown("#code-step button").await.click().await.unwrap();
    browser.at("/jobs").await;
    browser.shown("#sign-out").await.click().await.unwrap();
    browser.at("/login").await;
    browser.client.goto(&app.url("/jobs")).await.unwrap();
    browser.at("/login").await;
}
