//! Keep the block log (fsync'd per block) and the derived state (checkpointed) in two redb files.
//!
//! `blocks.redb` is the ground truth: one record per height (block and receipts), appended and
//! fsync'd once per block; that commit is the point after which a transaction may be reported
//! committed. `state.redb` holds everything derived from it — the authenticated state (tree
//! nodes, current values) and the transaction index — committed after each block without an
//! fsync and made durable by a checkpoint every [`CHECKPOINT_BLOCKS`] blocks (or
//! [`CHECKPOINT_TXS`] transactions) and on close. After a crash the state may be behind the
//! log; `depin_node::Chain::repair_state` replays the missing blocks (docs/adr/0006).

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use borsh::{BorshDeserialize, BorshSerialize};
use depin_state::{ChangeSet, StateRead, StorageFault};
use depin_types::codec::{decode_bounded, encode};
use depin_types::limits::MAX_BLOCK_BYTES;
use depin_types::state_key::{account_key, Account};
use depin_types::{Block, Genesis, Hash32, Receipt};
use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};

use crate::authstate::{AuthState, AuthStateError, JmtStaged, JmtState, StateProof, ValuesTable};
use crate::retention::{LoggedBlock, PruneStep, PrunedRecord, PRUNED_FORMAT};

/// Log: height → encoded [`StoredBlock`].
const BLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("blocks");
/// Log: height → encoded [`PrunedRecord`], for blocks whose telemetry retention pruned (the
/// height is then absent from `blocks`; docs/adr/0018).
const PRUNED_BLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("pruned_blocks");
/// Log: `genesis_id`, `genesis_head`, `state_layout`, `pruned_through` (retention's cursor,
/// u64 LE).
const LOG_META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// Log meta key of the state layout the home was written with (u32 LE).
const STATE_LAYOUT_META: &str = "state_layout";
/// State: transaction id → (height, index).
const TX_INDEX: TableDefinition<&[u8; 32], (u64, u32)> = TableDefinition::new("tx_index");

/// Make the derived state durable at least every this many blocks…
pub const CHECKPOINT_BLOCKS: u64 = 64;
/// …or this many transactions, whichever comes first; this bounds replay after a crash.
pub const CHECKPOINT_TXS: u64 = 100_000;

/// Most heights one pruning step looks at (one write transaction of the log, during which
/// block appends wait)…
pub const PRUNE_CHUNK_BLOCKS: u64 = 64;
/// …or this many bytes of stored blocks read, whichever comes first.
pub const PRUNE_CHUNK_BYTES: usize = 8 << 20;

/// A block with its receipts, as stored in the log.
#[derive(BorshSerialize, BorshDeserialize)]
struct StoredBlock {
    block: Block,
    receipts: Vec<Receipt>,
}

/// The last committed block.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Head {
    /// Height (0 = genesis).
    pub height: u64,
    /// Block id (the genesis id at height 0).
    pub block_id: Hash32,
    /// State root after this block.
    pub state_root: Hash32,
    /// Block timestamp (genesis time at height 0).
    pub timestamp_ms: u64,
}

impl Head {
    /// The head a committed block makes.
    pub fn of(block: &Block) -> Head {
        let h = &block.header;
        Head { height: h.height, block_id: block.id(), state_root: h.state_root, timestamp_ms: h.timestamp_ms }
    }
}

/// How long the two steps of a block commit took.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CommitTimings {
    /// Appending the block to the log, fsync included: the durable commit point.
    pub log_append: std::time::Duration,
    /// Applying its state and index entries (no fsync, except at checkpoints).
    pub state_apply: std::time::Duration,
}

/// Where a transaction was committed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxLocation {
    /// Block height.
    pub height: u64,
    /// Position in the block.
    pub index: u32,
}

/// The height and root a state snapshot is at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateAt {
    /// Height of the last block applied to the state.
    pub height: u64,
    /// Its state root.
    pub state_root: Hash32,
}

