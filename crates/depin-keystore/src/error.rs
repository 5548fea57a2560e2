//! Define the errors of key files and keystores.

use std::path::PathBuf;

/// Everything that can go wrong reading, writing, encrypting or decrypting a key file.
///
/// No variant ever carries secret material: passwords, seeds and derived keys never appear in
/// messages.
#[derive(Debug, thiserror::Error)]
pub enum KeystoreError {
    /// Authenticated decryption failed: the password is wrong, or the file was tampered with
    /// (ciphertext, salt, nonce, KDF parameters, address or scheme edited).
    #[error("wrong password, or the key file was modified")]
    WrongPassword,
    /// The key file is encrypted and no password was given.
    #[error("the key file is encrypted and a password is required")]
    PasswordRequired,
    /// A file-system operation failed.
    #[error("cannot access {}: {source}", path.display())]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The key file is not valid (bad JSON, unknown version or algorithm, bad lengths…).
    #[error("malformed key file: {0}")]
    Format(String),
    /// No key with this name or address.
    #[error("no key named or with address {0:?}")]
    NotFound(String),
    /// A key with this name (or a file at this path) already exists; it is never overwritten.
    #[error("{0:?} already exists; refusing to overwrite it")]
    AlreadyExists(String),
    /// The key file can be read by users other than its owner.
    #[error(
        "{} is accessible by other users (mode {mode:03o}); run `chmod 600` on it",
        path.display()
    )]
    InsecurePermissions {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The keystore directory can be accessed by users other than its owner.
    #[error(
        "the keystore directory {} is accessible by other users (mode {mode:03o}); run `chmod 700` on it",
        path.display()
    )]
    InsecureDirectory {
        /// The keystore directory.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The key file path is not a regular file: a symbolic link, directory, FIFO, socket or
    /// device. Key files are never read through symbolic links.
    #[error(
        "{} is not a regular file (symbolic links, FIFOs and devices are refused); use the key file itself",
        path.display()
    )]
    NotRegularFile {
        /// The path given.
        path: PathBuf,
    },
    /// An empty password was given to encrypt a key file.
    #[error("an empty password is not allowed")]
    EmptyPassword,
    /// A plaintext (unencrypted) key file was opened without allowing plaintext keys.
    #[error(
        "the key file is not encrypted; plaintext keys are allowed on development networks only"
    )]
    PlaintextRefused,
    /// A key name outside `[a-zA-Z0-9_-]{1,64}`.
    #[error("invalid key name {0:?}: use 1 to 64 of a-z, A-Z, 0-9, '_' and '-'")]
    BadName(String),
    /// Argon2id parameters out of the accepted range.
    #[error(
        "argon2id parameters out of range: m_cost_kib={m_cost_kib}, t_cost={t_cost}, p_cost={p_cost}"
    )]
    BadKdf {
        /// Memory cost in KiB.
        m_cost_kib: u32,
        /// Number of passes.
        t_cost: u32,
        /// Degree of parallelism.
        p_cost: u32,
    },
    /// Key derivation failed at run time (for example, out of memory).
    #[error("key derivation failed: {0}")]
    KdfFailed(String),
    /// The operating system's random source failed.
    #[error("the operating system random source failed")]
    Random,
    /// The seeds do not form a valid key of the scheme.
    #[error("invalid key: {0}")]
    Key(#[from] depin_crypto::KeyError),
    /// The decrypted seeds do not give the public key and address recorded in the file.
    #[error("the secret key does not match the recorded public key and address")]
    Mismatch,
}
