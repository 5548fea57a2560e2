//! End-to-end tests of `depin asset`, `depin vendor` and `depin device revoke` against a real
//! `depin up` on a temporary dev home: registration (one asset and a fleet file), listing and
//! showing with a verified proof, updates, moves, transfers, decommissioning, vendors and their
//! attestations, and the exit codes of refusals before and after signing.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{expect_code, free_port, init_dev_home, json, run, text, NodeProcess};
use depin_crypto::{did_key, Scheme, SecretKey};
use depin_keystore::KeyFile;


/// A compute capacity the ledger accepts.
const GPU_CAPACITY: &str = "cpu_cores=32,memory_mib=131072,arch=x86_64,gpu=h100:8";

/// The default bond of a compute asset (`RegistryParams::default`).
const COMPUTE_BOND: &str = "100000000";





/// Write an unencrypted Ed25519 device key file (as `depin device keygen --insecure-plaintext`
/// does) and return its path and did:key.
fn device_key(dir: &Path, name: &str) -> (PathBuf, String) {
    let key = SecretKey::generate(Scheme::Ed25519).unwrap();
    let path = dir.join(format!("{name}.json"));
    KeyFile::plaintext(name, &key).write_new(&path).unwrap();
    (path, did_key(&key.public_key()))
}

/// The address of a key of the home (`depin keys show`).
fn address_of(depin: &impl Fn(&[&str]) -> Output, key: &str) -> String {
    let shown = json(&expect_code(&depin(&["keys", "show", key, "-o", "json"]), 0, "keys show"));
    shown["address"].as_str().unwrap().to_string()
}

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
        // The dev key is plaintext (no DEPIN_KEY_PASSWORD at init), as `depin up --dev` makes it.
        init_dev_home(&home);
        let node = NodeProcess::start(&home, free_port(), 50);
        Net { dir: dir.path().to_path_buf(), _dir: dir, home, node }
    }

    fn depin(&self) -> impl Fn(&[&str]) -> Output + '_ {
        move |args| run(&self.home, &self.node.url, args)
    }
}

