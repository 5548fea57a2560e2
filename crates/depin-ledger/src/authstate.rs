//! Maintain the authenticated state: a Jellyfish Merkle tree over redb with per-block roots and proofs.
//!
//! The state is a map from arbitrary byte keys to byte values. [`JmtState`] keeps it in redb as
//! a Jellyfish Merkle tree (crate `jmt`, SHA-256) plus a plain table of current values:
//!
//! | table         | key                              | value                                   |
//! |---------------|----------------------------------|-----------------------------------------|
//! | `auth_values` | state key (raw bytes)            | current value (raw bytes)               |
//! | `auth_nodes`  | borsh(`jmt::storage::NodeKey`)   | borsh(`jmt::storage::Node`)             |
//! | `auth_meta`   | `"committed"`                    | version u64 BE, tree version u64 BE, root (48 bytes) |
//!
//! Only the latest tree is kept: committing a block deletes the nodes it made stale, so proofs are
//! served at the committed version (redb read snapshots keep serving older proofs to readers that
//! opened them earlier).
//!
//! The tree is versioned internally by a dense counter (the "tree version", 0 for the first
//! commit), separate from the caller's block version: jmt looks for the previous root at exactly
//! `version - 1`, so block versions with gaps could not be used as tree versions directly. Node
//! versions never enter a hash, so roots depend only on the key/value contents.
//!
//! Staging a block with inserts or updates uses jmt's batch insertion, which builds and hashes
//! each touched node once (about twice as fast as inserting key by key) but cannot delete; a
//! block that also deletes then applies its deletes key by key at the next tree version, over the
//! batch's nodes. Such a block advances the tree version by two; only its final root is stored.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use borsh::{BorshDeserialize, BorshSerialize};
use jmt::proof::SparseMerkleProof;
use jmt::storage::{LeafNode, Node, NodeKey, TreeReader, TreeUpdateBatch};
use jmt::{KeyHash, OwnedValue, RootHash, SimpleHasher, Version};
use redb::{ReadOnlyTable, ReadableTable, TableDefinition};
use sha2::Sha256;

/// A 32-byte state root.
pub type Root = [u8; 32];

/// One block's state changes: key -> Some(new value) or None (delete). BTreeMap for determinism.
pub type ChangeSet = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// The root of the empty tree (jmt's placeholder: the ASCII bytes `SPARSE_MERKLE_PLACEHOLDER_HASH__`).
pub const EMPTY_ROOT: Root = *b"SPARSE_MERKLE_PLACEHOLDER_HASH__";

/// Current values: state key -> value.
const VALUES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("auth_values");
/// Tree nodes: borsh(NodeKey) -> borsh(Node).
const NODES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("auth_nodes");
/// Committed version, tree version and root.
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("auth_meta");
/// The single key of [`META`].
const META_COMMITTED: &str = "committed";

/// The hasher of the tree (keys, values and nodes).
type Hasher = Sha256;
/// The jmt tree type used here.
type Tree<'a, R> = jmt::JellyfishMerkleTree<'a, R, Hasher>;
/// A read-only redb table of byte keys and values.
type BytesTable = ReadOnlyTable<&'static [u8], &'static [u8]>;

/// An error of the authenticated state store.
#[derive(Debug, thiserror::Error)]
pub enum AuthStateError {
    /// The underlying redb storage failed.
    #[error("authenticated state storage error: {0}")]
    Storage(#[from] redb::Error),
    /// Data read from disk cannot be decoded or is inconsistent.
    #[error("corrupt authenticated state: {0}")]
    Corrupt(String),
    /// A value could not be encoded.
    #[error("cannot encode {0}")]
    Encode(String),
    /// The staged version is not greater than the committed version.
    #[error("version {requested} is not greater than the committed version {committed}")]
    VersionNotMonotonic {
        /// The committed version.
        committed: u64,
        /// The version that was asked for.
        requested: u64,
    },
    /// A staged result was computed against another committed state than the one being written to.
    #[error(
        "staged against committed version {staged_on:?} but the committed version is {committed:?}"
    )]
    StaleStage {
        /// The committed version the result was staged against.
        staged_on: Option<u64>,
        /// The committed version found in the write transaction.
        committed: Option<u64>,
    },
    /// The Jellyfish Merkle tree reported an error.
    #[error("jellyfish merkle tree error: {0}")]
    Tree(String),
}

