//! Tests of the authenticated state against real redb files.

use std::collections::BTreeMap;

use proptest::prelude::*;
use redb::{Database, ReadableDatabase, ReadableTableMetadata};
use tempfile::TempDir;

use super::*;

/// A fresh database with the tables created.
fn fresh() -> (TempDir, Database) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Database::create(dir.path().join("state.redb")).expect("create db");
    let wtxn = db.begin_write().expect("begin write");
    JmtState::new().init_tables(&wtxn).expect("init tables");
    wtxn.commit().expect("commit");
    (dir, db)
}

/// Stage and commit one block; returns the staged root.
fn apply(db: &Database, version: u64, changes: &ChangeSet) -> Root {
    apply_with(JmtState::new(), db, version, changes)
}

/// A store that always inserts key by key (never with jmt's batch insertion).
fn per_key() -> JmtState {
    JmtState { per_key_only: true }
}

/// Stage and commit one block with the given store; returns the staged root.
fn apply_with(state: JmtState, db: &Database, version: u64, changes: &ChangeSet) -> Root {
    let rtxn = db.begin_read().expect("begin read");
    let (root, staged) = state.stage(&rtxn, version, changes).expect("stage");
    assert_eq!(staged.root(), root);
    assert_eq!(staged.version(), version);
    drop(rtxn);
    let wtxn = db.begin_write().expect("begin write");
    state.commit(&wtxn, staged).expect("commit state");
    wtxn.commit().expect("commit txn");
    assert_eq!(committed(db), (Some(version), root));
    root
}

/// The committed version and root.
fn committed(db: &Database) -> (Option<u64>, Root) {
    let rtxn = db.begin_read().expect("begin read");
    JmtState::new().committed(&rtxn).expect("committed")
}

/// The current value of a key.
fn get(db: &Database, key: &[u8]) -> Option<Vec<u8>> {
    let rtxn = db.begin_read().expect("begin read");
    JmtState::new().get(&rtxn, key).expect("get")
}

/// A proof for a key at the committed version.
fn prove(db: &Database, key: &[u8]) -> StateProof {
    let rtxn = db.begin_read().expect("begin read");
    JmtState::new().prove(&rtxn, key).expect("prove")
}

/// The number of stored tree nodes.
fn node_count(db: &Database) -> u64 {
    let rtxn = db.begin_read().expect("begin read");
    rtxn.open_table(NODES).expect("nodes").len().expect("len")
}

/// A changeset from literal pairs.
fn cs(pairs: &[(&str, Option<&str>)]) -> ChangeSet {
    pairs
        .iter()
        .map(|(k, v)| (k.as_bytes().to_vec(), v.map(|v| v.as_bytes().to_vec())))
        .collect()
}

#[test]
fn empty_root_is_jmt_placeholder() {
    assert_eq!(EMPTY_ROOT, jmt::Sha256Jmt::<EmptyTreeReader>::EMPTY_ROOT.0);
    let (_dir, db) = fresh();
    assert_eq!(committed(&db), (None, EMPTY_ROOT));
}

#[test]
fn nothing_committed_without_tables() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Database::create(dir.path().join("bare.redb")).expect("create db");
    assert_eq!(committed(&db), (None, EMPTY_ROOT));
    assert_eq!(get(&db, b"a"), None);
    let proof = prove(&db, b"a");
    assert_eq!(proof.value, None);
    verify_proof(&EMPTY_ROOT, &proof).expect("absence in the empty tree");
    // Staging and committing also work without init_tables: commit creates the tables.
    let root = apply(&db, 3, &cs(&[("a", Some("1"))]));
    assert_ne!(root, EMPTY_ROOT);
}