#[test]
fn registers_lists_shows_updates_moves_transfers_and_decommissions_an_asset() {
    let net = Net::start();
    let depin = net.depin();
    let (gpu, did) = device_key(&net.dir, "gpu-01");
    let gpu = gpu.to_str().unwrap();

    // A bad capacity is a usage error naming the field and its range, before anything is
    // signed: the node is not even asked (an unreachable node would give 5), and the dev
    // account's nonce does not move.
    let bad = ["asset", "register", "--class", "compute", "--device-key", gpu, "--location", "48.8584,2.2945"];
    let out = run(&net.home, "127.0.0.1:1", &[&bad[..], &["--capacity", "cpu_cores=8,memory_mib=10,arch=x86_64"]].concat());
    expect_code(&out, 2, "bad capacity");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("memory_mib is 10, outside 256..="), "{stderr}");
    assert!(stderr.contains("cpu_cores, memory_mib, arch"), "the hint lists the class's keys: {stderr}");
    assert!(!stderr.contains("signing"), "{stderr}");
    let out = depin(&[&bad[..], &["--capacity", "cpu_cores=8,memory_mib=4096,arch=x86_64,colour=red"]].concat());
    expect_code(&out, 2, "unknown capacity key");
    let dev = json(&expect_code(&depin(&["query", "account", "dev", "-o", "json"]), 0, "query dev"));
    assert_eq!(dev["nonce"], 0, "nothing was signed: {dev}");

    // Register: the id, did:key, cell and bond come back with the receipt.
    let registered = json(&expect_code(
        &depin(&[
            "asset", "register", "--class", "compute", "--device-key", gpu, "--location", "48.8584,2.2945",
            "--capacity", GPU_CAPACITY, "--name", "gpu-01", "--energy-source", "grid", "--draw-w", "700", "-o", "json",
        ]),
        0,
        "asset register",
    ));
    assert_eq!(registered["receipt"]["outcome"]["status"], "applied", "{registered}");
    assert_eq!(registered["did"], did.as_str());
    assert_eq!(registered["bond"], COMPUTE_BOND);
    assert_eq!(registered["class"], "compute");
    let id = registered["asset_id"].as_str().unwrap().to_string();
    let cell = registered["location"].as_str().unwrap().to_string();
    assert!(id.len() == 64 && cell.len() == 15 && cell.bytes().all(|b| b.is_ascii_hexdigit()), "{registered}");

    // Registering the same device again is refused before signing (rule R-1 would charge).
    let again = depin(&[
        "asset", "register", "--class", "compute", "--device-key", gpu, "--location", "48.8584,2.2945", "--capacity",
        GPU_CAPACITY,
    ]);
    expect_code(&again, 4, "second registration");
    assert!(text(&again.stderr).contains("already registered"), "{}", text(&again.stderr));

    // List: JSON carries whole assets; the table shows the start of the id.
    let listed = json(&expect_code(&depin(&["asset", "list", "--owner", "dev", "-o", "json"]), 0, "asset list"));
    let assets = listed["assets"].as_array().expect("a page of assets");
    assert_eq!(assets.len(), 1, "{listed}");
    assert_eq!(assets[0]["id"], id.as_str());
    assert_eq!(assets[0]["class"], "compute");
    let table = expect_code(&depin(&["asset", "list"]), 0, "asset list table");
    let header = table.lines().next().unwrap();
    for column in ["ID", "CLASS", "STATUS", "OWNER", "CELL", "NAME"] {
        assert!(header.contains(column), "{table}");
    }
    assert!(table.contains(&id[..16]) && table.contains("gpu-01") && table.contains(&cell), "{table}");
    let none = json(&expect_code(&depin(&["asset", "list", "--class", "storage", "-o", "json"]), 0, "list storage"));
    assert_eq!(none["assets"].as_array().unwrap().len(), 0, "{none}");
    let near =
        json(&expect_code(&depin(&["asset", "list", "--near", "48.85,2.29", "--radius-km", "5", "-o", "json"]), 0, "near"));
    assert_eq!(near["assets"][0]["id"], id.as_str(), "{near}");

    // Show, by id and by did:key, with the location as hex and the bond locked.
    let shown = json(&expect_code(&depin(&["asset", "show", &id, "-o", "json"]), 0, "asset show"));
    assert_eq!(shown["did"], did.as_str());
    assert_eq!(shown["location"], cell.as_str());
    assert_eq!(shown["bond"]["amount"], COMPUTE_BOND, "{shown}");
    assert_eq!(shown["bond"]["state"]["state"], "locked", "{shown}");
    assert_eq!(shown["effective_status"], "registered");
    assert_eq!(shown["energy"]["source"], "grid");
    let by_did = json(&expect_code(&depin(&["asset", "show", &did, "-o", "json"]), 0, "asset show did"));
    assert_eq!(by_did["id"], id.as_str());
    let proved = expect_code(&depin(&["asset", "show", &id, "--prove"]), 0, "asset show --prove");
    assert!(proved.contains("verified against"), "{proved}");
    let proved = json(&expect_code(&depin(&["asset", "show", &id, "--prove", "-o", "json"]), 0, "show --prove json"));
    assert_eq!(proved["proof_verified"], true, "{proved}");
    expect_code(&depin(&["asset", "show", &"0".repeat(64)]), 3, "unknown asset");
    expect_code(&depin(&["asset", "show", "not-an-id"]), 2, "malformed id");

    // Update keeps what is not given; a bad capacity for the asset's class exits 2.
    expect_code(&depin(&["asset", "update", &id, "--model", "as-4125gs"]), 0, "update model");
    let out = depin(&["asset", "update", &id, "--capacity", "cpu_cores=0,memory_mib=4096,arch=x86_64"]);
    expect_code(&out, 2, "update with a bad capacity");
    expect_code(&depin(&["asset", "update", &id]), 2, "update without changes");
    let shown = json(&expect_code(&depin(&["asset", "show", &id, "-o", "json"]), 0, "show after update"));
    assert_eq!(shown["metadata"]["name"], "gpu-01");
    assert_eq!(shown["metadata"]["model"], "as-4125gs");

    // Move: a new cell, a second recorded location, the location fee mentioned.
    let moved = depin(&["asset", "move", &id, "--location=-33.8568,151.2153", "-o", "json"]);
    let moved_json = json(&expect_code(&moved, 0, "asset move"));
    assert!(text(&moved.stderr).contains("location fee"), "{}", text(&moved.stderr));
    let shown = json(&expect_code(&depin(&["asset", "show", &id, "-o", "json"]), 0, "show after move"));
    assert_eq!(shown["location"], moved_json["location"]);
    assert_ne!(shown["location"], cell.as_str());
    assert_eq!(shown["n_locations"], 2);

    // Activate, then suspend; activating twice is the ledger's typed refusal.
    expect_code(&depin(&["asset", "activate", &id]), 0, "activate");
    let twice = depin(&["asset", "activate", &id]);
    expect_code(&twice, 4, "activate twice");
    assert!(text(&twice.stderr).contains("invalid_transition"), "{}", text(&twice.stderr));
    expect_code(&depin(&["asset", "suspend", &id]), 0, "suspend");

    // Transfer to another key; the old owner is then refused with the typed reason.
    expect_code(&depin(&["keys", "new", "alice"]), 0, "keys new alice");
    let alice = address_of(&depin, "alice");
    expect_code(&depin(&["tx", "transfer", "--from", "dev", "--to", "alice", "--amount", "1000000"]), 0, "fund alice");
    expect_code(&depin(&["asset", "transfer", &id, "--to", "alice", "--from", "dev"]), 0, "asset transfer");
    let shown = json(&expect_code(&depin(&["asset", "show", &id, "-o", "json"]), 0, "show after transfer"));
    assert_eq!(shown["owner"], alice.as_str());
    let refused = depin(&["asset", "decommission", &id, "--from", "dev"]);
    expect_code(&refused, 4, "decommission by the former owner");
    assert!(text(&refused.stderr).contains("not_owner_or_manager"), "{}", text(&refused.stderr));
    let listed = json(&expect_code(&depin(&["asset", "list", "--owner", "alice", "-o", "json"]), 0, "list alice"));
    assert_eq!(listed["assets"][0]["id"], id.as_str(), "{listed}");

    // A manager may not decommission: only the owner, whose bond then unbonds.
    expect_code(&depin(&["asset", "set-manager", &id, "--manager", "dev", "--from", "alice"]), 0, "set manager");
    let refused = depin(&["asset", "decommission", &id, "--from", "dev"]);
    expect_code(&refused, 4, "decommission by the manager");
    assert!(text(&refused.stderr).contains("manager_not_allowed"), "{}", text(&refused.stderr));
    let done =
        json(&expect_code(&depin(&["asset", "decommission", &id, "--from", "alice", "-o", "json"]), 0, "decommission"));
    let height = done["height"].as_u64().unwrap();
    assert_eq!(done["bond_release_height"], height + 1_000, "unbonding_blocks after the block: {done}");
    let shown = json(&expect_code(&depin(&["asset", "show", &id, "-o", "json"]), 0, "show decommissioned"));
    assert_eq!(shown["effective_status"], "decommissioned");
    assert_eq!(shown["bond"]["state"]["state"], "unbonding", "{shown}");
    assert_eq!(shown["bond"]["state"]["release_height"], height + 1_000, "{shown}");
}

