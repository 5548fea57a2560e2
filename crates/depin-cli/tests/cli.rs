//! End-to-end tests of the `depin` command line against a real `depin up` on a temporary home:
//! keys, transfers (applied and rejected), queries with verified proofs, offline proof checks,
//! exit codes, SIGTERM shutdown and an audit replay.

mod common;

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use common::{depin, expect_code, free_port, init_dev_home, json, run, text, NodeProcess};
use depin_types::Transaction;






#[test]
fn keys_transfers_queries_proofs_and_exit_codes_against_a_running_node() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    // The dev key is plaintext (no DEPIN_KEY_PASSWORD at init), as `depin up --dev` makes it.
    init_dev_home(&home);
    let node = NodeProcess::start(&home, free_port(), 50);
    let url = node.url.clone();
    let depin = |args: &[&str]| run(&home, &url, args);

    // Keys: a new encrypted key, listed beside the dev key.
    let out = expect_code(&depin(&["keys", "new", "alice"]), 0, "keys new alice");
    assert!(out.contains("depin1"), "{out}");
    let keys = json(&expect_code(&depin(&["keys", "list", "-o", "json"]), 0, "keys list"));
    let names: Vec<&str> = keys.as_array().unwrap().iter().map(|k| k["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["alice", "dev"]);
    assert_eq!(keys[0]["encrypted"], true);
    assert_eq!(keys[1]["encrypted"], false);
    let alice = keys[0]["address"].as_str().unwrap().to_string();

    // A dry run prints a signed transaction and submits nothing.
    let dry = expect_code(
        &depin(&["tx", "transfer", "--from", "dev", "--to", &alice, "--amount", "7", "--dry-run"]),
        0,
        "dry run",
    );
    let tx: Transaction = serde_json::from_str(&dry).expect("a dry run prints a transaction");
    assert!(tx.signature_ok());
    expect_code(&depin(&["tx", "show", &tx.id().to_hex()]), 3, "a dry run submits nothing");

    // An applied transfer exits 0 and reports its receipt; `tx show` finds it.
    let sent = json(&expect_code(
        &depin(&["tx", "transfer", "--from", "dev", "--to", "alice", "--amount", "1000", "-o", "json"]),
        0,
        "transfer dev -> alice",
    ));
    assert_eq!(sent["status"], "committed", "{sent}");
    assert_eq!(sent["receipt"]["outcome"]["status"], "applied", "{sent}");
    let tx_id = sent["tx_id"].as_str().unwrap().to_string();
    let shown = json(&expect_code(&depin(&["tx", "show", &tx_id, "-o", "json"]), 0, "tx show"));
    assert_eq!(shown["height"], sent["height"]);
    assert!(expect_code(&depin(&["tx", "show", &tx_id]), 0, "tx show table").contains("applied"));

    // The balance, then a proof of it, verified by the CLI and saved.
    let account = json(&expect_code(&depin(&["query", "account", "alice", "-o", "json"]), 0, "query account"));
    assert_eq!(account["balance"], "1000", "{account}");
    assert_eq!(account["nonce"], 0);
    let proof_file = dir.path().join("alice-proof.json");
    let proved = expect_code(
        &depin(&["query", "account", "alice", "--prove", "--proof-out", proof_file.to_str().unwrap()]),
        0,
        "query account --prove",
    );
    assert!(proved.contains("verified against"), "{proved}");
    let root = proved
        .lines()
        .find_map(|l| l.strip_prefix("state_root"))
        .map(|r| r.trim().to_string())
        .expect("a state_root row");

    // Offline: the saved proof verifies against that root, and not against another one.
    let valid =
        expect_code(&depin(&["proof", "verify", proof_file.to_str().unwrap(), "--root", &root]), 0, "proof verify");
    assert!(valid.starts_with("valid:") && valid.contains("balance 1000"), "{valid}");
    let mut wrong_root = root.clone().into_bytes();
    wrong_root[0] = if wrong_root[0] == b'0' { b'1' } else { b'0' };
    let wrong_root = String::from_utf8(wrong_root).unwrap();
    let out = depin(&["proof", "verify", proof_file.to_str().unwrap(), "--root", &wrong_root]);
    expect_code(&out, 4, "proof verify against a wrong root");
    assert!(text(&out.stderr).contains("does not verify"), "{}", text(&out.stderr));

    // Committed but rejected: exit 4 with the reject code.
    let out = depin(&["tx", "transfer", "--from", "alice", "--to", "dev", "--amount", "5000"]);
    expect_code(&out, 4, "overdraft");
    assert!(text(&out.stderr).contains("insufficient_funds"), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("rejected: insufficient_funds"), "{}", text(&out.stdout));

    // Blocks and status.
    let block = json(&expect_code(&depin(&["query", "block", "latest", "-o", "json"]), 0, "query block"));
    assert!(block["height"].as_u64().unwrap() >= 2, "{block}");
    assert_eq!(block["id"].as_str().unwrap().len(), 64);
    let first =
        json(&expect_code(&depin(&["query", "block", &sent["height"].to_string(), "-o", "json"]), 0, "query block N"));
    assert!(first["txs"].as_array().unwrap().iter().any(|t| t["tx_id"] == tx_id.as_str()), "{first}");
    let status = json(&expect_code(&depin(&["status", "-o", "json"]), 0, "status"));
    assert_eq!(status["chain_id"], "depin-local");
    assert_eq!(status["node_url"], url.as_str());
    assert!(expect_code(&depin(&["status"]), 0, "status table").contains("state_root"));

    // Commands that need no node.
    let completions = expect_code(&depin(&["completions", "bash"]), 0, "completions");
    assert!(completions.contains("depin"));
    let template = expect_code(&depin(&["config", "default"]), 0, "config default");
    template.parse::<toml::Table>().expect("the config template is TOML");

    // Exit codes: unreachable node 5, unknown key 3, malformed address 2.
    let out = run(&home, "http://127.0.0.1:1", &["tx", "transfer", "--from", "dev", "--to", "alice", "--amount", "1"]);
    expect_code(&out, 5, "unreachable node");
    expect_code(&depin(&["keys", "show", "nosuchkey"]), 3, "unknown key");
    expect_code(&depin(&["query", "account", "nosuchkey"]), 3, "unknown account name");
    let out = depin(&["tx", "transfer", "--from", "dev", "--to", "depin1qqqqqqqqqq", "--amount", "1"]);
    expect_code(&out, 2, "malformed address");
    assert!(text(&out.stderr).contains("not a valid address"), "{}", text(&out.stderr));
    expect_code(&depin(&["tx", "transfer", "--from", "dev", "--to", "alice", "--amount", "-3"]), 2, "bad amount");
    expect_code(&depin(&["tx", "show", "xyz"]), 2, "malformed tx id");
    expect_code(&depin(&["tx", "show", &"ab".repeat(32)]), 3, "unknown tx id");

    // SIGTERM stops the node cleanly and promptly; the stored chain then replays to its root.
    let stopping = Instant::now();
    let exit = node.terminate();
    assert!(exit.success(), "depin up exited with {exit}");
    assert!(stopping.elapsed() < Duration::from_secs(10), "stopping took {:?}", stopping.elapsed());
    let replay = json(&expect_code(&depin(&["ledger", "replay", "-o", "json"]), 0, "ledger replay"));
    assert_eq!(replay["matches"], true, "{replay}");
}

#[test]
fn keys_export_import_and_offline_proof_errors_need_no_node() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    // No node runs here: anything that tried to reach one would fail with exit 5.
    let depin = |args: &[&str]| run(&home, "http://127.0.0.1:1", args);

    let bob = json(&expect_code(&depin(&["keys", "new", "bob", "-o", "json"]), 0, "keys new bob"));
    assert_eq!(bob["encrypted"], true);

    // Export stays encrypted; importing it under another name keeps the address.
    let exported = dir.path().join("bob.json");
    expect_code(&depin(&["keys", "export", "bob", "--out", exported.to_str().unwrap()]), 0, "export");
    let file = std::fs::read_to_string(&exported).unwrap();
    assert!(file.contains("\"encrypted\"") && !file.contains("seeds"), "{file}");
    expect_code(&depin(&["keys", "export", "bob", "--out", exported.to_str().unwrap()]), 1, "export never overwrites");
    let imported = json(&expect_code(
        &depin(&["keys", "import", "bob2", "--file", exported.to_str().unwrap(), "-o", "json"]),
        0,
        "import file",
    ));
    assert_eq!(imported["address"], bob["address"]);
    assert_eq!(imported["name"], "bob2");
    expect_code(&depin(&["keys", "import", "bob2", "--file", exported.to_str().unwrap()]), 1, "name taken");

    // A raw seed, stored in plaintext on request; its export to stdout is the key file.
    let seed = "01".repeat(32);
    let carol = json(&expect_code(
        &depin(&[
            "keys",
            "import",
            "carol",
            "--seed-hex",
            &seed,
            "--scheme",
            "ed25519",
            "--insecure-plaintext",
            "-o",
            "json",
        ]),
        0,
        "import seed",
    ));
    assert_eq!(carol["address"], "depin1qxmjpd98qdnqpdlu7ee5y2xpapameurek7x742erg66tut8sfdcjx9fu9qm");
    let out = depin(&["keys", "export", "carol"]);
    assert!(json(&expect_code(&out, 0, "export to stdout"))["secret"]["kind"] == "plaintext");
    assert!(text(&out.stderr).contains("not encrypted"), "{}", text(&out.stderr));
    expect_code(
        &depin(&["keys", "import", "dave", "--seed-hex", "zz", "--scheme", "ed25519", "--insecure-plaintext"]),
        2,
        "bad seed",
    );
    expect_code(&depin(&["keys", "new", "bad/name", "--insecure-plaintext"]), 2, "bad key name");

    // A plaintext key other than `dev` is refused for signing without --insecure-plaintext,
    // before the node is contacted.
    let out = depin(&["tx", "burn", "--from", "carol", "--amount", "1"]);
    expect_code(&out, 1, "plaintext key refused");
    assert!(text(&out.stderr).contains("--insecure-plaintext"), "{}", text(&out.stderr));

    // Proof files that are not proofs, and roots that are not roots.
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, "{\"not\": \"a proof\"}").unwrap();
    let root = "00".repeat(32);
    expect_code(&depin(&["proof", "verify", junk.to_str().unwrap(), "--root", &root]), 4, "junk proof");
    expect_code(&depin(&["proof", "verify", junk.to_str().unwrap(), "--root", "xyz"]), 2, "bad root");
    let missing = dir.path().join("missing.json");
    expect_code(&depin(&["proof", "verify", missing.to_str().unwrap(), "--root", &root]), 1, "missing file");
}

