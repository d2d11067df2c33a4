//! The object store that holds documents (and, later, exports and checkpoints).
//!
//! One interface, [`object_store::ObjectStore`], whatever the backend. This foundation opens
//! the local filesystem (`file://`), the embedded default; S3 and GCS arrive with the
//! document vault.

use crate::StorageError;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutPayload};
use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;
use std::sync::Arc;
use url::Url;

/// An opened object store.
#[derive(Debug, Clone)]
pub struct ObjectStorage {
    store: Arc<dyn ObjectStore>,
}

impl ObjectStorage {
    /// Opens the store named by `url`. For `file://` the folder is created (mode 0700) if
    /// missing.
    pub fn open(url: &str) -> Result<Self, StorageError> {
        let parsed = Url::parse(url)
            .map_err(|e| StorageError::Config(format!("storage URL is not a URL: {e}")))?;
        match parsed.scheme() {
            "file" => {
                let dir: PathBuf = parsed.to_file_path().map_err(|()| {
                    StorageError::Config("storage URL is not an absolute file path".to_owned())
                })?;
                std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir).map_err(
                    |e| {
                        StorageError::Config(format!(
                            "cannot create storage folder {}: {e}",
                            dir.display()
                        ))
                    },
                )?;
                let store = LocalFileSystem::new_with_prefix(&dir)?;
                Ok(Self { store: Arc::new(store) })
            }
            other => Err(StorageError::Config(format!(
                "storage URL scheme {other:?} is not supported yet; use file://"
            ))),
        }
    }

    /// Writes the readiness marker: done once at start-up, which also proves the store
    /// accepts writes before the server takes traffic.
    pub async fn write_marker(&self) -> Result<(), StorageError> {
        self.store.put(&marker(), PutPayload::from_static(b"petal")).await?;
        Ok(())
    }

    /// Checks that the store answers by reading the marker's metadata (readiness). Cheap and
    /// read-only, so an unauthenticated `/readyz` cannot be used to make the server write.
    pub async fn check(&self) -> Result<(), StorageError> {
        self.store.head(&marker()).await?;
        Ok(())
    }
}

/// The object written at start-up and read by readiness checks.
fn marker() -> ObjectPath {
    ObjectPath::from("petal/ready")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_local_store_is_created_private_and_passes_its_check() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("objects");
        let url = Url::from_directory_path(&folder).unwrap();
        let storage = ObjectStorage::open(url.as_str()).unwrap();
        assert!(storage.check().await.is_err(), "ready before the marker was written");
        storage.write_marker().await.unwrap();
        storage.check().await.unwrap();
        let mode = std::fs::metadata(&folder).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }

    #[test]
    fn unsupported_or_malformed_urls_are_refused_clearly() {
        let err = ObjectStorage::open("ftp://example.test/x").unwrap_err();
        assert!(err.to_string().contains("not supported"), "{err}");
        assert!(ObjectStorage::open("not a url").is_err());
    }
}
