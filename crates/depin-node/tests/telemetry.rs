//! Telemetry end to end on a real node (real redb, real signatures, real sequencer): every
//! ingest result code, backpressure, rate limiting, the ledger's aggregates and health reasons,
//! and replay of the resulting chain to the same state root.

use std::time::Duration;

use depin_node::config::NodeConfig;
use depin_node::testing::TestNode;
use depin_node::{replay_from_genesis, IngestError, Node, TxStatus};
use depin_types::asset::compute::{Arch, ComputeCapacity};
use depin_types::asset::wireless::{Band, WirelessCapacity};
use depin_types::asset::{AssetDescriptor, AssetId, AssetMetadata, Capacity, Mobility, OwnerStatus, Registration};
use depin_types::geo::{Cell, LatLon};
use depin_types::telemetry::{
    Fix, HealthReason, HealthState, Metrics, Report, ReportCode, SignedReport, TelemetryParams, MAX_REPORTS_PER_BATCH,
    REPORT_VERSION,
};
use depin_types::{Amount, Scheme, SecretKey, TxBody, TxContent};

fn device(i: u8) -> SecretKey {
    SecretKey::from_seeds(Scheme::Ed25519, &[100 + i; 32]).unwrap()
}

fn paris() -> Cell {
    LatLon::new(48.8566, 2.3522).unwrap().to_cell(12).unwrap()
}

fn far_away() -> Cell {
    LatLon::new(48.9566, 2.3522).unwrap().to_cell(12).unwrap() // about 11 km north
}

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64
}

struct Net {
    t: TestNode,
    nonce: u64,
    params: TelemetryParams,
}

impl Net {
    fn start(config: NodeConfig) -> Net {
        let t = TestNode::start_with(config);
        let (params, _) = t.node.telemetry_params().unwrap();
        Net { t, nonce: 0, params }
    }

    fn node(&self) -> &Node {
        &self.t.node
    }

    fn run(&mut self, body: TxBody) {
        let key = &self.t.dev_key;
        let tx = TxContent {
            chain_id: self.node().chain_id().to_string(),
            signer: key.public_key(),
            nonce: self.nonce,
            fee: Amount(0),
            body,
        }
        .sign(key);
        self.nonce += 1;
        let id = self.node().submit(tx).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        match rt.block_on(self.node().wait_committed(id, Duration::from_secs(20))).unwrap() {
            TxStatus::Committed { receipt, .. } => assert!(receipt.applied(), "{receipt:?}"),
            other => panic!("{other:?}"),
        }
    }

    fn register(&mut self, devices: &[(SecretKey, Capacity, Mobility)]) {
        let owner = self.t.dev_key.public_key().address();
        let chain = self.node().chain_id().to_string();
        let assets = devices
            .iter()
            .map(|(d, capacity, mobility)| {
                let descriptor = AssetDescriptor {
                    capacity: capacity.clone(),
                    location: paris(),
                    mobility: *mobility,
                    energy: None,
                    metadata: AssetMetadata { name: "t".into(), model: "m".into() },
                };
                Registration::sign(&chain, &owner, d, descriptor, Amount(1_000_000_000), None)
            })
            .collect();
        self.run(TxBody::RegisterAssets { assets });
    }

    fn report(&self, key: &SecretKey, seq: u64, ts: u64, metrics: Metrics, fix: Option<Cell>) -> SignedReport {
        Report {
            version: REPORT_VERSION,
            asset: AssetId::of(&key.public_key()),
            epoch: self.params.epoch_of(ts),
            seq,
            timestamp_ms: ts,
            uptime_s: 5,
            metrics,
            fix: fix.map(|cell| Fix { cell, accuracy_m: 5 }),
        }
        .sign(self.node().chain_id(), key)
    }