#[test]
fn root_changes_with_content_and_is_history_independent() {
    let (_d1, db1) = fresh();
    let (_d2, db2) = fresh();
    let (_d3, db3) = fresh();

    let r1 = apply(&db1, 1, &cs(&[("a", Some("1")), ("b", Some("2"))]));
    assert_ne!(r1, EMPTY_ROOT);
    let r2 = apply(&db1, 2, &cs(&[("c", Some("3"))]));
    assert_ne!(r2, r1);
    let r3 = apply(&db1, 5, &cs(&[("a", Some("1'"))]));
    assert_ne!(r3, r2);

    // The same blocks in another file give the same roots.
    assert_eq!(
        apply(&db2, 1, &cs(&[("a", Some("1")), ("b", Some("2"))])),
        r1
    );
    assert_eq!(apply(&db2, 2, &cs(&[("c", Some("3"))])), r2);
    assert_eq!(apply(&db2, 5, &cs(&[("a", Some("1'"))])), r3);

    // The same final state in one block (at another version) gives the same root.
    let one = cs(&[("a", Some("1'")), ("b", Some("2")), ("c", Some("3"))]);
    assert_eq!(apply(&db3, 100, &one), r3);
    // Only live nodes are kept, so both trees have the same node count.
    assert_eq!(node_count(&db1), node_count(&db3));
    assert_eq!(node_count(&db1), node_count(&db2));
}

#[test]
fn batch_and_per_key_insertion_agree() {
    let (_d1, db1) = fresh();
    let (_d2, db2) = fresh();
    let mut rng = SplitMix(1);
    for version in 1..=8 {
        // Blocks 1-3 only insert and update (one batch); later ones also delete (batch, then
        // deletes key by key), and block 8 only deletes.
        let mut changes = ChangeSet::new();
        for _ in 0..500 {
            let id = rng.next() % 2000;
            let delete = version == 8 || (version > 3 && rng.next().is_multiple_of(4));
            let value = (!delete).then(|| rng.next().to_le_bytes().to_vec());
            changes.insert(id.to_be_bytes().to_vec(), value);
        }
        let r1 = apply(&db1, version, &changes);
        let r2 = apply_with(per_key(), &db2, version, &changes);
        assert_eq!(r1, r2);
        assert_eq!(node_count(&db1), node_count(&db2));
    }
    let root = committed(&db1).1;
    for id in [0u64, 7, 1999, 5000] {
        let key = id.to_be_bytes();
        verify_proof(&root, &prove(&db1, &key)).expect("proof");
        assert_eq!(prove(&db1, &key), prove(&db2, &key));
    }
}

#[test]
fn delete_works() {
    let (_d1, db1) = fresh();
    let (_d2, db2) = fresh();
    apply(
        &db1,
        1,
        &cs(&[("a", Some("1")), ("b", Some("2")), ("c", Some("3"))]),
    );
    let root = apply(&db1, 2, &cs(&[("b", None), ("zz", None)]));
    assert_eq!(get(&db1, b"b"), None);
    assert_eq!(get(&db1, b"a"), Some(b"1".to_vec()));
    assert_eq!(
        apply(&db2, 1, &cs(&[("a", Some("1")), ("c", Some("3"))])),
        root
    );
    assert_eq!(node_count(&db1), node_count(&db2));

    let proof = prove(&db1, b"b");
    assert_eq!(proof.value, None);
    verify_proof(&root, &proof).expect("deleted key is absent");

    // Deleting everything gives back the empty root.
    let root = apply(&db1, 3, &cs(&[("a", None), ("c", None)]));
    assert_eq!(root, EMPTY_ROOT);
    assert_eq!(node_count(&db1), 1, "only the null root remains");
    verify_proof(&root, &prove(&db1, b"a")).expect("absence in the emptied tree");
    // And the tree grows again from there.
    let again = apply(&db1, 4, &cs(&[("a", Some("1")), ("c", Some("3"))]));
    assert_eq!(again, committed(&db2).1);
}

#[test]
fn empty_and_no_op_changesets_keep_the_root() {
    let (_dir, db) = fresh();
    // A first block that changes nothing.
    assert_eq!(apply(&db, 0, &ChangeSet::new()), EMPTY_ROOT);
    assert_eq!(apply(&db, 1, &cs(&[("x", None)])), EMPTY_ROOT);
    let root = apply(&db, 2, &cs(&[("a", Some("1"))]));
    let nodes = node_count(&db);
    assert_eq!(apply(&db, 3, &ChangeSet::new()), root);
    assert_eq!(apply(&db, 4, &cs(&[("nope", None)])), root);
    // Rewriting the same value changes nothing either.
    assert_eq!(apply(&db, 5, &cs(&[("a", Some("1"))])), root);
    assert_eq!(
        node_count(&db),
        nodes,
        "the copied root replaced the old one"
    );
    verify_proof(&root, &prove(&db, b"a")).expect("inclusion after no-op blocks");
}

