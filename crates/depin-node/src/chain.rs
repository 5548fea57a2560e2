//! Propose, verify and finalize blocks: the port that every sequencer drives.
//!
//! The local sequencer calls `propose` then `finalize`; a BFT engine calls `propose_on` on the
//! leader, `verify_on` on the others and `finalize` once a block is final. A BFT engine builds
//! on blocks that are not final yet: `*_on` take the chain of such blocks from the committed
//! head to the parent (their [`Proposal`]s) and execute on the head's state seen through their
//! changes. The audit (`replay_from_genesis`) is `verify` + `finalize` over the block log into a
//! scratch ledger; `repair_state` re-executes logged blocks into the derived state. All run one
//! execute path. Both need whole blocks: a block whose telemetry retention pruned stops them
//! with `LedgerError::Pruned` (docs/adr/0018), never with a wrong root.

use std::collections::BTreeSet;

use depin_crypto::verify_all_parallel;
use depin_ledger::authstate::JmtStaged;
use depin_ledger::{Head, Ledger, LedgerError, StateSnapshot};
use depin_state::{apply_txs, BlockContext, ChangeSet, StateRead, StorageFault};
use depin_types::block::{receipts_root, txs_root, BLOCK_VERSION};
use depin_types::{Block, BlockHeader, Genesis, Hash32, PublicKey, Receipt, SecretKey, Transaction, Verdict};

/// A block executed (proposed here or verified) and ready to finalize once it is final.
pub struct Proposal {
    /// The signed block.
    pub block: Block,
    /// Its receipts.
    pub receipts: Vec<Receipt>,
    /// Its own state changes (children not yet final execute on top of them).
    changes: ChangeSet,
    /// The staged state write, when the block was executed directly on the committed head.
    staged: Option<JmtStaged>,
}

impl Proposal {
    /// The block id.
    pub fn id(&self) -> Hash32 {
        self.block.id()
    }
}

/// The committed state seen through the changes of blocks that are not final yet.
pub struct StateOn<'a, R: StateRead> {
    base: R,
    /// Oldest first.
    layers: &'a [&'a Proposal],
}

impl<R: StateRead> StateRead for StateOn<'_, R> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageFault> {
        for layer in self.layers.iter().rev() {
            if let Some(v) = layer.changes.get(key) {
                return Ok(v.clone());
            }
        }
        self.base.get(key)
    }
}

/// A durably committed block.
pub struct Committed {
    /// The new head.
    pub head: Head,
    /// The block.
    pub block: Block,
    /// Its receipts.
    pub receipts: Vec<Receipt>,
    /// How long the durable log append and the state apply took.
    pub timings: depin_ledger::CommitTimings,
}

/// Why a block was refused by `verify` (rules B-1 to B-4).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockRejected {
    /// B-1: wrong chain id or format version.
    #[error("block is for chain {0:?} or an unknown format")]
    WrongChain(String),
    /// B-1: does not extend the head.
    #[error("block {height} does not extend head {head_height} ({head_id})")]
    NotNext {
        /// Block height.
        height: u64,
        /// Head height.
        head_height: u64,
        /// Head id.
        head_id: Hash32,
    },
    /// B-2: timestamp not after the parent's.
    #[error("timestamp {got} is not after the parent's {parent}")]
    TimestampNotIncreasing {
        /// Block timestamp.
        got: u64,
        /// Parent timestamp.
        parent: u64,
    },
    /// B-3: proposer is not a validator.
    #[error("proposer is not a validator")]
    UnknownProposer,
    /// B-3: the block signature does not verify.
    #[error("block signature does not verify")]
    BadSignature,
    /// B-4: transaction count wrong or over the limit.
    #[error("transaction count {0} does not match the header or exceeds max_block_txs")]
    TxCount(usize),
    /// B-1: a root in the header differs from re-execution.
    #[error("{which} root mismatch: header {header}, computed {computed}")]
    RootMismatch {
        /// Which root.
        which: &'static str,
        /// In the header.
        header: Hash32,
        /// Recomputed.
        computed: Hash32,
    },
}

