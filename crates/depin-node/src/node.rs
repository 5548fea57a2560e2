//! Hold the running node's shared parts behind a cheap-clone handle used by the API and CLI.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use depin_keystore::KeyFile;
use depin_ledger::authstate::StateProof;
use depin_ledger::{Ledger, LedgerError};
use depin_types::evidence::EvidenceRecord;
use depin_types::state_key::{account_key, evidence_key, Account, ValidatorSet, EVIDENCE_PREFIX, VALIDATORS_KEY};
use depin_types::{
    Address, Amount, Block, Evidence, EvidenceProblem, Genesis, Hash32, PublicKey, Receipt, SecretKey, Transaction,
    TxBody, TxContent,
};
use serde::Serialize;
use tokio::sync::{broadcast, oneshot};

use crate::chain::{Chain, Committed};
use crate::config::NodeConfig;
use crate::home::Home;
use crate::mempool::{Mempool, SubmitError};
use crate::metrics::Metrics;

/// Read and decrypt the home's node key (`password` is not needed for a plaintext dev key).
pub fn read_node_key(home: &Home, password: Option<&[u8]>) -> Result<SecretKey, NodeError> {
    let key_file = KeyFile::read(&home.node_key())
        .map_err(|e| NodeError::Home(format!("{}: {e}", home.node_key().display())))?;
    key_file.decrypt(password, true).map_err(|e| NodeError::Home(format!("{}: {e}", home.node_key().display())))
}

/// Read and validate the home's genesis.
pub fn read_genesis(home: &Home) -> Result<Genesis, NodeError> {
    let text = std::fs::read_to_string(home.genesis()).map_err(|e| {
        NodeError::Home(format!("cannot read {}: {e} (run `depin init` first)", home.genesis().display()))
    })?;
    Genesis::from_toml(&text).map_err(|e| NodeError::Home(format!("{}: {e}", home.genesis().display())))
}

/// Capacity of the event channel; a slower subscriber sees a "lagged" gap, never blocks us.
const EVENT_CAPACITY: usize = 1024;

/// A failure inside the node (storage, configuration). Details are for logs, not for clients.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// Ledger storage failed.
    #[error("storage: {0}")]
    Storage(String),
    /// The home is not usable.
    #[error("{0}")]
    Home(String),
}

impl From<LedgerError> for NodeError {
    fn from(e: LedgerError) -> Self {
        NodeError::Storage(e.to_string())
    }
}

impl From<depin_state::StorageFault> for NodeError {
    fn from(e: depin_state::StorageFault) -> Self {
        NodeError::Storage(e.to_string())
    }
}

/// Status of a transaction.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum TxStatus {
    /// In the mempool or in a block being committed.
    Pending,
    /// Durably committed.
    Committed {
        /// Block height.
        height: u64,
        /// Position in the block.
        index: u32,
        /// Block id.
        block_id: Hash32,
        /// Receipt.
        receipt: Receipt,
    },
    /// Never seen (or dropped).
    Unknown,
}

/// An account as of the committed head.
#[derive(Clone, Debug, Serialize)]
pub struct AccountView {
    /// Address.
    pub address: Address,
    /// Balance in base units.
    pub balance: Amount,
    /// Next nonce.
    pub nonce: u64,
    /// Height the view is at.
    pub height: u64,
    /// State root at that height (what a proof verifies against).
    pub state_root: Hash32,
}

/// A block with its id and receipts.
#[derive(Clone, Debug, Serialize)]
pub struct BlockView {
    /// Block id.
    pub id: Hash32,
    /// The block.
    pub block: Block,
    /// Receipts, in transaction order.
    pub receipts: Vec<Receipt>,
}

/// Node status.
#[derive(Clone, Debug, Serialize)]
pub struct Status {
    /// Chain id.
    pub chain_id: String,
    /// Genesis id.
    pub genesis_id: Hash32,
    /// Committed height.
    pub height: u64,
    /// Head block id.
    pub block_id: Hash32,
    /// Head state root.
    pub state_root: Hash32,
    /// Head timestamp.
    pub timestamp_ms: u64,
    /// Pending transactions.
    pub mempool_size: usize,
    /// Minimum fee per transaction (chain parameter).
    pub min_fee: Amount,
    /// This node's block-signing key.
    pub node_public_key: PublicKey,
    /// Its address.
    pub node_address: Address,
    /// Software version.
    pub version: String,
    /// `single` (local sequencer) or `bft` (replicated by consensus).
    pub mode: &'static str,
    /// The replication engine's view (BFT mode only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replication: Option<ReplicationStatus>,
}

