//! Scenario and property tests of the market (rules K-1 to K-12) over the real state machine:
//! placement with reasons, per-epoch settlement from telemetry, failover with a credit, SLA
//! breach, provider notice, overdrawn escrow, cancellation — with conservation of tokens and
//! credits, capacity and anti-affinity checked after every block.

use std::collections::BTreeMap;

use depin_state::{apply_txs, check_conservation, genesis_changes, BlockContext, MemState};
use depin_types::asset::compute::{Arch, ComputeCapacity, Gpus};
use depin_types::asset::storage::{Media, Redundancy, StorageCapacity};
use depin_types::asset::{
    AssetDescriptor, AssetId, AssetMetadata, Capacity, EnergyProfile, EnergySource, Mobility, Registration,
    RegistryParams, ResourceUnit,
};
use depin_types::genesis::GenesisValidator;
use depin_types::geo::LatLon;
use depin_types::market::{
    capacity_units, lease_key, reserved_key, workload_key, AntiAffinity, CloseReason, EscrowNotice, Lease, LeaseState,
    MarketParams, MinTier, PriceSheet, UnitAmount, UnitPrice, Workload, WorkloadSpec, WorkloadState, OPEN_LEASES_KEY,
};
use depin_types::state_key::{account_key, Account};
use depin_types::telemetry::{Metrics, Report, TelemetryParams, REPORT_VERSION};
use depin_types::{
    Address, Amount, Genesis, GenesisAccount, Params, Receipt, Scheme, SecretKey, Transaction, TxBody, TxContent,
};
use proptest::prelude::*;

const CHAIN: &str = "depin-market";
const VALIDATOR: u8 = 200;
const CONSUMER: u8 = 9;
const FUNDS: u128 = 10_000_000_000;
/// 1-minute epochs of six 10-second buckets.
const EPOCH_MS: u64 = 60_000;
const BUCKET_MS: u64 = 10_000;
const T0: u64 = 1_000 * EPOCH_MS;

fn key(i: u8) -> SecretKey {
    SecretKey::from_seeds(Scheme::Ed25519, &[i; 32]).unwrap()
}

fn device(i: u8) -> SecretKey {
    SecretKey::from_seeds(Scheme::Ed25519, &[i.wrapping_add(100); 32].map(|b| b ^ 0x5a)).unwrap()
}

fn addr(i: u8) -> Address {
    key(i).public_key().address()
}

fn asset_id(dev: u8) -> AssetId {
    AssetId::of(&device(dev).public_key())
}

fn telemetry() -> TelemetryParams {
    TelemetryParams {
        epoch_ms: EPOCH_MS,
        buckets_per_epoch: 6,
        max_report_age_ms: EPOCH_MS,
        max_report_lead_ms: 5_000,
        skew_warn_ms: 5_000,
        offline_after_buckets: 2,
        ..TelemetryParams::default()
    }
}

struct Chain {
    st: MemState,
    height: u64,
    now: u64,
    nonces: BTreeMap<u8, u64>,
    seqs: BTreeMap<u8, u64>,
    /// Devices that report in every block.
    live: Vec<u8>,
    /// What a device reports, when not the default compute heartbeat.
    metrics: BTreeMap<u8, Metrics>,
}

impl Chain {
    fn new(market: MarketParams) -> Chain {
        let g = Genesis {
            chain_id: CHAIN.into(),
            genesis_time_ms: T0 - 1,
            params: Params { min_fee: Amount(0), max_block_txs: 1_000 },
            validators: vec![GenesisValidator { name: "v".into(), public_key: key(VALIDATOR).public_key(), p2p: None }],
            accounts: [1, 2, 3, 4, CONSUMER, VALIDATOR]
                .into_iter()
                .map(|i| GenesisAccount { address: addr(i), balance: Amount(FUNDS) })
                .collect(),
            telemetry: telemetry(),
            market,
        };
        let mut st = MemState::default();
        st.apply(&genesis_changes(&g).unwrap());
        Chain { st, height: 0, now: T0, nonces: BTreeMap::new(), seqs: BTreeMap::new(), live: Vec::new(), metrics: BTreeMap::new() }
    }

