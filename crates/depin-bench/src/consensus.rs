//! The `consensus` suite: a local network of four BFT validators, each a real `depin up`
//! process, loaded over HTTP with signed transfers; measures the finalized transaction rate and
//! the finality latency, beside the raw single-thread Ed25519 verification rate of the same
//! machine measured in the same run.
//!
//! Order of a run:
//!
//! 1. `init_testnet`: four validators on consecutive loopback ports, in a temporary directory.
//! 2. The workload (not timed): keys for `senders` load accounts and for the latency probes,
//!    and every load transfer signed and canonically encoded in advance, enough for
//!    `max_rate` transfers per second over the whole run.
//! 3. The physical reference: strict Ed25519 verification on one thread over the workload's
//!    signatures (the ledger suite's `raw_ed25519_verify_single_1core`), measured before any
//!    validator runs.
//! 4. Four `depin up --home …` children of the given executable; the run goes on once each has
//!    committed height 2.
//! 5. Funding (not timed): one transfer from `dev` to every sender and probe account, with
//!    `dev`'s consecutive nonces; every validator must have committed them.
//! 6. Load: four threads per validator submit their senders' transfers as canonical bytes
//!    (`POST /api/v1/txs`, no wait), round-robin over their senders so each sender's nonces
//!    arrive at one validator in order. The transactions accepted but not yet committed are
//!    kept below `in_flight` (committed ones are read from validator 0's
//!    `depin_txs_committed_total`). Meanwhile one probe thread per probe account submits one
//!    transfer at a time with `wait=true`, the mechanism `depin tx transfer` waits with: its
//!    latency is from the submit to the node's answer that the transaction is committed. After a
//!    warm-up of [`WARMUP`], `seconds` are measured.
//! 7. The finalized rate is the transactions of the blocks committed on validator 0 between the
//!    heights read at the start and at the end of the measured window (read back from
//!    `/api/v1/blocks/{h}` after the load), over the window's wall time; every validator must
//!    then hold the same block at the end height.
//!
//! **Why many senders.** One account's transactions apply strictly in nonce order, and the
//! mempool lets a sender park at most 64 nonces beyond its run of consecutive pending ones and
//! 1,024 pending in all. Loading from `dev` alone would cap the load at 1,024 transactions in
//! flight and make every validator wait for the gossip of nonce n−1 before it may take n. A
//! DePIN network's traffic comes from many devices and owners, each with its own account and a
//! low rate; the load is spread over `senders` funded accounts the same way.
//!
//! **Why `in_flight`.** An open-loop load above the network's capacity only fills the mempools,
//! and the latency then measures the queue, not the network. The bound closes the loop; its
//! default of 10,000 is what Little's law gives for the targets (10,000 tx/s × 1 s): a network
//! that meets both targets meets them with 10,000 transactions in flight, and one that is slower
//! shows it as a longer latency at that load.

use std::fs::File;
use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use depin_keystore::Keystore;
use depin_node::home::{init_testnet, Home, TestnetOptions};
use depin_types::{Address, Amount, Genesis, PublicKey, Receipt, Scheme, SecretKey, Transaction, TxBody, TxContent, TxOutcome};
use serde_json::Value;

use crate::ledger::RawSigs;
use crate::measure::{self, best, now_ms, percentile_us, SplitMix64};
use crate::report::{BenchReport, BenchResult, Target};
use crate::BenchError;

/// Validators in the network: the smallest that tolerates one fault (n = 3f + 1).
pub const VALIDATORS: usize = 4;
/// Load before the measured window, not counted: connections open, mempools and blocks fill.
pub const WARMUP: Duration = Duration::from_secs(3);
/// Load threads per validator. Each has one request open at a time; on a 2-core machine
/// 2, 4 and 6 per validator gave the same finalized rate (the validators were the limit).
const LANES_PER_VALIDATOR: usize = 4;
/// Load threads in all, and so the fewest senders (each thread has its own).
pub const LOAD_THREADS: usize = VALIDATORS * LANES_PER_VALIDATOR;
/// Latency probe accounts (and threads) per validator.
const PROBES_PER_VALIDATOR: usize = 4;
/// Every validator must have committed height 2 within this time of its start.
const READY_TIMEOUT: Duration = Duration::from_secs(90);
/// The funding transfers must be committed everywhere within this time.
const FUNDING_TIMEOUT: Duration = Duration::from_secs(120);
/// After the load, every validator must reach the end height within this time.
const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(60);
/// What each sender and probe account is funded with.
const FUNDING: Amount = Amount(1_000_000_000);
/// Signatures in the raw verify measurement (fewer if the workload is smaller).
const RAW_SIGS: usize = 32_768;
/// Repetitions of the raw verify measurement; the best is reported (as in the ledger suite).
const RAW_REPS: usize = 3;
/// Most transfers pre-signed for one run (memory: about 150 bytes each).
const MAX_PRESIGNED: u64 = 5_000_000;
/// Lines of each validator's log quoted in an error.
const LOG_LINES: usize = 30;
/// How long a refused-for-now (429) submission waits before it is sent again.
const BUSY_BACKOFF: Duration = Duration::from_millis(5);

