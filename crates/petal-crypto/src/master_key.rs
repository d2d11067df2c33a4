//! The master key file: one key per line, each 32 random bytes written as 64 hex characters,
//! mode 0600. The first line is the current key; any further lines are previous keys kept
//! only while `petal keys rotate` re-wraps what they protect.

use crate::envelope::WrappingKey;
use crate::{CryptoError, Key256};
use aws_lc_rs::digest;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Length of the master key in bytes (AES-256).
const KEY_LEN: usize = 32;

/// A master key. Its `Debug` output shows only the key id, never the key.
pub struct MasterKey {
    key: Key256,
}

/// The master keys in the key file: the current one first, then previous ones.
#[derive(Debug)]
pub struct MasterKeyring {
    current: MasterKey,
    previous: Vec<MasterKey>,
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
    /// A line of the file does not hold exactly 64 hexadecimal characters.
    #[error(
        "master key file {path} is malformed: expected lines of 64 hexadecimal characters (32 bytes)"
    )]
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

impl MasterKeyring {
    /// Reads the key file at `path`. When the file does not exist and `create_if_missing` is
    /// set, generates a fresh key and writes it with mode 0600; otherwise a missing file is an
    /// error.
    pub fn load_or_create(
        path: &Path,
        create_if_missing: bool,
    ) -> Result<(Self, KeySource), MasterKeyError> {
        let io = |source| MasterKeyError::Io { path: path.to_owned(), source };
        match fs::metadata(path) {
            Ok(_) => Ok((Self::load(path)?, KeySource::Loaded)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && create_if_missing => {
                let ring = Self { current: MasterKey::generate(path)?, previous: Vec::new() };
                write_new(path, &ring)?;
                Ok((ring, KeySource::Generated))
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
        let malformed = || MasterKeyError::Malformed { path: path.to_owned() };
        let mut keys = text
            .lines()
            .map(|line| {
                let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
                hex::decode_to_slice(line.trim_end_matches('\r'), bytes.as_mut_slice())
                    .map_err(|_| malformed())?;
                Ok(MasterKey { key: Key256::from_bytes(bytes) })
            })
            .collect::<Result<Vec<_>, MasterKeyError>>()?;
        if keys.is_empty() {
            return Err(malformed());
        }
        let current = keys.remove(0);
        Ok(Self { current, previous: keys })
    }

    /// The current key: everything new is wrapped under it.
    pub fn current(&self) -> &MasterKey {
        &self.current
    }

    /// The key with id `key_id`, current or previous.
    pub fn find(&self, key_id: &str) -> Option<&MasterKey> {
        std::iter::once(&self.current).chain(&self.previous).find(|key| key.key_id() == key_id)
    }

    /// The ids of the previous keys still in the file.
    pub fn previous_ids(&self) -> Vec<String> {
        self.previous.iter().map(MasterKey::key_id).collect()
    }

    /// Generates a new current key and rewrites the file (atomically, mode 0600) with it first
    /// and every key it held after it, so nothing wrapped so far becomes unreadable.
    pub fn rotate(self, path: &Path) -> Result<Self, MasterKeyError> {
        let mut previous = vec![self.current];
        previous.extend(self.previous);
        let ring = Self { current: MasterKey::generate(path)?, previous };
        replace(path, &ring)?;
        Ok(ring)
    }

    /// Rewrites the file with the current key only: call once nothing is wrapped under a
    /// previous key any more.
    pub fn retire_previous(mut self, path: &Path) -> Result<Self, MasterKeyError> {
        self.previous.clear();
        replace(path, &self)?;
        Ok(self)
    }

    fn file_text(&self) -> Zeroizing<String> {
        let mut text = Zeroizing::new(String::new());
        for key in std::iter::once(&self.current).chain(&self.previous) {
            text.push_str(&hex::encode(key.key.bytes()));
            text.push('\n');
        }
        text
    }
}

/// Writes a key file that must not exist yet.
fn write_new(path: &Path, ring: &MasterKeyring) -> Result<(), MasterKeyError> {
    let io = |source| MasterKeyError::Io { path: path.to_owned(), source };
    let mut file =
        OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).map_err(io)?;
    file.write_all(ring.file_text().as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)
}

/// Replaces the key file atomically: a private temporary file beside it, then a rename.
fn replace(path: &Path, ring: &MasterKeyring) -> Result<(), MasterKeyError> {
    let io = |source| MasterKeyError::Io { path: path.to_owned(), source };
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".new");
    let temporary = PathBuf::from(temporary);
    let _ = fs::remove_file(&temporary);
    write_new(&temporary, ring)?;
    fs::rename(&temporary, path).map_err(io)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
    }
    Ok(())
}