#[test]
fn inclusion_proof_verifies_and_round_trips() {
    let (_dir, db) = fresh();
    let mut changes = ChangeSet::new();
    for i in 0u32..200 {
        changes.insert(
            format!("key-{i}").into_bytes(),
            Some(i.to_be_bytes().to_vec()),
        );
    }
    let root = apply(&db, 7, &changes);
    for i in [0u32, 1, 57, 199] {
        let key = format!("key-{i}").into_bytes();
        let proof = prove(&db, &key);
        assert_eq!(proof.version, 7);
        assert_eq!(proof.root, root);
        assert_eq!(proof.key, key);
        assert_eq!(proof.value, Some(i.to_be_bytes().to_vec()));
        verify_proof(&root, &proof).expect("inclusion");

        let json = serde_json::to_string(&proof).expect("json");
        assert!(
            json.contains(&hex::encode(root)),
            "root is hex in json: {json}"
        );
        assert!(
            json.contains(&hex::encode(&key)),
            "key is hex in json: {json}"
        );
        let back: StateProof = serde_json::from_str(&json).expect("from json");
        assert_eq!(back, proof);
        verify_proof(&root, &back).expect("inclusion after json");

        let bytes = borsh::to_vec(&proof).expect("borsh");
        let back: StateProof = borsh::from_slice(&bytes).expect("from borsh");
        assert_eq!(back, proof);
    }
}

#[test]
fn exclusion_proof_verifies() {
    let (_dir, db) = fresh();
    let mut changes = ChangeSet::new();
    for i in 0u32..100 {
        changes.insert(format!("key-{i}").into_bytes(), Some(b"v".to_vec()));
    }
    let root = apply(&db, 1, &changes);
    for absent in ["key-100", "", "other", "key-1x"] {
        let proof = prove(&db, absent.as_bytes());
        assert_eq!(proof.value, None);
        verify_proof(&root, &proof).expect("exclusion");
        let json = serde_json::to_string(&proof).expect("json");
        assert!(json.contains("\"value\":null"), "{json}");
        let back: StateProof = serde_json::from_str(&json).expect("from json");
        verify_proof(&root, &back).expect("exclusion after json");
    }
    // With a single key, the proof of absence shows the other leaf.
    let (_dir2, db2) = fresh();
    let root2 = apply(&db2, 1, &cs(&[("only", Some("1"))]));
    verify_proof(&root2, &prove(&db2, b"missing")).expect("exclusion beside one leaf");
}

