//! One query path over two databases.
//!
//! [`Database`] is an enum over a SQLite pool and a PostgreSQL pool; [`Tx`] the matching
//! transaction. Repository code writes each query once, as SQL text with `$N` placeholders
//! (both drivers accept them), and runs it through [`on_conn!`], which expands the same
//! expression once per backend so each is compiled against its native driver. Queries therefore
//! bind native types — uuid, timestamptz and jsonb on PostgreSQL; blobs and text on SQLite —
//! and never branch on the backend themselves. See ARCHITECTURE.md for why not `sqlx::Any`.

use crate::{OrgScope, StorageError};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, PgPool, Postgres, Sqlite, SqlitePool, Transaction};
use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

/// Runs `$body` with `$conn` bound to the transaction's connection, on whichever backend the
/// transaction belongs to. The body is written once and compiled for both.
macro_rules! on_conn {
    ($tx:expr, |$conn:ident| $body:expr) => {
        match $tx {
            $crate::Tx::Sqlite(tx) => {
                let $conn = &mut **tx;
                $body
            }
            $crate::Tx::Postgres(tx) => {
                let $conn = &mut **tx;
                $body
            }
        }
    };
}
pub(crate) use on_conn;

/// Runs one statement on a transaction with the given bound values and returns how many rows
/// it changed: `execute!(&mut tx.tx, "UPDATE … WHERE id = $1", id)?`.
macro_rules! execute {
    ($tx:expr, $sql:expr $(, $bind:expr)* $(,)?) => {
        $crate::db::on_conn!($tx, |conn| {
            sqlx::query($sql)$(.bind($bind))*.execute(conn).await.map(|r| r.rows_affected())
        })
    };
}
pub(crate) use execute;

/// Runs `$body` with `$pool` bound to the database's pool (for single statements that need no
/// transaction).
macro_rules! on_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::Database::Sqlite($pool) => $body,
            $crate::Database::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// Which database engine is in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default.
    Sqlite,
    /// PostgreSQL, for production and for several replicas.
    Postgres,
}

/// A connection pool to either backend.
#[derive(Debug, Clone)]
pub enum Database {
    /// SQLite.
    Sqlite(SqlitePool),
    /// PostgreSQL.
    Postgres(PgPool),
}

/// A transaction on either backend, not yet tied to an organisation. Dropped without
/// [`Tx::commit`], it rolls back.
#[derive(Debug)]
pub enum Tx {
    /// SQLite.
    Sqlite(Transaction<'static, Sqlite>),
    /// PostgreSQL.
    Postgres(Transaction<'static, Postgres>),
}

/// How long a connection waits for a lock or a free pool slot before giving up.
const WAIT: Duration = Duration::from_secs(10);

impl Database {
    /// Connects to `url`: `sqlite://PATH` (the file is created, mode 0600, if missing) or
    /// `postgres://…`. Statement logging is off: SQL is not logged.
    pub async fn connect(url: &str) -> Result<Self, StorageError> {
        Self::connect_with(url, true).await
    }

    /// Connects to an existing database, never creating one (for read-only tools).
    pub async fn open_existing(url: &str) -> Result<Self, StorageError> {
        Self::connect_with(url, false).await
    }

    async fn connect_with(url: &str, create: bool) -> Result<Self, StorageError> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(create)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                // Deleted rows are overwritten, not left readable in free pages.
                .pragma("secure_delete", "on")
                .busy_timeout(WAIT)
                .disable_statement_logging();
            let in_memory = url.contains(":memory:") || url.contains("mode=memory");
            if create && !in_memory {
                create_private_file(options.get_filename())?;
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .acquire_timeout(WAIT)
                .connect_with(options)
                .await?;
            Ok(Database::Sqlite(pool))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)?.disable_statement_logging();
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(WAIT)
                .connect_with(options)
                .await?;
            Ok(Database::Postgres(pool))
        } else {
            Err(StorageError::Config(
                "database URL must start with sqlite: or postgres://".to_owned(),
            ))
        }
    }

