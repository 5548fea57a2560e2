//! The `ingest` suite: device-signed telemetry reports through a real node's ingest edge
//! (`Node::ingest_at`: checks, cofactored batch signature verification on all cores, packing into
//! `SubmitTelemetry` transactions) and its local sequencer (durable blocks on a real redb
//! ledger) until every report is counted in the asset's epoch aggregate in state, beside the
//! physical reference of the same run: the raw Ed25519 batch-verify rate on all cores
//! (DESIGN.md §4: ingest end to end into state ≥ 0.8 × that rate).
//!
//! Order of a run:
//!
//! 1. **Workload (not timed).** Owner keys (one per fleet of 64 assets), a genesis funding them
//!    and the node account, the assets (the registry suite's class mix and metro locations),
//!    their `RegisterAssets` transactions, and every report signed by its device key: `seq`
//!    1, 2, … per asset, device timestamps spaced evenly and ending a few seconds before the run,
//!    class metrics within the declared capacity, a GNSS fix for mobile assets.
//! 2. **References.** For a fixed duration each, one thread per core: `Ed25519Batch::verify`
//!    over batches of 64 distinct reports (the target's reference), strict `PublicKey::verify`
//!    of single reports (the transaction rule, for context), and the edge's own predicate raw:
//!    cofactored batches of `VERIFY_BATCH` (`depin_crypto::cofactored`, rule M-2). The target's
//!    reference runs again after the timed window (step 6).
//! 3. **Node.** A real node on a temporary directory with its local sequencer (default
//!    sequencer and mempool configuration; an ingest queue and per-asset rate limit that admit
//!    the load); the fleets are registered and committed before the timed window.
//! 4. **Ingest (timed).** Client threads (each owning a share of the assets, so every asset's
//!    reports arrive in order) call `Node::ingest_at` with batches of 1,024 reports, sleeping
//!    briefly and retrying when the node answers `Overloaded`; then this thread flushes the
//!    last partial transaction and polls until the state counts every report. The edge's clock
//!    (`ingest_at`'s `now`) reads the batch's device time, so the skew window holds however
//!    long the run takes; block times are the real clock.
//! 5. **Check.** Every report must be accepted at the edge and counted in state (the sum of
//!    `TelemetryEpoch::reports` over every asset and epoch equals the reports sent, and each
//!    asset's `TelemetryHead::seq` is its last report's): otherwise the run is an error, not a
//!    result.
//! 6. **Reference again.** `Ed25519Batch::verify` as in step 2, with the node stopped. The
//!    target's ratio divides by the mean of the two measurements, so a machine whose speed
//!    drifts during the run (a shared VM, a CPU warming up) is compared with its speed around
//!    the window rather than before it only; both measurements are reported.

use std::collections::BTreeMap;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use depin_crypto::cofactored::verify_cofactored_batch_bytes;
use depin_crypto::Ed25519Batch;
use depin_ledger::Ledger;
use depin_node::config::NodeConfig;
use depin_node::home::Home;
use depin_node::ingest::VERIFY_BATCH;
use depin_node::{Chain, IngestError, Node, TxStatus};
use depin_state::{read_telemetry_epoch, read_telemetry_head};
use depin_types::asset::{
    AssetDescriptor, AssetId, Capacity, Mobility, Registration, RegistryParams, MAX_REGISTRATIONS_PER_TX,
};
use depin_types::genesis::GenesisValidator;
use depin_types::telemetry::{
    report_message, Fix, Metrics, Report, ReportCode, SignedReport, TelemetryParams,
    MAX_REPORTS_PER_BATCH, REPORT_VERSION,
};
use depin_types::{
    Address, Amount, Genesis, GenesisAccount, Hash32, Params, PublicKey, SecretKey, Transaction, TxBody, TxContent,
};

use crate::measure::{self, now_ms, percentile_us, SplitMix64};
use crate::registry::{asset_spec, key_from, OWNER_BALANCE};
use crate::report::{BenchReport, BenchResult, Target};
use crate::BenchError;

/// Reports ingested by default: enough that the last block's wait (up to one block interval,
/// 500 ms by default, between the last ingest call and the block that counts it) is a small part
/// of the window, so the rate is the sustained one.
pub const DEFAULT_REPORTS: usize = 1_000_000;
/// Assets reporting by default.
pub const DEFAULT_ASSETS: usize = 2_000;
/// Client threads calling the edge by default (one: the edge spreads each call's verification
/// over every core itself).
pub const DEFAULT_CLIENTS: usize = 1;
/// Most assets a run may register.
pub const MAX_ASSETS: usize = 100_000;
/// Most reports a run may ingest.
pub const MAX_REPORTS: usize = 10_000_000;
/// Most client threads.
pub const MAX_CLIENTS: usize = 16;
/// DESIGN.md §4: ingest end to end into state ≥ 0.8 × the raw batch-verify rate on all cores.
pub const TARGET_RATIO: f64 = 0.8;
/// Seconds each raw verification reference runs (the quick run: a tenth of it).
pub const RAW_SECONDS: f64 = 3.0;