#[test]
fn tampered_proofs_fail() {
    let (_dir, db) = fresh();
    let mut changes = ChangeSet::new();
    for i in 0u32..50 {
        changes.insert(
            format!("k{i}").into_bytes(),
            Some(format!("v{i}").into_bytes()),
        );
    }
    let root = apply(&db, 1, &changes);
    let good = prove(&db, b"k7");
    verify_proof(&root, &good).expect("good proof");

    // Tampered value.
    let mut p = good.clone();
    p.value = Some(b"v8".to_vec());
    assert!(matches!(
        verify_proof(&root, &p),
        Err(ProofError::ValueMismatch(_))
    ));
    // Claiming absence of a present key.
    let mut p = good.clone();
    p.value = None;
    assert!(matches!(
        verify_proof(&root, &p),
        Err(ProofError::ValueMismatch(_))
    ));
    // Wrong trusted root.
    let mut other = root;
    other[0] ^= 1;
    assert!(matches!(
        verify_proof(&other, &good),
        Err(ProofError::WrongRoot { .. })
    ));
    // A proof re-labelled with the wrong root is also rejected by the path check.
    let mut p = good.clone();
    p.root = other;
    assert!(matches!(
        verify_proof(&other, &p),
        Err(ProofError::Invalid(_))
    ));
    // Wrong key (with the proof's value).
    let mut p = good.clone();
    p.key = b"k8".to_vec();
    assert!(matches!(verify_proof(&root, &p), Err(ProofError::WrongKey)));
    // Malformed proof bytes.
    let mut p = good.clone();
    p.proof.truncate(p.proof.len() - 1);
    assert!(matches!(
        verify_proof(&root, &p),
        Err(ProofError::Malformed(_))
    ));
    let mut p = good.clone();
    p.proof.push(0);
    assert!(matches!(
        verify_proof(&root, &p),
        Err(ProofError::Malformed(_))
    ));
    // A flipped byte inside the path.
    let mut p = good.clone();
    let last = p.proof.len() - 1;
    p.proof[last] ^= 0x80;
    assert!(verify_proof(&root, &p).is_err());

    // Absence proofs cannot be turned into presence proofs or moved to another key.
    let absent = prove(&db, b"nope");
    verify_proof(&root, &absent).expect("absence");
    let mut p = absent.clone();
    p.value = Some(b"v".to_vec());
    assert!(verify_proof(&root, &p).is_err());
    let mut p = absent.clone();
    p.key = b"k7".to_vec();
    assert!(verify_proof(&root, &p).is_err());
    // An old proof does not verify against a newer root.
    let newer = apply(&db, 2, &cs(&[("k7", Some("changed"))]));
    assert!(verify_proof(&newer, &good).is_err());
    let mut p = good.clone();
    p.root = newer;
    assert!(verify_proof(&newer, &p).is_err());
}

#[test]
fn root_survives_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("state.redb");
    let root = {
        let db = Database::create(&path).expect("create db");
        apply(&db, 1, &cs(&[("a", Some("1"))]));
        apply(&db, 2, &cs(&[("b", Some("2"))]))
    };
    let db = Database::open(&path).expect("reopen");
    assert_eq!(committed(&db), (Some(2), root));
    assert_eq!(get(&db, b"a"), Some(b"1".to_vec()));
    verify_proof(&root, &prove(&db, b"b")).expect("proof after reopen");
    let next = apply(&db, 3, &cs(&[("c", Some("3"))]));
    assert_ne!(next, root);
}

#[test]
fn stage_writes_nothing_and_checks_versions() {
    let (_dir, db) = fresh();
    let root = apply(&db, 10, &cs(&[("a", Some("1"))]));
    let nodes = node_count(&db);
    let state = JmtState::new();

    let rtxn = db.begin_read().expect("begin read");
    let (staged_root, staged) = state
        .stage(&rtxn, 11, &cs(&[("a", Some("2")), ("b", Some("3"))]))
        .expect("stage");
    assert_ne!(staged_root, root);
    assert!(matches!(
        state.stage(&rtxn, 10, &ChangeSet::new()),
        Err(AuthStateError::VersionNotMonotonic {
            committed: 10,
            requested: 10
        })
    ));
    drop(rtxn);
    assert_eq!(committed(&db), (Some(10), root));
    assert_eq!(get(&db, b"a"), Some(b"1".to_vec()));
    assert_eq!(node_count(&db), nodes);

    // A second stage on the same base commits; the first one is then stale.
    let rtxn = db.begin_read().expect("begin read");
    let (_, other) = state
        .stage(&rtxn, 12, &cs(&[("c", Some("4"))]))
        .expect("stage");
    drop(rtxn);
    let wtxn = db.begin_write().expect("begin write");
    state.commit(&wtxn, other).expect("commit");
    wtxn.commit().expect("commit txn");
    let wtxn = db.begin_write().expect("begin write");
    assert!(matches!(
        state.commit(&wtxn, staged),
        Err(AuthStateError::StaleStage {
            staged_on: Some(10),
            committed: Some(12)
        })
    ));
    wtxn.abort().expect("abort");
    assert_eq!(committed(&db).0, Some(12));
}