impl From<redb::StorageError> for AuthStateError {
    fn from(e: redb::StorageError) -> Self {
        Self::Storage(e.into())
    }
}

impl From<redb::TableError> for AuthStateError {
    fn from(e: redb::TableError) -> Self {
        Self::Storage(e.into())
    }
}

/// Why a [`StateProof`] does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The proof is for another root than the trusted one.
    #[error("proof is for root {found}, expected {expected}")]
    WrongRoot {
        /// The trusted root, hex.
        expected: String,
        /// The root named in the proof, hex.
        found: String,
    },
    /// The proof's leaf is for another key.
    #[error("proof is for another key")]
    WrongKey,
    /// The value claimed does not match the proven leaf (or presence/absence differs).
    #[error("value mismatch: {0}")]
    ValueMismatch(String),
    /// The proof bytes cannot be decoded.
    #[error("malformed proof: {0}")]
    Malformed(String),
    /// The Merkle path does not lead to the root.
    #[error("invalid proof: {0}")]
    Invalid(String),
}

/// The authenticated state store behind a trait so that another engine (Commonware QMDB) can replace it.
pub trait AuthState {
    /// The result of staging a changeset: the new root plus whatever must be written at commit.
    type Staged;

    /// Committed root and version (None before anything was committed; the empty-tree root then).
    fn committed(
        &self,
        rtxn: &redb::ReadTransaction,
    ) -> Result<(Option<u64>, Root), AuthStateError>;

    /// Current value of a key (from a plain current-value table, O(log n), not through the tree).
    fn get(
        &self,
        rtxn: &redb::ReadTransaction,
        key: &[u8],
    ) -> Result<Option<Vec<u8>>, AuthStateError>;

    /// Compute the root the state would have at `version` after `changes`, reading the committed
    /// tree from `rtxn`; writes nothing. `version` must be > the committed version (or any if none).
    fn stage(
        &self,
        rtxn: &redb::ReadTransaction,
        version: u64,
        changes: &ChangeSet,
    ) -> Result<(Root, Self::Staged), AuthStateError>;

    /// Write a staged result into `wtxn` (tree nodes, current values, committed version/root),
    /// pruning tree nodes made stale by it. The caller commits `wtxn` (one fsync for the whole block).
    fn commit(
        &self,
        wtxn: &redb::WriteTransaction,
        staged: Self::Staged,
    ) -> Result<(), AuthStateError>;

    /// A proof of the key's current value, or of its absence, against the committed root.
    fn prove(&self, rtxn: &redb::ReadTransaction, key: &[u8])
    -> Result<StateProof, AuthStateError>;
}

/// A self-contained proof, serializable (serde JSON with hex strings for all bytes, and borsh) so
/// that a CLI can save it to a file and verify it offline against a root.
///
/// `version` is informational: it is not covered by the root.
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    borsh::BorshSerialize,
    borsh::BorshDeserialize,
)]
pub struct StateProof {
    /// The committed version the proof was made at (0 if nothing was committed yet).
    pub version: u64,
    /// The root the proof leads to.
    #[serde(with = "hex_root")]
    pub root: Root,
    /// The proven key.
    #[serde(with = "hex_bytes")]
    pub key: Vec<u8>,
    /// The key's value, or None for a proof of absence.
    #[serde(with = "hex_opt_bytes")]
    pub value: Option<Vec<u8>>,
    /// borsh of jmt's `SparseMerkleProof<Sha256>`.
    #[serde(with = "hex_bytes")]
    pub proof: Vec<u8>,
}

