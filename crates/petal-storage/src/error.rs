//! Errors from the storage layer.

/// What went wrong below the application.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The database refused or failed a statement.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Migrations could not be applied.
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// The object store failed.
    #[error("object store error: {0}")]
    Objects(#[from] object_store::Error),
    /// A configured URL is not usable.
    #[error("{0}")]
    Config(String),
    /// A stored value is not what the schema promises (a tampered or corrupt row).
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    /// A unique value (an email address, a name) is already taken.
    #[error("{0} already exists")]
    Conflict(&'static str),
}

impl StorageError {
    /// Maps a unique-constraint violation to [`StorageError::Conflict`] naming `what`.
    pub(crate) fn unique_as_conflict(error: sqlx::Error, what: &'static str) -> Self {
        match &error {
            sqlx::Error::Database(db) if db.is_unique_violation() => StorageError::Conflict(what),
            _ => StorageError::Database(error),
        }
    }
}
