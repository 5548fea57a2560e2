//! Time solve and greedy on a generated problem: `cargo run --release -p depin-alloc --example
//! scale -- [workloads] [assets] [runs]`, the least time of `runs` each (the benchmark proper
//! is `depin bench alloc`).
#![allow(
    clippy::disallowed_types,
    clippy::disallowed_methods,
    clippy::print_stdout,
    reason = "a timing tool outside the allocator: it reads the clock and prints"
)]

use std::time::{Duration, Instant};

use depin_alloc::sample::{SampleSpec, problem};
use depin_alloc::{Problem, Solution, check, greedy, solve};

/// The least time of `runs` calls of `f`, and its (deterministic) answer.
fn least(runs: usize, p: &Problem, f: fn(&Problem) -> Solution) -> (Duration, Solution) {
    let mut best = Duration::MAX;
    let mut out = Solution::default();
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        out = f(p);
        best = best.min(t.elapsed());
    }
    (best, out)
}

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .map(|a| a.parse::<usize>().expect("a number"));
    let workloads = args.next().unwrap_or(100_000);
    let assets = args.next().unwrap_or(workloads);
    let runs = args.next().unwrap_or(1);
    let p = problem(&SampleSpec::new(0x0061_6c6c_6f63, assets, workloads));
    let (tg, g) = least(runs, &p, greedy);
    let (ts, s) = least(runs, &p, solve);
    check(&p, &s).expect("valid solve");
    println!(
        "greedy {tg:?} cost {} placed {} | solve {ts:?} cost {} placed {} | {:?}",
        g.total_cost,
        g.placements.len(),
        s.total_cost,
        s.placements.len(),
        s.stats
    );
}
