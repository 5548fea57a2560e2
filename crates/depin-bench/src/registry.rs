//! The `registry` suite: register many assets (a million by default) in batched, signed
//! `RegisterAssets` transactions through the real pipeline into a durable ledger; report assets
//! per second, resident memory, and the latency of listing assets by owner and by region, beside
//! the physical references of the same run (raw Ed25519 verify rates, raw fsync latency).
//!
//! Order of a run:
//!
//! 1. **Plan (not timed).** Owner keys and a genesis funding them; which owner sends each
//!    transaction (a skewed draw: a few large fleets and a long tail) and its nonce.
//! 2. **Workload, in chunks (timed apart).** For [`CHUNK_BLOCKS`] blocks at a time, on all cores:
//!    device keys derived from seeds, descriptors (a class mix and points around real metro
//!    areas), proofs of possession, owner-signed transactions, canonical bytes. Only the bytes
//!    are kept, and only for one chunk, so the workload never holds all the device keys at once
//!    and barely shows in the memory figures.
//! 3. **References.** Strict Ed25519 verification of the first chunk's proofs of possession, on
//!    one core and on all cores (best of 3), and raw fsync latency in the ledger's directory.
//! 4. **Registration (timed).** Each chunk, block after block, pipelined as the node is: a
//!    verifier thread decodes and verifies block N+1 on all cores (`Transaction::verdict`:
//!    the transaction signature and every proof of possession) while the sequencer runs
//!    `Chain::propose` and `Chain::finalize` (fsync'd block log) for block N. The pipeline
//!    drains at the end of each chunk; the drain is inside the timed window.
//! 5. **Memory.** `VmRSS` and `VmHWM` of this process from `/proc/self/status` right after the
//!    last block, with the ledger open and the last chunk dropped.
//! 6. **Queries** on the resulting state: every asset of random owners (a prefix scan of the
//!    owner index, then each asset record), and every asset in random H3 cells of resolution
//!    [`QUERY_RESOLUTION`] (one range scan of the cell index over the cell's descendants at the
//!    registry's resolution, then each asset record). Each result count is checked against the
//!    plan.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use depin_crypto::verify_all_parallel;
use depin_ledger::{Ledger, LedgerError, StateSnapshot};
use depin_node::home::Home;
use depin_node::Chain;
use depin_types::asset::compute::{Arch, ComputeCapacity, Gpus};
use depin_types::asset::energy::EnergyCapacity;
use depin_types::asset::mining::{Algorithm, MiningCapacity};
use depin_types::asset::sensor::{SensorCapacity, SensorKind};
use depin_types::asset::storage::{Media, Redundancy, StorageCapacity};
use depin_types::asset::wireless::{Band, WirelessCapacity};
use depin_types::asset::{
    possession_message, Asset, AssetDescriptor, AssetMetadata, Capacity, EnergyProfile, EnergySource, Mobility,
    Registration, RegistryParams, MAX_REGISTRATIONS_PER_TX,
};
use depin_types::genesis::GenesisValidator;
use depin_types::geo::{Cell, LatLon};
use depin_types::limits::{MAX_BLOCK_BYTES, MAX_BLOCK_TXS_CEILING, MAX_GENESIS_ACCOUNTS, MAX_TX_BYTES};
use depin_types::registry_key as key;
use depin_types::{
    Address, Amount, Genesis, GenesisAccount, Params, PublicKey, Scheme, SecretKey, Signature, Transaction, TxBody,
    TxContent,
};

use crate::ledger::{raw_fsync, run_blocks, Phases};
use crate::measure::{self, best, now_ms, percentile_us, us, SplitMix64};
use crate::report::{BenchReport, BenchResult, Target};
use crate::BenchError;

/// Assets registered by default: the size DESIGN.md §4's memory target is set for.
pub const DEFAULT_ASSETS: usize = 1_000_000;
/// Owner accounts by default.
pub const DEFAULT_OWNERS: usize = 1_000;
/// Transactions per block by default: 6,400 assets per block at 64 per transaction.
pub const DEFAULT_TXS_PER_BLOCK: usize = 100;
/// The workload seed by default.
pub const DEFAULT_SEED: u64 = 0x7265_6769_7374_7279; // "registry"
/// Most assets a run may register (a limit on the run's time and disk).
pub const MAX_ASSETS: usize = 10_000_000;
/// Blocks generated, then registered, at a time: bounds the workload held in memory (about
/// 33 MB of transaction bytes at 100 transactions of 64 assets per block, ≈ 10 KB each).
pub const CHUNK_BLOCKS: usize = 32;
/// Resolution of the region query cells (H3 res 6: about 36 km², a district of a metro area).
pub const QUERY_RESOLUTION: u8 = 6;
/// DESIGN.md §4: 1,000,000 assets registered in at most 1.5 GiB resident.
pub const MEMORY_TARGET_BYTES: u64 = 1_610_612_736;
/// The asset count the memory target is set for; smaller runs report memory without it.
pub const MEMORY_TARGET_ASSETS: usize = 1_000_000;

