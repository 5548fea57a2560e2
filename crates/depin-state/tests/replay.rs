//! Property tests: random mixes of valid and invalid transactions (transfers, burns and registry
//! operations) replay to identical state and receipts, and conserve supply (balances + bonds)
//! after every block.

use depin_state::{apply_txs, check_conservation, genesis_changes, BlockContext, MemState};
use depin_types::genesis::GenesisValidator;
use depin_types::{
    Amount, Genesis, GenesisAccount, Params, Receipt, Scheme, SecretKey, Transaction, TxBody, TxContent,
};
use depin_types::asset::{
    AssetClass, AssetDescriptor, AssetId, AssetMetadata, Capacity, Mobility, OwnerStatus, Registration, RegistryParams,
};
use proptest::prelude::*;

const N_KEYS: u8 = 6;

fn keys() -> Vec<SecretKey> {
    (0..N_KEYS).map(|i| SecretKey::from_seeds(Scheme::Ed25519, &[i + 1; 32]).unwrap()).collect()
}

/// A transaction description: who, what, and which fault (if any) to inject.
#[derive(Clone, Debug)]
struct TxSpec {
    from: u8,
    to: u8,
    amount: u128,
    fee: u128,
    nonce_skew: i8,
    fault: u8, // 0-7: none; 8: bad signature; 9: wrong chain; 10: burn; 11-15: registry
}

/// Device `i`'s key (a few devices, so registrations collide and assets change hands).
fn device(i: u128) -> SecretKey {
    SecretKey::from_seeds(Scheme::Ed25519, &[(i % 5) as u8 + 100; 32]).unwrap()
}

fn asset(i: u128) -> AssetId {
    AssetId::of(&device(i).public_key())
}

fn cell(i: u128) -> depin_types::geo::Cell {
    let lat = 10.0 + (i % 7) as f64;
    depin_types::geo::LatLon::new(lat, 20.0).unwrap().to_cell(12).unwrap()
}

/// Registry bodies: register (bond 10, or too small), transfer, decommission, activate, move.
fn registry_body(s: &TxSpec, keys: &[SecretKey]) -> TxBody {
    let owner = keys[s.from as usize].public_key().address();
    match s.fault {
        11 => {
            let d = AssetDescriptor {
                capacity: Capacity::parse(AssetClass::Sensor, "kind=noise,sample_period_ms=1000").unwrap(),
                location: cell(s.amount),
                mobility: Mobility::Fixed,
                energy: None,
                metadata: AssetMetadata::default(),
            };
            let bond = Amount(if s.amount.is_multiple_of(9) { 1 } else { 10 });
            TxBody::RegisterAssets { assets: vec![Registration::sign("depin-prop", &owner, &device(s.amount), d, bond, None)] }
        }
        12 => TxBody::TransferAsset { asset: asset(s.amount), to: keys[s.to as usize].public_key().address() },
        13 => TxBody::DecommissionAsset { asset: asset(s.amount) },
        14 => TxBody::SetAssetStatus { asset: asset(s.amount), status: OwnerStatus::Active },
        _ => TxBody::AssertLocation { asset: asset(s.amount), location: cell(s.amount + 1), mobility: Mobility::Mobile },
    }
}

fn spec() -> impl Strategy<Value = TxSpec> {
    (0..N_KEYS, 0..N_KEYS, 0u128..600, 0u128..4, -1i8..=1, 0u8..16).prop_map(
        |(from, to, amount, fee, nonce_skew, fault)| TxSpec { from, to, amount, fee, nonce_skew, fault },
    )
}

fn build(blocks: &[Vec<TxSpec>]) -> Vec<Vec<Transaction>> {
    let keys = keys();
    let mut nonces = vec![0i64; N_KEYS as usize];
    blocks
        .iter()
        .map(|b| {
            b.iter()
                .map(|s| {
                    let k = &keys[s.from as usize];
                    let nonce = (nonces[s.from as usize] + s.nonce_skew as i64).max(0) as u64;
                    if s.nonce_skew == 0 {
                        nonces[s.from as usize] += 1; // optimistic: may be wrong if rejected early
                    }
                    let body = if s.fault >= 11 {
                        registry_body(s, &keys)
                    } else if s.fault == 10 {
                        TxBody::Burn { amount: Amount(s.amount) }
                    } else {
                        TxBody::Transfer { to: keys[s.to as usize].public_key().address(), amount: Amount(s.amount) }
                    };
                    let chain_id = if s.fault == 9 { "other" } else { "depin-prop" };
                    let content = TxContent {
                        chain_id: chain_id.into(),
                        signer: k.public_key(),
                        nonce,
                        fee: Amount(s.fee),
                        body,
                    };
                    let signer = if s.fault == 8 { &keys[(s.from as usize + 1) % keys.len()] } else { k };
                    let mut tx = content.clone().sign(k);
                    if s.fault == 8 {
                        tx.signature = signer.sign(b"forged");
                    }
                    tx
                })
                .collect()
        })
        .collect()
}

fn replay(blocks: &[Vec<Transaction>]) -> (MemState, Vec<Vec<Receipt>>) {
    let g = Genesis {
        telemetry: Default::default(),
        chain_id: "depin-prop".into(),
        genesis_time_ms: 0,
        params: Params { min_fee: Amount(1), max_block_txs: 1000 },
        validators: vec![GenesisValidator { name: "v".into(), public_key: keys()[0].public_key(), p2p: None }],
        accounts: keys()
            .iter()
            .take(4)
            .map(|k| GenesisAccount { address: k.public_key().address(), balance: Amount(2_000) })
            .collect(),
    };
    let mut st = MemState::default();
    st.apply(&genesis_changes(&g).unwrap());
    // Small bonds and a short unbonding period, so registrations fit the balances and bonds
    // come back within the test (set in the genesis state, as a validator's SetRegistryParams would).
    let params = RegistryParams { bonds: [Amount(10); 6], location_resolution: 12, location_fee: Amount(3), unbonding_blocks: 2 };
    st.map.insert(depin_types::state_key::REGISTRY_PARAMS_KEY.to_vec(), borsh::to_vec(&params).unwrap());
    let mut all = Vec::new();
    for (h, txs) in blocks.iter().enumerate() {
        let ok: Vec<depin_types::Verdict> = txs.iter().map(Transaction::verdict).collect();
        let ctx = BlockContext { height: h as u64 + 1, timestamp_ms: h as u64 + 1 };
        let out = apply_txs(&st, &ctx, txs, &ok).unwrap();
        assert_eq!(out.receipts.len(), txs.len());
        st.apply(&out.changes);
        check_conservation(&st).unwrap();
        all.push(out.receipts);
    }
    (st, all)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn replay_from_genesis_is_identical_and_conserves_supply(
        blocks in prop::collection::vec(prop::collection::vec(spec(), 0..12), 1..8)
    ) {
        let txs = build(&blocks);
        let (a, ra) = replay(&txs);
        let (b, rb) = replay(&txs);
        prop_assert_eq!(a, b);
        prop_assert_eq!(ra, rb);
    }
}