/// The chain: ledger, genesis rules and (optionally) this node's signing key.
pub struct Chain {
    ledger: Ledger,
    genesis: Genesis,
    validators: BTreeSet<PublicKey>,
    key: Option<SecretKey>,
}

impl Chain {
    /// A chain over `ledger`. `key` signs proposals; a node without a key can only verify.
    pub fn new(ledger: Ledger, genesis: Genesis, key: Option<SecretKey>) -> Chain {
        let validators = genesis.validators.iter().map(|v| v.public_key.clone()).collect();
        Chain { ledger, genesis, validators, key }
    }

    /// The ledger.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// The genesis document.
    pub fn genesis(&self) -> &Genesis {
        &self.genesis
    }

    /// The signing key, if this node can propose.
    pub(crate) fn key(&self) -> Option<&SecretKey> {
        self.key.as_ref()
    }

    /// The signing key's public half, if this node can propose.
    pub fn public_key(&self) -> Option<PublicKey> {
        self.key.as_ref().map(SecretKey::public_key)
    }

    /// Execute `txs` on the head and build a signed block. `verdicts` are the signature verdicts
    /// (from mempool admission). `now_ms` is the proposer's clock; the timestamp is bumped to
    /// parent + 1 if the clock is behind (rule B-2).
    pub fn propose(&self, txs: Vec<Transaction>, verdicts: &[Verdict], now_ms: u64) -> Result<Proposal, LedgerError> {
        self.propose_on(&[], txs, verdicts, now_ms)
    }

    /// [`Chain::propose`] on top of `ancestors`: the blocks not final yet from the head to the
    /// parent, oldest first (empty: build on the head).
    pub fn propose_on(
        &self,
        ancestors: &[&Proposal],
        txs: Vec<Transaction>,
        verdicts: &[Verdict],
        now_ms: u64,
    ) -> Result<Proposal, LedgerError> {
        let key = self.key.as_ref().expect("invariant: only a node with a key proposes");
        let parent = self.parent_of(ancestors)?;
        let timestamp_ms = now_ms.max(parent.timestamp_ms.saturating_add(1));
        let height = parent.height + 1;
        let (receipts, changes, staged, state_root) =
            self.execute(ancestors, height, timestamp_ms, &txs, verdicts)?;
        let header = BlockHeader {
            version: BLOCK_VERSION,
            chain_id: self.genesis.chain_id.clone(),
            height,
            parent: parent.block_id,
            timestamp_ms,
            proposer: key.public_key(),
            n_txs: u32::try_from(txs.len()).expect("invariant: block size is bounded by max_block_txs"),
            txs_root: txs_root(&txs),
            receipts_root: receipts_root(&receipts),
            state_root,
        };
        Ok(Proposal { block: Block::seal(header, txs, key), receipts, changes, staged })
    }

    /// The block `ancestors` end at (the head when empty), after checking that they chain from
    /// the head.
    fn parent_of(&self, ancestors: &[&Proposal]) -> Result<Head, LedgerError> {
        let head = self.ledger.head()?;
        let mut parent = head;
        for a in ancestors {
            if a.block.header.parent != parent.block_id || a.block.header.height != parent.height + 1 {
                return Err(LedgerError::Corrupt(format!(
                    "block {} ({}) does not extend {} ({}): ancestors must chain from the head",
                    a.block.header.height,
                    a.id(),
                    parent.height,
                    parent.block_id
                )));
            }
            parent = Head::of(&a.block);
        }
        Ok(parent)
    }

