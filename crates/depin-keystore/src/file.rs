//! Define the key file format and its encryption, decryption, reading and writing.
//!
//! Format (JSON, version 1):
//!
//! ```json
//! {
//!   "version": 1,
//!   "name": "validator",
//!   "scheme": "ed25519",
//!   "address": "depin1…",
//!   "public_key": "ed25519:…",
//!   "secret": {
//!     "kind": "encrypted",
//!     "kdf": "argon2id", "m_cost_kib": 65536, "t_cost": 3, "p_cost": 1,
//!     "salt": "<16 bytes hex>",
//!     "cipher": "xchacha20poly1305", "nonce": "<24 bytes hex>",
//!     "ciphertext": "<seeds + 16-byte tag, hex>"
//!   }
//! }
//! ```
//!
//! or, for development networks only, `"secret": { "kind": "plaintext", "seeds": "<hex>" }`.
//! The AEAD associated data is `depin keystore v1`, the scheme name and the address, each
//! followed by a newline, so editing the public fields makes decryption fail.

use std::fmt;
use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use chacha20poly1305::aead::{Aead, AeadInOut, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use depin_crypto::{Address, KeyError, PublicKey, Scheme, SecretKey};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use crate::store::validate_name;
use crate::{Kdf, KeystoreError};

/// The key file format version written and accepted.
pub const KEY_FILE_VERSION: u32 = 1;
/// The largest key file accepted, in bytes (a hybrid key file is about 5 KiB).
pub const MAX_KEY_FILE_BYTES: usize = 64 * 1024;

const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// A key file: a key's public fields in the clear and its seeds, normally encrypted.
///
/// Serialized as JSON (see [`KeyFile::to_json`]). Contains no timestamps, so the same inputs
/// and randomness give the same file.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyFile {
    version: u32,
    name: String,
    scheme: Scheme,
    address: Address,
    public_key: PublicKey,
    secret: SecretBox,
}

/// The secret part of a key file.
#[derive(Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum SecretBox {
    /// Seeds sealed with XChaCha20-Poly1305 under an Argon2id-derived key.
    Encrypted {
        kdf: KdfAlgorithm,
        m_cost_kib: u32,
        t_cost: u32,
        p_cost: u32,
        #[serde(with = "hex_bytes")]
        salt: Vec<u8>,
        cipher: CipherAlgorithm,
        #[serde(with = "hex_bytes")]
        nonce: Vec<u8>,
        #[serde(with = "hex_bytes")]
        ciphertext: Vec<u8>,
    },
    /// Seeds in the clear (development networks only).
    Plaintext {
        #[serde(with = "hex_secret")]
        seeds: Zeroizing<Vec<u8>>,
    },
}

#[derive(Clone, Copy, Serialize, Deserialize)]
enum KdfAlgorithm {
    #[serde(rename = "argon2id")]
    Argon2id,
}

#[derive(Clone, Copy, Serialize, Deserialize)]
enum CipherAlgorithm {
    #[serde(rename = "xchacha20poly1305")]
    XChaCha20Poly1305,
}

fn seed_len(scheme: Scheme) -> usize {
    match scheme {
        Scheme::Hybrid => 64,
        Scheme::Ed25519 | Scheme::MlDsa65 => 32,
    }
}

fn associated_data(scheme: Scheme, address: &Address) -> Vec<u8> {
    format!("depin keystore v{KEY_FILE_VERSION}\n{scheme}\n{address}\n").into_bytes()
}