    /// Flush and wait until every accepted report is in a committed block.
    fn settle(&self) {
        self.node().flush_telemetry(true);
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while self.node().mempool_len() > 0 {
            assert!(std::time::Instant::now() < deadline, "telemetry never committed");
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn compute() -> Capacity {
    Capacity::Compute(ComputeCapacity { cpu_cores: 4, memory_mib: 8_192, gpus: vec![], arch: Arch::X86_64 })
}

fn load(cpu: u16, mem: u64) -> Metrics {
    Metrics::Compute {
        cpu_load_permille: cpu,
        memory_used_mib: mem,
        gpu_load_permille: 0,
        disk_used_mib: 1,
        net_rx_bytes: 10,
        net_tx_bytes: 10,
        jobs_done: 1,
    }
}

fn codes(node: &Node, reports: Vec<SignedReport>, now: u64) -> Vec<ReportCode> {
    node.ingest_at(reports, now).unwrap().into_iter().map(|r| r.code).collect()
}

#[test]
fn every_ingest_code_and_the_ledger_aggregates() {
    let mut config = NodeConfig::default();
    config.sequencer.block_interval_ms = 20;
    config.sequencer.empty_block_interval_ms = 0;
    config.telemetry.burst = 5;
    config.telemetry.rate_per_minute = 60;
    let mut n = Net::start(config);
    let (a, b, c, w) = (device(1), device(2), device(3), device(4));
    let wireless = Capacity::Wireless(WirelessCapacity { band: Band::LorawanEu868, range_m: 1_000 });
    n.register(&[
        (a.clone_key(), compute(), Mobility::Fixed),
        (b.clone_key(), compute(), Mobility::Fixed),
        (c.clone_key(), compute(), Mobility::Fixed),
        (w.clone_key(), wireless, Mobility::Mobile),
    ]);
    let node = n.node().clone();
    let now = now_ms();

    // Accepted, then the same report again (a replay), then an older sequence.
    let first = n.report(&a, 10, now - 10_000, load(100, 100), None);
    assert_eq!(codes(&node, vec![first.clone()], now), [ReportCode::Accepted]);
    assert_eq!(codes(&node, vec![first], now), [ReportCode::Duplicate]);
    assert_eq!(codes(&node, vec![n.report(&a, 9, now - 10_000, load(100, 100), None)], now), [ReportCode::StaleSequence]);

    // A forged signature: valid shape, signed over other content.
    let mut forged = n.report(&a, 11, now, load(100, 100), None);
    forged.report.uptime_s = 500;
    // Another asset's key: b's report signed by a.
    let mut stolen = n.report(&a, 1, now, load(1, 1), None);
    stolen.report.asset = AssetId::of(&b.public_key());
    let unknown = n.report(&device(9), 1, now, load(1, 1), None);
    let skewed = n.report(&b, 1, now - 120_000, load(1, 1), None);
    let mut wrong_epoch = n.report(&b, 2, now, load(1, 1), None);
    wrong_epoch.report.epoch += 1;
    let wrong_epoch = wrong_epoch.report.sign(node.chain_id(), &b);
    let mut old_version = n.report(&b, 3, now, load(1, 1), None);
    old_version.report.version = 0;
    let class = n.report(&b, 4, now, Metrics::Sensor { readings: 1 }, None);
    let coarse = LatLon::new(48.8566, 2.3522).unwrap().to_cell(9).unwrap();
    let bad_fix = n.report(&b, 5, now, load(1, 1), Some(coarse));
    let got = codes(&node, vec![forged, stolen, unknown, skewed, wrong_epoch, old_version, class, bad_fix], now);
    assert_eq!(
        got,
        [
            ReportCode::BadSignature,
            ReportCode::WrongDeviceKey,
            ReportCode::UnknownAsset,
            ReportCode::ClockSkew,
            ReportCode::WrongEpoch,
            ReportCode::UnsupportedVersion,
            ReportCode::ClassMismatch,
            ReportCode::BadFix,
        ]
    );
    // A forged report did not burn the next sequence number of the real device.
    assert_eq!(codes(&node, vec![n.report(&a, 11, now - 5_000, load(100, 100), None)], now), [ReportCode::Accepted]);

    // A flood from c: its burst (5) passes, the rest is rate limited; b in the same batch is not.
    let mut flood: Vec<_> = (1..=8).map(|s| n.report(&c, s, now, load(10, 10), None)).collect();
    flood.push(n.report(&b, 10, now, load(10, 10), None));
    let got = codes(&node, flood, now);
    assert_eq!(got.iter().filter(|c| **c == ReportCode::Accepted).count(), 6, "{got:?}");
    assert_eq!(&got[5..8], [ReportCode::RateLimited; 3]);
    assert_eq!(got[8], ReportCode::Accepted);
    // One second later c has one token again (60 per minute).
    assert_eq!(codes(&node, vec![n.report(&c, 9, now + 1_000, load(10, 10), None)], now + 1_000), [ReportCode::Accepted]);

    // Implausible metrics (memory over the declared 8 GiB; uptime claims fit the 5 s between
    // reports) and a mobile asset that jumps.
    assert_eq!(codes(&node, vec![n.report(&a, 12, now, load(100, 999_999), None)], now), [ReportCode::Accepted]);
    let w1 = n.report(&w, 1, now, Metrics::Wireless { bytes_served: 1_000, sessions: 2 }, Some(paris()));
    let w2 = n.report(&w, 2, now + 1, Metrics::Wireless { bytes_served: 1_000, sessions: 2 }, Some(far_away()));
    assert_eq!(codes(&node, vec![w1, w2], now + 1), [ReportCode::Accepted; 2]);

    // Oversized batch and an empty one: refused whole.
    let many: Vec<_> = (0..=MAX_REPORTS_PER_BATCH as u64).map(|s| n.report(&b, 100 + s, now, load(1, 1), None)).collect();
    assert!(matches!(node.ingest_at(many, now), Err(IngestError::BatchSize { .. })));
    assert!(matches!(node.ingest_at(vec![], now), Err(IngestError::BatchSize { .. })));

    n.settle();
    // The ledger's aggregates.
    // (Summed over epochs: the reports may straddle an epoch boundary.)
    let page = node.telemetry_page(&AssetId::of(&a.public_key()), None, 10).unwrap();
    let sum = |f: fn(&depin_types::telemetry::TelemetryEpoch) -> u128| page.items.iter().map(|(_, a)| f(a)).sum::<u128>();
    assert_eq!(sum(|a| a.reports.into()), 3);
    assert_eq!(sum(|a| a.served), 3, "jobs_done");
    assert_eq!(sum(|a| a.implausible.into()), 1);
    let wpage = node.telemetry_page(&AssetId::of(&w.public_key()), None, 10).unwrap();
    let wagg = &wpage.items[0].1;
    assert_eq!((wagg.fixes, wagg.far, wagg.two_places), (2, 1, 1), "{wagg:?}");
    assert_eq!(wagg.location_multiplier_bp, 0, "11 km is beyond every band");

    // Health with reasons.
    let h = node.asset_health(&AssetId::of(&a.public_key()), 5).unwrap().unwrap();
    assert_eq!(h.now.health.state, HealthState::Degraded, "{h:?}");
    assert!(h.now.health.reasons.contains(&HealthReason::ImplausibleMetrics { reports: 1 }), "{h:?}");
    assert!(h.rejections.iter().any(|r| r.code == ReportCode::Duplicate), "owners see refusals: {h:?}");
    let hw = node.asset_health(&AssetId::of(&w.public_key()), 5).unwrap().unwrap();
    assert!(hw.now.health.reasons.iter().any(|r| matches!(r, HealthReason::TwoPlaces { reports: 1 })), "{hw:?}");
    assert!(hw.now.health.reasons.iter().any(|r| matches!(r, HealthReason::LocationFar { .. })), "{hw:?}");
    let net = node.network_health().unwrap();
    assert_eq!(net.assets, 4);
    assert_eq!(net.by_class["compute"].healthy + net.by_class["compute"].degraded, 3, "{net:?}");

    // A suspended asset's reports do not count.
    n.run(TxBody::SetAssetStatus { asset: AssetId::of(&b.public_key()), status: OwnerStatus::Suspended });
    let later = now_ms();
    assert_eq!(codes(&node, vec![n.report(&b, 500, later, load(1, 1), None)], later), [ReportCode::AssetNotInService]);

    // The chain with telemetry replays to the same state root.
    let head = node.chain().ledger().head().unwrap();
    let replayed = replay_from_genesis(node.chain().ledger(), node.chain().genesis()).unwrap().unwrap();
    assert_eq!(replayed, head.state_root);
}

#[test]
fn a_full_queue_answers_overloaded_and_loses_nothing() {
    let mut config = NodeConfig::default();
    config.sequencer.block_interval_ms = 20;
    config.sequencer.empty_block_interval_ms = 0;
    config.telemetry.queue_max_reports = 3;
    let mut n = Net::start(config);
    let a = device(1);
    n.register(&[(a.clone_key(), compute(), Mobility::Fixed)]);
    let node = n.node().clone();
    let now = now_ms();
    let reports: Vec<_> = (1..=4).map(|s| n.report(&a, s, now, load(1, 1), None)).collect();
    match node.ingest_at(reports.clone(), now) {
        Err(IngestError::Overloaded { retry_after_s, .. }) => assert!(retry_after_s >= 1),
        other => panic!("{other:?}"),
    }
    // Nothing of the refused batch was taken: the same reports go through in smaller batches.
    assert_eq!(codes(&node, reports[..3].to_vec(), now), [ReportCode::Accepted; 3]);
    n.settle();
    assert_eq!(codes(&node, reports[3..].to_vec(), now), [ReportCode::Accepted]);
    n.settle();
    let page = node.telemetry_page(&AssetId::of(&a.public_key()), None, 1).unwrap();
    assert_eq!(page.items[0].1.reports, 4);
}

trait CloneKey {
    fn clone_key(&self) -> SecretKey;
}

impl CloneKey for SecretKey {
    fn clone_key(&self) -> SecretKey {
        SecretKey::from_seeds(self.scheme(), self.seeds()).unwrap()
    }
}