    /// One block at `self.now` carrying `txs` and a heartbeat from every live device; then the
    /// clock moves one bucket on.
    fn block(&mut self, txs: Vec<(u8, TxBody)>) -> Vec<Receipt> {
        let mut all: Vec<(u8, TxBody)> = txs;
        if !self.live.is_empty() {
            let tp = telemetry();
            let reports = self
                .live
                .clone()
                .into_iter()
                .map(|d| {
                    let seq = self.seqs.entry(d).or_default();
                    *seq += 1;
                    Report {
                        version: REPORT_VERSION,
                        asset: asset_id(d),
                        epoch: tp.epoch_of(self.now),
                        seq: *seq,
                        timestamp_ms: self.now,
                        uptime_s: 10,
                        metrics: self.metrics.get(&d).cloned().unwrap_or(Metrics::Compute {
                            cpu_load_permille: 100,
                            memory_used_mib: 100,
                            gpu_load_permille: 0,
                            disk_used_mib: 1,
                            net_rx_bytes: 1,
                            net_tx_bytes: 1,
                            jobs_done: 1,
                        }),
                        fix: None,
                    }
                    .sign(CHAIN, &device(d))
                })
                .collect();
            all.push((VALIDATOR, TxBody::SubmitTelemetry { reports }));
        }
        let txs: Vec<Transaction> = all
            .into_iter()
            .map(|(signer, body)| {
                let nonce = self.nonces.entry(signer).or_default();
                let tx = TxContent { chain_id: CHAIN.into(), signer: key(signer).public_key(), nonce: *nonce, fee: Amount(0), body }
                    .sign(&key(signer));
                *nonce += 1;
                tx
            })
            .collect();
        let verdicts: Vec<_> = txs.iter().map(Transaction::verdict).collect();
        self.height += 1;
        let ctx = BlockContext { height: self.height, timestamp_ms: self.now };
        let out = apply_txs(&self.st, &ctx, &txs, &verdicts).unwrap();
        // Determinism: the same block on the same state gives the same changes.
        assert_eq!(apply_txs(&self.st, &ctx, &txs, &verdicts).unwrap(), out);
        self.st.apply(&out.changes);
        check_conservation(&self.st).unwrap();
        self.check_market();
        self.now += BUCKET_MS;
        out.receipts
    }

    /// Run `n` empty blocks (one per bucket).
    fn run(&mut self, n: usize) {
        for _ in 0..n {
            self.block(vec![]);
        }
    }

    #[track_caller]
    fn ok(&mut self, signer: u8, body: TxBody) {
        let r = self.block(vec![(signer, body)]).remove(0);
        assert!(r.applied(), "{:?}", r.outcome);
    }

    fn get<T: borsh::BorshDeserialize>(&self, k: &[u8]) -> Option<T> {
        self.st.map.get(k).map(|b| borsh::from_slice(b).unwrap())
    }

    fn workload(&self, id: u64) -> Workload {
        self.get(&workload_key(id)).unwrap()
    }

    fn lease(&self, id: u64) -> Lease {
        self.get(&lease_key(id)).unwrap()
    }

    fn balance(&self, i: u8) -> Amount {
        self.get::<Account>(&account_key(&addr(i))).unwrap().balance
    }

    fn credits(&self, i: u8) -> Amount {
        self.get(&depin_types::market::credits_key(&addr(i))).unwrap_or(Amount::ZERO)
    }