    #[allow(clippy::type_complexity)]
    fn execute(
        &self,
        ancestors: &[&Proposal],
        height: u64,
        timestamp_ms: u64,
        txs: &[Transaction],
        verdicts: &[Verdict],
    ) -> Result<(Vec<Receipt>, ChangeSet, Option<JmtStaged>, Hash32), LedgerError> {
        let snapshot = self.ledger.snapshot()?;
        let at = snapshot.at()?;
        if at.height + 1 + ancestors.len() as u64 != height {
            // Executing on state that is not at the parent would sign or accept a wrong root.
            return Err(LedgerError::Corrupt(format!(
                "the state is at height {} with {} blocks pending, not at the parent of block {height}; restart the node to repair it",
                at.height,
                ancestors.len()
            )));
        }
        let ctx = BlockContext { height, timestamp_ms };
        let executed = apply_txs(&StateOn { base: snapshot, layers: ancestors }, &ctx, txs, verdicts)?;
        if ancestors.is_empty() {
            let (root, staged) = self.ledger.stage(height, &executed.changes)?;
            return Ok((executed.receipts, executed.changes, Some(staged), root));
        }
        // The tree's root depends only on the final key/value set, so the state after the
        // ancestors and this block is the head's plus all their changes, newest last.
        let mut merged = ChangeSet::new();
        for a in ancestors {
            merged.extend(a.changes.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        merged.extend(executed.changes.iter().map(|(k, v)| (k.clone(), v.clone())));
        let (root, _) = self.ledger.stage(height, &merged)?;
        Ok((executed.receipts, executed.changes, None, root))
    }

    /// The state after `ancestors` (see [`Chain::propose_on`]): the committed state seen
    /// through their changes.
    pub fn state_on<'a>(&self, ancestors: &'a [&'a Proposal]) -> Result<StateOn<'a, StateSnapshot>, LedgerError> {
        Ok(StateOn { base: self.ledger.snapshot()?, layers: ancestors })
    }

    /// Check a block from elsewhere (a peer, or the block log during replay) against the head
    /// by re-executing it. Signatures are re-verified on all cores.
    pub fn verify(&self, block: Block) -> Result<Result<Proposal, BlockRejected>, LedgerError> {
        self.verify_on(&[], block)
    }

    /// [`Chain::verify`] on top of `ancestors` (see [`Chain::propose_on`]).
    pub fn verify_on(
        &self,
        ancestors: &[&Proposal],
        block: Block,
    ) -> Result<Result<Proposal, BlockRejected>, LedgerError> {
        let parent = self.parent_of(ancestors)?;
        if let Err(r) = self.check_header(&block, &parent) {
            return Ok(Err(r));
        }
        let verdicts = verify_all_parallel(&block.txs, Transaction::verdict);
        let h = &block.header;
        let (receipts, changes, staged, state_root) =
            self.execute(ancestors, h.height, h.timestamp_ms, &block.txs, &verdicts)?;
        for (which, header, computed) in [
            ("transactions", h.txs_root, txs_root(&block.txs)),
            ("receipts", h.receipts_root, receipts_root(&receipts)),
            ("state", h.state_root, state_root),
        ] {
            if header != computed {
                return Ok(Err(BlockRejected::RootMismatch { which, header, computed }));
            }
        }
        Ok(Ok(Proposal { block, receipts, changes, staged }))
    }

    fn check_header(&self, block: &Block, head: &Head) -> Result<(), BlockRejected> {
        let h = &block.header;
        if h.chain_id != self.genesis.chain_id || h.version != BLOCK_VERSION {
            return Err(BlockRejected::WrongChain(h.chain_id.clone())); // rule B-1
        }
        if h.height != head.height + 1 || h.parent != head.block_id {
            return Err(BlockRejected::NotNext {
                height: h.height,
                head_height: head.height,
                head_id: head.block_id,
            });
        }
        if h.timestamp_ms <= head.timestamp_ms {
            return Err(BlockRejected::TimestampNotIncreasing {
                got: h.timestamp_ms,
                parent: head.timestamp_ms,
            }); // rule B-2
        }
        if !self.validators.contains(&h.proposer) {
            return Err(BlockRejected::UnknownProposer); // rule B-3
        }
        if !block.signature_ok() {
            return Err(BlockRejected::BadSignature); // rule B-3
        }
        let n = block.txs.len();
        if n != h.n_txs as usize || n > self.genesis.params.max_block_txs as usize {
            return Err(BlockRejected::TxCount(n)); // rule B-4
        }
        Ok(())
    }

    /// Bring the derived state to the head by re-executing logged blocks: the blocks after the
    /// last state checkpoint after a crash, or everything from genesis if the state is lost or
    /// ahead of the log. Every block's state root is checked. Returns the heights replayed.
    pub fn repair_state(&self) -> Result<Option<std::ops::RangeInclusive<u64>>, LedgerError> {
        let head = self.ledger.head()?;
        // Trust the stored state only if its root is the one the log has for its height.
        let from = match self.ledger.state_at()? {
            Some(at) if at.height <= head.height && at.state_root == self.ledger.root_at(at.height)? => {
                if at.height == head.height {
                    return Ok(None);
                }
                at.height + 1
            }
            _ => {
                // Refuse before the state is reset: a log with pruned telemetry cannot rebuild it.
                if let Some(height) = self.ledger.oldest_pruned()? {
                    return Err(LedgerError::Pruned { height });
                }
                tracing::warn!("the stored state is lost, ahead of the block log or not the log's; rebuilding it from genesis");
                self.ledger.write_genesis_state(&self.genesis)?;
                1
            }
        };
        for height in from..=head.height {
            let block = whole_block(&self.ledger, height)?;
            let verdicts = verify_all_parallel(&block.txs, Transaction::verdict);
            let h = &block.header;
            let (receipts, _, staged, root) = self.execute(&[], height, h.timestamp_ms, &block.txs, &verdicts)?;
            let staged = staged.expect("invariant: executing on the head stages the state");
            if root != h.state_root || receipts_root(&receipts) != h.receipts_root {
                return Err(LedgerError::Corrupt(format!(
                    "replaying block {height} gives state root {root}, the block says {}, or its receipts differ",
                    h.state_root
                )));
            }
            self.ledger.apply_state(height, &receipts, staged)?;
        }
        self.ledger.checkpoint()?;
        Ok(Some(from..=head.height))
    }

    /// Durably commit a proposal (one fsync) whose parent is the head. Only after this returns
    /// may anything be acknowledged as committed.
    pub fn finalize(&self, p: Proposal) -> Result<Committed, LedgerError> {
        let staged = match p.staged {
            Some(staged) => staged,
            // Executed on ancestors that have been committed since: stage its own changes on
            // the head they led to (the same state, so the same root).
            None => {
                let (root, staged) = self.ledger.stage(p.block.header.height, &p.changes)?;
                if root != p.block.header.state_root {
                    return Err(LedgerError::Corrupt(format!(
                        "block {} restaged on the head gives state root {root}, not {}",
                        p.block.header.height, p.block.header.state_root
                    )));
                }
                staged
            }
        };
        let (head, timings) = self.ledger.commit_block(&p.block, &p.receipts, staged)?;
        Ok(Committed { head, block: p.block, receipts: p.receipts, timings })
    }
}

/// The whole block at `height` for re-execution: [`LedgerError::Pruned`] if retention pruned
/// its telemetry, `Corrupt` if the log does not have it.
fn whole_block(ledger: &Ledger, height: u64) -> Result<Block, LedgerError> {
    let logged = ledger
        .logged_block(height)?
        .ok_or_else(|| LedgerError::Corrupt(format!("block {height} missing from the log")))?;
    Ok(logged.into_block()?.0)
}

/// Re-execute every block of `source` from genesis into a scratch ledger and compare every
/// header root; returns the final state root. This is the audit that proves the stored state
/// equals a replay of the block log. A log pruned by retention cannot be audited this way:
/// [`LedgerError::Pruned`] names its oldest pruned block.
pub fn replay_from_genesis(source: &Ledger, genesis: &Genesis) -> Result<Result<Hash32, (u64, BlockRejected)>, LedgerError> {
    // Fail at once rather than after replaying everything up to the first pruned block.
    if let Some(height) = source.oldest_pruned()? {
        return Err(LedgerError::Pruned { height });
    }
    let dir = tempfile::tempdir().map_err(|e| LedgerError::Storage(e.to_string()))?;
    let scratch = Ledger::open(&dir.path().join("replay"), genesis, false)?;
    let chain = Chain::new(scratch, genesis.clone(), None);
    let head = source.head()?;
    for height in 1..=head.height {
        let block = whole_block(source, height)?;
        match chain.verify(block)? {
            Ok(p) => {
                chain.finalize(p)?;
            }
            Err(r) => return Ok(Err((height, r))),
        }
    }
    Ok(Ok(chain.ledger.head()?.state_root))
}