/// Index entries read per scan call in the queries (an API page).
const SCAN_PAGE: usize = 1_024;
/// Proofs of possession in the raw verification reference (fewer if the run is smaller).
const RAW_SIGS: usize = 16_384;
/// Repetitions of each raw verify rate; the best is reported (noise only slows a repetition).
const RAW_REPS: usize = 3;
/// Samples of the raw fsync latency.
const FSYNC_ITERS: usize = 200;
/// Genesis balance of every owner: far more than any fleet's bonds and fees.
pub(crate) const OWNER_BALANCE: Amount = Amount(1_000_000_000_000_000_000);

/// Options of the registry suite (`depin bench registry`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistryBenchOptions {
    /// Assets to register, 1 to [`MAX_ASSETS`].
    pub assets: usize,
    /// Owner accounts the transactions come from (each transaction has one owner).
    pub owners: usize,
    /// Registrations per transaction, 1 to `MAX_REGISTRATIONS_PER_TX` (64).
    pub batch: usize,
    /// Transactions per block (also the genesis `max_block_txs`). Below 64, the node's
    /// parallel verifier runs a block on one thread.
    pub txs_per_block: usize,
    /// Fsync the block log per block, as the node does (false: nothing is fsync'd, and no fsync
    /// reference is measured).
    pub durable: bool,
    /// Owner queries, and region queries, to time.
    pub queries: usize,
    /// Seed of the whole workload: keys, descriptors, owners, query picks.
    pub seed: u64,
}

impl Default for RegistryBenchOptions {
    fn default() -> Self {
        RegistryBenchOptions {
            assets: DEFAULT_ASSETS,
            owners: DEFAULT_OWNERS,
            batch: MAX_REGISTRATIONS_PER_TX,
            txs_per_block: DEFAULT_TXS_PER_BLOCK,
            durable: true,
            queries: 1_000,
            seed: DEFAULT_SEED,
        }
    }
}

impl RegistryBenchOptions {
    fn check(&self) -> Result<(), BenchError> {
        let bad = |m: String| Err(BenchError::Options(m));
        if !(1..=MAX_ASSETS).contains(&self.assets) {
            return bad(format!("assets must be 1..={MAX_ASSETS}"));
        }
        // One genesis account per owner, plus room for the validator's.
        if !(1..MAX_GENESIS_ACCOUNTS).contains(&self.owners) {
            return bad(format!("owners must be 1..{MAX_GENESIS_ACCOUNTS}"));
        }
        if !(1..=MAX_REGISTRATIONS_PER_TX).contains(&self.batch) {
            return bad(format!("batch must be 1..={MAX_REGISTRATIONS_PER_TX}"));
        }
        // Every block must fit MAX_BLOCK_BYTES even if each transaction is as large as allowed.
        let max_txs = (MAX_BLOCK_TXS_CEILING as usize).min(MAX_BLOCK_BYTES / MAX_TX_BYTES);
        if !(1..=max_txs).contains(&self.txs_per_block) {
            return bad(format!("txs_per_block must be 1..={max_txs}"));
        }
        if self.queries == 0 {
            return bad("queries must be at least 1".into());
        }
        Ok(())
    }
}

