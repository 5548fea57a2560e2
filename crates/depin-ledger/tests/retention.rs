//! Retention on a real block log: telemetry transactions of old blocks become summaries that
//! still verify against the header, `block()` no longer returns those blocks, pruning is
//! idempotent, bounded per step, survives a reopen, and never touches a block above the
//! durable state checkpoint (docs/adr/0018). Also: a home written with another state layout
//! is refused at open, with a message that says what to do (ADR 0021).

use depin_ledger::{Ledger, LedgerError, LoggedTx, PRUNE_CHUNK_BLOCKS};
use depin_state::ChangeSet;
use depin_types::asset::AssetId;
use depin_types::block::{receipts_root, txs_root, BLOCK_VERSION};
use depin_types::genesis::GenesisValidator;
use depin_types::telemetry::{Metrics, Report, REPORT_VERSION};
use depin_types::{
    Amount, Block, BlockHeader, Genesis, GenesisAccount, Params, Receipt, Scheme, SecretKey, Transaction, TxBody,
    TxContent, TxOutcome,
};

const CHAIN: &str = "depin-retention";
const GENESIS_MS: u64 = 1_000;

fn key(i: u8) -> SecretKey {
    SecretKey::from_seeds(Scheme::Ed25519, &[i + 1; 32]).unwrap()
}

/// Through serde, so that sections added to genesis later take their defaults here too.
fn genesis() -> Genesis {
    let validators = vec![GenesisValidator { name: "v".into(), public_key: key(0).public_key(), p2p: None }];
    let accounts = vec![GenesisAccount { address: key(1).public_key().address(), balance: Amount(500) }];
    serde_json::from_value(serde_json::json!({
        "chain_id": CHAIN,
        "genesis_time_ms": GENESIS_MS,
        "params": Params { min_fee: Amount(0), max_block_txs: 100 },
        "validators": validators,
        "accounts": accounts,
    }))
    .unwrap()
}

fn telemetry_tx(nonce: u64, n_reports: u64) -> Transaction {
    let device = key(9);
    let reports = (0..n_reports)
        .map(|i| {
            Report {
                version: REPORT_VERSION,
                asset: AssetId::of(&device.public_key()),
                epoch: 0,
                seq: nonce * 100 + i,
                timestamp_ms: GENESIS_MS,
                uptime_s: 5,
                metrics: Metrics::Sensor { readings: 1 },
                fix: None,
            }
            .sign(CHAIN, &device)
        })
        .collect();
    let v = key(0);
    TxContent { chain_id: CHAIN.into(), signer: v.public_key(), nonce, fee: Amount(0), body: TxBody::SubmitTelemetry { reports } }
        .sign(&v)
}

fn transfer_tx(nonce: u64) -> Transaction {
    let k = key(1);
    let to = key(2).public_key().address();
    TxContent { chain_id: CHAIN.into(), signer: k.public_key(), nonce, fee: Amount(0), body: TxBody::Transfer { to, amount: Amount(1) } }
        .sign(&k)
}

/// Block `height` is at `GENESIS_MS + height × 1000`; even heights carry two telemetry
/// transactions of 3 reports between two transfers, odd heights one transfer.
fn txs_for(height: u64) -> Vec<Transaction> {
    if height.is_multiple_of(2) {
        vec![transfer_tx(2 * height), telemetry_tx(2 * height, 3), telemetry_tx(2 * height + 1, 3), transfer_tx(2 * height + 1)]
    } else {
        vec![transfer_tx(2 * height)]
    }
}

fn time_of(height: u64) -> u64 {
    GENESIS_MS + height * 1_000
}

