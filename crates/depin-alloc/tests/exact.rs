//! On small instances, the exhaustive branch and bound (`depin_alloc::optimum`) gives the
//! optimal cost of placing every replica: solve must be within a few percent of it and the
//! lower bound below it.
#![allow(
    clippy::needless_range_loop,
    clippy::print_stderr,
    reason = "dimensions index several arrays in step; the aggregate figures are printed for the report"
)]

use depin_alloc::sample::{SampleSpec, problem};
use depin_alloc::{Exact, Problem, greedy, lower_bound, optimum, relaxed_bound, solve};

/// The least cost of placing every replica of every workload, if possible.
fn exact(p: &Problem) -> Option<u128> {
    match optimum(p, u64::MAX) {
        Exact::Optimal(c) => Some(c),
        Exact::Infeasible => None,
        Exact::GaveUp => unreachable!("no node budget"),
    }
}

#[test]
fn solve_is_near_the_exact_optimum_and_the_bound_below_it() {
    let (mut n, mut sum_s, mut sum_x, mut worst_permille, mut missed) =
        (0, 0u128, 0u128, 1000u128, 0);
    let mut lb_sum = 0u128;
    for seed in 0..1000 {
        let spec = SampleSpec {
            seed,
            assets: 6 + (seed % 5) as usize,
            workloads: 3 + (seed % 6) as usize,
            classes: 1,
            metros: 1,
            owners: 5,
            capacity_unit: 50,
        };
        let mut p = problem(&spec);
        for w in &mut p.workloads {
            w.all_or_nothing = true;
        }
        let Some(opt) = exact(&p) else { continue };
        let lb = lower_bound(&p).expect("a feasible instance has a bound");
        assert!(lb <= opt, "seed {seed}: bound {lb} > optimum {opt}");
        let rb = relaxed_bound(&p).expect("a feasible instance has a relaxed bound");
        assert!(rb <= opt, "seed {seed}: relaxed bound {rb} > optimum {opt}");
        let s = solve(&p);
        if !s.unplaced.is_empty() {
            missed += 1; // the heuristic left a workload out although all fit
            continue;
        }
        assert!(
            opt <= s.total_cost,
            "seed {seed}: solve {} below the optimum {opt}",
            s.total_cost
        );
        n += 1;
        sum_s += s.total_cost;
        sum_x += opt;
        lb_sum += lb;
        if let Some(r) = (s.total_cost * 1000).checked_div(opt) {
            worst_permille = worst_permille.max(r);
        }
    }
    eprintln!(
        "{n} instances solved in full ({missed} not): solve/exact = {sum_s}/{sum_x} = {}‰, worst {worst_permille}‰, \
         bound/exact = {}‰",
        sum_s * 1000 / sum_x.max(1),
        lb_sum * 1000 / sum_x.max(1)
    );
    assert!(n >= 100, "enough feasible instances");
    assert!(
        sum_s * 1000 <= sum_x * 1030,
        "solve within 3% of the optimum in aggregate"
    );
    assert!(
        missed * 5 <= n,
        "solve places every workload on at least 80% of the instances where all fit"
    );
}

/// The workloads `greedy` placed in full: a problem known to be feasible as a whole.
fn placed_by_greedy(p: &Problem) -> Problem {
    let g = greedy(p);
    let mut keep = vec![true; p.workloads.len()];
    for u in &g.unplaced {
        keep[u.workload as usize] = false;
    }
    Problem {
        assets: p.assets.clone(),
        workloads: p.workloads.iter().zip(&keep).filter(|(_, k)| **k).map(|(w, _)| w.clone()).collect(),
        cost: p.cost,
    }
}

#[test]
fn on_contended_feasible_instances_solve_places_everything_within_one_percent_of_the_optimum() {
    // Shapes where greedy leaves assets contended; `placed_by_greedy` keeps the instances
    // feasible, so the optimum exists and solve must place everything.
    let shapes = [(24, 24, 50, 8, 2, 2), (30, 30, 30, 6, 2, 2), (40, 40, 30, 8, 2, 4)];
    let (mut n, mut sum_s, mut sum_x, mut worst_permille, mut gave_up) = (0, 0u128, 0u128, 1000u128, 0);
    for (assets, workloads, capacity_unit, owners, metros, classes) in shapes {
        for seed in 0..30 {
            let p = placed_by_greedy(&problem(&SampleSpec {
                seed,
                assets,
                workloads,
                classes,
                metros,
                owners,
                capacity_unit,
            }));
            let s = solve(&p);
            assert!(s.unplaced.is_empty(), "{assets}x{workloads} seed {seed}: solve left {:?}", s.unplaced);
            let opt = match optimum(&p, 1_000_000) {
                Exact::Optimal(c) => c,
                Exact::GaveUp => {
                    gave_up += 1;
                    continue;
                }
                Exact::Infeasible => panic!("{assets}x{workloads} seed {seed}: greedy placed it all"),
            };
            assert!(opt <= s.total_cost, "{assets}x{workloads} seed {seed}: solve below the optimum");
            n += 1;
            sum_s += s.total_cost;
            sum_x += opt;
            if let Some(r) = (s.total_cost * 1000).checked_div(opt) {
                worst_permille = worst_permille.max(r);
            }
        }
    }
    eprintln!(
        "{n} instances (branch and bound gave up on {gave_up}): solve/exact = {}‰, worst {worst_permille}‰",
        sum_s * 1000 / sum_x.max(1)
    );
    assert!(n >= 60, "enough instances solved exactly");
    assert!(sum_s * 1000 <= sum_x * 1010, "solve within 1% of the optimum in aggregate");
}

#[test]
fn the_search_reports_infeasible_and_gives_up_on_its_budget() {
    let mut p = problem(&SampleSpec { seed: 3, assets: 8, workloads: 6, classes: 1, metros: 1, owners: 4, capacity_unit: 50 });
    let feasible = placed_by_greedy(&p);
    assert!(matches!(optimum(&feasible, u64::MAX), Exact::Optimal(_)));
    assert_eq!(optimum(&feasible, 1), Exact::GaveUp);
    // A workload asking more than any asset holds: nothing places it.
    p.workloads[0].per_replica = [u64::MAX; depin_alloc::DIMS];
    assert_eq!(optimum(&p, u64::MAX), Exact::Infeasible);
}
