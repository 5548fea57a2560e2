//! Run a benchmark suite and print its report (`depin bench ledger`, `depin bench consensus`,
//! `depin bench registry`, `depin bench ingest`, `depin bench alloc`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use depin_bench::{BenchError, BenchReport, ConsensusBenchOptions};

use crate::cli::{BenchCmd, BenchConsensusArgs};
use crate::cmd::Ctx;
use crate::error::{CliError, CliResult, ExitCode};
use crate::output::Format;

/// Funded accounts in the ledger benchmark's genesis (the state the transfers touch).
const LEDGER_BENCH_ACCOUNTS: usize = 10_000;

/// Run `depin bench …`. A missed target is a result, not an error: the report says so and the
/// command exits 0; it fails only if the benchmark could not run.
pub fn run(ctx: &Ctx, cmd: BenchCmd) -> CliResult {
    let report = match cmd {
        BenchCmd::Ledger { txs, block_txs, quick } => {
            let opts = depin_bench::LedgerBenchOptions { txs, block_txs, accounts: LEDGER_BENCH_ACCOUNTS, quick };
            if ctx.output == Format::Table {
                eprintln!("running the ledger benchmark{}…", if quick { " (quick)" } else { "" });
            }
            depin_bench::ledger(&opts).map_err(bench_error)?
        }
        BenchCmd::Consensus(args) => consensus(ctx, &args)?,
        BenchCmd::Registry { assets, owners, seed } => {
            let count = |flag: &str, v: u64| {
                usize::try_from(v).map_err(|_| CliError::with_code(ExitCode::Usage, format!("{flag} {v} is too large")))
            };
            let opts = depin_bench::RegistryBenchOptions {
                assets: count("--assets", assets)?,
                owners: count("--owners", owners)?,
                seed,
                ..depin_bench::RegistryBenchOptions::default()
            };
            if ctx.output == Format::Table {
                eprintln!("running the registry benchmark: {} assets from {} owners…", opts.assets, opts.owners);
            }
            depin_bench::registry(&opts).map_err(bench_error)?
        }
        BenchCmd::Ingest { reports, assets, clients, quick } => {
            let count = |flag: &str, v: u64| {
                usize::try_from(v).map_err(|_| CliError::with_code(ExitCode::Usage, format!("{flag} {v} is too large")))
            };
            let opts = depin_bench::IngestBenchOptions {
                reports: count("--reports", reports)?,
                assets: count("--assets", assets)?,
                clients: count("--clients", clients)?,
                quick,
            };
            if ctx.output == Format::Table && quick {
                eprintln!("running the ingest benchmark (quick)…");
            } else if ctx.output == Format::Table {
                eprintln!(
                    "running the ingest benchmark: {} reports from {} assets, {} client threads…",
                    opts.reports, opts.assets, opts.clients
                );
            }
            depin_bench::ingest(&opts).map_err(bench_error)?
        }
        BenchCmd::Alloc { workloads, assets, quick } => {
            let count = |flag: &str, v: u64| {
                usize::try_from(v).map_err(|_| CliError::with_code(ExitCode::Usage, format!("{flag} {v} is too large")))
            };
            let opts = depin_bench::AllocBenchOptions {
                workloads: count("--workloads", workloads)?,
                assets: count("--assets", assets)?,
                quick,
            };
            if ctx.output == Format::Table {
                eprintln!(
                    "running the allocation benchmark: {} workloads onto {} assets{}…",
                    opts.workloads,
                    opts.assets,
                    if opts.quick { " (quick)" } else { "" }
                );
            }
            depin_bench::alloc(&opts).map_err(bench_error)?
        }
    };
    match ctx.output {
        Format::Json => println!("{}", report.to_json()),
        Format::Table => print!("{}", report.to_table()),
    }
    if !report.all_targets_met() {
        eprintln!("note: some targets were missed (FAIL rows); see the report");
    }
    Ok(())
}

/// `depin bench consensus`: the validators are children of this executable.
fn consensus(ctx: &Ctx, args: &BenchConsensusArgs) -> CliResult<BenchReport> {
    let exe = std::env::current_exe()
        .map_err(|e| CliError::fail(format!("cannot find this executable to start the validators: {e}")))?;
    let usize_arg = |flag: &str, v: u64| {
        usize::try_from(v).map_err(|_| CliError::with_code(ExitCode::Usage, format!("{flag} {v} is too large")))
    };
    let cancel = Arc::new(AtomicBool::new(false));
    let opts = ConsensusBenchOptions {
        seconds: args.seconds,
        senders: usize_arg("--senders", args.senders)?,
        in_flight: usize_arg("--in-flight", args.in_flight)?,
        max_rate: args.max_rate,
        base_port: args.base_port,
        cancel: Some(cancel.clone()),
        ..ConsensusBenchOptions::new(exe)
    };
    watch_signals(cancel)?;
    if ctx.output == Format::Table {
        eprintln!(
            "running the consensus benchmark: {} validators, {} s warm-up + {} s of load from {} senders…",
            depin_bench::consensus::VALIDATORS,
            depin_bench::consensus::WARMUP.as_secs(),
            opts.seconds,
            opts.senders
        );
    }
    depin_bench::consensus(&opts).map_err(bench_error)
}

/// Ctrl-C and SIGTERM set `cancel`: the benchmark then stops its validators and returns,
/// instead of this process dying and leaving them running.
fn watch_signals(cancel: Arc<AtomicBool>) -> CliResult {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::fail(format!("cannot watch for signals: {e}")))?;
    std::thread::Builder::new()
        .name("depin-bench-signals".into())
        .spawn(move || {
            runtime.block_on(async {
                let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) else {
                    return;
                };
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
                cancel.store(true, Ordering::Relaxed);
            });
        })
        .map_err(|e| CliError::fail(format!("cannot watch for signals: {e}")))?;
    Ok(())
}

/// Bad options are usage errors (exit 2); anything else failed the run (exit 1).
fn bench_error(e: BenchError) -> CliError {
    match e {
        BenchError::Options(_) => CliError::with_code(ExitCode::Usage, format!("benchmark: {e}")),
        BenchError::Cancelled => CliError::fail("benchmark cancelled; its validators were stopped"),
        e => CliError::fail(format!("benchmark failed: {e}")),
    }
}
