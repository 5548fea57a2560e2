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
//! read them. A [`Keystore`] is a directory (mode 0700) of such files named `<name>.json`.

mod error;
mod file;
mod kdf;
mod store;

pub use error::KeystoreError;
pub use file::{KEY_FILE_VERSION, KeyFile, MAX_KEY_FILE_BYTES, from_seed_hex, reencrypt};
pub use kdf::Kdf;
pub use store::{Keystore, MAX_NAME_LEN, validate_name};
