//! The key hierarchy at work: master key → installation key and organisation keys → job keys →
//! document data keys (inside each sealed blob). Every wrap binds the owner's ids as
//! associated data, so a wrapped key or a blob copied to another organisation, job or
//! document does not open. Rotation of the master key lives here too.

use anyhow::Context;
use chrono::{DateTime, Utc};
use petal_crypto::envelope::{self, Opener, WrappingKey};
use petal_crypto::{Key256, MasterKeyring};
use petal_domain::audit::{AuditAction, AuditContext, AuditEvent, Detail, Target};
use petal_domain::{DocumentId, Email, ExportId, JobId, OrgId};
use petal_storage::keys::{self, WrappedKey};
use petal_storage::{Database, OrgScope, ScopedTx, StorageError, audit};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

/// The name of the installation key in `installation_keys`.
const INSTALLATION_KEY: &str = "installation";

/// The master keys, and the way down the hierarchy from them.
#[derive(Debug, Clone)]
pub struct Vault {
    ring: Arc<RwLock<Arc<MasterKeyring>>>,
    /// Where the ring was read from, to re-read when a stored key names a master key this
    /// process has not loaded (another process rotated it).
    key_file: Option<PathBuf>,
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

fn export_key_context(org: OrgId, export: ExportId) -> Vec<u8> {
    format!("petal/export-key/v1|org:{org}|export:{export}").into_bytes()
}

/// What an export's encrypted ZIP is sealed for.
pub fn export_context(org: OrgId, export: ExportId) -> Vec<u8> {
    format!("petal/export/v1|org:{org}|export:{export}").into_bytes()
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
    /// The database has accounts but no installation key: it was made by an earlier
    /// development build that derived users' keys from the master key directly.
    #[error(
        "this database has user accounts but no installation key: it was created by an earlier \
         development build of Petal, whose sealed second factors this version cannot read; \
         start from a fresh data directory and database"
    )]
    PredatesInstallationKey,
    /// A job exists but its organisation has no key: the key was lost or tampered with.
    #[error("the organisation has no key, so its jobs cannot be opened")]
    MissingOrgKey,
}

impl Vault {
    /// A vault over `ring`, read from `key_file` (re-read when a stored key names a master key
    /// the ring lacks: after `petal keys rotate`, running servers pick the new key up).
    pub fn new(ring: MasterKeyring, key_file: Option<PathBuf>) -> Self {
        Self { ring: Arc::new(RwLock::new(Arc::new(ring))), key_file }
    }

    fn ring(&self) -> Arc<MasterKeyring> {
        match self.ring.read() {
            Ok(ring) => Arc::clone(&ring),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Re-reads the key file; true if it now holds `key_id`.
    fn reload_for(&self, key_id: &str) -> bool {
        let Some(path) = &self.key_file else { return false };
        match MasterKeyring::load_or_create(path, false) {
            Ok((ring, _)) if ring.find(key_id).is_some() => {
                tracing::info!(key_id = %ring.current().key_id(), "master key file re-read");
                let fresh = Arc::new(ring);
                match self.ring.write() {
                    Ok(mut slot) => *slot = fresh,
                    Err(poisoned) => *poisoned.into_inner() = fresh,
                }
                true
            }
            Ok(_) => false,
            Err(error) => {
                tracing::error!(%error, "cannot re-read the master key file");
                false
            }
        }
    }

    fn unwrap_under_master(
        &self,
        stored: &WrappedKey,
        context: &[u8],
    ) -> Result<Key256, VaultError> {
        let id = &stored.master_key_id;
        let mut ring = self.ring();
        if ring.find(id).is_none() && self.reload_for(id) {
            ring = self.ring();
        }
        let master = ring.find(id).ok_or_else(|| VaultError::UnknownMasterKey(id.clone()))?;
        Ok(master.wrapping_key()?.unwrap_key(&stored.wrapped, context)?)
    }

    fn wrap_under_master(&self, key: &Key256, context: &[u8]) -> Result<WrappedKey, VaultError> {
        let ring = self.ring();
        let master = ring.current();
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
                // Inventing a key here would silently lock every existing user out.
                if keys::any_user_exists(db).await? {
                    return Err(VaultError::PredatesInstallationKey);
                }
                let fresh = self.wrap_under_master(&Key256::generate()?, installation_context())?;
                keys::insert_installation_key(db, INSTALLATION_KEY, &fresh, now).await?
            }
        };
        self.unwrap_under_master(&stored, installation_context())
    }

