//! The key hierarchy at work: master key → installation key and organisation keys → job keys →
//! document data keys (inside each sealed blob). Every wrap binds the owner's ids as
//! associated data, so a wrapped key or a blob copied to another organisation, job or
//! document does not open. Rotation of the master key lives here too.

use anyhow::Context;
use chrono::{DateTime, Utc};
use petal_crypto::envelope::{self, Opener, WrappingKey};
use petal_crypto::{Key256, MasterKeyring};
use petal_domain::{DocumentId, Email, JobId, OrgId};
use petal_storage::keys::{self, WrappedKey};
use petal_storage::{Database, ScopedTx, StorageError};
use std::path::Path;
use std::sync::Arc;

/// The name of the installation key in `installation_keys`.
const INSTALLATION_KEY: &str = "installation";

/// The master keys and the unwrapped installation key.
#[derive(Debug, Clone)]
pub struct Vault {
    ring: Arc<MasterKeyring>,
}

/// The associated data each wrap and seal binds.
fn org_key_context(org: OrgId) -> Vec<u8> {
    format!("petal/org-key/v1|org:{org}").into_bytes()
}

fn installation_context() -> &'static [u8] {
    b"petal/installation-key/v1"
}

fn job_key_context(org: OrgId, job: JobId) -> Vec<u8> {
    format!("petal/job-key/v1|org:{org}|job:{job}").into_bytes()
}

fn document_context(org: OrgId, job: JobId, document: DocumentId) -> Vec<u8> {
    format!("petal/document/v1|org:{org}|job:{job}|doc:{document}").into_bytes()
}

fn field_context(field: &str, document: DocumentId) -> Vec<u8> {
    format!("petal/field/v1|{field}|doc:{document}").into_bytes()
}

/// Something in the key hierarchy failed: a storage error, or a key that does not open
/// (tampered, or wrapped under a master key this process does not hold).
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A key or blob did not open.
    #[error("a stored key or document does not decrypt (tampered, or an unknown master key)")]
    Crypto(#[from] petal_crypto::CryptoError),
    /// A key is wrapped under a master key not in the key file.
    #[error("a stored key is wrapped under master key {0}, which the key file does not hold")]
    UnknownMasterKey(String),
}

impl Vault {
    /// A vault over the master keys from the key file.
    pub fn new(ring: MasterKeyring) -> Self {
        Self { ring: Arc::new(ring) }
    }

    fn unwrap_under_master(
        &self,
        stored: &WrappedKey,
        context: &[u8],
    ) -> Result<Key256, VaultError> {
        let master = self
            .ring
            .find(&stored.master_key_id)
            .ok_or_else(|| VaultError::UnknownMasterKey(stored.master_key_id.clone()))?;
        Ok(master.wrapping_key()?.unwrap_key(&stored.wrapped, context)?)
    }

    fn wrap_under_master(&self, key: &Key256, context: &[u8]) -> Result<WrappedKey, VaultError> {
        let master = self.ring.current();
        Ok(WrappedKey {
            master_key_id: master.key_id(),
            wrapped: master.wrapping_key()?.wrap_key(key, context)?,
        })
    }

    /// The installation key (created and stored on first start): the root the per-purpose
    /// keys are derived from.
    pub async fn installation_key(
        &self,
        db: &Database,
        now: DateTime<Utc>,
    ) -> Result<Key256, VaultError> {
        let stored = match keys::installation_key(db, INSTALLATION_KEY).await? {
            Some(stored) => stored,
            None => {
                let fresh = self.wrap_under_master(&Key256::generate()?, installation_context())?;
                keys::insert_installation_key(db, INSTALLATION_KEY, &fresh, now).await?
            }
        };
        self.unwrap_under_master(&stored, installation_context())
    }

    /// The transaction's organisation key, created on first use.
    pub async fn org_key(
        &self,
        tx: &mut ScopedTx,
        now: DateTime<Utc>,
    ) -> Result<Key256, VaultError> {
        let org = tx.scope().org_id();
        let stored = match keys::org_key(tx).await? {
            Some(stored) => stored,
            None => {
                let fresh = self.wrap_under_master(&Key256::generate()?, &org_key_context(org))?;
                keys::insert_org_key(tx, &fresh, now).await?
            }
        };
        self.unwrap_under_master(&stored, &org_key_context(org))
    }

    /// A fresh key for a new job and its wrapped form (to store in the job's row).
    pub async fn new_job_key(
        &self,
        tx: &mut ScopedTx,
        job: JobId,
        now: DateTime<Utc>,
    ) -> Result<(JobKey, Vec<u8>), VaultError> {
        let org = tx.scope().org_id();
        let org_key = self.org_key(tx, now).await?;
        let key = Key256::generate()?;
        let wrapped = org_key.wrapping_key("org")?.wrap_key(&key, &job_key_context(org, job))?;
        Ok((JobKey { org, job, key }, wrapped))
    }