    /// The engine behind this pool.
    pub fn backend(&self) -> Backend {
        match self {
            Database::Sqlite(_) => Backend::Sqlite,
            Database::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies pending migrations (each backend has its own folder of the same schema).
    /// On PostgreSQL an advisory lock lets several replicas start at once; SQLite is one
    /// server's embedded database, migrated by that server.
    pub async fn migrate(&self) -> Result<(), StorageError> {
        match self {
            Database::Sqlite(pool) => sqlx::migrate!("./migrations/sqlite").run(pool).await?,
            Database::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), StorageError> {
        on_pool!(self, |pool| sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))?;
        Ok(())
    }

    /// Makes deletions final on disk. SQLite keeps earlier page versions in its write-ahead
    /// log until a checkpoint; this checkpoints and truncates the log so a deleted job's rows
    /// (already overwritten in the database file by `secure_delete`) are not left there either.
    /// PostgreSQL reclaims deleted tuples by vacuuming, which it schedules itself.
    pub async fn flush_deletions(&self) -> Result<(), StorageError> {
        if let Database::Sqlite(pool) = self {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(pool).await?;
        }
        Ok(())
    }

    /// Closes every connection (on shutdown).
    pub async fn close(&self) {
        on_pool!(self, |pool| pool.close().await)
    }

    /// Starts a read-write transaction with no organisation set, for the few operations that
    /// precede a scope: creating an organisation, resolving a session.
    pub async fn begin(&self) -> Result<Tx, StorageError> {
        Ok(match self {
            // IMMEDIATE takes SQLite's write lock at once, so a transaction that reads before
            // it writes cannot fail half-way when another writer committed in between.
            Database::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Database::Postgres(pool) => Tx::Postgres(begin_postgres(pool, "BEGIN").await?),
        })
    }

    /// Starts a read-write transaction on `scope`'s organisation.
    pub async fn begin_scoped(&self, scope: &OrgScope) -> Result<ScopedTx, StorageError> {
        self.begin().await?.enter(scope.clone()).await
    }

    /// Starts a read-only transaction that sees one consistent snapshot of `scope`'s
    /// organisation throughout, for multi-statement reads such as chain verification.
    pub async fn begin_snapshot(&self, scope: &OrgScope) -> Result<ScopedTx, StorageError> {
        let tx = match self {
            // A WAL read transaction reads from the snapshot taken at its first read.
            Database::Sqlite(pool) => Tx::Sqlite(pool.begin().await?),
            Database::Postgres(pool) => Tx::Postgres(
                begin_postgres(pool, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await?,
            ),
        };
        tx.enter(scope.clone()).await
    }
}

/// A transaction bound to one organisation: repository functions on organisation data take
/// this, and read the organisation from it, so a transaction entered for one organisation
/// cannot be used to write another's rows.
#[derive(Debug)]
pub struct ScopedTx {
    pub(crate) tx: Tx,
    scope: OrgScope,
}

impl ScopedTx {
    /// The organisation this transaction works on.
    pub fn scope(&self) -> &OrgScope {
        &self.scope
    }

    /// Commits the transaction.
    pub async fn commit(self) -> Result<(), StorageError> {
        self.tx.commit().await
    }
}

/// Starts a PostgreSQL transaction on a task of its own. sqlx 0.8 is not cancel-safe here: a
/// request dropped while `BEGIN` is in flight (a client disconnecting) leaves the connection
/// inside a transaction nothing rolls back, and the pool hands it to the next borrower
/// (sqlx issue #4393). On its own task the `BEGIN` always completes, and a transaction nobody
/// awaits any more is dropped, and so rolled back, normally.
async fn begin_postgres(
    pool: &PgPool,
    statement: &'static str,
) -> Result<Transaction<'static, Postgres>, StorageError> {
    let pool = pool.clone();
    tokio::spawn(async move { pool.begin_with(statement).await })
        .await
        .map_err(|e| StorageError::Config(format!("the database task failed: {e}")))?
        .map_err(Into::into)
}

/// Creates an empty database file readable by its owner only, unless it exists (SQLite gives its
/// `-wal` and `-shm` files the database file's permissions).
fn create_private_file(path: &Path) -> Result<(), StorageError> {
    match OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StorageError::Config(format!(
            "cannot create database file {}: {e}",
            path.display()
        ))),
    }
}

impl Tx {
    /// Binds the transaction to `scope`'s organisation. On PostgreSQL this also sets
    /// `app.org_id`, local to the transaction, which row-level security policies read.
    pub(crate) async fn enter(mut self, scope: OrgScope) -> Result<ScopedTx, StorageError> {
        if let Tx::Postgres(tx) = &mut self {
            sqlx::query("SELECT set_config('app.org_id', $1, true)")
                .bind(scope.org_id().to_string())
                .execute(&mut **tx)
                .await?;
        }
        Ok(ScopedTx { tx: self, scope })
    }

    /// Commits the transaction.
    pub async fn commit(self) -> Result<(), StorageError> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}