    /// The stored installation key, never creating one (for tools that only read).
    pub async fn stored_installation_key(
        &self,
        db: &Database,
    ) -> Result<Option<Key256>, VaultError> {
        keys::installation_key(db, INSTALLATION_KEY)
            .await?
            .map(|stored| self.unwrap_under_master(&stored, installation_context()))
            .transpose()
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

    /// A fresh key for a new export and its wrapped form (to store in the export's row): the
    /// key-encryption key of the export's ZIP.
    pub async fn new_export_key(
        &self,
        tx: &mut ScopedTx,
        export: ExportId,
        now: DateTime<Utc>,
    ) -> Result<(WrappingKey, Vec<u8>), VaultError> {
        let org = tx.scope().org_id();
        let org_key = self.org_key(tx, now).await?;
        let key = Key256::generate()?;
        let wrapped =
            org_key.wrapping_key("org")?.wrap_key(&key, &export_key_context(org, export))?;
        Ok((key.wrapping_key(&format!("export:{export}"))?, wrapped))
    }

    /// Unwraps a stored export key (only reads, like [`Vault::job_key`]).
    pub async fn export_key(
        &self,
        tx: &mut ScopedTx,
        export: ExportId,
        wrapped: &[u8],
    ) -> Result<WrappingKey, VaultError> {
        let org = tx.scope().org_id();
        let stored = keys::org_key(tx).await?.ok_or(VaultError::MissingOrgKey)?;
        let org_key = self.unwrap_under_master(&stored, &org_key_context(org))?;
        let key =
            org_key.wrapping_key("org")?.unwrap_key(wrapped, &export_key_context(org, export))?;
        Ok(key.wrapping_key(&format!("export:{export}"))?)
    }

    /// Unwraps a stored job key. Only reads: a missing organisation key is an error, never
    /// replaced (a new one could not open the job anyway), so this runs in read-only
    /// transactions too.
    pub async fn job_key(
        &self,
        tx: &mut ScopedTx,
        job: JobId,
        wrapped: &[u8],
    ) -> Result<JobKey, VaultError> {
        let org = tx.scope().org_id();
        let stored = keys::org_key(tx).await?.ok_or(VaultError::MissingOrgKey)?;
        let org_key = self.unwrap_under_master(&stored, &org_key_context(org))?;
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
    /// Each organisation's re-wrap is recorded in its audit trail (actor `cli`), in the
    /// same transaction.
    pub async fn rewrap_all(&self, db: &Database, now: DateTime<Utc>) -> anyhow::Result<usize> {
        let current = self.ring().current().key_id();
        let stale = keys::wrapped_under_other_keys(&mut db.begin().await?, &current).await?;
        let mut count = 0;
        for (owner, stored) in &stale {
            let rewrapped = match owner {
                keys::KeyOwner::Installation(name) => {
                    let next = self.rewrapped(stored, installation_context())?;
                    let mut tx = db.begin().await?;
                    let done = keys::rewrap_installation_key(&mut tx, name, stored, &next).await?;
                    tx.commit().await?;
                    done
                }
                keys::KeyOwner::Org(org) => {
                    let next = self.rewrapped(stored, &org_key_context(*org))?;
                    // The operator's own command on the server.
                    #[allow(clippy::disallowed_methods)]
                    let scope = OrgScope::for_operator(db, *org)
                        .await?
                        .with_context(|| format!("organisation {org} vanished"))?;
                    let mut tx = db.begin_scoped(&scope).await?;
                    let done = keys::rewrap_org_key(&mut tx, stored, &next).await?;
                    let event = AuditEvent::success(
                        AuditAction::MasterKeyRotated,
                        Some(Target { kind: "organisation", id: org.to_string() }),
                    )
                    .detail("from_master_key", Detail::Label(stored.master_key_id.clone()))
                    .detail("to_master_key", Detail::Label(next.master_key_id.clone()));
                    audit::append(&mut tx, now, &AuditContext::cli(), &event).await?;
                    tx.commit().await?;
                    done
                }
            };
            count += usize::from(rewrapped);
        }
        Ok(count)
    }

    /// `stored` unwrapped by whichever master key wrapped it and wrapped again by the current.
    fn rewrapped(&self, stored: &WrappedKey, context: &[u8]) -> Result<WrappedKey, VaultError> {
        let key = self.unwrap_under_master(stored, context)?;
        self.wrap_under_master(&key, context)
    }
}

/// What a key command did.
#[derive(Debug, serde::Serialize)]
pub struct KeyReport {
    /// The current master key's id.
    pub master_key_id: String,
    /// Previous master keys still in the key file.
    pub previous: Vec<String>,
    /// Previous master keys dropped from the key file.
    pub retired: Vec<String>,
    /// Stored keys re-wrapped under the current master key.
    pub rewrapped: usize,
}

/// Step one of a rotation: generates a new current master key into the key file (keeping the
/// previous ones, so servers still running on them keep working) and re-wraps every stored
/// key under it. Interrupted, it can simply be run again.
pub async fn rotate_master_key(
    db: &Database,
    key_file: &Path,
    now: DateTime<Utc>,
) -> anyhow::Result<KeyReport> {
    let (ring, _) = MasterKeyring::load_or_create(key_file, false)?;
    let ring = ring.rotate(key_file).context("cannot write the new master key")?;
    let vault = Vault::new(ring, None);
    let rewrapped = vault.rewrap_all(db, now).await?;
    let ring = vault.ring();
    Ok(KeyReport {
        master_key_id: ring.current().key_id(),
        previous: ring.previous_ids(),
        retired: Vec::new(),
        rewrapped,
    })
}

/// Step two, once every server runs on the new key (restarted, or re-read the file): re-wraps
/// anything still under a previous key (wrapped by a server before it switched), checks that
/// nothing is left, and only then drops the previous keys from the file.
pub async fn retire_previous_master_keys(
    db: &Database,
    key_file: &Path,
    now: DateTime<Utc>,
) -> anyhow::Result<KeyReport> {
    let (ring, _) = MasterKeyring::load_or_create(key_file, false)?;
    let vault = Vault::new(ring, None);
    let rewrapped = vault.rewrap_all(db, now).await?;
    let ring = vault.ring();
    let current = ring.current().key_id();
    let left = keys::wrapped_under_other_keys(&mut db.begin().await?, &current).await?;
    if !left.is_empty() {
        anyhow::bail!(
            "{} stored keys are still wrapped under a previous master key; nothing was retired",
            left.len()
        );
    }
    let retired = ring.previous_ids();
    drop(vault);
    let ring = Arc::try_unwrap(ring)
        .map_err(|_| anyhow::anyhow!("master keyring still shared"))?
        .retire_previous(key_file)
        .context("cannot drop the previous master keys from the key file")?;
    Ok(KeyReport {
        master_key_id: ring.current().key_id(),
        previous: Vec::new(),
        retired,
        rewrapped,
    })
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

    /// Decrypts a whole stored document in memory (for reading its text).
    pub fn open_document(
        &self,
        document: DocumentId,
        blob: &[u8],
    ) -> Result<zeroize::Zeroizing<Vec<u8>>, petal_crypto::CryptoError> {
        let mut opener = self.document_opener(document)?;
        let mut plain = zeroize::Zeroizing::new(opener.push(blob)?);
        plain.extend_from_slice(&opener.finish()?);
        Ok(plain)
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

#[cfg(test)]
mod tests {
    use super::*;
    use petal_domain::OrgName;
    use petal_storage::orgs;

    async fn fixture() -> (tempfile::TempDir, Database, Vault) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("petal.db").display());
        let db = Database::connect(&url).await.unwrap();
        db.migrate().await.unwrap();
        let (ring, _) =
            MasterKeyring::load_or_create(&dir.path().join("master.key"), true).unwrap();
        (dir, db, Vault::new(ring, None))
    }

    #[tokio::test]
    async fn the_email_index_is_stable_within_an_organisation_and_differs_across() {
        let (_dir, db, vault) = fixture().await;
        let now = Utc::now();
        let email = Email::parse("Jane.Marlowe@Example.test").unwrap();
        let mut first = orgs::create(db.begin().await.unwrap(), &OrgName::parse("A").unwrap(), now)
            .await
            .unwrap();
        let a = vault.email_index(&mut first, &email, now).await.unwrap();
        let again = Email::parse("jane.marlowe@example.test").unwrap();
        assert_eq!(a, vault.email_index(&mut first, &again, now).await.unwrap());
        let other = Email::parse("john@example.test").unwrap();
        assert_ne!(a, vault.email_index(&mut first, &other, now).await.unwrap());
        first.commit().await.unwrap();
        let mut second =
            orgs::create(db.begin().await.unwrap(), &OrgName::parse("B").unwrap(), now)
                .await
                .unwrap();
        assert_ne!(a, vault.email_index(&mut second, &email, now).await.unwrap());
        second.commit().await.unwrap();
    }

    #[tokio::test]
    async fn reading_a_job_key_never_invents_an_organisation_key() {
        let (_dir, db, vault) = fixture().await;
        let now = Utc::now();
        let mut tx = orgs::create(db.begin().await.unwrap(), &OrgName::parse("A").unwrap(), now)
            .await
            .unwrap();
        let read = vault.job_key(&mut tx, JobId::new(), b"not a key").await;
        assert!(matches!(read, Err(VaultError::MissingOrgKey)));
        assert!(keys::org_key(&mut tx).await.unwrap().is_none());
        tx.commit().await.unwrap();
    }

    #[tokio::test]
    async fn a_job_key_opens_only_its_own_fields_and_documents() {
        let (_dir, db, vault) = fixture().await;
        let now = Utc::now();
        let mut tx = orgs::create(db.begin().await.unwrap(), &OrgName::parse("A").unwrap(), now)
            .await
            .unwrap();
        let job = JobId::new();
        let (key, wrapped) = vault.new_job_key(&mut tx, job, now).await.unwrap();
        let reopened = vault.job_key(&mut tx, job, &wrapped).await.unwrap();
        assert!(vault.job_key(&mut tx, JobId::new(), &wrapped).await.is_err(), "moved job");
        let doc = DocumentId::new();
        let sealed = key.seal_field("name", doc, b"Jane Marlowe").unwrap();
        assert_eq!(&reopened.open_field("name", doc, &sealed).unwrap()[..], b"Jane Marlowe");
        assert!(reopened.open_field("email", doc, &sealed).is_err(), "another field");
        assert!(
            reopened.open_field("name", DocumentId::new(), &sealed).is_err(),
            "another document"
        );
        let blob = key.seal_document(doc, b"%PDF-1.7 cv".to_vec()).unwrap().to_vec();
        let mut opener = reopened.document_opener(doc).unwrap();
        let mut plain = opener.push(&blob).unwrap();
        plain.extend(opener.finish().unwrap());
        assert_eq!(plain, b"%PDF-1.7 cv");
        let mut elsewhere = reopened.document_opener(DocumentId::new()).unwrap();
        assert!(elsewhere.push(&blob).is_err() || elsewhere.finish().is_err());
        tx.commit().await.unwrap();
    }
}
