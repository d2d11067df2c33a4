//! The web UI in a real headless Chromium: first sign-in with TOTP enrolment, the jobs page,
//! signing out, and the idle timeout.

use crate::support::browser::Browser;
use crate::support::{Backend, TestApp};
use fantoccini::Locator;

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