/// Verify a proof against a trusted root: checks proof.root == root, then the jmt proof of
/// (key -> value) or of absence. Pure, no storage.
pub fn verify_proof(root: &Root, proof: &StateProof) -> Result<(), ProofError> {
    if proof.root != *root {
        return Err(ProofError::WrongRoot {
            expected: hex::encode(root),
            found: hex::encode(proof.root),
        });
    }
    let smp: SparseMerkleProof<Hasher> =
        borsh::from_slice(&proof.proof).map_err(|e| ProofError::Malformed(e.to_string()))?;
    let key_hash = KeyHash::with::<Hasher>(&proof.key);
    // The leaf's fields are not public in jmt 0.12; its borsh form is key hash ++ value hash.
    let leaf = match smp.leaf() {
        None => None,
        Some(leaf) => {
            let bytes = borsh::to_vec(&leaf).map_err(|e| ProofError::Malformed(e.to_string()))?;
            let (k, v) = bytes
                .split_at_checked(32)
                .filter(|(_, v)| v.len() == 32)
                .ok_or_else(|| ProofError::Malformed("leaf is not 64 bytes".into()))?;
            Some((k.to_vec(), v.to_vec()))
        }
    };
    match (&proof.value, &leaf) {
        (Some(_), None) => {
            return Err(ProofError::ValueMismatch(
                "a value is claimed but the proof shows the key is absent".into(),
            ));
        }
        (Some(value), Some((leaf_key, leaf_value))) => {
            if leaf_key.as_slice() != key_hash.0 {
                return Err(ProofError::WrongKey);
            }
            if leaf_value.as_slice() != Hasher::hash(value) {
                return Err(ProofError::ValueMismatch(
                    "the value's hash differs from the proven leaf".into(),
                ));
            }
        }
        (None, Some((leaf_key, _))) if leaf_key.as_slice() == key_hash.0 => {
            return Err(ProofError::ValueMismatch(
                "absence is claimed but the proof shows the key is present".into(),
            ));
        }
        (None, _) => {}
    }
    smp.verify(RootHash(*root), key_hash, proof.value.as_deref())
        .map_err(|e| ProofError::Invalid(e.to_string().to_lowercase()))
}

/// The jmt-over-redb implementation.
#[derive(Clone, Copy, Debug, Default)]
pub struct JmtState {
    /// Always insert key by key (jmt's `put_value_set`), never with the batch insertion; the two
    /// give the same trees (tests compare them).
    per_key_only: bool,
}

/// What [`AuthState::stage`] computed for [`JmtState`] and [`AuthState::commit`] writes.
#[derive(Debug)]
pub struct JmtStaged {
    /// The committed state the changes were staged on.
    base: Option<Meta>,
    /// The new committed state.
    next: Meta,
    /// The tree's new and stale nodes, one batch per tree version used (one or two: upserts, then
    /// deletes; see the module documentation).
    phases: Vec<TreeUpdateBatch>,
    /// The changes themselves, for the current-value table.
    changes: ChangeSet,
}

impl JmtStaged {
    /// The root after the changes.
    pub fn root(&self) -> Root {
        self.next.root
    }

    /// The version the changes were staged at.
    pub fn version(&self) -> u64 {
        self.next.version
    }
}

/// The committed state recorded in [`META`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Meta {
    /// The caller's version (block height).
    version: u64,
    /// The jmt version of the root (dense, internal; a block may use two).
    tree_version: Version,
    /// The root.
    root: Root,
}

impl Meta {
    /// The encoded length.
    const LEN: usize = 48;

    /// Encode as version BE ++ tree version BE ++ root.
    fn encode(&self) -> [u8; Self::LEN] {
        let mut out = [0u8; Self::LEN];
        out[..8].copy_from_slice(&self.version.to_be_bytes());
        out[8..16].copy_from_slice(&self.tree_version.to_be_bytes());
        out[16..].copy_from_slice(&self.root);
        out
    }

    /// Decode what [`Meta::encode`] wrote.
    fn decode(bytes: &[u8]) -> Result<Self, AuthStateError> {
        let corrupt = || AuthStateError::Corrupt(format!("meta record of {} bytes", bytes.len()));
        if bytes.len() != Self::LEN {
            return Err(corrupt());
        }
        let version = u64::from_be_bytes(bytes[..8].try_into().map_err(|_| corrupt())?);
        let tree_version = u64::from_be_bytes(bytes[8..16].try_into().map_err(|_| corrupt())?);
        let root = bytes[16..].try_into().map_err(|_| corrupt())?;
        Ok(Self {
            version,
            tree_version,
            root,
        })
    }
}

impl JmtState {
    /// A store using the `auth_*` tables.
    pub fn new() -> Self {
        Self::default()
    }