/// A storage failure or corrupt data. Fatal for the node: stop, then recover by replay.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// redb failed.
    #[error("storage: {0}")]
    Storage(String),
    /// Stored bytes do not decode, or stores disagree.
    #[error("corrupt ledger data: {0}")]
    Corrupt(String),
    /// The ledger was created from another genesis.
    #[error("this ledger was created with genesis {stored}, but the genesis file has id {given}")]
    GenesisMismatch {
        /// Stored genesis id.
        stored: Hash32,
        /// Given genesis id.
        given: Hash32,
    },
    /// The home was written with another state layout ([`depin_state::STATE_LAYOUT`]).
    #[error(
        "this home's state was written by a depin with state layout {}, and this build reads layout {current}: \
         start a fresh home (another --home, or remove this one) and register again",
        stored.map_or_else(|| "1 (unrecorded, before 2026-11-22)".to_string(), |v| v.to_string())
    )]
    LayoutMismatch {
        /// The layout recorded in the home (`None`: written before layouts were recorded).
        stored: Option<u32>,
        /// This build's layout.
        current: u32,
    },
    /// The genesis document is invalid.
    #[error(transparent)]
    Genesis(#[from] depin_types::GenesisError),
    /// The authenticated state failed.
    #[error(transparent)]
    AuthState(#[from] AuthStateError),
    /// The state machine's storage read failed.
    #[error(transparent)]
    Fault(#[from] StorageFault),
    /// The block's telemetry transactions were pruned by retention, so it cannot be
    /// re-executed. Not a fault of this ledger: replaying from genesis needs an archive node.
    #[error(
        "the telemetry of block {height} was pruned by retention ([telemetry] retain_epochs); \
         re-executing it needs the block log of an archive node (retain_epochs = 0)"
    )]
    Pruned {
        /// The block.
        height: u64,
    },
}

macro_rules! storage_from {
    ($($t:ty),*) => {$(
        impl From<$t> for LedgerError {
            fn from(e: $t) -> Self { LedgerError::Storage(e.to_string()) }
        }
    )*};
}
storage_from!(
    redb::Error,
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    redb::SetDurabilityError
);

/// The ledger: a block log and a derived state, each a redb file in one directory.
pub struct Ledger {
    /// The last logged block, cached in memory once read (reading it from disk decodes a whole
    /// block); `None` until first needed.
    head: Mutex<Option<Head>>,
    log: Database,
    state: Database,
    auth: JmtState,
    durable: bool,
    blocks_since_checkpoint: AtomicU64,
    txs_since_checkpoint: AtomicU64,
    /// Height of the last block applied to the state (durably or not).
    applied_height: AtomicU64,
    /// Height the state is durably at: what a crash would leave (the last checkpoint). Never
    /// above the truth; retention prunes nothing above it.
    durable_height: AtomicU64,
}

/// A consistent read view of the derived state (a redb read transaction).
pub struct StateSnapshot {
    values: ValuesTable,
    rtxn: redb::ReadTransaction,
    auth: JmtState,
}

impl StateRead for StateSnapshot {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageFault> {
        self.values.get(key).map_err(|e| StorageFault(e.to_string()))
    }
}

impl StateSnapshot {
    /// The value under `key`, decoded.
    pub fn typed<T: borsh::BorshDeserialize>(&self, key: &[u8]) -> Result<Option<T>, LedgerError> {
        match self.get(key)? {
            None => Ok(None),
            Some(b) => borsh::from_slice(&b)
                .map(Some)
                .map_err(|e| LedgerError::Corrupt(format!("value under {key:?} does not decode: {e}"))),
        }
    }

    /// A proof of the key's value (or absence) at this snapshot's root.
    pub fn prove(&self, key: &[u8]) -> Result<StateProof, LedgerError> {
        Ok(self.auth.prove(&self.rtxn, key)?)
    }

    /// An account (the empty account if absent).
    pub fn account(&self, address: &depin_types::Address) -> Result<Account, LedgerError> {
        Ok(self.existing_account(address)?.unwrap_or_default())
    }