/// Run the registry suite. Takes minutes at the default size (a million proofs of possession
/// are made and verified); creates and removes a temporary directory under `$TMPDIR`, whose
/// disk is the one measured, and which must hold a few GB at the default size.
pub fn registry(opts: &RegistryBenchOptions) -> Result<BenchReport, BenchError> {
    opts.check()?;
    let dir = tempfile::tempdir()?;
    let home = Home::new(dir.path());
    std::fs::create_dir_all(home.ledger().parent().unwrap_or(dir.path()))?;

    let plan = Plan::new(opts);
    let n_txs = plan.txs.len();
    let chunk_txs = CHUNK_BLOCKS * opts.txs_per_block;
    let mut results = vec![BenchResult::new("assets_registered", opts.assets as f64, "assets")];

    // The first chunk, made before the references because they verify its proofs.
    let mut generation = Generation::default();
    let mut chunk = plan.generate(0..chunk_txs.min(n_txs), &mut generation)?;

    // References: raw strict verification of proofs of possession, and raw fsync.
    let raw = RawPossession::from_encoded(&plan.genesis.chain_id, &chunk, RAW_SIGS)?;
    let single_1core = best((0..RAW_REPS).map(|_| raw.rate(false)).collect::<Result<_, _>>()?);
    let single_all = best((0..RAW_REPS).map(|_| raw.rate(true)).collect::<Result<_, _>>()?);
    drop(raw);
    results.push(BenchResult::new("raw_ed25519_verify_single_1core", single_1core, "verifications/s"));
    results.push(BenchResult::new("raw_ed25519_verify_single_allcores", single_all, "verifications/s"));
    if opts.durable {
        let fsync = raw_fsync(&home.ledger().with_file_name("fsync-probe"), FSYNC_ITERS)?;
        results.push(BenchResult::new("raw_fsync_latency_p50_us", percentile_us(&fsync, 50.0), "us"));
        results.push(BenchResult::new("raw_fsync_latency_p99_us", percentile_us(&fsync, 99.0), "us"));
    }

    // Registration, chunk after chunk; only `run_blocks` is in the timed window.
    let ledger = Ledger::open(&home.ledger(), &plan.genesis, opts.durable)?;
    let chain = Chain::new(ledger, plan.genesis.clone(), Some(plan.node_key()));
    let mut phases = Phases::default();
    let mut start = 0;
    loop {
        run_blocks(&chain, &chunk, opts.txs_per_block, &mut phases)?;
        start += chunk.len();
        drop(chunk);
        if start >= n_txs {
            break;
        }
        chunk = plan.generate(start..(start + chunk_txs).min(n_txs), &mut generation)?;
    }

    // Memory right after the last block, with the ledger open and the workload dropped.
    let rss = proc_status_bytes("VmRSS")?;
    let peak = proc_status_bytes("VmHWM")?;

    let n = opts.assets as f64;
    let assets_per_s = n / phases.total.as_secs_f64();
    results.push(BenchResult::new("workload_generation_s", generation.wall.as_secs_f64(), "s"));
    results.push(BenchResult::new("workload_keygen_cpu_us_per_asset", us(generation.keygen) / n, "us/asset"));
    results.push(BenchResult::new("workload_sign_cpu_us_per_asset", us(generation.sign) / n, "us/asset"));
    results.push(BenchResult::new("registry_assets_per_s", assets_per_s, "assets/s"));
    results.push(BenchResult::new(
        "registry_blocks_per_s",
        phases.commit.len() as f64 / phases.total.as_secs_f64(),
        "blocks/s",
    ));
    results.push(BenchResult::new("registry_vs_raw_verify_1core_ratio", assets_per_s / single_1core, "ratio"));
    results.push(BenchResult::new("registry_vs_raw_verify_allcores_ratio", assets_per_s / single_all, "ratio"));
    for (name, d) in [
        ("registry_phase_decode_us_per_asset", phases.decode),
        ("registry_phase_verify_us_per_asset", phases.verify),
        ("registry_phase_execute_stage_us_per_asset", phases.execute),
        ("registry_phase_commit_us_per_asset", phases.commit.iter().sum()),
    ] {
        results.push(BenchResult::new(name, us(d) / n, "us/asset"));
    }
    results.push(BenchResult::new("block_commit_latency_p50_us", percentile_us(&phases.log_append, 50.0), "us"));
    results.push(BenchResult::new("block_finalize_latency_p50_us", percentile_us(&phases.commit, 50.0), "us"));
    results.push(BenchResult::new("block_finalize_latency_p99_us", percentile_us(&phases.commit, 99.0), "us"));
    results.push(BenchResult::new("memory_rss_bytes", rss as f64, "bytes"));
    let peak_result = BenchResult::new("memory_peak_rss_bytes", peak as f64, "bytes");
    results.push(if opts.assets >= MEMORY_TARGET_ASSETS {
        peak_result.with_target(Target::at_most(MEMORY_TARGET_BYTES as f64))
    } else {
        peak_result
    });
    results.push(BenchResult::new("ledger_disk_bytes", dir_bytes(&home.ledger())? as f64, "bytes"));

    // Queries on the state the run produced.
    let snapshot = chain.ledger().snapshot()?;
    let mut rng = SplitMix64::new(opts.seed ^ 0x0071_7565_7269_6573); // "queries"
    let mut by_owner = Latencies::default();
    for _ in 0..opts.queries {
        let owner = rng.below(opts.owners);
        let t = Instant::now();
        let found = assets_of_owner(&snapshot, &plan.owner_addresses[owner])?;
        by_owner.push(t.elapsed(), found);
        expect_count("owner", found, plan.owner_assets[owner])?;
    }
    let mut by_region = Latencies::default();
    for _ in 0..opts.queries {
        // A cell around a random asset: where assets are, weighted by how many are there.
        let cell = region_of(&asset_spec(opts.seed, rng.below(opts.assets)).1);
        let t = Instant::now();
        let found = assets_in_cell(&snapshot, cell)?;
        by_region.push(t.elapsed(), found);
        expect_count("region", found, plan_region_count(&generation, cell))?;
    }
    for (what, l) in [("owner", &by_owner), ("region", &by_region)] {
        results.push(BenchResult::new(format!("query_by_{what}_p50_us"), percentile_us(&l.samples, 50.0), "us"));
        results.push(BenchResult::new(format!("query_by_{what}_p99_us"), percentile_us(&l.samples, 99.0), "us"));
        results.push(BenchResult::new(format!("query_by_{what}_mean_assets"), l.mean_found(), "assets"));
    }

    drop(snapshot);
    drop(chain);
    dir.close()?;
    Ok(BenchReport { suite: "registry".to_string(), machine: measure::machine(), date: measure::utc_date(), results })
}

