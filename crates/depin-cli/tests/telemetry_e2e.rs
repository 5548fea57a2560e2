//! The telemetry issue's end-to-end scenario on a real `depin up` (real binary, real redb,
//! loopback): three registered assets report through three `depin agent run` processes (this
//! host's metrics for a compute asset, simulated metrics for a sensor and an energy asset); all
//! three are healthy through the API and the CLI; one agent is killed, and within a bounded
//! wait its asset turns offline for lack of heartbeats, the node streams the `health`
//! transition and the `alert` on `/api/v1/events`, and POSTs the alert to a webhook, while the
//! other two stay healthy.
//!
//! The genesis is edited after `depin init` for short telemetry epochs (12 s of 6 buckets of
//! 2 s, offline after 2 silent buckets), so the whole scenario takes about half a minute.
#![allow(clippy::print_stderr)] // the scenario's timings, for whoever tunes the constants below

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::live::{edit_toml, int, subscribe, Sse};
use common::{agent, clear_depin_env, depin, expect_code, free_port, get_json, init_dev_home, json, log_tail, run};
use common::{HomeProcess, PASSWORD};
use serde_json::Value;

/// A compute capacity larger than any test machine, so host metrics are plausible.
const HOST_CAPACITY: &str = "cpu_cores=4096,memory_mib=67108864,arch=x86_64";
/// Telemetry epoch of the test chain (a multiple of [`BUCKETS`]).
const EPOCH_MS: u64 = 12_000;
/// Heartbeat buckets per epoch: 2 s buckets, so the agents' default interval is 1 s.
const BUCKETS: u64 = 6;
/// Silent buckets before an asset is offline.
const OFFLINE_AFTER_BUCKETS: u64 = 2;
/// `[alerts] offline_for_s`: an offline asset silent for longer than this raises an alert.
const OFFLINE_FOR_S: u64 = 1;
/// How long the node may take to come up.
const READY_WITHIN: Duration = Duration::from_secs(30);
/// How long all three assets may take to be healthy: an epoch must start after the agents
/// do (the buckets before they started count as missed), plus slack for a loaded machine.
const HEALTHY_WITHIN: Duration = Duration::from_secs(45);
/// How long a killed agent's asset may take to be offline, alerted and posted: the silent
/// buckets, the monitor's 1 s tick, and slack for a loaded machine.
const OFFLINE_WITHIN: Duration = Duration::from_secs(30);

/// A child process killed (and reaped) on drop.
struct Proc {
    child: Child,
    name: &'static str,
    log: PathBuf,
}

impl Proc {
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One webhook request's body, as JSON.
type Posted = mpsc::Receiver<Value>;

/// Serve `POST`s on a loopback port from a thread: each request's JSON body goes to the
/// returned channel and is answered `200`. The thread ends with the test binary.
fn webhook_server() -> (String, Posted) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/alerts", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let body = read_request_body(&mut stream);
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            let parsed = body
                .map(|b| serde_json::from_slice(&b).unwrap_or_else(|e| Value::String(format!("not JSON ({e})"))))
                .unwrap_or_else(|e| Value::String(format!("unreadable request: {e}")));
            if tx.send(parsed).is_err() {
                return;
            }
        }
    });
    (url, rx)
}

/// The body of one HTTP/1.1 request with a `content-length` (what the node's webhook sends).
fn read_request_body(stream: &mut impl Read) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        assert!(buf.len() < 64 * 1024, "request head too large");
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::Error::other("connection closed before the end of the head"));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no content-length in {head:?}")))?;
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(length);
    Ok(body)
}

/// A dev node on short telemetry epochs, with an alert webhook, and `depin` bound to it.
struct Net {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    home: PathBuf,
    url: String,
    node: HomeProcess,
    agents: BTreeMap<&'static str, Proc>,
}

