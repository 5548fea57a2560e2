//! Keep the block log, receipts, transaction index and chain head in redb, beside the state.

use std::path::Path;

use borsh::{BorshDeserialize, BorshSerialize};
use depin_state::{genesis_changes, ChangeSet, StateRead, StorageFault};
use depin_types::codec::{decode_bounded, encode};
use depin_types::state_key::{account_key, Account};
use depin_types::{Block, Genesis, Hash32, Receipt};
use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};

use crate::authstate::{AuthState, AuthStateError, JmtStaged, JmtState, StateProof};

/// Height → encoded block.
const BLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("blocks");
/// Height → encoded `Vec<Receipt>`.
const RECEIPTS: TableDefinition<u64, &[u8]> = TableDefinition::new("receipts");
/// Transaction id → (height, index).
const TX_INDEX: TableDefinition<&[u8; 32], (u64, u32)> = TableDefinition::new("tx_index");
/// Node metadata: `head`, `genesis_id`.
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

/// Largest receipts record read back (receipts are small; 10 k receipts ≈ 1 MiB).
const MAX_RECEIPTS_BYTES: usize = 64 * 1024 * 1024;

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

/// Where a transaction was committed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxLocation {
    /// Block height.
    pub height: u64,
    /// Position in the block.
    pub index: u32,
}

