//! Property tests: random mixes of valid and invalid transactions (transfers, burns, registry
//! operations, validator telemetry batches of device-signed reports and telemetry parameter
//! changes) over block times that cross telemetry epochs replay to identical state (hence
//! identical state roots) and receipts, and conserve supply (balances + bonds) after every block.
//!
//! Replaying the same transactions in other block splits is no property of this machine: the
//! block's height and time are inputs of its rules (bond release, report age and epoch checks,
//! the market's end-of-block work), so a different split is a different chain.

use depin_state::{apply_txs, check_conservation, genesis_changes, BlockContext, MemState};
use depin_types::asset::{
    AssetClass, AssetDescriptor, AssetId, AssetMetadata, Capacity, Mobility, OwnerStatus, Registration, RegistryParams,
};
use depin_types::genesis::GenesisValidator;
use depin_types::state_key::{account_key, telemetry_epoch_key, telemetry_head_key, Account, TELEMETRY_PARAMS_KEY};
use depin_types::telemetry::{
    Fix, Metrics, Report, ReportCode, SignedReport, TelemetryEpoch, TelemetryHead, TelemetryParams, REPORT_VERSION,
};
use depin_types::{
    Amount, Genesis, GenesisAccount, Params, Receipt, RejectReason, Scheme, SecretKey, Transaction, TxBody, TxContent,
    TxOutcome, Verdict,
};
use proptest::prelude::*;

const CHAIN: &str = "depin-prop";
const N_KEYS: u8 = 6;
/// `keys()[VALIDATOR]` is the test genesis's only validator: the one who may submit telemetry
/// and set its parameters.
const VALIDATOR: u8 = 0;
/// Devices `0..PRE_REGISTERED` are registered (as sensors) in the first block, so that
/// telemetry meets assets from the start; the others only if a generated registration is.
const PRE_REGISTERED: u128 = 3;
/// Location resolution of the test registry.
const RESOLUTION: u8 = 12;
/// Genesis time of the test chain; block times follow it.
const GENESIS_MS: u64 = 1_000_000;

fn keys() -> Vec<SecretKey> {
    (0..N_KEYS).map(|i| SecretKey::from_seeds(Scheme::Ed25519, &[i + 1; 32]).unwrap()).collect()
}

/// The genesis telemetry parameters: 10 s epochs of 10 buckets, so that block gaps of up to
/// 8 s cross epochs every few blocks.
fn telemetry_params() -> TelemetryParams {
    TelemetryParams {
        epoch_ms: 10_000,
        buckets_per_epoch: 10,
        max_report_age_ms: 20_000,
        max_report_lead_ms: 5_000,
        skew_warn_ms: 2_000,
        offline_after_buckets: 2,
        ..TelemetryParams::default()
    }
}

/// What a `SetTelemetryParams` proposes: the genesis parameters, longer epochs, or parameters
/// that break rule M-9 (buckets that do not divide the epoch).
fn telemetry_params_variant(i: u128) -> TelemetryParams {
    match i % 3 {
        0 => telemetry_params(),
        1 => TelemetryParams { epoch_ms: 20_000, buckets_per_epoch: 5, max_report_age_ms: 30_000, ..telemetry_params() },
        _ => TelemetryParams { buckets_per_epoch: 7, ..telemetry_params() },
    }
}

/// One report of a telemetry batch: the device, the fault to inject, and how long before the
/// block time the device stamped it.
#[derive(Clone, Debug)]
struct ReportSpec {
    device: u8,
    fault: u8, // 6: stale sequence; 7: wrong epoch; 8: too old; 9: wrong class; 10: bad fix; 11: wrong key; else none
    offset_ms: u16,
}

/// A transaction description: who, what, and which fault (if any) to inject.
#[derive(Clone, Debug)]
struct TxSpec {
    from: u8,
    to: u8,
    amount: u128,
    fee: u128,
    nonce_skew: i8,
    fault: u8, // 0-7: none; 8: bad signature; 9: wrong chain; 10: burn; 11-15: registry; 16-18: telemetry; 19: params
    reports: Vec<ReportSpec>,
}