/// Something that happened, for SSE subscribers.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum NodeEvent {
    /// A block was durably committed.
    Block {
        /// Height.
        height: u64,
        /// Id.
        id: Hash32,
        /// Timestamp.
        timestamp_ms: u64,
        /// Transactions.
        n_txs: u32,
        /// Of which rejected.
        n_rejected: u32,
        /// State root.
        state_root: Hash32,
    },
    /// An asset's health changed (the monitor, at this node's clock).
    Health {
        /// The ledger height when it was noticed.
        height: u64,
        /// The asset.
        asset: depin_types::asset::AssetId,
        /// The previous state (none the first time the node judges it).
        from: Option<&'static str>,
        /// The new state.
        to: &'static str,
        /// Why.
        reasons: Vec<depin_types::telemetry::HealthReason>,
        /// When, ms since the Unix epoch.
        at_ms: u64,
    },
    /// An alert rule of `[alerts]` fired.
    Alert {
        /// The ledger height when it fired.
        height: u64,
        /// The asset.
        asset: depin_types::asset::AssetId,
        /// `offline` or `uptime`.
        rule: &'static str,
        /// In words.
        detail: String,
        /// When, ms since the Unix epoch.
        at_ms: u64,
    },
    /// The market did something in a committed block (placed or closed a lease, could not
    /// place a workload, changed an escrow notice, closed a workload); sent after the block's
    /// `Block` event.
    Market {
        /// The block.
        height: u64,
        /// What happened.
        event: depin_types::market::MarketEvent,
    },
}

impl NodeEvent {
    /// The event announcing a committed block (the sequencer and SSE resume build it alike).
    pub fn of_block(block: &Block, receipts: &[Receipt]) -> NodeEvent {
        NodeEvent::of_header(&block.header, receipts)
    }

    /// [`NodeEvent::of_block`] from the header alone (a block pruned by retention keeps it).
    pub fn of_header(h: &depin_types::BlockHeader, receipts: &[Receipt]) -> NodeEvent {
        NodeEvent::Block {
            height: h.height,
            id: h.id(),
            timestamp_ms: h.timestamp_ms,
            n_txs: h.n_txs,
            n_rejected: receipts.iter().filter(|r| !r.applied()).count() as u32,
            state_root: h.state_root,
        }
    }

    /// The height the event is about.
    pub fn height(&self) -> u64 {
        match self {
            NodeEvent::Block { height, .. }
            | NodeEvent::Health { height, .. }
            | NodeEvent::Alert { height, .. }
            | NodeEvent::Market { height, .. } => *height,
        }
    }
}

pub(crate) struct Inner {
    pub(crate) chain: Chain,
    pub(crate) mempool: Mutex<Mempool>,
    pub(crate) wake: Condvar,
    pub(crate) waiters: Mutex<HashMap<Hash32, Vec<oneshot::Sender<()>>>>,
    pub(crate) events: broadcast::Sender<NodeEvent>,
    pub(crate) metrics: Metrics,
    pub(crate) config: NodeConfig,
    pub(crate) stopping: AtomicBool,
    pub(crate) replication: Mutex<Option<ReplicationStatus>>,
    pub(crate) metrics_sources: Mutex<Vec<MetricsSource>>,
    pub(crate) gossip: Mutex<Option<GossipHook>>,
    pub(crate) ingest: crate::ingest::Ingest,
    pub(crate) monitor: Mutex<crate::monitor::Monitor>,
}

/// Receives transactions admitted through the API (BFT mode: sends them to the other validators).
pub type GossipHook = Box<dyn Fn(&Transaction) + Send + Sync>;

/// Renders extra Prometheus text for `/metrics`.
pub type MetricsSource = Box<dyn Fn() -> String + Send + Sync>;

