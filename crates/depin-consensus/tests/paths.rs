//! The local path and the BFT path run one state machine: the same blocks applied through
//! either give the same block ids, state roots, receipts roots and receipts at every height.
//!
//! - Local to BFT: blocks cut the way the local sequencer cuts them (`Chain::propose` then
//!   `Chain::finalize`, with transactions that apply and transactions the block rejects) are
//!   pushed into a fresh ledger through the consensus replica: `Replica::verify` with several
//!   blocks pending before any is final (children execute on parents that are not final),
//!   `Replica::finalize` in order, and some blocks finalized without a prior verify (catch-up).
//!   Once in a fixed schedule, and as a property over random transaction mixes and schedules.
//! - BFT to local: blocks proposed by two validators' replicas in turn (`Replica::propose`,
//!   each on a parent that is not final yet, verified by the other replica) are applied to a
//!   fresh ledger through `Chain::verify` + `Chain::finalize`, and audited by
//!   `replay_from_genesis`.
//!
//! Asserted: every block is accepted by the second path, and at every height the block id, the
//! header's state root, the derived state's root right after the commit, the receipts root and
//! the receipts are identical between the ledgers, as are the heads. All ledgers are real redb
//! ledgers in temporary directories; keys and timestamps are deterministic.

use std::collections::BTreeSet;

use depin_consensus::replica::{Finalized, Replica};
use depin_ledger::Ledger;
use depin_node::sequencer::MAX_BLOCK_TX_BYTES;
use depin_node::{replay_from_genesis, Chain, Node, NodeConfig, TxStatus};
use depin_types::block::receipts_root;
use depin_types::genesis::GenesisValidator;
use depin_types::{
    Address, Amount, Block, Genesis, GenesisAccount, Hash32, Params, Receipt, Scheme, SecretKey, Transaction, TxBody,
    TxContent, TxOutcome,
};
use proptest::prelude::*;

const CHAIN: &str = "paths";
const T0: u64 = 1_700_000_000_000;
/// Funded with `RICH_BALANCE`.
const RICH: [usize; 3] = [0, 1, 2];
const RICH_BALANCE: u128 = 1_000;
/// Funded with `POOR_BALANCE`: soon cannot pay amounts, then fees.
const POOR: usize = 3;
const POOR_BALANCE: u128 = 5;
/// Never funded: its transactions are rejected as from an unknown account.
const STRANGER: usize = 4;
/// Not in genesis; funded by a transfer during the test, then spends.
const NEWCOMER: usize = 5;
const ACTORS: usize = 6;

fn key(who: &str, i: usize) -> SecretKey {
    let seed = depin_crypto::hash_domain("depin/test/paths", format!("{who}/{i}").as_bytes());
    SecretKey::from_seeds(Scheme::Ed25519, &seed.0).unwrap()
}

fn user(i: usize) -> SecretKey {
    key("user", i)
}

fn address(i: usize) -> Address {
    user(i).public_key().address()
}

fn genesis(validators: &[SecretKey]) -> Genesis {
    let funded = RICH.iter().map(|&i| (i, RICH_BALANCE)).chain([(POOR, POOR_BALANCE)]);
    Genesis {
        telemetry: Default::default(),
        market: Default::default(),
        chain_id: CHAIN.into(),
        genesis_time_ms: T0,
        params: Params { min_fee: Amount(1), max_block_txs: 100 },
        validators: validators
            .iter()
            .enumerate()
            .map(|(i, k)| GenesisValidator { name: format!("v{i}"), public_key: k.public_key(), p2p: None })
            .collect(),
        accounts: funded.map(|(i, b)| GenesisAccount { address: address(i), balance: Amount(b) }).collect(),
    }
}

/// A chain on a fresh ledger in its own temporary directory, repaired to its head as a node
/// opening it would be.
fn fresh_chain(genesis: &Genesis, key: Option<SecretKey>) -> (Chain, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(&dir.path().join("ledger"), genesis, false).unwrap();
    let chain = Chain::new(ledger, genesis.clone(), key);
    chain.repair_state().unwrap();
    (chain, dir)
}

/// A validator's replica (as `engine::start` gets it) on a fresh ledger.
fn fresh_replica(genesis: &Genesis, key: Option<SecretKey>) -> (Replica, tempfile::TempDir) {
    let (chain, dir) = fresh_chain(genesis, key);
    (Replica::new(Node::from_parts(chain, NodeConfig::default())), dir)
}

