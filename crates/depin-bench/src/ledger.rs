//! The `ledger` suite: signed transfers decoded, verified on all cores, executed, staged and
//! durably committed by the real chain port over a real redb file, beside the physical
//! references of the same run (raw Ed25519 verify rates, raw fsync latency) and state proofs.
//!
//! Order of a run: build the workload (keys, genesis, pre-signed and encoded transfers; not
//! timed), raw signature rates, raw fsync latency, the end-to-end run in large blocks, a run of
//! small blocks for commit latency, then proofs on the resulting ledger.

use std::fs::OpenOptions;
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use depin_crypto::{verify_all_parallel, Ed25519Batch};
use depin_ledger::authstate::verify_proof;
use depin_ledger::Ledger;
use depin_node::home::Home;
use depin_node::Chain;
use depin_types::genesis::GenesisValidator;
use depin_types::limits::MAX_BLOCK_TXS_CEILING;
use depin_types::state_key::account_key;
use depin_types::tx::signing_message;
use depin_types::{
    Address, Amount, Genesis, GenesisAccount, Params, PublicKey, Scheme, SecretKey, Signature,
    Transaction, TxBody, TxContent, TxOutcome,
};

use crate::measure::{self, best, now_ms, percentile_us, us, SplitMix64};
use crate::report::{BenchReport, BenchResult, Target};
use crate::BenchError;

/// Options of the ledger suite (`depin bench ledger`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerBenchOptions {
    /// Transfers in the end-to-end run.
    pub txs: usize,
    /// Transfers per block in the end-to-end run (also the genesis `max_block_txs`).
    pub block_txs: usize,
    /// Funded genesis accounts the transfers move between.
    pub accounts: usize,
    /// A small, fast run for tests and CI: caps `txs` at 2,000, `accounts` at 200 and
    /// `block_txs` at 500, and uses 20 fsync samples, 20 small blocks and 100 proofs. Its
    /// numbers are smoke-test numbers, not measurements to quote.
    pub quick: bool,
}

impl Default for LedgerBenchOptions {
    fn default() -> Self {
        LedgerBenchOptions { txs: 100_000, block_txs: 10_000, accounts: 10_000, quick: false }
    }
}

impl LedgerBenchOptions {
    /// The quick (CI) configuration.
    pub fn quick() -> Self {
        LedgerBenchOptions { quick: true, ..LedgerBenchOptions::default() }
    }
}

/// Every size the run uses, resolved from the options.
#[derive(Clone, Copy, Debug)]
struct Sizes {
    txs: usize,
    block_txs: usize,
    accounts: usize,
    /// Signatures for the raw verify rates.
    raw_sigs: usize,
    /// Repetitions of each raw verify rate. The best is reported: noise (other processes) only
    /// ever slows a repetition down, so the best is the machine's capability, and a ratio to it
    /// errs on the conservative side.
    raw_reps: usize,
    fsync_iters: usize,
    small_blocks: usize,
    small_block_txs: usize,
    proofs: usize,
}

impl Sizes {
    fn of(opts: &LedgerBenchOptions) -> Result<Sizes, BenchError> {
        let bad = |m: &str| Err(BenchError::Options(m.to_string()));
        if opts.txs == 0 {
            return bad("txs must be at least 1");
        }
        if opts.block_txs == 0 || opts.block_txs > MAX_BLOCK_TXS_CEILING as usize {
            return bad(&format!("block_txs must be 1..={MAX_BLOCK_TXS_CEILING}"));
        }
        if opts.accounts < 2 {
            return bad("accounts must be at least 2 (a transfer needs two)");
        }
        let sizes = if opts.quick {
            Sizes {
                txs: opts.txs.min(2_000),
                block_txs: opts.block_txs.min(500),
                accounts: opts.accounts.min(200),
                raw_sigs: 1_024,
                raw_reps: 1,
                fsync_iters: 20,
                small_blocks: 20,
                small_block_txs: 10,
                proofs: 100,
            }
        } else {
            Sizes {
                txs: opts.txs,
                block_txs: opts.block_txs,
                accounts: opts.accounts,
                raw_sigs: 32_768,
                raw_reps: 3,
                fsync_iters: 200,
                small_blocks: 100,
                small_block_txs: 10,
                proofs: 1_000,
            }
        };
        Ok(Sizes { small_block_txs: sizes.small_block_txs.min(sizes.block_txs), ..sizes })
    }
}

