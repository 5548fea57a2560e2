//! Run a benchmark suite and print its report (`depin bench ledger`).

use crate::cli::BenchCmd;
use crate::cmd::Ctx;
use crate::error::{CliError, CliResult};
use crate::output::Format;

/// Funded accounts in the ledger benchmark's genesis (the state the transfers touch).
const LEDGER_BENCH_ACCOUNTS: usize = 10_000;

/// Run `depin bench …`. A missed target is a result, not an error: the report says so and the
/// command exits 0; it fails only if the benchmark could not run.
pub fn run(ctx: &Ctx, cmd: BenchCmd) -> CliResult {
    match cmd {
        BenchCmd::Ledger { txs, block_txs, quick } => {
            let opts = depin_bench::LedgerBenchOptions { txs, block_txs, accounts: LEDGER_BENCH_ACCOUNTS, quick };
            if ctx.output == Format::Table {
                eprintln!("running the ledger benchmark{}…", if quick { " (quick)" } else { "" });
            }
            let report = depin_bench::ledger(&opts).map_err(|e| CliError::fail(format!("benchmark failed: {e}")))?;
            match ctx.output {
                Format::Json => println!("{}", report.to_json()),
                Format::Table => print!("{}", report.to_table()),
            }
            if !report.all_targets_met() {
                eprintln!("note: some targets were missed (FAIL rows); see the report");
            }
            Ok(())
        }
    }
}