/// Everything decided before any key is made: owners, genesis, and each transaction's owner
/// and nonce.
struct Plan {
    seed: u64,
    assets: usize,
    batch: usize,
    node_seed: [u8; 32],
    genesis: Genesis,
    owner_keys: Vec<SecretKey>,
    owner_public: Vec<PublicKey>,
    owner_addresses: Vec<Address>,
    /// Assets each owner registers.
    owner_assets: Vec<usize>,
    /// Per transaction: (owner index, nonce).
    txs: Vec<(usize, u64)>,
    params: RegistryParams,
}

impl Plan {
    fn new(opts: &RegistryBenchOptions) -> Plan {
        let mut rng = SplitMix64::new(opts.seed);
        let node_seed = rng.bytes32();
        let seeds: Vec<[u8; 32]> = (0..opts.owners).map(|_| rng.bytes32()).collect();
        let owner_keys: Vec<SecretKey> = measure::par_map(&seeds, key_from);
        let owner_public: Vec<PublicKey> = owner_keys.iter().map(SecretKey::public_key).collect();
        let owner_addresses: Vec<Address> = owner_public.iter().map(PublicKey::address).collect();
        let genesis = Genesis {
            telemetry: Default::default(),
            market: Default::default(),
            chain_id: "depin-bench-registry".to_string(),
            genesis_time_ms: now_ms().saturating_sub(1_000),
            params: Params {
                min_fee: Amount(1),
                max_block_txs: u32::try_from(opts.txs_per_block).expect("invariant: checked against the ceiling"),
            },
            validators: vec![GenesisValidator {
                name: "bench".to_string(),
                public_key: key_from(&node_seed).public_key(),
                p2p: None,
            }],
            accounts: owner_addresses.iter().map(|a| GenesisAccount { address: *a, balance: OWNER_BALANCE }).collect(),
        };

        // Owner of each transaction: index ⌊owners · u²⌋ for a uniform u, so owner density
        // falls as 1/√index: with 1,000 owners the first sends ~3% of all assets and the last
        // ~0.05% (a few large fleet operators, a long tail of small ones).
        let n_txs = opts.assets.div_ceil(opts.batch);
        let mut nonces = vec![0u64; opts.owners];
        let mut owner_assets = vec![0usize; opts.owners];
        let txs = (0..n_txs)
            .map(|t| {
                let u = unit_f64(&mut rng);
                let owner = ((u * u * opts.owners as f64) as usize).min(opts.owners - 1);
                let nonce = nonces[owner];
                nonces[owner] += 1;
                owner_assets[owner] += opts.batch.min(opts.assets - t * opts.batch);
                (owner, nonce)
            })
            .collect();
        Plan {
            seed: opts.seed,
            assets: opts.assets,
            batch: opts.batch,
            node_seed,
            genesis,
            owner_keys,
            owner_public,
            owner_addresses,
            owner_assets,
            txs,
            params: RegistryParams::default(),
        }
    }

    fn node_key(&self) -> SecretKey {
        key_from(&self.node_seed)
    }

    /// Sign and encode the transactions `range` on all cores, adding the time spent to `g`.
    fn generate(&self, range: std::ops::Range<usize>, g: &mut Generation) -> Result<Vec<Vec<u8>>, BenchError> {
        let t = Instant::now();
        let indices: Vec<usize> = range.collect();
        let parts = measure::par_map(&chunks_of(&indices, measure::cpus()), |part| self.generate_part(part));
        let mut encoded = Vec::with_capacity(indices.len());
        for part in parts {
            let part = part?;
            encoded.extend(part.encoded);
            g.keygen += part.keygen;
            g.sign += part.sign;
            for cell in part.regions {
                *g.regions.entry(cell).or_insert(0) += 1;
            }
        }
        g.wall += t.elapsed();
        Ok(encoded)
    }

