//! Replicate the depin ledger across validators with Commonware's simplex BFT consensus.
//!
//! **Boundary:** this crate is the only one that knows Commonware. It drives the same
//! propose / verify / finalize port as the local sequencer ([`depin_node::Chain`]) and never
//! touches the state machine or storage directly. See `docs/adr/0011-bft-replication.md`.
//!
//! - [`block`]: the block as consensus sees it (codec, digest = depin block id).
//! - [`replica`]: blocks executed but not final, and the commit of final ones.
//! - [`app`]: the consensus application and the in-order committer of finalized blocks.
//! - [`gossip`]: transaction gossip and peer liveness.
//! - [`evidence`]: views and Byzantine faults reported by consensus.
//! - [`engine`]: wiring of one validator over any runtime and network.
//! - [`identity`]: validator keys as consensus identities.
//! - [`validator`]: one validator in production (Tokio runtime, authenticated p2p).

pub mod app;
pub mod block;
pub mod engine;
pub mod evidence;
pub mod gossip;
pub mod identity;
pub mod replica;
pub mod validator;
