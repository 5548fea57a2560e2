//! Describe blocks whose raw telemetry was pruned by retention, and check them against their header.
//!
//! Retention (docs/adr/0018) replaces each `SubmitTelemetry` transaction of an old block by a
//! [`PrunedTx`]: its Merkle leaf (so the header's `txs_root` still verifies), its id, sender,
//! nonce and report count. Every other transaction, the header, the proposer's signature and the
//! receipts are kept, so a pruned block still proves what it committed to; only re-executing it
//! is impossible. The aggregates the reports produced are in the state and are never pruned.
//!
//! **Invariant:** a [`LoggedBlock`]'s transactions always hash to its header's `txs_root`
//! ([`LoggedBlock::txs_root`]); pruning checks it before it writes anything.

use borsh::{BorshDeserialize, BorshSerialize};
use depin_crypto::domain::{MERKLE_LEAF, MERKLE_NODE};
use depin_crypto::hash_domain;
use depin_types::codec::encode;
use depin_types::{Address, Block, BlockHeader, Hash32, Receipt, Signature, Transaction, TxBody};
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use crate::store::LedgerError;

/// Version of the stored form of a pruned block ([`PrunedRecord`]); a change to it is a
/// deliberate format change (see the fixture test).
pub const PRUNED_FORMAT: u8 = 1;

/// What is left of a telemetry transaction after retention pruned it.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct PrunedTx {
    /// Transaction id (the receipts and the transaction index still name it).
    pub id: Hash32,
    /// Its Merkle leaf: the leaf hash of its encoding, what the header's `txs_root` is built from.
    pub leaf: Hash32,
    /// The validator account that signed it.
    pub sender: Address,
    /// Its nonce.
    pub nonce: u64,
    /// How many device reports it carried.
    pub n_reports: u32,
}

impl PrunedTx {
    /// The summary of a telemetry transaction, or `None` for any other kind (never pruned).
    pub fn of(tx: &Transaction) -> Option<PrunedTx> {
        let TxBody::SubmitTelemetry { reports } = &tx.content.body else { return None };
        Some(PrunedTx {
            id: tx.id(),
            leaf: leaf_of(tx),
            sender: tx.content.sender(),
            nonce: tx.content.nonce,
            n_reports: u32::try_from(reports.len()).expect("invariant: report batches are bounded"),
        })
    }
}

/// JSON at the API edge: `{"pruned": true, "id", "sender", "nonce", "reports", "leaf"}`, so a
/// client tells a pruned entry from a transaction by the `pruned` field.
impl Serialize for PrunedTx {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("PrunedTx", 6)?;
        st.serialize_field("pruned", &true)?;
        st.serialize_field("id", &self.id)?;
        st.serialize_field("sender", &self.sender)?;
        st.serialize_field("nonce", &self.nonce)?;
        st.serialize_field("reports", &self.n_reports)?;
        st.serialize_field("leaf", &self.leaf)?;
        st.end()
    }
}

/// A transaction as the block log holds it: whole, or reduced to its summary by retention.
// Allowed: nearly every entry is `Full` (only telemetry of old blocks is pruned), so boxing the
// large variant would cost an allocation per transaction on every block read to save space in
// the rare small one.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize)]
#[serde(untagged)]
pub enum LoggedTx {
    /// The whole signed transaction.
    Full(Transaction),
    /// A telemetry transaction pruned by retention.
    Pruned(PrunedTx),
}

impl LoggedTx {
    /// The transaction id.
    pub fn id(&self) -> Hash32 {
        match self {
            LoggedTx::Full(tx) => tx.id(),
            LoggedTx::Pruned(p) => p.id,
        }
    }

    /// Its Merkle leaf.
    pub fn leaf(&self) -> Hash32 {
        match self {
            LoggedTx::Full(tx) => leaf_of(tx),
            LoggedTx::Pruned(p) => p.leaf,
        }
    }

    /// The sender account.
    pub fn sender(&self) -> Address {
        match self {
            LoggedTx::Full(tx) => tx.content.sender(),
            LoggedTx::Pruned(p) => p.sender,
        }
    }