    /// Capacity never exceeded; open leases consistent; anti-affinity held.
    fn check_market(&self) {
        let open: Vec<u64> = self.get(OPEN_LEASES_KEY).unwrap_or_default();
        let mut reserved: BTreeMap<AssetId, [u64; 4]> = BTreeMap::new();
        let mut owners: BTreeMap<u64, Vec<Address>> = BTreeMap::new();
        for id in &open {
            let l = self.lease(*id);
            assert!(l.state.is_open(), "closed lease {id} in the open set");
            let r = reserved.entry(l.asset).or_default();
            for (r, l) in r.iter_mut().zip(l.reserved) {
                *r += l;
            }
            owners.entry(l.workload).or_default().push(l.provider);
        }
        for (a, r) in &reserved {
            let stored: [u64; 4] = self.get(&reserved_key(a)).unwrap_or_default();
            assert_eq!(&stored, r, "reservations of {a:?} match its open leases");
            let asset: depin_types::asset::Asset = self.get(&depin_types::registry_key::asset(a)).unwrap();
            let cap = capacity_units(&asset.capacity);
            assert!((0..4).all(|d| r[d] <= cap[d]), "capacity exceeded on {a:?}: {r:?} > {cap:?}");
        }
        for (w, mut o) in owners {
            if self.workload(w).spec.anti_affinity.distinct_owners {
                let n = o.len();
                o.sort();
                o.dedup();
                assert_eq!(o.len(), n, "workload {w} has two replicas with one owner");
            }
        }
    }
}

fn reason(r: &Receipt) -> Option<&'static str> {
    match &r.outcome {
        depin_types::TxOutcome::Applied => None,
        depin_types::TxOutcome::Rejected { reason } => Some(reason.code()),
    }
}

fn compute(cores: u32) -> AssetDescriptor {
    AssetDescriptor {
        capacity: Capacity::Compute(ComputeCapacity { cpu_cores: cores, memory_mib: 8_192, gpus: vec![], arch: Arch::X86_64 }),
        location: LatLon::new(52.52, 13.40).unwrap().to_cell(RegistryParams::default().location_resolution).unwrap(),
        mobility: Mobility::Fixed,
        energy: Some(EnergyProfile { source: EnergySource::Solar, expected_draw_w: 100 }),
        metadata: AssetMetadata::default(),
    }
}

fn register(owner: u8, dev: u8) -> TxBody {
    register_as(owner, dev, compute(4))
}

fn register_as(owner: u8, dev: u8, d: AssetDescriptor) -> TxBody {
    let bond = RegistryParams::default().bond(d.capacity.class());
    TxBody::RegisterAssets { assets: vec![Registration::sign(CHAIN, &addr(owner), &device(dev), d, bond, None)] }
}

fn price(dev: u8, vcpu: u128) -> TxBody {
    TxBody::SetPrice {
        asset: asset_id(dev),
        sheet: Some(PriceSheet {
            prices: vec![
                UnitPrice { unit: ResourceUnit::VcpuEpoch, price: Amount(vcpu) },
                UnitPrice { unit: ResourceUnit::MemoryGibEpoch, price: Amount(1) },
            ],
            min_lease_epochs: 0,
        }),
    }
}

fn spec(replicas: u16, distinct_owners: bool) -> WorkloadSpec {
    WorkloadSpec {
        name: "web".into(),
        class: depin_types::asset::AssetClass::Compute,
        resources: vec![
            UnitAmount { unit: ResourceUnit::VcpuEpoch, amount: 2 },
            UnitAmount { unit: ResourceUnit::MemoryGibEpoch, amount: 2 },
        ],
        replicas,
        regions: vec![],
        near: None,
        anti_affinity: AntiAffinity { distinct_owners, ..AntiAffinity::default() },
        min_tier: MinTier::SelfDeclared,
        min_uptime_permille: 0,
        green_only: false,
        duration_epochs: 20,
        max_price: Amount(100),
        sla_uptime_permille: 600,
        gpu_model: None,
        max_metered_price: Amount::ZERO,
    }
}

/// Owners 1, 1, 2, 3 with devices 1..=4 (device 4 the cheapest), all reporting.
fn market(params: MarketParams) -> Chain {
    let mut c = Chain::new(params);
    c.block(vec![(1, register(1, 1)), (1, register(1, 2)), (2, register(2, 3)), (3, register(3, 4))]);
    c.block(vec![(1, price(1, 10)), (1, price(2, 10)), (2, price(3, 10)), (3, price(4, 5))]);
    c.live = vec![1, 2, 3, 4];
    c.ok(CONSUMER, TxBody::MintCredits { amount: Amount(1_000_000) });
    c
}