    fn generate_part(&self, txs: &[usize]) -> Result<Part, BenchError> {
        let chain_id = &self.genesis.chain_id;
        let mut part = Part::default();
        for &t in txs {
            let (owner, nonce) = self.txs[t];
            let address = &self.owner_addresses[owner];
            let first = t * self.batch;
            let mut assets = Vec::with_capacity(self.batch);
            for i in first..(first + self.batch).min(self.assets) {
                let (device_seed, descriptor) = asset_spec(self.seed, i);
                part.regions.push(region_of(&descriptor));
                let bond = self.params.bond(descriptor.capacity.class());
                let t0 = Instant::now();
                let device = key_from(&device_seed);
                let t1 = Instant::now();
                assets.push(Registration::sign(chain_id, address, &device, descriptor, bond, None));
                part.keygen += t1 - t0;
                part.sign += t1.elapsed();
            }
            let t2 = Instant::now();
            let content = TxContent {
                chain_id: chain_id.clone(),
                signer: self.owner_public[owner].clone(),
                nonce,
                fee: Amount(1),
                body: TxBody::RegisterAssets { assets },
            };
            let bytes = content.sign(&self.owner_keys[owner]).encode();
            part.sign += t2.elapsed();
            if bytes.len() > MAX_TX_BYTES {
                return Err(BenchError::Options(format!(
                    "a transaction of {} registrations encodes to {} bytes, over {MAX_TX_BYTES}",
                    self.batch,
                    bytes.len()
                )));
            }
            part.encoded.push(bytes);
        }
        Ok(part)
    }
}

/// What one worker generated.
#[derive(Default)]
struct Part {
    encoded: Vec<Vec<u8>>,
    /// The query-resolution cell of each asset, for checking region query counts.
    regions: Vec<Cell>,
    keygen: Duration,
    sign: Duration,
}

/// Workload generation totals over the run.
#[derive(Default)]
struct Generation {
    /// Wall time on all cores.
    wall: Duration,
    /// CPU time deriving device keys, summed over threads.
    keygen: Duration,
    /// CPU time signing proofs of possession and transactions and encoding, summed over threads.
    sign: Duration,
    /// Assets per query-resolution cell.
    regions: BTreeMap<Cell, usize>,
}

fn plan_region_count(g: &Generation, cell: Cell) -> usize {
    g.regions.get(&cell).copied().unwrap_or(0)
}

/// `items` cut into `n` nearly equal consecutive parts (fewer if there are fewer items).
fn chunks_of<T: Clone>(items: &[T], n: usize) -> Vec<Vec<T>> {
    let size = items.len().div_ceil(n.max(1)).max(1);
    items.chunks(size).map(<[T]>::to_vec).collect()
}

pub(crate) fn key_from(seed: &[u8; 32]) -> SecretKey {
    SecretKey::from_seeds(Scheme::Ed25519, seed).expect("invariant: 32-byte seeds are valid")
}

/// A uniform number in [0, 1).
fn unit_f64(rng: &mut SplitMix64) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// A metro area assets cluster in: centre, spread (σ of a normal, km) and weight.
struct Metro {
    lat: f64,
    lon: f64,
    sigma_km: f64,
    weight: u32,
    /// The LoRaWAN band its hotspots use.
    lora: Band,
}

/// Where the assets are: ten metro areas on six continents, weighted like a network that
/// started in North America and Europe. Densest at the centre (thousands of assets per res-6
/// cell at a million assets), tens in the outskirts.
const METROS: &[Metro] = &[
    Metro { lat: 37.7749, lon: -122.4194, sigma_km: 15.0, weight: 16, lora: Band::LorawanUs915 }, // San Francisco Bay
    Metro { lat: 40.7128, lon: -74.0060, sigma_km: 14.0, weight: 15, lora: Band::LorawanUs915 }, // New York
    Metro { lat: 51.5074, lon: -0.1278, sigma_km: 12.0, weight: 12, lora: Band::LorawanEu868 }, // London
    Metro { lat: 52.5200, lon: 13.4050, sigma_km: 10.0, weight: 10, lora: Band::LorawanEu868 }, // Berlin
    Metro { lat: 35.6762, lon: 139.6503, sigma_km: 18.0, weight: 10, lora: Band::LorawanAs923 }, // Tokyo
    Metro { lat: -23.5505, lon: -46.6333, sigma_km: 16.0, weight: 9, lora: Band::LorawanUs915 }, // São Paulo
    Metro { lat: 6.5244, lon: 3.3792, sigma_km: 12.0, weight: 8, lora: Band::LorawanEu868 }, // Lagos
    Metro { lat: 19.0760, lon: 72.8777, sigma_km: 14.0, weight: 8, lora: Band::LorawanEu868 }, // Mumbai
    Metro { lat: 1.3521, lon: 103.8198, sigma_km: 8.0, weight: 6, lora: Band::LorawanAs923 }, // Singapore
    Metro { lat: -33.8688, lon: 151.2093, sigma_km: 15.0, weight: 6, lora: Band::LorawanAs923 }, // Sydney
];