/// What a BFT replication engine reports about itself (absent in single-node mode).
#[derive(Clone, Debug, Serialize)]
pub struct ReplicationStatus {
    /// The engine, e.g. `commonware-simplex`.
    pub engine: String,
    /// Latest finalized height known to consensus (this node's ledger may still be catching up).
    pub finalized_height: u64,
    /// Latest consensus view this node entered.
    pub view: u64,
    /// The validator set from genesis, with who is connected.
    pub validators: Vec<ValidatorView>,
    /// Peers currently connected.
    pub peers_connected: usize,
}

/// One validator as this node sees it.
#[derive(Clone, Debug, Serialize)]
pub struct ValidatorView {
    /// Name from genesis.
    pub name: String,
    /// Consensus key.
    pub public_key: PublicKey,
    /// Network address from genesis.
    pub p2p: Option<String>,
    /// This node.
    pub is_self: bool,
    /// Connected now (always true for this node).
    pub connected: bool,
}

/// Removes a waiter's entry when its wait ends, whichever way.
struct WaiterGuard<'a> {
    node: &'a Node,
    id: Hash32,
}

impl Drop for WaiterGuard<'_> {
    fn drop(&mut self) {
        self.node.forget_waiter(&self.id);
    }
}

/// The node handle.
#[derive(Clone)]
pub struct Node {
    pub(crate) inner: Arc<Inner>,
}

impl Node {
    /// Open the node in `home` with `config` (the ledger is created from genesis on first open).
    /// `node_key_password` decrypts the node key; a plaintext node key (dev homes) needs none.
    pub fn open(home: &Home, config: NodeConfig, node_key_password: Option<&[u8]>) -> Result<Node, NodeError> {
        let key = read_node_key(home, node_key_password)?;
        Node::open_with_key(home, config, key)
    }

    /// [`Node::open`] with the node key already read (see [`read_node_key`]).
    pub fn open_with_key(home: &Home, config: NodeConfig, key: SecretKey) -> Result<Node, NodeError> {
        let genesis = read_genesis(home)?;
        let ledger = Ledger::open(&home.ledger(), &genesis, true)?;
        let chain = Chain::new(ledger, genesis, Some(key));
        if let Some(heights) = chain.repair_state()? {
            tracing::info!(from = heights.start(), to = heights.end(), "replayed logged blocks into the state (it was behind the block log)");
        }
        Ok(Node::from_parts(chain, config))
    }

    /// Assemble a node from an open chain.
    pub fn from_parts(chain: Chain, config: NodeConfig) -> Node {
        let mempool = Mempool::new(config.mempool.max_txs, config.mempool.max_per_sender);
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        Node {
            inner: Arc::new(Inner {
                chain,
                mempool: Mutex::new(mempool),
                wake: Condvar::new(),
                waiters: Mutex::new(HashMap::new()),
                events,
                metrics: Metrics::default(),
                config,
                stopping: AtomicBool::new(false),
                replication: Mutex::new(None),
                metrics_sources: Mutex::new(Vec::new()),
                gossip: Mutex::new(None),
                ingest: crate::ingest::Ingest::default(),
                monitor: Mutex::new(crate::monitor::Monitor::default()),
            }),
        }
    }

    /// The chain (ledger, genesis).
    pub fn chain(&self) -> &Chain {
        &self.inner.chain
    }

    /// The configuration.
    pub fn config(&self) -> &NodeConfig {
        &self.inner.config
    }

    /// True once the node is shutting down (by request, or because the sequencer hit a fault).
    pub fn is_stopping(&self) -> bool {
        self.inner.stopping.load(Ordering::SeqCst)
    }

    /// The chain id.
    pub fn chain_id(&self) -> &str {
        &self.inner.chain.genesis().chain_id
    }