#[test]
fn placement_settlement_failover_and_the_gap_credit() {
    let mut c = market(MarketParams::default());
    assert_eq!(c.credits(CONSUMER), Amount(1_000_000), "1 credit per token");
    let tokens = c.balance(CONSUMER);
    c.ok(CONSUMER, TxBody::SubmitWorkload { spec: spec(2, true), deposit: Amount(10_000) });
    assert_eq!(c.balance(CONSUMER), tokens);
    let w = c.workload(1);
    assert_eq!(w.state, WorkloadState::Running, "{w:?}");
    assert_eq!(w.leases.len(), 2);
    let leases: Vec<Lease> = w.leases.iter().map(|l| c.lease(*l)).collect();
    // The cheapest asset (device 4: 5×2 + 1×2 = 12) and one of the 22-credit ones.
    assert!(leases.iter().any(|l| l.asset == asset_id(4) && l.terms.price == 12), "{leases:?}");
    assert_ne!(leases[0].provider, leases[1].provider, "distinct owners");
    // Settle two whole epochs: every replica reported in every bucket.
    let before = c.balance(3);
    c.run(13);
    let l4 = leases.iter().find(|l| l.asset == asset_id(4)).unwrap().id;
    let lease = c.lease(l4);
    assert_eq!(lease.state, LeaseState::Active);
    assert!(lease.epochs_settled >= 1, "{lease:?}");
    assert_eq!(lease.paid, Amount(12 * u128::from(lease.epochs_settled)), "full uptime: full price");
    assert_eq!(c.balance(3), Amount(before.0 + lease.paid.0), "paid in newly minted tokens, 1 per credit");

    // Device 4 stops reporting: after 2 silent buckets its lease fails and the replica moves.
    c.live = vec![1, 2, 3];
    c.run(4);
    let failed = c.lease(l4);
    assert!(matches!(failed.state, LeaseState::Closed { reason: CloseReason::AssetFailed, .. }), "{failed:?}");
    assert!(failed.credited >= Amount(12), "the consumer is credited for the gap: {failed:?}");
    let w = c.workload(1);
    assert_eq!(w.leases.len(), 2, "re-placed: {w:?}");
    assert!(w.avoid.contains(&asset_id(4)));
    let new = w.leases.iter().map(|l| c.lease(*l)).find(|l| l.replaces == Some(l4)).expect("a replacement lease");
    assert_ne!(new.asset, asset_id(4));
    assert!(w.credited >= Amount(12));
}

#[test]
fn an_sla_breach_pays_nothing_and_credits_the_consumer() {
    let mut c = market(MarketParams::default());
    // Only device 4 on offer at a price, others withdrawn.
    c.block(vec![
        (1, TxBody::SetPrice { asset: asset_id(1), sheet: None }),
        (1, TxBody::SetPrice { asset: asset_id(2), sheet: None }),
        (2, TxBody::SetPrice { asset: asset_id(3), sheet: None }),
    ]);
    c.ok(CONSUMER, TxBody::SubmitWorkload { spec: spec(1, false), deposit: Amount(10_000) });
    let lease = c.workload(1).leases[0];
    // Device 4 reports in every other bucket: 50 % uptime < the SLA's 60 %, never offline.
    for i in 0..14 {
        c.live = if i % 2 == 0 { vec![4] } else { vec![] };
        c.block(vec![]);
    }
    let l = c.lease(lease);
    assert!(l.state.is_open(), "{l:?}");
    assert!(l.epochs_settled >= 1);
    assert_eq!(l.paid, Amount::ZERO, "{l:?}");
    assert_eq!(l.credited, Amount(12 * u128::from(l.epochs_settled)));
    assert_eq!(c.workload(1).escrow, Amount(10_000), "nothing spent");
}

