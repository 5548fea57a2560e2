//! Cut blocks on a timer and by size: the local (single-node) sequencer.
//!
//! One thread: wait until the mempool holds a full block, or the block interval passed with
//! something waiting, or the empty-block interval passed; take transactions; propose; finalize
//! (one fsync); only then wake the clients waiting on those transactions and publish the event.

use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::node::{Node, NodeError};

/// The running sequencer. Dropping it stops it (after the block in progress).
pub struct SequencerHandle {
    node: Node,
    thread: Option<JoinHandle<Result<(), NodeError>>>,
}

impl SequencerHandle {
    /// True if the sequencer thread ended (a storage fault ends it; see [`SequencerHandle::stop`]).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Stop after the block in progress; returns the fault that ended it early, if any.
    pub fn stop(mut self) -> Result<(), NodeError> {
        self.stop_inner()
    }

    fn stop_inner(&mut self) -> Result<(), NodeError> {
        {
            // Under the pool lock, so the sequencer cannot miss it between its check and its wait.
            let _pool = self.node.mempool();
            self.node.inner.stopping.store(true, Ordering::SeqCst);
            self.node.inner.wake.notify_all();
        }
        match self.thread.take() {
            None => Ok(()),
            Some(t) => t.join().unwrap_or_else(|_| Err(NodeError::Storage("sequencer thread panicked".into()))),
        }
    }
}

impl Drop for SequencerHandle {
    fn drop(&mut self) {
        let _ = self.stop_inner();
    }
}

impl Node {
    /// Start the local sequencer thread.
    pub fn start_sequencer(&self) -> SequencerHandle {
        let node = self.clone();
        let thread = std::thread::Builder::new()
            .name("depin-sequencer".into())
            .spawn(move || {
                let result = run(&node);
                if let Err(e) = &result {
                    tracing::error!(error = %e, "sequencer stopped on a storage fault; restart the node to recover");
                    node.inner.stopping.store(true, Ordering::SeqCst);
                }
                result
            })
            .expect("invariant: the OS can start one thread");
        SequencerHandle { node: self.clone(), thread: Some(thread) }
    }
}

/// Encoded transactions per block at most: well under the block decode limit, leaving room for
/// the header and for receipts in the stored record.
pub const MAX_BLOCK_TX_BYTES: usize = depin_types::limits::MAX_BLOCK_BYTES / 2;

/// This machine's wall clock, ms since the Unix epoch (0 if it reads before 1970).
pub(crate) fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

fn run(node: &Node) -> Result<(), NodeError> {
    let cfg = &node.inner.config.sequencer;
    let interval = Duration::from_millis(cfg.block_interval_ms);
    let empty_interval = (cfg.empty_block_interval_ms > 0).then(|| Duration::from_millis(cfg.empty_block_interval_ms));
    let max = node.max_block_txs();
    let mut last_block = Instant::now();
    loop {
        let txs = {
            let mut pool = node.mempool();
            loop {
                if node.inner.stopping.load(Ordering::SeqCst) {
                    return Ok(());
                }
                // Only transactions a block could take count: ones waiting behind a nonce gap
                // must not make the sequencer cut (empty) blocks.
                let n = pool.ready(max);
                let since = last_block.elapsed();
                let due = n >= max
                    || (n > 0 && since >= interval)
                    || empty_interval.is_some_and(|e| since >= e);
                if due {
                    break;
                }
                let wait_until = if n > 0 { interval } else { empty_interval.unwrap_or(interval) };
                let remaining = wait_until.saturating_sub(since).max(Duration::from_millis(1));
                pool = node
                    .inner
                    .wake
                    .wait_timeout(pool, remaining)
                    .expect("invariant: mempool lock is never poisoned")
                    .0;
            }
            pool.take(max, MAX_BLOCK_TX_BYTES)
        };
        last_block = Instant::now();
        // Every transaction in the pool passed signature verification (and its embedded
        // proofs theirs) at admission.
        let verdicts = vec![depin_types::Verdict::VALID; txs.len()];
        let chain = node.chain();
        let proposal = chain.propose(txs, &verdicts, now_ms())?;
        let committed = chain.finalize(proposal)?;
        node.after_commit(&committed)?;
        tracing::debug!(height = committed.head.height, n_txs = committed.block.txs.len(), "block committed");
    }
}
