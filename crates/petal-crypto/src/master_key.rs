//! The master key file: 32 random bytes written as 64 hex characters, mode 0600.

use aws_lc_rs::digest;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Length of the master key in bytes (AES-256).
const KEY_LEN: usize = 32;

/// The master key. Its `Debug` output shows only the key id, never the key.
pub struct MasterKey {
    bytes: Zeroizing<[u8; KEY_LEN]>,
}

/// Where the key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    /// Read from an existing file.
    Loaded,
    /// Generated on this run and written to the file.
    Generated,
}

/// Why the master key could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    /// The file could not be read, created or inspected.
    #[error("cannot use master key file {path}: {source}")]
    Io {
        /// The key file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file does not hold exactly 64 hexadecimal characters.
    #[error("master key file {path} is malformed: expected 64 hexadecimal characters (32 bytes)")]
    Malformed {
        /// The key file.
        path: PathBuf,
    },
    /// Group or other users may read or write the file.
    #[error(
        "master key file {path} is accessible by other users (mode {mode:o}); run `chmod 600 {path}`"
    )]
    TooOpen {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
}

impl MasterKey {
    /// Reads the key at `path`. When the file does not exist and `create_if_missing` is set,
    /// generates a fresh key and writes it with mode 0600; otherwise a missing file is an error.
    pub fn load_or_create(
        path: &Path,
        create_if_missing: bool,
    ) -> Result<(Self, KeySource), MasterKeyError> {
        let io = |source| MasterKeyError::Io { path: path.to_owned(), source };
        match fs::metadata(path) {
            Ok(_) => Ok((Self::load(path)?, KeySource::Loaded)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && create_if_missing => {
                Ok((Self::create(path)?, KeySource::Generated))
            }
            Err(e) => Err(io(e)),
        }
    }

    fn load(path: &Path) -> Result<Self, MasterKeyError> {
        let io = |source| MasterKeyError::Io { path: path.to_owned(), source };
        let mode = fs::metadata(path).map_err(io)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(MasterKeyError::TooOpen { path: path.to_owned(), mode });
        }
        let text = Zeroizing::new(fs::read_to_string(path).map_err(io)?);
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        hex::decode_to_slice(text.trim_end_matches(['\n', '\r']), bytes.as_mut_slice())
            .map_err(|_| MasterKeyError::Malformed { path: path.to_owned() })?;
        Ok(Self { bytes })
    }

    fn create(path: &Path) -> Result<Self, MasterKeyError> {
        let io = |source| MasterKeyError::Io { path: path.to_owned(), source };
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        aws_lc_rs::rand::fill(bytes.as_mut_slice())
            .map_err(|_| io(std::io::Error::other("system random number generator failed")))?;
        let mut file =
            OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).map_err(io)?;
        let text = Zeroizing::new(format!("{}\n", hex::encode(bytes.as_slice())));
        file.write_all(text.as_bytes()).map_err(io)?;
        file.sync_all().map_err(io)?;
        Ok(Self { bytes })
    }

    /// The raw key, for derivation inside this crate only.
    pub(crate) fn bytes(&self) -> &[u8] {
        self.bytes.as_slice()
    }

    /// A short public fingerprint of the key (16 hex characters), safe to log and to store
    /// beside data the key protects, so that rotation can tell key versions apart.
    pub fn key_id(&self) -> String {
        let mut context = digest::Context::new(&digest::SHA256);
        context.update(b"petal master key id v1\0");
        context.update(self.bytes.as_slice());
        let digest = context.finish();
        hex::encode(digest.as_ref().get(..8).unwrap_or_default())
    }
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey(id {})", self.key_id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_once_with_private_mode_then_loads_the_same_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let (first, source) = MasterKey::load_or_create(&path, true).unwrap();
        assert_eq!(source, KeySource::Generated);
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let (second, source) = MasterKey::load_or_create(&path, true).unwrap();
        assert_eq!(source, KeySource::Loaded);
        assert_eq!(first.key_id(), second.key_id());
        assert_eq!(first.key_id().len(), 16);
    }

    #[test]
    fn a_missing_explicit_key_is_not_invented() {
        let dir = tempfile::tempdir().unwrap();
        let err = MasterKey::load_or_create(&dir.path().join("absent.key"), false).unwrap_err();
        assert!(matches!(err, MasterKeyError::Io { .. }), "{err}");
    }

    #[test]
    fn refuses_a_malformed_key() {
        let dir = tempfile::tempdir().unwrap();
        for content in ["", "abc", &"zz".repeat(32), &"ab".repeat(33)] {
            let path = dir.path().join("bad.key");
            fs::write(&path, content).unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
            let err = MasterKey::load_or_create(&path, true).unwrap_err();
            assert!(matches!(err, MasterKeyError::Malformed { .. }), "{content:?}: {err}");
        }
    }

    #[test]
    fn refuses_a_key_others_can_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("open.key");
        fs::write(&path, "ab".repeat(32)).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = MasterKey::load_or_create(&path, true).unwrap_err();
        assert!(matches!(err, MasterKeyError::TooOpen { mode: 0o644, .. }), "{err}");
    }

    #[test]
    fn debug_never_shows_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let (key, _) = MasterKey::load_or_create(&path, true).unwrap();
        let file = fs::read_to_string(&path).unwrap();
        let shown = format!("{key:?}");
        assert!(!shown.contains(file.trim()), "{shown}");
        assert!(shown.contains(&key.key_id()));
    }
}
