//! A fresh database per test: a SQLite file in a temporary data directory, or a new
//! PostgreSQL schema (dropped afterwards) reached through `search_path`.

use super::with_pool;
use petal_storage::Database;
use std::collections::HashMap;
use tempfile::TempDir;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default.
    Sqlite,
    /// PostgreSQL at `PETAL_TEST_DATABASE_URL`.
    Postgres,
}

impl Backend {
    /// Whether PostgreSQL tests run; says so once per test when they do not. CI sets
    /// `PETAL_TEST_REQUIRE_POSTGRES`, which turns a missing URL into a failure.
    pub fn postgres_enabled() -> bool {
        let enabled = std::env::var("PETAL_TEST_DATABASE_URL").is_ok();
        if !enabled && std::env::var("PETAL_TEST_REQUIRE_POSTGRES").is_ok() {
            panic!("PETAL_TEST_REQUIRE_POSTGRES is set but PETAL_TEST_DATABASE_URL is not");
        }
        if !enabled {
            eprintln!("SKIPPED on PostgreSQL: PETAL_TEST_DATABASE_URL is not set");
        }
        enabled
    }
}

/// A database of the test's own, and the data directory beside it.
pub struct TestDb {
    /// Which backend.
    pub backend: Backend,
    /// The URL the application connects with.
    pub url: String,
    /// The data directory (master key, objects, SQLite file).
    pub data_dir: TempDir,
    schema: Option<(String, String)>,
}

impl TestDb {
    /// Creates an empty database (not yet migrated: the application migrates on start).
    pub async fn new(backend: Backend) -> TestDb {
        let data_dir = tempfile::tempdir().unwrap();
        match backend {
            Backend::Sqlite => {
                let url = format!("sqlite://{}", data_dir.path().join("petal.db").display());
                TestDb { backend, url, data_dir, schema: None }
            }
            Backend::Postgres => {
                let admin_url = std::env::var("PETAL_TEST_DATABASE_URL").unwrap();
                let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
                let admin = Database::connect(&admin_url).await.unwrap();
                let Database::Postgres(pool) = &admin else { panic!("not a PostgreSQL URL") };
                sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(pool).await.unwrap();
                admin.close().await;
                let separator = if admin_url.contains('?') { '&' } else { '?' };
                let url = format!("{admin_url}{separator}options=-c%20search_path%3D{schema}");
                TestDb { backend, url, data_dir, schema: Some((admin_url, schema)) }
            }
        }
    }

    /// The `PETAL_*` environment that points Petal at this database and data directory.
    pub fn env(&self) -> HashMap<String, String> {
        HashMap::from([
            ("PETAL_DATA_DIR".to_owned(), self.data_dir.path().display().to_string()),
            ("PETAL_DATABASE_URL".to_owned(), self.url.clone()),
        ])
    }

    /// A connection of the test's own, for looking at rows and for tampering with them the way
    /// someone with direct database access could.
    pub async fn connect(&self) -> Database {
        Database::connect(&self.url).await.unwrap()
    }

    /// Runs raw SQL statements (no parameters) directly on the database.
    pub async fn exec(&self, sql: &str) {
        let db = self.connect().await;
        with_pool!(&db, |pool| sqlx::raw_sql(sql).execute(pool).await.map(|_| ())).unwrap();
        db.close().await;
    }

    /// Runs raw SQL and returns the error the database gave, failing if it succeeded.
    pub async fn exec_err(&self, sql: &str) -> String {
        let db = self.connect().await;
        let result = with_pool!(&db, |pool| sqlx::raw_sql(sql).execute(pool).await.map(|_| ()));
        db.close().await;
        result.expect_err("statement should have been refused").to_string()
    }

    /// A single integer answered by `sql`.
    pub async fn count(&self, sql: &str) -> i64 {
        let db = self.connect().await;
        let n = with_pool!(&db, |pool| sqlx::query_scalar(sql).fetch_one(pool).await).unwrap();
        db.close().await;
        n
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin_url, schema)) = self.schema.take() else {
            return;
        };
        // Drop runs outside async context: use a short-lived runtime on its own thread.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                if let Ok(Database::Postgres(pool)) = Database::connect(&admin_url).await {
                    // A server still running in the finished test (its runtime is blocked in
                    // this drop) may hold locks in the schema, mid-transaction: end its
                    // connections, which belong to this test alone, so the drop can proceed.
                    let _ = sqlx::query(
                        "SELECT pg_terminate_backend(l.pid) FROM pg_locks l \
                         JOIN pg_class c ON c.oid = l.relation \
                         JOIN pg_namespace n ON n.oid = c.relnamespace \
                         WHERE n.nspname = $1 AND l.pid <> pg_backend_pid()",
                    )
                    .bind(&schema)
                    .execute(&pool)
                    .await;
                    let _ =
                        sqlx::query(&format!("DROP SCHEMA {schema} CASCADE")).execute(&pool).await;
                    pool.close().await;
                }
            });
            Ok::<_, std::io::Error>(())
        })
        .join();
    }
}