    /// Unwraps a stored job key.
    pub async fn job_key(
        &self,
        tx: &mut ScopedTx,
        job: JobId,
        wrapped: &[u8],
        now: DateTime<Utc>,
    ) -> Result<JobKey, VaultError> {
        let org = tx.scope().org_id();
        let org_key = self.org_key(tx, now).await?;
        let key = org_key.wrapping_key("org")?.unwrap_key(wrapped, &job_key_context(org, job))?;
        Ok(JobKey { org, job, key })
    }

    /// The keyed blind index of an email address within the transaction's organisation: the
    /// same address gives the same index in every job of the organisation (so erasure can find
    /// a candidate), and nothing without the organisation key can compute or reverse it.
    pub async fn email_index(
        &self,
        tx: &mut ScopedTx,
        email: &Email,
        now: DateTime<Utc>,
    ) -> Result<[u8; 32], VaultError> {
        let org_key = self.org_key(tx, now).await?;
        Ok(org_key.derive(b"petal/blind-index/email/v1").mac(email.as_str().as_bytes()))
    }

    /// Re-wraps every stored key that a previous master key wraps under the current one, and
    /// returns how many were re-wrapped. Blobs are not touched: they hang below the
    /// organisation keys, which keep their value.
    pub async fn rewrap_all(&self, db: &Database) -> anyhow::Result<usize> {
        let current = self.ring.current().key_id();
        let mut tx = db.begin().await?;
        let stale = keys::wrapped_under_other_keys(&mut tx, &current).await?;
        let mut count = 0;
        for (owner, stored) in &stale {
            let context = match owner {
                keys::KeyOwner::Installation(_) => installation_context().to_vec(),
                keys::KeyOwner::Org(org) => org_key_context(*org),
            };
            let key = self.unwrap_under_master(stored, &context)?;
            let next = self.wrap_under_master(&key, &context)?;
            if keys::rewrap(&mut tx, owner, stored, &next).await? {
                count += 1;
            }
        }
        tx.commit().await?;
        Ok(count)
    }
}

/// Rotates the master key: generates a new current key into the key file (keeping the old
/// ones), re-wraps every stored key under it, then drops the old keys from the file. Prints
/// nothing; returns (new key id, retired key ids, keys re-wrapped).
pub async fn rotate_master_key(
    db: &Database,
    key_file: &Path,
) -> anyhow::Result<(String, Vec<String>, usize)> {
    let (ring, _) = MasterKeyring::load_or_create(key_file, false)?;
    let ring = ring.rotate(key_file).context("cannot write the new master key")?;
    let retired = ring.previous_ids();
    let vault = Vault::new(ring);
    // If this fails, the key file still holds the previous keys: everything stays readable
    // and running the rotation again finishes the job.
    let rewrapped = vault.rewrap_all(db).await?;
    let ring = Arc::try_unwrap(vault.ring)
        .map_err(|_| anyhow::anyhow!("master keyring still shared"))?
        .retire_previous(key_file)
        .context("cannot drop the previous master keys from the key file")?;
    Ok((ring.current().key_id(), retired, rewrapped))
}

/// A job's key, bound to its organisation and job.
pub struct JobKey {
    org: OrgId,
    job: JobId,
    key: Key256,
}

impl JobKey {
    fn document_kek(&self) -> Result<WrappingKey, petal_crypto::CryptoError> {
        self.key.wrapping_key(&format!("job:{}", self.job))
    }

    /// Encrypts a document's bytes for storage, in their own buffer.
    pub fn seal_document(
        &self,
        document: DocumentId,
        plaintext: Vec<u8>,
    ) -> Result<envelope::Sealed, petal_crypto::CryptoError> {
        let context = document_context(self.org, self.job, document);
        envelope::seal_in_place(&self.document_kek()?, &context, plaintext)
    }

    /// A streaming decryptor for a stored document; it owns what it needs, so it can outlive
    /// this key (a download streams after the handler returns).
    pub fn document_opener(
        &self,
        document: DocumentId,
    ) -> Result<Opener<WrappingKey>, petal_crypto::CryptoError> {
        Ok(Opener::new(self.document_kek()?, &document_context(self.org, self.job, document)))
    }

    /// Encrypts one field of a document's candidate data (`field` names it: `filename`,
    /// `text`, `name`, `email`, …).
    pub fn seal_field(
        &self,
        field: &str,
        document: DocumentId,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, petal_crypto::CryptoError> {
        self.key
            .derive(b"petal/fields/v1")
            .sealer()?
            .seal(plaintext, &field_context(field, document))
    }

    /// Decrypts a field sealed by [`JobKey::seal_field`].
    pub fn open_field(
        &self,
        field: &str,
        document: DocumentId,
        sealed: &[u8],
    ) -> Result<zeroize::Zeroizing<Vec<u8>>, petal_crypto::CryptoError> {
        self.key.derive(b"petal/fields/v1").sealer()?.open(sealed, &field_context(field, document))
    }
}