#[test]
fn provider_notice_ends_the_lease_after_the_notice_and_the_replica_moves() {
    let mut c = market(MarketParams { provider_notice_epochs: 1, ..MarketParams::default() });
    c.ok(CONSUMER, TxBody::SubmitWorkload { spec: spec(1, false), deposit: Amount(10_000) });
    let lid = c.workload(1).leases[0];
    assert_eq!(c.lease(lid).asset, asset_id(4));
    c.ok(3, TxBody::EndLease { lease: lid });
    let LeaseState::Ending { at_epoch } = c.lease(lid).state else { panic!("{:?}", c.lease(lid)) };
    let r = c.block(vec![(1, TxBody::EndLease { lease: lid })]).remove(0);
    assert_eq!(reason(&r), Some("not_provider"));
    // Still paid through the notice period, then closed and re-placed.
    while telemetry().epoch_of(c.now) <= at_epoch {
        c.block(vec![]);
    }
    let l = c.lease(lid);
    assert!(matches!(l.state, LeaseState::Closed { reason: CloseReason::EndedByProvider, .. }), "{l:?}");
    assert!(l.paid > Amount::ZERO);
    let w = c.workload(1);
    assert_eq!(w.leases.len(), 1);
    let new = c.lease(w.leases[0]);
    assert_eq!(new.replaces, Some(lid));
    assert_ne!(new.asset, asset_id(4), "never back on the asset that gave notice");
}

#[test]
fn an_overdrawn_escrow_warns_then_closes_after_the_grace_period() {
    let mut c = market(MarketParams { low_escrow_epochs: 3, overdraw_grace_epochs: 1, ..MarketParams::default() });
    // 12 credits per epoch on device 4; 30 credits of escrow: low at once, overdrawn after 2.
    let mut s = spec(1, false);
    s.max_price = Amount(30);
    c.ok(CONSUMER, TxBody::SubmitWorkload { spec: s, deposit: Amount(30) });
    let mut seen_low = false;
    let mut seen_overdrawn = false;
    for _ in 0..60 {
        c.block(vec![]);
        let w = c.workload(1);
        seen_low |= matches!(w.escrow_notice, EscrowNotice::Low { .. });
        seen_overdrawn |= matches!(w.escrow_notice, EscrowNotice::Overdrawn { .. });
        if matches!(w.state, WorkloadState::Closed { .. }) {
            break;
        }
    }
    let w = c.workload(1);
    assert!(seen_low && seen_overdrawn, "{w:?}");
    assert!(matches!(w.state, WorkloadState::Closed { reason: CloseReason::EscrowOverdrawn, .. }), "{w:?}");
    assert_eq!(w.escrow, Amount::ZERO);
    // Two full epochs, then the 6 left for the epoch served during the grace period.
    assert_eq!(w.spent, Amount(30), "{w:?}");
    assert_eq!(c.credits(CONSUMER), Amount(1_000_000 - 30));
}