#[test]
fn redb_snapshot_keeps_serving_old_proofs() {
    let (_dir, db) = fresh();
    let old_root = apply(&db, 1, &cs(&[("a", Some("1")), ("b", Some("2"))]));
    let old_rtxn = db.begin_read().expect("begin read");
    apply(&db, 2, &cs(&[("a", Some("changed"))]));
    let old = JmtState::new()
        .prove(&old_rtxn, b"a")
        .expect("prove on snapshot");
    assert_eq!(old.value, Some(b"1".to_vec()));
    verify_proof(&old_root, &old).expect("old proof");
}

#[test]
fn corrupt_node_is_an_error_not_a_panic() {
    let (_dir, db) = fresh();
    apply(&db, 1, &cs(&[("a", Some("1")), ("b", Some("2"))]));
    let wtxn = db.begin_write().expect("begin write");
    {
        let mut nodes = wtxn.open_table(NODES).expect("nodes");
        let keys: Vec<Vec<u8>> = nodes
            .iter()
            .expect("iter")
            .map(|e| e.expect("entry").0.value().to_vec())
            .collect();
        for k in keys {
            nodes
                .insert(k.as_slice(), [0xffu8, 1, 2].as_slice())
                .expect("insert");
        }
    }
    wtxn.commit().expect("commit");
    let rtxn = db.begin_read().expect("begin read");
    let state = JmtState::new();
    assert!(matches!(
        state.prove(&rtxn, b"a"),
        Err(AuthStateError::Corrupt(_))
    ));
    assert!(matches!(
        state.stage(&rtxn, 2, &cs(&[("c", Some("3"))])),
        Err(AuthStateError::Corrupt(_))
    ));
}

/// Random blocks of changes over a small key space (so that updates and deletes happen); about
/// half the blocks have no deletes (and so take jmt's batch insertion).
fn blocks() -> impl Strategy<Value = Vec<ChangeSet>> {
    let key = prop::collection::vec(0u8..4, 0..3);
    let value = prop::option::weighted(0.7, prop::collection::vec(any::<u8>(), 0..4));
    let block = (
        any::<bool>(),
        prop::collection::btree_map(key, value, 0..12),
    )
        .prop_map(|(inserts_only, mut changes)| {
            if inserts_only {
                for v in changes.values_mut() {
                    v.get_or_insert_with(Vec::new);
                }
            }
            changes
        });
    prop::collection::vec(block, 1..6)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn same_changesets_same_roots(blocks in blocks()) {
        let (_d1, db1) = fresh();
        let (_d2, db2) = fresh();
        let mut model: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        let mut merged = ChangeSet::new();
        let mut last = EMPTY_ROOT;
        for (i, changes) in blocks.iter().enumerate() {
            let version = 2 * i as u64;
            let r1 = apply(&db1, version, changes);
            let r2 = apply_with(per_key(), &db2, version + 1, changes);
            prop_assert_eq!(r1, r2);
            for (k, v) in changes {
                match v {
                    Some(v) => { model.insert(k.clone(), v.clone()); }
                    None => { model.remove(k); }
                }
                merged.insert(k.clone(), v.clone());
            }
            last = r1;
        }
        prop_assert_eq!(node_count(&db1), node_count(&db2));
        // The merged changes in one block reach the same root, with the same live nodes.
        let (_d3, db3) = fresh();
        prop_assert_eq!(apply(&db3, 0, &merged), last);
        prop_assert_eq!(node_count(&db3), node_count(&db1));
        let (_d4, db4) = fresh();
        prop_assert_eq!(apply_with(per_key(), &db4, 0, &merged), last);
        prop_assert_eq!(node_count(&db4), node_count(&db1));
        if model.is_empty() {
            prop_assert_eq!(last, EMPTY_ROOT);
        }
        // Current values and proofs agree with the model, for present and absent keys.
        for k0 in 0u8..4 {
            for key in [vec![], vec![k0], vec![k0, k0], vec![k0, 3 - k0]] {
                prop_assert_eq!(get(&db1, &key), model.get(&key).cloned());
                let proof = prove(&db1, &key);
                prop_assert_eq!(&proof.value, &model.get(&key).cloned());
                prop_assert!(verify_proof(&last, &proof).is_ok());
            }
        }
    }
}

/// A tiny deterministic generator (splitmix64) for the timing run.
struct SplitMix(u64);

impl SplitMix {
    /// The next pseudo-random number.
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}
