//! Telemetry retention on a real node (real redb, signatures, sequencer) with one-second
//! epochs: raw report batches older than `retain_epochs` are pruned to summaries, the
//! aggregates stay, recent blocks are untouched, the views still work, a restart finds the same
//! head and state, and replay from genesis says why it cannot run (docs/adr/0018).

use std::time::Duration;

use depin_keystore::Kdf;
use depin_ledger::{LedgerError, LoggedTx};
use depin_node::config::NodeConfig;
use depin_node::home::{init_home, Home, InitOptions};
use depin_node::{read_genesis, replay_from_genesis, Node, SequencerHandle, TxStatus};
use depin_types::asset::compute::{Arch, ComputeCapacity};
use depin_types::asset::{AssetDescriptor, AssetId, AssetMetadata, Capacity, Mobility, Registration};
use depin_types::geo::LatLon;
use depin_types::telemetry::{Metrics, Report, ReportCode, SignedReport, TelemetryParams, REPORT_VERSION};
use depin_types::{Amount, Scheme, SecretKey, TxBody, TxContent};

const EPOCH_MS: u64 = 1_000;

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64
}

fn short_epochs() -> TelemetryParams {
    TelemetryParams {
        epoch_ms: EPOCH_MS,
        buckets_per_epoch: 1,
        offline_after_buckets: 1,
        max_report_age_ms: 4 * EPOCH_MS,
        ..TelemetryParams::default()
    }
}

fn config() -> NodeConfig {
    let mut c = NodeConfig::default();
    c.sequencer.block_interval_ms = 20;
    c.sequencer.empty_block_interval_ms = 0;
    c.telemetry.rate_per_minute = 60_000;
    c.telemetry.burst = 1_000;
    c.telemetry.retain_epochs = 1;
    c
}

/// A node in a temporary home whose genesis has one-second telemetry epochs.
struct Net {
    node: Node,
    sequencer: Option<SequencerHandle>,
    home: Home,
    dev_key: SecretKey,
    device: SecretKey,
    _dir: tempfile::TempDir,
}

impl Net {
    fn start(config: NodeConfig) -> Net {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::new(dir.path().join("home"));
        let opts = InitOptions { dev: true, kdf: Kdf::fast_for_tests(), ..InitOptions::default() };
        init_home(&home, &opts).unwrap();
        let mut genesis = read_genesis(&home).unwrap();
        genesis.telemetry = short_epochs();
        std::fs::write(home.genesis(), genesis.to_toml()).unwrap();
        let dev_key = depin_keystore::Keystore::open(home.keys()).unwrap().get("dev").unwrap().decrypt(None, true).unwrap();
        let node = Node::open(&home, config, None).unwrap();
        let sequencer = Some(node.start_sequencer());
        let device = SecretKey::from_seeds(Scheme::Ed25519, &[77; 32]).unwrap();
        Net { node, sequencer, home, dev_key, device, _dir: dir }
    }

    fn stop(&mut self) {
        if let Some(s) = self.sequencer.take() {
            s.stop().unwrap();
        }
    }

    /// Stop, close the database and open the node again from the same home.
    fn restart(mut self) -> Net {
        self.stop();
        let Net { node, home, dev_key, device, _dir, .. } = self;
        let config = node.config().clone();
        drop(node);
        let node = Node::open(&home, config, None).unwrap();
        let sequencer = Some(node.start_sequencer());
        Net { node, sequencer, home, dev_key, device, _dir }
    }

    fn register_device(&self) {
        let owner = self.dev_key.public_key().address();
        let chain = self.node.chain_id().to_string();
        let descriptor = AssetDescriptor {
            capacity: Capacity::Compute(ComputeCapacity { cpu_cores: 4, memory_mib: 8_192, gpus: vec![], arch: Arch::X86_64 }),
            location: LatLon::new(48.8566, 2.3522).unwrap().to_cell(12).unwrap(),
            mobility: Mobility::Fixed,
            energy: None,
            metadata: AssetMetadata { name: "t".into(), model: "m".into() },
        };
        let assets = vec![Registration::sign(&chain, &owner, &self.device, descriptor, Amount(1_000_000_000), None)];
        let tx = TxContent { chain_id: chain, signer: self.dev_key.public_key(), nonce: 0, fee: Amount(0), body: TxBody::RegisterAssets { assets } }
            .sign(&self.dev_key);
        let id = self.node.submit(tx).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        match rt.block_on(self.node.wait_committed(id, Duration::from_secs(20))).unwrap() {
            TxStatus::Committed { receipt, .. } => assert!(receipt.applied(), "{receipt:?}"),
            other => panic!("{other:?}"),
        }
    }