    /// Create its tables in a write txn (idempotent).
    pub fn init_tables(&self, wtxn: &redb::WriteTransaction) -> Result<(), AuthStateError> {
        wtxn.open_table(VALUES)?;
        wtxn.open_table(NODES)?;
        wtxn.open_table(META)?;
        Ok(())
    }

    /// Delete every table of the store (the state is derived: it is rebuilt by replaying the
    /// block log, e.g. after a format change or a lost table).
    pub fn clear(&self, wtxn: &redb::WriteTransaction) -> Result<(), AuthStateError> {
        for def in [VALUES, NODES] {
            wtxn.delete_table(def)?;
        }
        wtxn.delete_table(META)?;
        Ok(())
    }
}

/// A state entry: key and value.
pub type Entry = (Vec<u8>, Vec<u8>);

/// The current-value table opened once in a read transaction, for many reads (the state
/// machine reads a few keys per transaction; reopening the table each time costs as much as the
/// read itself).
pub struct ValuesTable(Option<BytesTable>);

impl ValuesTable {
    /// Open it in `rtxn` (an absent table reads as empty).
    pub fn open(rtxn: &redb::ReadTransaction) -> Result<ValuesTable, AuthStateError> {
        Ok(ValuesTable(open_read(rtxn, VALUES)?))
    }

    /// The current value of `key`.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, AuthStateError> {
        match &self.0 {
            None => Ok(None),
            Some(t) => Ok(t.get(key)?.map(|v| v.value().to_vec())),
        }
    }

    /// Up to `limit` current entries whose key starts with `prefix`, in key order, starting
    /// after `after` (a cursor: the last key of the previous page) when given.
    pub fn scan(&self, prefix: &[u8], after: Option<&[u8]>, limit: usize) -> Result<Vec<Entry>, AuthStateError> {
        use std::ops::Bound;
        let Some(t) = &self.0 else { return Ok(Vec::new()) };
        let start = match after {
            Some(a) if a >= prefix => Bound::Excluded(a),
            _ => Bound::Included(prefix),
        };
        let mut out = Vec::new();
        for entry in t.range::<&[u8]>((start, Bound::Unbounded))? {
            if out.len() >= limit {
                break;
            }
            let (k, v) = entry?;
            if !k.value().starts_with(prefix) {
                break;
            }
            out.push((k.value().to_vec(), v.value().to_vec()));
        }
        Ok(out)
    }
}