    /// The transaction kind (`TxBody::kind`); a pruned one is always `submit_telemetry`.
    pub fn kind(&self) -> &'static str {
        match self {
            LoggedTx::Full(tx) => tx.content.body.kind(),
            LoggedTx::Pruned(_) => "submit_telemetry",
        }
    }

    /// True if retention pruned it.
    pub fn is_pruned(&self) -> bool {
        matches!(self, LoggedTx::Pruned(_))
    }
}

/// A block as the log holds it, whole or pruned, with its receipts: what can still be shown
/// of any block (`Ledger::logged_block`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoggedBlock {
    /// The header, as signed.
    pub header: BlockHeader,
    /// The proposer's signature over the header's id.
    pub signature: Signature,
    /// The transactions in block order.
    pub txs: Vec<LoggedTx>,
    /// One receipt per transaction.
    pub receipts: Vec<Receipt>,
}

impl LoggedBlock {
    /// A whole block.
    pub fn full(block: Block, receipts: Vec<Receipt>) -> LoggedBlock {
        let Block { header, txs, signature } = block;
        LoggedBlock { header, signature, txs: txs.into_iter().map(LoggedTx::Full).collect(), receipts }
    }

    /// The block id.
    pub fn id(&self) -> Hash32 {
        self.header.id()
    }

    /// How many of its transactions were pruned.
    pub fn n_pruned(&self) -> usize {
        self.txs.iter().filter(|t| t.is_pruned()).count()
    }

    /// True if retention pruned any of its transactions.
    pub fn is_pruned(&self) -> bool {
        self.txs.iter().any(LoggedTx::is_pruned)
    }

    /// The Merkle root of its transactions, from full encodings and kept leaves alike; equal to
    /// `header.txs_root` for every block the log holds.
    pub fn txs_root(&self) -> Hash32 {
        root_of_leaves(self.txs.iter().map(LoggedTx::leaf).collect())
    }

    /// The whole block and its receipts, or [`LedgerError::Pruned`] if retention pruned any of
    /// its transactions (it can no longer be re-executed).
    pub fn into_block(self) -> Result<(Block, Vec<Receipt>), LedgerError> {
        let height = self.header.height;
        let txs = self
            .txs
            .into_iter()
            .map(|t| match t {
                LoggedTx::Full(tx) => Ok(tx),
                LoggedTx::Pruned(_) => Err(LedgerError::Pruned { height }),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok((Block { header: self.header, txs, signature: self.signature }, self.receipts))
    }

    /// The pruned form of this block: its telemetry transactions replaced by summaries.
    /// `None` if it has no whole telemetry transaction left (nothing to prune).
    pub(crate) fn pruned(&self) -> Option<LoggedBlock> {
        let mut changed = false;
        let txs = self
            .txs
            .iter()
            .map(|t| match t {
                LoggedTx::Full(tx) => match PrunedTx::of(tx) {
                    Some(p) => {
                        changed = true;
                        LoggedTx::Pruned(p)
                    }
                    None => t.clone(),
                },
                LoggedTx::Pruned(_) => t.clone(),
            })
            .collect();
        changed.then(|| LoggedBlock { header: self.header.clone(), signature: self.signature.clone(), txs, receipts: self.receipts.clone() })
    }
}

/// The stored form of a pruned block (table `pruned_blocks` of `blocks.redb`).
#[derive(BorshSerialize, BorshDeserialize)]
pub(crate) struct PrunedRecord {
    /// [`PRUNED_FORMAT`].
    pub(crate) format: u8,
    pub(crate) header: BlockHeader,
    pub(crate) signature: Signature,
    pub(crate) txs: Vec<LoggedTx>,
    pub(crate) receipts: Vec<Receipt>,
}

impl PrunedRecord {
    pub(crate) fn of(b: LoggedBlock) -> PrunedRecord {
        PrunedRecord { format: PRUNED_FORMAT, header: b.header, signature: b.signature, txs: b.txs, receipts: b.receipts }
    }

    pub(crate) fn into_logged(self) -> LoggedBlock {
        LoggedBlock { header: self.header, signature: self.signature, txs: self.txs, receipts: self.receipts }
    }
}

/// The Merkle leaf of a transaction, as `depin_types::block::txs_root` hashes it.
pub fn leaf_of(tx: &Transaction) -> Hash32 {
    hash_domain(MERKLE_LEAF, &encode(tx))
}

/// The Merkle root over already-hashed leaves: the same tree as `depin_crypto::merkle_root`
/// (leaf/node domains, an odd node promoted unchanged, the leaf hash of "" for no leaves),
/// which hashes its leaves itself. A test pins the two together.
pub fn root_of_leaves(mut level: Vec<Hash32>) -> Hash32 {
    if level.is_empty() {
        return hash_domain(MERKLE_LEAF, b"");
    }
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| match pair {
                [a, b] => {
                    let mut buf = [0u8; 64];
                    buf[..32].copy_from_slice(&a.0);
                    buf[32..].copy_from_slice(&b.0);
                    hash_domain(MERKLE_NODE, &buf)
                }
                [a] => *a,
                _ => unreachable!("chunks(2) yields one or two items"),
            })
            .collect();
    }
    level[0]
}