/// Run `depin testnet init ARGS` with no `DEPIN_*` variables from the caller (a plaintext dev key).
fn testnet_init(args: &[&str]) -> Output {
    depin()
        .args(["testnet", "init"])
        .args(args)
        .env_remove("DEPIN_KEY_PASSWORD")
        .env_remove("DEPIN_OUTPUT")
        .env_remove("DEPIN_HOME")
        .output()
        .expect("the depin binary runs")
}

#[test]
fn testnet_init_writes_loadable_homes_with_distinct_ports_and_one_genesis() {
    use std::collections::BTreeSet;

    use depin_node::config::{ConsensusMode, NodeConfig};
    use depin_node::Home;
    use depin_types::Genesis;

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("net");
    let report = json(&expect_code(
        &testnet_init(&["--validators", "4", "--out", out.to_str().unwrap(), "--base-port", "31000", "-o", "json"]),
        0,
        "testnet init",
    ));
    assert_eq!(report["chain_id"], "depin-testnet", "{report}");
    let genesis_id = report["genesis_id"].as_str().unwrap();
    let shared = Genesis::from_toml(&std::fs::read_to_string(out.join("genesis.toml")).unwrap()).unwrap();
    assert_eq!(shared.id().to_hex(), genesis_id);
    assert!(shared.is_replicated());
    let validators = report["validators"].as_array().unwrap();
    assert_eq!(validators.len(), 4);

    let mut ports = BTreeSet::new();
    for (i, v) in validators.iter().enumerate() {
        let home = Home::new(out.join(format!("validator-{i}")));
        assert_eq!(v["home"], home.root().to_str().unwrap());
        assert_eq!(v["name"], format!("validator-{i}"));
        assert_eq!(v["start"], format!("depin up --home {}", home.root().display()));
        // The home loads: its genesis validates and is the shared one; its config validates.
        let genesis = Genesis::from_toml(&std::fs::read_to_string(home.genesis()).unwrap()).unwrap();
        assert_eq!(genesis.id().to_hex(), genesis_id, "one genesis across homes");
        assert_eq!(genesis.validators[i].public_key.to_string(), v["public_key"].as_str().unwrap());
        assert_eq!(genesis.validators[i].p2p.as_deref(), v["p2p"].as_str());
        let config = NodeConfig::load(&home.config(), Vec::new()).unwrap();
        assert_eq!(config.consensus.mode, ConsensusMode::Bft);
        assert_eq!(config.consensus.p2p_listen.to_string(), v["p2p"].as_str().unwrap());
        assert_eq!(format!("http://{}", config.api.listen), v["api_url"].as_str().unwrap());
        assert!(ports.insert(config.api.listen.port()) && ports.insert(config.consensus.p2p_listen.port()));
        // The CLI resolves the same configuration, and every home holds the funded dev key.
        let shown = json(&expect_code(
            &depin()
                .args(["config", "show", "-o", "json", "--home"])
                .arg(home.root())
                .env_remove("DEPIN_CONSENSUS_MODE")
                .output()
                .unwrap(),
            0,
            "config show",
        ));
        assert_eq!(shown["consensus"]["mode"], "bft");
        let dev = json(&expect_code(
            &depin().args(["keys", "show", "dev", "-o", "json", "--home"]).arg(home.root()).output().unwrap(),
            0,
            "keys show dev",
        ));
        assert_eq!(dev["address"], report["dev_address"]);
    }
    assert_eq!(ports.into_iter().collect::<Vec<_>>(), (31000..31008).collect::<Vec<u16>>());

    // The table names every validator and how to start it.
    let other = dir.path().join("table");
    let table = expect_code(&testnet_init(&["--validators", "2", "--out", other.to_str().unwrap()]), 0, "table");
    for i in 0..2 {
        assert!(table.contains(&format!("validator-{i}")), "{table}");
        let start = format!("depin up --home {}", other.join(format!("validator-{i}")).display());
        assert!(table.contains(&start), "{table}");
    }
    assert!(table.contains("http://127.0.0.1:27002") && table.contains("127.0.0.1:27003"), "{table}");
}

