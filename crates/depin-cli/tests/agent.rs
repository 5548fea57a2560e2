//! End-to-end tests of `depin agent run`, `depin asset health`, `depin telemetry tail` and
//! `depin network health` against a real `depin up` on a temporary dev home: a registered
//! device reports (host metrics and simulated ones), the ledger counts it, sequence numbers
//! survive a restart, refusals say why, and the agent stops cleanly on SIGTERM.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{clear_depin_env, depin, expect_code, free_port, init_dev_home, json, run, text, NodeProcess, PASSWORD};
use serde_json::Value;

/// A compute capacity larger than any test machine, so host metrics are plausible.
const HOST_CAPACITY: &str = "cpu_cores=4096,memory_mib=67108864,arch=x86_64";

/// How long the ledger may take to count an accepted report (ingest edge → block).
const COUNTED_WITHIN: Duration = Duration::from_secs(30);

/// A running dev node and a `depin` runner bound to its home.
struct Net {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    home: PathBuf,
    node: NodeProcess,
}

impl Net {
    fn start() -> Net {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        init_dev_home(&home);
        let node = NodeProcess::start(&home, free_port(), 50);
        Net { dir: dir.path().to_path_buf(), _dir: dir, home, node }
    }

    fn depin(&self, args: &[&str]) -> Output {
        run(&self.home, &self.node.url, args)
    }

    /// `depin device keygen` into the test directory; the key file's path.
    fn device_key(&self, name: &str) -> String {
        let path = self.dir.join(format!("{name}.json"));
        let p = path.to_str().unwrap().to_string();
        expect_code(&self.depin(&["device", "keygen", "--out", &p, "--insecure-plaintext"]), 0, "device keygen");
        p
    }

    /// Register an asset of `class` with the device key at `key`, from the dev account; its id.
    fn register(&self, class: &str, key: &str, capacity: &str) -> String {
        let out = self.depin(&[
            "asset",
            "register",
            "--class",
            class,
            "--device-key",
            key,
            "--location",
            "48.8584,2.2945",
            "--capacity",
            capacity,
            "--from",
            "dev",
            "-o",
            "json",
        ]);
        let registered = json(&expect_code(&out, 0, "asset register"));
        registered["asset_id"].as_str().expect("an asset id").to_string()
    }

    /// `depin agent run --once` with the key at `key`, state in `state`, and `extra` flags.
    fn agent_once(&self, key: &str, state: &Path, extra: &[&str]) -> Output {
        let state = state.to_str().unwrap();
        self.depin(&[&["agent", "run", "--device-key", key, "--state-dir", state, "--once"], extra].concat())
    }
}

/// The JSON lines an agent printed (one per report).
fn verdicts(stdout: &str) -> Vec<Value> {
    stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}"))).collect()
}