/// What one bounded pruning step did (`Ledger::prune_telemetry`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PruneStep {
    /// Heights looked at (pruned or found with nothing to prune).
    pub examined: u64,
    /// Blocks whose telemetry was pruned.
    pub blocks: u64,
    /// Telemetry transactions replaced by summaries.
    pub txs: u64,
    /// Device reports they carried.
    pub reports: u64,
    /// Every height up to this one has been examined (the stored cursor after this step).
    pub through: u64,
    /// Nothing more can be pruned now (the next block is too recent or above the limit).
    pub done: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use depin_crypto::merkle_root;
    use depin_types::{Amount, Scheme, SecretKey, TxContent};

    fn tx(nonce: u64) -> Transaction {
        let key = SecretKey::from_seeds(Scheme::Ed25519, &[3; 32]).unwrap();
        TxContent {
            chain_id: "depin-fixture".into(),
            signer: key.public_key(),
            nonce,
            fee: Amount(0),
            body: TxBody::SubmitTelemetry { reports: vec![] },
        }
        .sign(&key)
    }

    #[test]
    fn root_of_leaves_is_the_block_merkle_root() {
        for n in 0..12u64 {
            let txs: Vec<Transaction> = (0..n).map(tx).collect();
            let expected = merkle_root(txs.iter().map(encode));
            assert_eq!(root_of_leaves(txs.iter().map(leaf_of).collect()), expected, "{n} leaves");
            assert_eq!(depin_types::block::txs_root(&txs), expected);
        }
    }

    #[test]
    fn pruned_tx_encoding_fixture_never_changes() {
        // Changing this is a deliberate change of the stored pruned-block format: bump
        // PRUNED_FORMAT and say so in docs/adr/0018.
        let p = PrunedTx::of(&tx(7)).unwrap();
        let bytes = encode(&LoggedTx::Pruned(p.clone()));
        // tag, id, leaf, sender (its own encoding), nonce, report count
        assert_eq!(bytes.len(), 1 + 32 + 32 + encode(&p.sender).len() + 8 + 4);
        assert_eq!(hex::encode(&bytes), PRUNED_TX_FIXTURE_HEX);
        assert_eq!(borsh::from_slice::<LoggedTx>(&bytes).unwrap(), LoggedTx::Pruned(p));
    }
    const PRUNED_TX_FIXTURE_HEX: &str = "01584e24189fc82ad70ee8381e3f94a9b0747cd22a8a2f3440fc6ee9d63a387b72c7ee7ad5b46df76c91ee44d2c1d503ab741d81aae64bfbc600c2902aa2a8922701b857627301f75e49d1310e265f6e4a8491dcd7d369db55db184374120c852345070000000000000000000000";

    #[test]
    fn pruned_tx_json_says_it_is_pruned() {
        let p = PrunedTx::of(&tx(7)).unwrap();
        let v = serde_json::to_value(LoggedTx::Pruned(p.clone())).unwrap();
        assert_eq!(v["pruned"], true);
        assert_eq!(v["id"], serde_json::to_value(p.id).unwrap());
        assert_eq!(v["nonce"], 7);
        assert_eq!(v["reports"], 0);
        let full = serde_json::to_value(LoggedTx::Full(tx(7))).unwrap();
        assert!(full.get("pruned").is_none() && full.get("content").is_some(), "{full}");
    }
}
