//! Opening Petal's resources from a configuration: the data directory, the master key, the
//! object store and the database (migrated).

use crate::config::Config;
use anyhow::Context;
use petal_crypto::{KeySource, MasterKey};
use petal_storage::Database;
use petal_storage::objects::ObjectStorage;
use std::os::unix::fs::DirBuilderExt;

/// The opened resources.
#[derive(Debug)]
pub struct Resources {
    /// The database, migrated.
    pub db: Database,
    /// The object store.
    pub objects: ObjectStorage,
}

impl Resources {
    /// Creates the data directory (mode 0700) if needed, checks (or generates) the master key,
    /// opens the object store and the database, and applies migrations.
    pub async fn open(config: &Config) -> anyhow::Result<Self> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&config.data_dir)
            .with_context(|| {
                format!("cannot create data directory {}", config.data_dir.display())
            })?;
        let (key, source) = MasterKey::load_or_create(
            &config.master_key_file,
            config.master_key_generated_if_missing,
        )?;
        match source {
            KeySource::Generated => tracing::warn!(
                path = %config.master_key_file.display(),
                key_id = %key.key_id(),
                "generated a new master key; production keeps the master key outside the data \
                 directory (PETAL_MASTER_KEY_FILE) or in a KMS"
            ),
            KeySource::Loaded => tracing::info!(key_id = %key.key_id(), "master key loaded"),
        }
        let objects = ObjectStorage::open(&config.storage_url)?;
        let db = Database::connect(config.database_url.expose())
            .await
            .with_context(|| format!("cannot connect to {}", config.database_url.redacted()))?;
        db.migrate().await?;
        tracing::info!(database = %config.database_url.redacted(), "database ready");
        Ok(Self { db, objects })
    }
}