    fn report(&self, seq: u64, ts: u64) -> SignedReport {
        Report {
            version: REPORT_VERSION,
            asset: AssetId::of(&self.device.public_key()),
            epoch: short_epochs().epoch_of(ts),
            seq,
            timestamp_ms: ts,
            uptime_s: 1,
            metrics: Metrics::Compute {
                cpu_load_permille: 10,
                memory_used_mib: 10,
                gpu_load_permille: 0,
                disk_used_mib: 1,
                net_rx_bytes: 1,
                net_tx_bytes: 1,
                jobs_done: 1,
            },
            fix: None,
        }
        .sign(self.node.chain_id(), &self.device)
    }

    /// Flush and wait until every accepted report is in a committed block.
    fn settle(&self) {
        self.node.flush_telemetry(true);
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while self.node.mempool_len() > 0 {
            assert!(std::time::Instant::now() < deadline, "telemetry never committed");
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn old_raw_telemetry_is_pruned_and_aggregates_restart_and_views_survive() {
    let n = Net::start(config());
    n.register_device();

    // Three reports in each of five epochs, each epoch's in its own blocks.
    let mut seq = 0;
    let mut epochs = Vec::new();
    for _ in 0..5 {
        let now = now_ms();
        let reports: Vec<_> = (0..3)
            .map(|i| {
                seq += 1;
                n.report(seq, now + i)
            })
            .collect();
        let codes: Vec<_> = n.node.ingest_at(reports, now + 2).unwrap().into_iter().map(|r| r.code).collect();
        assert_eq!(codes, [ReportCode::Accepted; 3]);
        n.settle();
        epochs.push(short_epochs().epoch_of(now));
        // Into the next epoch.
        std::thread::sleep(Duration::from_millis(EPOCH_MS - now % EPOCH_MS + 50));
    }
    let node = n.node.clone();
    let ledger = node.chain().ledger();
    let head = ledger.head().unwrap();
    let cutoff = n.node.retention_cutoff_ms().unwrap().unwrap();
    assert_eq!(cutoff, head.timestamp_ms - EPOCH_MS, "one epoch back from the head");

    let pass = n.node.prune_telemetry().unwrap();
    assert!(pass.done && pass.blocks >= 3 && pass.txs >= 3, "{pass:?}");
    assert_eq!(pass.reports, 3 * pass.txs, "each batch carried one epoch's three reports");

    // Every block: whole if recent, its telemetry pruned if old; always matching its header.
    let (mut pruned_ids, mut kept_telemetry) = (Vec::new(), 0);
    for h in 1..=head.height {
        let b = ledger.logged_block(h).unwrap().unwrap();
        assert_eq!(b.txs_root(), b.header.txs_root, "block {h}");
        let old = b.header.timestamp_ms < cutoff && h < head.height;
        for t in &b.txs {
            match t {
                LoggedTx::Pruned(p) => {
                    assert!(old, "block {h} is recent but was pruned");
                    assert_eq!(p.n_reports, 3);
                    pruned_ids.push((h, p.id));
                }
                LoggedTx::Full(tx) if matches!(tx.content.body, TxBody::SubmitTelemetry { .. }) => {
                    assert!(!old, "block {h} is old but its telemetry was kept");
                    kept_telemetry += 1;
                }
                LoggedTx::Full(_) => {}
            }
        }
        assert_eq!(ledger.block(h).unwrap().is_some(), !b.is_pruned(), "block {h}");
    }
    assert_eq!(pruned_ids.len() as u64, pass.txs);
    assert!(kept_telemetry >= 1, "the last epoch's telemetry is recent");

    // The aggregates of every epoch, pruned or not, are still in the state.
    let asset = AssetId::of(&n.device.public_key());
    let page = n.node.telemetry_page(&asset, None, 20).unwrap();
    let total: u64 = page.items.iter().map(|(_, a)| u64::from(a.reports)).sum();
    assert_eq!(total, 15, "{page:?}");
    for e in &epochs {
        assert!(page.items.iter().any(|(epoch, _)| epoch == e), "epoch {e} missing: {page:?}");
    }

    // The views: a pruned transaction's status and receipt, the block as the API shows it,
    // the SSE resume events, the metrics.
    let (h, id) = pruned_ids[0];
    match n.node.tx_status(&id).unwrap() {
        TxStatus::Committed { height, receipt, .. } => assert!(height == h && receipt.applied() && receipt.tx_id == id),
        other => panic!("{other:?}"),
    }
    let view = serde_json::to_value(n.node.logged_block(h).unwrap().unwrap()).unwrap();
    let shown = view["block"]["txs"].as_array().unwrap().iter().find(|t| t["pruned"] == true).unwrap();
    assert_eq!(shown["id"], serde_json::to_value(id).unwrap());
    assert_eq!(shown["reports"], 3);
    assert_eq!(shown["sender"], serde_json::to_value(n.node.chain().public_key().unwrap().address()).unwrap());
    assert_eq!(n.node.block_events(1, head.height).unwrap().len() as u64, head.height);
    let metrics = n.node.metrics_text();
    assert!(metrics.contains(&format!("depin_telemetry_pruned_total{{unit=\"tx\"}} {}", pass.txs)), "{metrics}");

    // Idempotent.
    let again = n.node.prune_telemetry().unwrap();
    assert_eq!((again.blocks, again.txs), (0, 0), "{again:?}");

    // Replay from genesis needs the raw batches: a typed error naming the first pruned block.
    match replay_from_genesis(ledger, n.node.chain().genesis()) {
        Err(LedgerError::Pruned { height }) => {
            assert_eq!(height, pruned_ids[0].0);
            let msg = LedgerError::Pruned { height }.to_string();
            assert!(msg.contains("pruned by retention") && msg.contains("retain_epochs = 0"), "{msg}");
        }
        other => panic!("expected a pruned error, got {other:?}"),
    }

    // A restart from disk: same head and state root, still pruned, still serving.
    drop(node);
    let root = n.node.status().unwrap().state_root;
    let mut n = n.restart();
    let status = n.node.status().unwrap();
    assert_eq!((status.height, status.state_root), (head.height, root));
    assert!(n.node.chain().ledger().block(h).unwrap().is_none());
    assert!(n.node.logged_block(h).unwrap().unwrap().block.txs.iter().any(LoggedTx::is_pruned));
    let handle = n.node.start_retention();
    assert!(handle.is_running());
    n.stop();
    n.node.request_stop();
    handle.join();

    // A lost state cannot be rebuilt from a pruned log: refused, with the reason.
    let Net { node, home, _dir, .. } = n;
    drop(node);
    std::fs::remove_file(home.ledger().join("state.redb")).unwrap();
    let err = Node::open(&home, config(), None).err().expect("a pruned log cannot rebuild the state");
    assert!(err.to_string().contains("pruned by retention"), "{err}");
}

#[test]
fn retention_is_off_by_default() {
    assert_eq!(NodeConfig::default().telemetry.retain_epochs, 0);
    let mut config = config();
    config.telemetry.retain_epochs = 0;
    let mut n = Net::start(config);
    n.register_device();
    assert_eq!(n.node.retention_cutoff_ms().unwrap(), None);
    assert!(!n.node.start_retention().is_running());
    let pass = n.node.prune_telemetry().unwrap();
    assert!(pass.done && pass.cutoff_ms.is_none() && pass.blocks == 0);
    assert_eq!(n.node.chain().ledger().pruned_through().unwrap(), 0);
    n.stop();
}
