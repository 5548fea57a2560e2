//! Prune raw telemetry from the block log once it is older than `[telemetry] retain_epochs`.
//!
//! Devices' reports reach the ledger inside `SubmitTelemetry` transactions; once their epochs
//! are aggregated in the state, the raw batches are only needed to re-execute those blocks.
//! With `retain_epochs = N > 0` a background thread replaces, in every block older than
//! `N × epoch_ms` before the head (and at or below the durable state checkpoint, so crash
//! recovery never needs one), each telemetry transaction by a summary that still verifies
//! against the header (`depin_ledger::retention`). `retain_epochs = 0`, the default, keeps
//! everything: an archive node, the only kind that can replay from genesis. docs/adr/0018.

use std::time::Duration;

use depin_ledger::{LoggedBlock, LoggedTx};
use depin_types::{BlockHeader, Hash32, Receipt, Signature};
use serde::Serialize;

use crate::node::{Node, NodeError};

/// How often the background thread runs a retention pass.
pub const RETENTION_INTERVAL: Duration = Duration::from_secs(30);
/// Most bounded steps (`depin_ledger::PRUNE_CHUNK_BLOCKS` heights each) in one pass; the rest
/// waits for the next pass, so a node that turns retention on over a long log catches up
/// gradually instead of hogging the log's writer.
pub const PASS_STEPS_MAX: u64 = 256;
/// How often the thread looks at the stop flag while it waits.
const STOP_POLL: Duration = Duration::from_millis(200);

/// What one retention pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RetentionPass {
    /// Blocks with a timestamp before this (ms) were eligible; `None` when retention is off.
    pub cutoff_ms: Option<u64>,
    /// Bounded steps (log write transactions) run.
    pub steps: u64,
    /// Blocks whose telemetry was pruned.
    pub blocks: u64,
    /// Telemetry transactions replaced by summaries.
    pub txs: u64,
    /// Device reports they carried.
    pub reports: u64,
    /// Every height up to this one has been examined (the ledger's cursor).
    pub through: u64,
    /// Nothing more is prunable now (false: the pass hit its step bound or the node is stopping).
    pub done: bool,
}

/// A block as the log holds it, for the API: the shape of [`crate::BlockView`], with each
/// pruned telemetry transaction shown as `{"pruned": true, "id", "sender", "nonce", "reports", "leaf"}`.
#[derive(Clone, Debug, Serialize)]
pub struct LoggedBlockView {
    /// Block id.
    pub id: Hash32,
    /// The block.
    pub block: LoggedBlockBody,
    /// Receipts, in transaction order (kept for pruned transactions too).
    pub receipts: Vec<Receipt>,
}

/// Header, transactions (whole or pruned) and signature.
#[derive(Clone, Debug, Serialize)]
pub struct LoggedBlockBody {
    /// The header.
    pub header: BlockHeader,
    /// Transactions in execution order.
    pub txs: Vec<LoggedTx>,
    /// Proposer's signature.
    pub signature: Signature,
}

impl From<LoggedBlock> for LoggedBlockView {
    fn from(b: LoggedBlock) -> Self {
        LoggedBlockView {
            id: b.id(),
            block: LoggedBlockBody { header: b.header, txs: b.txs, signature: b.signature },
            receipts: b.receipts,
        }
    }
}

impl Node {
    /// Blocks with a timestamp before this may have their telemetry pruned: the head's time
    /// minus `retain_epochs` epochs of the current telemetry parameters. `None` when retention
    /// is off (`retain_epochs = 0`).
    pub fn retention_cutoff_ms(&self) -> Result<Option<u64>, NodeError> {
        let retain_epochs = self.config().telemetry.retain_epochs;
        if retain_epochs == 0 {
            return Ok(None);
        }
        let (params, _) = self.telemetry_params()?;
        let head = self.chain().ledger().head()?;
        Ok(Some(head.timestamp_ms.saturating_sub(retain_epochs.saturating_mul(params.epoch_ms))))
    }

    /// One retention pass: checkpoint the state (so that every applied block may be pruned if
    /// old enough), then run bounded pruning steps until nothing more is prunable, the node
    /// stops, or [`PASS_STEPS_MAX`] steps ran. A no-op with retention off.
    pub fn prune_telemetry(&self) -> Result<RetentionPass, NodeError> {
        let Some(cutoff_ms) = self.retention_cutoff_ms()? else {
            return Ok(RetentionPass { done: true, ..RetentionPass::default() });
        };
        let ledger = self.chain().ledger();
        ledger.checkpoint()?;
        let mut pass = RetentionPass { cutoff_ms: Some(cutoff_ms), ..RetentionPass::default() };
        loop {
            let step = ledger.prune_telemetry(cutoff_ms)?;
            self.inner.metrics.pruned(step.blocks, step.txs, step.reports);
            pass.steps += 1;
            pass.blocks += step.blocks;
            pass.txs += step.txs;
            pass.reports += step.reports;
            pass.through = step.through;
            pass.done = step.done;
            if step.done || pass.steps >= PASS_STEPS_MAX || self.is_stopping() {
                break;
            }
            // Let a block append waiting for the log's writer go first.
            std::thread::yield_now();
        }
        if pass.blocks > 0 {
            tracing::info!(
                blocks = pass.blocks,
                txs = pass.txs,
                reports = pass.reports,
                through = pass.through,
                cutoff_ms,
                "pruned raw telemetry from the block log (retention)"
            );
        }
        Ok(pass)
    }

    /// The block at `height` as the log holds it (telemetry possibly pruned), for display.
    pub fn logged_block(&self, height: u64) -> Result<Option<LoggedBlockView>, NodeError> {
        Ok(self.chain().ledger().logged_block(height)?.map(LoggedBlockView::from))
    }

    /// Start the retention thread (it does nothing with `retain_epochs = 0`). It ends when the
    /// node stops; join it after [`Node::request_stop`].
    pub fn start_retention(&self) -> RetentionHandle {
        if self.config().telemetry.retain_epochs == 0 {
            return RetentionHandle { thread: None };
        }
        let node = self.clone();
        let thread = std::thread::Builder::new()
            .name("depin-retention".into())
            .spawn(move || {
                let mut waited = RETENTION_INTERVAL; // a first pass right away
                while !node.is_stopping() {
                    if waited >= RETENTION_INTERVAL {
                        waited = Duration::ZERO;
                        if let Err(e) = node.prune_telemetry() {
                            // Not on the commit path: the log stays whole, the next pass retries.
                            tracing::error!(error = %e, "telemetry retention pass failed");
                        }
                    }
                    std::thread::sleep(STOP_POLL);
                    waited += STOP_POLL;
                }
            })
            .expect("invariant: the OS can start one thread");
        RetentionHandle { thread: Some(thread) }
    }
}

/// The retention thread (none when retention is off); it ends when the node stops.
pub struct RetentionHandle {
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RetentionHandle {
    /// True if a thread was started (`retain_epochs > 0`).
    pub fn is_running(&self) -> bool {
        self.thread.is_some()
    }

    /// Wait for the thread (after [`Node::request_stop`]).
    pub fn join(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