/// Open a table in a read transaction; None if it was never created.
fn open_read(
    rtxn: &redb::ReadTransaction,
    def: TableDefinition<&'static [u8], &'static [u8]>,
) -> Result<Option<BytesTable>, AuthStateError> {
    match rtxn.open_table(def) {
        Ok(t) => Ok(Some(t)),
        Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The committed state in a read transaction.
fn read_meta(rtxn: &redb::ReadTransaction) -> Result<Option<Meta>, AuthStateError> {
    let table = match rtxn.open_table(META) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    match table.get(META_COMMITTED)? {
        Some(v) => Meta::decode(v.value()).map(Some),
        None => Ok(None),
    }
}

/// Borsh-encode, naming `what` on failure.
fn encode<T: BorshSerialize>(value: &T, what: &str) -> Result<Vec<u8>, AuthStateError> {
    borsh::to_vec(value).map_err(|e| AuthStateError::Encode(format!("{what}: {e}")))
}

/// The storage key of a node.
fn node_key_bytes(key: &NodeKey) -> Result<Vec<u8>, AuthStateError> {
    encode(key, "node key")
}

/// Turn jmt's `anyhow` error into ours: the storage error the reader hit, if any (jmt replaces
/// some reader errors, e.g. any failure to read the root becomes "missing root"), else our error
/// inside, else a description.
fn from_tree_error(reader_failure: Option<AuthStateError>, e: anyhow::Error) -> AuthStateError {
    if let Some(failure) = reader_failure {
        return failure;
    }
    match e.downcast::<AuthStateError>() {
        Ok(inner) => inner,
        Err(e) => AuthStateError::Tree(format!("{e:#}").to_lowercase()),
    }
}

/// A jmt [`TreeReader`] over tables opened once in a read transaction.
struct RedbTreeReader<'a> {
    /// The node table (None when no tree exists yet).
    nodes: Option<&'a BytesTable>,
    /// The current-value table and the one key it may be asked about (by hash), for proofs.
    value_of: Option<(&'a BytesTable, KeyHash, &'a [u8])>,
    /// The first storage or decoding error met, kept because jmt may replace it by its own.
    failure: RefCell<Option<AuthStateError>>,
}

impl<'a> RedbTreeReader<'a> {
    /// A reader over the node table and, for proofs, the current value of one key.
    fn new(
        nodes: Option<&'a BytesTable>,
        value_of: Option<(&'a BytesTable, KeyHash, &'a [u8])>,
    ) -> Self {
        Self {
            nodes,
            value_of,
            failure: RefCell::new(None),
        }
    }

    /// Keep the first failure and hand jmt an error describing it.
    fn fail(&self, e: AuthStateError) -> anyhow::Error {
        let message = anyhow::anyhow!("{e}");
        let mut failure = self.failure.borrow_mut();
        if failure.is_none() {
            *failure = Some(e);
        }
        message
    }

    /// The failure kept by [`RedbTreeReader::fail`].
    fn take_failure(&self) -> Option<AuthStateError> {
        self.failure.borrow_mut().take()
    }

    /// Read and decode one node.
    fn node(&self, node_key: &NodeKey) -> Result<Option<Node>, AuthStateError> {
        let Some(nodes) = self.nodes else {
            return Ok(None);
        };
        let key = node_key_bytes(node_key)?;
        match nodes.get(key.as_slice())? {
            None => Ok(None),
            Some(v) => Node::try_from_slice(v.value())
                .map(Some)
                .map_err(|e| AuthStateError::Corrupt(format!("tree node {node_key:?}: {e}"))),
        }
    }

    /// The current value of the key whose hash is `key_hash` (only the key being proven is known).
    fn value(&self, key_hash: KeyHash) -> Result<Option<OwnedValue>, AuthStateError> {
        match self.value_of {
            Some((values, hash, key)) if hash == key_hash => {
                Ok(values.get(key)?.map(|v| v.value().to_vec()))
            }
            _ => Err(AuthStateError::Tree(format!(
                "value lookup by hash is not supported (key hash {})",
                hex::encode(key_hash.0)
            ))),
        }
    }
}

impl TreeReader for RedbTreeReader<'_> {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        self.node(node_key).map_err(|e| self.fail(e))
    }

    fn get_value_option(
        &self,
        _max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        self.value(key_hash).map_err(|e| self.fail(e))
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        // Only jmt's restore and migration paths ask for it; this store uses neither.
        Err(AuthStateError::Tree("rightmost leaf is not tracked".into()).into())
    }
}

/// A jmt [`TreeReader`] that sees the nodes of earlier staged phases above the stored tree.
struct OverlayReader<'a> {
    /// Nodes of the earlier phases.
    nodes: Vec<&'a BTreeMap<NodeKey, Node>>,
    /// The stored tree.
    below: &'a RedbTreeReader<'a>,
}

impl TreeReader for OverlayReader<'_> {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        match self.nodes.iter().find_map(|n| n.get(node_key)) {
            Some(node) => Ok(Some(node.clone())),
            None => self.below.get_node_option(node_key),
        }
    }

    fn get_value_option(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        self.below.get_value_option(max_version, key_hash)
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        self.below.get_rightmost_leaf()
    }
}

/// The tree before the first commit: a null root at every version.
struct EmptyTreeReader;

impl TreeReader for EmptyTreeReader {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        Ok(node_key.nibble_path().is_empty().then_some(Node::Null))
    }

    fn get_value_option(&self, _: Version, _: KeyHash) -> anyhow::Result<Option<OwnedValue>> {
        Ok(None)
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        Ok(None)
    }
}

impl AuthState for JmtState {
    type Staged = JmtStaged;

    fn committed(
        &self,
        rtxn: &redb::ReadTransaction,
    ) -> Result<(Option<u64>, Root), AuthStateError> {
        Ok(match read_meta(rtxn)? {
            Some(meta) => (Some(meta.version), meta.root),
            None => (None, EMPTY_ROOT),
        })
    }

    fn get(
        &self,
        rtxn: &redb::ReadTransaction,
        key: &[u8],
    ) -> Result<Option<Vec<u8>>, AuthStateError> {
        let Some(values) = open_read(rtxn, VALUES)? else {
            return Ok(None);
        };
        Ok(values.get(key)?.map(|v| v.value().to_vec()))
    }