/// Options of the consensus suite (`depin bench consensus`).
#[derive(Clone, Debug)]
pub struct ConsensusBenchOptions {
    /// The `depin` executable the validators run (`depin up --home …`).
    pub exe: PathBuf,
    /// Measured seconds of load, after [`WARMUP`] (1..=3600).
    pub seconds: u64,
    /// Funded accounts the load is spread over ([`LOAD_THREADS`]..=50,000).
    pub senders: usize,
    /// Most transactions accepted by the validators and not yet committed (1..=100,000).
    pub in_flight: usize,
    /// Most transfers per second the load can offer: `max_rate × (warm-up + seconds)` are
    /// pre-signed (at most 5,000,000). A run that uses them all up fails and says so.
    pub max_rate: u64,
    /// First port (validator `i`: API `base_port + 2i`, p2p `base_port + 2i + 1`); `None` picks
    /// eight free consecutive loopback ports.
    pub base_port: Option<u16>,
    /// Set by the caller (Ctrl-C, SIGTERM) to stop the run early; the validators are stopped
    /// and the run fails with [`BenchError::Cancelled`].
    pub cancel: Option<Arc<AtomicBool>>,
}

impl ConsensusBenchOptions {
    /// The default run of `exe`: 20 s, 2,000 senders, 10,000 in flight, 15,000 tx/s budget.
    pub fn new(exe: PathBuf) -> ConsensusBenchOptions {
        ConsensusBenchOptions {
            exe,
            seconds: 20,
            senders: 2_000,
            in_flight: 10_000,
            max_rate: 15_000,
            base_port: None,
            cancel: None,
        }
    }

    /// Transfers to pre-sign, after checking every option.
    fn presigned(&self) -> Result<u64, BenchError> {
        let bad = |m: String| Err(BenchError::Options(m));
        let lanes = LOAD_THREADS;
        if !(1..=3600).contains(&self.seconds) {
            return bad(format!("seconds must be 1..=3600, not {}", self.seconds));
        }
        if !(lanes..=50_000).contains(&self.senders) {
            return bad(format!("senders must be {lanes}..=50000 (one or more per load thread), not {}", self.senders));
        }
        if !(1..=100_000).contains(&self.in_flight) {
            return bad(format!("in_flight must be 1..=100000 (a validator's mempool holds 100000), not {}", self.in_flight));
        }
        if self.max_rate == 0 {
            return bad("max_rate must be at least 1".to_string());
        }
        let total = self.max_rate.saturating_mul(WARMUP.as_secs() + self.seconds);
        if total > MAX_PRESIGNED {
            return bad(format!(
                "max_rate × (warm-up {} s + seconds) = {total} transfers to pre-sign, over the limit of {MAX_PRESIGNED}",
                WARMUP.as_secs()
            ));
        }
        if self.base_port.is_some_and(|p| p == 0 || u32::from(p) + 2 * VALIDATORS as u32 - 1 > u32::from(u16::MAX)) {
            return bad(format!("base_port leaves no room for {VALIDATORS} validators (two ports each)"));
        }
        if !self.exe.is_file() {
            return bad(format!("the depin executable {} does not exist", self.exe.display()));
        }
        Ok(total)
    }
}

