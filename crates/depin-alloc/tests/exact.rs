//! On small instances, an exhaustive branch and bound gives the optimal cost of placing every
//! replica: solve must be within a few percent of it and the lower bound below it.
#![allow(
    clippy::needless_range_loop,
    clippy::print_stderr,
    reason = "dimensions index several arrays in step; the aggregate figures are printed for the report"
)]

use depin_alloc::sample::{SampleSpec, problem};
use depin_alloc::{DIMS, Problem, judge, lower_bound, solve};

/// Every way to place workload `w`'s replicas ignoring other workloads: asset lists with cost.
fn options(p: &Problem, wi: usize) -> Vec<(u128, Vec<u32>)> {
    let w = &p.workloads[wi];
    let feasible: Vec<(u32, u64)> = (0..p.assets.len() as u32)
        .filter_map(|a| judge(p, wi as u32, a).ok().map(|t| (a, t.total())))
        .collect();
    let mut out = Vec::new();
    let mut stack: Vec<usize> = Vec::new();
    fn rec(
        p: &Problem,
        wi: usize,
        feasible: &[(u32, u64)],
        from: usize,
        stack: &mut Vec<usize>,
        out: &mut Vec<(u128, Vec<u32>)>,
    ) {
        let w = &p.workloads[wi];
        if stack.len() == usize::from(w.replicas) {
            let assets: Vec<u32> = stack.iter().map(|&i| feasible[i].0).collect();
            if w.has_anti_affinity() {
                let all: Vec<&depin_alloc::Asset> = assets
                    .iter()
                    .chain(&w.placed)
                    .map(|&a| &p.assets[a as usize])
                    .collect();
                for (i, x) in all.iter().enumerate() {
                    for y in &all[i + 1..] {
                        let cell = |a: &depin_alloc::Asset, r: u8| {
                            depin_geo::Cell::try_from(a.cell)
                                .ok()
                                .and_then(|c| c.parent(r))
                                .map(|c| c.to_u64())
                        };
                        if (w.distinct_owners && x.owner == y.owner)
                            || (w.distinct_energy && x.energy_source == y.energy_source)
                            || w.distinct_cells_res
                                .is_some_and(|r| cell(x, r) == cell(y, r))
                        {
                            return;
                        }
                    }
                }
            }
            // Capacity of the workload alone on each asset.
            for &a in &assets {
                let n = assets.iter().filter(|&&b| b == a).count() as u128;
                for d in 0..DIMS {
                    if n * u128::from(w.per_replica[d]) > u128::from(p.assets[a as usize].free[d]) {
                        return;
                    }
                }
            }
            out.push((
                stack.iter().map(|&i| u128::from(feasible[i].1)).sum(),
                assets,
            ));
            return;
        }
        // With anti-affinity an asset appears once; without, combinations with repetition.
        let step = usize::from(w.has_anti_affinity());
        for i in from..feasible.len() {
            stack.push(i);
            rec(p, wi, feasible, i + step, stack, out);
            stack.pop();
        }
    }
    let _ = w;
    rec(p, wi, &feasible, 0, &mut stack, &mut out);
    out.sort();
    out
}

/// The least cost of placing every replica of every workload, if possible.
fn exact(p: &Problem) -> Option<u128> {
    let opts: Vec<Vec<(u128, Vec<u32>)>> = (0..p.workloads.len()).map(|w| options(p, w)).collect();
    if opts.iter().any(Vec::is_empty) {
        return None;
    }
    let mins: Vec<u128> = opts.iter().map(|o| o[0].0).collect();
    let mut best = None;
    let mut free: Vec<[u64; DIMS]> = p.assets.iter().map(|a| a.free).collect();
    fn dfs(
        p: &Problem,
        opts: &[Vec<(u128, Vec<u32>)>],
        mins: &[u128],
        k: usize,
        cost: u128,
        free: &mut Vec<[u64; DIMS]>,
        best: &mut Option<u128>,
    ) {
        if k == opts.len() {
            *best = Some(best.map_or(cost, |b: u128| b.min(cost)));
            return;
        }
        let rest: u128 = mins[k..].iter().sum();
        if best.is_some_and(|b| cost + rest >= b) {
            return;
        }
        let per = p.workloads[k].per_replica;
        'opt: for (c, assets) in &opts[k] {
            if best.is_some_and(|b| cost + c + mins[k + 1..].iter().sum::<u128>() >= b) {
                break;
            }
            let mut taken = 0;
            for &a in assets {
                if (0..DIMS).any(|d| free[a as usize][d] < per[d]) {
                    for &b in &assets[..taken] {
                        for d in 0..DIMS {
                            free[b as usize][d] += per[d];
                        }
                    }
                    continue 'opt;
                }
                for d in 0..DIMS {
                    free[a as usize][d] -= per[d];
                }
                taken += 1;
            }
            dfs(p, opts, mins, k + 1, cost + c, free, best);
            for &a in assets {
                for d in 0..DIMS {
                    free[a as usize][d] += per[d];
                }
            }
        }
    }
    dfs(p, &opts, &mins, 0, 0, &mut free, &mut best);
    best
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
