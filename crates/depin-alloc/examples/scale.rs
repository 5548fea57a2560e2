//! Time solve and greedy on a generated problem: `cargo run --release -p depin-alloc --example
//! scale -- [workloads] [assets]` (the benchmark proper is `depin bench alloc`).
#![allow(
    clippy::disallowed_types,
    clippy::disallowed_methods,
    clippy::print_stdout,
    reason = "a timing tool outside the allocator: it reads the clock and prints"
)]

use std::time::Instant;

use depin_alloc::sample::{SampleSpec, problem};
use depin_alloc::{check, greedy, solve};

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .map(|a| a.parse::<usize>().expect("a number"));
    let workloads = args.next().unwrap_or(100_000);
    let assets = args.next().unwrap_or(workloads);
    let p = problem(&SampleSpec::new(0x0061_6c6c_6f63, assets, workloads));
    let t = Instant::now();
    let g = greedy(&p);
    let tg = t.elapsed();
    let t = Instant::now();
    let s = solve(&p);
    let ts = t.elapsed();
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
