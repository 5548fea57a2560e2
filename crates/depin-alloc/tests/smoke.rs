//! Quick sanity run of the sample generator through solve, greedy and check.
use depin_alloc::sample::{SampleSpec, problem};
use depin_alloc::{check, greedy, lower_bound, solve};

#[test]
fn sample_problems_solve_and_check() {
    for seed in 0..20 {
        let mut spec = SampleSpec::new(seed, 60, 60);
        spec.capacity_unit = 60;
        let p = problem(&spec);
        let s = solve(&p);
        check(&p, &s).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let g = greedy(&p);
        check(&p, &g).unwrap_or_else(|e| panic!("seed {seed} greedy: {e}"));
        let lb = lower_bound(&p);
        eprintln!("seed {seed}: solve {} placed {} unplaced {} | greedy {} placed {} | lb {:?} stats {:?}",
            s.total_cost, s.placements.len(), s.unplaced.len(), g.total_cost, g.placements.len(), lb, s.stats);
    }
}