#[test]
fn a_workload_naming_a_gpu_model_runs_only_where_every_gpu_is_that_model() {
    let mut c = Chain::new(MarketParams::default());
    let with_gpus = |gpus: Vec<(&str, u32)>| {
        let mut d = compute(4);
        if let Capacity::Compute(cc) = &mut d.capacity {
            cc.gpus = gpus.into_iter().map(|(m, count)| Gpus { model: m.into(), count }).collect();
        }
        d
    };
    // Device 1: 2 × h100 (priced highest); device 2: 4 × a100; device 3: h100 and a100 mixed.
    c.block(vec![
        (1, register_as(1, 1, with_gpus(vec![("h100", 2)]))),
        (2, register_as(2, 2, with_gpus(vec![("a100", 4)]))),
        (3, register_as(3, 3, with_gpus(vec![("h100", 4), ("a100", 4)]))),
    ]);
    let gpu_price = |dev: u8, gpu: u128| TxBody::SetPrice {
        asset: asset_id(dev),
        sheet: Some(PriceSheet {
            prices: vec![
                UnitPrice { unit: ResourceUnit::VcpuEpoch, price: Amount(1) },
                UnitPrice { unit: ResourceUnit::GpuEpoch, price: Amount(gpu) },
            ],
            min_lease_epochs: 0,
        }),
    };
    c.block(vec![(1, gpu_price(1, 50)), (2, gpu_price(2, 10)), (3, gpu_price(3, 5))]);
    c.live = vec![1, 2, 3];
    c.ok(CONSUMER, TxBody::MintCredits { amount: Amount(1_000_000) });
    let gpu_spec = |model: Option<&str>| WorkloadSpec {
        resources: vec![
            UnitAmount { unit: ResourceUnit::VcpuEpoch, amount: 1 },
            UnitAmount { unit: ResourceUnit::GpuEpoch, amount: 2 },
        ],
        gpu_model: model.map(Into::into),
        max_price: Amount(1_000),
        ..spec(1, false)
    };
    // Naming h100: only device 1 (the mixed device 3 is cheaper but pools its models).
    c.ok(CONSUMER, TxBody::SubmitWorkload { spec: gpu_spec(Some("h100")), deposit: Amount(10_000) });
    let w = c.workload(1);
    assert_eq!(w.state, WorkloadState::Running, "{w:?}");
    assert_eq!(c.lease(w.leases[0]).asset, asset_id(1));
    // Naming no model: the cheapest GPUs, the mixed device 3.
    c.ok(CONSUMER, TxBody::SubmitWorkload { spec: gpu_spec(None), deposit: Amount(10_000) });
    let w = c.workload(2);
    assert_eq!(c.lease(w.leases[0]).asset, asset_id(3));
    // A model nobody has: waits, and the funnel's first stage says why.
    c.ok(CONSUMER, TxBody::SubmitWorkload { spec: gpu_spec(Some("b200")), deposit: Amount(10_000) });
    let why = c.workload(3).unplaced.expect("a reason");
    assert_eq!((why.code.as_str(), why.funnel[0]), ("no_asset_of_class", 0), "{why:?}");
    // A model without asking for GPUs is refused before it reaches the ledger's queue.
    let r = c
        .block(vec![(
            CONSUMER,
            TxBody::SubmitWorkload { spec: WorkloadSpec { gpu_model: Some("h100".into()), ..spec(1, false) }, deposit: Amount(10_000) },
        )])
        .remove(0);
    assert_eq!(reason(&r), Some("invalid_market_input"));
}

#[test]
fn metered_gb_served_is_charged_from_telemetry_by_the_leases_share_of_the_asset() {
    let mut c = Chain::new(MarketParams::default());
    // A 100 GB storage asset reading out 2 GB per report (6 reports per epoch: 12 GB).
    let d = AssetDescriptor {
        capacity: Capacity::Storage(StorageCapacity { bytes: 100_000_000_000, media: Media::Ssd, redundancy: Redundancy::None }),
        ..compute(4)
    };
    c.block(vec![(1, register_as(1, 1, d))]);
    c.metrics.insert(1, Metrics::Storage { bytes_stored: 1, bytes_served: 2_000_000_000, proofs_passed: 1 });
    c.ok(
        1,
        TxBody::SetPrice {
            asset: asset_id(1),
            sheet: Some(PriceSheet {
                prices: vec![
                    UnitPrice { unit: ResourceUnit::GbEpochStored, price: Amount(1) },
                    UnitPrice { unit: ResourceUnit::GbServed, price: Amount(3) },
                ],
                min_lease_epochs: 0,
            }),
        },
    );
    c.live = vec![1];
    c.ok(CONSUMER, TxBody::MintCredits { amount: Amount(1_000_000) });
    let storage = |max_metered: u128| WorkloadSpec {
        class: depin_types::asset::AssetClass::Storage,
        resources: vec![UnitAmount { unit: ResourceUnit::GbEpochStored, amount: 25 }],
        max_metered_price: Amount(max_metered),
        max_price: Amount(1_000),
        ..spec(1, false)
    };
    // A workload that accepts no metered charges does not go there, and says why.
    c.ok(CONSUMER, TxBody::SubmitWorkload { spec: storage(0), deposit: Amount(10_000) });
    assert_eq!(c.workload(1).unplaced.expect("a reason").code, "over_max_price");
    c.ok(CONSUMER, TxBody::CancelWorkload { workload: 1 });
    c.ok(CONSUMER, TxBody::SubmitWorkload { spec: storage(3), deposit: Amount(10_000) });
    let lid = c.workload(2).leases[0];
    assert_eq!(c.lease(lid).metered_price, Amount(3));
    let before = c.balance(1);
    c.run(14); // past the first whole epoch after placement
    let l = c.lease(lid);
    assert!(l.epochs_settled >= 1, "{l:?}");
    // Per settled epoch: 25 GB reserved at 1 (25 credits) and a quarter of 12 GB served at 3.
    let epochs = u128::from(l.epochs_settled);
    assert_eq!(l.metered_units, 3 * u64::from(l.epochs_settled), "{l:?}");
    assert_eq!(l.paid, Amount(epochs * (25 + 3 * 3)), "{l:?}");
    assert_eq!(c.balance(1), Amount(before.0 + l.paid.0), "paid in tokens minted 1:1");
    let w = c.workload(2);
    assert_eq!(w.spent, l.paid);
    assert_eq!(w.escrow, Amount(10_000 - l.paid.0));
}