/// Run the ledger suite. Takes tens of seconds at the default size; creates and removes a
/// temporary directory (under `$TMPDIR`, whose disk is the one measured).
pub fn ledger(opts: &LedgerBenchOptions) -> Result<BenchReport, BenchError> {
    let sizes = Sizes::of(opts)?;
    let dir = tempfile::tempdir()?;
    let home = Home::new(dir.path());
    std::fs::create_dir_all(home.ledger().parent().unwrap_or(dir.path()))?;

    let work = Workload::build(&sizes);
    let mut results = Vec::new();

    // 1. Raw Ed25519 verification rates over the workload's own signatures.
    let raw = RawSigs::from_txs(&work.txs[..sizes.raw_sigs.min(work.txs.len())]);
    let single_1core = best((0..sizes.raw_reps).map(|_| raw.single_1core()).collect::<Result<_, _>>()?);
    let single_all = best((0..sizes.raw_reps).map(|_| raw.single_allcores()).collect::<Result<_, _>>()?);
    let batch_all = best((0..sizes.raw_reps).map(|_| raw.batch_allcores()).collect::<Result<_, _>>()?);
    results.push(BenchResult::new("raw_ed25519_verify_single_1core", single_1core, "verifications/s"));
    results.push(BenchResult::new("raw_ed25519_verify_single_allcores", single_all, "verifications/s"));
    results.push(BenchResult::new("raw_ed25519_verify_batch_allcores", batch_all, "verifications/s"));

    // 2. Raw fsync latency on the disk of the ledger.
    let fsync = raw_fsync(&home.ledger().with_file_name("fsync-probe"), sizes.fsync_iters)?;
    let fsync_p50 = percentile_us(&fsync, 50.0);
    results.push(BenchResult::new("raw_fsync_latency_p50_us", fsync_p50, "us"));
    results.push(BenchResult::new("raw_fsync_latency_p99_us", percentile_us(&fsync, 99.0), "us"));

    // 3 and 4. End to end in large blocks, then small blocks for commit latency.
    let ledger = Ledger::open(&home.ledger(), &work.genesis, true)?;
    let chain = Chain::new(ledger, work.genesis.clone(), Some(work.node_key()));
    let (main_blocks, small_blocks) = work.encoded.split_at(sizes.txs);
    let mut main = Phases::default();
    run_blocks(&chain, main_blocks, sizes.block_txs, &mut main)?;
    let mut small = Phases::default();
    run_blocks(&chain, small_blocks, sizes.small_block_txs, &mut small)?;

    let n = sizes.txs as f64;
    let tx_per_s = n / main.total.as_secs_f64();
    results.push(BenchResult::new("ledger_tx_per_s", tx_per_s, "tx/s").with_target(Target::at_least(50_000.0)));
    results.push(
        BenchResult::new("ledger_vs_raw_verify_ratio", tx_per_s / single_all, "ratio")
            .with_target(Target::at_least(0.6)),
    );
    for (name, d) in [
        ("ledger_phase_decode_us_per_tx", main.decode),
        ("ledger_phase_verify_us_per_tx", main.verify),
        ("ledger_phase_execute_stage_us_per_tx", main.execute),
        ("ledger_phase_commit_us_per_tx", main.commit.iter().sum()),
    ] {
        results.push(BenchResult::new(name, us(d) / n, "us/tx"));
    }
    // The durable commit point (the block log append and its fsync, after which transactions
    // are acknowledged) and, separately, the whole finalize including the state apply.
    results.push(BenchResult::new("block_commit_latency_p50_us", percentile_us(&main.log_append, 50.0), "us"));
    results.push(BenchResult::new("block_commit_latency_p99_us", percentile_us(&main.log_append, 99.0), "us"));
    results.push(BenchResult::new("block_finalize_latency_p50_us", percentile_us(&main.commit, 50.0), "us"));
    let small_p50 = percentile_us(&small.log_append, 50.0);
    results.push(BenchResult::new("small_block_commit_latency_p50_us", small_p50, "us"));
    results.push(BenchResult::new("small_block_commit_latency_p99_us", percentile_us(&small.log_append, 99.0), "us"));
    results.push(BenchResult::new("small_block_finalize_latency_p50_us", percentile_us(&small.commit, 50.0), "us"));
    results.push(
        BenchResult::new("commit_vs_fsync_ratio", small_p50 / fsync_p50.max(f64::MIN_POSITIVE), "ratio")
            .with_target(Target::at_most(1.5)),
    );

    // 5. State proofs on the ledger the run produced.
    let (generate, verify) = proofs(&chain, &work, sizes.proofs)?;
    results.push(BenchResult::new("proof_generate_us", generate, "us").with_target(Target::at_most(100.0)));
    results.push(BenchResult::new("proof_verify_us", verify, "us").with_target(Target::at_most(50.0)));

    drop(chain);
    dir.close()?;
    Ok(BenchReport {
        suite: "ledger".to_string(),
        machine: measure::machine(),
        date: measure::utc_date(),
        results,
    })
}

