//! Build, sign, number and send a device's telemetry: the SDK that device firmware or the
//! `depin agent` links.
//!
//! A physical asset proves what it does with signed reports (`depin_types::telemetry`, spec
//! section M). This crate holds what every device needs to produce them, in layers:
//!
//! - [`Reporter`] (no I/O): holds the device key, chain id, telemetry parameters and the next
//!   sequence number, and turns `(time, uptime, metrics, fix)` into a [`SignedReport`]. Time is
//!   an input, so it is tested without a clock.
//! - [`SeqStore`]: persists the last sequence number used (temp file + rename), so a restarted
//!   device never signs the same sequence twice; without a file it starts from the clock.
//! - [`HostMetrics`]: measures the machine it runs on (CPU, memory, disks, network) as compute
//!   metrics, through the `sysinfo` crate.
//! - [`Simulator`]: plausible metrics for any class within a declared capacity, deterministic
//!   from a seed, for demos and tests of assets that are not at hand.
//! - [`Uplink`]: the node's HTTP ingest contract (parameters, batches of reports, `429` with
//!   `Retry-After`), blocking, with bounded timeouts and answers.
//!
//! **Boundary:** `no_std` is not offered: the report signature comes from `depin-crypto`, which
//! needs `std` (its ML-DSA and hybrid keys and its random source). A microcontroller without
//! `std` would sign the same bytes ([`depin_types::telemetry::report_message`]: a domain prefix
//! and the borsh encoding of chain id and report) with its own Ed25519 implementation; the test
//! vector in `docs/spec/telemetry.md` pins them, and this crate's tests check it produces it.
//!
//! [`SignedReport`]: depin_types::telemetry::SignedReport

mod host;
mod reporter;
mod rng;
mod seq;
mod sim;
mod uplink;

pub use host::HostMetrics;
pub use reporter::{Reporter, SEQ_MAX};
pub use seq::{SeqError, SeqStore};
pub use sim::Simulator;
pub use uplink::{
    IngestAnswer, IngestResult, RegisteredAsset, Sent, TelemetryInfo, Uplink, UplinkError, RETRY_AFTER_MAX,
};