/// Workload seed.
const SEED: u64 = 0x696e_6765_7374; // "ingest"
/// Signatures in Ed25519's batch (what the reference verifies at a time).
const RAW_BATCH: usize = 64;
/// Distinct reports the references cycle over (fewer if the run is smaller).
const RAW_ITEMS: usize = 16_384;
/// Span of one asset's report timestamps at most, ms (well inside `max_report_age_ms`).
const MAX_SPAN_MS: u64 = 300_000;
/// Spread of device timestamps within one ingest batch at most, ms (inside the edge's skew
/// window of 30 s).
const MAX_BATCH_SPREAD_MS: u64 = 20_000;
/// The last report's device time, this long before the workload is built, ms.
const LAST_REPORT_AGE_MS: u64 = 5_000;
/// Sleep after an `Overloaded` answer before retrying.
const OVERLOADED_SLEEP: Duration = Duration::from_millis(2);
/// How long the run may wait for the ledger to count every report after the last ingest call.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(300);
/// How long registration may take to commit.
const REGISTER_TIMEOUT: Duration = Duration::from_secs(120);

/// Options of the ingest suite (`depin bench ingest`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IngestBenchOptions {
    /// Reports to ingest (spread evenly over the assets), 1 to [`MAX_REPORTS`].
    pub reports: usize,
    /// Assets that report, 1 to [`MAX_ASSETS`] (registered in fleets of 64 before the run).
    pub assets: usize,
    /// Client threads calling the edge, 1 to [`MAX_CLIENTS`] (at most one per asset).
    pub clients: usize,
    /// A small, fast run for tests and CI: caps `reports` at 2,000 and `assets` at 64, and runs
    /// each raw reference for a tenth of [`RAW_SECONDS`]. Smoke-test numbers, not measurements.
    pub quick: bool,
}

impl Default for IngestBenchOptions {
    fn default() -> Self {
        IngestBenchOptions { reports: DEFAULT_REPORTS, assets: DEFAULT_ASSETS, clients: DEFAULT_CLIENTS, quick: false }
    }
}

impl IngestBenchOptions {
    /// The quick (CI) configuration.
    pub fn quick() -> Self {
        IngestBenchOptions { quick: true, ..IngestBenchOptions::default() }
    }
}

/// Every size the run uses, resolved from the options.
#[derive(Clone, Copy, Debug)]
struct Sizes {
    reports: usize,
    assets: usize,
    clients: usize,
    raw: Duration,
}

impl Sizes {
    fn of(opts: &IngestBenchOptions) -> Result<Sizes, BenchError> {
        let bad = |m: String| Err(BenchError::Options(m));
        if !(1..=MAX_REPORTS).contains(&opts.reports) {
            return bad(format!("reports must be 1..={MAX_REPORTS}"));
        }
        if !(1..=MAX_ASSETS).contains(&opts.assets) {
            return bad(format!("assets must be 1..={MAX_ASSETS}"));
        }
        if !(1..=MAX_CLIENTS).contains(&opts.clients) {
            return bad(format!("clients must be 1..={MAX_CLIENTS}"));
        }
        let (reports, assets, raw) = if opts.quick {
            (opts.reports.min(2_000), opts.assets.min(64), Duration::from_secs_f64(RAW_SECONDS / 10.0))
        } else {
            (opts.reports, opts.assets, Duration::from_secs_f64(RAW_SECONDS))
        };
        // An asset's reports must fit MAX_SPAN_MS at 1 ms apart at least.
        if reports.div_ceil(assets) as u64 > MAX_SPAN_MS {
            return bad(format!("at most {MAX_SPAN_MS} reports per asset: use more assets"));
        }
        Ok(Sizes { reports, assets, clients: opts.clients.min(assets), raw })
    }
}

