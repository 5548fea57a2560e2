//! Property: random streams of valid and invalid transactions, applied twice from genesis into
//! two fresh ledgers (real redb, real Merkle tree), give identical state roots, block ids and
//! receipts at every height, and the block log replays to the same root.

use depin_ledger::Ledger;
use depin_node::{replay_from_genesis, Chain};
use depin_types::genesis::GenesisValidator;
use depin_types::{Amount, Genesis, GenesisAccount, Hash32, Params, Receipt, Scheme, SecretKey, Transaction, TxBody, TxContent};
use proptest::prelude::*;

const N_KEYS: u8 = 5;

fn key(i: u8) -> SecretKey {
    SecretKey::from_seeds(Scheme::Ed25519, &[i + 1; 32]).unwrap()
}

fn genesis() -> Genesis {
    Genesis {
        telemetry: Default::default(),
        market: Default::default(),
        chain_id: "depin-roots".into(),
        genesis_time_ms: 1_000,
        params: Params { min_fee: Amount(1), max_block_txs: 100 },
        validators: vec![GenesisValidator { name: "v".into(), public_key: key(100).public_key(), p2p: None }],
        accounts: (0..3).map(|i| GenesisAccount { address: key(i).public_key().address(), balance: Amount(500) }).collect(),
    }
}

/// (from, to, amount, fee, nonce offset, fault kind)
type Spec = (u8, u8, u128, u128, u8, u8);

fn build(spec: &[Spec], nonces: &mut [u64]) -> Vec<Transaction> {
    spec.iter()
        .map(|&(from, to, amount, fee, skew, fault)| {
            let k = key(from);
            let nonce = nonces[from as usize] + u64::from(skew == 2);
            if skew == 0 {
                nonces[from as usize] += 1;
            }
            let body = if fault == 3 {
                TxBody::Burn { amount: Amount(amount) }
            } else {
                TxBody::Transfer { to: key(to).public_key().address(), amount: Amount(amount) }
            };
            let chain_id = if fault == 2 { "other".to_string() } else { "depin-roots".to_string() };
            let mut tx = TxContent { chain_id, signer: k.public_key(), nonce, fee: Amount(fee), body }.sign(&k);
            if fault == 1 {
                tx.signature = key(to).sign(b"forged");
            }
            tx
        })
        .collect()
}

/// Per block: state root, block id, receipts.
type Trace = Vec<(Hash32, Hash32, Vec<Receipt>)>;

fn run(blocks: &[Vec<Transaction>]) -> (Trace, tempfile::TempDir, Chain) {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(&dir.path().join("ledger"), &genesis(), false).unwrap();
    let chain = Chain::new(ledger, genesis(), Some(key(100)));
    let mut out = Vec::new();
    for (i, txs) in blocks.iter().enumerate() {
        let sig_ok: Vec<depin_types::Verdict> = txs.iter().map(Transaction::verdict).collect();
        let p = chain.propose(txs.clone(), &sig_ok, 2_000 + i as u64).unwrap();
        let c = chain.finalize(p).unwrap();
        out.push((c.head.state_root, c.head.block_id, c.receipts));
    }
    (out, dir, chain)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn same_transactions_give_same_roots_and_receipts(
        blocks in prop::collection::vec(
            prop::collection::vec((0..N_KEYS, 0..N_KEYS, 0u128..300, 0u128..3, 0u8..3, 0u8..5), 0..10), 1..6)
    ) {
        let mut nonces = vec![0u64; N_KEYS as usize];
        let txs: Vec<Vec<Transaction>> = blocks.iter().map(|b| build(b, &mut nonces)).collect();
        let (a, _da, chain_a) = run(&txs);
        let (b, _db, _) = run(&txs);
        prop_assert_eq!(&a, &b);
        let replayed = replay_from_genesis(chain_a.ledger(), &genesis()).unwrap().unwrap();
        prop_assert_eq!(replayed, a.last().unwrap().0);
    }
}