/// A metro area drawn by weight.
fn pick_metro(rng: &mut SplitMix64) -> &'static Metro {
    let total: u32 = METROS.iter().map(|m| m.weight).sum();
    let mut x = rng.below(total as usize) as u32;
    for m in METROS {
        if x < m.weight {
            return m;
        }
        x -= m.weight;
    }
    unreachable!("invariant: the draw is below the sum of the weights")
}

/// Asset `i` of the workload: its device key seed and descriptor, a pure function of
/// (`seed`, `i`) so any asset can be made again (the region queries pick cells this way).
pub(crate) fn asset_spec(seed: u64, i: usize) -> ([u8; 32], AssetDescriptor) {
    let mut rng = SplitMix64::new(seed ^ (i as u64 + 1).wrapping_mul(0xd1b5_4a32_d192_ed03));
    let device_seed = rng.bytes32();
    let metro = pick_metro(&mut rng);
    let location = point_near(&mut rng, metro);
    let pick = |rng: &mut SplitMix64, xs: &[u64]| xs[rng.below(xs.len())];

    // Class mix: hotspots and sensors dominate a DePIN network; servers and rigs are few.
    let (capacity, mobility, energy, model) = match rng.below(100) {
        0..=49 => {
            let band = match rng.below(10) {
                0..=5 => metro.lora,
                6 | 7 => Band::Wifi5g,
                8 => Band::Cbrs,
                _ => Band::Nr5g,
            };
            let range_m = 200 + rng.below(14_800) as u32;
            let draw = EnergyProfile { source: EnergySource::Grid, expected_draw_w: 5 + rng.below(20) as u32 };
            (Capacity::Wireless(WirelessCapacity { band, range_m }), Mobility::Fixed, Some(draw), "rak7268")
        }
        50..=74 => {
            const KINDS: [SensorKind; 8] = [
                SensorKind::Temperature,
                SensorKind::Humidity,
                SensorKind::Pressure,
                SensorKind::ParticulateMatter,
                SensorKind::Gas,
                SensorKind::Noise,
                SensorKind::Camera,
                SensorKind::Vehicle,
            ];
            let first = rng.below(KINDS.len());
            let kinds: Vec<SensorKind> = (0..1 + rng.below(3)).map(|k| KINDS[(first + k) % KINDS.len()]).collect();
            let mobility = if kinds.contains(&SensorKind::Vehicle) { Mobility::Mobile } else { Mobility::Fixed };
            let sample_period_ms = pick(&mut rng, &[1_000, 10_000, 60_000, 300_000]) as u32;
            (Capacity::Sensor(SensorCapacity { kinds, sample_period_ms }), mobility, None, "wx-s2")
        }
        75..=86 => {
            let (source, peak_w, storage_wh) = match rng.below(10) {
                0..=6 => (EnergySource::Solar, 300 + rng.below(19_700) as u64, pick(&mut rng, &[0, 0, 10_000, 13_500])),
                7 | 8 => (EnergySource::Battery, 0, 5_000 + rng.below(15_000) as u64),
                _ => (EnergySource::Wind, 1_000 + rng.below(49_000) as u64, 0),
            };
            (Capacity::Energy(EnergyCapacity { source, peak_w, storage_wh }), Mobility::Fixed, None, "inv-10k")
        }
        87..=92 => {
            let cpu_cores = pick(&mut rng, &[4, 8, 16, 32, 64, 128]) as u32;
            let gpus = match rng.below(10) {
                0..=5 => Vec::new(),
                6..=8 => vec![Gpus { model: "rtx-4090".into(), count: 1 + rng.below(8) as u32 }],
                _ => vec![Gpus { model: "h100".into(), count: 8 }],
            };
            let arch = if rng.below(10) == 0 { Arch::Aarch64 } else { Arch::X86_64 };
            let draw = EnergyProfile { source: EnergySource::Grid, expected_draw_w: 150 * cpu_cores };
            let capacity = ComputeCapacity { cpu_cores, memory_mib: u64::from(cpu_cores) * 4_096, gpus, arch };
            (Capacity::Compute(capacity), Mobility::Fixed, Some(draw), "srv-2u")
        }
        93..=97 => {
            let bytes = (4 + rng.below(396) as u64) << 40; // 4 to 400 TiB
            let media = [Media::Hdd, Media::Hdd, Media::Ssd, Media::Nvme][rng.below(4)];
            let redundancy = [Redundancy::None, Redundancy::Mirror, Redundancy::Parity2][rng.below(3)];
            let draw = EnergyProfile { source: EnergySource::Grid, expected_draw_w: 200 + rng.below(800) as u32 };
            (Capacity::Storage(StorageCapacity { bytes, media, redundancy }), Mobility::Fixed, Some(draw), "jbod-24")
        }
        _ => {
            let (algorithm, hashrate_hps) = match rng.below(3) {
                0 => (Algorithm::Sha256d, (100 + rng.below(300) as u64) * 1_000_000_000_000),
                1 => (Algorithm::Kheavyhash, (10 + rng.below(30) as u64) * 1_000_000_000_000),
                _ => (Algorithm::Scrypt, (5 + rng.below(15) as u64) * 1_000_000_000),
            };
            let draw = EnergyProfile { source: EnergySource::Grid, expected_draw_w: 3_000 + rng.below(2_500) as u32 };
            (Capacity::Mining(MiningCapacity { algorithm, hashrate_hps }), Mobility::Fixed, Some(draw), "s19-xp")
        }
    };
    let metadata = AssetMetadata { name: format!("a-{i}"), model: model.to_string() };
    let resolution = RegistryParams::default().location_resolution;
    let location = location.to_cell(resolution).expect("invariant: the registry resolution is an H3 resolution");
    (device_seed, AssetDescriptor { capacity, location, mobility, energy, metadata })
}

