//! Benchmark suites for depin: each returns a [`BenchReport`] of the shape DESIGN.md §4 fixes.
//!
//! A suite measures the real pieces (redb file on disk, durable commits, real Ed25519
//! signatures) and, in the same run, the physical reference each target is a ratio of (raw
//! signature verification rate, raw fsync latency), so a ratio holds on any machine.
//!
//! Suites: [`ledger`] (the ledger in one process), [`consensus`] (four BFT validators, each a
//! real `depin up` process, loaded over HTTP), [`registry`] (a million assets registered in
//! fleets, resident memory, queries by owner and region), [`ingest`] (device-signed
//! telemetry through a real node's ingest edge until the state counts every report) and
//! [`alloc`] (the allocator placing 100,000 workloads onto 100,000 assets, against the greedy
//! baseline and a Lagrangian lower bound).
//!
//! **Boundary:** this library never prints; the CLI (`depin bench ledger -o json`) owns the
//! terminal and renders [`BenchReport::to_json`] or [`BenchReport::to_table`].

pub mod alloc;
pub mod consensus;
pub mod ingest;
mod ledger;
mod measure;
pub mod registry;
pub mod report;

pub use alloc::{alloc, AllocBenchOptions};
pub use consensus::{consensus, ConsensusBenchOptions};
pub use ingest::{ingest, IngestBenchOptions};
pub use ledger::{ledger, LedgerBenchOptions};
pub use measure::{machine, utc_date};
pub use registry::{registry, RegistryBenchOptions};
pub use report::{BenchReport, BenchResult, Machine, Op, Target};

/// Why a benchmark could not produce a report.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The options do not describe a runnable benchmark.
    #[error("invalid benchmark options: {0}")]
    Options(String),
    /// Temporary files could not be written or synced.
    #[error("benchmark i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The ledger failed.
    #[error(transparent)]
    Ledger(#[from] depin_ledger::LedgerError),
    /// State read through the state machine's readers failed.
    #[error(transparent)]
    State(#[from] depin_state::StorageFault),
    /// A pre-encoded transaction did not decode.
    #[error("a benchmark transaction does not decode: {0}")]
    Decode(#[from] depin_types::DecodeError),
    /// A transaction of the workload was not applied: the benchmark would measure rejections.
    #[error("transaction {index} of block {height} was rejected ({code}); the workload must apply in full")]
    Rejected {
        /// Block height.
        height: u64,
        /// Position in the block.
        index: usize,
        /// The receipt's reject code.
        code: &'static str,
    },
    /// A signature of the workload did not verify.
    #[error("a benchmark signature does not verify ({0})")]
    Signature(&'static str),
    /// A state proof could not be made or did not verify.
    #[error("state proof: {0}")]
    Proof(String),
    /// The network of the consensus suite failed: a validator did not start, exited, refused
    /// the load or disagreed (with the tail of every validator's log).
    #[error("consensus network: {0}")]
    Network(String),
    /// The telemetry workload did not go through in full: the node refused registrations or
    /// reports, or the state did not count every report.
    #[error("ingest: {0}")]
    Ingest(String),
    /// The caller asked the run to stop (Ctrl-C, SIGTERM).
    #[error("cancelled")]
    Cancelled,
}
