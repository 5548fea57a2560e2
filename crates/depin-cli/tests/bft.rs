//! BFT replication with real processes: `depin testnet init --validators 4` and four `depin up`.
//!
//! Transfers sent to the validators in turn (one through `depin tx transfer`, the others over
//! HTTP) are committed, and every validator reports them in the same block. Validator 3 is then
//! killed with SIGKILL: the other three keep finalizing and every transaction acknowledged as
//! committed is committed on each of them. Restarted, validator 3 catches up to the same
//! blocks, the same state root and the same transactions, and a transfer sent to it commits.
//! A failure says what was expected and prints the tail of every validator's log.

// Progress and timings reach the log of a CI run.
#![allow(clippy::print_stderr)]

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{agent, clear_depin_env, depin, free_port_range, get_json, log_tail, post_json, HomeProcess};
use depin_keystore::Keystore;
use depin_types::{Address, Amount, Scheme, SecretKey, TxBody, TxContent};
use serde_json::Value;

/// Validators in the network: the smallest that tolerates one fault (n = 3f + 1).
const N: usize = 4;
/// Lines of each validator's log shown with a failure.
const LOG_LINES: usize = 40;
/// What the validators log (their logs are only read when the test fails).
const LOG_LEVEL: &str = "info";

/// One transaction the API acknowledged as committed.
#[derive(Clone, Debug)]
struct Acked {
    id: String,
    height: u64,
    block_id: String,
    /// The validator that acknowledged it.
    via: usize,
}

/// The test network: homes, API URLs, logs and the running validators.
struct Net {
    _dir: tempfile::TempDir,
    homes: Vec<PathBuf>,
    urls: Vec<String>,
    logs: Vec<PathBuf>,
    procs: Vec<Option<HomeProcess>>,
    http: ureq::Agent,
    chain_id: String,
    dev: SecretKey,
    next_nonce: u64,
    recipients: Vec<Address>,
    started: Instant,
}

impl Net {
    /// `depin testnet init --validators 4` on free ports; nothing started.
    fn init() -> Net {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("net");
        let base = free_port_range(2 * N as u16);
        let mut cmd = depin();
        let run = clear_depin_env(&mut cmd)
            .args(["testnet", "init", "--validators", &N.to_string(), "--base-port", &base.to_string(), "-o", "json", "--out"])
            .arg(&out)
            .output()
            .unwrap();
        assert!(run.status.success(), "testnet init failed: {}", String::from_utf8_lossy(&run.stderr));
        let report: Value = serde_json::from_slice(&run.stdout).expect("testnet init -o json prints one JSON document");
        let validators = report["validators"].as_array().expect("the report lists the validators");
        assert_eq!(validators.len(), N, "{report}");
        let homes: Vec<PathBuf> = validators.iter().map(|v| PathBuf::from(v["home"].as_str().unwrap())).collect();
        let urls: Vec<String> = validators.iter().map(|v| v["api_url"].as_str().unwrap().to_string()).collect();
        let logs = (0..N).map(|i| dir.path().join(format!("validator-{i}.log"))).collect();
        let dev = Keystore::open(homes[0].join("keys")).unwrap().get("dev").unwrap().decrypt(None, true).unwrap();
        let recipients = (0..8u8)
            .map(|i| SecretKey::from_seeds(Scheme::Ed25519, &[i + 40; 32]).unwrap().public_key().address())
            .collect();
        Net {
            _dir: dir,
            homes,
            urls,
            logs,
            procs: (0..N).map(|_| None).collect(),
            http: agent(),
            chain_id: report["chain_id"].as_str().unwrap().to_string(),
            dev,
            next_nonce: 0,
            recipients,
            started: Instant::now(),
        }
    }

    fn start(&mut self, i: usize) {
        assert!(self.procs[i].is_none(), "validator {i} is already running");
        self.procs[i] = Some(HomeProcess::start(&self.homes[i], &self.logs[i], LOG_LEVEL));
    }

    fn kill9(&mut self, i: usize) {
        self.procs[i].take().expect("the validator runs").kill9();
    }

