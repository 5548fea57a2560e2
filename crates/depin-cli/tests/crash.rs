//! Crash test: a real `depin up` receiving transfers is killed with SIGKILL again and again.
//!
//! After every kill: every transaction the API acknowledged as committed is still committed,
//! the stored state root equals a replay from genesis (`depin ledger replay`), and the node
//! restarts and goes on. Iterations: 20 by default, `DEPIN_CRASH_ITERATIONS` for more.
//! The kill moments come from a seeded generator; a failure prints the seed
//! (`DEPIN_CRASH_SEED` reproduces the schedule).

// The seed and the survivors' count must reach the log of a failed CI run.
#![allow(clippy::print_stderr)]

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{agent, depin, free_port, get_json, init_dev_home, post_json, NodeProcess};
use depin_keystore::Keystore;
use depin_types::{Amount, Scheme, SecretKey, TxBody, TxContent};

/// xorshift64*: a tiny seeded generator for kill timings (tests only).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

#[test]
fn kill_nine_loses_no_acknowledged_transaction() {
    let iterations: usize = std::env::var("DEPIN_CRASH_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(20);
    let seed: u64 = std::env::var("DEPIN_CRASH_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1
    });
    eprintln!("crash test: {iterations} iterations, DEPIN_CRASH_SEED={seed}");
    let mut rng = Rng(seed);

    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    init_dev_home(&home);
    let dev = Keystore::open(home.join("keys")).unwrap().get("dev").unwrap().decrypt(None, true).unwrap();
    let recipients: Vec<_> = (0..8u8)
        .map(|i| SecretKey::from_seeds(Scheme::Ed25519, &[i + 10; 32]).unwrap().public_key().address())
        .collect();
    let port = free_port();
    let http = agent();
    let acked: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
    let mut chain_id = String::new();
    let mut repaired_blocks = 0;

    for iteration in 0..iterations {
        let node = NodeProcess::start(&home, port, 20);
        let (_, status) = get_json(&http, &format!("{}/api/v1/status", node.url)).unwrap();
        chain_id = status["chain_id"].as_str().unwrap().to_string();
        // Everything acknowledged before the previous kill must be committed now.
        for id in acked.lock().unwrap().iter() {
            let (code, tx) = get_json(&http, &format!("{}/api/v1/txs/{id}", node.url)).unwrap();
            assert_eq!((code, tx["status"].as_str()), (200, Some("committed")), "seed {seed}, iteration {iteration}: acknowledged tx {id} lost: {tx}");
        }
        let dev_addr = dev.public_key().address().to_string();
        let (_, account) = get_json(&http, &format!("{}/api/v1/accounts/{dev_addr}", node.url)).unwrap();
        let first_nonce = account["nonce"].as_u64().unwrap();

        // Writers: four threads submit with wait=true; nonces are handed out in order.
        let stop = Arc::new(AtomicBool::new(false));
        let next_nonce = Arc::new(Mutex::new(first_nonce));
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let (stop, next_nonce, acked) = (stop.clone(), next_nonce.clone(), acked.clone());
                let (url, chain_id, recipients) = (node.url.clone(), chain_id.clone(), recipients.clone());
                let dev = SecretKey::from_seeds(dev.scheme(), dev.seeds()).unwrap();
                std::thread::spawn(move || {
                    let http = agent();
                    while !stop.load(Ordering::Relaxed) {
                        let nonce = {
                            let mut n = next_nonce.lock().unwrap();
                            *n += 1;
                            *n - 1
                        };
                        let tx = TxContent {
                            chain_id: chain_id.clone(),
                            signer: dev.public_key(),
                            nonce,
                            fee: Amount(0),
                            body: TxBody::Transfer { to: recipients[(nonce as usize + w) % recipients.len()], amount: Amount(1) },
                        }
                        .sign(&dev);
                        let body = serde_json::to_value(&tx).unwrap();
                        match post_json(&http, &format!("{url}/api/v1/txs?wait=true&timeout_ms=5000"), &body) {
                            Ok((200, v)) if v["status"] == "committed" => {
                                acked.lock().unwrap().push(v["tx_id"].as_str().unwrap().to_string());
                            }
                            // Killed mid-request, or not yet committed: not acknowledged.
                            other if std::env::var("DEPIN_CRASH_DEBUG").is_ok() => {
                                eprintln!("writer {w}: nonce {nonce}: {other:?}");
                            }
                            Ok((code, v)) if code >= 400 && !stop.load(Ordering::Relaxed) => {
                                eprintln!("writer {w}: nonce {nonce}: HTTP {code} {v}");
                            }
                            _ => {}
                        }
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(100 + rng.next() % 400));
        node.kill9();
        stop.store(true, Ordering::Relaxed);
        for w in writers {
            w.join().unwrap();
        }
        // The stored state must equal a replay of the block log from genesis.
        let out = depin().args(["ledger", "replay", "-o", "json", "--home"]).arg(&home).output().unwrap();
        assert!(out.status.success(), "seed {seed}, iteration {iteration}: replay failed: {}", String::from_utf8_lossy(&out.stderr));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["matches"], true, "seed {seed}: {report}");
        repaired_blocks += report["repaired_blocks"].as_u64().unwrap();
    }

    // The node goes on after the last crash.
    let node = NodeProcess::start(&home, port, 20);
    for id in acked.lock().unwrap().iter() {
        let (_, tx) = get_json(&http, &format!("{}/api/v1/txs/{id}", node.url)).unwrap();
        assert_eq!(tx["status"], "committed", "seed {seed}: acknowledged tx {id} lost");
    }
    let n_acked = acked.lock().unwrap().len();
    // Kills land between state checkpoints, so the state must have been behind and repaired.
    assert!(repaired_blocks > 0, "seed {seed}: the state was never behind the log; the repair path went untested");
    assert!(n_acked >= iterations, "seed {seed}: only {n_acked} transactions acknowledged; the test exercised too little");
    let dev_addr = dev.public_key().address().to_string();
    let (_, account) = get_json(&http, &format!("{}/api/v1/accounts/{dev_addr}", node.url)).unwrap();
    let tx = TxContent {
        chain_id,
        signer: dev.public_key(),
        nonce: account["nonce"].as_u64().unwrap(),
        fee: Amount(0),
        body: TxBody::Transfer { to: recipients[0], amount: Amount(1) },
    }
    .sign(&dev);
    let (code, v) = post_json(&http, &format!("{}/api/v1/txs?wait=true", node.url), &serde_json::to_value(&tx).unwrap()).unwrap();
    assert_eq!((code, v["status"].as_str()), (200, Some("committed")), "{v}");
    assert!(node.terminate().success());
    eprintln!(
        "crash test: {n_acked} acknowledged transactions survived {iterations} SIGKILLs; \
         {repaired_blocks} blocks replayed into state that was behind the log"
    );
}
