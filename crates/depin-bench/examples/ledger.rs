//! Run the ledger suite at full size and print its JSON report (equivalent to
//! `depin bench ledger -o json`). Usage: `cargo run --release -p depin-bench --example ledger
//! [-- --quick | --txs N | --block-txs N | --accounts N | --table]`.

// An example is a tiny program, not a library: printing the report is its whole job.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use depin_bench::LedgerBenchOptions;

fn main() {
    let mut opts = LedgerBenchOptions::default();
    let mut table = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> usize {
            args.next().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
                eprintln!("{name} needs a number");
                std::process::exit(2)
            })
        };
        match arg.as_str() {
            "--quick" => opts.quick = true,
            "--table" => table = true,
            "--txs" => opts.txs = number("--txs"),
            "--block-txs" => opts.block_txs = number("--block-txs"),
            "--accounts" => opts.accounts = number("--accounts"),
            other => {
                eprintln!("unknown argument {other:?}");
                std::process::exit(2);
            }
        }
    }
    match depin_bench::ledger(&opts) {
        Ok(report) if table => print!("{}", report.to_table()),
        Ok(report) => println!("{}", report.to_json()),
        Err(e) => {
            eprintln!("ledger benchmark failed: {e}");
            std::process::exit(1);
        }
    }
}