/// Run the ingest suite. Takes about a minute and 0.6 GB of memory at the default size on 2
/// cores; creates and removes a temporary directory under `$TMPDIR` (the node's ledger).
pub fn ingest(opts: &IngestBenchOptions) -> Result<BenchReport, BenchError> {
    let sizes = Sizes::of(opts)?;
    let work = Workload::build(&sizes)?;
    let mut results = Vec::new();

    // References: the raw Ed25519 rates on all cores, over the workload's own reports.
    let raw = RawReports::new(&work.chain_id, &work.feeds, RAW_ITEMS);
    let batch_rate_before = raw.batch_rate(sizes.raw)?;
    let single_rate = raw.single_rate(sizes.raw)?;
    let cofactored_rate = raw.cofactored_batch_rate(sizes.raw)?;

    // A real node on a temporary directory, its fleets registered before the timed window.
    let dir = tempfile::tempdir()?;
    let home = Home::new(dir.path());
    std::fs::create_dir_all(home.ledger())?;
    let ledger = Ledger::open(&home.ledger(), &work.genesis, true)?;
    let chain = Chain::new(ledger, work.genesis.clone(), Some(key_from(&work.node_seed)));
    let node = Node::from_parts(chain, node_config(&sizes));
    let sequencer = node.start_sequencer();
    let run = register(&node, &work.registrations).and_then(|()| run_ingest(&node, &work, &sizes));
    let stopped = sequencer.stop().map_err(|e| BenchError::Ingest(format!("the sequencer stopped on a fault: {e}")));
    let run = run?;
    stopped?;
    drop(node);
    dir.close()?;
    let batch_rate_after = raw.batch_rate(sizes.raw)?;
    drop(raw);
    let batch_rate = (batch_rate_before + batch_rate_after) / 2.0;
    results.push(BenchResult::new("raw_batch_verify_all_cores", batch_rate, "sig/s"));
    results.push(BenchResult::new("raw_batch_verify_before", batch_rate_before, "sig/s"));
    results.push(BenchResult::new("raw_batch_verify_after", batch_rate_after, "sig/s"));
    results.push(BenchResult::new("raw_single_verify_all_cores", single_rate, "sig/s"));
    results.push(BenchResult::new("raw_cofactored_batch_verify_all_cores", cofactored_rate, "sig/s"));

    let n = sizes.reports as f64;
    let end_to_end = n / run.wall.as_secs_f64();
    let edge_time = run.latencies.iter().sum::<Duration>().as_secs_f64() / sizes.clients as f64;
    results.push(BenchResult::new("ingest_end_to_end", end_to_end, "reports/s"));
    results.push(
        BenchResult::new("ingest_ratio_to_raw_batch_verify", end_to_end / batch_rate, "ratio")
            .with_target(Target::at_least(TARGET_RATIO)),
    );
    results.push(BenchResult::new("ingest_ratio_to_raw_single_verify", end_to_end / single_rate, "ratio"));
    results.push(BenchResult::new("ingest_ratio_to_raw_cofactored_batch", end_to_end / cofactored_rate, "ratio"));
    results.push(BenchResult::new("accepted", run.accepted as f64, "reports"));
    results.push(BenchResult::new("assets", sizes.assets as f64, "assets"));
    results.push(BenchResult::new("clients", sizes.clients as f64, "threads"));
    results.push(BenchResult::new("ingest_call_latency_p50_ms", percentile_us(&run.latencies, 50.0) / 1e3, "ms"));
    results.push(BenchResult::new("ingest_call_latency_p99_ms", percentile_us(&run.latencies, 99.0) / 1e3, "ms"));
    results.push(BenchResult::new("ingest_edge_only", n / edge_time, "reports/s"));
    results.push(BenchResult::new("ingest_feed_s", run.fed.as_secs_f64(), "s"));
    results.push(BenchResult::new("ingest_drain_ms", (run.wall - run.fed).as_secs_f64() * 1e3, "ms"));
    results.push(BenchResult::new("ingest_blocks", run.blocks as f64, "blocks"));
    results.push(BenchResult::new("ingest_overloaded_retries", run.overloaded as f64, "calls"));
    Ok(BenchReport { suite: "ingest".to_string(), machine: measure::machine(), date: measure::utc_date(), results })
}

/// The node's configuration: the defaults (sequencer, mempool), with an ingest queue that holds
/// the whole run and a per-asset rate limit and burst that admit every asset's reports at once
/// (the workload compresses minutes of device time into seconds).
fn node_config(sizes: &Sizes) -> NodeConfig {
    let per_asset = u32::try_from(sizes.reports.div_ceil(sizes.assets)).unwrap_or(u32::MAX);
    let mut config = NodeConfig::default();
    config.telemetry.queue_max_reports = config.telemetry.queue_max_reports.max(sizes.reports);
    config.telemetry.rate_per_minute = u32::MAX / 2;
    config.telemetry.burst = per_asset.saturating_add(1).max(config.telemetry.burst);
    config
}

/// The pre-built workload.
struct Workload {
    chain_id: String,
    node_seed: [u8; 32],
    genesis: Genesis,
    /// `RegisterAssets` transactions, one per fleet (owner).
    registrations: Vec<Transaction>,
    /// Per client: its batches, each with the edge's clock for it.
    feeds: Vec<Vec<Batch>>,
    /// Per asset: (id, the epochs its reports fall in, its last sequence number).
    assets: Vec<(AssetId, Vec<u64>, u64)>,
}