/// A point around `metro`: a normal offset of σ = `sigma_km` in each direction (Box–Muller),
/// cut at 4σ.
fn point_near(rng: &mut SplitMix64, metro: &Metro) -> LatLon {
    const KM_PER_DEGREE: f64 = 111.32;
    let r = (-2.0 * (1.0 - unit_f64(rng)).ln()).sqrt().min(4.0) * metro.sigma_km;
    let theta = std::f64::consts::TAU * unit_f64(rng);
    let lat = metro.lat + r * theta.sin() / KM_PER_DEGREE;
    let lon = metro.lon + r * theta.cos() / (KM_PER_DEGREE * metro.lat.to_radians().cos());
    LatLon::new(lat, lon).expect("invariant: points within ~100 km of a metro centre are valid coordinates")
}

/// The query-resolution cell an asset is in.
fn region_of(d: &AssetDescriptor) -> Cell {
    d.location.parent(QUERY_RESOLUTION).expect("invariant: the query resolution is coarser than the registry's")
}

/// Proofs of possession with their keys and signed messages: the raw verification reference.
struct RawPossession(Vec<(PublicKey, Vec<u8>, Signature)>);

impl RawPossession {
    /// Up to `n` proofs from the start of `encoded` (canonical `RegisterAssets` transactions).
    fn from_encoded(chain_id: &str, encoded: &[Vec<u8>], n: usize) -> Result<RawPossession, BenchError> {
        let mut items = Vec::with_capacity(n);
        for bytes in encoded {
            if items.len() >= n {
                break;
            }
            let tx = Transaction::decode(bytes)?;
            let owner = tx.content.sender();
            if let TxBody::RegisterAssets { assets } = tx.content.body {
                for r in assets.into_iter().take(n - items.len()) {
                    let message = possession_message(chain_id, &owner, &r.descriptor);
                    items.push((r.device_key, message, r.possession));
                }
            }
        }
        Ok(RawPossession(items))
    }

    fn check((key, message, signature): &(PublicKey, Vec<u8>, Signature)) -> bool {
        key.verify(message, signature).is_ok()
    }

    /// Strict single verifications per second, on one thread or (`all_cores`) with the node's
    /// own parallel verifier.
    fn rate(&self, all_cores: bool) -> Result<f64, BenchError> {
        let t = Instant::now();
        let ok = if all_cores {
            verify_all_parallel(&self.0, Self::check).iter().all(|ok| *ok)
        } else {
            self.0.iter().all(Self::check)
        };
        let elapsed = t.elapsed();
        if !ok {
            return Err(BenchError::Signature("a proof of possession of the workload"));
        }
        Ok(self.0.len() as f64 / elapsed.as_secs_f64())
    }
}

/// A field of `/proc/self/status` given in kB (`VmRSS`, `VmHWM`), in bytes.
fn proc_status_bytes(field: &str) -> Result<u64, BenchError> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|line| {
            let rest = line.strip_prefix(field)?.strip_prefix(':')?;
            rest.trim().strip_suffix("kB")?.trim().parse::<u64>().ok()
        })
        .map(|kib| kib * 1024)
        .ok_or_else(|| BenchError::Io(std::io::Error::other(format!("no {field} in /proc/self/status"))))
}

/// Total size of the files in `dir`.
fn dir_bytes(dir: &Path) -> Result<u64, BenchError> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let meta = entry?.metadata()?;
        if meta.is_file() {
            total += meta.len();
        }
    }
    Ok(total)
}

/// Query latencies and result sizes.
#[derive(Default)]
struct Latencies {
    samples: Vec<Duration>,
    found: usize,
}

impl Latencies {
    fn push(&mut self, d: Duration, found: usize) {
        self.samples.push(d);
        self.found += found;
    }

    fn mean_found(&self) -> f64 {
        self.found as f64 / self.samples.len().max(1) as f64
    }
}