/// What a ledger holds at one height.
#[derive(Debug, PartialEq, Eq)]
struct Step {
    height: u64,
    block_id: Hash32,
    /// The state root the header commits to.
    header_root: Hash32,
    /// The root of the derived state (the Merkle tree) right after this block committed.
    derived_root: Hash32,
    receipts_root: Hash32,
    receipts: Vec<Receipt>,
}

/// Read the block just committed at the head of `ledger`; call right after each commit.
fn step(ledger: &Ledger) -> Step {
    let head = ledger.head().unwrap();
    let (block, receipts) = ledger.block_with_receipts(head.height).unwrap().unwrap();
    let at = ledger.state_at().unwrap().expect("the derived state exists after a commit");
    assert_eq!(at.height, head.height, "the derived state is at the block just committed");
    assert_eq!(receipts_root(&receipts), block.header.receipts_root, "stored receipts match the header");
    assert_eq!(head.state_root, block.header.state_root);
    Step {
        height: head.height,
        block_id: block.id(),
        header_root: block.header.state_root,
        derived_root: at.state_root,
        receipts_root: block.header.receipts_root,
        receipts,
    }
}

/// Both ledgers hold the same history, step by step, and the same head.
fn assert_same_history(what: &str, a: &[Step], b: &[Step], la: &Ledger, lb: &Ledger) {
    assert_eq!(a.len(), b.len(), "{what}: number of blocks");
    for (sa, sb) in a.iter().zip(b) {
        assert_eq!(sa, sb, "{what}: height {} differs", sa.height);
        assert_eq!(sa.derived_root, sa.header_root, "{what}: height {}: derived state is the header's", sa.height);
    }
    assert_eq!(la.head().unwrap(), lb.head().unwrap(), "{what}: heads");
    assert_eq!(la.state_at().unwrap(), lb.state_at().unwrap(), "{what}: derived states at the head");
    assert_eq!(a.iter().map(|s| s.height).collect::<Vec<_>>(), (1..=a.len() as u64).collect::<Vec<_>>());
}

/// "Applied", or the reject reason's variant name.
fn outcome(r: &Receipt) -> String {
    match &r.outcome {
        TxOutcome::Applied => "Applied".into(),
        TxOutcome::Rejected { reason } => {
            let name = format!("{reason:?}");
            name.split([' ', '{', '(']).next().unwrap().to_string()
        }
    }
}

fn outcomes(steps: &[Step]) -> BTreeSet<String> {
    steps.iter().flat_map(|s| s.receipts.iter().map(outcome)).collect()
}

// ---------------------------------------------------------------------------------------------
// Transactions

/// How a transaction is made wrong on purpose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    None,
    /// Signed by another key.
    BadSignature,
    /// Signed for another chain.
    WrongChain,
    /// One nonce ahead of the sender's next.
    NonceAhead,
    /// One nonce behind the sender's next (a replay), or 0 for a fresh sender.
    NonceBehind,
}

#[derive(Clone, Copy, Debug)]
struct Spec {
    from: usize,
    to: usize,
    /// A burn instead of a transfer.
    burn: bool,
    amount: u128,
    fee: u128,
    fault: Fault,
}

fn transfer(from: usize, to: usize, amount: u128) -> Spec {
    Spec { from, to, burn: false, amount, fee: 1, fault: Fault::None }
}

fn burn(from: usize, amount: u128) -> Spec {
    Spec { from, to: from, burn: true, amount, fee: 1, fault: Fault::None }
}

impl Spec {
    fn fault(self, fault: Fault) -> Spec {
        Spec { fault, ..self }
    }

    fn fee(self, fee: u128) -> Spec {
        Spec { fee, ..self }
    }
}

/// Sign `specs` for a block on `ledger`'s head: each sender's nonces continue from its
/// committed nonce, one per transaction without a fault (which may still be rejected, e.g. a
/// sender that cannot pay the fee, so that its later transactions in the block have bad nonces).
fn sign_block(specs: &[Spec], ledger: &Ledger) -> Vec<Transaction> {
    let snapshot = ledger.snapshot().unwrap();
    let mut next: Vec<u64> = (0..ACTORS).map(|i| snapshot.account(&address(i)).unwrap().nonce).collect();
    specs
        .iter()
        .map(|s| {
            let nonce = match s.fault {
                Fault::NonceAhead => next[s.from] + 1,
                Fault::NonceBehind => next[s.from].saturating_sub(1),
                // Rejected before the fee is charged: the nonce stays unused.
                Fault::BadSignature | Fault::WrongChain => next[s.from],
                Fault::None => {
                    next[s.from] += 1;
                    next[s.from] - 1
                }
            };
            sign(s, nonce)
        })
        .collect()
}