#[test]
fn vendor_attested_registration_and_revocations() {
    let net = Net::start();
    let depin = net.depin();

    // The node account exists from genesis (empty), so the node key signs privileged
    // transactions at once on a zero-fee dev network.
    // A vendor with its own (encrypted) key; only a validator may add it.
    expect_code(&depin(&["keys", "new", "acme"]), 0, "keys new acme");
    expect_code(&depin(&["tx", "transfer", "--from", "dev", "--to", "acme", "--amount", "1000000"]), 0, "fund acme");
    let refused = depin(&["vendor", "add", "--name", "Acme", "--key", "acme", "--from", "dev"]);
    expect_code(&refused, 4, "vendor add by a non-validator");
    assert!(text(&refused.stderr).contains("not_privileged"), "{}", text(&refused.stderr));
    expect_code(&depin(&["vendor", "add", "--name", "Acme", "--key", "acme", "--as-node"]), 0, "vendor add");
    expect_code(&depin(&["vendor", "add", "--name", "", "--key", "acme", "--as-node"]), 2, "empty vendor name");
    let vendors = json(&expect_code(&depin(&["vendor", "list", "-o", "json"]), 0, "vendor list"));
    assert_eq!(vendors[0]["name"], "Acme", "{vendors}");
    assert_eq!(vendors[0]["revoked"], false, "{vendors}");
    let acme = address_of(&depin, "acme");
    assert_eq!(vendors[0]["address"], acme.as_str());

    // The vendor attests a device key; the owner registers it with the attestation.
    let (sensor, sensor_did) = device_key(&net.dir, "air-17");
    let attestation = net.dir.join("air-17.attestation.json");
    let attested = json(&expect_code(
        &depin(&[
            "vendor", "attest", "--vendor-key", "acme", "--device-key", sensor.to_str().unwrap(), "--out",
            attestation.to_str().unwrap(), "-o", "json",
        ]),
        0,
        "vendor attest",
    ));
    assert_eq!(attested["device_did"], sensor_did.as_str());
    assert!(attestation.is_file());
    expect_code(
        &depin(&["vendor", "attest", "--vendor-key", "acme", "--device", &sensor_did, "--out", attestation.to_str().unwrap()]),
        2,
        "attest over an existing file",
    );
    // The attestation belongs to its device: used for another, it is refused before signing.
    let (other, _) = device_key(&net.dir, "air-18");
    let sensor_args = |key: &Path| -> Vec<String> {
        [
            "asset", "register", "--class", "sensor", "--device-key", key.to_str().unwrap(), "--location",
            "48.8566,2.3522", "--capacity", "kind=temperature,kind=humidity,sample_period_ms=60000",
            "--vendor-attestation", attestation.to_str().unwrap(), "--from", "dev", "-o", "json",
        ]
        .map(String::from)
        .to_vec()
    };
    let args: Vec<String> = sensor_args(&other);
    let wrong = depin(&args.iter().map(String::as_str).collect::<Vec<_>>());
    expect_code(&wrong, 2, "an attestation of another device");
    assert!(text(&wrong.stderr).contains("is for device"), "{}", text(&wrong.stderr));
    let args: Vec<String> = sensor_args(&sensor);
    let registered =
        json(&expect_code(&depin(&args.iter().map(String::as_str).collect::<Vec<_>>()), 0, "attested registration"));
    assert_eq!(registered["tier"]["tier"], "vendor_attested", "{registered}");
    let id = registered["asset_id"].as_str().unwrap().to_string();
    let by_vendor =
        json(&expect_code(&depin(&["asset", "list", "--vendor", "acme", "-o", "json"]), 0, "list by vendor"));
    assert_eq!(by_vendor["assets"][0]["id"], id.as_str(), "{by_vendor}");

    // The vendor revokes the device key: the asset is suspended at once, for that reason.
    expect_code(
        &depin(&["device", "revoke", "--device-key", sensor.to_str().unwrap(), "--from", "acme"]),
        0,
        "device revoke",
    );
    let shown = json(&expect_code(&depin(&["asset", "show", &id, "-o", "json"]), 0, "show revoked"));
    assert_eq!(shown["effective_status"], "suspended", "{shown}");
    assert_eq!(shown["effective_reason"], "device_revoked", "{shown}");
    let again = depin(&["device", "revoke", &sensor_did, "--from", "acme"]);
    expect_code(&again, 4, "revoke a device twice");
    assert!(text(&again.stderr).contains("device_revoked"), "{}", text(&again.stderr));
    expect_code(&depin(&["device", "revoke", &sensor_did]), 2, "device revoke without a signer");

    // A validator revokes the vendor.
    expect_code(&depin(&["vendor", "revoke", "acme", "--as-node"]), 0, "vendor revoke");
    let vendors = json(&expect_code(&depin(&["vendor", "list", "-o", "json"]), 0, "vendor list after revoke"));
    assert_eq!(vendors[0]["revoked"], true, "{vendors}");
}