    fn stage(
        &self,
        rtxn: &redb::ReadTransaction,
        version: u64,
        changes: &ChangeSet,
    ) -> Result<(Root, JmtStaged), AuthStateError> {
        let base = read_meta(rtxn)?;
        if let Some(base) = base
            && version <= base.version
        {
            return Err(AuthStateError::VersionNotMonotonic {
                committed: base.version,
                requested: version,
            });
        }
        let nodes = open_read(rtxn, NODES)?;
        if base.is_some() && nodes.is_none() {
            return Err(AuthStateError::Corrupt(
                "a version is committed but the node table is missing".into(),
            ));
        }
        let reader = RedbTreeReader::new(nodes.as_ref(), None);
        let first = base.map_or(0, |b| b.tree_version + 1);
        let (upserts, deletes): (Vec<_>, Vec<_>) = changes
            .iter()
            .map(|(k, v)| (KeyHash::with::<Hasher>(k), v.clone()))
            .partition(|(_, v)| v.is_some());
        let staged = if self.per_key_only || upserts.is_empty() {
            Tree::new(&reader)
                .put_value_set(upserts.into_iter().chain(deletes), first)
                .map(|(root, batch)| (root, first, vec![batch]))
        } else {
            // Upserts in one batch at `first`, then deletes, if any, key by key at `first + 1`
            // over the first batch's nodes (see the module documentation).
            let upserts = upserts
                .into_iter()
                .filter_map(|(k, v)| Some((k, v?)))
                .collect();
            Tree::new(&reader)
                .batch_put_value_sets(vec![upserts], None, first)
                .and_then(|(roots, batch)| match roots.as_slice() {
                    [root] => Ok((*root, first, vec![batch])),
                    _ => Err(anyhow::anyhow!("{} roots for one value set", roots.len())),
                })
                .and_then(|(root, tree_version, mut phases)| {
                    if deletes.is_empty() {
                        return Ok((root, tree_version, phases));
                    }
                    let overlay = OverlayReader {
                        nodes: phases.iter().map(|p| p.node_batch.nodes()).collect(),
                        below: &reader,
                    };
                    let (root, batch) = Tree::new(&overlay).put_value_set(deletes, first + 1)?;
                    phases.push(batch);
                    Ok((root, first + 1, phases))
                })
        };
        let (root, tree_version, phases) =
            staged.map_err(|e| from_tree_error(reader.take_failure(), e))?;
        let next = Meta {
            version,
            tree_version,
            root: root.0,
        };
        let staged = JmtStaged {
            base,
            next,
            phases,
            changes: changes.clone(),
        };
        Ok((root.0, staged))
    }

    fn commit(
        &self,
        wtxn: &redb::WriteTransaction,
        staged: JmtStaged,
    ) -> Result<(), AuthStateError> {
        let mut meta = wtxn.open_table(META)?;
        let current = match meta.get(META_COMMITTED)? {
            Some(v) => Some(Meta::decode(v.value())?),
            None => None,
        };
        if current != staged.base {
            return Err(AuthStateError::StaleStage {
                staged_on: staged.base.map(|m| m.version),
                committed: current.map(|m| m.version),
            });
        }

        // A node made in an earlier phase and made stale by a later one never reaches the disk;
        // stale nodes that are on disk are removed. Only the final root is kept: jmt does not list
        // the previous root as stale when a phase left the tree unchanged (it copies the root to
        // the new version), so every other root is dropped explicitly. Fresh nodes carry this
        // block's tree versions, so they never collide with stale ones on disk.
        let stale_keys: BTreeSet<&NodeKey> = staged
            .phases
            .iter()
            .flat_map(|p| p.stale_node_index_batch.iter().map(|s| &s.node_key))
            .collect();
        let final_version = staged.next.tree_version;
        let mut fresh = Vec::new();
        let mut made = BTreeSet::new();
        for (key, node) in staged.phases.iter().flat_map(|p| p.node_batch.nodes()) {
            made.insert(key);
            let superseded = stale_keys.contains(key)
                || (key.nibble_path().is_empty() && key.version() != final_version);
            if !superseded {
                fresh.push((node_key_bytes(key)?, encode(node, "tree node")?));
            }
        }
        let mut stale = stale_keys
            .into_iter()
            .filter(|k| !made.contains(k))
            .map(node_key_bytes)
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(base) = staged.base {
            let old_root = NodeKey::new(base.tree_version, std::iter::empty().collect());
            stale.push(node_key_bytes(&old_root)?);
        }
        // Write in storage order, which keeps redb's page cache warm.
        stale.sort_unstable();
        stale.dedup();
        fresh.sort_unstable();
        let mut nodes = wtxn.open_table(NODES)?;
        for key in &stale {
            nodes.remove(key.as_slice())?;
        }
        for (key, node) in &fresh {
            nodes.insert(key.as_slice(), node.as_slice())?;
        }
        drop(nodes);

        let mut values = wtxn.open_table(VALUES)?;
        for (key, value) in &staged.changes {
            match value {
                Some(v) => {
                    values.insert(key.as_slice(), v.as_slice())?;
                }
                None => {
                    values.remove(key.as_slice())?;
                }
            }
        }
        drop(values);

        meta.insert(META_COMMITTED, staged.next.encode().as_slice())?;
        Ok(())
    }