/// The pre-built workload: keys, genesis, and every transfer signed and encoded.
struct Workload {
    node_seed: [u8; 32],
    genesis: Genesis,
    addresses: Vec<Address>,
    /// Signed transfers: the main run, then the small blocks.
    txs: Vec<Transaction>,
    /// `txs`, canonically encoded (what arrives from the network or the API).
    encoded: Vec<Vec<u8>>,
}

impl Workload {
    fn build(sizes: &Sizes) -> Workload {
        let mut rng = SplitMix64::new(0x6465_7069_6e20_6265); // "depin be"
        let node_seed = rng.bytes32();
        let seeds: Vec<[u8; 32]> = (0..sizes.accounts).map(|_| rng.bytes32()).collect();
        let keys: Vec<SecretKey> = measure::par_map(&seeds, |s| {
            SecretKey::from_seeds(Scheme::Ed25519, s).expect("invariant: 32-byte seeds are valid")
        });
        let public: Vec<PublicKey> = keys.iter().map(SecretKey::public_key).collect();
        let addresses: Vec<Address> = public.iter().map(PublicKey::address).collect();
        let node_public = node_key_from(&node_seed).public_key();
        let genesis = Genesis {
            telemetry: Default::default(),
            market: Default::default(),
            chain_id: "depin-bench".to_string(),
            genesis_time_ms: now_ms().saturating_sub(1_000),
            params: Params {
                min_fee: Amount(1),
                max_block_txs: u32::try_from(sizes.block_txs).expect("invariant: checked against the ceiling"),
            },
            validators: vec![GenesisValidator { name: "bench".to_string(), public_key: node_public, p2p: None }],
            accounts: addresses
                .iter()
                .map(|a| GenesisAccount { address: *a, balance: Amount(1_000_000_000_000_000) })
                .collect(),
        };

        // Random sender and distinct recipient; the sender's next nonce, in the order the
        // transfers will be executed, so every one applies.
        let total = sizes.txs + sizes.small_blocks * sizes.small_block_txs;
        let mut nonces = vec![0u64; sizes.accounts];
        let contents: Vec<(usize, TxContent)> = (0..total)
            .map(|_| {
                let from = rng.below(sizes.accounts);
                let mut to = rng.below(sizes.accounts - 1);
                if to >= from {
                    to += 1;
                }
                let nonce = nonces[from];
                nonces[from] += 1;
                let content = TxContent {
                    chain_id: genesis.chain_id.clone(),
                    signer: public[from].clone(),
                    nonce,
                    fee: Amount(1),
                    body: TxBody::Transfer { to: addresses[to], amount: Amount(1 + rng.below(1_000) as u128) },
                };
                (from, content)
            })
            .collect();
        let txs: Vec<Transaction> = measure::par_map(&contents, |(from, c)| c.clone().sign(&keys[*from]));
        let encoded = measure::par_map(&txs, Transaction::encode);
        Workload { node_seed, genesis, addresses, txs, encoded }
    }

    fn node_key(&self) -> SecretKey {
        node_key_from(&self.node_seed)
    }
}

fn node_key_from(seed: &[u8; 32]) -> SecretKey {
    SecretKey::from_seeds(Scheme::Ed25519, seed).expect("invariant: 32-byte seeds are valid")
}

/// Signatures with their keys and signed messages, in the two forms the verifiers take (the
/// consensus suite measures its physical reference with it too).
pub(crate) struct RawSigs {
    items: Vec<(PublicKey, Vec<u8>, Signature)>,
    public_keys: Vec<[u8; 32]>,
    signatures: Vec<[u8; 64]>,
}