/// Run the consensus suite. Takes the warm-up and `seconds` of load plus the start of four
/// validators and the funding (tens of seconds); creates and removes a temporary directory.
pub fn consensus(opts: &ConsensusBenchOptions) -> Result<BenchReport, BenchError> {
    let total = opts.presigned()?;
    let dir = tempfile::tempdir()?;
    let base_port = match opts.base_port {
        Some(p) => p,
        None => free_port_range(2 * VALIDATORS as u16)?,
    };
    let testnet = TestnetOptions {
        validators: VALIDATORS,
        chain_id: "depin-bench-consensus".to_string(),
        base_port,
        ..TestnetOptions::default()
    };
    let report = init_testnet(&dir.path().join("net"), &testnet).map_err(|e| BenchError::Network(format!("testnet init: {e}")))?;
    let homes: Vec<Home> = report.validators.iter().map(|v| Home::new(&v.home)).collect();
    let genesis_text = std::fs::read_to_string(homes[0].genesis())?;
    let genesis = Genesis::from_toml(&genesis_text).map_err(|e| BenchError::Network(format!("testnet genesis: {e}")))?;
    let dev = Keystore::open(homes[0].keys())
        .and_then(|ks| ks.get("dev"))
        .and_then(|f| f.decrypt(None, true))
        .map_err(|e| BenchError::Network(format!("the testnet's dev key: {e}")))?;

    let work = Workload::build(opts, &genesis, total);
    let raw = RawSigs::from_txs(&work.sample);
    let raw_1core = best((0..RAW_REPS).map(|_| raw.single_1core()).collect::<Result<_, _>>()?);
    drop(raw);

    if cancelled(opts) {
        return Err(BenchError::Cancelled);
    }
    let urls: Vec<String> = report.validators.iter().map(|v| format!("http://{}", v.api)).collect();
    let mut net = Network::start(opts, &homes, &urls, dir.path())?;
    net.wait_all_at(2, READY_TIMEOUT, "committing blocks (height 2)")?;
    fund(&mut net, &genesis, &dev, &work)?;
    let run = load(&mut net, opts, &work)?;
    let counted = count_window(&mut net, &run)?;
    drop(net);
    dir.close()?;

    let secs = run.t1.duration_since(run.t0).as_secs_f64();
    let tps = counted.applied as f64 / secs;
    let ms = |p| percentile_us(&run.latencies, p) / 1000.0;
    let results = vec![
        BenchResult::new("finalized_tps", tps, "tx/s").with_target(Target::at_least(10_000.0)),
        BenchResult::new("finality_p50_ms", ms(50.0), "ms").with_target(Target::at_most(1_000.0)),
        BenchResult::new("finality_p99_ms", ms(99.0), "ms"),
        BenchResult::new("raw_ed25519_verify_single_1core", raw_1core, "verifications/s"),
        BenchResult::new("finalized_tps_vs_raw_verify_ratio", tps / raw_1core, "ratio"),
        BenchResult::new("submitted_tps", run.accepted as f64 / secs, "tx/s"),
        BenchResult::new("finalized_blocks_per_s", counted.blocks as f64 / secs, "blocks/s"),
        BenchResult::new("finality_samples", run.latencies.len() as f64, "count"),
        BenchResult::new("validators", VALIDATORS as f64, "count"),
    ];
    Ok(BenchReport { suite: "consensus".to_string(), machine: measure::machine(), date: measure::utc_date(), results })
}

/// True once the caller asked the run to stop.
fn cancelled(opts: &ConsensusBenchOptions) -> bool {
    opts.cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed))
}

/// `n` consecutive loopback ports that are free now, from a random base in 20000..32000 (below
/// Linux's ephemeral range, where outgoing connections take their ports).
fn free_port_range(n: u16) -> Result<u16, BenchError> {
    let mut rng = SplitMix64::new(now_ms() ^ (u64::from(std::process::id()) << 32));
    for _ in 0..500 {
        let base = 20_000 + rng.below(usize::from(12_000 - n)) as u16;
        if (base..base + n).all(|p| TcpListener::bind(("127.0.0.1", p)).is_ok()) {
            return Ok(base);
        }
    }
    Err(BenchError::Network(format!("no {n} consecutive free loopback ports in 20000..32000; pass a base port")))
}

/// A load or probe account: its key, public key and address.
struct Account {
    key: SecretKey,
    public: PublicKey,
    address: Address,
}

/// The pre-built workload.
struct Workload {
    chain_id: String,
    fee: Amount,
    /// The load accounts, then the probe accounts.
    accounts: Vec<Account>,
    senders: usize,
    /// Per load thread: its validator and its transfers in submission order, encoded.
    lanes: Vec<(usize, Vec<Vec<u8>>)>,
    /// Signed transfers of the workload for the raw verify rate.
    sample: Vec<Transaction>,
}