    fn prove(
        &self,
        rtxn: &redb::ReadTransaction,
        key: &[u8],
    ) -> Result<StateProof, AuthStateError> {
        let key_hash = KeyHash::with::<Hasher>(key);
        let Some(meta) = read_meta(rtxn)? else {
            let (value, smp) = Tree::new(&EmptyTreeReader)
                .get_with_proof(key_hash, 0)
                .map_err(|e| from_tree_error(None, e))?;
            if value.is_some() {
                return Err(AuthStateError::Tree("the empty tree has a value".into()));
            }
            return Ok(StateProof {
                version: 0,
                root: EMPTY_ROOT,
                key: key.to_vec(),
                value: None,
                proof: encode(&smp, "proof")?,
            });
        };
        let nodes = open_read(rtxn, NODES)?;
        let values = open_read(rtxn, VALUES)?;
        let (Some(nodes), Some(values)) = (nodes, values) else {
            return Err(AuthStateError::Corrupt(
                "a version is committed but a table is missing".into(),
            ));
        };
        let reader = RedbTreeReader::new(Some(&nodes), Some((&values, key_hash, key)));
        let (value, smp) = Tree::new(&reader)
            .get_with_proof(key_hash, meta.tree_version)
            .map_err(|e| from_tree_error(reader.take_failure(), e))?;
        if value.is_none() && values.get(key)?.is_some() {
            return Err(AuthStateError::Corrupt(
                "a key has a current value but no leaf in the tree".into(),
            ));
        }
        let proof = StateProof {
            version: meta.version,
            root: meta.root,
            key: key.to_vec(),
            value,
            proof: encode(&smp, "proof")?,
        };
        verify_proof(&meta.root, &proof)
            .map_err(|e| AuthStateError::Corrupt(format!("proof made from storage fails: {e}")))?;
        Ok(proof)
    }
}

mod hex_bytes {
    //! Serialize `Vec<u8>` as a hex string.
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serialize as hex.
    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    /// Deserialize from hex.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        hex::decode(s).map_err(serde::de::Error::custom)
    }
}

mod hex_root {
    //! Serialize `[u8; 32]` as a hex string.
    use serde::{Deserializer, Serializer};

    /// Serialize as hex.
    pub fn serialize<S: Serializer>(bytes: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        super::hex_bytes::serialize(bytes, s)
    }

    /// Deserialize from hex of exactly 32 bytes.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let v = super::hex_bytes::deserialize(d)?;
        v.try_into().map_err(|v: Vec<u8>| {
            serde::de::Error::custom(format!("expected 32 bytes, got {}", v.len()))
        })
    }
}

mod hex_opt_bytes {
    //! Serialize `Option<Vec<u8>>` as a hex string or null.
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serialize as hex or null.
    pub fn serialize<S: Serializer>(bytes: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(b) => s.serialize_some(&hex::encode(b)),
            None => s.serialize_none(),
        }
    }

    /// Deserialize from hex or null.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        let s = <Option<String>>::deserialize(d)?;
        s.map(|s| hex::decode(s).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests;