/// A storage failure or corrupt data. Fatal for the node: stop, then recover by replay.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// redb failed.
    #[error("storage: {0}")]
    Storage(String),
    /// Stored bytes do not decode.
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
    /// The genesis document is invalid.
    #[error(transparent)]
    Genesis(#[from] depin_types::GenesisError),
    /// The authenticated state failed.
    #[error(transparent)]
    AuthState(#[from] AuthStateError),
    /// The state machine's storage read failed.
    #[error(transparent)]
    Fault(#[from] StorageFault),
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
    redb::CommitError
);

/// The ledger database: one redb file.
pub struct Ledger {
    db: Database,
    auth: JmtState,
    durable: bool,
}

/// A consistent read view of committed state (a redb read transaction).
pub struct StateSnapshot {
    rtxn: redb::ReadTransaction,
    auth: JmtState,
}

impl StateRead for StateSnapshot {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageFault> {
        self.auth.get(&self.rtxn, key).map_err(|e| StorageFault(e.to_string()))
    }
}

impl StateSnapshot {
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

    /// The head at this snapshot.
    pub fn head(&self) -> Result<Head, LedgerError> {
        read_head(&self.rtxn)
    }
}

fn read_head(rtxn: &redb::ReadTransaction) -> Result<Head, LedgerError> {
    let meta = rtxn.open_table(META)?;
    let bytes = meta.get("head")?.ok_or_else(|| LedgerError::Corrupt("no head record".into()))?;
    borsh::from_slice(bytes.value()).map_err(|e| LedgerError::Corrupt(format!("head: {e}")))
}

impl Ledger {
    /// Open (or create from `genesis`) the ledger at `path`. With `durable = false` commits do
    /// not fsync (replay into a scratch ledger, benchmarks of the in-memory path).
    pub fn open(path: &Path, genesis: &Genesis, durable: bool) -> Result<Ledger, LedgerError> {
        let db = Database::create(path)?;
        let ledger = Ledger { db, auth: JmtState::new(), durable };
        let rtxn = ledger.db.begin_read()?;
        let existing = match rtxn.open_table(META) {
            Ok(meta) => meta.get("genesis_id")?.map(|v| v.value().to_vec()),
            Err(redb::TableError::TableDoesNotExist(_)) => None,
            Err(e) => return Err(e.into()),
        };
        drop(rtxn);
        match existing {
            Some(stored) => {
                let stored = Hash32(
                    stored.try_into().map_err(|_| LedgerError::Corrupt("genesis id length".into()))?,
                );
                if stored != genesis.id() {
                    return Err(LedgerError::GenesisMismatch { stored, given: genesis.id() });
                }
            }
            None => ledger.write_genesis(genesis)?,
        }
        Ok(ledger)
    }

    fn write_genesis(&self, genesis: &Genesis) -> Result<(), LedgerError> {
        let changes = genesis_changes(genesis)?;
        let mut wtxn = self.db.begin_write()?;
        self.auth.init_tables(&wtxn)?;
        wtxn.open_table(BLOCKS)?;
        wtxn.open_table(RECEIPTS)?;
        wtxn.open_table(TX_INDEX)?;
        wtxn.commit()?;
        let rtxn = self.db.begin_read()?;
        let (root, staged) = self.auth.stage(&rtxn, 0, &changes)?;
        drop(rtxn);
        wtxn = self.db.begin_write()?;
        self.auth.commit(&wtxn, staged)?;
        {
            let mut meta = wtxn.open_table(META)?;
            let head = Head {
                height: 0,
                block_id: genesis.id(),
                state_root: Hash32(root),
                timestamp_ms: genesis.genesis_time_ms,
            };
            meta.insert("head", encode(&head).as_slice())?;
            meta.insert("genesis_id", genesis.id().as_bytes().as_slice())?;
        }
        wtxn.commit()?;
        Ok(())
    }

    /// The last committed block.
    pub fn head(&self) -> Result<Head, LedgerError> {
        read_head(&self.db.begin_read()?)
    }

    /// A read view of committed state.
    pub fn snapshot(&self) -> Result<StateSnapshot, LedgerError> {
        Ok(StateSnapshot { rtxn: self.db.begin_read()?, auth: self.auth })
    }

    /// Stage `changes` on top of the committed state as the state of `height`; returns the root.
    pub fn stage(&self, height: u64, changes: &ChangeSet) -> Result<(Hash32, JmtStaged), LedgerError> {
        let rtxn = self.db.begin_read()?;
        let (root, staged) = self.auth.stage(&rtxn, height, changes)?;
        Ok((Hash32(root), staged))
    }

    /// Durably commit a block with its receipts and staged state, in one write transaction
    /// (one fsync). The block must extend the head; anything else is a programmer error.
    pub fn commit_block(
        &self,
        block: &Block,
        receipts: &[Receipt],
        staged: JmtStaged,
    ) -> Result<Head, LedgerError> {
        let mut wtxn = self.db.begin_write()?;
        if !self.durable {
            wtxn.set_durability(Durability::None)
                .map_err(|e| LedgerError::Storage(e.to_string()))?;
        }
        let prev = read_head_w(&wtxn)?;
        let h = &block.header;
        assert_eq!(h.height, prev.height + 1, "invariant: blocks are committed in height order");
        assert_eq!(h.parent, prev.block_id, "invariant: a committed block extends the head");
        assert_eq!(staged.version(), h.height, "invariant: state staged for this block");
        assert_eq!(receipts.len(), block.txs.len(), "invariant: one receipt per transaction");
        let head = Head {
            height: h.height,
            block_id: block.id(),
            state_root: h.state_root,
            timestamp_ms: h.timestamp_ms,
        };
        {
            wtxn.open_table(BLOCKS)?.insert(h.height, block.encode().as_slice())?;
            wtxn.open_table(RECEIPTS)?.insert(h.height, encode(&receipts.to_vec()).as_slice())?;
            let mut index = wtxn.open_table(TX_INDEX)?;
            for (i, tx) in block.txs.iter().enumerate() {
                let i = u32::try_from(i).expect("invariant: block tx count fits u32");
                // The first inclusion wins: a later copy (rejected as a replay) must not move
                // the index away from the block where the transaction took effect.
                let id = tx.id();
                if index.get(id.as_bytes())?.is_none() {
                    index.insert(id.as_bytes(), (h.height, i))?;
                }
            }
            self.auth.commit(&wtxn, staged)?;
            wtxn.open_table(META)?.insert("head", encode(&head).as_slice())?;
        }
        wtxn.commit()?;
        Ok(head)
    }

    /// The height the authenticated state is at (`None` if it is empty, e.g. lost).
    pub fn state_version(&self) -> Result<Option<u64>, LedgerError> {
        Ok(self.auth.committed(&self.db.begin_read()?)?.0)
    }

    /// Delete the authenticated state (not the block log); rebuild it with
    /// [`Ledger::commit_state`] from genesis and the blocks.
    pub fn reset_state(&self) -> Result<(), LedgerError> {
        let wtxn = self.db.begin_write()?;
        self.auth.clear(&wtxn)?;
        wtxn.commit()?;
        Ok(())
    }

    /// Commit staged state alone (state rebuild; blocks are already in the log).
    pub fn commit_state(&self, staged: JmtStaged) -> Result<(), LedgerError> {
        let mut wtxn = self.db.begin_write()?;
        if !self.durable {
            wtxn.set_durability(Durability::None).map_err(|e| LedgerError::Storage(e.to_string()))?;
        }
        self.auth.commit(&wtxn, staged)?;
        wtxn.commit()?;
        Ok(())
    }

    /// The block at `height` (1-based; genesis has no block).
    pub fn block(&self, height: u64) -> Result<Option<Block>, LedgerError> {
        let rtxn = self.db.begin_read()?;
        let table = rtxn.open_table(BLOCKS)?;
        let Some(bytes) = table.get(height)? else { return Ok(None) };
        Block::decode(bytes.value())
            .map(Some)
            .map_err(|e| LedgerError::Corrupt(format!("block {height}: {e}")))
    }

    /// The receipts of the block at `height`.
    pub fn receipts(&self, height: u64) -> Result<Option<Vec<Receipt>>, LedgerError> {
        let rtxn = self.db.begin_read()?;
        let table = rtxn.open_table(RECEIPTS)?;
        let Some(bytes) = table.get(height)? else { return Ok(None) };
        decode_bounded(bytes.value(), MAX_RECEIPTS_BYTES)
            .map(Some)
            .map_err(|e| LedgerError::Corrupt(format!("receipts {height}: {e}")))
    }

    /// Where a transaction was committed, if it was.
    pub fn tx_location(&self, id: &Hash32) -> Result<Option<TxLocation>, LedgerError> {
        let rtxn = self.db.begin_read()?;
        let table = rtxn.open_table(TX_INDEX)?;
        Ok(table.get(id.as_bytes())?.map(|v| {
            let (height, index) = v.value();
            TxLocation { height, index }
        }))
    }
}

fn read_head_w(wtxn: &redb::WriteTransaction) -> Result<Head, LedgerError> {
    let meta = wtxn.open_table(META)?;
    let bytes = meta.get("head")?.ok_or_else(|| LedgerError::Corrupt("no head record".into()))?;
    borsh::from_slice(bytes.value()).map_err(|e| LedgerError::Corrupt(format!("head: {e}")))
}