impl MasterKey {
    fn generate(path: &Path) -> Result<Self, MasterKeyError> {
        let key = Key256::generate().map_err(|_| MasterKeyError::Io {
            path: path.to_owned(),
            source: std::io::Error::other("system random number generator failed"),
        })?;
        Ok(Self { key })
    }

    /// This key as the key-encryption key of what it wraps (organisation keys and the
    /// installation key), named by its key id.
    pub fn wrapping_key(&self) -> Result<WrappingKey, CryptoError> {
        self.key.wrapping_key(&self.key_id())
    }

    /// A short public fingerprint of the key (16 hex characters), safe to log and to store
    /// beside data the key protects, so that rotation can tell key versions apart.
    pub fn key_id(&self) -> String {
        let mut context = digest::Context::new(&digest::SHA256);
        context.update(b"petal master key id v1\0");
        context.update(self.key.bytes());
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
        let (first, source) = MasterKeyring::load_or_create(&path, true).unwrap();
        let first = first.current();
        assert_eq!(source, KeySource::Generated);
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let (second, source) = MasterKeyring::load_or_create(&path, true).unwrap();
        let second = second.current();
        assert_eq!(source, KeySource::Loaded);
        assert_eq!(first.key_id(), second.key_id());
        assert_eq!(first.key_id().len(), 16);
    }

    #[test]
    fn a_missing_explicit_key_is_not_invented() {
        let dir = tempfile::tempdir().unwrap();
        let err = MasterKeyring::load_or_create(&dir.path().join("absent.key"), false).unwrap_err();
        assert!(matches!(err, MasterKeyError::Io { .. }), "{err}");
    }

    #[test]
    fn refuses_a_malformed_key() {
        let dir = tempfile::tempdir().unwrap();
        let two_then_bad = format!("{}\n{}\nxyz\n", "ab".repeat(32), "cd".repeat(32));
        for content in ["", "abc", &"zz".repeat(32), &"ab".repeat(33), &two_then_bad] {
            let path = dir.path().join("bad.key");
            fs::write(&path, content).unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
            let err = MasterKeyring::load_or_create(&path, true).unwrap_err();
            assert!(matches!(err, MasterKeyError::Malformed { .. }), "{content:?}: {err}");
        }
    }

    #[test]
    fn refuses_a_key_others_can_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("open.key");
        fs::write(&path, "ab".repeat(32)).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = MasterKeyring::load_or_create(&path, true).unwrap_err();
        assert!(matches!(err, MasterKeyError::TooOpen { mode: 0o644, .. }), "{err}");
    }

    #[test]
    fn debug_never_shows_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let (key, _) = MasterKeyring::load_or_create(&path, true).unwrap();
        let file = fs::read_to_string(&path).unwrap();
        let shown = format!("{key:?}");
        assert!(!shown.contains(file.trim()), "{shown}");
        assert!(shown.contains(&key.current().key_id()));
    }

    #[test]
    fn rotation_puts_a_new_key_first_keeps_the_old_until_retired() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let (ring, _) = MasterKeyring::load_or_create(&path, true).unwrap();
        let old = ring.current().key_id();
        let wrapped = ring
            .current()
            .wrapping_key()
            .unwrap()
            .wrap_key(&Key256::generate().unwrap(), b"c")
            .unwrap();
        let ring = ring.rotate(&path).unwrap();
        assert_ne!(ring.current().key_id(), old);
        assert_eq!(ring.previous_ids(), vec![old.clone()]);
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let (reloaded, _) = MasterKeyring::load_or_create(&path, false).unwrap();
        assert_eq!(reloaded.current().key_id(), ring.current().key_id());
        let previous = reloaded.find(&old).unwrap();
        assert!(previous.wrapping_key().unwrap().unwrap_key(&wrapped, b"c").is_ok());
        let retired = reloaded.retire_previous(&path).unwrap();
        assert!(retired.previous_ids().is_empty());
        let (reloaded, _) = MasterKeyring::load_or_create(&path, false).unwrap();
        assert!(reloaded.find(&old).is_none());
    }
}