fn sign(s: &Spec, nonce: u64) -> Transaction {
    let k = user(s.from);
    let body = if s.burn {
        TxBody::Burn { amount: Amount(s.amount) }
    } else {
        TxBody::Transfer { to: address(s.to), amount: Amount(s.amount) }
    };
    let chain_id = if s.fault == Fault::WrongChain { "elsewhere" } else { CHAIN };
    let content = TxContent { chain_id: chain_id.into(), signer: k.public_key(), nonce, fee: Amount(s.fee), body };
    let mut tx = content.sign(&k);
    if s.fault == Fault::BadSignature {
        tx.signature = key("forger", 0).sign(b"not this transaction");
    }
    tx
}

/// The fixed mix for block `h` of the local-to-BFT test: transfers and burns that apply, and
/// every way a transaction in a block can be rejected.
fn script(h: u64) -> Vec<Spec> {
    let mut s = Vec::new();
    if h.is_multiple_of(8) {
        return s; // empty blocks
    }
    let (a, b) = (RICH[(h % 3) as usize], RICH[((h + 1) % 3) as usize]);
    s.push(transfer(a, b, 10 + u128::from(h)));
    if h.is_multiple_of(2) {
        s.push(burn(1, u128::from(h)));
    }
    if h.is_multiple_of(3) {
        s.push(transfer(0, 2, 5).fault(Fault::NonceAhead)); // bad nonce
    }
    if h % 2 == 1 {
        // 5 → applies, then insufficient funds (fee charged) until it cannot pay the fee;
        // refunded at height 10, then applies again.
        s.push(transfer(POOR, 0, 2));
    }
    if h.is_multiple_of(5) {
        s.push(transfer(2, 1, 3).fault(Fault::BadSignature));
    }
    match h {
        6 => {
            // Creates an account, which spends in the same block and in the next one.
            s.push(transfer(0, NEWCOMER, 100));
            s.push(transfer(NEWCOMER, 2, 10));
        }
        7 => s.push(transfer(NEWCOMER, 1, 20)),
        9 => s.push(transfer(STRANGER, 0, 1)), // unknown account
        10 => s.push(transfer(0, POOR, 50)),
        11 => {
            s.push(transfer(1, 0, 1).fault(Fault::WrongChain));
            s.push(transfer(1, 0, 0)); // zero amount
            s.push(transfer(2, 2, 1)); // self transfer
        }
        12 => {
            s.push(transfer(0, 1, 1)); // two from one sender in one block
            s.push(transfer(0, 1, 2));
        }
        13 => s.push(transfer(1, 2, 1).fee(0)), // fee under min_fee
        14 => s.push(transfer(1, 0, 1_000_000)), // insufficient funds
        15 => s.push(transfer(2, 0, 1).fault(Fault::NonceBehind)), // replayed nonce
        17 => s.push(burn(2, 1_000_000)), // burn more than the balance
        _ => {}
    }
    s
}

// ---------------------------------------------------------------------------------------------
// Local to BFT

/// Cut blocks as the local sequencer does: propose on the head, then finalize. Signature
/// verdicts are the real ones (the sequencer gets them from mempool admission; a block with a
/// bad signature can only come from elsewhere, and is rejected in the block the same way).
fn run_local(genesis: &Genesis, proposer: &SecretKey, blocks: &[Vec<Spec>]) -> (Chain, tempfile::TempDir, Vec<Step>) {
    let (chain, dir) = fresh_chain(genesis, Some(copy(proposer)));
    let mut steps = Vec::new();
    for (i, specs) in blocks.iter().enumerate() {
        let txs = sign_block(specs, chain.ledger());
        let verdicts: Vec<_> = txs.iter().map(Transaction::verdict).collect();
        let proposal = chain.propose(txs, &verdicts, T0 + 1_000 * (i as u64 + 1)).unwrap();
        chain.finalize(proposal).unwrap();
        steps.push(step(chain.ledger()));
    }
    (chain, dir, steps)
}

fn copy(k: &SecretKey) -> SecretKey {
    SecretKey::from_seeds(k.scheme(), k.seeds()).unwrap()
}