/// One ingest request.
struct Batch {
    reports: Vec<SignedReport>,
    /// The edge's clock for it: the latest device time in it.
    now_ms: u64,
}

impl Workload {
    fn build(sizes: &Sizes) -> Result<Workload, BenchError> {
        let mut rng = SplitMix64::new(SEED);
        let node_seed = rng.bytes32();
        let chain_id = "depin-bench-ingest".to_string();
        let fleets = sizes.assets.div_ceil(MAX_REGISTRATIONS_PER_TX);
        let owner_seeds: Vec<[u8; 32]> = (0..fleets).map(|_| rng.bytes32()).collect();
        let owner_keys: Vec<SecretKey> = measure::par_map(&owner_seeds, key_from);
        let owner_addresses: Vec<Address> = owner_keys.iter().map(|k| k.public_key().address()).collect();
        let node_public = key_from(&node_seed).public_key();
        let telemetry = TelemetryParams {
            epoch_ms: 3_600_000,
            buckets_per_epoch: 12,
            max_report_age_ms: 900_000,
            ..TelemetryParams::default()
        };
        let genesis = Genesis {
            chain_id: chain_id.clone(),
            genesis_time_ms: now_ms().saturating_sub(1_000),
            params: Params { min_fee: Amount(1), max_block_txs: Params::default().max_block_txs },
            validators: vec![GenesisValidator { name: "bench".to_string(), public_key: node_public.clone(), p2p: None }],
            // The node account pays the fee of its SubmitTelemetry transactions.
            accounts: owner_addresses
                .iter()
                .chain(std::iter::once(&node_public.address()))
                .map(|a| GenesisAccount { address: *a, balance: OWNER_BALANCE })
                .collect(),
            telemetry: telemetry.clone(),
            market: Default::default(),
        };
        genesis.validate().map_err(|e| BenchError::Options(format!("the benchmark genesis is invalid: {e}")))?;

        // Assets: the registry suite's specs (class mix, metro locations), keys from their seeds.
        let indices: Vec<usize> = (0..sizes.assets).collect();
        let specs: Vec<([u8; 32], AssetDescriptor)> = measure::par_map(&indices, |&i| asset_spec(SEED, i));
        let device_keys: Vec<SecretKey> = measure::par_map(&specs, |(seed, _)| key_from(seed));
        let descriptors: Vec<AssetDescriptor> = specs.into_iter().map(|(_, d)| d).collect();

        // One RegisterAssets transaction per fleet of 64, signed by the fleet's owner.
        let params = RegistryParams::default();
        let fleet_ids: Vec<usize> = (0..fleets).collect();
        let registrations = measure::par_map(&fleet_ids, |&f| {
            let range = f * MAX_REGISTRATIONS_PER_TX..((f + 1) * MAX_REGISTRATIONS_PER_TX).min(sizes.assets);
            let assets = range
                .map(|i| {
                    let d = descriptors[i].clone();
                    let bond = params.bond(d.capacity.class());
                    Registration::sign(&chain_id, &owner_addresses[f], &device_keys[i], d, bond, None)
                })
                .collect();
            TxContent {
                chain_id: chain_id.clone(),
                signer: owner_keys[f].public_key(),
                nonce: 0,
                fee: Amount(1),
                body: TxBody::RegisterAssets { assets },
            }
            .sign(&owner_keys[f])
        });

        // Reports per asset (spread evenly), and their device times: evenly spaced, at most
        // MAX_SPAN_MS for an asset, and close enough that a batch spans at most
        // MAX_BATCH_SPREAD_MS, the last one LAST_REPORT_AGE_MS before now.
        let counts: Vec<u64> =
            (0..sizes.assets).map(|i| (sizes.reports / sizes.assets + usize::from(i < sizes.reports % sizes.assets)) as u64).collect();
        let per_max = counts[0].max(1);
        let fewest_per_client = (sizes.assets / sizes.clients) as u64;
        let rounds_per_batch = (MAX_REPORTS_PER_BATCH as u64).div_ceil(fewest_per_client.max(1)) + 1;
        let spacing_ms =
            1_000u64.min(MAX_SPAN_MS / per_max).min(MAX_BATCH_SPREAD_MS / rounds_per_batch).max(1);
        let last_ms = now_ms() - LAST_REPORT_AGE_MS;
        let first_ms = last_ms - (per_max - 1) * spacing_ms;
        let uptime_s = u32::try_from(spacing_ms / 1_000).unwrap_or(1).max(1);

        // Each client owns the assets i ≡ c (mod clients) and sends their reports round by round
        // (every asset's report k, then every asset's report k + 1), so each asset's reports
        // reach the edge in order.
        let mut feeds = Vec::with_capacity(sizes.clients);
        for c in 0..sizes.clients {
            let mine: Vec<usize> = (c..sizes.assets).step_by(sizes.clients).collect();
            let mut unsigned: Vec<(usize, Report)> = Vec::new();
            for k in 0..per_max {
                for &i in mine.iter().filter(|&&i| k < counts[i]) {
                    let ts = first_ms + k * spacing_ms;
                    let d = &descriptors[i];
                    let fix = (d.mobility == Mobility::Mobile).then_some(Fix { cell: d.location, accuracy_m: 5 });
                    let report = Report {
                        version: REPORT_VERSION,
                        asset: AssetId::of(&device_keys[i].public_key()),
                        epoch: telemetry.epoch_of(ts),
                        seq: k + 1,
                        timestamp_ms: ts,
                        uptime_s,
                        metrics: metrics_for(&d.capacity, uptime_s, &mut rng),
                        fix,
                    };
                    unsigned.push((i, report));
                }
            }
            let signed = measure::par_map(&unsigned, |(i, r)| r.clone().sign(&chain_id, &device_keys[*i]));
            drop(unsigned);
            let batches = signed
                .chunks(MAX_REPORTS_PER_BATCH)
                .map(|b| Batch {
                    now_ms: b.iter().map(|r| r.report.timestamp_ms).max().unwrap_or(last_ms),
                    reports: b.to_vec(),
                })
                .collect();
            feeds.push(batches);
        }

        let assets = (0..sizes.assets)
            .map(|i| {
                let epochs: Vec<u64> = if counts[i] == 0 {
                    Vec::new()
                } else {
                    let first = telemetry.epoch_of(first_ms);
                    let last = telemetry.epoch_of(first_ms + (counts[i] - 1) * spacing_ms);
                    (first..=last).collect()
                };
                (AssetId::of(&device_keys[i].public_key()), epochs, counts[i])
            })
            .collect();
        Ok(Workload { chain_id, node_seed, genesis, registrations, feeds, assets })
    }
}

