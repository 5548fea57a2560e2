//! Persist the last sequence number a device used, so that restarts never sign one twice.
//!
//! The file holds one decimal number and a newline. It is replaced atomically (a temporary file
//! beside it, synced, renamed over it, the directory synced), so after a crash it holds the old
//! or the new number, never a torn one. The number is written *before* the report that uses it
//! is signed: a crash between the two loses a number, which is harmless (sequences need only
//! increase), where the other order could sign a number twice.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::reporter::SEQ_MAX;

/// Largest sequence file read (a `u64` in decimal is 20 bytes).
const SEQ_FILE_BYTES_MAX: u64 = 64;

/// Why the sequence file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SeqError {
    /// Reading, writing or renaming failed.
    #[error("sequence file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The file does not hold a sequence number this SDK wrote.
    #[error("sequence file {path} is corrupt: {detail}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// A caller tried to record a number that is not above the last one (a programming error
    /// in the caller, refused rather than persisted).
    #[error("sequence {seq} is not above the last one used, {last}")]
    Backwards {
        /// The last number recorded.
        last: u64,
        /// The number refused.
        seq: u64,
    },
    /// The last number recorded is at the limit: this device key can sign no more reports.
    #[error("sequence numbers are exhausted (last used {last})")]
    Exhausted {
        /// The last number recorded.
        last: u64,
    },
}

/// The last sequence number used, in a small file.
#[derive(Debug)]
pub struct SeqStore {
    path: PathBuf,
    last: Option<u64>,
}

impl SeqStore {
    /// Open the store at `path`, reading the last number if the file exists. The directory must
    /// exist.
    ///
    /// # Errors
    ///
    /// [`SeqError::Io`] when the file exists but cannot be read; [`SeqError::Corrupt`] when it
    /// does not hold a number below the limit.
    pub fn open(path: impl Into<PathBuf>) -> Result<SeqStore, SeqError> {
        let path = path.into();
        let last = read(&path)?;
        Ok(SeqStore { path, last })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The last number recorded, if any.
    pub fn last(&self) -> Option<u64> {
        self.last
    }

    /// The first number a reporter starting now may use: above the last one recorded, or, with
    /// no file (a first start, or a lost file), the clock in ms, which is above any number a
    /// device reporting at most once a millisecond has used.
    ///
    /// # Errors
    ///
    /// [`SeqError::Exhausted`] when the last number is at the limit.
    pub fn first_seq(&self, now_ms: u64) -> Result<u64, SeqError> {
        match self.last {
            Some(last) if last >= SEQ_MAX - 1 => Err(SeqError::Exhausted { last }),
            Some(last) => Ok(last + 1),
            None => Ok(now_ms.min(SEQ_MAX - 1)),
        }
    }

    /// Record `seq` as used, durably, before the report carrying it is signed.
    ///
    /// # Errors
    ///
    /// [`SeqError::Backwards`] when `seq` is not above the last number; [`SeqError::Io`] when
    /// the file cannot be written (the last number is then unchanged).
    pub fn record(&mut self, seq: u64) -> Result<(), SeqError> {
        if let Some(last) = self.last
            && seq <= last
        {
            return Err(SeqError::Backwards { last, seq });
        }
        write_atomic(&self.path, seq).map_err(|source| SeqError::Io { path: self.path.clone(), source })?;
        self.last = Some(seq);
        Ok(())
    }
}

fn read(path: &Path) -> Result<Option<u64>, SeqError> {
    let mut text = String::new();
    match File::open(path) {
        Ok(f) => f
            .take(SEQ_FILE_BYTES_MAX)
            .read_to_string(&mut text)
            .map_err(|source| SeqError::Io { path: path.to_path_buf(), source })?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(SeqError::Io { path: path.to_path_buf(), source }),
    };
    let corrupt = |detail: String| SeqError::Corrupt { path: path.to_path_buf(), detail };
    let seq: u64 = text.trim().parse().map_err(|_| corrupt(format!("{:?} is not a number", text.trim())))?;
    if seq >= SEQ_MAX {
        return Err(corrupt(format!("{seq} is above the limit {SEQ_MAX}")));
    }
    Ok(Some(seq))
}

fn write_atomic(path: &Path, seq: u64) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let written = (|| {
        let mut f = File::create(&tmp)?;
        writeln!(f, "{seq}")?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
        return written;
    }
    // Make the rename durable; some file systems refuse to sync a directory, which is harmless.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restarted_device_continues_above_the_last_sequence() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("asset.seq");
        let mut store = SeqStore::open(&path).unwrap();
        assert_eq!(store.last(), None);
        let first = store.first_seq(1_700_000_000_000).unwrap();
        assert_eq!(first, 1_700_000_000_000, "a first start begins at the clock");
        store.record(first).unwrap();
        store.record(first + 1).unwrap();
        drop(store);

        // "Restart" with the clock set back an hour: the file wins.
        let store = SeqStore::open(&path).unwrap();
        assert_eq!(store.last(), Some(first + 1));
        assert_eq!(store.first_seq(1_699_999_000_000).unwrap(), first + 2);
        assert_eq!(fs::read_to_string(&path).unwrap(), format!("{}\n", first + 1));
        let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind: {leftovers:?}");
    }

    #[test]
    fn a_lost_file_restarts_from_the_clock_which_is_above_every_used_number() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("asset.seq");
        let mut store = SeqStore::open(&path).unwrap();
        let t0 = 1_700_000_000_000;
        let mut seq = store.first_seq(t0).unwrap();
        // One report a second for a minute.
        for _ in 0..60 {
            store.record(seq).unwrap();
            seq += 1;
        }
        fs::remove_file(&path).unwrap();
        let store = SeqStore::open(&path).unwrap();
        assert!(store.first_seq(t0 + 60_000).unwrap() > seq);
    }

    #[test]
    fn recording_backwards_is_refused_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SeqStore::open(dir.path().join("s")).unwrap();
        store.record(10).unwrap();
        assert!(matches!(store.record(10), Err(SeqError::Backwards { last: 10, seq: 10 })));
        assert!(matches!(store.record(3), Err(SeqError::Backwards { .. })));
        assert_eq!(SeqStore::open(store.path()).unwrap().last(), Some(10));
    }

    #[test]
    fn corrupt_files_are_reported_not_reset() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        for bad in ["", "twelve", "-1", &format!("{}", u64::MAX)] {
            fs::write(&path, bad).unwrap();
            let e = SeqStore::open(&path).unwrap_err();
            assert!(matches!(e, SeqError::Corrupt { .. }), "{bad:?}: {e}");
        }
        fs::write(&path, format!("{}\n", SEQ_MAX - 1)).unwrap();
        assert!(matches!(SeqStore::open(&path).unwrap().first_seq(0), Err(SeqError::Exhausted { .. })));
    }
}