/// A block: the time since the previous one and its transactions.
#[derive(Clone, Debug)]
struct BlockSpec {
    gap_ms: u64,
    txs: Vec<TxSpec>,
}

/// A built block: its context and transactions.
type Block = (BlockContext, Vec<Transaction>);

/// Device `i`'s key (a few devices, so registrations collide and assets change hands).
fn device(i: u128) -> SecretKey {
    SecretKey::from_seeds(Scheme::Ed25519, &[(i % 5) as u8 + 100; 32]).unwrap()
}

fn asset(i: u128) -> AssetId {
    AssetId::of(&device(i).public_key())
}

fn cell(i: u128) -> depin_types::geo::Cell {
    let lat = 10.0 + (i % 7) as f64;
    depin_types::geo::LatLon::new(lat, 20.0).unwrap().to_cell(RESOLUTION).unwrap()
}

fn sensor_descriptor(i: u128) -> AssetDescriptor {
    AssetDescriptor {
        capacity: Capacity::parse(AssetClass::Sensor, "kind=noise,sample_period_ms=1000").unwrap(),
        location: cell(i),
        mobility: Mobility::Fixed,
        energy: None,
        metadata: AssetMetadata::default(),
    }
}

/// Registry bodies: register (bond 10, or too small), transfer, decommission, activate, move.
fn registry_body(s: &TxSpec, keys: &[SecretKey]) -> TxBody {
    let owner = keys[s.from as usize].public_key().address();
    match s.fault {
        11 => {
            let bond = Amount(if s.amount.is_multiple_of(9) { 1 } else { 10 });
            let d = sensor_descriptor(s.amount);
            TxBody::RegisterAssets { assets: vec![Registration::sign(CHAIN, &owner, &device(s.amount), d, bond, None)] }
        }
        12 => TxBody::TransferAsset { asset: asset(s.amount), to: keys[s.to as usize].public_key().address() },
        13 => TxBody::DecommissionAsset { asset: asset(s.amount) },
        14 => TxBody::SetAssetStatus { asset: asset(s.amount), status: OwnerStatus::Active },
        _ => TxBody::AssertLocation { asset: asset(s.amount), location: cell(s.amount + 1), mobility: Mobility::Mobile },
    }
}

fn typed<T: borsh::BorshDeserialize>(st: &MemState, key: &[u8]) -> Option<T> {
    st.map.get(key).map(|v| borsh::from_slice(v).expect("invariant: state values decode"))
}

/// A telemetry batch for the block at `ctx`, with the faults of `specs`. Valid reports continue
/// each device's sequence and time from the ledger's head (and from earlier reports of the
/// same batch), stamped in the epoch the current parameters give.
fn telemetry_body(specs: &[ReportSpec], st: &MemState, ctx: &BlockContext) -> TxBody {
    let params: TelemetryParams = typed(st, TELEMETRY_PARAMS_KEY).expect("invariant: genesis sets them");
    // Per device: (last seq, last timestamp) as this batch goes.
    let mut last: Vec<Option<(u64, u64)>> = (0..5u128)
        .map(|d| typed::<TelemetryHead>(st, &telemetry_head_key(&asset(d))).map(|h| (h.seq, h.timestamp_ms)))
        .collect();
    let reports = specs
        .iter()
        .map(|r| {
            let d = u128::from(r.device % 5);
            let prev = last[d as usize];
            let mut ts = ctx.timestamp_ms.saturating_sub(u64::from(r.offset_ms));
            ts = ts.max(prev.map_or(0, |(_, t)| t)); // time runs forwards between reports
            let mut seq = prev.map_or(1, |(s, _)| s + 1);
            let mut metrics = Metrics::Sensor { readings: u32::from(r.offset_ms % 3) };
            let mut fix = None;
            match r.fault {
                6 => seq = prev.map_or(0, |(s, _)| s),
                8 => ts = ctx.timestamp_ms.saturating_sub(params.max_report_age_ms + 1 + u64::from(r.offset_ms)),
                9 => {
                    metrics = Metrics::Compute {
                        cpu_load_permille: 10,
                        memory_used_mib: 1,
                        gpu_load_permille: 0,
                        disk_used_mib: 1,
                        net_rx_bytes: 0,
                        net_tx_bytes: 0,
                        jobs_done: 0,
                    }
                }
                10 => fix = Some(Fix { cell: cell(d).parent(RESOLUTION - 1).unwrap(), accuracy_m: 5 }),
                _ if r.offset_ms % 4 == 0 => fix = Some(Fix { cell: cell(d), accuracy_m: 5 }),
                _ => {}
            }
            let epoch = params.epoch_of(ts) + u64::from(r.fault == 7);
            if !(6..=11).contains(&r.fault) {
                last[d as usize] = Some((seq, ts));
            }
            let report = Report {
                version: REPORT_VERSION,
                asset: asset(d),
                epoch,
                seq,
                timestamp_ms: ts,
                uptime_s: u32::from(r.offset_ms / 1_000),
                metrics,
                fix,
            };
            // Fault 11: signed by another device than the asset's (the batch fails rule M-2).
            let signer = if r.fault == 11 { device(d + 1) } else { device(d) };
            report.sign(CHAIN, &signer)
        })
        .collect::<Vec<SignedReport>>();
    TxBody::SubmitTelemetry { reports }
}