/// How a schedule went.
#[derive(Debug, Default)]
struct Schedule {
    /// Most blocks verified and not yet final at once.
    max_pending: usize,
    /// Blocks finalized from a verification on top of pending parents.
    finalized_on_pending: usize,
    /// Blocks finalized from a verification on the head.
    finalized_on_head: usize,
    /// Blocks finalized without a prior verify (catch-up: re-executed on the head).
    caught_up: usize,
}

/// Push `blocks` through a fresh replica: for each action, `true` verifies the next block not
/// yet verified (finalizes if all are), `false` finalizes the next block (re-executing it if it
/// was not verified); the blocks left when the actions run out are finalized in order.
fn run_replica(genesis: &Genesis, blocks: &[Block], actions: &[bool]) -> (Replica, tempfile::TempDir, Vec<Step>, Schedule) {
    let (replica, dir) = fresh_replica(genesis, None);
    let mut steps = Vec::new();
    let mut sched = Schedule::default();
    // Per block verified (or caught up): whether it had pending parents when it was verified.
    let mut on_pending = Vec::new();
    let (mut verified, mut finalized) = (0usize, 0usize);
    let mut actions = actions.iter().copied();
    while finalized < blocks.len() {
        let verify = actions.next().unwrap_or(false) && verified < blocks.len();
        if verify {
            let pending = verified - finalized;
            let verdict = replica.verify(blocks[verified].clone()).unwrap();
            assert_eq!(verdict, Some(Ok(())), "block {} verified with {pending} pending parents", verified + 1);
            on_pending.push(pending > 0);
            verified += 1;
            sched.max_pending = sched.max_pending.max(verified - finalized);
            assert_eq!(replica.pending_len(), verified - finalized);
            continue;
        }
        let block = &blocks[finalized];
        if finalized == verified {
            sched.caught_up += 1;
            verified += 1;
            on_pending.push(false);
        } else if on_pending[finalized] {
            sched.finalized_on_pending += 1;
        } else {
            sched.finalized_on_head += 1;
        }
        let result = replica.finalize(block).unwrap();
        finalized += 1;
        assert_eq!(result, Finalized::Committed(finalized as u64));
        assert_eq!(replica.pending_len(), verified - finalized, "pending blocks still extend the head");
        steps.push(step(replica.node().chain().ledger()));
    }
    (replica, dir, steps, sched)
}

fn blocks_of(ledger: &Ledger) -> Vec<Block> {
    (1..=ledger.head().unwrap().height).map(|h| ledger.block(h).unwrap().unwrap()).collect()
}

fn parse_actions(s: &str) -> Vec<bool> {
    s.chars().filter(|c| !c.is_whitespace()).map(|c| c == 'v').collect()
}

#[test]
fn local_blocks_replayed_through_the_bft_path_give_the_same_roots() {
    let validator = key("validator", 0);
    let genesis = genesis(&[copy(&validator)]);
    let script: Vec<Vec<Spec>> = (1..=20).map(script).collect();
    let (local, _local_dir, local_steps) = run_local(&genesis, &validator, &script);

    // The mix really has applied transactions and every kind of rejection.
    let seen = outcomes(&local_steps);
    for expected in [
        "Applied",
        "BadNonce",
        "InsufficientFunds",
        "BadSignature",
        "CannotPayFee",
        "UnknownAccount",
        "WrongChainId",
        "ZeroAmount",
        "SelfTransfer",
        "FeeTooLow",
    ] {
        assert!(seen.contains(expected), "no {expected} receipt in the local blocks: {seen:?}");
    }
    let roots: BTreeSet<_> = local_steps.iter().map(|s| s.header_root).collect();
    assert!(roots.len() >= 18, "the state changes from block to block");

    // Six verified before any is final, then a pipeline that keeps several pending, two
    // catch-ups (finalized without a verify), and blocks verified on the head.
    let actions = parse_actions("vvvvvv ff vvv f vvvv ffffffffff ff v f vvvv ffff");
    let blocks = blocks_of(local.ledger());
    let (replica, _replica_dir, replica_steps, sched) = run_replica(&genesis, &blocks, &actions);
    assert!(sched.max_pending >= 6, "{sched:?}");
    assert!(sched.finalized_on_pending >= 10, "{sched:?}");
    assert!(sched.finalized_on_head >= 2, "{sched:?}");
    assert!(sched.caught_up >= 2, "{sched:?}");

    assert_same_history("local vs replica", &local_steps, &replica_steps, local.ledger(), replica.node().chain().ledger());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]
    #[test]
    fn random_local_blocks_replayed_through_the_bft_path_give_the_same_roots(
        blocks in prop::collection::vec(
            prop::collection::vec(
                (0..ACTORS, 0..ACTORS, 0u8..8, 0u128..1_200, 0u128..3, 0u8..10),
                0..8,
            ),
            1..10,
        ),
        actions in prop::collection::vec(any::<bool>(), 0..30),
    ) {
        let specs: Vec<Vec<Spec>> = blocks
            .iter()
            .map(|b| {
                b.iter()
                    .map(|&(from, to, kind, amount, fee, fault)| Spec {
                        from,
                        to,
                        burn: kind == 0,
                        amount,
                        fee,
                        fault: match fault {
                            0 => Fault::BadSignature,
                            1 => Fault::WrongChain,
                            2 => Fault::NonceAhead,
                            3 => Fault::NonceBehind,
                            _ => Fault::None,
                        },
                    })
                    .collect()
            })
            .collect();
        let validator = key("validator", 0);
        let genesis = genesis(&[copy(&validator)]);
        let (local, _ld, local_steps) = run_local(&genesis, &validator, &specs);
        let (replica, _rd, replica_steps, _) = run_replica(&genesis, &blocks_of(local.ledger()), &actions);
        assert_same_history("local vs replica", &local_steps, &replica_steps, local.ledger(), replica.node().chain().ledger());
    }
}

