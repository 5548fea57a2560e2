//! The consensus application: propose, verify, and commit finalized blocks in order.
//!
//! [`App`] is what marshal's `Inline` wrapper drives: `propose` builds a block on the parent
//! consensus names (executing it speculatively and putting the post-state root in its header),
//! `verify` re-executes a peer's block and compares every root. [`Finalizer`] receives
//! marshal's finalized blocks in height order, commits each durably through the ledger, and
//! only then acknowledges it, so marshal never considers a block delivered that the ledger
//! could lose.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use commonware_actor::Feedback;
use commonware_consensus::marshal::ancestry::Ancestry;
use commonware_consensus::marshal::Update;
use commonware_consensus::simplex::scheme::ed25519::Scheme as CertScheme;
use commonware_consensus::simplex::types::Context;
use commonware_consensus::{Application, Heightable, Reporter};
use commonware_cryptography::{blake3::Digest, ed25519, Digested, Digestible};
use commonware_runtime::Clock;
use commonware_utils::Acknowledgement;
use futures::channel::mpsc;
use futures::StreamExt;

use crate::block::{id_of, ChainBlock};
use crate::identity::depin_key;
use crate::replica::{Finalized, Replica};

/// The consensus context of a proposal.
pub type Ctx = Context<Digest, ed25519::PublicKey>;

/// How far ahead of this node's clock a block timestamp may be before verification waits for
/// the clock to catch up (a proposer cannot push the chain's time ahead of the validators').
pub const MAX_FUTURE_MS: u64 = 2_000;

/// The application consensus drives.
#[derive(Clone)]
pub struct App {
    replica: Replica,
    max_block_bytes: usize,
    empty_wait: Duration,
}

/// How often a leader with an empty pool looks again for transactions.
const EMPTY_POLL: Duration = Duration::from_millis(20);

impl App {
    /// An application over `replica`, building blocks of at most `max_block_bytes` of
    /// transactions. A leader whose pool is empty waits up to `empty_wait` (keep it well under
    /// the leader timeout) for a transaction before proposing an empty block, so an idle chain
    /// does not cut empty blocks as fast as consensus can vote.
    pub fn new(replica: Replica, max_block_bytes: usize, empty_wait: Duration) -> App {
        App { replica, max_block_bytes, empty_wait }
    }

    /// Make every block of `ancestry` that is not known here yet known, by verifying them
    /// oldest first. False if one of them is invalid (or the stream ends before reaching a
    /// known block, which marshal never does for a certified parent).
    async fn learn(&self, ancestry: &mut impl Ancestry<ChainBlock>) -> bool {
        let mut unknown = Vec::new();
        while let Some(b) = ancestry.next().await {
            let height = b.height().get();
            match self.replica.knows(&id_of(&b.digest()), height) {
                Ok(true) => break,
                Ok(false) => {}
                Err(e) => return self.fault(&e),
            }
            match b.inner().block() {
                Some(block) => unknown.push(block.clone()),
                None => return false, // a genesis anchor that is not ours
            }
        }
        for block in unknown.into_iter().rev() {
            match self.replica.verify(block) {
                Ok(Some(Ok(()))) => {}
                Ok(Some(Err(rejected))) => {
                    tracing::warn!(%rejected, "an ancestor of a proposal is invalid");
                    return false;
                }
                Ok(None) => return false,
                Err(e) => return self.fault(&e),
            }
        }
        true
    }

    fn fault(&self, e: &dyn std::fmt::Display) -> bool {
        tracing::error!(error = %e, "ledger failure in consensus; stopping the node");
        self.replica.node().request_stop();
        false
    }
}