impl Net {
    fn start(webhook_url: &str) -> Net {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        init_dev_home(&home);
        edit_toml(
            &home.join("genesis.toml"),
            &[
                ("telemetry", "epoch_ms", int(EPOCH_MS)),
                ("telemetry", "buckets_per_epoch", int(BUCKETS)),
                ("telemetry", "offline_after_buckets", int(OFFLINE_AFTER_BUCKETS)),
                // At most 4 epochs (rule M-9).
                ("telemetry", "max_report_age_ms", int(3 * EPOCH_MS)),
            ],
        );
        let port = free_port();
        edit_toml(
            &home.join("config.toml"),
            &[
                ("api", "listen", toml::Value::String(format!("127.0.0.1:{port}"))),
                ("sequencer", "block_interval_ms", int(100)),
                ("alerts", "offline_for_s", int(OFFLINE_FOR_S)),
                ("alerts", "webhook_url", toml::Value::String(webhook_url.to_string())),
            ],
        );
        let log = dir.path().join("node.log");
        let node = HomeProcess::start(&home, &log, "warn");
        let mut net = Net {
            dir: dir.path().to_path_buf(),
            _dir: dir,
            home,
            url: format!("http://127.0.0.1:{port}"),
            node,
            agents: BTreeMap::new(),
        };
        net.wait_ready();
        net
    }