/// Class metrics within the declared capacity (rule M-8) over `uptime_s` seconds.
fn metrics_for(capacity: &Capacity, uptime_s: u32, rng: &mut SplitMix64) -> Metrics {
    let up = u64::from(uptime_s);
    let mut below = |n: u64| rng.next_u64() % n.max(1);
    match capacity {
        Capacity::Wireless(_) => {
            Metrics::Wireless { bytes_served: below(1 << 20), sessions: u32::try_from(below(8)).unwrap_or(0) }
        }
        Capacity::Compute(c) => Metrics::Compute {
            cpu_load_permille: u16::try_from(below(1_001)).unwrap_or(0),
            memory_used_mib: below(c.memory_mib + 1),
            gpu_load_permille: if c.gpus.is_empty() { 0 } else { u16::try_from(below(1_001)).unwrap_or(0) },
            disk_used_mib: below(1 << 20),
            net_rx_bytes: below(1 << 24),
            net_tx_bytes: below(1 << 24),
            jobs_done: u32::try_from(below(4)).unwrap_or(0),
        },
        Capacity::Storage(c) => Metrics::Storage {
            bytes_stored: below(c.bytes + 1),
            bytes_served: below(1 << 24),
            proofs_passed: u32::try_from(below(2)).unwrap_or(0),
        },
        Capacity::Energy(c) => Metrics::Energy {
            wh_produced: c.peak_w * up / 3_600,
            wh_consumed: below(10),
            wh_stored: below(c.storage_wh + 1),
            state_of_charge_permille: u16::try_from(below(1_001)).unwrap_or(0),
        },
        Capacity::Sensor(c) => {
            Metrics::Sensor { readings: u32::try_from(up * 1_000 / u64::from(c.sample_period_ms.max(1))).unwrap_or(0) }
        }
        Capacity::Mining(c) => Metrics::Mining {
            hashrate_hps: below(c.hashrate_hps + 1),
            shares_accepted: u32::try_from(below(3)).unwrap_or(0),
            wh_consumed: below(10),
        },
    }
}

