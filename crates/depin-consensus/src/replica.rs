//! The replica's state between consensus and the ledger: blocks executed but not final yet.
//!
//! Simplex lets a leader build on a block that is notarized but not finalized, so a proposal
//! or a verification may sit on a chain of such blocks. Each is kept here as an executed
//! [`Proposal`] (its receipts and its own state changes), keyed by id, so that children execute
//! on the committed state seen through their ancestors' changes, and so that finalizing a block
//! that was executed here needs no second execution. Blocks that can no longer become final
//! (forks of the committed head) are dropped after every commit.
//!
//! All chain work happens under one lock, so proposals, verifications and commits never
//! interleave; the lock is never held across an `await`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

use depin_ledger::LedgerError;
use depin_node::{BlockRejected, Committed, Node, Proposal};
use depin_state::Overlay;
use depin_types::{Block, Hash32, Transaction};

/// Blocks executed but not final, by id.
#[derive(Default)]
struct Pending {
    blocks: BTreeMap<Hash32, Proposal>,
}

/// What happened to a block handed to [`Replica::finalize`].
#[derive(Debug, PartialEq, Eq)]
pub enum Finalized {
    /// Committed as the new head.
    Committed(u64),
    /// Already in the ledger (a redelivery after a restart).
    AlreadyCommitted,
}

/// A failure the replica cannot continue after: the ledger failed, or a finalized block
/// contradicts it (which means this node's state is not the network's).
#[derive(Debug, thiserror::Error)]
pub enum ReplicaFault {
    /// Storage failed.
    #[error("ledger: {0}")]
    Ledger(#[from] LedgerError),
    /// A finalized block does not fit the ledger.
    #[error("finalized block {height} ({id}) cannot be applied: {reason}")]
    Diverged {
        /// Height.
        height: u64,
        /// Id.
        id: Hash32,
        /// Why.
        reason: String,
    },
}

/// The node plus the blocks in flight. Cheap to clone.
#[derive(Clone)]
pub struct Replica {
    node: Node,
    pending: Arc<Mutex<Pending>>,
}

impl Replica {
    /// A replica over an open node (its ledger already repaired to its head).
    pub fn new(node: Node) -> Replica {
        Replica { node, pending: Arc::new(Mutex::new(Pending::default())) }
    }

    /// The node.
    pub fn node(&self) -> &Node {
        &self.node
    }

    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().expect("invariant: the replica lock is never poisoned")
    }

    /// The committed head's id and height.
    pub fn head(&self) -> Result<(Hash32, u64), LedgerError> {
        let head = self.node.chain().ledger().head()?;
        Ok((head.block_id, head.height))
    }

    /// True if `id` is the head, a committed block, or executed here and pending.
    pub fn knows(&self, id: &Hash32, height: u64) -> Result<bool, LedgerError> {
        if self.lock().blocks.contains_key(id) {
            return Ok(true);
        }
        Ok(self.node.chain().ledger().block(height)?.is_some_and(|b| b.id() == *id)
            || (height == 0 && *id == self.node.chain().ledger().genesis_head()?.block_id))
    }

