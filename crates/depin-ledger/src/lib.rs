//! Store the block log, receipts, query indexes and authenticated state in redb.
//!
//! **Boundary:** this is the only crate that knows redb and the Merkle tree engine. Everything a
//! block changes (block, receipts, transaction index, state values, tree nodes, head) is written
//! in one redb write transaction, so one fsync commits a block and a crash can never leave the
//! state and the block log at different heights.

pub mod authstate;
mod store;

pub use store::{Head, Ledger, LedgerError, StateSnapshot, TxLocation};
