//! The test harness: a fresh database per test on either backend, the real server started
//! in-process on port 0, and the real `petal` binary.

pub mod browser;
mod db;
mod identity;
mod jobs;
pub mod llm_mock;
mod s3;
mod screening;

pub use db::{Backend, TestDb};
pub use identity::{PASSWORD, SignedIn};
pub use s3::S3Server;
pub use screening::trainee_criteria;

use petal_domain::{Clock, FixedClock};
use petal_server::config::Config;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::{Command, Output};
use std::sync::Arc;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Runs `$test(backend)` once on SQLite and once on PostgreSQL, as two tests named
/// `<name>::sqlite` and `<name>::postgres`.
macro_rules! on_both_backends {
    ($name:ident) => {
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name($crate::support::Backend::Sqlite).await;
            }

            #[tokio::test]
            async fn postgres() {
                if $crate::support::Backend::postgres_enabled() {
                    super::$name($crate::support::Backend::Postgres).await;
                }
            }
        }
    };
}
pub(crate) use on_both_backends;

/// Runs `$body` with `$pool` bound to the test connection's pool, whichever the backend: the
/// body is written once and compiled for both (as `on_conn!` does inside the storage crate).
macro_rules! with_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            petal_storage::Database::Sqlite($pool) => $body,
            petal_storage::Database::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_pool;

/// A running server and everything it was started with.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The server's address.
    pub addr: SocketAddr,
    /// The database (and data directory) behind it.
    pub db: TestDb,
    /// A client for it.
    pub client: reqwest::Client,
    /// The server's clock, which tests move by hand.
    pub clock: Arc<FixedClock>,
    extra_env: Vec<(String, String)>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    /// Starts the server on `backend` with the default configuration.
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, &[]).await
    }

    /// Starts the server with extra `PETAL_*` settings, waiting until it answers.
    pub async fn spawn_with(backend: Backend, extra_env: &[(&str, String)]) -> TestApp {
        Self::spawn_on_port(backend, 0, extra_env).await
    }

    /// Starts the server on `port` (0: any free port) with extra `PETAL_*` settings.
    pub async fn spawn_on_port(
        backend: Backend,
        port: u16,
        extra_env: &[(&str, String)],
    ) -> TestApp {
        let clock = Arc::new(FixedClock::new(chrono::Utc::now()));
        Self::start(TestDb::new(backend).await, port, extra_env, clock).await
    }

    /// Stops the server, runs `between` on its database and data directory (as an operator
    /// would with the service down), and starts it again with the same extra settings.
    pub async fn restart_with(mut self, between: impl FnOnce(&TestDb)) -> TestApp {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.take().unwrap().await.unwrap().unwrap();
        let extra = std::mem::take(&mut self.extra_env);
        let extra: Vec<(&str, String)> =
            extra.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        let TestApp { db, clock, .. } = self;
        between(&db);
        // Time goes on from where it was (a code used before must stay used).
        Self::start(db, 0, &extra, clock).await
    }

    async fn start(
        db: TestDb,
        port: u16,
        extra_env: &[(&str, String)],
        clock: Arc<FixedClock>,
    ) -> TestApp {
        // PETAL_TEST_LOG=1 shows the servers' logs (errors behind a 500, for example).
        if std::env::var_os("PETAL_TEST_LOG").is_some() {
            let _ = tracing_subscriber::fmt().with_test_writer().with_env_filter("warn").try_init();
        }
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
        let addr = listener.local_addr().unwrap();
        let mut env = db.env();
        env.insert("PETAL_LISTEN".into(), addr.to_string());
        env.insert("PETAL_PUBLIC_URL".into(), format!("http://{addr}"));
        for (k, v) in extra_env {
            env.insert((*k).to_owned(), v.clone());
        }
        let config = Config::from_sources(None, &env).unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let server_clock: Arc<dyn Clock> = clock.clone();
        let task = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            petal_server::server::run_with_clock(&config, listener, shutdown, server_clock).await
        });
        let scheme = if env.contains_key("PETAL_TLS_CERT") { "https" } else { "http" };
        let app = TestApp {
            base: format!("{scheme}://{addr}"),
            addr,
            db,
            client: reqwest::Client::builder().user_agent("petal-tests/1").build().unwrap(),
            clock,
            extra_env: extra_env.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect(),
            stop: Some(stop),
            task: Some(task),
        };
        if scheme == "http" {
            app.wait_until_serving().await;
        }
        app
    }

    /// Polls `/healthz` until the server answers (it migrates before it listens), failing
    /// the test if the server stopped instead.
    async fn wait_until_serving(&self) {
        for _ in 0..500 {
            if self.task.as_ref().is_some_and(|t| t.is_finished()) {
                panic!("server stopped during start-up");
            }
            let response = self.client.get(self.url("/healthz")).send().await;
            if response.is_ok_and(|r| r.status() == 200) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("server did not start");
    }

    /// The server's upkeep (checkpoints, retention) over the same database, store and keys,
    /// for tests to run at a time of their choosing.
    pub async fn upkeep(&self) -> petal_server::upkeep::Upkeep {
        let mut env = self.db.env();
        env.extend(self.extra_env.iter().cloned());
        let config = Config::from_sources(None, &env).unwrap();
        let resources = petal_server::app::Resources::open_existing(&config).await.unwrap();
        petal_server::upkeep::Upkeep::new(&resources, config.audit_retention).unwrap()
    }

    /// An absolute URL on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Stops the server gracefully and returns how it ended.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.take().unwrap().await.unwrap()
    }
}

/// Runs the real `petal` binary with `args` against `db`'s data directory and database.
pub fn petal(db: &TestDb, args: &[&str]) -> Output {
    petal_with_env(&db.env(), args)
}

/// [`petal`] on a blocking thread, for a command run while this test's server serves: the
/// server, which shares the test's runtime, keeps running meanwhile, so it can finish any
/// transaction the command waits for.
pub async fn petal_beside(db: &TestDb, args: &[&str]) -> Output {
    let env = db.env();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        petal_with_env(&env, &args)
    })
    .await
    .unwrap()
}

/// Runs the real `petal` binary with exactly `env` as its `PETAL_*` environment.
pub fn petal_with_env(env: &HashMap<String, String>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_petal"));
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("PETAL_")) {
        command.env_remove(key);
    }
    command.envs(env).env("RUST_LOG", "warn").args(args).output().unwrap()
}

/// Standard output of a finished command as JSON, failing with its standard error if it
/// did not succeed.
pub fn json_stdout(output: &Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "petal failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}