/// Submit the fleets' registrations and wait until every one is committed and applied.
fn register(node: &Node, txs: &[Transaction]) -> Result<(), BenchError> {
    let mut ids: Vec<Hash32> = Vec::with_capacity(txs.len());
    for tx in txs {
        let id = node.submit(tx.clone()).map_err(|e| BenchError::Ingest(format!("a registration was refused: {e}")))?;
        ids.push(id);
    }
    let deadline = Instant::now() + REGISTER_TIMEOUT;
    for id in ids {
        loop {
            match node.tx_status(&id).map_err(node_error)? {
                TxStatus::Committed { receipt, .. } if receipt.applied() => break,
                TxStatus::Committed { receipt, .. } => {
                    return Err(BenchError::Ingest(format!("a registration was rejected: {:?}", receipt.outcome)));
                }
                TxStatus::Unknown => return Err(BenchError::Ingest(format!("registration {id} was dropped"))),
                TxStatus::Pending if Instant::now() > deadline => {
                    return Err(BenchError::Ingest("the registrations did not commit in time".into()));
                }
                TxStatus::Pending => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    }
    Ok(())
}

fn node_error(e: depin_node::NodeError) -> BenchError {
    BenchError::Ingest(format!("node: {e}"))
}

/// What the timed window measured.
struct Run {
    /// First ingest call to every report counted in state.
    wall: Duration,
    /// First ingest call to the last one returning.
    fed: Duration,
    /// Duration of every successful ingest call.
    latencies: Vec<Duration>,
    accepted: usize,
    overloaded: u64,
    blocks: u64,
}

/// One client's tally.
#[derive(Default)]
struct Client {
    latencies: Vec<Duration>,
    accepted: usize,
    refused: BTreeMap<&'static str, usize>,
    overloaded: u64,
}

/// Feed every client's batches through the edge, then wait until state counts every report.
fn run_ingest(node: &Node, work: &Workload, sizes: &Sizes) -> Result<Run, BenchError> {
    let ledger = node.chain().ledger();
    let height0 = ledger.head()?.height;
    let start_line = Barrier::new(sizes.clients + 1);
    let (start, clients) = std::thread::scope(|s| {
        let handles: Vec<_> = work
            .feeds
            .iter()
            .map(|feed| {
                let start_line = &start_line;
                s.spawn(move || {
                    start_line.wait();
                    feed_client(node, feed)
                })
            })
            .collect();
        start_line.wait();
        let start = Instant::now();
        let clients: Vec<_> =
            handles.into_iter().map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect();
        (start, clients)
    });
    let fed = start.elapsed();
    let mut tally = Client::default();
    for c in clients {
        let c = c?;
        tally.latencies.extend(c.latencies);
        tally.accepted += c.accepted;
        tally.overloaded += c.overloaded;
        for (code, n) in c.refused {
            *tally.refused.entry(code).or_default() += n;
        }
    }
    if tally.accepted != sizes.reports {
        return Err(BenchError::Ingest(format!(
            "the edge accepted {} of {} reports; refused: {:?}",
            tally.accepted, sizes.reports, tally.refused
        )));
    }

    // Drain: pack the last partial transaction, then poll until the state accounts for every
    // report. The (exact, per-asset) tally runs only when a new block has been applied and
    // nothing waits in the mempool, so the poll barely competes with the node for the cores.
    let deadline = Instant::now() + DRAIN_TIMEOUT;
    let mut checked_height = None;
    let done = loop {
        node.flush_telemetry(true);
        if node.mempool_len() == 0 {
            let at = Instant::now();
            let height = ledger.state_at()?.map(|s| s.height);
            if height != checked_height {
                checked_height = height;
                let (counted, refused) = state_tally(node, &work.assets)?;
                if counted == sizes.reports as u64 {
                    break at;
                }
                if counted + refused.values().sum::<u64>() >= sizes.reports as u64 {
                    return Err(BenchError::Ingest(format!(
                        "the state counts {counted} of {} reports and refused the others: {refused:?}",
                        sizes.reports
                    )));
                }
            }
        }
        if Instant::now() > deadline {
            let (counted, refused) = state_tally(node, &work.assets)?;
            return Err(BenchError::Ingest(format!(
                "after {} s the state counts {counted} of {} reports; refused in state: {refused:?}",
                DRAIN_TIMEOUT.as_secs(),
                sizes.reports
            )));
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    let wall = done - start;
    check_heads(node, &work.assets)?;
    let blocks = ledger.head()?.height - height0;
    Ok(Run { wall, fed, latencies: tally.latencies, accepted: tally.accepted, overloaded: tally.overloaded, blocks })
}

/// Send one client's batches in order, retrying a batch the node refuses as overloaded.
fn feed_client(node: &Node, feed: &[Batch]) -> Result<Client, BenchError> {
    let mut c = Client { latencies: Vec::with_capacity(feed.len()), ..Client::default() };
    for batch in feed {
        loop {
            // The request as it arrives (the node takes ownership); copied outside the timer.
            let reports = batch.reports.clone();
            let t = Instant::now();
            match node.ingest_at(reports, batch.now_ms) {
                Ok(results) => {
                    c.latencies.push(t.elapsed());
                    for r in results {
                        if r.code == ReportCode::Accepted {
                            c.accepted += 1;
                        } else {
                            *c.refused.entry(r.code.name()).or_default() += 1;
                        }
                    }
                    break;
                }
                Err(IngestError::Overloaded { .. }) => {
                    c.overloaded += 1;
                    std::thread::sleep(OVERLOADED_SLEEP);
                }
                Err(e) => return Err(BenchError::Ingest(format!("the edge refused a batch: {e}"))),
            }
        }
    }
    Ok(c)
}

/// The state's account of the workload's reports: how many it counted
/// (`TelemetryEpoch::reports`, summed over every asset and epoch) and how many it refused, by
/// code (an aggregate's `refused`, kept under the epoch of the block that refused them).
fn state_tally(node: &Node, assets: &[(AssetId, Vec<u64>, u64)]) -> Result<(u64, BTreeMap<&'static str, u64>), BenchError> {
    let snap = node.chain().ledger().snapshot()?;
    let now_epoch = node.chain().genesis().telemetry.epoch_of(now_ms());
    let mut counted = 0u64;
    let mut refused = BTreeMap::new();
    for (id, epochs, _) in assets {
        let (Some(&first), Some(&last)) = (epochs.first(), epochs.last()) else { continue };
        let head = read_telemetry_head(&snap, id)?;
        for e in first..=last.max(now_epoch) {
            if let Some(agg) = read_telemetry_epoch(&snap, head.as_ref(), id, e)? {
                counted += u64::from(agg.reports);
                for (tag, n) in agg.refused {
                    let name = ReportCode::from_tag(tag).map_or("unknown", ReportCode::name);
                    *refused.entry(name).or_default() += u64::from(n);
                }
            }
        }
    }
    Ok((counted, refused))
}

/// Every asset's last accepted sequence in state is its last report's.
fn check_heads(node: &Node, assets: &[(AssetId, Vec<u64>, u64)]) -> Result<(), BenchError> {
    let snap = node.chain().ledger().snapshot()?;
    for (id, _, last_seq) in assets.iter().filter(|(_, _, n)| *n > 0) {
        let head = read_telemetry_head(&snap, id)?;
        if head.as_ref().map(|h| h.seq) != Some(*last_seq) {
            return Err(BenchError::Ingest(format!(
                "asset {id}: the state's last sequence is {:?}, its last report's is {last_seq}",
                head.map(|h| h.seq)
            )));
        }
    }
    Ok(())
}

/// Reports with their keys and signed messages: the raw verification references.
struct RawReports {
    keys: Vec<PublicKey>,
    key_bytes: Vec<[u8; 32]>,
    messages: Vec<Vec<u8>>,
    signatures: Vec<depin_types::Signature>,
    signature_bytes: Vec<[u8; 64]>,
}

impl RawReports {
    /// Up to `n` reports from the clients' feeds, a whole number of batches of 64 if there are
    /// that many.
    fn new(chain_id: &str, feeds: &[Vec<Batch>], n: usize) -> RawReports {
        let mut picked: Vec<&SignedReport> = feeds.iter().flatten().flat_map(|b| &b.reports).take(n).collect();
        if picked.len() > RAW_BATCH {
            picked.truncate(picked.len() / RAW_BATCH * RAW_BATCH);
        }
        RawReports {
            keys: picked.iter().map(|r| r.device_key.clone()).collect(),
            key_bytes: picked
                .iter()
                .map(|r| r.device_key.ed25519_bytes().expect("invariant: device keys of the workload are Ed25519"))
                .collect(),
            messages: measure::par_map(&picked, |r| report_message(chain_id, &r.report)),
            signatures: picked.iter().map(|r| r.signature.clone()).collect(),
            signature_bytes: picked
                .iter()
                .map(|r| <[u8; 64]>::try_from(r.signature.bytes()).expect("invariant: Ed25519 signatures are 64 bytes"))
                .collect(),
        }
    }

    /// Signatures per second on all cores for `duration`: each thread runs `verify` on its
    /// share of the chunks of `chunk` items, over and over until the time is up.
    fn rate(&self, duration: Duration, chunk: usize, verify: impl Fn(usize, usize) -> bool + Sync) -> Option<f64> {
        let n = self.messages.len();
        let chunks: Vec<(usize, usize)> = (0..n).step_by(chunk).map(|s| (s, (s + chunk).min(n))).collect();
        let threads = measure::cpus().min(chunks.len()).max(1);
        let start_line = Barrier::new(threads);
        let per_thread: Vec<Option<(u64, Duration)>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let (chunks, verify, start_line) = (&chunks, &verify, &start_line);
                    s.spawn(move || {
                        let mine: Vec<(usize, usize)> = chunks.iter().skip(t).step_by(threads).copied().collect();
                        start_line.wait();
                        let start = Instant::now();
                        let mut verified = 0u64;
                        for &(a, b) in mine.iter().cycle() {
                            if start.elapsed() >= duration {
                                break;
                            }
                            if !verify(a, b) {
                                return None;
                            }
                            verified += (b - a) as u64;
                        }
                        Some((verified, start.elapsed()))
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap_or(None)).collect()
        });
        let mut total = 0u64;
        let mut longest = Duration::ZERO;
        for r in per_thread {
            let (v, d) = r?;
            total += v;
            longest = longest.max(d);
        }
        Some(total as f64 / longest.as_secs_f64())
    }

    /// `Ed25519Batch::verify` over batches of 64 distinct reports, one thread per core.
    fn batch_rate(&self, duration: Duration) -> Result<f64, BenchError> {
        self.rate(duration, RAW_BATCH, |a, b| {
            let msgs: Vec<&[u8]> = self.messages[a..b].iter().map(Vec::as_slice).collect();
            Ed25519Batch::verify(&msgs, &self.signature_bytes[a..b], &self.key_bytes[a..b])
        })
        .ok_or(BenchError::Signature("raw batch verification of the workload's reports"))
    }

    /// The edge's predicate raw: `verify_cofactored_batch_bytes` (keys decoded per call, as the
    /// reference does) over batches of the edge's size, one thread per core.
    fn cofactored_batch_rate(&self, duration: Duration) -> Result<f64, BenchError> {
        self.rate(duration, VERIFY_BATCH, |a, b| {
            let msgs: Vec<&[u8]> = self.messages[a..b].iter().map(Vec::as_slice).collect();
            verify_cofactored_batch_bytes(&msgs, &self.signature_bytes[a..b], &self.key_bytes[a..b])
        })
        .ok_or(BenchError::Signature("raw cofactored batch verification of the workload's reports"))
    }

    /// Strict `PublicKey::verify` of single reports, one thread per core.
    fn single_rate(&self, duration: Duration) -> Result<f64, BenchError> {
        self.rate(duration, RAW_BATCH, |a, b| {
            (a..b).all(|i| self.keys[i].verify(&self.messages[i], &self.signatures[i]).is_ok())
        })
        .ok_or(BenchError::Signature("raw strict verification of the workload's reports"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_validated() {
        for bad in [
            IngestBenchOptions { reports: 0, ..IngestBenchOptions::quick() },
            IngestBenchOptions { assets: 0, ..IngestBenchOptions::quick() },
            IngestBenchOptions { clients: 0, ..IngestBenchOptions::quick() },
            IngestBenchOptions { reports: 1_000_000, assets: 1, quick: false, clients: 1 },
        ] {
            assert!(matches!(Sizes::of(&bad), Err(BenchError::Options(_))), "{bad:?}");
        }
        let s = Sizes::of(&IngestBenchOptions { clients: 8, assets: 3, reports: 10, quick: false }).unwrap();
        assert_eq!(s.clients, 3, "at most one client per asset");
    }

    #[test]
    fn the_workload_is_in_order_within_the_edge_window_and_plausible() {
        let sizes = Sizes { reports: 1_000, assets: 70, clients: 2, raw: Duration::ZERO };
        let work = Workload::build(&sizes).unwrap();
        assert_eq!(work.registrations.len(), 2, "fleets of 64");
        let all: Vec<&SignedReport> = work.feeds.iter().flatten().flat_map(|b| &b.reports).collect();
        assert_eq!(all.len(), 1_000);
        assert_eq!(work.assets.iter().map(|a| a.2).sum::<u64>(), 1_000);
        for batch in work.feeds.iter().flatten() {
            assert!(batch.reports.len() <= MAX_REPORTS_PER_BATCH);
            for r in &batch.reports {
                assert!(r.report.timestamp_ms.abs_diff(batch.now_ms) <= MAX_BATCH_SPREAD_MS, "within the skew window");
            }
        }
        // Per asset, in feed order: seq 1, 2, … with non-decreasing time, and a valid signature.
        let mut last: BTreeMap<AssetId, (u64, u64)> = BTreeMap::new();
        for r in &all {
            let (seq, ts) = last.get(&r.report.asset).copied().unwrap_or((0, 0));
            assert_eq!(r.report.seq, seq + 1);
            assert!(r.report.timestamp_ms >= ts);
            last.insert(r.report.asset, (r.report.seq, r.report.timestamp_ms));
        }
        assert!(all.iter().take(50).all(|r| r.signature_ok(&work.chain_id)));
    }
}