    /// An account, or `None` if it was never created.
    pub fn existing_account(&self, address: &depin_types::Address) -> Result<Option<Account>, LedgerError> {
        match self.get(&account_key(address))? {
            None => Ok(None),
            Some(b) => borsh::from_slice(&b)
                .map(Some)
                .map_err(|e| LedgerError::Corrupt(format!("account {address}: {e}"))),
        }
    }

    /// Up to `limit` entries under `prefix` in key order, after the cursor key `after` if given
    /// (range scans over a module's keys, for queries; the state machine never scans).
    pub fn scan(&self, prefix: &[u8], after: Option<&[u8]>, limit: usize) -> Result<Vec<crate::authstate::Entry>, LedgerError> {
        Ok(self.values.scan(prefix, after, limit)?)
    }

    /// The height and root of this snapshot.
    pub fn at(&self) -> Result<StateAt, LedgerError> {
        let (version, root) = self.auth.committed(&self.rtxn)?;
        let height = version.ok_or_else(|| LedgerError::Corrupt("the state is empty (no genesis)".into()))?;
        Ok(StateAt { height, state_root: Hash32(root) })
    }
}

/// Page cache of the block log. The log is appended and read back by height, rarely re-read:
/// a small cache suffices (redb's default, 1 GiB per database, made a million-asset registry
/// peak at 2.2 GB resident; `depin bench registry`).
pub const LOG_CACHE_BYTES: usize = 64 << 20;
/// Page cache of the derived state (values, tree nodes, indexes): its hot part.
pub const STATE_CACHE_BYTES: usize = 512 << 20;

impl Ledger {
    /// Open (or create from `genesis`) the ledger in directory `dir`. With `durable = false`
    /// nothing is fsync'd (scratch replays, in-memory benchmarks).
    pub fn open(dir: &Path, genesis: &Genesis, durable: bool) -> Result<Ledger, LedgerError> {
        std::fs::create_dir_all(dir).map_err(|e| LedgerError::Storage(format!("{}: {e}", dir.display())))?;
        let ledger = Ledger {
            head: Mutex::new(None),
            log: Database::builder().set_cache_size(LOG_CACHE_BYTES).create(dir.join("blocks.redb"))?,
            state: Database::builder().set_cache_size(STATE_CACHE_BYTES).create(dir.join("state.redb"))?,
            auth: JmtState::new(),
            durable,
            blocks_since_checkpoint: AtomicU64::new(0),
            txs_since_checkpoint: AtomicU64::new(0),
            applied_height: AtomicU64::new(0),
            durable_height: AtomicU64::new(0),
        };
        // What is on disk at open is durable: a crash loses only uncheckpointed commits.
        let at_open = ledger.state_version()?.unwrap_or(0);
        ledger.applied_height.store(at_open, Ordering::Relaxed);
        ledger.durable_height.store(at_open, Ordering::Relaxed);
        match ledger.log_meta("genesis_id")? {
            Some(stored) => {
                let stored =
                    Hash32(stored.try_into().map_err(|_| LedgerError::Corrupt("genesis id length".into()))?);
                if stored != genesis.id() {
                    return Err(LedgerError::GenesisMismatch { stored, given: genesis.id() });
                }
                ledger.check_layout()?;
            }
            None => ledger.write_genesis(genesis)?,
        }
        ledger.head()?; // fail at open, not later, if the log cannot be read
        Ok(ledger)
    }

    /// Refuse a home whose recorded state layout is not this build's.
    fn check_layout(&self) -> Result<(), LedgerError> {
        let stored = match self.log_meta(STATE_LAYOUT_META)? {
            None => None,
            Some(v) => Some(u32::from_le_bytes(
                v.try_into().map_err(|_| LedgerError::Corrupt("state layout length".into()))?,
            )),
        };
        match stored {
            Some(v) if v == depin_state::STATE_LAYOUT => Ok(()),
            stored => Err(LedgerError::LayoutMismatch { stored, current: depin_state::STATE_LAYOUT }),
        }
    }