#[test]
fn an_infeasible_workload_waits_with_its_reason_and_cancelling_refunds() {
    let mut c = market(MarketParams::default());
    c.ok(CONSUMER, TxBody::SubmitWorkload { spec: spec(4, true), deposit: Amount(10_000) });
    let w = c.workload(1);
    assert_eq!(w.state, WorkloadState::Pending);
    let why = w.unplaced.expect("a reason");
    assert_eq!(why.code, "too_few_distinct", "{why:?}");
    assert_eq!(why.funnel[0], 4, "4 compute assets");
    assert_eq!(why.funnel[9], 3, "3 distinct owners");
    // Too expensive: the price filter says so.
    let mut s = spec(1, false);
    s.max_price = Amount(11);
    c.ok(CONSUMER, TxBody::SubmitWorkload { spec: s, deposit: Amount(1_000) });
    assert_eq!(c.workload(2).unplaced.unwrap().code, "over_max_price");
    // Cancel both: escrows come back.
    c.block(vec![(CONSUMER, TxBody::CancelWorkload { workload: 1 }), (CONSUMER, TxBody::CancelWorkload { workload: 2 })]);
    assert_eq!(c.credits(CONSUMER), Amount(1_000_000));
    assert!(matches!(c.workload(1).state, WorkloadState::Closed { reason: CloseReason::CancelledByConsumer, .. }));
    let r = c.block(vec![(CONSUMER, TxBody::CancelWorkload { workload: 1 })]).remove(0);
    assert_eq!(reason(&r), Some("already_closed"));
    let r = c.block(vec![(1, TxBody::TopUpEscrow { workload: 2, amount: Amount(5) })]).remove(0);
    assert_eq!(reason(&r), Some("not_consumer"));
}

