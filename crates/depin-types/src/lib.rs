//! Define depin's ledger data types and their canonical binary encoding.
//!
//! Everything signed, hashed or persisted is encoded with borsh (fixed-width little-endian
//! integers, u32 length prefixes, one-byte enum tags) and decoded only through [`codec`], which
//! bounds the input size first. JSON forms exist for the API edge; in them amounts are decimal
//! strings and bytes are hex, because JavaScript corrupts large numbers.
#![deny(clippy::float_arithmetic)] // determinism: integer math only (invariant 1)

pub mod amount;
pub mod asset;
pub mod block;
pub mod codec;
pub mod evidence;
pub mod genesis;
pub mod limits;
pub mod market;
pub mod receipt;
pub mod registry_key;
pub mod state_key;
pub mod telemetry;
pub mod time;
pub mod tx;

pub use amount::Amount;
pub use block::{Block, BlockHeader};
pub use codec::DecodeError;
pub use evidence::{Evidence, EvidenceKind, EvidenceProblem};
pub use genesis::{Genesis, GenesisAccount, GenesisError, Params};
pub use receipt::{Receipt, RejectReason, TxOutcome};
pub use tx::{Transaction, TxBody, TxContent, Verdict};

pub use depin_crypto::{Address, Hash32, PublicKey, Scheme, SecretKey, Signature};
pub use depin_geo as geo;
