//! The object store that holds documents, organisation exports and copies of the audit
//! trail's signed checkpoints.
//!
//! One interface, [`object_store::ObjectStore`], whatever the backend: the local filesystem
//! (`file://`, the embedded default), S3 or an S3-compatible server (`s3://bucket/prefix`) and
//! Google Cloud Storage (`gs://bucket/prefix`). Credentials and endpoints come as options
//! (the usual `AWS_*` and `GOOGLE_*` names, lower-cased), never inside the URL.

use crate::StorageError;
use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, PutMode, PutOptions, PutPayload, WriteMultipart};
use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;
use std::sync::Arc;
use url::Url;

/// An object being written part by part.
pub struct ObjectWriter {
    upload: WriteMultipart,
    written: u64,
}

impl std::fmt::Debug for ObjectWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ObjectWriter({} bytes)", self.written)
    }
}

/// Parts in flight at once while writing.
const PARTS_IN_FLIGHT: usize = 4;

impl ObjectWriter {
    /// Appends `bytes`, waiting first while too many parts are still being sent, so memory
    /// stays bounded whatever the object's size.
    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), StorageError> {
        self.upload.wait_for_capacity(PARTS_IN_FLIGHT).await?;
        self.upload.write(bytes);
        self.written += bytes.len() as u64;
        Ok(())
    }

    /// Completes the object and returns its size in bytes.
    pub async fn finish(self) -> Result<u64, StorageError> {
        self.upload.finish().await?;
        Ok(self.written)
    }

    /// Abandons the object: nothing is left under its name.
    pub async fn abort(self) -> Result<(), StorageError> {
        Ok(self.upload.abort().await?)
    }
}

/// An opened object store.
#[derive(Debug, Clone)]
pub struct ObjectStorage {
    store: Arc<dyn ObjectStore>,
    ignored: Vec<String>,
}