/// Poll `depin asset health ID -o json` until the epoch `epoch` counts at least one report.
fn wait_counted(net: &Net, id: &str, epoch: u64) -> Value {
    let start = Instant::now();
    loop {
        let health = json(&expect_code(&net.depin(&["asset", "health", id, "-o", "json"]), 0, "asset health"));
        let counted = |e: &Value| e["epoch"] == epoch && e["reports"].as_u64().unwrap_or(0) >= 1;
        if counted(&health["now"]) || health["epochs"].as_array().is_some_and(|a| a.iter().any(counted)) {
            return health;
        }
        assert!(start.elapsed() < COUNTED_WITHIN, "epoch {epoch} counts no report after {COUNTED_WITHIN:?}: {health}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_registered_compute_asset_reports_and_the_ledger_counts_it() {
    let net = Net::start();
    let key = net.device_key("gpu-01");
    let id = net.register("compute", &key, HOST_CAPACITY);
    let state = net.dir.join("agent-state");

    // One report of this machine's metrics, accepted.
    let out = net.agent_once(&key, &state, &["-o", "json"]);
    let first = verdicts(&expect_code(&out, 0, "agent run --once"));
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(first[0]["code"], "accepted", "{first:?}\nstderr:\n{}", text(&out.stderr));
    let seq1 = first[0]["seq"].as_u64().unwrap();
    let epoch = first[0]["epoch"].as_u64().unwrap();

    // The ledger counts it in the current epoch.
    let health = wait_counted(&net, &id, epoch);
    assert_eq!(health["asset"], id.as_str());
    assert_eq!(health["class"], "compute");
    assert_eq!(health["last_seq"], seq1, "{health}");

    // A restarted agent continues above the sequence number it used.
    let seq_file = state.join(format!("{id}.seq"));
    assert_eq!(std::fs::read_to_string(&seq_file).unwrap().trim(), seq1.to_string());
    let out = net.agent_once(&key, &state, &["-o", "json"]);
    let second = verdicts(&expect_code(&out, 0, "second agent run --once"));
    let seq2 = second[0]["seq"].as_u64().unwrap();
    assert!(seq2 > seq1, "{seq2} after {seq1}");
    assert_eq!(second[0]["code"], "accepted", "{second:?}");

    // The table says it in words.
    let table = expect_code(&net.depin(&["asset", "health", &id]), 0, "asset health table");
    for row in ["class", "compute", "now", "reasons", "uptime", "last_report"] {
        assert!(table.contains(row), "{row:?} missing:\n{table}");
    }

    // The node's recent ingest results list both reports, in words in the table.
    let tail =
        json(&expect_code(&net.depin(&["telemetry", "tail", "--asset", &id, "-o", "json"]), 0, "telemetry tail"));
    let seqs: Vec<u64> = tail["items"].as_array().unwrap().iter().map(|i| i["seq"].as_u64().unwrap()).collect();
    assert!(seqs.contains(&seq1) && seqs.contains(&seq2), "{tail}");
    let table = expect_code(&net.depin(&["telemetry", "tail"]), 0, "telemetry tail table");
    assert!(table.lines().next().unwrap().contains("RESULT") && table.contains("accepted"), "{table}");

    // The network counts the asset.
    let network = json(&expect_code(&net.depin(&["network", "health", "-o", "json"]), 0, "network health"));
    assert!(network["assets"].as_u64().unwrap() >= 1, "{network}");
    assert!(network["by_class"]["compute"].is_object(), "{network}");
    let table = expect_code(&net.depin(&["network", "health"]), 0, "network health table");
    assert!(table.contains("CLASS") && table.contains("compute"), "{table}");
}

#[test]
fn a_simulated_sensor_reports_with_a_fix_and_a_wrong_class_is_refused_before_sending() {
    let net = Net::start();
    let key = net.device_key("air-01");
    let id = net.register("sensor", &key, "kind=particulate_matter,sample_period_ms=1000");
    let state = net.dir.join("agent-state");

    // Host metrics are compute metrics: a sensor must be simulated (usage error, nothing sent).
    let out = net.agent_once(&key, &state, &[]);
    expect_code(&out, 2, "host metrics for a sensor");
    assert!(text(&out.stderr).contains("--simulate sensor"), "{}", text(&out.stderr));
    let out = net.agent_once(&key, &state, &["--simulate", "energy"]);
    expect_code(&out, 2, "simulating another class");

    let out = net.agent_once(&key, &state, &["--simulate", "sensor", "--fix", "48.8584,2.2945", "-o", "json"]);
    let v = verdicts(&expect_code(&out, 0, "simulated sensor"));
    assert_eq!(v[0]["code"], "accepted", "{v:?}");
    wait_counted(&net, &id, v[0]["epoch"].as_u64().unwrap());
}

#[test]
fn an_unregistered_device_is_told_to_register_first() {
    let net = Net::start();
    let key = net.device_key("stray");
    let out = net.agent_once(&key, &net.dir.join("state"), &[]);
    expect_code(&out, 3, "unregistered device");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("asset not registered: run depin asset register first"), "{stderr}");
    assert!(stderr.contains("depin asset register --class CLASS --device-key"), "the hint shows how: {stderr}");
}

#[test]
fn an_unreadable_device_key_fails_before_the_node_is_asked() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    // Port 1: nobody listens, so a clear key error proves the node was not needed.
    let missing = dir.path().join("missing.json");
    let out = run(&home, "127.0.0.1:1", &["agent", "run", "--device-key", missing.to_str().unwrap(), "--once"]);
    expect_code(&out, 3, "missing key file");
    assert!(text(&out.stderr).contains("no such file"), "{}", text(&out.stderr));

    let garbage = dir.path().join("garbage.json");
    std::fs::write(&garbage, "not a key").unwrap();
    let out = run(&home, "127.0.0.1:1", &["agent", "run", "--device-key", garbage.to_str().unwrap(), "--once"]);
    assert_ne!(out.status.code(), Some(0), "a file that is not a key");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("error:") && stderr.contains("garbage.json"), "{stderr}");
}

#[test]
fn an_unreachable_node_fails_once_after_a_few_retries() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let key = dir.path().join("k.json");
    let out = run(&home, "127.0.0.1:1", &["device", "keygen", "--out", key.to_str().unwrap(), "--insecure-plaintext"]);
    expect_code(&out, 0, "keygen");
    let port = free_port();
    let out = run(
        &home,
        &format!("127.0.0.1:{port}"),
        &["agent", "run", "--device-key", key.to_str().unwrap(), "--once", "--state-dir", dir.path().to_str().unwrap()],
    );
    expect_code(&out, 5, "unreachable node");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("retrying in 1 s") && stderr.contains("cannot reach the node"), "{stderr}");
}

#[test]
fn the_agent_reports_every_interval_and_stops_cleanly_on_sigterm() {
    let net = Net::start();
    let key = net.device_key("loop");
    net.register("compute", &key, HOST_CAPACITY);
    let state = net.dir.join("agent-state");
    let mut cmd = depin();
    clear_depin_env(&mut cmd)
        .args(["agent", "run", "--device-key", &key, "--interval-s", "1", "-o", "json", "--state-dir"])
        .arg(&state)
        .arg("--home")
        .arg(&net.home)
        .env("DEPIN_NODE", &net.node.url)
        .env("DEPIN_KEY_PASSWORD", PASSWORD)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut lines = Vec::new();
    while lines.len() < 3 {
        match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(l) => lines.push(l),
            Err(e) => {
                let _ = child.kill();
                panic!("only {} report lines ({e}): {lines:?}", lines.len());
            }
        }
    }
    let seqs: Vec<u64> = verdicts(&lines.join("\n")).iter().map(|v| v["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[1] > w[0]), "{seqs:?}");

    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(start.elapsed() < Duration::from_secs(15), "the agent did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(0), "stderr:\n{stderr}");
    assert!(stderr.contains("terminated; stopping") && stderr.contains("agent: stopped"), "{stderr}");
}
