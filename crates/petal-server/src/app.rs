//! Opening Petal's resources from a configuration: the data directory, the master key, the
//! object store, the database (migrated) and the installation key.

use crate::config::Config;
use anyhow::Context;
use petal_crypto::{Key256, KeySource, MasterKeyring};
use petal_domain::Clock;
use petal_storage::Database;
use petal_storage::objects::ObjectStorage;
use secrecy::ExposeSecret;
use std::os::unix::fs::DirBuilderExt;

/// The opened resources.
#[derive(Debug)]
pub struct Resources {
    /// The database, migrated.
    pub db: Database,
    /// The object store.
    pub objects: ObjectStorage,
    /// The key hierarchy under the master key.
    pub vault: crate::vault::Vault,
    /// The installation key, from which session, second-factor, code and link keys derive.
    pub installation_key: Key256,
}

impl Resources {
    /// Creates the data directory (mode 0700) if needed, checks (or generates) the master key,
    /// opens the object store (writing its readiness marker) and the database, and applies
    /// migrations, then unwraps (or creates) the installation key.
    pub async fn open(config: &Config, clock: &dyn Clock) -> anyhow::Result<Self> {
        create_data_dir(config)?;
        let (ring, source) = MasterKeyring::load_or_create(
            &config.master_key_file,
            config.master_key_generated_if_missing,
        )?;
        let key_id = ring.current().key_id();
        match source {
            KeySource::Generated => tracing::warn!(
                path = %config.master_key_file.display(),
                key_id = %key_id,
                "generated a new master key; production keeps the master key outside the data \
                 directory (PETAL_MASTER_KEY_FILE) or in a KMS"
            ),
            KeySource::Loaded => tracing::info!(key_id = %key_id, "master key loaded"),
        }
        let objects = open_objects(config)?;
        objects.write_marker().await.context("the object store does not accept writes")?;
        let db = open_database(config, Opening::CreateAndMigrate).await?;
        let vault = crate::vault::Vault::new(ring, Some(config.master_key_file.clone()));
        let installation_key = vault
            .installation_key(&db, clock.now())
            .await
            .context("cannot open the installation key with the master key file")?;
        Ok(Self { db, objects, vault, installation_key })
    }

    /// Opens what already exists, creating nothing: the database as it is (unmigrated), the
    /// master key file, the object store and the stored installation key; for operator tools
    /// that must not initialise a fresh installation by mistake.
    pub async fn open_existing(config: &Config) -> anyhow::Result<Self> {
        let db = open_database(config, Opening::Existing).await?;
        let (ring, _) = MasterKeyring::load_or_create(&config.master_key_file, false)?;
        let objects = open_objects(config)?;
        let vault = crate::vault::Vault::new(ring, Some(config.master_key_file.clone()));
        let installation_key = vault
            .stored_installation_key(&db)
            .await
            .context("cannot open the installation key with the master key file")?
            .context("the database holds no installation key: has `petal serve` ever run?")?;
        Ok(Self { db, objects, vault, installation_key })
    }
}

/// Opens the configured object store.
fn open_objects(config: &Config) -> anyhow::Result<ObjectStorage> {
    let options: Vec<(String, String)> = config
        .storage_options
        .iter()
        .map(|(k, v)| (k.clone(), v.expose_secret().to_owned()))
        .collect();
    let objects = ObjectStorage::open(&config.storage_url, &options)?;
    for name in objects.ignored_options() {
        tracing::warn!(option = %name, "object store setting not recognised; ignored");
    }
    Ok(objects)
}

/// How to open the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opening {
    /// Create the data directory and database if missing, then apply migrations.
    CreateAndMigrate,
    /// Open an existing database as it is; for tools that only read.
    Existing,
}

/// Opens the configured database without touching the master key or the object store.
pub async fn open_database(config: &Config, opening: Opening) -> anyhow::Result<Database> {
    let url = config.database_url.expose();
    let cannot = || format!("cannot open the database {}", config.database_url.redacted());
    let db = match opening {
        Opening::CreateAndMigrate => {
            create_data_dir(config)?;
            let db = Database::connect(url).await.with_context(cannot)?;
            db.migrate().await.with_context(cannot)?;
            db
        }
        Opening::Existing => Database::open_existing(url).await.with_context(cannot)?,
    };
    tracing::info!(database = %config.database_url.redacted(), "database ready");
    Ok(db)
}

/// Creates the data directory, mode 0700, if it is missing.
fn create_data_dir(config: &Config) -> anyhow::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&config.data_dir)
        .with_context(|| format!("cannot create data directory {}", config.data_dir.display()))
}