impl RawSigs {
    pub(crate) fn from_txs(txs: &[Transaction]) -> RawSigs {
        let items: Vec<_> = txs
            .iter()
            .map(|tx| (tx.content.signer.clone(), signing_message(&tx.id()), tx.signature.clone()))
            .collect();
        let public_keys = items
            .iter()
            .map(|(pk, _, _)| pk.ed25519_bytes().expect("invariant: the workload uses Ed25519 keys"))
            .collect();
        let signatures = items
            .iter()
            .map(|(_, _, s)| <[u8; 64]>::try_from(s.bytes()).expect("invariant: Ed25519 signatures are 64 bytes"))
            .collect();
        RawSigs { items, public_keys, signatures }
    }

    fn check((pk, msg, sig): &(PublicKey, Vec<u8>, Signature)) -> bool {
        pk.verify(msg, sig).is_ok()
    }

    fn rate(&self, elapsed: Duration) -> f64 {
        self.items.len() as f64 / elapsed.as_secs_f64()
    }

    /// Strict single verification (what a transaction costs), one thread.
    pub(crate) fn single_1core(&self) -> Result<f64, BenchError> {
        let t = Instant::now();
        let ok = self.items.iter().filter(|i| Self::check(i)).count();
        let elapsed = t.elapsed();
        if ok != self.items.len() {
            return Err(BenchError::Signature("single, one core"));
        }
        Ok(self.rate(elapsed))
    }

    /// Strict single verification on all cores, with the node's own parallel verifier.
    fn single_allcores(&self) -> Result<f64, BenchError> {
        let t = Instant::now();
        let verdicts = verify_all_parallel(&self.items, Self::check);
        let elapsed = t.elapsed();
        if !verdicts.iter().all(|ok| *ok) {
            return Err(BenchError::Signature("single, all cores"));
        }
        Ok(self.rate(elapsed))
    }

    /// Batch verification in chunks of 64, the chunks spread over all cores.
    fn batch_allcores(&self) -> Result<f64, BenchError> {
        const BATCH: usize = 64;
        let chunks: Vec<usize> = (0..self.items.len()).step_by(BATCH).collect();
        let per_thread = chunks.len().div_ceil(measure::cpus()).max(1);
        let t = Instant::now();
        let all_ok = std::thread::scope(|s| {
            let handles: Vec<_> = chunks
                .chunks(per_thread)
                .map(|starts| {
                    s.spawn(move || {
                        starts.iter().all(|&start| {
                            let end = (start + BATCH).min(self.items.len());
                            let msgs: Vec<&[u8]> = self.items[start..end].iter().map(|(_, m, _)| m.as_slice()).collect();
                            Ed25519Batch::verify(&msgs, &self.signatures[start..end], &self.public_keys[start..end])
                        })
                    })
                })
                .collect();
            handles.into_iter().all(|h| h.join().unwrap_or(false))
        });
        let elapsed = t.elapsed();
        if !all_ok {
            return Err(BenchError::Signature("batch, all cores"));
        }
        Ok(self.rate(elapsed))
    }
}

/// Latency of writing 4 KiB and `sync_data` (what redb's commit calls), `iters` times, in a
/// preallocated file beside the ledger: the device's flush cost without file-size metadata.
/// Shared with the registry suite.
pub(crate) fn raw_fsync(path: &Path, iters: usize) -> Result<Vec<Duration>, BenchError> {
    const BLOCK: usize = 4096;
    const SLOTS: u64 = 16;
    let mut file = OpenOptions::new().read(true).write(true).create(true).truncate(true).open(path)?;
    file.write_all(&vec![0u8; BLOCK * SLOTS as usize])?;
    file.sync_all()?;
    let mut page = [0u8; BLOCK];
    let mut samples = Vec::with_capacity(iters);
    let warmup = 5;
    for i in 0..(warmup + iters) {
        page[..8].copy_from_slice(&(i as u64).to_le_bytes());
        let t = Instant::now();
        file.seek(SeekFrom::Start((i as u64 % SLOTS) * BLOCK as u64))?;
        file.write_all(&page)?;
        file.sync_data()?;
        if i >= warmup {
            samples.push(t.elapsed());
        }
    }
    drop(file);
    std::fs::remove_file(path)?;
    Ok(samples)
}