/// The transaction `s` describes, at the state `st` the block has reached: its nonce is the
/// signer's next one (skewed by `nonce_skew`).
fn build_tx(s: &TxSpec, st: &MemState, ctx: &BlockContext, keys: &[SecretKey]) -> Transaction {
    let mut s = s.clone();
    if (16..=19).contains(&s.fault) {
        // Mostly from the validator with the right nonce, sometimes from an account that may
        // not submit them or with a wrong nonce.
        if !s.amount.is_multiple_of(5) {
            s.from = VALIDATOR;
        }
        if !s.amount.is_multiple_of(7) {
            s.nonce_skew = 0;
        }
        s.fee = s.fee.max(1);
    }
    let k = &keys[s.from as usize];
    let account: Account = typed(st, &account_key(&k.public_key().address())).unwrap_or_default();
    let nonce = (account.nonce as i64 + s.nonce_skew as i64).max(0) as u64;
    let body = match s.fault {
        19 => TxBody::SetTelemetryParams { params: telemetry_params_variant(s.amount) },
        16..=18 => telemetry_body(&s.reports, st, ctx),
        11..=15 => registry_body(&s, keys),
        10 => TxBody::Burn { amount: Amount(s.amount) },
        _ => TxBody::Transfer { to: keys[s.to as usize].public_key().address(), amount: Amount(s.amount) },
    };
    let chain_id = if s.fault == 9 { "other" } else { CHAIN };
    let content = TxContent { chain_id: chain_id.into(), signer: k.public_key(), nonce, fee: Amount(s.fee), body };
    let mut tx = content.sign(k);
    if s.fault == 8 {
        tx.signature = keys[(s.from as usize + 1) % keys.len()].sign(b"forged");
    }
    tx
}

fn report_spec() -> impl Strategy<Value = ReportSpec> {
    (0u8..5, 0u8..24, 0u16..3_000).prop_map(|(device, fault, offset_ms)| ReportSpec { device, fault, offset_ms })
}

fn spec() -> impl Strategy<Value = TxSpec> {
    (0..N_KEYS, 0..N_KEYS, 0u128..600, 0u128..4, -1i8..=1, 0u8..20, prop::collection::vec(report_spec(), 1..6))
        .prop_map(|(from, to, amount, fee, nonce_skew, fault, reports)| TxSpec {
            from,
            to,
            amount,
            fee,
            nonce_skew,
            fault,
            reports,
        })
}

fn block_spec() -> impl Strategy<Value = BlockSpec> {
    (1u64..8_000, prop::collection::vec(spec(), 0..12)).prop_map(|(gap_ms, txs)| BlockSpec { gap_ms, txs })
}

