//! The market failover scenario on a real `depin up` (real binary, real redb, loopback): three
//! compute assets of two owners report through three long-running `depin agent run`
//! processes and are priced; a consumer mints credits and submits a one-replica workload file,
//! which is placed with its cost terms; the agent of the asset that holds the replica is
//! killed, and within a bounded wait the lease closes `asset_failed`, a new lease on another
//! asset replaces it, the consumer is credited for the gap, and the event stream carries the
//! `lease_closed` and `placement` events.
//!
//! The genesis is edited after `depin init` for short telemetry epochs (12 s of 6 buckets of
//! 2 s, offline after 2 silent buckets), so failover takes seconds.
#![allow(clippy::print_stderr)] // the failover time, for whoever tunes the constants below

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use common::live::{edit_toml, int, subscribe, Sse};
use common::{clear_depin_env, depin, expect_code, free_port, init_dev_home, json, run, NodeProcess, PASSWORD};
use serde_json::Value;

/// Compute capacity of each asset.
const CAPACITY: &str = "cpu_cores=16,memory_mib=65536,arch=x86_64";
/// Telemetry epoch of the test chain (a multiple of [`BUCKETS`]).
const EPOCH_MS: u64 = 12_000;
/// Heartbeat buckets per epoch: 2 s buckets, so the agents' default interval is 1 s.
const BUCKETS: u64 = 6;
/// Silent buckets before an asset is offline (and its leases fail over).
const OFFLINE_AFTER_BUCKETS: u64 = 2;
/// How long the agents may take to have a report on the ledger.
const REPORTING_WITHIN: Duration = Duration::from_secs(30);
/// How long the allocator may take to place the workload.
const PLACED_WITHIN: Duration = Duration::from_secs(20);
/// How long failover may take after the kill: the silent buckets (4 s), the next bucket's
/// check, and slack for a loaded machine.
const FAILOVER_WITHIN: Duration = Duration::from_secs(25);

/// A child process killed (and reaped) on drop.
struct Proc {
    child: Child,
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

/// A dev node on short telemetry epochs, `depin` bound to it, and the agents it runs.
struct Net {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    home: PathBuf,
    node: NodeProcess,
    agents: BTreeMap<String, Proc>,
}

impl Net {
    fn start() -> Net {
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
        let node = NodeProcess::start(&home, free_port(), 100);
        Net { dir: dir.path().to_path_buf(), _dir: dir, home, node, agents: BTreeMap::new() }
    }

    fn depin(&self, args: &[&str]) -> Output {
        run(&self.home, &self.node.url, args)
    }

    #[track_caller]
    fn ok_json(&self, args: &[&str]) -> Value {
        let what = args.join(" ");
        json(&expect_code(&self.depin(&[args, &["-o", "json"]].concat()), 0, &what))
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).to_str().unwrap().to_string()
    }

