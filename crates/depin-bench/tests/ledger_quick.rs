//! The quick ledger suite runs end to end and reports every result in the DESIGN.md §4 shape.
//! Structure only: no timing is asserted (targets live in BENCHMARKS.md, not in tests).

use depin_bench::{ledger, LedgerBenchOptions, Op};

/// A result's name, unit, and target (op and bound) if DESIGN.md §4 sets one.
type Expected = (&'static str, &'static str, Option<(Op, f64)>);

const EXPECTED: &[Expected] = &[
    ("raw_ed25519_verify_single_1core", "verifications/s", None),
    ("raw_ed25519_verify_single_allcores", "verifications/s", None),
    ("raw_ed25519_verify_batch_allcores", "verifications/s", None),
    ("raw_fsync_latency_p50_us", "us", None),
    ("raw_fsync_latency_p99_us", "us", None),
    ("ledger_tx_per_s", "tx/s", Some((Op::AtLeast, 50_000.0))),
    ("ledger_vs_raw_verify_ratio", "ratio", Some((Op::AtLeast, 0.6))),
    ("ledger_phase_decode_us_per_tx", "us/tx", None),
    ("ledger_phase_verify_us_per_tx", "us/tx", None),
    ("ledger_phase_execute_stage_us_per_tx", "us/tx", None),
    ("ledger_phase_commit_us_per_tx", "us/tx", None),
    ("block_commit_latency_p50_us", "us", None),
    ("block_commit_latency_p99_us", "us", None),
    ("block_finalize_latency_p50_us", "us", None),
    ("small_block_commit_latency_p50_us", "us", None),
    ("small_block_commit_latency_p99_us", "us", None),
    ("small_block_finalize_latency_p50_us", "us", None),
    ("commit_vs_fsync_ratio", "ratio", Some((Op::AtMost, 1.5))),
    ("proof_generate_us", "us", Some((Op::AtMost, 100.0))),
    ("proof_verify_us", "us", Some((Op::AtMost, 50.0))),
];

#[test]
fn quick_ledger_suite_reports_every_result_in_the_design_shape() {
    let report = ledger(&LedgerBenchOptions::quick()).expect("the quick suite runs");
    assert_eq!(report.suite, "ledger");
    assert!(report.machine.cpus >= 1);
    assert!(!report.machine.model.is_empty());
    assert_eq!(report.results.len(), EXPECTED.len(), "no unexpected results");
    for (name, unit, target) in EXPECTED {
        let r = report.result(name).unwrap_or_else(|| panic!("missing result {name}"));
        assert_eq!(r.unit, *unit, "{name}");
        assert!(r.value.is_finite() && r.value > 0.0, "{name} = {}", r.value);
        match (target, r.target) {
            (None, None) => {}
            (Some((op, v)), Some(t)) => assert!(t.op == *op && t.value == *v, "{name}: {t:?}"),
            (want, got) => panic!("{name}: target {got:?}, expected {want:?}"),
        }
    }

    // The JSON document, parsed back generically.
    let v: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    let obj = v.as_object().unwrap();
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["date", "machine", "results", "suite"]);
    assert!(v["machine"]["cpus"].as_u64().unwrap() >= 1);
    assert!(v["machine"]["model"].is_string());
    let date = v["date"].as_str().unwrap();
    assert!(date.len() == 10 && date.as_bytes()[4] == b'-' && date.as_bytes()[7] == b'-', "{date}");
    for r in v["results"].as_array().unwrap() {
        let name = r["name"].as_str().unwrap();
        assert!(r["value"].is_number() && r["unit"].is_string(), "{name}");
        let allowed: &[&str] = if r.get("target").is_some() { &["name", "target", "unit", "value"] } else { &["name", "unit", "value"] };
        let mut ks: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
        ks.sort_unstable();
        assert_eq!(ks, allowed, "{name}");
        if let Some(t) = r.get("target") {
            assert!(matches!(t["op"].as_str(), Some(">=" | "<=")), "{name}");
            assert!(t["value"].is_number(), "{name}");
        }
    }
    assert!(report.to_table().contains("ledger_tx_per_s"));
}

#[test]
fn options_are_validated() {
    for bad in [
        LedgerBenchOptions { txs: 0, ..LedgerBenchOptions::quick() },
        LedgerBenchOptions { block_txs: 0, ..LedgerBenchOptions::quick() },
        LedgerBenchOptions { accounts: 1, ..LedgerBenchOptions::quick() },
    ] {
        assert!(matches!(ledger(&bad), Err(depin_bench::BenchError::Options(_))), "{bad:?}");
    }
}
