//! Provide depin's cryptographic primitives: hashes, signature schemes, keys, addresses and
//! `did:key` identifiers.
//!
//! Everything here is deterministic except key generation, which reads the OS random source.
//! The state machine uses only hashing and verification.

/// Serialize a type as its `Display` text and deserialize it with `FromStr` (JSON and TOML
/// forms of keys, signatures, addresses and hashes).
macro_rules! serde_via_text {
    ($t:ty) => {
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use serde_via_text;

mod address;
pub mod cofactored;
pub mod did;
mod hash;
mod keys;
mod merkle;
mod verify;

pub use address::{Address, AddressError, ADDRESS_HRP};
pub use did::{did_key, parse_did_key, DidError};
pub use hash::{hash_domain, Hash32, HashParseError};
pub use keys::{KeyError, PublicKey, Scheme, SecretKey, Signature};
pub use merkle::merkle_root;
pub use cofactored::{verify_cofactored_all, CofactoredKey};
pub use verify::{verify_all_parallel, verify_chunks_parallel, Ed25519Batch};

/// Domain-separation contexts: every hash in depin names what it hashes, so that bytes of one kind
/// can never be passed off as another (spec rule C-1).
pub mod domain {
    /// Transaction id: hash of the signed content of a transaction.
    pub const TX_ID: &str = "depin 2026 tx id v1";
    /// Block id: hash of the encoded block header.
    pub const BLOCK_ID: &str = "depin 2026 block id v1";
    /// Genesis id: hash of the encoded genesis document (the parent of block 1).
    pub const GENESIS_ID: &str = "depin 2026 genesis id v2";
    /// Address: hash of a scheme tag and public key bytes.
    pub const ADDRESS: &str = "depin 2026 address v1";
    /// Merkle leaf in transaction and receipt roots.
    pub const MERKLE_LEAF: &str = "depin 2026 merkle leaf v1";
    /// Merkle interior node in transaction and receipt roots.
    pub const MERKLE_NODE: &str = "depin 2026 merkle node v1";
    /// Message prefix for signatures over a transaction id.
    pub const SIGN_TX: &[u8] = b"depin/sign/tx/v1";
    /// Message prefix for signatures over a block id.
    pub const SIGN_BLOCK: &[u8] = b"depin/sign/block/v1";
    /// ML-DSA context string (FIPS 204 `ctx`).
    pub const ML_DSA_CONTEXT: &[u8] = b"depin";
}