// ---------------------------------------------------------------------------------------------
// BFT to local

/// The transactions clients send before round `h` of the BFT-to-local test (all admissible;
/// some are rejected in their block, with the fee charged).
fn bft_round(h: u64) -> Vec<Spec> {
    let mut s = Vec::new();
    if h.is_multiple_of(6) {
        return s; // a quiet round: an empty block
    }
    let (a, b) = (RICH[(h % 3) as usize], RICH[((h + 2) % 3) as usize]);
    s.push(transfer(a, b, 5 + u128::from(h)));
    if h.is_multiple_of(2) {
        s.push(burn(2, u128::from(h)));
    }
    if h % 4 == 1 {
        s.push(transfer(1, 0, 1_000_000)); // insufficient funds
    }
    match h {
        3 => s.push(transfer(0, NEWCOMER, 100)),
        5 => s.push(transfer(0, 1, 0)), // zero amount
        9 => s.push(transfer(1, 1, 3)), // self transfer
        // Funded at round 3 and final by now: it may submit (admission needs the account).
        10 => s.push(transfer(NEWCOMER, 2, 30)),
        11 => s.push(burn(0, 1_000_000)), // burn more than the balance
        _ => {}
    }
    s
}

#[test]
fn bft_blocks_applied_through_the_local_path_give_the_same_roots() {
    const ROUNDS: u64 = 16;
    // How many blocks stay not final after round h's block is verified.
    const LAG: [u64; 8] = [0, 1, 2, 3, 4, 2, 1, 0];
    let vkeys = [key("validator", 0), key("validator", 1)];
    let genesis = genesis(&vkeys);
    let replicas: Vec<(Replica, tempfile::TempDir)> =
        vkeys.iter().map(|k| fresh_replica(&genesis, Some(copy(k)))).collect();
    let replicas: Vec<&Replica> = replicas.iter().map(|(r, _)| r).collect();
    let mut steps: Vec<Vec<Step>> = vec![Vec::new(), Vec::new()];

    let mut nonces = [0u64; ACTORS];
    let mut submitted = Vec::new();
    let mut blocks: Vec<Block> = Vec::new();
    let mut finalized = 0usize;
    let mut max_pending_at_propose = 0;
    let finalize_up_to = |to: usize, finalized: &mut usize, blocks: &[Block], steps: &mut Vec<Vec<Step>>| {
        while *finalized < to {
            for (r, s) in replicas.iter().zip(steps.iter_mut()) {
                assert_eq!(r.finalize(&blocks[*finalized]).unwrap(), Finalized::Committed(*finalized as u64 + 1));
                s.push(step(r.node().chain().ledger()));
            }
            *finalized += 1;
        }
    };
    for h in 1..=ROUNDS {
        // Clients submit to validator 0; it gossips to validator 1.
        for spec in bft_round(h) {
            let tx = sign(&spec, nonces[spec.from]);
            nonces[spec.from] += 1;
            let id = replicas[0].node().submit(tx.clone()).unwrap();
            replicas[1].node().submit_from_peer(tx).unwrap();
            submitted.push(id);
        }
        let (leader, follower) = (replicas[(h % 2) as usize], replicas[((h + 1) % 2) as usize]);
        let parent = blocks.last().map_or_else(|| leader.head().unwrap().0, Block::id);
        max_pending_at_propose = max_pending_at_propose.max(leader.pending_len());
        let block = leader
            .propose(parent, T0 + 1_000 * h, MAX_BLOCK_TX_BYTES)
            .unwrap()
            .expect("the leader knows the parent");
        assert_eq!(block.header.height, h);
        assert_eq!(follower.verify(block.clone()).unwrap(), Some(Ok(())), "block {h} verified by the other validator");
        blocks.push(block);
        let lag = LAG[(h % 8) as usize];
        finalize_up_to(h.saturating_sub(lag) as usize, &mut finalized, &blocks, &mut steps);
    }
    finalize_up_to(blocks.len(), &mut finalized, &blocks, &mut steps);
    assert!(max_pending_at_propose >= 4, "blocks were proposed on parents that were not final: {max_pending_at_propose}");

    // Both validators committed everything clients sent, and their pools drained.
    for r in &replicas {
        assert_eq!(r.node().mempool_len(), 0);
        assert_eq!(r.pending_len(), 0);
        for id in &submitted {
            assert!(matches!(r.node().tx_status(id).unwrap(), TxStatus::Committed { .. }), "{id:?} committed");
        }
    }
    let seen = outcomes(&steps[0]);
    for expected in ["Applied", "InsufficientFunds", "ZeroAmount", "SelfTransfer"] {
        assert!(seen.contains(expected), "no {expected} receipt in the BFT blocks: {seen:?}");
    }
    assert!(blocks.iter().any(|b| b.txs.is_empty()) && blocks.iter().any(|b| b.txs.len() >= 3));
    let proposers: BTreeSet<_> = blocks.iter().map(|b| b.header.proposer.clone()).collect();
    assert_eq!(proposers.len(), 2, "both validators proposed");

    // The local path: verify on the head and finalize, block after block.
    let (local, _local_dir) = fresh_chain(&genesis, None);
    let mut local_steps = Vec::new();
    for block in &blocks {
        let proposal = local.verify(block.clone()).unwrap().expect("the local path accepts the BFT block");
        local.finalize(proposal).unwrap();
        local_steps.push(step(local.ledger()));
    }
    let l0 = replicas[0].node().chain().ledger();
    let l1 = replicas[1].node().chain().ledger();
    assert_same_history("validator 0 vs validator 1", &steps[0], &steps[1], l0, l1);
    assert_same_history("validator 0 vs local", &steps[0], &local_steps, l0, local.ledger());
    for ledger in [l0, l1] {
        let replayed = replay_from_genesis(ledger, &genesis).unwrap().expect("the audit accepts every block");
        assert_eq!(replayed, local.ledger().head().unwrap().state_root);
    }
}

