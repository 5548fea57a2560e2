//! Apply blocks to state: the pure, deterministic depin state machine.
//!
//! **Invariant:** no I/O, no async, no threads, no clock, no randomness, no floating point,
//! no hash-ordered iteration (enforced by `clippy.toml`). Time arrives as a block field;
//! signature verdicts arrive as input (`Transaction::verdict`, computed in parallel at the edge).
//! A bad transaction becomes a receipt with a typed reason; `Err` means the storage under the
//! machine failed, which is fatal for the block. Rules are numbered in
//! `docs/spec/state-machine.md` and cited as `// rule X-n`.
#![deny(clippy::float_arithmetic)] // determinism: integer math only (invariant 1)

mod accounts;
mod evidence;
mod fees;
mod genesis;
mod machine;
mod market;
mod mem;
mod overlay;
mod registry;
mod telemetry;

pub use genesis::genesis_changes;
pub use market::why_code;
pub use machine::{apply_txs, BlockContext, Executed};
pub use mem::{check_conservation, MemState};
pub use overlay::{ChangeSet, Overlay, StateRead, StorageFault};
pub use telemetry::{read_epoch as read_telemetry_epoch, read_head as read_telemetry_head};

/// The layout of the state this build writes and reads: its keys and the encoding of its
/// values. A home records it at genesis and is refused by a build with another one (values
/// would not decode). Bump it with every change to a stored value's format or a key's meaning.
/// 2: the telemetry head carries its epoch's aggregate (ADR 0021); 1 (unrecorded): before.
pub const STATE_LAYOUT: u32 = 2;