    pub(crate) fn mempool(&self) -> MutexGuard<'_, Mempool> {
        self.inner.mempool.lock().expect("invariant: mempool lock is never poisoned")
    }

    /// Admit a transaction to the mempool after checking chain id, fee and signature. In BFT
    /// mode an admitted transaction is also handed to the gossip hook, for the other validators.
    pub fn submit(&self, tx: Transaction) -> Result<Hash32, SubmitError> {
        self.submit_with(tx, None)
    }

    /// [`Node::submit`] with the verdict already computed (see [`Node::admit_with`]).
    fn submit_with(&self, tx: Transaction, verified: Option<depin_types::Verdict>) -> Result<Hash32, SubmitError> {
        let gossip = self.inner.gossip.lock().expect("invariant: gossip lock is never poisoned");
        let copy = gossip.as_ref().map(|_| tx.clone());
        drop(gossip);
        let result = self.admit_with(tx, verified);
        self.inner.metrics.submitted(match &result {
            Ok(_) => "accepted",
            Err(e) => e.code(),
        });
        if let (Ok(_), Some(tx)) = (&result, copy)
            && let Some(hook) = self.inner.gossip.lock().expect("invariant: gossip lock is never poisoned").as_ref()
        {
            hook(&tx);
        }
        result
    }

    /// Admit a transaction a peer validator gossiped (same checks, not gossiped again).
    pub fn submit_from_peer(&self, tx: Transaction) -> Result<Hash32, SubmitError> {
        self.admit(tx)
    }

    /// Hand every transaction admitted through [`Node::submit`] to `hook` from now on.
    pub fn set_gossip(&self, hook: GossipHook) {
        *self.inner.gossip.lock().expect("invariant: gossip lock is never poisoned") = Some(hook);
    }

    /// Ask the node to stop (a component hit a fault it cannot continue after).
    pub fn request_stop(&self) {
        let _pool = self.mempool();
        self.inner.stopping.store(true, Ordering::SeqCst);
        self.inner.wake.notify_all();
    }

    fn admit(&self, tx: Transaction) -> Result<Hash32, SubmitError> {
        self.admit_with(tx, None)
    }

    /// Admit; `verified` is the verdict when the caller already computed it with the ledger's
    /// own predicates (the node's telemetry batches), `None` to compute it here.
    fn admit_with(&self, tx: Transaction, verified: Option<depin_types::Verdict>) -> Result<Hash32, SubmitError> {
        if self.inner.stopping.load(Ordering::Relaxed) {
            return Err(SubmitError::ShuttingDown);
        }
        let genesis = self.inner.chain.genesis();
        if tx.content.chain_id != genesis.chain_id {
            return Err(SubmitError::WrongChainId { expected: genesis.chain_id.clone() });
        }
        if tx.content.fee < genesis.params.min_fee {
            return Err(SubmitError::FeeTooLow { min_fee: genesis.params.min_fee });
        }
        let id = tx.id();
        if self.mempool().contains(&id) {
            return Err(SubmitError::Duplicate);
        }
        let verdict = verified.unwrap_or_else(|| tx.verdict());
        if !verdict.signature_ok {
            return Err(SubmitError::BadSignature);
        }
        if let Some(index) = verdict.bad_proof {
            return Err(SubmitError::BadPossessionProof { index });
        }
        if let TxBody::ReportEvidence { evidence } = &tx.content.body {
            self.check_evidence(evidence)?;
        }
        // The committed nonce is read under the pool lock: a block committing in between would
        // otherwise let a just-used nonce in.
        let mut pool = self.mempool();
        let committed_nonce = match self.committed_account(&tx.content.sender()) {
            Ok(Some(a)) => a.nonce,
            Ok(None) => return Err(SubmitError::UnknownAccount),
            Err(e) => {
                tracing::error!(error = %e, "state read failed during admission");
                return Err(SubmitError::Unavailable);
            }
        };
        pool.admit(tx, id, committed_nonce)?;
        let n = pool.len();
        drop(pool);
        self.inner.metrics.mempool(n);
        // Wake the sequencer when the pool stops being empty (it may be sleeping on the long
        // empty-block interval) and when a full block is waiting.
        if n == 1 || n >= self.max_block_txs() {
            self.inner.wake.notify_one();
        }
        Ok(id)
    }

    /// Everything that follows a durable commit, whoever sequenced the block: drop its
    /// transactions (and any now-stale nonces) from the mempool, wake the clients waiting on
    /// them, count it, and publish the block event.
    pub fn after_commit(&self, committed: &Committed) -> Result<(), NodeError> {
        let block = &committed.block;
        let ids: Vec<_> = committed.receipts.iter().map(|r| r.tx_id).collect();
        let nonces = {
            let snap = self.inner.chain.ledger().snapshot()?;
            let mut nonces = BTreeMap::new();
            for tx in &block.txs {
                let sender = tx.content.sender();
                if let std::collections::btree_map::Entry::Vacant(e) = nonces.entry(sender) {
                    e.insert(snap.account(&sender)?.nonce);
                }
            }
            nonces
        };
        {
            let mut pool = self.mempool();
            pool.committed(block.txs.iter().zip(&ids).map(|(tx, id)| (*id, tx.content.sender(), tx.content.nonce)), &nonces);
            self.inner.metrics.mempool(pool.len());
        }
        // Before waking waiters: a client that saw its registry change commit must not get an
        // answer from the edge's stale facts.
        self.telemetry_after_commit(committed);
        self.notify_committed(&ids);
        let n_rejected = committed.receipts.iter().filter(|r| !Receipt::applied(r)).count() as u64;
        let n_txs = block.txs.len() as u64;
        let (log_s, apply_s) = (committed.timings.log_append.as_secs_f64(), committed.timings.state_apply.as_secs_f64());
        self.inner.metrics.block(committed.head.height, n_txs - n_rejected, n_rejected, log_s, apply_s);
        let _ = self.inner.events.send(NodeEvent::of_block(block, &committed.receipts));
        self.market_after_commit(committed);
        Ok(())
    }

    /// Transactions for a block built on a parent that may not be final yet (BFT): up to the
    /// block limits, each sender's consecutive nonces from `nonce_at(sender)` at that parent.
    /// Nothing is removed from the pool (see [`Mempool::select`]).
    pub fn select_txs<E>(
        &self,
        max_bytes: usize,
        nonce_at: impl FnMut(&Address) -> Result<u64, E>,
    ) -> Result<Vec<Transaction>, E> {
        let max = self.max_block_txs();
        self.mempool().select(max, max_bytes, nonce_at)
    }

    /// Number of transactions waiting in the pool.
    pub fn mempool_len(&self) -> usize {
        self.mempool().len()
    }

    /// Publish what the replication engine reports (peers, validators, finalized height); it
    /// appears in [`Node::status`].
    pub fn set_replication(&self, status: ReplicationStatus) {
        *self.inner.replication.lock().expect("invariant: replication lock is never poisoned") = Some(status);
    }

    /// Add a source of Prometheus text (the consensus engine's metrics) to [`Node::metrics_text`].
    pub fn add_metrics_source(&self, source: MetricsSource) {
        self.inner.metrics_sources.lock().expect("invariant: metrics lock is never poisoned").push(source);
    }

    pub(crate) fn max_block_txs(&self) -> usize {
        self.inner.config.sequencer.max_block_txs.min(self.inner.chain.genesis().params.max_block_txs) as usize
    }

    /// Refuse at the door what the state machine would reject and charge for (rules V-1 to V-3,
    /// against committed state: a report racing another for the same fault still pays its fee).
    fn check_evidence(&self, evidence: &Evidence) -> Result<(), SubmitError> {
        let kind = evidence.verify(self.chain_id()).map_err(|problem| SubmitError::InvalidEvidence { problem })?;
        let unavailable = |e: LedgerError| {
            tracing::error!(error = %e, "state read failed during admission");
            SubmitError::Unavailable
        };
        let snap = self.inner.chain.ledger().snapshot().map_err(unavailable)?;
        let validators: Option<ValidatorSet> = snap.typed(VALIDATORS_KEY).map_err(unavailable)?;
        if !validators.is_some_and(|v| v.contains(&evidence.offender)) {
            return Err(SubmitError::InvalidEvidence { problem: EvidenceProblem::NotAValidator });
        }
        let key = evidence_key(&evidence.offender.address(), evidence.round(), kind);
        if snap.typed::<EvidenceRecord>(&key).map_err(unavailable)?.is_some() {
            return Err(SubmitError::EvidenceAlreadyRecorded);
        }
        Ok(())
    }

    /// Sign `body` with the node key, with the node account's next nonce and the minimum fee,
    /// and submit it (gossiped like any transaction). For reports the node makes itself, such
    /// as evidence of a fault consensus observed.
    pub fn submit_as_node(&self, body: TxBody) -> Result<Hash32, SubmitError> {
        let tx = self.sign_as_node(body)?;
        self.submit(tx)
    }

    /// [`Node::submit_as_node`] for a body whose embedded signatures the caller verified with
    /// the ledger's predicates: the node signs it, so only that signature is known good too.
    pub(crate) fn submit_as_node_verified(&self, body: TxBody) -> Result<Hash32, SubmitError> {
        let tx = self.sign_as_node(body)?;
        self.submit_with(tx, Some(depin_types::Verdict::VALID))
    }

    fn sign_as_node(&self, body: TxBody) -> Result<Transaction, SubmitError> {
        let key = self.inner.chain.key().expect("invariant: a serving node has a key");
        let sender = key.public_key().address();
        let committed = match self.committed_account(&sender) {
            Ok(Some(a)) => a.nonce,
            Ok(None) => return Err(SubmitError::UnknownAccount),
            Err(e) => {
                tracing::error!(error = %e, "state read failed while signing a node transaction");
                return Err(SubmitError::Unavailable);
            }
        };
        let nonce = self.mempool().next_nonce(&sender, committed);
        let genesis = self.inner.chain.genesis();
        let content = TxContent {
            chain_id: genesis.chain_id.clone(),
            signer: key.public_key(),
            nonce,
            fee: genesis.params.min_fee,
            body,
        };
        Ok(content.sign(key))
    }

    /// Recorded evidence, in key order (by offender, then round), up to `limit`, after the
    /// cursor key `after` (the `cursor` of the previous page) if given; with `offender`, only
    /// that validator's.
    pub fn evidence(
        &self,
        offender: Option<&Address>,
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, EvidenceRecord)>, NodeError> {
        let prefix = match offender {
            Some(a) => [EVIDENCE_PREFIX, &a.to_bytes()[..]].concat(),
            None => EVIDENCE_PREFIX.to_vec(),
        };
        let snap = self.inner.chain.ledger().snapshot()?;
        snap.scan(&prefix, after, limit)?
            .into_iter()
            .map(|(k, v)| {
                let record = depin_types::codec::decode_bounded(&v, v.len()).map_err(|e| NodeError::Storage(format!("evidence record: {e}")))?;
                Ok((k, record))
            })
            .collect()
    }

    fn committed_account(&self, address: &Address) -> Result<Option<Account>, NodeError> {
        Ok(self.inner.chain.ledger().snapshot()?.existing_account(address)?)
    }

    /// Wait until `id` is durably committed, or `timeout` passes; returns the status then.
    pub async fn wait_committed(&self, id: Hash32, timeout: Duration) -> Result<TxStatus, NodeError> {
        // Declared before the channel so that it drops after the receiver: the waiter entry is
        // removed however this future ends (done, timed out, or dropped by a disconnect).
        let _guard = WaiterGuard { node: self, id };
        let (tx, rx) = oneshot::channel();
        self.inner
            .waiters
            .lock()
            .expect("invariant: waiters lock is never poisoned")
            .entry(id)
            .or_default()
            .push(tx);
        // Registered before checking, so a commit in between is not missed.
        let status = self.tx_status(&id)?;
        if matches!(status, TxStatus::Committed { .. } | TxStatus::Unknown) {
            return Ok(status);
        }
        let _ = tokio::time::timeout(timeout, rx).await;
        self.tx_status(&id)
    }

    fn forget_waiter(&self, id: &Hash32) {
        let mut w = self.inner.waiters.lock().expect("invariant: waiters lock is never poisoned");
        if let Some(list) = w.get_mut(id) {
            list.retain(|s| !s.is_closed());
            if list.is_empty() {
                w.remove(id);
            }
        }
    }

    pub(crate) fn notify_committed(&self, ids: &[Hash32]) {
        let mut w = self.inner.waiters.lock().expect("invariant: waiters lock is never poisoned");
        if w.is_empty() {
            return;
        }
        for id in ids {
            if let Some(list) = w.remove(id) {
                for s in list {
                    let _ = s.send(());
                }
            }
        }
    }

    /// Status of a transaction. The mempool is asked first: a block's ids leave the mempool
    /// only after its state is applied, so a transaction can never fall between the two.
    pub fn tx_status(&self, id: &Hash32) -> Result<TxStatus, NodeError> {
        let pending = self.mempool().contains(id);
        let ledger = self.inner.chain.ledger();
        if let Some(loc) = ledger.tx_location(id)? {
            // The header and receipts: a block pruned by retention keeps both.
            let block = ledger
                .logged_block(loc.height)?
                .ok_or_else(|| NodeError::Storage(format!("block {} missing", loc.height)))?;
            let receipt = block
                .receipts
                .get(loc.index as usize)
                .cloned()
                .ok_or_else(|| NodeError::Storage(format!("receipt missing for {id}")))?;
            return Ok(TxStatus::Committed { height: loc.height, index: loc.index, block_id: block.id(), receipt });
        }
        Ok(if pending { TxStatus::Pending } else { TxStatus::Unknown })
    }

    /// An account at the committed head.
    pub fn account(&self, address: &Address) -> Result<AccountView, NodeError> {
        Ok(self.account_with_proof_opt(address, false)?.0)
    }

    /// An account with a proof of its state entry (or of its absence) against the state root.
    pub fn account_with_proof(&self, address: &Address) -> Result<(AccountView, StateProof), NodeError> {
        let (view, proof) = self.account_with_proof_opt(address, true)?;
        Ok((view, proof.expect("invariant: asked for a proof")))
    }

    fn account_with_proof_opt(
        &self,
        address: &Address,
        prove: bool,
    ) -> Result<(AccountView, Option<StateProof>), NodeError> {
        // One snapshot for value, head and proof, so they always agree.
        let snap = self.inner.chain.ledger().snapshot()?;
        let at = snap.at()?;
        let account = snap.account(address)?;
        let proof = if prove { Some(snap.prove(&account_key(address))?) } else { None };
        let view = AccountView {
            address: *address,
            balance: account.balance,
            nonce: account.nonce,
            height: at.height,
            state_root: at.state_root,
        };
        Ok((view, proof))
    }

    /// A block with receipts.
    pub fn block(&self, height: u64) -> Result<Option<BlockView>, NodeError> {
        let ledger = self.inner.chain.ledger();
        let Some((block, receipts)) = ledger.block_with_receipts(height)? else { return Ok(None) };
        Ok(Some(BlockView { id: block.id(), block, receipts }))
    }

    /// Node status.
    pub fn status(&self) -> Result<Status, NodeError> {
        let head = self.inner.chain.ledger().head()?;
        let pk = self.inner.chain.public_key().expect("invariant: a serving node has a key");
        let replication = self.inner.replication.lock().expect("invariant: replication lock is never poisoned").clone();
        Ok(Status {
            chain_id: self.chain_id().to_string(),
            genesis_id: self.inner.chain.genesis().id(),
            height: head.height,
            block_id: head.block_id,
            state_root: head.state_root,
            timestamp_ms: head.timestamp_ms,
            mempool_size: self.mempool().len(),
            min_fee: self.inner.chain.genesis().params.min_fee,
            node_address: pk.address(),
            node_public_key: pk,
            version: env!("CARGO_PKG_VERSION").to_string(),
            mode: self.inner.config.consensus.mode.as_str(),
            replication,
        })
    }

    /// The events of committed blocks `from..=to` (for a subscriber resuming after a gap).
    pub fn block_events(&self, from: u64, to: u64) -> Result<Vec<NodeEvent>, NodeError> {
        let ledger = self.inner.chain.ledger();
        let mut events = Vec::new();
        for height in from..=to {
            if let Some(block) = ledger.logged_block(height)? {
                events.push(NodeEvent::of_header(&block.header, &block.receipts));
            }
        }
        Ok(events)
    }

    /// Subscribe to node events.
    pub fn subscribe(&self) -> broadcast::Receiver<NodeEvent> {
        self.inner.events.subscribe()
    }

    /// Prometheus text of the node's metrics.
    pub fn metrics_text(&self) -> String {
        let mut text = self.inner.metrics.render();
        for source in self.inner.metrics_sources.lock().expect("invariant: metrics lock is never poisoned").iter() {
            text.push_str(&source());
        }
        text
    }
}
