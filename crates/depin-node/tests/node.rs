//! Node scenarios on a real home: submit, commit, replay, restart.

use std::time::Duration;

use depin_node::testing::TestNode;
use depin_node::{replay_from_genesis, Node, NodeConfig, SubmitError, TxStatus};
use depin_types::{Amount, Scheme, SecretKey, Transaction, TxBody, TxContent};

fn transfer(node: &Node, from: &SecretKey, nonce: u64, to: &SecretKey, amount: u128) -> Transaction {
    TxContent {
        chain_id: node.chain_id().to_string(),
        signer: from.public_key(),
        nonce,
        fee: Amount(0),
        body: TxBody::Transfer { to: to.public_key().address(), amount: Amount(amount) },
    }
    .sign(from)
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

#[test]
fn a_submitted_transfer_commits_and_replay_reproduces_the_state_root() {
    let t = TestNode::start();
    let bob = SecretKey::generate(Scheme::Ed25519).unwrap();
    let ids: Vec<_> = (0..50)
        .map(|n| t.node.submit(transfer(&t.node, &t.dev_key, n, &bob, 10)).unwrap())
        .collect();
    let status = rt().block_on(t.node.wait_committed(*ids.last().unwrap(), Duration::from_secs(10))).unwrap();
    assert!(matches!(status, TxStatus::Committed { .. }), "{status:?}");
    for id in &ids {
        assert!(matches!(t.node.tx_status(id).unwrap(), TxStatus::Committed { .. }));
    }
    assert_eq!(t.node.account(&bob.public_key().address()).unwrap().balance, Amount(500));
    let head = t.node.chain().ledger().head().unwrap();
    let replayed = replay_from_genesis(t.node.chain().ledger(), t.node.chain().genesis()).unwrap().unwrap();
    assert_eq!(replayed, head.state_root);
}

#[test]
fn admission_refuses_replays_wrong_chain_and_forgeries() {
    let t = TestNode::start();
    let bob = SecretKey::generate(Scheme::Ed25519).unwrap();
    let tx = transfer(&t.node, &t.dev_key, 0, &bob, 1);
    let id = t.node.submit(tx.clone()).unwrap();
    assert_eq!(t.node.submit(tx.clone()), Err(SubmitError::Duplicate));
    rt().block_on(t.node.wait_committed(id, Duration::from_secs(10))).unwrap();
    assert_eq!(t.node.submit(tx), Err(SubmitError::NonceTooLow { expected: 1, got: 0 }));
    let mut forged = transfer(&t.node, &t.dev_key, 1, &bob, 1);
    forged.signature = bob.sign(b"x");
    assert_eq!(t.node.submit(forged), Err(SubmitError::BadSignature));
    let mut other = transfer(&t.node, &t.dev_key, 1, &bob, 1).content;
    other.chain_id = "elsewhere".into();
    assert!(matches!(t.node.submit(other.sign(&t.dev_key)), Err(SubmitError::WrongChainId { .. })));
}

#[test]
fn restart_recovers_the_committed_head_and_goes_on() {
    let t = TestNode::start();
    let bob = SecretKey::generate(Scheme::Ed25519).unwrap();
    let id = t.node.submit(transfer(&t.node, &t.dev_key, 0, &bob, 7)).unwrap();
    rt().block_on(t.node.wait_committed(id, Duration::from_secs(10))).unwrap();
    let t = t.restart();
    let head = t.node.chain().ledger().head().unwrap();
    assert!(head.height >= 1);
    assert!(matches!(t.node.tx_status(&id).unwrap(), TxStatus::Committed { .. }));
    let id2 = t.node.submit(transfer(&t.node, &t.dev_key, 1, &bob, 3)).unwrap();
    rt().block_on(t.node.wait_committed(id2, Duration::from_secs(10))).unwrap();
    assert_eq!(t.node.account(&bob.public_key().address()).unwrap().balance, Amount(10));
}

#[test]
fn a_submission_to_an_idle_node_wakes_the_sequencer() {
    // Regression: with the pool empty the sequencer sleeps on the (long) empty-block interval;
    // a submission must wake it instead of waiting that interval out.
    let mut config = NodeConfig::default();
    config.sequencer.block_interval_ms = 20;
    config.sequencer.empty_block_interval_ms = 60_000;
    let t = TestNode::start_with(config);
    std::thread::sleep(Duration::from_millis(100)); // let the sequencer go to sleep
    let bob = SecretKey::generate(Scheme::Ed25519).unwrap();
    let id = t.node.submit(transfer(&t.node, &t.dev_key, 0, &bob, 1)).unwrap();
    let status = rt().block_on(t.node.wait_committed(id, Duration::from_secs(5))).unwrap();
    assert!(matches!(status, TxStatus::Committed { .. }), "{status:?}");
}

#[test]
fn lost_state_is_rebuilt_from_the_block_log_on_open() {
    let t = TestNode::start();
    let bob = SecretKey::generate(Scheme::Ed25519).unwrap();
    let id = t.node.submit(transfer(&t.node, &t.dev_key, 0, &bob, 42)).unwrap();
    rt().block_on(t.node.wait_committed(id, Duration::from_secs(10))).unwrap();
    let head = t.node.chain().ledger().head().unwrap();
    // Simulate derived state that is behind the block log (lost tables, older format).
    t.node.chain().ledger().reset_state().unwrap();
    assert_eq!(t.node.chain().ledger().state_version().unwrap(), None);
    let t = t.restart();
    assert!(t.node.chain().ledger().head().unwrap().height >= head.height);
    assert_eq!(t.node.chain().ledger().state_version().unwrap(), Some(t.node.chain().ledger().head().unwrap().height));
    assert_eq!(t.node.account(&bob.public_key().address()).unwrap().balance, Amount(42));
    let replayed = replay_from_genesis(t.node.chain().ledger(), t.node.chain().genesis()).unwrap().unwrap();
    assert_eq!(replayed, t.node.chain().ledger().head().unwrap().state_root);
}

#[test]
fn a_failed_init_leaves_nothing_and_can_be_retried() {
    use depin_node::{init_home, Home, InitOptions};
    let dir = tempfile::tempdir().unwrap();
    let home = Home::new(dir.path().join("home"));
    let fast = depin_keystore::Kdf::fast_for_tests();
    let bad = InitOptions { chain_id: "Bad Id".into(), dev: true, kdf: fast, ..InitOptions::default() };
    assert!(init_home(&home, &bad).is_err());
    assert!(!home.is_initialized());
    init_home(&home, &InitOptions { dev: true, kdf: fast, ..InitOptions::default() }).unwrap();
    assert!(home.is_initialized());
}

#[test]
fn a_foreign_state_at_the_head_height_is_rebuilt_not_trusted() {
    use depin_ledger::Ledger;
    use depin_node::Chain;
    use depin_types::genesis::GenesisValidator;
    use depin_types::{Genesis, GenesisAccount, Params};
    let node_key = SecretKey::from_seeds(Scheme::Ed25519, &[9; 32]).unwrap();
    let alice = SecretKey::from_seeds(Scheme::Ed25519, &[1; 32]).unwrap();
    let genesis = Genesis {
        telemetry: Default::default(),
        market: Default::default(),
        chain_id: "depin-foreign".into(),
        genesis_time_ms: 1,
        params: Params::default(),
        validators: vec![GenesisValidator { name: "v".into(), public_key: node_key.public_key(), p2p: None }],
        accounts: vec![GenesisAccount { address: alice.public_key().address(), balance: Amount(100) }],
    };
    let dir = tempfile::tempdir().unwrap();
    // Two ledgers, same genesis, a different block 1 each.
    for (name, amount) in [("a", 1u128), ("b", 2)] {
        let chain = Chain::new(Ledger::open(&dir.path().join(name), &genesis, true).unwrap(), genesis.clone(), Some(SecretKey::from_seeds(Scheme::Ed25519, &[9; 32]).unwrap()));
        let tx = TxContent {
            chain_id: genesis.chain_id.clone(),
            signer: alice.public_key(),
            nonce: 0,
            fee: Amount(0),
            body: TxBody::Transfer { to: node_key.public_key().address(), amount: Amount(amount) },
        }
        .sign(&alice);
        let p = chain.propose(vec![tx], &[depin_types::Verdict::VALID], 10).unwrap();
        chain.finalize(p).unwrap();
    }
    // Put b's state (height 1, another root) under a's block log.
    std::fs::copy(dir.path().join("b/state.redb"), dir.path().join("a/state.redb")).unwrap();
    let chain = Chain::new(Ledger::open(&dir.path().join("a"), &genesis, true).unwrap(), genesis.clone(), None);
    let head = chain.ledger().head().unwrap();
    assert_ne!(chain.ledger().state_at().unwrap().unwrap().state_root, head.state_root);
    assert_eq!(chain.repair_state().unwrap(), Some(1..=1));
    assert_eq!(chain.ledger().state_at().unwrap().unwrap().state_root, head.state_root);
}

#[test]
fn transactions_behind_a_nonce_gap_do_not_make_the_sequencer_cut_blocks() {
    // Regression: future-nonce transactions counted as waiting, so the sequencer cut an empty
    // block every interval (or in a tight loop with a full pool).
    let t = TestNode::start();
    let bob = SecretKey::generate(Scheme::Ed25519).unwrap();
    for n in 1..6 {
        t.node.submit(transfer(&t.node, &t.dev_key, n, &bob, 1)).unwrap();
    }
    let before = t.node.chain().ledger().head().unwrap().height;
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(t.node.chain().ledger().head().unwrap().height, before, "no block without a ready transaction");
    let id = t.node.submit(transfer(&t.node, &t.dev_key, 0, &bob, 1)).unwrap();
    rt().block_on(t.node.wait_committed(id, Duration::from_secs(10))).unwrap();
    let status = rt().block_on(t.node.wait_committed(transfer(&t.node, &t.dev_key, 5, &bob, 1).id(), Duration::from_secs(10))).unwrap();
    assert!(matches!(status, TxStatus::Committed { .. }), "the gap filled, the rest follows: {status:?}");
}

#[test]
fn a_non_dev_home_keeps_the_node_key_encrypted() {
    use depin_node::home::InitError;
    use depin_node::{init_home, Home, InitOptions};
    let dir = tempfile::tempdir().unwrap();
    let home = Home::new(dir.path().join("home"));
    let fast = depin_keystore::Kdf::fast_for_tests();
    let no_password = InitOptions { kdf: fast, ..InitOptions::default() };
    assert!(matches!(init_home(&home, &no_password), Err(InitError::NodeKeyPassword)));
    let with_password = InitOptions { kdf: fast, node_key_password: Some(b"node pw".to_vec()), ..InitOptions::default() };
    init_home(&home, &with_password).unwrap();
    assert!(depin_keystore::KeyFile::read(&home.node_key()).unwrap().is_encrypted());
    assert!(Node::open(&home, NodeConfig::default(), None).is_err(), "an encrypted node key needs its password");
    assert!(Node::open(&home, NodeConfig::default(), Some(b"wrong")).is_err());
    let node = Node::open(&home, NodeConfig::default(), Some(b"node pw")).unwrap();
    assert_eq!(node.status().unwrap().height, 0);
}