#[test]
fn fleet_file_registers_in_batches_of_64_and_reruns_skip_registered_devices() {
    let net = Net::start();
    let depin = net.depin();
    std::fs::create_dir(net.dir.join("keys")).unwrap();
    let mut toml = String::new();
    for i in 0..66 {
        device_key(&net.dir.join("keys"), &format!("s{i}"));
        toml.push_str(&format!(
            "[[asset]]\nclass = \"sensor\"\ndevice_key = \"keys/s{i}.json\"\nlocation = \"48.{:02},2.29\"\n\
             capacity = \"kind=temperature,sample_period_ms=60000\"\nname = \"s-{i}\"\n\n",
            i + 10
        ));
    }
    let fleet = net.dir.join("fleet.toml");
    std::fs::write(&fleet, &toml).unwrap();
    let fleet = fleet.to_str().unwrap();

    // A bad entry refuses the whole file before anything is signed.
    let bad = net.dir.join("bad.toml");
    std::fs::write(&bad, toml.replacen("sample_period_ms=60000", "sample_period_ms=0", 1)).unwrap();
    let out = depin(&["asset", "register-fleet", bad.to_str().unwrap(), "--from", "dev"]);
    expect_code(&out, 2, "a fleet with a bad capacity");
    assert!(text(&out.stderr).contains("asset 1 (s-0)"), "{}", text(&out.stderr));

    let out = expect_code(&depin(&["asset", "register-fleet", fleet, "--from", "dev"]), 0, "register fleet");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "one line per batch:\n{out}");
    assert!(lines[0].starts_with("batch 1/2: 64 assets (entries 1-64)") && lines[0].ends_with("applied"), "{out}");
    assert!(lines[1].starts_with("batch 2/2: 2 assets (entries 65-66)") && lines[1].ends_with("applied"), "{out}");
    let all = json(&expect_code(&depin(&["asset", "list", "--all", "--limit", "10", "-o", "json"]), 0, "list --all"));
    assert_eq!(all["assets"].as_array().unwrap().len(), 66);

    // Run again: refused (already registered), or nothing left with --skip-registered.
    expect_code(&depin(&["asset", "register-fleet", fleet, "--from", "dev"]), 4, "fleet again");
    let skipped = json(&expect_code(
        &depin(&["asset", "register-fleet", fleet, "--from", "dev", "--skip-registered", "-o", "json"]),
        0,
        "fleet again, skipping",
    ));
    assert_eq!(skipped["batches"].as_array().unwrap().len(), 0, "{skipped}");
}
