//! The quick ingest suite runs end to end (a real node, real signatures, every report counted
//! in state) and reports every result in the DESIGN.md §4 shape. Structure only: no timing is
//! asserted (targets live in BENCHMARKS.md, not in tests).

use depin_bench::{ingest, BenchError, IngestBenchOptions, Op};

/// A result's name, unit, and target (op and bound) if DESIGN.md §4 sets one.
type Expected = (&'static str, &'static str, Option<(Op, f64)>);

const EXPECTED: &[Expected] = &[
    ("raw_batch_verify_all_cores", "sig/s", None),
    ("raw_batch_verify_before", "sig/s", None),
    ("raw_batch_verify_after", "sig/s", None),
    ("raw_single_verify_all_cores", "sig/s", None),
    ("raw_cofactored_batch_verify_all_cores", "sig/s", None),
    ("ingest_end_to_end", "reports/s", None),
    ("ingest_ratio_to_raw_batch_verify", "ratio", Some((Op::AtLeast, 0.8))),
    ("ingest_ratio_to_raw_single_verify", "ratio", None),
    ("ingest_ratio_to_raw_cofactored_batch", "ratio", None),
    ("accepted", "reports", None),
    ("assets", "assets", None),
    ("clients", "threads", None),
    ("ingest_call_latency_p50_ms", "ms", None),
    ("ingest_call_latency_p99_ms", "ms", None),
    ("ingest_edge_only", "reports/s", None),
    ("ingest_feed_s", "s", None),
    ("ingest_drain_ms", "ms", None),
    ("ingest_blocks", "blocks", None),
    ("ingest_overloaded_retries", "calls", None),
];

#[test]
fn quick_ingest_suite_reports_every_result_in_the_design_shape() {
    let report = ingest(&IngestBenchOptions::quick()).expect("the quick suite runs");
    assert_eq!(report.suite, "ingest");
    assert!(report.machine.cpus >= 1 && !report.machine.model.is_empty());
    assert_eq!(report.results.len(), EXPECTED.len(), "no unexpected results");
    for (name, unit, target) in EXPECTED {
        let r = report.result(name).unwrap_or_else(|| panic!("missing result {name}"));
        assert_eq!(r.unit, *unit, "{name}");
        // Retries happen only when the node's queue fills; every other figure is positive.
        let positive = *name != "ingest_overloaded_retries";
        assert!(r.value.is_finite() && (r.value > 0.0 || !positive && r.value == 0.0), "{name} = {}", r.value);
        match (target, r.target) {
            (None, None) => {}
            (Some((op, v)), Some(t)) => assert!(t.op == *op && t.value == *v, "{name}: {t:?}"),
            (want, got) => panic!("{name}: target {got:?}, expected {want:?}"),
        }
    }
    let value = |name: &str| report.result(name).map(|r| r.value).unwrap_or_default();
    assert_eq!(value("accepted"), 2_000.0, "every report of the quick run is accepted and counted");
    assert_eq!(value("assets"), 64.0);
    let (before, after) = (value("raw_batch_verify_before"), value("raw_batch_verify_after"));
    // Each figure is rounded to 3 decimals on its own, so the mean can differ by that rounding.
    let mean = value("raw_batch_verify_all_cores");
    assert!((mean - (before + after) / 2.0).abs() <= 0.002, "the reference is the mean of both: {mean}, {before}, {after}");

    // The JSON document, parsed back generically: the names and the shape.
    let v: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(v["suite"], "ingest");
    assert!(v["machine"]["cpus"].as_u64().unwrap() >= 1);
    assert!(v["machine"]["model"].is_string());
    let names: Vec<&str> = v["results"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, EXPECTED.iter().map(|e| e.0).collect::<Vec<_>>());
    let ratio = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "ingest_ratio_to_raw_batch_verify")
        .expect("the target's ratio");
    assert_eq!(ratio["target"]["op"], ">=");
    assert_eq!(ratio["target"]["value"], 0.8);
}

#[test]
fn options_are_validated() {
    for bad in [
        IngestBenchOptions { reports: 0, ..IngestBenchOptions::quick() },
        IngestBenchOptions { assets: 0, ..IngestBenchOptions::quick() },
        IngestBenchOptions { clients: 0, ..IngestBenchOptions::quick() },
    ] {
        assert!(matches!(ingest(&bad), Err(BenchError::Options(_))), "{bad:?}");
    }
}
