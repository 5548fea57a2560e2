//! Keep a directory of key files, one `<name>.json` per key.

use std::fs::{self, DirBuilder};
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use depin_crypto::Address;

use crate::{KeyFile, KeystoreError};

/// The longest key name accepted.
pub const MAX_NAME_LEN: usize = 64;

/// Check that `name` is a valid key name: 1 to 64 of `a-z`, `A-Z`, `0-9`, `_` and `-` (so it is
/// always a plain file name, never a path).
pub fn validate_name(name: &str) -> Result<(), KeystoreError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(KeystoreError::BadName(name.to_string()))
    }
}

/// A directory of key files, `<dir>/<name>.json`.
#[derive(Clone, Debug)]
pub struct Keystore {
    dir: PathBuf,
}

impl Keystore {
    /// Open the keystore in `dir`, creating it (and missing parents) with mode 0700 if absent.
    ///
    /// An existing directory that group or other users can access (mode & 0o077 ≠ 0) is
    /// refused with [`KeystoreError::InsecureDirectory`], as key files are: its permissions are
    /// never changed behind the user's back. `dir` may be a symbolic link to a directory; the
    /// directory it points to is checked.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Keystore, KeystoreError> {
        let dir = dir.into();
        let io = |source| KeystoreError::Io {
            path: dir.clone(),
            source,
        };
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(io)?;
        let meta = fs::metadata(&dir).map_err(io)?;
        if !meta.is_dir() {
            return Err(io(io::Error::new(
                io::ErrorKind::NotADirectory,
                "not a directory",
            )));
        }
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(KeystoreError::InsecureDirectory { path: dir, mode });
        }
        Ok(Keystore { dir })
    }

    /// The keystore directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The path of the key file named `name` (which need not exist).
    pub fn path_of(&self, name: &str) -> Result<PathBuf, KeystoreError> {
        validate_name(name)?;
        Ok(self.dir.join(format!("{name}.json")))
    }

    /// Every key file, sorted by name. Entries that are not `<valid name>.json`, and
    /// directories, are skipped; a key file that cannot be read or is invalid is an error, and
    /// so is a `<valid name>.json` that is a symbolic link, FIFO or device
    /// ([`KeystoreError::NotRegularFile`]).
    pub fn list(&self) -> Result<Vec<KeyFile>, KeystoreError> {
        let io = |source| KeystoreError::Io {
            path: self.dir.clone(),
            source,
        };
        let mut files = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(io)? {
            let entry = entry.map_err(io)?;
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            // `DirEntry::file_type` does not follow symbolic links: a link is read (and refused).
            if validate_name(stem).is_err() || entry.file_type().map_err(io)?.is_dir() {
                continue;
            }
            files.push(self.read_named(&path, stem)?);
        }
        files.sort_by(|a, b| a.name().cmp(b.name()));
        Ok(files)
    }

    /// The key file with this name or, failing that, with this address.
    pub fn get(&self, name_or_address: &str) -> Result<KeyFile, KeystoreError> {
        if validate_name(name_or_address).is_ok() {
            let path = self.path_of(name_or_address)?;
            match self.read_named(&path, name_or_address) {
                Ok(file) => return Ok(file),
                Err(KeystoreError::Io { source, .. })
                    if source.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        if let Ok(address) = name_or_address.parse::<Address>()
            && let Some(file) = self.list()?.into_iter().find(|f| f.address() == address)
        {
            return Ok(file);
        }
        Err(KeystoreError::NotFound(name_or_address.to_string()))
    }

    /// Write `file` as `<dir>/<name>.json`; never replaces an existing key of that name.
    /// Returns the path written.
    pub fn insert(&self, file: &KeyFile) -> Result<PathBuf, KeystoreError> {
        let path = self.path_of(file.name())?;
        file.write_new(&path).map_err(|e| match e {
            KeystoreError::AlreadyExists(_) => {
                KeystoreError::AlreadyExists(file.name().to_string())
            }
            e => e,
        })?;
        Ok(path)
    }

    /// Read a key file and check that the name inside matches its file name.
    fn read_named(&self, path: &Path, name: &str) -> Result<KeyFile, KeystoreError> {
        let file = KeyFile::read(path)?;
        if file.name() != name {
            return Err(KeystoreError::Format(format!(
                "{} holds the key named {:?}",
                path.display(),
                file.name()
            )));
        }
        Ok(file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for good in ["a", "validator-1", "my_key", "A0", &"x".repeat(64)] {
            validate_name(good).unwrap();
        }
        for bad in [
            "",
            "..",
            ".",
            "a/b",
            "../x",
            "a.json",
            "a b",
            "é",
            "a\0",
            &"x".repeat(65),
        ] {
            assert!(
                matches!(validate_name(bad), Err(KeystoreError::BadName(_))),
                "{bad:?}"
            );
        }
    }
}