/// Time spent in each phase over a run of blocks (the stages overlap, so they add up to more
/// than the wall time). Shared with the registry suite.
#[derive(Default)]
pub(crate) struct Phases {
    /// Wall time of the timed window(s).
    pub(crate) total: Duration,
    pub(crate) decode: Duration,
    pub(crate) verify: Duration,
    pub(crate) execute: Duration,
    /// `finalize` of each block: durable log append plus state apply.
    pub(crate) commit: Vec<Duration>,
    /// The durable commit point alone: the block log append and its fsync.
    pub(crate) log_append: Vec<Duration>,
}

/// Decode → verify on all cores → propose (execute, stage, seal) → finalize (durable commit),
/// `block_txs` transactions per block; fails if any receipt is not `Applied`.
///
/// Pipelined as the node is: a verifier thread decodes and verifies block N+1 (on all cores)
/// while the sequencer executes and commits block N, with one block in flight between them
/// (in the node, admission verifies on the API threads while the sequencer thread commits).
/// Phase durations are the time each stage spent, so they add up to more than the wall time.
/// Adds its wall time and phase times to `p` (the registry suite runs it once per chunk).
pub(crate) fn run_blocks(chain: &Chain, encoded: &[Vec<u8>], block_txs: usize, p: &mut Phases) -> Result<(), BenchError> {
    type Verified = Result<(Vec<Transaction>, Vec<depin_types::Verdict>, Duration, Duration), BenchError>;
    let start = Instant::now();
    std::thread::scope(|s| -> Result<(), BenchError> {
        let (to_sequencer, from_verifier) = std::sync::mpsc::sync_channel::<Verified>(1);
        s.spawn(move || {
            for block in encoded.chunks(block_txs) {
                let t0 = Instant::now();
                let decoded = block.iter().map(|b| Transaction::decode(b)).collect::<Result<Vec<_>, _>>();
                let t1 = Instant::now();
                let item = decoded.map_err(BenchError::from).map(|txs| {
                    let sig_ok = verify_all_parallel(&txs, Transaction::verdict);
                    (txs, sig_ok, t1 - t0, t1.elapsed())
                });
                if to_sequencer.send(item).is_err() {
                    return; // the sequencer stopped on an error
                }
            }
        });
        for item in from_verifier {
            let (txs, sig_ok, decode, verify) = item?;
            let t2 = Instant::now();
            let proposal = chain.propose(txs, &sig_ok, now_ms())?;
            let t3 = Instant::now();
            let committed = chain.finalize(proposal)?;
            let t4 = Instant::now();
            p.decode += decode;
            p.verify += verify;
            p.execute += t3 - t2;
            p.commit.push(t4 - t3);
            p.log_append.push(committed.timings.log_append);
            if let Some((index, r)) = committed.receipts.iter().enumerate().find(|(_, r)| !r.applied()) {
                let code = match &r.outcome {
                    TxOutcome::Rejected { reason } => reason.code(),
                    TxOutcome::Applied => "applied",
                };
                return Err(BenchError::Rejected { height: committed.head.height, index, code });
            }
        }
        Ok(())
    })?;
    p.total += start.elapsed();
    Ok(())
}

/// Mean µs to generate, then to verify, `n` proofs of random funded accounts at the head.
fn proofs(chain: &Chain, work: &Workload, n: usize) -> Result<(f64, f64), BenchError> {
    let snapshot = chain.ledger().snapshot()?;
    let root = snapshot.at()?.state_root.0;
    let mut rng = SplitMix64::new(0x7072_6f6f_6673); // "proofs"
    let keys: Vec<Vec<u8>> =
        (0..n).map(|_| account_key(&work.addresses[rng.below(work.addresses.len())])).collect();
    let t = Instant::now();
    let proofs = keys.iter().map(|k| snapshot.prove(k)).collect::<Result<Vec<_>, _>>()?;
    let generate = t.elapsed();
    if proofs.iter().any(|p| p.value.is_none()) {
        return Err(BenchError::Proof("a funded account was proven absent".into()));
    }
    let t = Instant::now();
    let verified = proofs.iter().map(|p| verify_proof(&root, p)).collect::<Result<Vec<_>, _>>();
    let verify = t.elapsed();
    verified.map_err(|e| BenchError::Proof(e.to_string()))?;
    let n = n.max(1) as f64;
    Ok((us(generate) / n, us(verify) / n))
}
