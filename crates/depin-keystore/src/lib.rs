//! Store signing keys at rest as password-encrypted JSON key files.
//!
//! A key file holds a key's public fields (name, scheme, address, public key) in the clear and
//! its secret seeds sealed with XChaCha20-Poly1305 under a key derived from a password by
//! Argon2id. The address and scheme are the AEAD associated data, so editing the public fields of
//! a file makes decryption fail; after decryption the seeds are checked against the recorded
//! public key as well. Plaintext key files exist for development networks only and must be
//! allowed explicitly when opened.
//!
//! Files are written with mode 0600, never overwritten, and refused on read when other users can
//! read them or when they are not regular files (symbolic links, FIFOs and devices are refused).
//! A [`Keystore`] is a directory (mode 0700, refused if other users can access it) of such files
//! named `<name>.json`. Encrypting under an empty password is refused.

mod error;
mod file;
mod kdf;
mod store;

pub use error::KeystoreError;
pub use file::{KEY_FILE_VERSION, KeyFile, MAX_KEY_FILE_BYTES, from_seed_hex, reencrypt};
pub use kdf::Kdf;
pub use store::{Keystore, MAX_NAME_LEN, validate_name};