/// Commit the next block (the ledger does not execute: empty state changes, applied receipts).
fn commit_next(ledger: &Ledger) -> Block {
    let head = ledger.head().unwrap();
    let height = head.height + 1;
    let txs = txs_for(height);
    let receipts: Vec<Receipt> =
        txs.iter().map(|t| Receipt { tx_id: t.id(), outcome: TxOutcome::Applied, fee_paid: Amount(0) }).collect();
    let (state_root, staged) = ledger.stage(height, &ChangeSet::new()).unwrap();
    let header = BlockHeader {
        version: BLOCK_VERSION,
        chain_id: CHAIN.into(),
        height,
        parent: head.block_id,
        timestamp_ms: time_of(height),
        proposer: key(0).public_key(),
        n_txs: txs.len() as u32,
        txs_root: txs_root(&txs),
        receipts_root: receipts_root(&receipts),
        state_root,
    };
    let block = Block::seal(header, txs, &key(0));
    ledger.commit_block(&block, &receipts, staged).unwrap();
    block
}

#[test]
fn old_telemetry_becomes_summaries_that_verify_against_the_header() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    let ledger = Ledger::open(&path, &genesis(), true).unwrap();
    let blocks: Vec<Block> = (0..10).map(|_| commit_next(&ledger)).collect();
    let original = |h: u64| blocks[(h - 1) as usize].clone();

    // Nothing above the durable state checkpoint is pruned: fewer than CHECKPOINT_BLOCKS
    // blocks since genesis, so the state is durable at 0 only.
    assert_eq!(ledger.durable_state_height(), 0);
    let step = ledger.prune_telemetry(u64::MAX).unwrap();
    assert_eq!((step.blocks, step.through, step.done), (0, 0, true));
    assert_eq!(ledger.block(2).unwrap(), Some(original(2)));

    // After a checkpoint, blocks 1..=5 are older than block 6's time: 2 and 4 are pruned.
    ledger.checkpoint().unwrap();
    assert_eq!(ledger.durable_state_height(), 10);
    let step = ledger.prune_telemetry(time_of(6)).unwrap();
    assert_eq!((step.examined, step.blocks, step.txs, step.reports, step.through, step.done), (5, 2, 4, 12, 5, true));

    for h in [2, 4] {
        let want = original(h);
        assert_eq!(ledger.block(h).unwrap(), None, "a pruned block is never returned whole");
        assert_eq!(ledger.block_with_receipts(h).unwrap(), None);
        let logged = ledger.logged_block(h).unwrap().unwrap();
        assert_eq!(logged.header, want.header);
        assert_eq!(logged.id(), want.id());
        assert_eq!(logged.txs_root(), logged.header.txs_root, "the markers keep the header's txs_root");
        assert_eq!((logged.n_pruned(), logged.txs.len()), (2, 4));
        for (kept, tx) in logged.txs.iter().zip(&want.txs) {
            assert_eq!(kept.id(), tx.id());
            assert_eq!(kept.sender(), tx.content.sender());
            match (kept, &tx.content.body) {
                (LoggedTx::Pruned(p), TxBody::SubmitTelemetry { reports }) => {
                    assert_eq!((p.nonce, p.n_reports as usize), (tx.content.nonce, reports.len()));
                }
                (LoggedTx::Full(full), _) => assert_eq!(full, tx, "other transactions are kept whole"),
                (LoggedTx::Pruned(_), _) => panic!("only telemetry is pruned"),
            }
        }
        assert!(logged.signature == want.signature && want.signature_ok());
        let receipts = ledger.receipts(h).unwrap().unwrap();
        assert_eq!(receipts.len(), 4, "receipts are kept");
        assert_eq!(ledger.header(h).unwrap().unwrap(), want.header);
        assert_eq!(ledger.root_at(h).unwrap(), want.header.state_root);
        assert!(matches!(logged.into_block(), Err(LedgerError::Pruned { height }) if height == h));
    }
    // Blocks without telemetry, and recent ones, are untouched.
    for h in [1, 3, 5, 6, 7, 8, 9, 10] {
        assert_eq!(ledger.block(h).unwrap(), Some(original(h)), "block {h}");
        assert!(!ledger.logged_block(h).unwrap().unwrap().is_pruned());
    }
    assert_eq!(ledger.oldest_pruned().unwrap(), Some(2));

    // Idempotent: the same cut again changes nothing.
    let before = ledger.logged_block(2).unwrap();
    let again = ledger.prune_telemetry(time_of(6)).unwrap();
    assert_eq!((again.examined, again.blocks, again.through, again.done), (0, 0, 5, true));
    assert_eq!(ledger.logged_block(2).unwrap(), before);

    // New blocks above the checkpoint are never pruned, however old the cut says they are;
    // nor is the head.
    for _ in 0..4 {
        commit_next(&ledger);
    }
    let step = ledger.prune_telemetry(u64::MAX).unwrap();
    assert_eq!((step.through, step.done), (10, true));
    for h in [12, 14] {
        assert!(ledger.block(h).unwrap().is_some(), "block {h} is above the durable state");
    }
    assert!(ledger.block(10).unwrap().is_none() && ledger.block(8).unwrap().is_none());

    // Everything persists across a reopen; the head and its root are unchanged.
    let head = ledger.head().unwrap();
    drop(ledger);
    let ledger = Ledger::open(&path, &genesis(), true).unwrap();
    assert_eq!(ledger.head().unwrap(), head);
    assert_eq!(ledger.pruned_through().unwrap(), 10);
    assert_eq!(ledger.oldest_pruned().unwrap(), Some(2));
    assert_eq!(ledger.logged_block(2).unwrap(), before);
    assert_eq!(ledger.durable_state_height(), 14, "the close checkpointed the state");
}