    fn wait_ready(&mut self) {
        let http = agent();
        let start = Instant::now();
        loop {
            if let Ok(r) = http.get(format!("{}/healthz", self.url)).call()
                && r.status().as_u16() == 200
            {
                return;
            }
            assert!(self.node.is_running(), "depin up exited:\n{}", log_tail(&self.node.log, 40));
            assert!(start.elapsed() < READY_WITHIN, "not ready after {READY_WITHIN:?}:\n{}", self.logs());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn depin(&self, args: &[&str]) -> Output {
        run(&self.home, &self.url, args)
    }

    /// `depin device keygen`, then `depin asset register` from the dev account; the asset id
    /// and the key file.
    fn register(&self, name: &str, class: &str, capacity: &str) -> (String, String) {
        let key = self.dir.join(format!("{name}.json")).to_str().unwrap().to_string();
        expect_code(&self.depin(&["device", "keygen", "--out", &key, "--insecure-plaintext"]), 0, "device keygen");
        let out = self.depin(&[
            "asset", "register", "--class", class, "--device-key", &key, "--location", "48.8584,2.2945",
            "--capacity", capacity, "--name", name, "--from", "dev", "-o", "json",
        ]);
        let registered = json(&expect_code(&out, 0, "asset register"));
        (registered["asset_id"].as_str().expect("an asset id").to_string(), key)
    }

    /// Start `depin agent run` for the key at `key` (reporting every default interval), with
    /// `extra` flags; its output goes to a log file.
    fn start_agent(&mut self, name: &'static str, key: &str, extra: &[&str]) {
        let log = self.dir.join(format!("agent-{name}.log"));
        let file = std::fs::File::create(&log).unwrap();
        let mut cmd = depin();
        clear_depin_env(&mut cmd)
            .args(["agent", "run", "--device-key", key, "-o", "json", "--state-dir"])
            .arg(self.dir.join(format!("state-{name}")))
            .args(extra)
            .arg("--home")
            .arg(&self.home)
            .env("DEPIN_NODE", &self.url)
            .env("DEPIN_KEY_PASSWORD", PASSWORD)
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file);
        let child = cmd.spawn().unwrap();
        self.agents.insert(name, Proc { child, name, log });
    }

    /// `GET /api/v1/assets/{id}/health`.
    fn health(&self, id: &str) -> Value {
        let (status, v) = get_json(&agent(), &format!("{}/api/v1/assets/{id}/health", self.url)).unwrap();
        assert_eq!(status, 200, "health of {id}: {v}");
        v
    }

    /// The node's and the agents' latest log lines, for a failure message.
    fn logs(&self) -> String {
        let mut s = format!("--- node log:\n{}\n", log_tail(&self.node.log, 30));
        for p in self.agents.values() {
            s += &format!("--- agent {} log:\n{}\n", p.name, log_tail(&p.log, 10));
        }
        s
    }
}

/// The `now` state of a health answer.
fn state(health: &Value) -> &str {
    health["now"]["state"].as_str().unwrap_or("?")
}

/// The reason codes of a health answer's `now`, or of an event's `reasons`.
fn reason_codes(reasons: &Value) -> Vec<&str> {
    reasons.as_array().map_or(Vec::new(), |a| a.iter().filter_map(|r| r["code"].as_str()).collect())
}

#[test]
fn three_agents_report_healthy_and_a_killed_one_turns_offline_with_an_event_and_a_webhook_alert() {
    let test_start = Instant::now();
    let (webhook_url, posted) = webhook_server();
    let mut net = Net::start(&webhook_url);
    let events = subscribe(&net.url);

    let (compute, compute_key) = net.register("gpu-01", "compute", HOST_CAPACITY);
    let (sensor, sensor_key) = net.register("air-01", "sensor", "kind=particulate_matter,sample_period_ms=1000");
    let (energy, energy_key) = net.register("roof-01", "energy", "source=solar,peak_w=5000,storage_wh=10000");
    net.start_agent("compute", &compute_key, &[]);
    net.start_agent("sensor", &sensor_key, &["--simulate", "sensor"]);
    net.start_agent("energy", &energy_key, &["--simulate", "energy"]);
    let all = [("compute", compute.as_str()), ("sensor", sensor.as_str()), ("energy", energy.as_str())];

    // All three healthy at once, through the API.
    let start = Instant::now();
    loop {
        let states: Vec<(&str, Value)> = all.iter().map(|(name, id)| (*name, net.health(id))).collect();
        if states.iter().all(|(_, h)| state(h) == "healthy") {
            break;
        }
        let exited: Vec<String> = net
            .agents
            .iter_mut()
            .filter_map(|(name, a)| a.child.try_wait().unwrap().map(|status| format!("{name}: {status}")))
            .collect();
        assert!(exited.is_empty(), "agents exited: {exited:?}\n{}", net.logs());
        let summary: Vec<String> = states.iter().map(|(n, h)| format!("{n}: {}", h["now"])).collect();
        assert!(start.elapsed() < HEALTHY_WITHIN, "not all healthy after {HEALTHY_WITHIN:?}:\n{}\n{}", summary.join("\n"), net.logs());
        std::thread::sleep(Duration::from_millis(250));
    }
    let healthy_after = start.elapsed();
    // What the stream said until now (first judgements, the climb to healthy) is past.
    let _ = events.try_iter().count();

    // The same through the CLI.
    for (name, id) in all {
        let h = json(&expect_code(&net.depin(&["asset", "health", id, "-o", "json"]), 0, "asset health"));
        assert_eq!(h["asset"], id, "{name}: {h}");
        assert!(h["last_seq"].as_u64().is_some(), "{name} has reports on the ledger: {h}");
        assert_eq!(state(&h), "healthy", "{name} through the CLI: {h}");
    }
    // The node's ingest results list each agent's accepted reports.
    for (name, id) in all {
        let out = net.depin(&["telemetry", "tail", "--asset", id, "-o", "json"]);
        let tail = json(&expect_code(&out, 0, "telemetry tail"));
        let items = tail["items"].as_array().unwrap_or_else(|| panic!("{name}: {tail}"));
        assert!(items.iter().any(|i| i["code"] == "accepted"), "{name}: {tail}");
    }
    let network = json(&expect_code(&net.depin(&["network", "health", "-o", "json"]), 0, "network health"));
    assert_eq!(network["assets"], 3, "{network}");
    assert_eq!(network["by_state"]["healthy"], 3, "{network}");
    for class in ["compute", "sensor", "energy"] {
        assert_eq!(network["by_class"][class]["healthy"], 1, "{class}: {network}");
    }

    // Kill the sensor's agent: its asset goes silent.
    let killed_at = Instant::now();
    net.agents.get_mut("sensor").unwrap().kill();

    // Offline for lack of heartbeats, through the API.
    let offline = loop {
        let h = net.health(&sensor);
        if state(&h) == "offline" {
            break h;
        }
        assert!(killed_at.elapsed() < OFFLINE_WITHIN, "sensor not offline after {OFFLINE_WITHIN:?}: {h}\n{}", net.logs());
        std::thread::sleep(Duration::from_millis(200));
    };
    let offline_after = killed_at.elapsed();
    assert!(reason_codes(&offline["now"]["reasons"]).contains(&"no_heartbeat"), "{offline}");
    let silent = offline["now"]["reasons"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["code"] == "no_heartbeat"))
        .and_then(|r| r["buckets"].as_u64())
        .unwrap();
    assert!(silent >= OFFLINE_AFTER_BUCKETS, "{offline}");

