//! Name every upper bound on externally supplied data (spec rule E-4).
//!
//! A decoder or queue fed from outside checks one of these before allocating.

/// Largest encoded transaction accepted anywhere (a hybrid-signed transfer is about 5.3 KiB).
pub const MAX_TX_BYTES: usize = 16 * 1024;
/// Largest encoded block accepted from storage or a peer.
pub const MAX_BLOCK_BYTES: usize = 64 * 1024 * 1024;
/// Longest chain id.
pub const MAX_CHAIN_ID_LEN: usize = 64;
/// Hard ceiling for the `max_block_txs` parameter.
pub const MAX_BLOCK_TXS_CEILING: u32 = 100_000;
/// Largest genesis file read from disk.
pub const MAX_GENESIS_BYTES: usize = 16 * 1024 * 1024;
/// Most validators in a genesis file.
pub const MAX_GENESIS_VALIDATORS: usize = 1_000;
/// Longest validator name.
pub const MAX_VALIDATOR_NAME_LEN: usize = 64;
/// Most accounts in a genesis file.
pub const MAX_GENESIS_ACCOUNTS: usize = 1_000_000;