impl ObjectStorage {
    /// Opens the store named by `url` with backend `options` (such as `aws_endpoint_url`,
    /// `aws_access_key_id`, `google_service_account_key`). For `file://` the folder is created
    /// (mode 0700) if missing.
    pub fn open(url: &str, options: &[(String, String)]) -> Result<Self, StorageError> {
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
                Ok(Self { store: Arc::new(store), ignored: Vec::new() })
            }
            // Options the builder does not know (cloud platforms set many `AWS_*` variables
            // of their own) are set aside for the caller to mention, not fatal.
            "s3" => {
                let mut builder = AmazonS3Builder::new().with_url(url);
                let mut ignored = Vec::new();
                for (key, value) in options.iter().filter(|(k, _)| k.starts_with("aws_")) {
                    match key.parse() {
                        Ok(known) => builder = builder.with_config(known, value),
                        Err(_) => ignored.push(key.clone()),
                    }
                }
                Ok(Self::prefixed(builder.build()?, &parsed, ignored))
            }
            "gs" => {
                let mut builder = GoogleCloudStorageBuilder::new().with_url(url);
                let mut ignored = Vec::new();
                for (key, value) in options.iter().filter(|(k, _)| k.starts_with("google_")) {
                    match key.parse() {
                        Ok(known) => builder = builder.with_config(known, value),
                        Err(_) => ignored.push(key.clone()),
                    }
                }
                Ok(Self::prefixed(builder.build()?, &parsed, ignored))
            }
            other => Err(StorageError::Config(format!(
                "storage URL scheme {other:?} is not supported; use file://, s3:// or gs://"
            ))),
        }
    }

    /// A bucket store under the URL's path (`s3://bucket/a/b` keeps objects under `a/b/`).
    fn prefixed<T: ObjectStore>(store: T, url: &Url, ignored: Vec<String>) -> Self {
        let prefix = url.path().trim_matches('/');
        if prefix.is_empty() {
            Self { store: Arc::new(store), ignored }
        } else {
            Self { store: Arc::new(PrefixStore::new(store, prefix)), ignored }
        }
    }

    /// Option names the backend did not recognise and therefore ignored (names only).
    pub fn ignored_options(&self) -> &[String] {
        &self.ignored
    }

    /// Stores the concatenation of `chunks` as object `name`, replacing any object of that
    /// name (chunks are written as they are, without joining them first).
    pub async fn put(&self, name: &str, chunks: Vec<Bytes>) -> Result<(), StorageError> {
        self.store.put(&ObjectPath::from(name), chunks.into_iter().collect()).await?;
        Ok(())
    }

    /// Stores `bytes` as object `name` unless an object of that name exists, which is then
    /// left as it is and returned (`None`: stored). The check and the write are one atomic
    /// step where the store offers it (file system, S3, GCS); otherwise the object is read
    /// first.
    pub async fn put_new(&self, name: &str, bytes: Bytes) -> Result<Option<Bytes>, StorageError> {
        let path = ObjectPath::from(name);
        let create = PutOptions { mode: PutMode::Create, ..PutOptions::default() };
        match self.store.put_opts(&path, bytes.clone().into(), create).await {
            Ok(_) => Ok(None),
            Err(object_store::Error::AlreadyExists { .. }) => Ok(Some(self.get(name).await?)),
            Err(object_store::Error::NotImplemented | object_store::Error::NotSupported { .. }) => {
                match self.store.get(&path).await {
                    Ok(existing) => Ok(Some(existing.bytes().await?)),
                    Err(object_store::Error::NotFound { .. }) => {
                        self.store.put(&path, bytes.into()).await?;
                        Ok(None)
                    }
                    Err(e) => Err(e.into()),
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Starts writing object `name` part by part (a multipart upload), for a producer too
    /// large to hold in memory; nothing is visible under `name` until
    /// [`ObjectWriter::finish`].
    pub async fn writer(&self, name: &str) -> Result<ObjectWriter, StorageError> {
        let upload = self.store.put_multipart(&ObjectPath::from(name)).await?;
        Ok(ObjectWriter { upload: WriteMultipart::new(upload), written: 0 })
    }

    /// Streams object `name`.
    pub async fn get_stream(
        &self,
        name: &str,
    ) -> Result<BoxStream<'static, Result<Bytes, StorageError>>, StorageError> {
        let result = self.store.get(&ObjectPath::from(name)).await?;
        Ok(result.into_stream().map_err(StorageError::from).boxed())
    }

    /// Reads object `name` whole.
    pub async fn get(&self, name: &str) -> Result<Bytes, StorageError> {
        Ok(self.store.get(&ObjectPath::from(name)).await?.bytes().await?)
    }

    /// Deletes object `name`; an object already gone counts as deleted.
    pub async fn delete(&self, name: &str) -> Result<(), StorageError> {
        match self.store.delete(&ObjectPath::from(name)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The names of every object under the folder `prefix` (at any depth), in no particular
    /// order.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        let prefix = ObjectPath::from(prefix);
        let names: Vec<String> = self
            .store
            .list(Some(&prefix))
            .map_ok(|meta| meta.location.to_string())
            .try_collect()
            .await?;
        Ok(names)
    }

    /// Whether object `name` exists.
    pub async fn exists(&self, name: &str) -> Result<bool, StorageError> {
        match self.store.head(&ObjectPath::from(name)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
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
        let storage = ObjectStorage::open(url.as_str(), &[]).unwrap();
        let chunks = vec![Bytes::from_static(b"sea"), Bytes::from_static(b"led")];
        storage.put("documents/x", chunks).await.unwrap();
        storage.put("audit/o/checkpoints/1.json", vec![Bytes::from_static(b"{}")]).await.unwrap();
        storage.put("audit/o/anchors/2.json", vec![Bytes::from_static(b"{}")]).await.unwrap();
        let mut writer = storage.writer("exports/big").await.unwrap();
        for _ in 0..3 {
            writer.write(&[7u8; 3 * 1024 * 1024]).await.unwrap();
        }
        assert!(!storage.exists("exports/big").await.unwrap(), "visible before it is finished");
        assert_eq!(writer.finish().await.unwrap(), 9 * 1024 * 1024);
        assert_eq!(storage.get("exports/big").await.unwrap().len(), 9 * 1024 * 1024);
        let abandoned = storage.writer("exports/abandoned").await.unwrap();
        abandoned.abort().await.unwrap();
        assert!(!storage.exists("exports/abandoned").await.unwrap());
        assert_eq!(storage.put_new("seal", Bytes::from_static(b"first")).await.unwrap(), None);
        let kept = storage.put_new("seal", Bytes::from_static(b"second")).await.unwrap();
        assert_eq!(kept.as_deref(), Some(&b"first"[..]));
        assert_eq!(&storage.get("seal").await.unwrap()[..], b"first");
        let mut listed = storage.list("audit/o/").await.unwrap();
        listed.sort();
        assert_eq!(listed, ["audit/o/anchors/2.json", "audit/o/checkpoints/1.json"]);
        assert!(storage.list("audit/p/").await.unwrap().is_empty());
        assert!(storage.exists("documents/x").await.unwrap());
        assert_eq!(&storage.get("documents/x").await.unwrap()[..], b"sealed");
        storage.delete("documents/x").await.unwrap();
        storage.delete("documents/x").await.unwrap();
        assert!(!storage.exists("documents/x").await.unwrap());
        assert!(storage.check().await.is_err(), "ready before the marker was written");
        storage.write_marker().await.unwrap();
        storage.check().await.unwrap();
        let mode = std::fs::metadata(&folder).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }

    #[test]
    fn bucket_urls_open_with_their_options() {
        let s3 = [
            ("aws_endpoint_url".to_owned(), "http://127.0.0.1:9".to_owned()),
            ("aws_allow_http".to_owned(), "true".to_owned()),
            ("aws_region".to_owned(), "eu-west-2".to_owned()),
        ];
        ObjectStorage::open("s3://cvs/petal", &s3).unwrap();
        // A service-account key that skips OAuth lets the builder run offline.
        let gcs = [(
            "google_service_account_key".to_owned(),
            r#"{"private_key":"","private_key_id":"","client_email":"x@y.test","disable_oauth":true}"#.to_owned(),
        )];
        ObjectStorage::open("gs://cvs/petal", &gcs).unwrap();
    }

    #[test]
    fn unsupported_or_malformed_urls_are_refused_clearly() {
        let err = ObjectStorage::open("ftp://example.test/x", &[]).unwrap_err();
        assert!(err.to_string().contains("not supported"), "{err}");
        assert!(ObjectStorage::open("not a url", &[]).is_err());
        let typo = [("aws_acess_key_id".to_owned(), "x".to_owned())];
        let opened = ObjectStorage::open("s3://bucket/prefix", &typo).unwrap();
        assert_eq!(opened.ignored_options(), ["aws_acess_key_id"]);
    }
}