fn now_ms(clock: &impl Clock) -> u64 {
    clock.current().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl<E: Clock + Send + Sync + 'static> Application<E> for App {
    type SigningScheme = CertScheme;
    type Context = Ctx;
    type Block = ChainBlock;
    type Input = ();

    async fn propose(
        &mut self,
        (clock, context): (E, Ctx),
        mut ancestry: impl Ancestry<ChainBlock>,
        _input: (),
    ) -> Option<Digested<ChainBlock>> {
        if !self.learn(&mut ancestry).await {
            return None;
        }
        let mut waited = Duration::ZERO;
        while waited < self.empty_wait && self.replica.node().mempool_len() == 0 {
            clock.sleep(EMPTY_POLL).await;
            waited += EMPTY_POLL;
        }
        let parent = id_of(&context.parent.1);
        match self.replica.propose(parent, now_ms(&clock), self.max_block_bytes) {
            Ok(Some(block)) => {
                let block = ChainBlock::new(block);
                let digest = block.digest();
                Some(Digested::precomputed(block, digest))
            }
            Ok(None) => None,
            Err(e) => {
                self.fault(&e);
                None
            }
        }
    }

    async fn verify(&mut self, (clock, context): (E, Ctx), mut ancestry: impl Ancestry<ChainBlock>) -> bool {
        let Some(candidate) = ancestry.next().await else { return false };
        let Some(block) = candidate.inner().block().cloned() else { return false };
        // Rule B-5: only the leader consensus elected for the view may propose in it.
        if block.header.proposer != depin_key(&context.leader) {
            tracing::warn!(height = block.header.height, "block not proposed by the view's leader");
            return false;
        }
        // Rule B-6: a timestamp ahead of this node's clock is not refused (clocks drift) but
        // waited for, so no proposer can move the chain's time ahead of the validators'.
        let ahead = block.header.timestamp_ms.saturating_sub(now_ms(&clock).saturating_add(MAX_FUTURE_MS));
        if ahead > 0 {
            clock.sleep(Duration::from_millis(ahead)).await;
        }
        if !self.learn(&mut ancestry).await {
            return false;
        }
        match self.replica.verify(block) {
            Ok(Some(Ok(()))) => true,
            Ok(Some(Err(rejected))) => {
                tracing::warn!(%rejected, "refusing an invalid block");
                false
            }
            Ok(None) => false,
            Err(e) => self.fault(&e),
        }
    }
}

/// Receives finalized blocks from marshal and hands them to the commit task.
#[derive(Clone)]
pub struct Finalizer {
    blocks: mpsc::UnboundedSender<Update<ChainBlock>>,
    tip: Arc<AtomicU64>,
}

impl Finalizer {
    /// A finalizer and the receiving end its commit task ([`commit_loop`]) reads.
    pub fn new() -> (Finalizer, mpsc::UnboundedReceiver<Update<ChainBlock>>, Arc<AtomicU64>) {
        let (blocks, rx) = mpsc::unbounded();
        let tip = Arc::new(AtomicU64::new(0));
        (Finalizer { blocks, tip: tip.clone() }, rx, tip)
    }
}

impl Reporter for Finalizer {
    type Activity = Update<ChainBlock>;

    fn report(&mut self, activity: Update<ChainBlock>) -> Feedback {
        if let Update::Tip(_, height, _) = &activity {
            self.tip.fetch_max(height.get(), Ordering::Relaxed);
            return Feedback::Ok;
        }
        // Marshal bounds the blocks awaiting acknowledgement, so this queue is bounded too.
        match self.blocks.unbounded_send(activity) {
            Ok(()) => Feedback::Ok,
            Err(_) => Feedback::Closed,
        }
    }
}

/// Commit finalized blocks in order, acknowledging each only after its durable commit. Ends
/// (without acknowledging, so marshal stops too) if the ledger fails or a finalized block
/// contradicts it.
pub async fn commit_loop(replica: Replica, mut updates: mpsc::UnboundedReceiver<Update<ChainBlock>>) {
    while let Some(update) = updates.next().await {
        let Update::Block(block, ack) = update else { continue };
        let Some(b) = block.inner().block() else {
            ack.acknowledge(); // the genesis anchor: nothing to commit
            continue;
        };
        match replica.finalize(b) {
            Ok(Finalized::Committed(height)) => {
                tracing::debug!(height, "finalized block committed");
                ack.acknowledge();
            }
            Ok(Finalized::AlreadyCommitted) => ack.acknowledge(),
            Err(fault) => {
                tracing::error!(%fault, "cannot commit a finalized block; stopping the node");
                replica.node().request_stop();
                return;
            }
        }
    }
}