    // The transition and the alert on the event stream, and the alert at the webhook.
    let mut seen: Vec<Sse> = Vec::new();
    let mut transition = None;
    let mut alert = None;
    while transition.is_none() || alert.is_none() {
        let left = OFFLINE_WITHIN.saturating_sub(killed_at.elapsed());
        let e = events.recv_timeout(left).unwrap_or_else(|e| {
            panic!("no offline health event and alert for the sensor ({e}); events seen: {seen:#?}\n{}", net.logs())
        });
        let about_sensor = e.data["asset"] == sensor.as_str();
        if about_sensor && e.event == "health" && e.data["to"] == "offline" {
            transition = Some(e.clone());
        }
        if about_sensor && e.event == "alert" && e.data["rule"] == "offline" {
            alert = Some(e.clone());
        }
        seen.push(e);
    }
    let transition = transition.unwrap().data;
    assert_eq!(transition["type"], "health", "{transition}");
    assert!(transition["from"] == "healthy" || transition["from"] == "degraded", "{transition}");
    assert!(reason_codes(&transition["reasons"]).contains(&"no_heartbeat"), "{transition}");
    let alert = alert.unwrap().data;
    assert_eq!(alert["type"], "alert", "{alert}");
    assert!(alert["detail"].as_str().unwrap().contains("offline for"), "{alert}");

    let hook = loop {
        let left = OFFLINE_WITHIN.saturating_sub(killed_at.elapsed());
        let body = posted.recv_timeout(left).unwrap_or_else(|e| panic!("no webhook POST ({e})\n{}", net.logs()));
        if body["asset"] == sensor.as_str() && body["rule"] == "offline" {
            break body;
        }
    };
    assert_eq!(hook["type"], "alert", "{hook}");
    assert_eq!(hook["detail"], alert["detail"], "the webhook gets the event the stream carries");

    // Through the CLI too.
    let h = json(&expect_code(&net.depin(&["asset", "health", &sensor, "-o", "json"]), 0, "asset health"));
    assert_eq!(state(&h), "offline", "{h}");
    assert!(reason_codes(&h["now"]["reasons"]).contains(&"no_heartbeat"), "{h}");

    // The other two stayed healthy: no transition away from healthy on the stream (the monitor
    // may announce the climb to healthy a tick after the API showed it), healthy now, and the
    // network counts one offline asset.
    for (name, id) in [("compute", compute.as_str()), ("energy", energy.as_str())] {
        let h = net.health(id);
        assert_eq!(state(&h), "healthy", "{name}: {h}\n{}", net.logs());
    }
    seen.extend(events.try_iter());
    let others: Vec<&Sse> = seen
        .iter()
        .filter(|e| e.data["asset"] == compute.as_str() || e.data["asset"] == energy.as_str())
        .filter(|e| e.event != "health" || e.data["to"] != "healthy")
        .collect();
    assert!(others.is_empty(), "the healthy assets had events: {others:#?}");
    let network = json(&expect_code(&net.depin(&["network", "health", "-o", "json"]), 0, "network health"));
    assert_eq!(network["by_state"]["healthy"], 2, "{network}");
    assert_eq!(network["by_state"]["offline"], 1, "{network}");
    assert_eq!(network["by_class"]["sensor"]["offline"], 1, "{network}");

    eprintln!(
        "healthy {healthy_after:?} after the agents started; offline, alerted and posted {offline_after:?} after the kill; {:?} in all",
        test_start.elapsed()
    );
}