#[test]
fn testnet_init_refuses_a_used_directory_and_bad_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let used = dir.path().join("used");
    std::fs::create_dir(&used).unwrap();
    std::fs::write(used.join("keep.txt"), "mine").unwrap();
    let out = testnet_init(&["--out", used.to_str().unwrap()]);
    expect_code(&out, 2, "a non-empty directory");
    assert!(text(&out.stderr).contains("is not empty"), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_dir(&used).unwrap().count(), 1, "the directory is left alone");

    let fresh = dir.path().join("fresh");
    let fresh = fresh.to_str().unwrap();
    let out = testnet_init(&["--out", fresh, "--validators", "0"]);
    expect_code(&out, 2, "no validators");
    assert!(text(&out.stderr).contains("--validators must be 1..=1000"), "{}", text(&out.stderr));
    expect_code(&testnet_init(&["--out", fresh, "--validators", "1001"]), 2, "too many validators");
    expect_code(&testnet_init(&["--out", fresh, "--base-port", "65534"]), 2, "ports beyond 65535");
    expect_code(&testnet_init(&["--out", fresh, "--chain-id", "Bad Id"]), 2, "bad chain id");
    expect_code(&testnet_init(&["--validators", "2"]), 2, "--out is required");
    assert!(!Path::new(fresh).exists(), "nothing is written for bad arguments");
}
