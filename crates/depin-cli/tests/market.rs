//! End-to-end test of the market commands against a real `depin up` on a temporary dev home:
//! three compute assets of two owners report telemetry and are priced, a consumer mints
//! credits, a two-replica workload with distinct owners is placed on two of them (leases with
//! cost terms), an infeasible one says why with its funnel, and cancelling refunds the escrow.

mod common;

use std::path::PathBuf;
use std::process::Output;
use std::time::{Duration, Instant};

use common::{expect_code, free_port, init_dev_home, json, run, text, NodeProcess};
use serde_json::Value;

/// How long the ledger may take to count a report, or the allocator to place a workload.
const WITHIN: Duration = Duration::from_secs(30);
/// Compute capacity of each asset.
const CAPACITY: &str = "cpu_cores=16,memory_mib=65536,arch=x86_64";

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

    #[track_caller]
    fn ok_json(&self, args: &[&str]) -> Value {
        let what = args.join(" ");
        json(&expect_code(&self.depin(&[args, &["-o", "json"]].concat()), 0, &what))
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).to_str().unwrap().to_string()
    }

    /// A device key, a registered compute asset owned by `owner`, one accepted report from its
    /// agent, and the ledger counting it: the asset's id.
    fn reporting_asset(&self, name: &str, owner: &str) -> String {
        let key = self.path(&format!("{name}.json"));
        expect_code(&self.depin(&["device", "keygen", "--out", &key, "--insecure-plaintext"]), 0, "device keygen");
        let registered = self.ok_json(&[
            "asset", "register", "--class", "compute", "--device-key", &key, "--location", "48.8584,2.2945",
            "--capacity", CAPACITY, "--name", name, "--from", owner,
        ]);
        let id = registered["asset_id"].as_str().expect("an asset id").to_string();
        let state = self.path("agent-state");
        let out = self.depin(&[
            "agent", "run", "--device-key", &key, "--state-dir", &state, "--once", "--simulate", "compute", "-o", "json",
        ]);
        let verdict = json(expect_code(&out, 0, "agent run --once").lines().next().expect("a verdict line"));
        assert_eq!(verdict["code"], "accepted", "{verdict}\nstderr:\n{}", text(&out.stderr));
        let epoch = verdict["epoch"].as_u64().unwrap();
        let start = Instant::now();
        loop {
            let health = self.ok_json(&["asset", "health", &id]);
            let counted = |e: &Value| e["epoch"] == epoch && e["reports"].as_u64().unwrap_or(0) >= 1;
            if counted(&health["now"]) || health["epochs"].as_array().is_some_and(|a| a.iter().any(counted)) {
                return id;
            }
            assert!(start.elapsed() < WITHIN, "{name}: no report counted after {WITHIN:?}: {health}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Poll `workload show ID` until `done` holds.
    fn wait_workload(&self, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            let w = self.ok_json(&["workload", "show", id]);
            if done(&w) {
                return w;
            }
            assert!(start.elapsed() < WITHIN, "workload {id}: not {what} after {WITHIN:?}: {w}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn credits(&self, who: &str) -> u128 {
        self.ok_json(&["credits", "show", who])["credits"].as_str().unwrap().parse().unwrap()
    }
}

fn write(path: &str, content: &str) {
    std::fs::write(path, content).unwrap();
}

#[test]
fn a_two_owner_workload_is_placed_an_infeasible_one_says_why_and_cancelling_refunds() {
    let net = Net::start();

    // A second owner (its key encrypted with the test password), funded by dev.
    expect_code(&net.depin(&["keys", "new", "bob"]), 0, "keys new bob");
    let transfer = net.depin(&["tx", "transfer", "--from", "dev", "--to", "bob", "--amount", "1000000000"]);
    expect_code(&transfer, 0, "fund bob");

    // Three reporting compute assets: two of dev's, one of bob's; all priced.
    let assets = [
        net.reporting_asset("gpu-a", "dev"),
        net.reporting_asset("gpu-b", "dev"),
        net.reporting_asset("gpu-c", "bob"),
    ];
    for (id, owner) in assets.iter().zip(["dev", "dev", "bob"]) {
        let set = net.ok_json(&[
            "price", "set", "--asset", id, "--price", "vcpu_epoch=10", "--price", "memory_gib_epoch=2", "--from", owner,
        ]);
        assert_eq!(set["status"], "committed", "{set}");
    }
    let price = net.ok_json(&["price", "show", "--asset", &assets[2]]);
    assert_eq!(price["sheet"]["prices"][0]["price"], "10", "{price}");
    assert_eq!(price["capacity"], serde_json::json!([16, 64, 0]), "{price}");
    let table = expect_code(&net.depin(&["price", "show", "--asset", &assets[2]]), 0, "price show");
    assert!(table.contains("vcpu_epoch") && table.contains("FREE"), "{table}");

    // Credits for the consumer (dev): the default market mints one credit per token.
    let minted = net.ok_json(&["credits", "mint", "1000000", "--from", "dev"]);
    assert_eq!(minted["credits"], "1000000", "{minted}");
    assert_eq!(net.credits("dev"), 1_000_000);

    // Two replicas on assets of different owners: placed at once, with cost terms.
    let spec = net.path("web.toml");
    write(
        &spec,
        r#"
name = "web"
class = "compute"
replicas = 2
duration_epochs = 10
max_price = 1000
resources = [{ unit = "vcpu_epoch", amount = 4 }, { unit = "memory_gib_epoch", amount = 8 }]
near = { lat = 48.8584, lon = 2.2945, max_km = 10 }
anti_affinity = { distinct_owners = true }
"#,
    );
    let submitted = net.ok_json(&["workload", "submit", &spec, "--deposit", "50000", "--from", "dev"]);
    let id = submitted["workload_id"].as_u64().expect("the new workload's id").to_string();
    assert_eq!(net.credits("dev"), 1_000_000 - 50_000);
    let w = net.wait_workload(&id, "running", |w| w["state"]["state"] == "running");
    let leases = w["lease_records"].as_array().unwrap();
    assert_eq!(leases.len(), 2, "{w}");
    let providers: std::collections::BTreeSet<&str> = leases.iter().map(|l| l["provider"].as_str().unwrap()).collect();
    assert_eq!(providers.len(), 2, "distinct owners: {w}");
    for l in leases {
        assert_eq!(l["terms"]["price"], 4 * 10 + 8 * 2, "{l}");
        assert_eq!(l["price"], "56", "{l}");
        assert!(l["state"]["state"] == "placed" || l["state"]["state"] == "active", "{l}");
    }
    assert!(leases.iter().any(|l| l["asset"] == assets[2].as_str()), "bob's asset holds a replica: {w}");
    let table = expect_code(&net.depin(&["workload", "show", &id]), 0, "workload show");
    for word in ["running", "2 open of 2 replicas", "COST TERMS", "price 56 + distance", "escrow"] {
        assert!(table.contains(word), "{word:?} missing:\n{table}");
    }
    let open = net.ok_json(&["lease", "list", "--workload", &id, "--open"]);
    assert_eq!(open["leases"].as_array().unwrap().len(), 2, "{open}");
    let on_c = net.ok_json(&["lease", "list", "--asset", &assets[2]]);
    assert_eq!(on_c["leases"].as_array().unwrap().len(), 1, "{on_c}");
    let lease_id = on_c["leases"][0]["id"].as_u64().unwrap().to_string();
    let lease = net.ok_json(&["lease", "show", &lease_id]);
    assert_eq!(lease["workload"].as_u64().unwrap().to_string(), id, "{lease}");

    // Three replicas on distinct owners cannot fit on three assets of two owners: the reason
    // and its funnel. (With more replicas than assets of the class, the first filter to leave
    // too few is the class itself, and the code is `no_asset_of_class`.)
    let wide = net.path("wide.json");
    write(
        &wide,
        r#"{"name": "wide", "class": "compute", "replicas": 3, "duration_epochs": 10, "max_price": "1000",
            "resources": [{"unit": "vcpu_epoch", "amount": 1}], "anti_affinity": {"distinct_owners": true}}"#,
    );
    let submitted = net.ok_json(&["workload", "submit", &wide, "--deposit", "5000", "--from", "dev"]);
    let wide_id = submitted["workload_id"].as_u64().expect("the new workload's id").to_string();
    let w = net.wait_workload(&wide_id, "judged", |w| !w["unplaced"].is_null());
    assert_eq!(w["state"]["state"], "pending", "{w}");
    assert_eq!(w["unplaced"]["code"], "too_few_distinct", "{w}");
    let funnel = w["unplaced"]["funnel"].as_array().unwrap();
    assert_eq!(funnel[0], 3, "three compute assets: {w}");
    assert_eq!(funnel[9], 2, "two distinct owners: {w}");
    let table = expect_code(&net.depin(&["workload", "show", &wide_id]), 0, "workload show (unplaced)");
    for word in ["too_few_distinct", "funnel", "3 of the class", "2 distinct groups", "0 of 3 placed"] {
        assert!(table.contains(word), "{word:?} missing:\n{table}");
    }
    let pending = net.ok_json(&["workload", "list", "--state", "pending"]);
    let ids: Vec<u64> = pending["workloads"].as_array().unwrap().iter().map(|w| w["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, vec![wide_id.parse::<u64>().unwrap()], "{pending}");

    // Cancelling refunds: the pending one its whole deposit, the running one what is left.
    let before = net.credits("dev");
    expect_code(&net.depin(&["workload", "cancel", &wide_id, "--from", "dev"]), 0, "cancel the pending workload");
    assert_eq!(net.credits("dev"), before + 5_000);
    let before = net.credits("dev");
    let escrow: u128 = net.ok_json(&["workload", "show", &id])["escrow"].as_str().unwrap().parse().unwrap();
    expect_code(&net.depin(&["workload", "cancel", &id, "--from", "dev"]), 0, "cancel the running workload");
    let w = net.ok_json(&["workload", "show", &id]);
    assert_eq!(w["state"]["state"], "closed", "{w}");
    assert_eq!(w["state"]["reason"], "cancelled_by_consumer", "{w}");
    let after = net.credits("dev");
    assert!(after > before && after <= before + escrow, "refund: {before} → {after} (escrow was {escrow})");
    let open = net.ok_json(&["lease", "list", "--workload", &id, "--open"]);
    assert!(open["leases"].as_array().unwrap().is_empty(), "{open}");
    let table = expect_code(&net.depin(&["credits", "show", "dev"]), 0, "credits show");
    assert!(table.contains(&after.to_string()), "{table}");

    // Refusals before signing and lookups of what does not exist.
    expect_code(&net.depin(&["workload", "cancel", &id, "--from", "dev"]), 2, "cancel a closed workload");
    expect_code(&net.depin(&["workload", "show", "999"]), 3, "an unknown workload");
    expect_code(&net.depin(&["lease", "show", "999"]), 3, "an unknown lease");
    expect_code(&net.depin(&["workload", "top-up", &id, "0", "--from", "dev"]), 2, "a zero top-up");
    let bad = net.path("bad.toml");
    write(&bad, "class = \"compute\"\nreplicas = 0\nduration_epochs = 1\nmax_price = 1\nresources = [{ unit = \"vcpu_epoch\", amount = 1 }]\n");
    let out = net.depin(&["workload", "submit", &bad, "--from", "dev"]);
    expect_code(&out, 2, "an invalid spec");
    assert!(text(&out.stderr).contains("replicas"), "{}", text(&out.stderr));
    let out = net.depin(&["price", "set", "--asset", &assets[0], "--price", "gb_epoch_stored=1", "--from", "dev"]);
    expect_code(&out, 2, "a unit the class does not sell");
}
