//! A real headless Chromium, driven over WebDriver (chromedriver + fantoccini), for the web UI's
//! end-to-end tests. Each browser gets its own chromedriver on a free port and a fresh
//! profile. Without Chromium installed the tests say SKIPPED, unless
//! `PETAL_TEST_REQUIRE_CHROMIUM` is set (CI), when its absence fails them.

use fantoccini::{Client, ClientBuilder, Locator};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// A browser session and the driver behind it (stopped on drop).
pub struct Browser {
    /// The WebDriver session.
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
    downloads: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium; `None` (SKIPPED) when they are not
    /// installed and not required.
    pub async fn start() -> Option<Browser> {
        if !std::path::Path::new(CHROMEDRIVER).exists() {
            assert!(
                std::env::var_os("PETAL_TEST_REQUIRE_CHROMIUM").is_none(),
                "PETAL_TEST_REQUIRE_CHROMIUM is set but {CHROMEDRIVER} is missing"
            );
            eprintln!("SKIPPED: no {CHROMEDRIVER} (apt-get install chromium chromium-driver)");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        for _ in 0..800 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
            "--window-size=1280,1300",
            &format!("--user-data-dir={}", profile.path().display()),
        ];
        let downloads = tempfile::tempdir().unwrap();
        let capabilities = serde_json::json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": args,
                "prefs": {
                    "download.default_directory": downloads.path(),
                    "download.prompt_for_download": false,
                },
            },
        });
        let serde_json::Value::Object(capabilities) = capabilities else { unreachable!() };
        // The WebDriver connection is plain HTTP, but the connector wants a TLS provider.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        // Starting Chromium can fail on a loaded machine (many tests at once on two cores):
        // tried three times, and the last failure is reported.
        let mut attempt = 0;
        let client = loop {
            attempt += 1;
            match ClientBuilder::rustls()
                .unwrap()
                .capabilities(capabilities.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(client) => break client,
                Err(error) if attempt < 3 => {
                    eprintln!("starting Chromium failed (attempt {attempt}): {error}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(error) => panic!("cannot start Chromium: {error}"),
            }
        };
        Some(Browser { client, driver, _profile: profile, downloads })
    }

    /// Waits (up to ten seconds) for an element matching `css` that is shown.
    pub async fn shown(&self, css: &str) -> fantoccini::elements::Element {
        for _ in 0..200 {
            if let Ok(element) = self.client.find(Locator::Css(css)).await
                && element.is_displayed().await.unwrap_or(false)
            {
                return element;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{css} never showed on {}", self.client.current_url().await.unwrap());
    }

    /// Waits (up to ten seconds) for the text of the element `css` to satisfy `done`, through
    /// page reloads (an element found just before a reload is stale: it is looked up again);
    /// returns the text last read.
    pub async fn text_when(&self, css: &str, done: impl Fn(&str) -> bool) -> String {
        let mut text = String::new();
        for _ in 0..200 {
            if let Ok(element) = self.client.find(Locator::Css(css)).await
                && let Ok(read) = element.text().await
            {
                text = read;
                if done(&text) {
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        text
    }

    /// Waits (up to ten seconds) for the page's path to be `path`.
    pub async fn at(&self, path: &str) {
        for _ in 0..200 {
            if self.client.current_url().await.unwrap().path() == path {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("never reached {path}: at {}", self.client.current_url().await.unwrap());
    }

    /// Saves a screenshot of the page as `<name>.png` in the folder `PETAL_SCREENSHOTS` names,
    /// when it is set (to refresh `docs/screenshots/`).
    pub async fn snap(&self, name: &str) {
        if let Some(dir) = std::env::var_os("PETAL_SCREENSHOTS") {
            let png = self.client.screenshot().await.unwrap();
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), png).unwrap();
        }
    }

    /// Waits (up to ten seconds) for a finished download named `name` and returns its bytes.
    pub async fn downloaded(&self, name: &str) -> Vec<u8> {
        let path = self.downloads.path().join(name);
        for _ in 0..200 {
            if let Ok(bytes) = std::fs::read(&path) {
                return bytes;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{name} was not downloaded");
    }

    /// Gives the browser a virtual platform authenticator (WebDriver's WebAuthn extension), so
    /// pages can create and use passkeys without a person touching a device.
    pub async fn add_virtual_authenticator(&self) {
        self.client.issue_cmd(AddVirtualAuthenticator).await.unwrap();
    }

    /// Types into the field `css`.
    pub async fn fill(&self, css: &str, text: &str) {
        self.shown(css).await.send_keys(text).await.unwrap();
    }
}

/// `POST /session/{id}/webauthn/authenticator`: a CTAP2 platform authenticator that holds
/// resident keys and verifies its user.
#[derive(Debug)]
struct AddVirtualAuthenticator;

impl fantoccini::wd::WebDriverCompatibleCommand for AddVirtualAuthenticator {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/webauthn/authenticator", session_id.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        let body = serde_json::json!({
            "protocol": "ctap2", "transport": "internal", "hasResidentKey": true,
            "hasUserVerification": true, "isUserVerified": true,
        });
        (axum::http::Method::POST, Some(body.to_string()))
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