fn expect_count(what: &str, found: usize, planned: usize) -> Result<(), BenchError> {
    if found == planned {
        return Ok(());
    }
    Err(BenchError::Ledger(LedgerError::Corrupt(format!(
        "a {what} query found {found} assets, the workload registered {planned} there"
    ))))
}

/// Load the asset an index key names; a dangling index entry is corrupt state.
fn load_asset(snapshot: &StateSnapshot, index_key: &[u8]) -> Result<Asset, BenchError> {
    let id = key::id_of_index_key(index_key)
        .ok_or_else(|| LedgerError::Corrupt(format!("index key {index_key:?} does not end with an asset id")))?;
    Ok(snapshot
        .typed::<Asset>(&key::asset(&id))?
        .ok_or_else(|| LedgerError::Corrupt(format!("index entry for absent asset {id}")))?)
}

/// Every asset of `owner`: a prefix scan of the owner index, page by page, and each record.
fn assets_of_owner(snapshot: &StateSnapshot, owner: &Address) -> Result<usize, BenchError> {
    let prefix = key::owner_prefix(owner);
    let mut after: Option<Vec<u8>> = None;
    let mut found = 0;
    loop {
        let page = snapshot.scan(&prefix, after.as_deref(), SCAN_PAGE)?;
        for (k, _) in &page {
            let asset = load_asset(snapshot, k)?;
            if asset.owner != *owner {
                return Err(LedgerError::Corrupt(format!("owner index lists {} under another owner", asset.id)).into());
            }
            found += 1;
        }
        match page.last() {
            Some((last, _)) if page.len() == SCAN_PAGE => after = Some(last.clone()),
            _ => return Ok(found),
        }
    }
}

/// Every asset in `cell` (coarser than the registry's resolution): one range scan of the cell
/// index from the first to the last descendant at the registry's resolution, page by page, and
/// each record.
fn assets_in_cell(snapshot: &StateSnapshot, cell: Cell) -> Result<usize, BenchError> {
    let resolution = RegistryParams::default().location_resolution;
    let range = cell.descendant_range(resolution).expect("invariant: query cells are coarser than the registry's");
    let (first, last) = (range.start().to_be_bytes(), range.end().to_be_bytes());
    // Scan under the bytes the first and last descendant share: the scan then ends by itself
    // at the end of that prefix, at worst a little after `last`.
    let shared = first.iter().zip(&last).take_while(|(a, b)| a == b).count();
    let prefix = [key::CELLS, &first[..shared]].concat();
    let cell_at = key::CELLS.len();
    // `cell_prefix(first)` is no entry's key and sorts just before the first entry in `first`.
    let mut after = key::cell_prefix(*range.start());
    let mut found = 0;
    loop {
        let page = snapshot.scan(&prefix, Some(&after), SCAN_PAGE)?;
        for (k, _) in &page {
            if k.get(cell_at..cell_at + 8).is_none_or(|c| c > last.as_slice()) {
                return Ok(found);
            }
            let asset = load_asset(snapshot, k)?;
            if !asset.location.is_within(cell) {
                return Err(LedgerError::Corrupt(format!("cell index lists {} outside its cell", asset.id)).into());
            }
            found += 1;
        }
        match page.last() {
            Some((k, _)) if page.len() == SCAN_PAGE => after = k.clone(),
            _ => return Ok(found),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_generated_descriptor_is_valid_at_the_registry_resolution() {
        let params = RegistryParams::default();
        for i in 0..2_000 {
            let (_, d) = asset_spec(7, i);
            d.capacity.validate().unwrap_or_else(|e| panic!("asset {i}: {e}"));
            d.metadata.validate().unwrap_or_else(|e| panic!("asset {i}: {e}"));
            assert_eq!(d.location.resolution(), params.location_resolution);
        }
        assert_eq!(asset_spec(7, 5), asset_spec(7, 5), "a pure function of (seed, index)");
    }

    #[test]
    fn a_full_batch_fits_one_transaction() {
        let opts = RegistryBenchOptions { assets: 64 * 4, owners: 2, ..RegistryBenchOptions::default() };
        let plan = Plan::new(&opts);
        let mut g = Generation::default();
        let encoded = plan.generate(0..4, &mut g).expect("fits");
        assert_eq!(encoded.len(), 4);
        assert!(encoded.iter().all(|b| b.len() <= MAX_TX_BYTES));
        assert_eq!(g.regions.values().sum::<usize>(), 64 * 4);
    }

    #[test]
    fn chunks_cover_every_item_in_order() {
        let v: Vec<usize> = (0..10).collect();
        assert_eq!(chunks_of(&v, 3).concat(), v);
        assert_eq!(chunks_of(&v, 3).len(), 3);
        assert_eq!(chunks_of(&v[..1], 4).len(), 1);
    }
}