fn fill_random(buf: &mut [u8]) -> Result<(), KeystoreError> {
    getrandom::fill(buf).map_err(|_| KeystoreError::Random)
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> KeystoreError + '_ {
    move |source| KeystoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl KeyFile {
    /// Seal `key` under `password` with fresh random salt and nonce.
    pub fn encrypt(
        name: &str,
        key: &SecretKey,
        password: &[u8],
        kdf: Kdf,
    ) -> Result<KeyFile, KeystoreError> {
        validate_name(name)?;
        kdf.validate()?;
        let mut salt = [0u8; SALT_LEN];
        fill_random(&mut salt)?;
        let mut nonce = [0u8; NONCE_LEN];
        fill_random(&mut nonce)?;
        let derived = kdf.derive(password, &salt)?;
        let cipher = XChaCha20Poly1305::new((&*derived).into());
        let public_key = key.public_key();
        let address = public_key.address();
        let aad = associated_data(key.scheme(), &address);
        let ciphertext = cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: key.seeds(),
                    aad: &aad,
                },
            )
            .expect("invariant: seeds and associated data are far below the AEAD length limits");
        Ok(KeyFile {
            version: KEY_FILE_VERSION,
            name: name.to_string(),
            scheme: key.scheme(),
            address,
            public_key,
            secret: SecretBox::Encrypted {
                kdf: KdfAlgorithm::Argon2id,
                m_cost_kib: kdf.m_cost_kib,
                t_cost: kdf.t_cost,
                p_cost: kdf.p_cost,
                salt: salt.to_vec(),
                cipher: CipherAlgorithm::XChaCha20Poly1305,
                nonce: nonce.to_vec(),
                ciphertext,
            },
        })
    }

    /// A key file holding `key`'s seeds unencrypted. For development networks only; opening it
    /// requires `allow_plaintext`. The name is checked when the file is written or parsed.
    pub fn plaintext(name: &str, key: &SecretKey) -> KeyFile {
        let public_key = key.public_key();
        KeyFile {
            version: KEY_FILE_VERSION,
            name: name.to_string(),
            scheme: key.scheme(),
            address: public_key.address(),
            public_key,
            secret: SecretBox::Plaintext {
                seeds: Zeroizing::new(key.seeds().to_vec()),
            },
        }
    }

    /// Recover the secret key. An encrypted file needs `password`; a plaintext file is refused
    /// unless `allow_plaintext` (its password, if any, is ignored). The recovered key must give
    /// the recorded public key and address.
    pub fn decrypt(
        &self,
        password: Option<&[u8]>,
        allow_plaintext: bool,
    ) -> Result<SecretKey, KeystoreError> {
        let key = match &self.secret {
            SecretBox::Plaintext { seeds } => {
                if !allow_plaintext {
                    return Err(KeystoreError::PlaintextRefused);
                }
                SecretKey::from_seeds(self.scheme, seeds)?
            }
            SecretBox::Encrypted {
                m_cost_kib,
                t_cost,
                p_cost,
                salt,
                nonce,
                ciphertext,
                ..
            } => {
                let password = password.ok_or(KeystoreError::PasswordRequired)?;
                let kdf = Kdf {
                    m_cost_kib: *m_cost_kib,
                    t_cost: *t_cost,
                    p_cost: *p_cost,
                };
                let nonce: &XNonce = nonce.as_slice().try_into().map_err(|_| {
                    KeystoreError::Format(format!("nonce must be {NONCE_LEN} bytes"))
                })?;
                let derived = kdf.derive(password, salt)?;
                let cipher = XChaCha20Poly1305::new((&*derived).into());
                let aad = associated_data(self.scheme, &self.address);
                let mut buf = Zeroizing::new(ciphertext.clone());
                cipher
                    .decrypt_in_place(nonce, &aad, &mut *buf)
                    .map_err(|_| KeystoreError::WrongPassword)?;
                SecretKey::from_seeds(self.scheme, &buf)?
            }
        };
        let public_key = key.public_key();
        if public_key != self.public_key || public_key.address() != self.address {
            return Err(KeystoreError::Mismatch);
        }
        Ok(key)
    }

    /// Whether the seeds are encrypted.
    pub fn is_encrypted(&self) -> bool {
        matches!(self.secret, SecretBox::Encrypted { .. })
    }

    /// The key's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key's account address.
    pub fn address(&self) -> Address {
        self.address
    }

    /// The key's public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    /// The key's signature scheme.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The Argon2id parameters of an encrypted file (`None` for plaintext).
    pub fn kdf(&self) -> Option<Kdf> {
        match &self.secret {
            SecretBox::Encrypted {
                m_cost_kib,
                t_cost,
                p_cost,
                ..
            } => Some(Kdf {
                m_cost_kib: *m_cost_kib,
                t_cost: *t_cost,
                p_cost: *p_cost,
            }),
            SecretBox::Plaintext { .. } => None,
        }
    }

    /// The file's JSON text (pretty-printed, newline-terminated). For a plaintext file this
    /// contains the seeds: handle it as a secret.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self)
            .expect("invariant: a key file serializes to JSON without error");
        s.push('\n');
        s
    }

    /// Parse and validate a key file: version, name, algorithms, lengths, KDF bounds, and that
    /// the public key, address and scheme agree. Input over [`MAX_KEY_FILE_BYTES`] is refused.
    pub fn from_json(s: &str) -> Result<KeyFile, KeystoreError> {
        if s.len() > MAX_KEY_FILE_BYTES {
            return Err(KeystoreError::Format(format!(
                "larger than {MAX_KEY_FILE_BYTES} bytes"
            )));
        }
        let file: KeyFile =
            serde_json::from_str(s).map_err(|e| KeystoreError::Format(e.to_string()))?;
        file.check()?;
        Ok(file)
    }

    fn check(&self) -> Result<(), KeystoreError> {
        let format = |m: String| Err(KeystoreError::Format(m));
        if self.version != KEY_FILE_VERSION {
            return format(format!("unsupported version {}", self.version));
        }
        validate_name(&self.name)?;
        if self.public_key.scheme() != self.scheme {
            return format(format!(
                "public key scheme {} does not match scheme {}",
                self.public_key.scheme(),
                self.scheme
            ));
        }
        if self.public_key.address() != self.address {
            return format("address does not match public key".to_string());
        }
        let seeds = seed_len(self.scheme);
        match &self.secret {
            SecretBox::Encrypted {
                m_cost_kib,
                t_cost,
                p_cost,
                salt,
                nonce,
                ciphertext,
                ..
            } => {
                Kdf {
                    m_cost_kib: *m_cost_kib,
                    t_cost: *t_cost,
                    p_cost: *p_cost,
                }
                .validate()?;
                if salt.len() != SALT_LEN {
                    return format(format!("salt must be {SALT_LEN} bytes"));
                }
                if nonce.len() != NONCE_LEN {
                    return format(format!("nonce must be {NONCE_LEN} bytes"));
                }
                if ciphertext.len() != seeds + TAG_LEN {
                    return format(format!(
                        "ciphertext for {} must be {} bytes",
                        self.scheme,
                        seeds + TAG_LEN
                    ));
                }
            }
            SecretBox::Plaintext { seeds: s } => {
                if s.len() != seeds {
                    return format(format!("seeds for {} must be {seeds} bytes", self.scheme));
                }
            }
        }
        Ok(())
    }

    /// Write the file to `path`, which must not exist: it is never overwritten. The file is
    /// written to a temporary file (mode 0600) in the same directory, synced, then linked into
    /// place atomically, so `path` either does not exist or holds the complete file.
    pub fn write_new(&self, path: &Path) -> Result<(), KeystoreError> {
        self.check()?;
        let exists = || KeystoreError::AlreadyExists(path.display().to_string());
        if path.symlink_metadata().is_ok() {
            return Err(exists());
        }
        let file_name = path.file_name().ok_or_else(|| KeystoreError::Io {
            path: path.to_path_buf(),
            source: io::Error::new(io::ErrorKind::InvalidInput, "not a file path"),
        })?;
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let mut tag = [0u8; 8];
        fill_random(&mut tag)?;
        let tmp = dir.join(format!(
            ".{}.tmp-{}",
            file_name.to_string_lossy(),
            hex::encode(tag)
        ));
        let json = Zeroizing::new(self.to_json());
        let written = (|| {
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)?;
            // The umask can only clear bits; set exactly 0600 regardless.
            f.set_permissions(Permissions::from_mode(0o600))?;
            f.write_all(json.as_bytes())?;
            f.sync_all()
        })();
        if let Err(source) = written {
            let _ = fs::remove_file(&tmp);
            return Err(KeystoreError::Io { path: tmp, source });
        }
        // A hard link never replaces an existing file, so a concurrent writer cannot be clobbered.
        match fs::hard_link(&tmp, path) {
            Ok(()) => {
                let _ = fs::remove_file(&tmp);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                let _ = fs::remove_file(&tmp);
                return Err(exists());
            }
            Err(_) => {
                // File systems without hard links: check, then rename.
                if path.symlink_metadata().is_ok() {
                    let _ = fs::remove_file(&tmp);
                    return Err(exists());
                }
                if let Err(source) = fs::rename(&tmp, path) {
                    let _ = fs::remove_file(&tmp);
                    return Err(KeystoreError::Io {
                        path: path.to_path_buf(),
                        source,
                    });
                }
            }
        }
        if let Ok(d) = File::open(dir) {
            // Make the new directory entry durable; some file systems refuse, which is harmless.
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// Read and validate the key file at `path`. Refuses files that group or other users can
    /// access (mode & 0o077 ≠ 0), files that are not regular files, and files over
    /// [`MAX_KEY_FILE_BYTES`].
    pub fn read(path: &Path) -> Result<KeyFile, KeystoreError> {
        let file = File::open(path).map_err(io_error(path))?;
        let meta = file.metadata().map_err(io_error(path))?;
        if !meta.is_file() {
            return Err(KeystoreError::Format(format!(
                "{} is not a regular file",
                path.display()
            )));
        }
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(KeystoreError::InsecurePermissions {
                path: path.to_path_buf(),
                mode,
            });
        }
        if meta.len() > MAX_KEY_FILE_BYTES as u64 {
            return Err(KeystoreError::Format(format!(
                "larger than {MAX_KEY_FILE_BYTES} bytes"
            )));
        }
        // Preallocated so reading never reallocates (which would leave unwiped copies).
        let mut buf = Zeroizing::new(Vec::with_capacity(MAX_KEY_FILE_BYTES + 1));
        file.take(MAX_KEY_FILE_BYTES as u64 + 1)
            .read_to_end(&mut buf)
            .map_err(io_error(path))?;
        let text = std::str::from_utf8(&buf)
            .map_err(|_| KeystoreError::Format("not valid UTF-8".to_string()))?;
        KeyFile::from_json(text)
    }
}