/// Regression: a BFT proposal selects transactions without taking them from the pool, and a
/// transaction rejected before its fee is charged (cannot pay the fee, nonce ahead) leaves its
/// nonce unused. Such transactions once stayed in the pool and rode, rejected for free, in
/// every later block; now a block that carried them removes them, as the local sequencer does.
#[test]
fn transactions_rejected_without_charge_leave_the_bft_pool_once_a_block_carried_them() {
    let vkey = key("validator", 0);
    let genesis = genesis(std::slice::from_ref(&vkey));
    let (replica, _dir) = fresh_replica(&genesis, Some(copy(&vkey)));
    let node = replica.node();
    // POOR holds 5: nonce 0 (transfer 5, fee 1) cannot move 5 after its fee; nonce 1 cannot pay
    // its fee; nonces 2.. are then ahead of the unused nonce 1.
    for nonce in 0..5 {
        node.submit(sign(&transfer(POOR, 0, 5), nonce)).unwrap();
    }
    let mut carried = Vec::new();
    for h in 1..=3u64 {
        let parent = replica.head().unwrap().0;
        let block = replica.propose(parent, T0 + 1_000 * h, MAX_BLOCK_TX_BYTES).unwrap().unwrap();
        assert_eq!(replica.finalize(&block).unwrap(), Finalized::Committed(h));
        carried.push(block.txs.len());
    }
    assert_eq!(carried, [5, 0, 0], "the first block carries all five, later blocks none");
    assert_eq!(node.mempool_len(), 0);
}