impl Workload {
    fn build(opts: &ConsensusBenchOptions, genesis: &Genesis, total: u64) -> Workload {
        let mut rng = SplitMix64::new(0x6465_7069_6e20_6266); // "depin bf"
        let probes = VALIDATORS * PROBES_PER_VALIDATOR;
        let seeds: Vec<[u8; 32]> = (0..opts.senders + probes).map(|_| rng.bytes32()).collect();
        let accounts = measure::par_map(&seeds, |s| {
            let key = SecretKey::from_seeds(Scheme::Ed25519, s).expect("invariant: 32-byte seeds are valid");
            let public = key.public_key();
            Account { address: public.address(), public, key }
        });
        let fee = genesis.params.min_fee;
        let per_sender = total.div_ceil(opts.senders as u64);
        let n_lanes = LOAD_THREADS;
        // Sender s belongs to lane s % lanes; lane l sends to validator l % VALIDATORS. A lane
        // goes round-robin over its senders: every sender's nonces in order, far apart.
        let mut contents: Vec<Vec<(usize, TxContent)>> = vec![Vec::new(); n_lanes];
        for nonce in 0..per_sender {
            for from in 0..opts.senders {
                let mut to = rng.below(opts.senders - 1);
                if to >= from {
                    to += 1;
                }
                contents[from % n_lanes].push((
                    from,
                    TxContent {
                        chain_id: genesis.chain_id.clone(),
                        signer: accounts[from].public.clone(),
                        nonce,
                        fee,
                        body: TxBody::Transfer { to: accounts[to].address, amount: Amount(1) },
                    },
                ));
            }
        }
        let mut sample = Vec::new();
        let lanes = contents
            .into_iter()
            .enumerate()
            .map(|(lane, contents)| {
                let txs = measure::par_map(&contents, |(from, c)| c.clone().sign(&accounts[*from].key));
                let want = RAW_SIGS.saturating_sub(sample.len()).min(txs.len());
                sample.extend_from_slice(&txs[..want]);
                (lane % VALIDATORS, measure::par_map(&txs, Transaction::encode))
            })
            .collect();
        Workload { chain_id: genesis.chain_id.clone(), fee, accounts, senders: opts.senders, lanes, sample }
    }

    /// The probe accounts: index among `accounts` and the validator each probes.
    fn probes(&self) -> impl Iterator<Item = (usize, usize)> {
        (self.senders..self.accounts.len()).map(|a| (a, a % VALIDATORS))
    }
}

/// An HTTP client that returns non-2xx answers as answers.
fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(timeout)).build().into()
}

/// An answer: status and body (JSON, or `Null` if it is not JSON).
type Answer = (u16, Value);

fn read_answer(resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Result<Answer, String> {
    let mut resp = resp.map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let text = resp.body_mut().with_config().limit(256 * 1024 * 1024).read_to_string().map_err(|e| e.to_string())?;
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

fn get(agent: &ureq::Agent, url: &str) -> Result<Answer, String> {
    read_answer(agent.get(url).call())
}

/// POST canonical transaction bytes.
fn post_tx(agent: &ureq::Agent, url: &str, tx: &[u8]) -> Result<Answer, String> {
    read_answer(agent.post(url).header("content-type", "application/octet-stream").send(tx))
}

/// The running validators: children of the `depin` executable, killed and reaped on drop
/// (also when the run fails or panics).
struct Network {
    children: Vec<Child>,
    urls: Vec<String>,
    logs: Vec<PathBuf>,
    http: ureq::Agent,
    cancel: Option<Arc<AtomicBool>>,
}

impl Drop for Network {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
        }
        for child in &mut self.children {
            let _ = child.wait();
        }
    }
}

impl Network {
    /// Start `exe up --home <home>` for every home, its output appended to `<logs>/validator-<i>.log`.
    fn start(opts: &ConsensusBenchOptions, homes: &[Home], urls: &[String], logs: &Path) -> Result<Network, BenchError> {
        let mut net = Network {
            children: Vec::new(),
            urls: urls.to_vec(),
            logs: (0..homes.len()).map(|i| logs.join(format!("validator-{i}.log"))).collect(),
            http: agent(Duration::from_secs(60)),
            cancel: opts.cancel.clone(),
        };
        for (home, log) in homes.iter().zip(&net.logs) {
            let mut file = File::options().create(true).append(true).open(log)?;
            writeln!(file, "===== depin up --home {} =====", home.root().display())?;
            let mut cmd = Command::new(&opts.exe);
            // The validators run on their homes' files, whatever this process's environment says.
            for (key, _) in std::env::vars_os() {
                if key.to_string_lossy().starts_with("DEPIN_") {
                    cmd.env_remove(&key);
                }
            }
            cmd.env_remove("RUST_LOG")
                .env("DEPIN_LOG_LEVEL", "warn")
                .args(["up", "--home"])
                .arg(home.root())
                .stdin(Stdio::null())
                .stdout(file.try_clone()?)
                .stderr(file);
            let child = cmd
                .spawn()
                .map_err(|e| BenchError::Network(format!("cannot start {}: {e}", opts.exe.display())))?;
            net.children.push(child);
        }
        Ok(net)
    }