impl fmt::Debug for KeyFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyFile")
            .field("name", &self.name)
            .field("scheme", &self.scheme)
            .field("address", &self.address)
            .field("encrypted", &self.is_encrypted())
            .finish_non_exhaustive()
    }
}

/// Decrypt `file` (with `old`, or as plaintext if `allow_plaintext`) and seal the key again
/// under `new_password` with fresh salt and nonce. Used for export and password changes.
pub fn reencrypt(
    file: &KeyFile,
    old: Option<&[u8]>,
    new_password: &[u8],
    kdf: Kdf,
    allow_plaintext: bool,
) -> Result<KeyFile, KeystoreError> {
    let key = file.decrypt(old, allow_plaintext)?;
    KeyFile::encrypt(&file.name, &key, new_password, kdf)
}

/// Build a key file from raw seeds in hex (32 bytes, 64 for hybrid), to import a key from
/// elsewhere. With `password` the file is encrypted; with `None` it is plaintext.
pub fn from_seed_hex(
    name: &str,
    scheme: Scheme,
    seed_hex: &str,
    password: Option<&[u8]>,
    kdf: Kdf,
) -> Result<KeyFile, KeystoreError> {
    validate_name(name)?;
    let seeds =
        Zeroizing::new(hex::decode(seed_hex.trim()).map_err(|_| KeyError::Malformed("seed hex"))?);
    let key = SecretKey::from_seeds(scheme, &seeds)?;
    match password {
        Some(password) => KeyFile::encrypt(name, &key, password, kdf),
        None => Ok(KeyFile::plaintext(name, &key)),
    }
}

/// Serde helpers: bytes as lowercase hex strings.
mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::borrow::Cow;

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = <Cow<'de, str>>::deserialize(d)?;
        hex::decode(&*text).map_err(|_| serde::de::Error::custom("expected a hex string"))
    }
}

/// Serde helpers: secret bytes as hex, wiping intermediate strings.
mod hex_secret {
    use super::{Zeroize, Zeroizing};
    use serde::{Deserialize, Deserializer, Serializer};
    use std::borrow::Cow;

    pub(super) fn serialize<S: Serializer>(
        bytes: &Zeroizing<Vec<u8>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let text = Zeroizing::new(hex::encode(&**bytes));
        s.serialize_str(&text)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Zeroizing<Vec<u8>>, D::Error> {
        let text = <Cow<'de, str>>::deserialize(d)?;
        let decoded = hex::decode(&*text).map(Zeroizing::new);
        if let Cow::Owned(mut owned) = text {
            owned.zeroize();
        }
        decoded.map_err(|_| serde::de::Error::custom("expected a hex string"))
    }
}