    /// Fail with `msg` and the tail of every validator's log.
    #[track_caller]
    fn fail(&self, msg: impl std::fmt::Display) -> ! {
        let mut logs = String::new();
        for (i, log) in self.logs.iter().enumerate() {
            let state = if self.procs[i].is_some() { "started" } else { "stopped" };
            logs.push_str(&format!(
                "\n----- validator-{i} ({state}), last {LOG_LINES} lines of {} -----\n{}\n",
                log.display(),
                log_tail(log, LOG_LINES)
            ));
        }
        panic!("after {:.1?}: {msg}\n{logs}", self.started.elapsed());
    }

    /// Fail if a validator that should run has exited.
    #[track_caller]
    fn check_alive(&mut self) {
        let mut exited = Vec::new();
        for (i, p) in self.procs.iter_mut().enumerate() {
            if let Some(p) = p
                && let Ok(Some(status)) = p.child.try_wait()
            {
                exited.push(format!("validator-{i} exited with {status}"));
            }
        }
        if !exited.is_empty() {
            self.fail(exited.join("; "));
        }
    }

    /// Poll `f` every 100 ms until it answers `Ok`, for at most `timeout`; fail with `what` and
    /// the last answer otherwise, or as soon as a started validator exits.
    #[track_caller]
    fn wait_for<T>(&mut self, what: &str, timeout: Duration, mut f: impl FnMut(&Net) -> Result<T, String>) -> T {
        let start = Instant::now();
        loop {
            self.check_alive();
            match f(self) {
                Ok(v) => return v,
                Err(last) if start.elapsed() >= timeout => {
                    self.fail(format!("timed out after {timeout:?} waiting for {what}; last: {last}"))
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    fn get(&self, i: usize, path: &str) -> Result<Value, String> {
        match get_json(&self.http, &format!("{}{path}", self.urls[i])) {
            Ok((200, v)) => Ok(v),
            Ok((code, v)) => Err(format!("validator-{i} GET {path}: HTTP {code} {v}")),
            Err(e) => Err(format!("validator-{i} GET {path}: {e}")),
        }
    }

    fn status(&self, i: usize) -> Result<Value, String> {
        self.get(i, "/api/v1/status")
    }

    fn height(&self, i: usize) -> Result<u64, String> {
        let s = self.status(i)?;
        s["height"].as_u64().ok_or_else(|| format!("validator-{i}: status without a height: {s}"))
    }

    /// `(block id, state root)` of the block at `height` on validator `i`.
    fn block(&self, i: usize, height: u64) -> Result<(String, String), String> {
        let b = self.get(i, &format!("/api/v1/blocks/{height}"))?;
        match (b["id"].as_str(), b["block"]["header"]["state_root"].as_str()) {
            (Some(id), Some(root)) => Ok((id.to_string(), root.to_string())),
            _ => Err(format!("validator-{i}: block {height} without id or state root: {b}")),
        }
    }

    /// The status of validator `i` must say BFT and describe the four validators, itself once.
    /// The node publishes its replication view a moment after consensus starts (and says
    /// `single` until then), so this waits up to 10 s for it.
    #[track_caller]
    fn expect_bft_status(&mut self, i: usize) {
        self.wait_for(&format!("validator-{i} to report a BFT status"), Duration::from_secs(10), |net| {
            net.bft_status(i)
        });
    }

    fn bft_status(&self, i: usize) -> Result<(), String> {
        let s = self.status(i)?;
        let r = &s["replication"];
        let validators = r["validators"].as_array().map(Vec::as_slice).unwrap_or_default();
        let selves: Vec<&Value> = validators.iter().filter(|v| v["is_self"] == true).collect();
        let ok = s["mode"] == "bft"
            && r["engine"].is_string()
            && r["finalized_height"].is_u64()
            && r["view"].is_u64()
            && r["peers_connected"].is_u64()
            && validators.len() == N
            && selves.len() == 1
            && selves[0]["public_key"] == s["node_public_key"]
            && selves[0]["name"] == format!("validator-{i}").as_str();
        if ok { Ok(()) } else { Err(format!("validator-{i}: not a BFT status of validator-{i} among {N}: {s}")) }
    }

    fn sign_transfer(&mut self) -> (Value, u64) {
        let nonce = self.next_nonce;
        self.next_nonce += 1;
        let to = self.recipients[nonce as usize % self.recipients.len()];
        let tx = TxContent {
            chain_id: self.chain_id.clone(),
            signer: self.dev.public_key(),
            nonce,
            fee: Amount(0),
            body: TxBody::Transfer { to, amount: Amount(1 + u128::from(nonce)) },
        }
        .sign(&self.dev);
        (serde_json::to_value(&tx).unwrap(), nonce)
    }

    /// A signed transfer from `dev` submitted to validator `i`, waiting for its commit; it must
    /// be acknowledged as committed and applied.
    #[track_caller]
    fn transfer(&mut self, i: usize) -> Acked {
        let (tx, nonce) = self.sign_transfer();
        let sent = Instant::now();
        let answer = post_json(&self.http, &format!("{}/api/v1/txs?wait=true&timeout_ms=15000", self.urls[i]), &tx);
        match answer {
            Ok((200, v)) if v["status"] == "committed" && v["receipt"]["outcome"]["status"] == "applied" => Acked {
                id: v["tx_id"].as_str().unwrap().to_string(),
                height: v["height"].as_u64().unwrap(),
                block_id: v["block_id"].as_str().unwrap().to_string(),
                via: i,
            },
            other => self.fail(format!(
                "transfer with nonce {nonce} to validator-{i}: expected 200 committed and applied, got {other:?} after {:.1?}",
                sent.elapsed()
            )),
        }
    }

    /// A transfer through `depin --home <validator i> tx transfer --from dev … -o json`: the CLI
    /// finds the node in the home's config, takes the nonce from it and waits for the commit.
    #[track_caller]
    fn cli_transfer(&mut self, i: usize) -> Acked {
        let to = self.recipients[0].to_string();
        let mut cmd = depin();
        let out = clear_depin_env(&mut cmd)
            .arg("--home")
            .arg(&self.homes[i])
            .args(["tx", "transfer", "--from", "dev", "--to", &to, "--amount", "5", "-o", "json"])
            .output()
            .unwrap();
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        if !out.status.success() {
            self.fail(format!(
                "depin tx transfer via validator-{i} exited {}: stdout {} stderr {}",
                out.status,
                text(&out.stdout),
                text(&out.stderr)
            ));
        }
        let v: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| self.fail(format!("tx transfer -o json printed no JSON ({e}): {}", text(&out.stdout))));
        if v["status"] != "committed" || v["receipt"]["outcome"]["status"] != "applied" {
            self.fail(format!("tx transfer via validator-{i}: not committed and applied: {v}"));
        }
        self.next_nonce += 1;
        Acked {
            id: v["tx_id"].as_str().unwrap().to_string(),
            height: v["height"].as_u64().unwrap(),
            block_id: v["block_id"].as_str().unwrap().to_string(),
            via: i,
        }
    }

    /// Every transaction of `acked` is committed on each validator of `on`, at the height and in
    /// the block the acknowledging validator reported (waits up to `timeout` for laggards).
    #[track_caller]
    fn expect_committed(&mut self, acked: &[Acked], on: &[usize], timeout: Duration) {
        let what = format!("{} acknowledged transactions committed on validators {on:?}", acked.len());
        self.wait_for(&what, timeout, |net| {
            for &i in on {
                for a in acked {
                    let v = net.get(i, &format!("/api/v1/txs/{}", a.id))?;
                    if v["status"] != "committed" {
                        return Err(format!("validator-{i}: tx {} (acknowledged by validator-{}) is {v}", a.id, a.via));
                    }
                    if v["height"].as_u64() != Some(a.height) || v["block_id"].as_str() != Some(&a.block_id) {
                        net.fail(format!(
                            "validator-{i} has tx {} in block {} at height {}, validator-{} acknowledged it in block {} at height {}",
                            a.id, v["block_id"], v["height"], a.via, a.block_id, a.height
                        ));
                    }
                }
            }
            Ok(())
        });
    }

    /// The block at `height` has one id and one state root on every validator.
    #[track_caller]
    fn expect_same_block(&self, height: u64) {
        let blocks: Vec<(String, String)> =
            (0..N).map(|i| self.block(i, height).unwrap_or_else(|e| self.fail(e))).collect();
        if blocks.iter().any(|b| *b != blocks[0]) {
            self.fail(format!("validators disagree on block {height} (id, state root): {blocks:?}"));
        }
    }
}

#[test]
fn four_validators_finalize_survive_a_crash_and_catch_up() {
    let mut net = Net::init();
    for i in 0..N {
        net.start(i);
    }
    net.wait_for("all four validators at height >= 2", Duration::from_secs(40), |net| {
        for i in 0..N {
            let h = net.height(i)?;
            if h < 2 {
                return Err(format!("validator-{i} at height {h}"));
            }
        }
        Ok(())
    });
    for i in 0..N {
        net.expect_bft_status(i);
    }
    net.wait_for("every validator connected to its 3 peers", Duration::from_secs(20), |net| {
        for i in 0..N {
            let s = net.status(i)?;
            if s["replication"]["peers_connected"] != 3 {
                return Err(format!("validator-{i}: {}", s["replication"]));
            }
        }
        Ok(())
    });
    eprintln!("bft test: 4 validators finalizing after {:.1?}", net.started.elapsed());

    // One transfer through the CLI, then signed transfers to each validator in turn.
    let mut acked = vec![net.cli_transfer(1)];
    for k in 0..2 * N {
        acked.push(net.transfer(k % N));
    }
    net.expect_committed(&acked, &[0, 1, 2, 3], Duration::from_secs(15));
    eprintln!("bft test: {} transfers committed on all 4 after {:.1?}", acked.len(), net.started.elapsed());

    // Validator 3 crashes; the other three (2f + 1) go on.
    let at_kill: Vec<u64> = (0..3).map(|i| net.height(i).unwrap_or_else(|e| net.fail(e))).collect();
    net.kill9(3);
    let kill_time = Instant::now();
    for k in 0..6 {
        acked.push(net.transfer(k % 3));
    }
    eprintln!("bft test: 6 transfers committed with validator-3 down in {:.1?}", kill_time.elapsed());
    net.wait_for("validators 0-2 finalizing past their heights at the kill", Duration::from_secs(20), |net| {
        for (i, before) in at_kill.iter().enumerate() {
            let h = net.height(i)?;
            if h <= *before {
                return Err(format!("validator-{i} still at {h} (was {before} at the kill)"));
            }
        }
        Ok(())
    });
    net.expect_committed(&acked, &[0, 1, 2], Duration::from_secs(15));

    // Validator 3 restarts and catches up.
    let target = (0..3).map(|i| net.height(i).unwrap_or_else(|e| net.fail(e))).max().unwrap();
    net.start(3);
    let restart = Instant::now();
    net.wait_for(&format!("validator-3 catching up to height {target}"), Duration::from_secs(60), |net| {
        let h = net.height(3)?;
        if h < target { Err(format!("validator-3 at height {h}")) } else { Ok(()) }
    });
    eprintln!("bft test: validator-3 caught up to {target} in {:.1?}", restart.elapsed());
    net.expect_same_block(target);
    net.expect_committed(&acked, &[0, 1, 2, 3], Duration::from_secs(15));
    net.expect_bft_status(3);

    // It takes part again: a transfer submitted to it commits everywhere.
    let last = net.transfer(3);
    net.expect_committed(std::slice::from_ref(&last), &[0, 1, 2, 3], Duration::from_secs(15));
    acked.push(last);

    // Once the heads are equal, they are the same block with the same state root, and the dev
    // account has the same nonce everywhere.
    let dev = net.dev.public_key().address().to_string();
    let expected_nonce = net.next_nonce;
    net.wait_for("all four heads at one height", Duration::from_secs(20), |net| {
        let statuses = (0..N).map(|i| net.status(i)).collect::<Result<Vec<_>, _>>()?;
        let heads: Vec<(&Value, &Value, &Value)> =
            statuses.iter().map(|s| (&s["height"], &s["block_id"], &s["state_root"])).collect();
        if heads.iter().any(|h| h.0 != heads[0].0) {
            return Err(format!("heads differ: {heads:?}"));
        }
        if heads.iter().any(|h| h != &heads[0]) {
            net.fail(format!("equal heights but different heads (height, id, state root): {heads:?}"));
        }
        Ok(())
    });
    for i in 0..N {
        let account = net.get(i, &format!("/api/v1/accounts/{dev}")).unwrap_or_else(|e| net.fail(e));
        if account["nonce"].as_u64() != Some(expected_nonce) {
            net.fail(format!("validator-{i}: dev account {account}, expected nonce {expected_nonce}"));
        }
    }
    eprintln!(
        "bft test: {} acknowledged transfers committed on all 4 validators; took {:.1?}",
        acked.len(),
        net.started.elapsed()
    );
}