#[test]
fn bad_market_input_is_refused_with_a_reason() {
    let mut c = market(MarketParams::default());
    let code = |c: &mut Chain, signer: u8, body: TxBody| reason(&c.block(vec![(signer, body)]).remove(0));
    // A consumer without credits, a deposit below the minimum, an empty spec.
    assert_eq!(code(&mut c, 4, TxBody::SubmitWorkload { spec: spec(1, false), deposit: Amount(100) }), Some("insufficient_credits"));
    assert_eq!(code(&mut c, CONSUMER, TxBody::SubmitWorkload { spec: spec(2, false), deposit: Amount(199) }), Some("invalid_market_input"));
    let mut s = spec(1, false);
    s.resources.clear();
    assert_eq!(code(&mut c, CONSUMER, TxBody::SubmitWorkload { spec: s, deposit: Amount(1_000) }), Some("invalid_market_input"));
    // Someone else's asset; a unit the class does not sell.
    assert_eq!(code(&mut c, 2, price(1, 1)), Some("not_owner_or_manager"));
    let bad = TxBody::SetPrice {
        asset: asset_id(1),
        sheet: Some(PriceSheet { prices: vec![UnitPrice { unit: ResourceUnit::KwhStored, price: Amount(1) }], min_lease_epochs: 0 }),
    };
    assert_eq!(code(&mut c, 1, bad), Some("invalid_market_input"));
    assert_eq!(code(&mut c, 1, TxBody::EndLease { lease: 77 }), Some("unknown_lease"));
    assert_eq!(code(&mut c, 1, TxBody::SetMarketParams { params: MarketParams::default() }), Some("not_privileged"));
    assert_eq!(code(&mut c, CONSUMER, TxBody::MintCredits { amount: Amount(0) }), Some("invalid_market_input"));
}

/// A random market operation.
#[derive(Clone, Debug)]
enum Op {
    Submit { replicas: u16, distinct: bool, deposit: u128 },
    Cancel(u64),
    TopUp(u64, u128),
    End(u64),
    Silence(u8),
    Revive(u8),
    Reprice(u8, u128),
    Wait(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (1u16..4, any::<bool>(), 20u128..2_000).prop_map(|(replicas, distinct, deposit)| Op::Submit { replicas, distinct, deposit }),
        1 => (1u64..6).prop_map(Op::Cancel),
        1 => (1u64..6, 1u128..500).prop_map(|(w, a)| Op::TopUp(w, a)),
        1 => (1u64..10).prop_map(Op::End),
        1 => (1u8..5).prop_map(Op::Silence),
        1 => (1u8..5).prop_map(Op::Revive),
        1 => (1u8..5, 1u128..20).prop_map(|(d, p)| Op::Reprice(d, p)),
        3 => (1u8..8).prop_map(Op::Wait),
    ]
}

fn run_ops(ops: &[Op]) -> MemState {
    let mut c = market(MarketParams { provider_notice_epochs: 1, overdraw_grace_epochs: 1, ..MarketParams::default() });
    for op in ops {
        match op {
            Op::Submit { replicas, distinct, deposit } => {
                let mut s = spec(*replicas, *distinct);
                s.max_price = Amount(50);
                s.duration_epochs = 3;
                c.block(vec![(CONSUMER, TxBody::SubmitWorkload { spec: s, deposit: Amount(*deposit) })]);
            }
            Op::Cancel(w) => {
                c.block(vec![(CONSUMER, TxBody::CancelWorkload { workload: *w })]);
            }
            Op::TopUp(w, a) => {
                c.block(vec![(CONSUMER, TxBody::TopUpEscrow { workload: *w, amount: Amount(*a) })]);
            }
            Op::End(l) => {
                let owner = c.get::<Lease>(&lease_key(*l)).map(|l| l.provider);
                let signer = [1u8, 2, 3].into_iter().find(|i| Some(addr(*i)) == owner).unwrap_or(1);
                c.block(vec![(signer, TxBody::EndLease { lease: *l })]);
            }
            Op::Silence(d) => c.live.retain(|x| x != d),
            Op::Revive(d) => {
                if !c.live.contains(d) {
                    c.live.push(*d);
                }
            }
            Op::Reprice(d, p) => {
                let owner = [1u8, 1, 2, 3][usize::from(*d - 1)];
                c.block(vec![(owner, price(*d, *p))]);
            }
            Op::Wait(n) => c.run(usize::from(*n)),
        }
    }
    c.st
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Conservation, capacity and anti-affinity hold after every block (checked inside
    /// `Chain::block`), and the same operations give the same state.
    #[test]
    fn market_invariants_hold_and_replay_is_deterministic(ops in proptest::collection::vec(op(), 1..30)) {
        let a = run_ops(&ops);
        let b = run_ops(&ops);
        prop_assert_eq!(a, b);
    }
}