fn genesis_state() -> MemState {
    let g = Genesis {
        telemetry: telemetry_params(),
        market: Default::default(),
        chain_id: CHAIN.into(),
        genesis_time_ms: GENESIS_MS,
        params: Params { min_fee: Amount(1), max_block_txs: 1000 },
        validators: vec![GenesisValidator {
            name: "v".into(),
            public_key: keys()[VALIDATOR as usize].public_key(),
            p2p: None,
        }],
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
    let params = RegistryParams {
        bonds: [Amount(10); 6],
        location_resolution: RESOLUTION,
        location_fee: Amount(3),
        unbonding_blocks: 2,
    };
    st.map.insert(depin_types::state_key::REGISTRY_PARAMS_KEY.to_vec(), borsh::to_vec(&params).unwrap());
    st
}

/// The first block: key 1 registers devices `0..PRE_REGISTERED` as sensors.
fn setup_block() -> Block {
    let owner = &keys()[1];
    let assets = (0..PRE_REGISTERED)
        .map(|i| Registration::sign(CHAIN, &owner.public_key().address(), &device(i), sensor_descriptor(i), Amount(10), None))
        .collect();
    let content = TxContent {
        chain_id: CHAIN.into(),
        signer: owner.public_key(),
        nonce: 0,
        fee: Amount(1),
        body: TxBody::RegisterAssets { assets },
    };
    (BlockContext { height: 1, timestamp_ms: GENESIS_MS + 1 }, vec![content.sign(owner)])
}

/// Execute a block on `st` (with the transactions' verdicts); its receipts.
fn execute(st: &mut MemState, ctx: &BlockContext, txs: &[Transaction], verdicts: &[Verdict]) -> Vec<Receipt> {
    let out = apply_txs(st, ctx, txs, verdicts).unwrap();
    assert_eq!(out.receipts.len(), txs.len());
    st.apply(&out.changes);
    check_conservation(st).unwrap();
    out.receipts
}

/// Build the chain `blocks` describes: each transaction is built against the state the block
/// reaches just before it (the block's earlier transactions executed), so nonces, sequence
/// numbers and epochs are right unless a fault says otherwise. The blocks, the final state and
/// the receipts.
fn build(blocks: &[BlockSpec]) -> (Vec<Block>, MemState, Vec<Vec<Receipt>>) {
    let keys = keys();
    let mut st = genesis_state();
    let (setup_ctx, setup_txs) = setup_block();
    let setup_verdicts: Vec<Verdict> = setup_txs.iter().map(Transaction::verdict).collect();
    let mut receipts = vec![execute(&mut st, &setup_ctx, &setup_txs, &setup_verdicts)];
    let mut chain = vec![(setup_ctx, setup_txs)];
    let mut time_ms = setup_ctx.timestamp_ms;
    for b in blocks {
        time_ms += b.gap_ms;
        let ctx = BlockContext { height: chain.len() as u64 + 1, timestamp_ms: time_ms };
        let mut txs = Vec::new();
        let mut verdicts = Vec::new();
        for s in &b.txs {
            let mut reached = st.clone();
            execute(&mut reached, &ctx, &txs, &verdicts);
            let tx = build_tx(s, &reached, &ctx, &keys);
            verdicts.push(tx.verdict());
            txs.push(tx);
        }
        receipts.push(execute(&mut st, &ctx, &txs, &verdicts));
        chain.push((ctx, txs));
    }
    (chain, st, receipts)
}

/// Replay `chain` from genesis.
fn replay(chain: &[Block]) -> (MemState, Vec<Vec<Receipt>>) {
    let mut st = genesis_state();
    let receipts = chain
        .iter()
        .map(|(ctx, txs)| {
            let verdicts: Vec<Verdict> = txs.iter().map(Transaction::verdict).collect();
            execute(&mut st, ctx, txs, &verdicts)
        })
        .collect();
    (st, receipts)
}

fn rejected(r: &Receipt) -> Option<&RejectReason> {
    match &r.outcome {
        TxOutcome::Rejected { reason } => Some(reason),
        TxOutcome::Applied => None,
    }
}

/// Every telemetry aggregate of `st`: each one stored under its epoch key, and each head's
/// (under the head's key).
fn aggregates(st: &MemState) -> Vec<(Vec<u8>, TelemetryEpoch)> {
    let stored = st.map.iter().filter(|(k, _)| k.starts_with(b"t/e/")).map(|(k, v)| (k.clone(), borsh::from_slice(v).unwrap()));
    let open = heads(st).into_iter().map(|(k, h)| (k, h.open));
    stored.chain(open).collect()
}

/// Every telemetry head of `st`, by key.
fn heads(st: &MemState) -> Vec<(Vec<u8>, TelemetryHead)> {
    st.map.iter().filter(|(k, _)| k.starts_with(b"t/h/")).map(|(k, v)| (k.clone(), borsh::from_slice(v).unwrap())).collect()
}

/// No head's epoch is also stored under its epoch key (its aggregate lives in the head).
fn assert_head_epochs_not_stored(st: &MemState) {
    for (k, h) in heads(st) {
        let id = AssetId(depin_types::Hash32(k[4..].try_into().unwrap()));
        assert!(!st.map.contains_key(&telemetry_epoch_key(&id, h.epoch)), "epoch {} of {id} stored twice", h.epoch);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn replay_from_genesis_is_identical_and_conserves_supply(blocks in prop::collection::vec(block_spec(), 1..10)) {
        let (chain, built, built_receipts) = build(&blocks);
        let (a, ra) = replay(&chain);
        let (b, rb) = replay(&chain);
        prop_assert!(a == b, "two replays reach different states");
        prop_assert_eq!(&ra, &rb);
        prop_assert!(a == built, "the replay and the build reach different states");
        assert_head_epochs_not_stored(&built);
        prop_assert_eq!(ra, built_receipts);
    }
}

fn report(device: u8, fault: u8, offset_ms: u16) -> ReportSpec {
    ReportSpec { device, fault, offset_ms }
}

fn telemetry_tx(from: u8, fault: u8, reports: Vec<ReportSpec>) -> TxSpec {
    TxSpec { from, to: 0, amount: 1, fee: 1, nonce_skew: 0, fault, reports }
}

/// The generator reaches what the property is about: a fixed chain with accepted reports in
/// several epochs, each refusal the ledger counts, batches refused whole, and parameter
/// changes, replays identically.
#[test]
fn telemetry_refusals_and_parameter_changes_replay_identically() {
    let batch = |reports| telemetry_tx(VALIDATOR, 16, reports);
    let params = |amount| TxSpec { amount, ..telemetry_tx(VALIDATOR, 19, vec![]) };
    let blocks = vec![
        BlockSpec { gap_ms: 1_000, txs: vec![batch(vec![report(0, 0, 500), report(1, 0, 400), report(0, 0, 100)])] },
        BlockSpec {
            gap_ms: 4_000,
            txs: vec![
                batch(vec![report(0, 6, 10), report(1, 7, 10), report(2, 8, 10), report(2, 9, 10), report(2, 10, 10)]),
                batch(vec![report(0, 0, 10), report(1, 11, 10)]),
                // Amount 0 keeps the sender (an account that is no validator).
                TxSpec { from: 2, amount: 0, ..telemetry_tx(2, 17, vec![report(0, 0, 10)]) },
            ],
        },
        BlockSpec { gap_ms: 7_000, txs: vec![batch(vec![report(0, 0, 200), report(2, 0, 200)]), params(1)] },
        BlockSpec { gap_ms: 7_000, txs: vec![batch(vec![report(0, 0, 300), report(1, 0, 300)]), params(2)] },
        BlockSpec { gap_ms: 21_000, txs: vec![batch(vec![report(0, 0, 0), report(0, 6, 0)])] },
    ];
    let (chain, built, receipts) = build(&blocks);
    let (replayed, replayed_receipts) = replay(&chain);
    assert!(replayed == built, "the replay reaches another state");
    assert_eq!(replayed_receipts, receipts);

    let all: Vec<&Receipt> = receipts.iter().flatten().collect();
    assert!(all.iter().all(|r| rejected(r).is_none() || matches!(rejected(r), Some(
        RejectReason::BadReportSignature { index: 1 } | RejectReason::NotPrivileged | RejectReason::InvalidParams { .. }
    ))), "{all:#?}");
    assert!(all.iter().any(|r| matches!(rejected(r), Some(RejectReason::BadReportSignature { index: 1 }))), "{all:#?}");
    assert!(all.iter().any(|r| matches!(rejected(r), Some(RejectReason::NotPrivileged))), "{all:#?}");
    assert!(all.iter().any(|r| matches!(rejected(r), Some(RejectReason::InvalidParams { .. }))), "{all:#?}");
    // The valid change (20 s epochs) holds; the invalid one after it did not apply.
    let now: TelemetryParams = typed(&built, TELEMETRY_PARAMS_KEY).unwrap();
    assert_eq!(now, telemetry_params_variant(1));

    assert_head_epochs_not_stored(&built);
    let aggs = aggregates(&built);
    let accepted_epochs = aggs.iter().filter(|(_, a)| a.reports > 0).count();
    assert!(accepted_epochs >= 4, "accepted reports in several (asset, epoch) aggregates: {aggs:#?}");
    let refused: Vec<ReportCode> = aggs
        .iter()
        .flat_map(|(_, a)| a.refused.iter().map(|(tag, _)| ReportCode::from_tag(*tag).unwrap()))
        .collect();
    for code in [
        ReportCode::StaleSequence,
        ReportCode::WrongEpoch,
        ReportCode::ClockSkew,
        ReportCode::ClassMismatch,
        ReportCode::BadFix,
    ] {
        assert!(refused.contains(&code), "{code:?} counted: {refused:?}");
    }
}

/// The head keeps its epoch's aggregate; refusals in another epoch wait under that epoch's key
/// and join the head when a report of that epoch is accepted; the old epoch's aggregate moves
/// under its key. Reads through `read_telemetry_epoch` see one aggregate per epoch either way.
#[test]
fn the_head_carries_its_epochs_aggregate_and_hands_it_on() {
    let batch = |reports| telemetry_tx(VALIDATOR, 16, reports);
    let blocks = vec![
        // t = 1,001,000: a report of epoch 100.
        BlockSpec { gap_ms: 1_000, txs: vec![batch(vec![report(0, 0, 500)])] },
        // t = 1,010,000 (epoch 101): a report too old, refused while the head is in epoch 100.
        BlockSpec { gap_ms: 9_000, txs: vec![batch(vec![report(0, 8, 0)])] },
        // t = 1,011,000: a report of epoch 101 moves the head, then a stale one is refused.
        BlockSpec { gap_ms: 1_000, txs: vec![batch(vec![report(0, 0, 0), report(0, 6, 0)])] },
    ];
    let (chain, built, receipts) = build(&blocks);
    assert!(receipts.iter().flatten().all(|r| rejected(r).is_none()), "{receipts:#?}");
    assert!(replay(&chain).0 == built, "the replay reaches another state");
    assert_head_epochs_not_stored(&built);

    let id = asset(0);
    let head = depin_state::read_telemetry_head(&built, &id).unwrap().expect("a report was accepted");
    assert_eq!(head.epoch, 101);
    let epoch = |e| depin_state::read_telemetry_epoch(&built, Some(&head), &id, e).unwrap();
    let e100 = epoch(100).expect("epoch 100 moved under its key");
    assert_eq!((e100.reports, e100.refused.clone()), (1, vec![]));
    assert_eq!(typed::<TelemetryEpoch>(&built, &telemetry_epoch_key(&id, 100)), Some(e100));
    let e101 = epoch(101).expect("epoch 101 is the head's");
    assert_eq!(e101.reports, 1);
    let mut refused: Vec<(u8, u32)> = vec![(ReportCode::ClockSkew as u8, 1), (ReportCode::StaleSequence as u8, 1)];
    refused.sort_unstable();
    assert_eq!(e101.refused, refused, "the refusal stored under epoch 101 joined the head");
    assert_eq!(epoch(102), None);
}
