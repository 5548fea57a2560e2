//! Audit the stored chain offline by replaying it from genesis (`depin ledger replay`).

use depin_ledger::{Ledger, LedgerError};
use depin_node::replay_from_genesis;
use serde::Serialize;

use crate::cli::LedgerCmd;
use crate::cmd::Ctx;
use crate::error::{CliError, CliResult, ExitCode};
use crate::output;

#[derive(Serialize)]
struct ReplayReport {
    height: u64,
    /// Blocks the stored state was behind the log by (replayed into it first, as `up` does).
    repaired_blocks: u64,
    /// Root in the head block's header.
    head_state_root: String,
    /// Root of the stored (derived) state.
    stored_state_root: String,
    /// Root from re-executing every block from genesis in a scratch ledger.
    replayed_state_root: String,
    matches: bool,
}

/// Run `depin ledger …`.
pub fn run(ctx: &Ctx, cmd: LedgerCmd) -> CliResult {
    match cmd {
        LedgerCmd::Replay => {
            let genesis = depin_node::read_genesis(&ctx.home).map_err(CliError::fail)?;
            let ledger = Ledger::open(&ctx.home.ledger(), &genesis, true).map_err(|e| {
                CliError::fail(format!("cannot open the ledger: {e}")).hint("stop the node first (`depin up` holds the database)")
            })?;
            let chain = depin_node::Chain::new(ledger, genesis.clone(), None);
            let repaired = chain.repair_state().map_err(pruned_or_fail)?;
            let ledger = chain.ledger();
            let head = ledger.head().map_err(CliError::fail)?;
            let stored = ledger.snapshot().and_then(|s| s.at()).map_err(CliError::fail)?;
            let replayed = match replay_from_genesis(ledger, &genesis).map_err(pruned_or_fail)? {
                Ok(root) => root,
                Err((height, why)) => {
                    return Err(CliError::with_code(ExitCode::Rejected, format!("block {height} does not replay: {why}")));
                }
            };
            let report = ReplayReport {
                height: head.height,
                repaired_blocks: repaired.map_or(0, |r| r.end() - r.start() + 1),
                head_state_root: head.state_root.to_hex(),
                stored_state_root: stored.state_root.to_hex(),
                replayed_state_root: replayed.to_hex(),
                matches: replayed == head.state_root && replayed == stored.state_root && stored.height == head.height,
            };
            output::print(ctx.output, &report, |r| {
                vec![
                    ("height".into(), r.height.to_string()),
                    ("repaired_blocks".into(), r.repaired_blocks.to_string()),
                    ("head_state_root".into(), r.head_state_root.clone()),
                    ("stored_state_root".into(), r.stored_state_root.clone()),
                    ("replayed_state_root".into(), r.replayed_state_root.clone()),
                    ("matches".into(), r.matches.to_string()),
                ]
            });
            if report.matches {
                Ok(())
            } else {
                Err(CliError::with_code(ExitCode::Rejected, "the replayed state root differs from the stored one"))
            }
        }
    }
}

/// A log pruned by telemetry retention cannot be replayed: say so, and what to do, rather than
/// report a storage failure.
fn pruned_or_fail(e: LedgerError) -> CliError {
    match e {
        LedgerError::Pruned { .. } => CliError::fail(e).hint(
            "this node prunes raw telemetry ([telemetry] retain_epochs > 0); audit a copy of an archive node's home (retain_epochs = 0)",
        ),
        e => CliError::fail(e),
    }
}