    /// The last lines of every validator's log.
    fn log_tails(&self) -> String {
        let mut out = String::new();
        for (i, log) in self.logs.iter().enumerate() {
            let text = std::fs::read(log).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            out.push_str(&format!("\n--- validator-{i} log (last {LOG_LINES} lines) ---\n"));
            out.push_str(&lines[lines.len().saturating_sub(LOG_LINES)..].join("\n"));
        }
        out
    }

    /// A run failure with every validator's log tail.
    fn error(&self, what: impl std::fmt::Display) -> BenchError {
        BenchError::Network(format!("{what}{}", self.log_tails()))
    }

    /// Cancelled, or a validator exited: the run cannot go on.
    fn check(&mut self) -> Result<(), BenchError> {
        if self.cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed)) {
            return Err(BenchError::Cancelled);
        }
        for i in 0..self.children.len() {
            if let Ok(Some(status)) = self.children[i].try_wait() {
                return Err(self.error(format!("validator-{i} exited ({status})")));
            }
        }
        Ok(())
    }

    fn get(&self, i: usize, path: &str) -> Result<Value, String> {
        match get(&self.http, &format!("{}{path}", self.urls[i]))? {
            (200, v) => Ok(v),
            (code, v) => Err(format!("validator-{i} GET {path}: HTTP {code} {v}")),
        }
    }

    fn height(&self, i: usize) -> Result<u64, String> {
        let s = self.get(i, "/api/v1/status")?;
        s["height"].as_u64().ok_or_else(|| format!("validator-{i}: status without a height: {s}"))
    }

    /// Poll `f` every 50 ms until it answers `Ok`, for at most `timeout`.
    fn wait_for<T>(&mut self, what: &str, timeout: Duration, mut f: impl FnMut(&Network) -> Result<T, String>) -> Result<T, BenchError> {
        let start = Instant::now();
        loop {
            self.check()?;
            match f(self) {
                Ok(v) => return Ok(v),
                Err(last) if start.elapsed() >= timeout => {
                    return Err(self.error(format!("timed out after {timeout:?} waiting for {what}; last: {last}")));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    fn wait_all_at(&mut self, height: u64, timeout: Duration, what: &str) -> Result<(), BenchError> {
        self.wait_for(&format!("every validator {what}"), timeout, |net| {
            for i in 0..net.urls.len() {
                let h = net.height(i)?;
                if h < height {
                    return Err(format!("validator-{i} at height {h}, waiting for {height}"));
                }
            }
            Ok(())
        })
    }
}

/// One transfer from `dev` to every load and probe account (dev's consecutive nonces, through
/// validator 0); returns once every validator has committed the last of them.
fn fund(net: &mut Network, genesis: &Genesis, dev: &SecretKey, work: &Workload) -> Result<(), BenchError> {
    let dev_address = dev.public_key().address();
    let account = net.get(0, &format!("/api/v1/accounts/{dev_address}")).map_err(|e| net.error(e))?;
    let first_nonce = account["nonce"].as_u64().ok_or_else(|| net.error(format!("dev account: {account}")))?;
    let url = format!("{}/api/v1/txs", net.urls[0]);
    let mut last_id = None;
    for (k, a) in work.accounts.iter().enumerate() {
        let tx = TxContent {
            chain_id: genesis.chain_id.clone(),
            signer: dev.public_key(),
            nonce: first_nonce + k as u64,
            fee: work.fee,
            body: TxBody::Transfer { to: a.address, amount: FUNDING },
        }
        .sign(dev);
        let bytes = tx.encode();
        loop {
            net.check()?;
            match post_tx(&net.http, &url, &bytes).map_err(|e| net.error(format!("funding: {e}")))? {
                (202, _) => break,
                // dev's queue (1,024 pending) is full until a block takes some.
                (429, _) => std::thread::sleep(Duration::from_millis(20)),
                (code, v) => return Err(net.error(format!("funding transfer {k}: HTTP {code} {v}"))),
            }
        }
        last_id = Some(tx.id());
    }
    let Some(last) = last_id else { return Ok(()) };
    net.wait_for("every validator to commit the funding transfers", FUNDING_TIMEOUT, |net| {
        for i in 0..net.urls.len() {
            let v = net.get(i, &format!("/api/v1/txs/{}", last.to_hex()))?;
            if v["status"] != "committed" {
                return Err(format!("validator-{i}: last funding transfer is {v}"));
            }
        }
        Ok(())
    })
}

/// State shared by the load, probe and monitor threads.
struct Shared {
    /// No new submissions; a probe still finishes the one it waits for, so the window's
    /// latencies are all counted, the longest ones included.
    stop: AtomicBool,
    /// Give up at once (a failure, a cancel or a panic).
    abort: AtomicBool,
    /// Load and probe transactions accepted by a validator.
    accepted: AtomicU64,
    /// Transactions committed on validator 0 since the load began (from its metrics).
    committed: AtomicU64,
    in_flight: u64,
    /// The first refusals that are not "busy", as text; any one fails the run.
    errors: Mutex<Vec<String>>,
    /// A lane used up its pre-signed transfers.
    exhausted: AtomicBool,
    /// Probe samples: when the probe was submitted, and how long until the node said committed.
    samples: Mutex<Vec<(Instant, Duration)>>,
}

impl Shared {
    fn fail(&self, e: String) {
        let mut errors = self.errors.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if errors.len() < 10 {
            errors.push(e);
        }
        self.stop.store(true, Ordering::Relaxed);
        self.abort.store(true, Ordering::Relaxed);
    }

    fn room(&self) -> bool {
        let accepted = self.accepted.load(Ordering::Relaxed);
        accepted.saturating_sub(self.committed.load(Ordering::Relaxed)) < self.in_flight
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn aborted(&self) -> bool {
        self.abort.load(Ordering::Relaxed)
    }
}

/// What the load phase measured.
struct LoadRun {
    /// Start and end of the measured window, and validator 0's height at each.
    t0: Instant,
    t1: Instant,
    h0: u64,
    h1: u64,
    /// Transactions accepted within the window.
    accepted: u64,
    /// Finality latencies of the probes submitted within the window.
    latencies: Vec<Duration>,
}

/// `depin_txs_committed_total` (both outcomes) in a Prometheus text.
fn committed_total(metrics: &str) -> Option<u64> {
    let mut total = None;
    for line in metrics.lines().filter(|l| l.starts_with("depin_txs_committed_total{")) {
        let value: u64 = line.rsplit(' ').next()?.parse().ok()?;
        total = Some(total.unwrap_or(0) + value);
    }
    total
}

fn metrics_committed(http: &ureq::Agent, url: &str) -> Result<u64, String> {
    let mut resp = http.get(format!("{url}/metrics")).call().map_err(|e| e.to_string())?;
    let text = resp.body_mut().read_to_string().map_err(|e| e.to_string())?;
    committed_total(&text).ok_or_else(|| "no depin_txs_committed_total in /metrics".to_string())
}

/// Submit a lane's transfers to `url` while there is room in flight.
fn run_lane(shared: &Shared, url: &str, txs: &[Vec<u8>]) {
    let http = agent(Duration::from_secs(30));
    let mut next = 0;
    while !shared.stopped() {
        let Some(tx) = txs.get(next) else {
            shared.exhausted.store(true, Ordering::Relaxed);
            return;
        };
        if !shared.room() {
            std::thread::sleep(Duration::from_micros(500));
            continue;
        }
        match post_tx(&http, url, tx) {
            Ok((202, _)) => {
                shared.accepted.fetch_add(1, Ordering::Relaxed);
                next += 1;
            }
            Ok((429, _)) => std::thread::sleep(BUSY_BACKOFF),
            Ok((code, v)) => return shared.fail(format!("{url}: load transfer refused: HTTP {code} {v}")),
            Err(_) if shared.stopped() => return,
            Err(e) => return shared.fail(format!("{url}: {e}")),
        }
    }
}

/// Send transfers from one probe account to `base`, one at a time, each waiting for its commit.
fn run_probe(shared: &Shared, base: &str, work: &Workload, account: usize) {
    let http = agent(Duration::from_secs(60));
    let key = &work.accounts[account].key;
    let to = work.accounts[account % work.senders].address;
    let submit = format!("{base}/api/v1/txs?wait=true&timeout_ms=10000");
    let mut nonce = 0;
    while !shared.stopped() {
        let tx = TxContent {
            chain_id: work.chain_id.clone(),
            signer: work.accounts[account].public.clone(),
            nonce,
            fee: work.fee,
            body: TxBody::Transfer { to, amount: Amount(1) },
        }
        .sign(key);
        let bytes = tx.encode();
        let sent = Instant::now();
        let answer = match post_tx(&http, &submit, &bytes) {
            Ok(a) => a,
            Err(_) if shared.aborted() => return,
            Err(e) => return shared.fail(format!("{base}: probe: {e}")),
        };
        match answer {
            (200, v) if v["status"] == "committed" => {}
            (202, v) if v["status"] == "pending" => {
                // Not committed within the wait: keep asking.
                let status = format!("{base}/api/v1/txs/{}", tx.id().to_hex());
                loop {
                    if shared.aborted() {
                        return;
                    }
                    match get(&http, &status) {
                        Ok((200, v)) if v["status"] == "committed" => break,
                        Ok(_) => std::thread::sleep(Duration::from_millis(5)),
                        Err(_) if shared.aborted() => return,
                        Err(e) => return shared.fail(format!("{base}: probe status: {e}")),
                    }
                }
            }
            (429, _) => {
                std::thread::sleep(BUSY_BACKOFF);
                continue;
            }
            (code, v) => return shared.fail(format!("{base}: probe transfer refused: HTTP {code} {v}")),
        }
        let latency = sent.elapsed();
        shared.accepted.fetch_add(1, Ordering::Relaxed);
        shared.samples.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push((sent, latency));
        nonce += 1;
    }
}

/// Follow validator 0's committed-transaction counter every 20 ms.
fn run_monitor(shared: &Shared, url: &str, baseline: u64) {
    let http = agent(Duration::from_secs(10));
    while !shared.stopped() {
        match metrics_committed(&http, url) {
            Ok(total) => shared.committed.store(total.saturating_sub(baseline), Ordering::Relaxed),
            Err(_) if shared.stopped() => return,
            Err(e) => return shared.fail(format!("{url}: metrics: {e}")),
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The load phase: warm-up, then the measured window.
fn load(net: &mut Network, opts: &ConsensusBenchOptions, work: &Workload) -> Result<LoadRun, BenchError> {
    let baseline = metrics_committed(&net.http, &net.urls[0]).map_err(|e| net.error(format!("validator-0 metrics: {e}")))?;
    let shared = Shared {
        stop: AtomicBool::new(false),
        abort: AtomicBool::new(false),
        accepted: AtomicU64::new(0),
        committed: AtomicU64::new(0),
        in_flight: opts.in_flight as u64,
        errors: Mutex::new(Vec::new()),
        exhausted: AtomicBool::new(false),
        samples: Mutex::new(Vec::new()),
    };
    let urls = net.urls.clone();
    let window = Duration::from_secs(opts.seconds);
    let result = std::thread::scope(|s| -> Result<_, BenchError> {
        let shared = &shared;
        // However the main thread leaves the scope (even by a panic), the others stop, so the
        // scope's join ends.
        let _stop = StopOnDrop(shared);
        let monitor_url = urls[0].clone();
        s.spawn(move || run_monitor(shared, &monitor_url, baseline));
        for (validator, txs) in &work.lanes {
            let url = format!("{}/api/v1/txs", urls[*validator]);
            s.spawn(move || run_lane(shared, &url, txs));
        }
        for (account, validator) in work.probes() {
            let base = urls[validator].clone();
            s.spawn(move || run_probe(shared, &base, work, account));
        }
        // The main thread keeps time and watches the validators; any way out stops the others.
        let measured = measure_window(net, shared, opts, window);
        if measured.is_err() {
            shared.abort.store(true, Ordering::Relaxed);
        }
        measured
    });
    let (t0, h0, t1, h1, accepted) = result?;
    // A probe may still have failed while it finished its last transfer.
    if let Some(e) = shared.errors.lock().unwrap_or_else(std::sync::PoisonError::into_inner).first() {
        return Err(net.error(e));
    }
    let latencies = shared
        .samples
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .into_iter()
        .filter(|(sent, _)| *sent >= t0 && *sent < t1)
        .map(|(_, latency)| latency)
        .collect::<Vec<_>>();
    if latencies.is_empty() {
        return Err(net.error(format!(
            "no latency probe was submitted and committed within the {} s window: finality is slower than \
             the window; run longer (seconds)",
            opts.seconds
        )));
    }
    Ok(LoadRun { t0, h0, t1, h1, accepted, latencies })
}

/// The warm-up, then the measured window: its start and end, validator 0's height at each,
/// and the transactions accepted within it.
fn measure_window(
    net: &mut Network,
    shared: &Shared,
    opts: &ConsensusBenchOptions,
    window: Duration,
) -> Result<(Instant, u64, Instant, u64, u64), BenchError> {
    watch(net, shared, opts, Instant::now() + WARMUP)?;
    let (t0, h0) = timed_height(net)?;
    let accepted0 = shared.accepted.load(Ordering::Relaxed);
    watch(net, shared, opts, t0 + window)?;
    let (t1, h1) = timed_height(net)?;
    let accepted = shared.accepted.load(Ordering::Relaxed) - accepted0;
    Ok((t0, h0, t1, h1, accepted))
}

/// Stops the load when dropped; aborts it if dropped by a panic.
struct StopOnDrop<'a>(&'a Shared);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.stop.store(true, Ordering::Relaxed);
        if std::thread::panicking() {
            self.0.abort.store(true, Ordering::Relaxed);
        }
    }
}

/// Until `until`: fail as soon as a validator exits, the run is cancelled, a thread met a
/// refusal, or the pre-signed load ran out.
fn watch(net: &mut Network, shared: &Shared, opts: &ConsensusBenchOptions, until: Instant) -> Result<(), BenchError> {
    while Instant::now() < until {
        net.check()?;
        if let Some(e) = shared.errors.lock().unwrap_or_else(std::sync::PoisonError::into_inner).first() {
            return Err(net.error(e));
        }
        if shared.exhausted.load(Ordering::Relaxed) {
            return Err(BenchError::Options(format!(
                "the pre-signed load ({} tx/s over the run) ran out before the end: the network is faster \
                 than that; raise max_rate",
                opts.max_rate
            )));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// Validator 0's height and the moment it was read (the middle of the request).
fn timed_height(net: &Network) -> Result<(Instant, u64), BenchError> {
    let before = Instant::now();
    let h = net.height(0).map_err(|e| net.error(e))?;
    Ok((before + before.elapsed() / 2, h))
}

/// What the blocks of the measured window hold.
struct Counted {
    blocks: u64,
    applied: u64,
}

/// Count the transactions of blocks `h0 + 1 ..= h1` on validator 0 (every one must have
/// applied), then check that every validator holds the same block at `h1`.
fn count_window(net: &mut Network, run: &LoadRun) -> Result<Counted, BenchError> {
    let mut counted = Counted { blocks: 0, applied: 0 };
    for height in run.h0 + 1..=run.h1 {
        net.check()?;
        let view = net.get(0, &format!("/api/v1/blocks/{height}")).map_err(|e| net.error(e))?;
        let receipts: Vec<Receipt> = serde_json::from_value(view["receipts"].clone())
            .map_err(|e| net.error(format!("block {height}: receipts do not parse: {e}")))?;
        for (index, r) in receipts.iter().enumerate() {
            if let TxOutcome::Rejected { reason } = &r.outcome {
                return Err(BenchError::Rejected { height, index, code: reason.code() });
            }
        }
        counted.blocks += 1;
        counted.applied += receipts.len() as u64;
    }
    net.wait_all_at(run.h1, CATCH_UP_TIMEOUT, &format!("at the end height {}", run.h1))?;
    let ids: Vec<Value> = (0..net.urls.len())
        .map(|i| net.get(i, &format!("/api/v1/blocks/{}", run.h1)).map(|b| b["id"].clone()))
        .collect::<Result<_, _>>()
        .map_err(|e| net.error(e))?;
    if ids.iter().any(|id| *id != ids[0] || id.is_null()) {
        return Err(net.error(format!("the validators disagree on block {}: {ids:?}", run.h1)));
    }
    Ok(counted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> ConsensusBenchOptions {
        // Any existing file passes the executable check.
        ConsensusBenchOptions::new(std::env::current_exe().unwrap())
    }

    #[test]
    fn options_are_checked() {
        let ok = opts();
        assert_eq!(ok.presigned().unwrap(), 15_000 * 23);
        let bad = |o: ConsensusBenchOptions, needle: &str| {
            let e = o.presigned().unwrap_err().to_string();
            assert!(e.contains(needle), "{e}");
        };
        bad(ConsensusBenchOptions { seconds: 0, ..opts() }, "seconds");
        bad(ConsensusBenchOptions { senders: LOAD_THREADS - 1, ..opts() }, "senders");
        bad(ConsensusBenchOptions { in_flight: 0, ..opts() }, "in_flight");
        bad(ConsensusBenchOptions { max_rate: 0, ..opts() }, "max_rate");
        bad(ConsensusBenchOptions { max_rate: 1_000_000, ..opts() }, "pre-sign");
        bad(ConsensusBenchOptions { base_port: Some(65_530), ..opts() }, "base_port");
        bad(ConsensusBenchOptions { exe: PathBuf::from("/nonexistent/depin"), ..opts() }, "does not exist");
    }

    #[test]
    fn committed_total_adds_both_outcomes() {
        let text = "# HELP x\ndepin_txs_committed_total{outcome=\"applied\"} 12\n\
                    depin_txs_committed_total{outcome=\"rejected\"} 3\ndepin_block_height 9\n";
        assert_eq!(committed_total(text), Some(15));
        assert_eq!(committed_total("depin_block_height 9\n"), None);
    }
}