    fn log_meta(&self, key: &str) -> Result<Option<Vec<u8>>, LedgerError> {
        let rtxn = self.log.begin_read()?;
        match rtxn.open_table(LOG_META) {
            Ok(meta) => Ok(meta.get(key)?.map(|v| v.value().to_vec())),
            Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Write the genesis state (durably), then the genesis record of the log. A crash between
    /// the two leaves no genesis id, so the next open starts over.
    fn write_genesis(&self, genesis: &Genesis) -> Result<(), LedgerError> {
        let root = self.write_genesis_state(genesis)?;
        let mut wtxn = self.log.begin_write()?;
        if !self.durable {
            wtxn.set_durability(Durability::None)?;
        }
        wtxn.open_table(BLOCKS)?;
        wtxn.open_table(PRUNED_BLOCKS)?;
        {
            let mut meta = wtxn.open_table(LOG_META)?;
            let head = Head { height: 0, block_id: genesis.id(), state_root: root, timestamp_ms: genesis.genesis_time_ms };
            meta.insert("genesis_head", encode(&head).as_slice())?;
            meta.insert(STATE_LAYOUT_META, depin_state::STATE_LAYOUT.to_le_bytes().as_slice())?;
            meta.insert("genesis_id", genesis.id().as_bytes().as_slice())?;
        }
        wtxn.commit()?;
        Ok(())
    }

    /// Replace the derived state by the genesis state (durably); returns its root.
    pub fn write_genesis_state(&self, genesis: &Genesis) -> Result<Hash32, LedgerError> {
        self.reset_state()?;
        let changes = depin_state::genesis_changes(genesis)?;
        let (root, staged) = self.stage(0, &changes)?;
        let mut wtxn = self.state.begin_write()?;
        if !self.durable {
            wtxn.set_durability(Durability::None)?;
        }
        wtxn.open_table(TX_INDEX)?;
        self.auth.commit(&wtxn, staged)?;
        wtxn.commit()?;
        self.applied_height.store(0, Ordering::Relaxed);
        self.durable_height.store(0, Ordering::Relaxed);
        Ok(root)
    }

    /// The last block in the log (the genesis head before block 1).
    pub fn head(&self) -> Result<Head, LedgerError> {
        let mut cached = self.head.lock().expect("invariant: head lock is never poisoned");
        if let Some(head) = &*cached {
            return Ok(head.clone());
        }
        let head = self.read_head()?;
        *cached = Some(head.clone());
        Ok(head)
    }

    fn read_head(&self) -> Result<Head, LedgerError> {
        let rtxn = self.log.begin_read()?;
        let blocks = rtxn.open_table(BLOCKS)?;
        if let Some((_, v)) = blocks.last()? {
            return Ok(Head::of(&decode_stored(v.value())?.block));
        }
        drop(blocks);
        self.genesis_head()
    }

    /// The genesis record: height 0, the genesis id, the genesis state root.
    pub fn genesis_head(&self) -> Result<Head, LedgerError> {
        let bytes = self.log_meta("genesis_head")?.ok_or_else(|| LedgerError::Corrupt("no genesis head".into()))?;
        borsh::from_slice(&bytes).map_err(|e| LedgerError::Corrupt(format!("genesis head: {e}")))
    }

    /// The state root a logged block (or genesis, at 0) says the state has after it (pruned
    /// blocks keep their header).
    pub fn root_at(&self, height: u64) -> Result<Hash32, LedgerError> {
        if height == 0 {
            return Ok(self.genesis_head()?.state_root);
        }
        self.header(height)?
            .map(|h| h.state_root)
            .ok_or_else(|| LedgerError::Corrupt(format!("block {height} missing from the log")))
    }

    /// The height and root of the derived state (`None` if it is empty).
    pub fn state_at(&self) -> Result<Option<StateAt>, LedgerError> {
        let (version, root) = self.auth.committed(&self.state.begin_read()?)?;
        Ok(version.map(|height| StateAt { height, state_root: Hash32(root) }))
    }

    /// A read view of the derived state.
    pub fn snapshot(&self) -> Result<StateSnapshot, LedgerError> {
        let rtxn = self.state.begin_read()?;
        Ok(StateSnapshot { values: ValuesTable::open(&rtxn)?, rtxn, auth: self.auth })
    }

    /// Stage `changes` on top of the current state as the state of `height`; returns the root.
    pub fn stage(&self, height: u64, changes: &ChangeSet) -> Result<(Hash32, JmtStaged), LedgerError> {
        let rtxn = self.state.begin_read()?;
        let (root, staged) = self.auth.stage(&rtxn, height, changes)?;
        Ok((Hash32(root), staged))
    }

    /// Commit a block: append it with its receipts to the log and fsync (the durable commit
    /// point), then apply its staged state. The block must extend the head and the state must
    /// be at the head; anything else is a programmer error.
    pub fn commit_block(
        &self,
        block: &Block,
        receipts: &[Receipt],
        staged: JmtStaged,
    ) -> Result<(Head, CommitTimings), LedgerError> {
        let prev = self.head()?;
        let h = &block.header;
        assert_eq!(h.height, prev.height + 1, "invariant: blocks are committed in height order");
        assert_eq!(h.parent, prev.block_id, "invariant: a committed block extends the head");
        assert_eq!(receipts.len(), block.txs.len(), "invariant: one receipt per transaction");
        let t0 = std::time::Instant::now();
        self.append_block(block, receipts)?;
        let t1 = std::time::Instant::now();
        self.apply_state(h.height, receipts, staged)?;
        let timings = CommitTimings { log_append: t1 - t0, state_apply: t1.elapsed() };
        Ok((Head::of(block), timings))
    }

    fn append_block(&self, block: &Block, receipts: &[Receipt]) -> Result<(), LedgerError> {
        let mut wtxn = self.log.begin_write()?;
        if !self.durable {
            wtxn.set_durability(Durability::None)?;
        }
        let record = encode(&StoredBlockRef { block, receipts });
        if record.len() > MAX_STORED_BLOCK_BYTES {
            // Never make durable what could not be read back.
            return Err(LedgerError::Corrupt(format!(
                "block {} encodes to {} bytes, over the {MAX_STORED_BLOCK_BYTES}-byte record limit",
                block.header.height,
                record.len()
            )));
        }
        wtxn.open_table(BLOCKS)?.insert(block.header.height, record.as_slice())?;
        wtxn.commit()?;
        *self.head.lock().expect("invariant: head lock is never poisoned") = Some(Head::of(block));
        Ok(())
    }

    /// Apply a logged block's staged state and index its transactions (by the ids in its
    /// receipts, so nothing is re-hashed). Not fsync'd, except at checkpoints. Used by
    /// `commit_block` and by state repair.
    pub fn apply_state(&self, height: u64, receipts: &[Receipt], staged: JmtStaged) -> Result<(), LedgerError> {
        assert_eq!(staged.version(), height, "invariant: state staged for this block");
        let n_txs = receipts.len() as u64;
        let blocks = self.blocks_since_checkpoint.fetch_add(1, Ordering::Relaxed) + 1;
        let txs = self.txs_since_checkpoint.fetch_add(n_txs, Ordering::Relaxed) + n_txs;
        let checkpoint = self.durable && (blocks >= CHECKPOINT_BLOCKS || txs >= CHECKPOINT_TXS);
        let mut wtxn = self.state.begin_write()?;
        if !checkpoint {
            wtxn.set_durability(Durability::None)?;
        }
        {
            let mut index = wtxn.open_table(TX_INDEX)?;
            for (i, receipt) in receipts.iter().enumerate() {
                let i = u32::try_from(i).expect("invariant: block tx count fits u32");
                // The index points at the inclusion where the transaction took effect (applied,
                // or charged). An uncharged rejection (bad nonce on a replay, fee not payable…)
                // is indexed only if nothing else is, and a later effective inclusion of the
                // same transaction replaces it.
                let effective = match &receipt.outcome {
                    depin_types::TxOutcome::Applied => true,
                    depin_types::TxOutcome::Rejected { reason } => reason.charged(),
                };
                let id = receipt.tx_id.as_bytes();
                if effective || index.get(id)?.is_none() {
                    index.insert(id, (height, i))?;
                }
            }
        }
        self.auth.commit(&wtxn, staged)?;
        wtxn.commit()?;
        self.applied_height.store(height, Ordering::Relaxed);
        if checkpoint {
            self.durable_height.fetch_max(height, Ordering::Relaxed);
            self.blocks_since_checkpoint.store(0, Ordering::Relaxed);
            self.txs_since_checkpoint.store(0, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Make the derived state durable now (on clean shutdown; after a repair; before a
    /// retention pass).
    pub fn checkpoint(&self) -> Result<(), LedgerError> {
        if !self.durable {
            return Ok(());
        }
        let wtxn = self.state.begin_write()?;
        // Read while holding the state's only writer: every height stored in `applied_height`
        // by now was committed before this transaction began, so this commit makes it durable
        // (a height committed but not yet stored is simply under-counted).
        let applied = self.applied_height.load(Ordering::Relaxed);
        wtxn.commit()?;
        self.durable_height.fetch_max(applied, Ordering::Relaxed);
        self.blocks_since_checkpoint.store(0, Ordering::Relaxed);
        self.txs_since_checkpoint.store(0, Ordering::Relaxed);
        Ok(())
    }

    /// The height the state is durably at: the state a crash would leave, from which the log
    /// is replayed on the next open. Without durability (scratch ledgers) nothing survives a
    /// crash anyway, so it is the applied height.
    pub fn durable_state_height(&self) -> u64 {
        if self.durable {
            self.durable_height.load(Ordering::Relaxed)
        } else {
            self.applied_height.load(Ordering::Relaxed)
        }
    }

    /// The height the derived state is at (`None` if it is empty, e.g. lost).
    pub fn state_version(&self) -> Result<Option<u64>, LedgerError> {
        Ok(self.auth.committed(&self.state.begin_read()?)?.0)
    }

    /// Delete the derived state (not the block log).
    pub fn reset_state(&self) -> Result<(), LedgerError> {
        let mut wtxn = self.state.begin_write()?;
        if !self.durable {
            wtxn.set_durability(Durability::None)?;
        }
        self.auth.clear(&wtxn)?;
        wtxn.delete_table(TX_INDEX)?;
        wtxn.commit()?;
        self.applied_height.store(0, Ordering::Relaxed);
        self.durable_height.store(0, Ordering::Relaxed);
        Ok(())
    }

    /// The whole block at `height` (1-based; genesis has no block). `None` if there is none
    /// **or retention pruned its telemetry**: a block with transactions missing is never
    /// returned as a [`Block`]. [`Ledger::logged_block`] tells the two apart and shows a
    /// pruned block; [`Ledger::header`] reads any block's header. (Absent rather than an error
    /// so that a peer asking about an old height cannot turn it into a node fault.)
    pub fn block(&self, height: u64) -> Result<Option<Block>, LedgerError> {
        Ok(self.stored(height)?.map(|s| s.block))
    }

    /// The receipts of the block at `height`, whole or pruned (retention keeps receipts).
    pub fn receipts(&self, height: u64) -> Result<Option<Vec<Receipt>>, LedgerError> {
        Ok(self.logged_block(height)?.map(|b| b.receipts))
    }

    /// The header of the block at `height`, whole or pruned.
    pub fn header(&self, height: u64) -> Result<Option<depin_types::BlockHeader>, LedgerError> {
        Ok(self.logged_block(height)?.map(|b| b.header))
    }

    /// A whole block and its receipts; `None` as for [`Ledger::block`].
    pub fn block_with_receipts(&self, height: u64) -> Result<Option<(Block, Vec<Receipt>)>, LedgerError> {
        Ok(self.stored(height)?.map(|s| (s.block, s.receipts)))
    }

    /// The block at `height` as the log holds it, whole or with its telemetry pruned, with its
    /// receipts. Use [`LoggedBlock::into_block`] where the whole block is needed (it fails with
    /// [`LedgerError::Pruned`]).
    pub fn logged_block(&self, height: u64) -> Result<Option<LoggedBlock>, LedgerError> {
        let rtxn = self.log.begin_read()?;
        let blocks = rtxn.open_table(BLOCKS)?;
        if let Some(bytes) = blocks.get(height)? {
            let s = decode_stored(bytes.value())?;
            return Ok(Some(LoggedBlock::full(s.block, s.receipts)));
        }
        let Some(pruned) = open_pruned(&rtxn)? else { return Ok(None) };
        let Some(bytes) = pruned.get(height)? else { return Ok(None) };
        decode_pruned(height, bytes.value()).map(Some)
    }

    fn stored(&self, height: u64) -> Result<Option<StoredBlock>, LedgerError> {
        let rtxn = self.log.begin_read()?;
        let table = rtxn.open_table(BLOCKS)?;
        let Some(bytes) = table.get(height)? else { return Ok(None) };
        decode_stored(bytes.value()).map(Some)
    }

    /// The lowest height whose telemetry retention pruned (`None`: this is a full log).
    pub fn oldest_pruned(&self) -> Result<Option<u64>, LedgerError> {
        let rtxn = self.log.begin_read()?;
        let Some(pruned) = open_pruned(&rtxn)? else { return Ok(None) };
        Ok(pruned.first()?.map(|(k, _)| k.value()))
    }

    /// Retention's cursor: every height up to this one has been examined by pruning.
    pub fn pruned_through(&self) -> Result<u64, LedgerError> {
        match self.log_meta("pruned_through")? {
            None => Ok(0),
            Some(b) => Ok(u64::from_le_bytes(
                b.try_into().map_err(|_| LedgerError::Corrupt("pruned_through is not 8 bytes".into()))?,
            )),
        }
    }

    /// One bounded retention step (docs/adr/0018): replace the telemetry transactions of the
    /// next blocks after the cursor whose timestamp is before `older_than_ms` by their
    /// summaries, in one write transaction of the log (at most [`PRUNE_CHUNK_BLOCKS`] heights
    /// or [`PRUNE_CHUNK_BYTES`] read). Only blocks at or below the durable state height (and
    /// below the head) are touched, so recovery after a crash never needs a pruned block.
    /// Idempotent and crash-safe: the cursor moves in the same transaction. Each pruned block
    /// is checked to still hash to its header's `txs_root` before it is written.
    pub fn prune_telemetry(&self, older_than_ms: u64) -> Result<PruneStep, LedgerError> {
        let head = self.head()?;
        let limit = self.durable_state_height().min(head.height.saturating_sub(1));
        let mut step = PruneStep { through: self.pruned_through()?, ..PruneStep::default() };
        if step.through >= limit {
            step.done = true;
            return Ok(step);
        }
        let mut wtxn = self.log.begin_write()?;
        if !self.durable {
            wtxn.set_durability(Durability::None)?;
        }
        let mut bytes_read = 0usize;
        {
            let mut blocks = wtxn.open_table(BLOCKS)?;
            let mut pruned = wtxn.open_table(PRUNED_BLOCKS)?;
            let mut meta = wtxn.open_table(LOG_META)?;
            // Re-read under the writer: another pruning step may have moved it.
            let start = match meta.get("pruned_through")? {
                Some(v) => u64::from_le_bytes(
                    v.value().try_into().map_err(|_| LedgerError::Corrupt("pruned_through is not 8 bytes".into()))?,
                ),
                None => 0,
            };
            step.through = start;
            let mut height = start + 1;
            loop {
                if height > limit {
                    step.done = true;
                    break;
                }
                if step.examined >= PRUNE_CHUNK_BLOCKS || bytes_read >= PRUNE_CHUNK_BYTES {
                    break;
                }
                let record = blocks.get(height)?.map(|v| v.value().to_vec());
                let Some(record) = record else {
                    if pruned.get(height)?.is_none() {
                        return Err(LedgerError::Corrupt(format!("block {height} missing from the log")));
                    }
                    // Already pruned (a cursor from before a rebuild of this table's meta).
                    step.examined += 1;
                    step.through = height;
                    height += 1;
                    continue;
                };
                bytes_read += record.len();
                let s = decode_stored(&record)?;
                if s.block.header.timestamp_ms >= older_than_ms {
                    step.done = true; // block times increase (rule B-2): the rest is newer
                    break;
                }
                let full = LoggedBlock::full(s.block, s.receipts);
                if let Some(p) = full.pruned() {
                    let computed = p.txs_root();
                    if computed != p.header.txs_root {
                        return Err(LedgerError::Corrupt(format!(
                            "block {height}: its pruned form hashes to {computed}, not the header's txs_root {}",
                            p.header.txs_root
                        )));
                    }
                    let n_txs = p.n_pruned() as u64;
                    let n_reports: u64 = p
                        .txs
                        .iter()
                        .map(|t| match t {
                            crate::retention::LoggedTx::Pruned(x) => u64::from(x.n_reports),
                            crate::retention::LoggedTx::Full(_) => 0,
                        })
                        .sum();
                    let encoded = encode(&PrunedRecord::of(p));
                    pruned.insert(height, encoded.as_slice())?;
                    blocks.remove(height)?;
                    step.blocks += 1;
                    step.txs += n_txs;
                    step.reports += n_reports;
                }
                step.examined += 1;
                step.through = height;
                height += 1;
            }
            meta.insert("pruned_through", step.through.to_le_bytes().as_slice())?;
        }
        wtxn.commit()?;
        Ok(step)
    }

    /// Where a transaction was committed, if the state has applied its block.
    pub fn tx_location(&self, id: &Hash32) -> Result<Option<TxLocation>, LedgerError> {
        let rtxn = self.state.begin_read()?;
        let table = match rtxn.open_table(TX_INDEX) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        Ok(table.get(id.as_bytes())?.map(|v| {
            let (height, index) = v.value();
            TxLocation { height, index }
        }))
    }
}

impl Drop for Ledger {
    fn drop(&mut self) {
        // Best effort: a failed checkpoint only means more blocks to replay on the next open.
        let _ = self.checkpoint();
    }
}

/// Borrowed form of [`StoredBlock`] for encoding without copying (same encoding).
#[derive(BorshSerialize)]
struct StoredBlockRef<'a> {
    block: &'a Block,
    receipts: &'a [Receipt],
}

/// Largest stored record: a block plus its receipts (a few dozen bytes per transaction).
const MAX_STORED_BLOCK_BYTES: usize = 2 * MAX_BLOCK_BYTES;

/// The pruned-blocks table, if any block was ever pruned (older logs do not have it).
fn open_pruned(rtxn: &redb::ReadTransaction) -> Result<Option<redb::ReadOnlyTable<u64, &'static [u8]>>, LedgerError> {
    match rtxn.open_table(PRUNED_BLOCKS) {
        Ok(t) => Ok(Some(t)),
        Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn decode_pruned(height: u64, bytes: &[u8]) -> Result<LoggedBlock, LedgerError> {
    let record: PrunedRecord = decode_bounded(bytes, MAX_STORED_BLOCK_BYTES)
        .map_err(|e| LedgerError::Corrupt(format!("pruned block {height}: {e}")))?;
    if record.format != PRUNED_FORMAT {
        return Err(LedgerError::Corrupt(format!("pruned block {height}: unknown format {}", record.format)));
    }
    for tx in &record.txs {
        if let crate::retention::LoggedTx::Full(tx) = tx {
            tx.check_structure().map_err(|e| LedgerError::Corrupt(format!("pruned block {height}: {e}")))?;
        }
    }
    Ok(record.into_logged())
}

fn decode_stored(bytes: &[u8]) -> Result<StoredBlock, LedgerError> {
    let stored: StoredBlock = decode_bounded(bytes, MAX_STORED_BLOCK_BYTES)
        .map_err(|e| LedgerError::Corrupt(format!("stored block: {e}")))?;
    for tx in &stored.block.txs {
        tx.check_structure().map_err(|e| LedgerError::Corrupt(format!("stored block: {e}")))?;
    }
    Ok(stored)
}
