//! Store the block log, receipts, query indexes and authenticated state in redb.
//!
//! **Boundary:** this is the only crate that knows redb and the Merkle tree engine. A block is
//! committed by one fsync'd append to the block log (`blocks.redb`); everything derived from it
//! (authenticated state, transaction index) lives in `state.redb`, checkpointed, and is repaired
//! by replaying the log if a crash leaves it behind.

pub mod authstate;
pub mod retention;
mod store;

pub use retention::{LoggedBlock, LoggedTx, PruneStep, PrunedTx};
pub use store::{
    CommitTimings, Head, Ledger, LedgerError, StateAt, StateSnapshot, TxLocation, CHECKPOINT_BLOCKS, CHECKPOINT_TXS,
    PRUNE_CHUNK_BLOCKS, PRUNE_CHUNK_BYTES,
};