    /// The pending blocks from the head to `parent` (oldest first), or `None` if `parent` is
    /// neither the head nor reachable from it through pending blocks.
    fn ancestry<'a>(&self, pending: &'a Pending, parent: Hash32) -> Result<Option<Vec<&'a Proposal>>, LedgerError> {
        let (head_id, _) = self.head()?;
        let mut chain = Vec::new();
        let mut at = parent;
        while at != head_id {
            match pending.blocks.get(&at) {
                Some(p) => {
                    at = p.block.header.parent;
                    chain.push(p);
                }
                None => return Ok(None),
            }
        }
        chain.reverse();
        Ok(Some(chain))
    }

    /// Build and sign a block on `parent` from the mempool; `None` if `parent` is not known
    /// here (the caller makes it known first).
    pub fn propose(&self, parent: Hash32, now_ms: u64, max_block_bytes: usize) -> Result<Option<Block>, LedgerError> {
        let mut pending = self.lock();
        let chain = self.node.chain();
        let proposal = {
            let Some(ancestors) = self.ancestry(&pending, parent)? else { return Ok(None) };
            let state = chain.state_on(&ancestors)?;
            let txs: Vec<Transaction> = self.node.select_txs(max_block_bytes, |sender| {
                Overlay::new(&state).account(sender).map(|a| a.nonce)
            })?;
            // Every transaction in the pool passed signature verification at admission.
            // Admission checked every signature (and embedded proof) of pooled transactions.
            let verdicts = vec![depin_types::Verdict::VALID; txs.len()];
            chain.propose_on(&ancestors, txs, &verdicts, now_ms)?
        };
        let block = proposal.block.clone();
        pending.blocks.insert(proposal.id(), proposal);
        Ok(Some(block))
    }

    /// Re-execute `block` on its parent and keep it if valid. `Ok(None)`: its parent is not
    /// known here yet (the caller makes it known first).
    pub fn verify(&self, block: Block) -> Result<Option<Result<(), BlockRejected>>, LedgerError> {
        let mut pending = self.lock();
        let id = block.id();
        if pending.blocks.contains_key(&id) {
            return Ok(Some(Ok(())));
        }
        let verdict = {
            let Some(ancestors) = self.ancestry(&pending, block.header.parent)? else { return Ok(None) };
            self.node.chain().verify_on(&ancestors, block)?
        };
        Ok(Some(match verdict {
            Ok(proposal) => {
                pending.blocks.insert(id, proposal);
                Ok(())
            }
            Err(rejected) => Err(rejected),
        }))
    }

    /// Commit a finalized block: the executed one kept here if there is one, otherwise
    /// re-executed on the head (catch-up). Then drop pending blocks that can no longer be
    /// final, and run the node's post-commit work (mempool, waiters, events).
    pub fn finalize(&self, block: &Block) -> Result<Finalized, ReplicaFault> {
        let mut pending = self.lock();
        let chain = self.node.chain();
        let ledger = chain.ledger();
        let head = ledger.head()?;
        let (height, id) = (block.header.height, block.id());
        let diverged = |reason: String| ReplicaFault::Diverged { height, id, reason };
        if height <= head.height {
            let stored = ledger.block(height)?.map(|b| b.id());
            return if stored == Some(id) {
                Ok(Finalized::AlreadyCommitted)
            } else {
                Err(diverged(format!("the ledger holds {stored:?} at that height")))
            };
        }
        if height != head.height + 1 || block.header.parent != head.block_id {
            return Err(diverged(format!("it does not extend the head {} ({})", head.height, head.block_id)));
        }
        let proposal = match pending.blocks.remove(&id) {
            Some(p) => p,
            None => match chain.verify(block.clone())? {
                Ok(p) => p,
                Err(rejected) => return Err(diverged(format!("re-execution rejects it: {rejected}"))),
            },
        };
        let committed: Committed = chain.finalize(proposal)?;
        prune(&mut pending, committed.head.block_id, committed.head.height);
        drop(pending);
        self.node.after_commit(&committed).map_err(|e| LedgerError::Storage(e.to_string()))?;
        Ok(Finalized::Committed(committed.head.height))
    }

    /// Number of blocks executed and not final.
    pub fn pending_len(&self) -> usize {
        self.lock().blocks.len()
    }
}

/// Keep only pending blocks that extend the new head.
fn prune(pending: &mut Pending, head_id: Hash32, head_height: u64) {
    let mut by_height: Vec<(u64, Hash32, Hash32)> =
        pending.blocks.iter().map(|(id, p)| (p.block.header.height, *id, p.block.header.parent)).collect();
    by_height.sort();
    let mut alive = BTreeSet::from([head_id]);
    for (height, id, parent) in by_height {
        if height > head_height && alive.contains(&parent) {
            alive.insert(id);
        } else {
            pending.blocks.remove(&id);
        }
    }
}
