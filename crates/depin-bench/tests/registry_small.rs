//! A small registry suite runs end to end and reports every result in the DESIGN.md §4 shape,
//! with plausible values. No timing is asserted (targets live in BENCHMARKS.md, not in tests).

use depin_bench::{registry, BenchError, RegistryBenchOptions};

/// Results every durable run reports, with their units.
const EXPECTED: &[(&str, &str)] = &[
    ("assets_registered", "assets"),
    ("raw_ed25519_verify_single_1core", "verifications/s"),
    ("raw_ed25519_verify_single_allcores", "verifications/s"),
    ("raw_fsync_latency_p50_us", "us"),
    ("raw_fsync_latency_p99_us", "us"),
    ("workload_generation_s", "s"),
    ("workload_keygen_cpu_us_per_asset", "us/asset"),
    ("workload_sign_cpu_us_per_asset", "us/asset"),
    ("registry_assets_per_s", "assets/s"),
    ("registry_blocks_per_s", "blocks/s"),
    ("registry_vs_raw_verify_1core_ratio", "ratio"),
    ("registry_vs_raw_verify_allcores_ratio", "ratio"),
    ("registry_phase_decode_us_per_asset", "us/asset"),
    ("registry_phase_verify_us_per_asset", "us/asset"),
    ("registry_phase_execute_stage_us_per_asset", "us/asset"),
    ("registry_phase_commit_us_per_asset", "us/asset"),
    ("block_commit_latency_p50_us", "us"),
    ("block_finalize_latency_p50_us", "us"),
    ("block_finalize_latency_p99_us", "us"),
    ("memory_rss_bytes", "bytes"),
    ("memory_peak_rss_bytes", "bytes"),
    ("ledger_disk_bytes", "bytes"),
    ("query_by_owner_p50_us", "us"),
    ("query_by_owner_p99_us", "us"),
    ("query_by_owner_mean_assets", "assets"),
    ("query_by_region_p50_us", "us"),
    ("query_by_region_p99_us", "us"),
    ("query_by_region_mean_assets", "assets"),
];

fn small() -> RegistryBenchOptions {
    // 2,000 assets from 20 owners in blocks of 8 transactions (512 assets): 4 blocks, the last
    // one short, and a last transaction of 16 registrations.
    RegistryBenchOptions { assets: 2_000, owners: 20, txs_per_block: 8, queries: 50, ..RegistryBenchOptions::default() }
}

#[test]
fn small_registry_suite_reports_every_result_in_the_design_shape() {
    let report = registry(&small()).expect("the small suite runs");
    assert_eq!(report.suite, "registry");
    assert!(report.machine.cpus >= 1 && !report.machine.model.is_empty());
    assert_eq!(report.results.len(), EXPECTED.len(), "no unexpected results");
    for (name, unit) in EXPECTED {
        let r = report.result(name).unwrap_or_else(|| panic!("missing result {name}"));
        assert_eq!(r.unit, *unit, "{name}");
        assert!(r.value.is_finite() && r.value > 0.0, "{name} = {}", r.value);
        // The memory target is set for 1,000,000 assets: a small run does not claim it.
        assert!(r.target.is_none(), "{name} has a target at 2,000 assets");
    }
    let value = |name: &str| report.result(name).map(|r| r.value).unwrap_or_default();
    assert_eq!(value("assets_registered"), 2_000.0);
    // 4 blocks; a rate is assets over the same window, so the two agree.
    let blocks_per_asset = value("registry_blocks_per_s") / value("registry_assets_per_s");
    assert!((blocks_per_asset * 2_000.0 - 4.0).abs() < 0.01, "{blocks_per_asset}");
    // Verification cannot beat the machine's own parallel verify rate by much: each asset is
    // one proof of possession plus 1/64 of a transaction signature.
    assert!(value("registry_vs_raw_verify_allcores_ratio") < 1.5);
    assert!(value("memory_peak_rss_bytes") >= value("memory_rss_bytes"));
    assert!(value("memory_rss_bytes") > 1e6 && value("memory_peak_rss_bytes") < 64e9);
    assert!(value("ledger_disk_bytes") > 2_000.0 * 100.0, "at least the registrations themselves");
    // 2,000 assets over 20 owners (skewed) and over res-6 cells around ten metros: every
    // query finds something on average, and no more than everything.
    for q in ["query_by_owner_mean_assets", "query_by_region_mean_assets"] {
        assert!(value(q) >= 1.0 && value(q) <= 2_000.0, "{q} = {}", value(q));
    }
    assert!(value("query_by_owner_p99_us") >= value("query_by_owner_p50_us"));
    assert!(value("query_by_region_p99_us") >= value("query_by_region_p50_us"));

    let v: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["date", "machine", "results", "suite"]);
    for r in v["results"].as_array().unwrap() {
        let mut ks: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
        ks.sort_unstable();
        assert_eq!(ks, ["name", "unit", "value"]);
    }
}

#[test]
fn a_non_durable_run_skips_the_fsync_reference() {
    let opts = RegistryBenchOptions { assets: 300, owners: 3, durable: false, queries: 5, ..small() };
    let report = registry(&opts).expect("the run");
    assert!(report.result("raw_fsync_latency_p50_us").is_none());
    assert!(report.result("registry_assets_per_s").is_some_and(|r| r.value > 0.0));
}

#[test]
fn options_are_validated() {
    for bad in [
        RegistryBenchOptions { assets: 0, ..small() },
        RegistryBenchOptions { owners: 0, ..small() },
        RegistryBenchOptions { batch: 0, ..small() },
        RegistryBenchOptions { batch: 65, ..small() },
        RegistryBenchOptions { txs_per_block: 0, ..small() },
        RegistryBenchOptions { txs_per_block: 5_000, ..small() },
        RegistryBenchOptions { queries: 0, ..small() },
    ] {
        assert!(matches!(registry(&bad), Err(BenchError::Options(_))), "{bad:?}");
    }
}