#[test]
fn one_step_examines_a_bounded_number_of_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(&dir.path().join("ledger"), &genesis(), false).unwrap();
    let n = PRUNE_CHUNK_BLOCKS * 2 + 3;
    for _ in 0..n {
        commit_next(&ledger);
    }
    let mut steps = Vec::new();
    loop {
        let step = ledger.prune_telemetry(u64::MAX).unwrap();
        steps.push(step);
        if step.done {
            break;
        }
    }
    assert!(steps.iter().all(|s| s.examined <= PRUNE_CHUNK_BLOCKS), "{steps:?}");
    assert_eq!(steps.last().unwrap().through, n - 1, "everything but the head");
    let pruned: u64 = steps.iter().map(|s| s.blocks).sum();
    assert_eq!(pruned, (n - 1) / 2, "every even height below the head");
    assert!(ledger.block(n).unwrap().is_some(), "the head is never pruned");
}

/// The home records its state layout at genesis; a reopen with the same build works, and a home
/// of another layout (or of none recorded: before layouts were) is refused, not misread.
#[test]
fn a_home_of_another_state_layout_is_refused_at_open() {
    const META: redb::TableDefinition<&str, &[u8]> = redb::TableDefinition::new("meta");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    drop(Ledger::open(&path, &genesis(), true).unwrap());
    drop(Ledger::open(&path, &genesis(), true).expect("the same layout opens"));
    let set_layout = |layout: Option<u32>| {
        let db = redb::Database::open(path.join("blocks.redb")).unwrap();
        let w = db.begin_write().unwrap();
        {
            let mut meta = w.open_table(META).unwrap();
            match layout {
                Some(v) => meta.insert("state_layout", v.to_le_bytes().as_slice()).map(drop).unwrap(),
                None => meta.remove("state_layout").map(drop).unwrap(),
            }
        }
        w.commit().unwrap();
    };
    for stored in [None, Some(depin_state::STATE_LAYOUT + 1)] {
        set_layout(stored);
        match Ledger::open(&path, &genesis(), true) {
            Err(e @ LedgerError::LayoutMismatch { .. }) => {
                assert!(matches!(e, LedgerError::LayoutMismatch { stored: s, current } if s == stored && current == depin_state::STATE_LAYOUT));
                assert!(e.to_string().contains("start a fresh home"), "{e}");
            }
            other => panic!("layout {stored:?} opened: {:?}", other.map(|_| ())),
        }
    }
    set_layout(Some(depin_state::STATE_LAYOUT));
    drop(Ledger::open(&path, &genesis(), true).expect("the layout restored opens"));
}
