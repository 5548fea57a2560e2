//! The quick alloc suite runs (solve, greedy, bounds, validator) and reports every result in
//! the DESIGN.md §4 shape. Structure only: no timing is asserted (targets live in
//! BENCHMARKS.md, not in tests).

use depin_bench::{alloc, AllocBenchOptions, BenchError, Op};

/// A result's name, unit, and target (op and bound) if DESIGN.md §4 sets one.
type Expected = (&'static str, &'static str, Option<(Op, f64)>);

const EXPECTED: &[Expected] = &[
    ("alloc_seconds", "s", Some((Op::AtMost, 1.0))),
    ("placements_per_second", "placements/s", None),
    ("placed_fraction", "ratio", None),
    ("greedy_seconds", "s", None),
    ("alloc_time_vs_greedy", "ratio", None),
    ("cost_vs_greedy", "ratio", None),
    ("greedy_placed_fraction", "ratio", None),
    ("cost_vs_optimum_small", "ratio", Some((Op::AtMost, 1.05))),
    ("worst_cost_vs_optimum_small", "ratio", None),
    ("instances_vs_optimum", "instances", None),
    ("instances_optimum_gave_up", "instances", None),
    ("lower_bound_vs_optimum_small", "ratio", None),
    ("cost_vs_lower_bound", "ratio", None),
    ("cost_vs_relaxed_bound", "ratio", None),
    ("cost_vs_lower_bound_small", "ratio", None),
    ("greedy_cost_vs_lower_bound_small", "ratio", None),
    ("workloads", "workloads", None),
    ("assets", "assets", None),
    ("replicas_asked", "replicas", None),
    ("candidates", "pairs", None),
    ("pairs_evaluated", "pairs", None),
    ("lagrangian_iterations", "iterations", None),
    ("improving_moves", "moves", None),
];

#[test]
fn quick_alloc_suite_reports_every_result_in_the_design_shape() {
    let report = alloc(&AllocBenchOptions::quick()).expect("the quick suite runs");
    assert_eq!(report.suite, "alloc");
    assert!(report.machine.cpus >= 1 && !report.machine.model.is_empty());
    let names: Vec<&str> = report.results.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, EXPECTED.iter().map(|e| e.0).collect::<Vec<_>>());
    for (name, unit, target) in EXPECTED {
        let r = report.result(name).unwrap_or_else(|| panic!("missing result {name}"));
        assert_eq!(r.unit, *unit, "{name}");
        assert!(r.value.is_finite() && r.value >= 0.0, "{name} = {}", r.value);
        match (target, r.target) {
            (None, None) => {}
            (Some((op, v)), Some(t)) => assert!(t.op == *op && t.value == *v, "{name}: {t:?}"),
            (want, got) => panic!("{name}: target {got:?}, expected {want:?}"),
        }
    }
    let value = |name: &str| report.result(name).map(|r| r.value).unwrap_or_default();
    assert_eq!(value("workloads"), 2_000.0);
    assert!(value("placed_fraction") > 0.5 && value("placed_fraction") <= 1.0);
    assert!(value("cost_vs_lower_bound") >= 1.0, "a bound is below the cost");
    assert!(value("cost_vs_relaxed_bound") >= 1.0, "a bound is below the cost");
    assert!(value("cost_vs_lower_bound_small") >= 1.0);
    assert!(value("cost_vs_optimum_small") >= 1.0, "nothing beats the optimum");
    assert!(value("lower_bound_vs_optimum_small") <= 1.0, "a bound is below the optimum");
    assert!(value("instances_vs_optimum") >= 1.0, "some instances were solved exactly");

    let v: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(v["suite"], "alloc");
    assert_eq!(v["results"][0]["target"]["op"], "<=");
}

#[test]
fn options_are_validated() {
    for bad in [
        AllocBenchOptions { workloads: 0, ..AllocBenchOptions::quick() },
        AllocBenchOptions { assets: 0, ..AllocBenchOptions::quick() },
    ] {
        assert!(matches!(alloc(&bad), Err(BenchError::Options(_))), "{bad:?}");
    }
}