    /// A device key and a compute asset owned by `owner`, registered and priced, with a
    /// `depin agent run --simulate compute` reporting for it: the asset's id.
    fn reporting_asset(&mut self, name: &str, owner: &str) -> String {
        let key = self.path(&format!("{name}.json"));
        expect_code(&self.depin(&["device", "keygen", "--out", &key, "--insecure-plaintext"]), 0, "device keygen");
        let registered = self.ok_json(&[
            "asset", "register", "--class", "compute", "--device-key", &key, "--location", "48.8584,2.2945",
            "--capacity", CAPACITY, "--name", name, "--from", owner,
        ]);
        let id = registered["asset_id"].as_str().expect("an asset id").to_string();
        let set = self.ok_json(&[
            "price", "set", "--asset", &id, "--price", "vcpu_epoch=10", "--price", "memory_gib_epoch=2", "--from", owner,
        ]);
        assert_eq!(set["status"], "committed", "{set}");

        let log = self.dir.join(format!("agent-{name}.log"));
        let file = std::fs::File::create(&log).unwrap();
        let mut cmd = depin();
        clear_depin_env(&mut cmd)
            .args(["agent", "run", "--device-key", &key, "--simulate", "compute", "-o", "json", "--state-dir"])
            .arg(self.dir.join(format!("state-{name}")))
            .arg("--home")
            .arg(&self.home)
            .env("DEPIN_NODE", &self.node.url)
            .env("DEPIN_KEY_PASSWORD", PASSWORD)
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file);
        let child = cmd.spawn().unwrap();
        self.agents.insert(id.clone(), Proc { child, log });
        id
    }

    /// Wait until every asset in `ids` has a report on the ledger.
    fn wait_reporting(&mut self, ids: &[String]) {
        let start = Instant::now();
        for id in ids {
            loop {
                let h = self.ok_json(&["asset", "health", id]);
                if h["last_seq"].as_u64().is_some() {
                    break;
                }
                self.assert_agents_alive();
                assert!(start.elapsed() < REPORTING_WITHIN, "{id}: no report after {REPORTING_WITHIN:?}: {h}\n{}", self.logs());
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }

    /// Poll `workload show ID` until `done` holds.
    fn wait_workload(&mut self, id: &str, what: &str, within: Duration, done: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            let w = self.ok_json(&["workload", "show", id]);
            if done(&w) {
                return w;
            }
            self.assert_agents_alive();
            assert!(start.elapsed() < within, "workload {id}: not {what} after {within:?}: {w:#}\n{}", self.logs());
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// No agent still wanted has exited.
    fn assert_agents_alive(&mut self) {
        let exited: Vec<String> = self
            .agents
            .iter_mut()
            .filter_map(|(id, a)| a.child.try_wait().unwrap().map(|status| format!("{id}: {status}")))
            .collect();
        assert!(exited.is_empty(), "agents exited: {exited:?}\n{}", self.logs());
    }

    /// The agents' latest log lines, for a failure message.
    fn logs(&self) -> String {
        let mut s = String::new();
        for (id, p) in &self.agents {
            s += &format!("--- agent {id} log:\n{}\n", common::log_tail(&p.log, 10));
        }
        s
    }
}

/// An amount field (a decimal string) as a number.
fn amount(v: &Value) -> u128 {
    v.as_str().unwrap_or_else(|| panic!("not an amount: {v}")).parse().unwrap()
}

/// The open leases of a `workload show` answer.
fn open_leases(w: &Value) -> Vec<&Value> {
    w["lease_records"].as_array().unwrap().iter().filter(|l| l["state"]["state"] != "closed").collect()
}

#[test]
fn a_replica_on_an_asset_whose_agent_dies_moves_to_another_asset_and_the_gap_is_credited() {
    let mut net = Net::start();
    let events = subscribe(&net.node.url);

    // A second owner, funded by dev.
    expect_code(&net.depin(&["keys", "new", "bob"]), 0, "keys new bob");
    let transfer = net.depin(&["tx", "transfer", "--from", "dev", "--to", "bob", "--amount", "1000000000"]);
    expect_code(&transfer, 0, "fund bob");

    // Three priced compute assets, two of dev's and one of bob's, each with its agent.
    let assets = [
        net.reporting_asset("node-a", "dev"),
        net.reporting_asset("node-b", "dev"),
        net.reporting_asset("node-c", "bob"),
    ];
    net.wait_reporting(&assets);

    // Credits, and a one-replica workload file.
    let minted = net.ok_json(&["credits", "mint", "1000000", "--from", "dev"]);
    assert_eq!(minted["credits"], "1000000", "{minted}");
    let spec = net.path("job.toml");
    std::fs::write(
        &spec,
        r#"
name = "job"
class = "compute"
replicas = 1
duration_epochs = 50
max_price = 1000
sla_uptime_permille = 0
resources = [{ unit = "vcpu_epoch", amount = 1 }, { unit = "memory_gib_epoch", amount = 1 }]
"#,
    )
    .unwrap();
    let submitted = net.ok_json(&["workload", "submit", &spec, "--deposit", "100000", "--from", "dev"]);
    let id = submitted["workload_id"].as_u64().expect("the new workload's id").to_string();

    // Placed on one of the assets, with its cost terms.
    let w = net.wait_workload(&id, "running with a lease", PLACED_WITHIN, |w| {
        w["state"]["state"] == "running" && open_leases(w).len() == 1
    });
    let first = open_leases(&w)[0].clone();
    let old_lease = first["id"].as_u64().unwrap();
    let old_asset = first["asset"].as_str().unwrap().to_string();
    assert!(assets.contains(&old_asset), "placed on one of ours: {w:#}");
    assert_eq!(first["terms"]["price"], 10 + 2, "{first}");
    assert_eq!(first["price"], "12", "{first}");
    assert!(first["replaces"].is_null(), "{first}");
    let table = expect_code(&net.depin(&["workload", "show", &id]), 0, "workload show");
    for word in ["running", "COST TERMS", "price 12"] {
        assert!(table.contains(word), "{word:?} missing:\n{table}");
    }
    let credited_before = amount(&w["credited"]);

    // Its agent dies.
    let killed_at = Instant::now();
    net.agents.remove(&old_asset).unwrap().kill();

    // The replica moves: a new open lease on another asset replacing the old one.
    let w = net.wait_workload(&id, "failed over", FAILOVER_WITHIN, |w| {
        let open = open_leases(w);
        open.len() == 1 && open[0]["replaces"].as_u64() == Some(old_lease)
    });
    let failover_after = killed_at.elapsed();
    let new = open_leases(&w)[0].clone();
    let new_lease = new["id"].as_u64().unwrap();
    assert_ne!(new_lease, old_lease, "{w:#}");
    assert_ne!(new["asset"].as_str().unwrap(), old_asset, "{w:#}");
    assert!(assets.contains(&new["asset"].as_str().unwrap().to_string()), "{w:#}");
    assert_eq!(w["state"]["state"], "running", "{w:#}");

    // The old lease closed because its asset failed, and the consumer keeps the gap.
    let old = net.ok_json(&["lease", "show", &old_lease.to_string()]);
    assert_eq!(old["state"]["state"], "closed", "{old:#}");
    assert_eq!(old["state"]["reason"], "asset_failed", "{old:#}");
    assert!(amount(&old["credited"]) >= 12, "the failed epoch is credited: {old:#}");
    let credited = amount(&w["credited"]);
    assert!(credited > 0 && credited >= credited_before + 12, "gap credit: {credited_before} → {credited}: {w:#}");
    let all = net.ok_json(&["lease", "list", "--workload", &id]);
    let listed: Vec<u64> = all["leases"].as_array().unwrap().iter().map(|l| l["id"].as_u64().unwrap()).collect();
    assert!(listed.contains(&old_lease) && listed.contains(&new_lease), "{all:#}");
    let open = net.ok_json(&["lease", "list", "--workload", &id, "--open"]);
    let open: Vec<u64> = open["leases"].as_array().unwrap().iter().map(|l| l["id"].as_u64().unwrap()).collect();
    assert_eq!(open, vec![new_lease]);

    // The stream told it: the first placement, the failed lease closing, the replacement.
    let mut seen: Vec<Sse> = Vec::new();
    let (mut placed_first, mut closed, mut placed_new) = (false, false, false);
    while !(placed_first && closed && placed_new) {
        let left = FAILOVER_WITHIN.saturating_sub(killed_at.elapsed()).max(Duration::from_secs(5));
        let e = events
            .recv_timeout(left)
            .unwrap_or_else(|err| panic!("market events missing ({err}); events seen: {seen:#?}"));
        let m = &e.data["event"];
        if e.event == "placement" && m["lease"] == old_lease && m["asset"] == old_asset.as_str() {
            placed_first = true;
        }
        if e.event == "lease_closed" && m["lease"] == old_lease && m["reason"] == "asset_failed" {
            closed = true;
        }
        if e.event == "placement" && m["lease"] == new_lease && m["replaces"] == old_lease {
            placed_new = true;
        }
        seen.push(e);
    }

    eprintln!("failed over {failover_after:?} after the kill");
}
