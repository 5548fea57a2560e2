//! Read accounts (with verified state proofs) and blocks from the node.

use std::path::Path;

use depin_ledger::authstate::{verify_proof, StateProof};
use depin_types::evidence::EvidenceRecord;
use depin_types::state_key::{account_key, Account};
use depin_types::{Address, Amount, BlockHeader, Hash32, Receipt, Transaction};
use serde::{Deserialize, Serialize};

use crate::cli::QueryCmd;
use crate::cmd::keys::resolve_address;
use crate::cmd::tx::outcome_text;
use crate::cmd::Ctx;
use crate::error::{CliError, CliResult, ExitCode};
use crate::output::{self, Format};

/// Transactions listed in the table form of `query block` (JSON lists them all).
const BLOCK_TABLE_TXS_MAX: usize = 20;

/// The largest account value accepted in a proof (an account is 24 bytes).
const ACCOUNT_VALUE_BYTES_MAX: usize = 64;

/// `GET /api/v1/accounts/{address}[?prove=true]` (mirror of `depin_node::AccountView`).
#[derive(Deserialize)]
struct AccountAnswer {
    address: Address,
    balance: Amount,
    nonce: u64,
    height: u64,
    state_root: Hash32,
    #[serde(default)]
    proof: Option<StateProof>,
}

/// What `query account` prints.
#[derive(Serialize)]
struct AccountOut {
    address: Address,
    balance: Amount,
    nonce: u64,
    height: u64,
    state_root: Hash32,
    #[serde(skip_serializing_if = "Option::is_none")]
    proof_verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    proof_file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    proof: Option<StateProof>,
}

/// `GET /api/v1/blocks/{height|latest}`: the block as the node's log holds it (a telemetry
/// transaction that retention pruned is a summary, docs/adr/0018).
#[derive(Deserialize)]
struct BlockAnswer {
    id: Hash32,
    block: LoggedBlockAnswer,
    receipts: Vec<Receipt>,
}

#[derive(Deserialize)]
struct LoggedBlockAnswer {
    header: BlockHeader,
    txs: Vec<LoggedTxAnswer>,
}

/// A whole transaction, or what retention left of a telemetry one.
#[derive(Deserialize)]
#[serde(untagged)]
enum LoggedTxAnswer {
    Full(Box<Transaction>),
    Pruned { id: Hash32, sender: Address, reports: u32 },
}

/// What `query block` prints.
#[derive(Serialize)]
struct BlockOut {
    height: u64,
    id: Hash32,
    parent: Hash32,
    timestamp_ms: u64,
    proposer: Address,
    n_txs: u32,
    txs_root: Hash32,
    receipts_root: Hash32,
    state_root: Hash32,
    txs: Vec<BlockTx>,
}

/// One transaction of a block, with its outcome.
#[derive(Serialize)]
struct BlockTx {
    tx_id: Hash32,
    kind: &'static str,
    sender: Address,
    outcome: String,
}

/// Run `depin query …`.
pub fn run(ctx: &Ctx, cmd: QueryCmd) -> CliResult {
    match cmd {
        QueryCmd::Account { address, prove, proof_out } => {
            let prove = prove || proof_out.is_some();
            account(ctx, &address, prove, proof_out.as_deref())
        }
        QueryCmd::Block { height } => block(ctx, &height),
        QueryCmd::Evidence { offender, limit, cursor } => evidence(ctx, offender.as_deref(), limit, cursor.as_deref()),
    }
}

/// `GET /api/v1/evidence` (mirror of the API's page).
#[derive(Deserialize, Serialize)]
struct EvidencePage {
    evidence: Vec<EvidenceRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

fn evidence(ctx: &Ctx, offender: Option<&str>, limit: u32, cursor: Option<&str>) -> CliResult {
    let mut query = vec![format!("limit={limit}")];
    if let Some(o) = offender {
        query.push(format!("offender={}", resolve_address(ctx, "offender", o)?));
    }
    if let Some(c) = cursor {
        if !c.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(CliError::with_code(ExitCode::Usage, format!("invalid cursor {c:?}: use the one a previous page printed")));
        }
        query.push(format!("cursor={c}"));
    }
    let page: EvidencePage = ctx.client()?.get(&format!("/api/v1/evidence?{}", query.join("&")))?;
    if ctx.output == Format::Json {
        output::print(ctx.output, &page, |_| Vec::new());
        return Ok(());
    }
    if page.evidence.is_empty() {
        println!("no evidence recorded");
    } else {
        output::print_list(Format::Table, &page.evidence, &["HEIGHT", "KIND", "OFFENDER", "VIEW", "REPORTER", "TX"], |r| {
            vec![
                r.height.to_string(),
                r.kind.code().to_string(),
                r.offender.address().to_string(),
                r.round.view.to_string(),
                r.reporter.to_string(),
                r.tx_id.to_hex(),
            ]
        });
    }
    if let Some(c) = &page.next_cursor {
        println!("more: depin query evidence --cursor {c}");
    }
    Ok(())
}

fn account(ctx: &Ctx, input: &str, prove: bool, proof_out: Option<&Path>) -> CliResult {
    let address = resolve_address(ctx, "account", input)?;
    let client = ctx.client()?;
    let path = format!("/api/v1/accounts/{address}{}", if prove { "?prove=true" } else { "" });
    let answer: AccountAnswer = client.get(&path)?;
    if answer.address != address {
        return Err(CliError::fail(format!("the node answered about {}, not {address}", answer.address)));
    }
    let mut out = AccountOut {
        address,
        balance: answer.balance,
        nonce: answer.nonce,
        height: answer.height,
        state_root: answer.state_root,
        proof_verified: None,
        proof_file: None,
        proof: None,
    };
    if prove {
        let proof = answer
            .proof
            .ok_or_else(|| CliError::fail("the node sent no proof").hint("is the node older than this CLI?"))?;
        check_account_proof(&proof, &address, answer.state_root, answer.balance, answer.nonce)?;
        if let Some(file) = proof_out {
            let mut json = serde_json::to_string_pretty(&proof).map_err(CliError::fail)?;
            json.push('\n');
            std::fs::write(file, json).map_err(|e| CliError::fail(format!("cannot write {}: {e}", file.display())))?;
            out.proof_file = Some(file.display().to_string());
        }
        out.proof_verified = Some(true);
        // JSON output carries the proof itself, so a script can keep it without a file.
        if ctx.output == Format::Json {
            out.proof = Some(proof);
        }
    }
    output::print(ctx.output, &out, |o| {
        let mut rows = vec![
            ("address".into(), o.address.to_string()),
            ("balance".into(), o.balance.to_string()),
            ("nonce".into(), o.nonce.to_string()),
            ("height".into(), o.height.to_string()),
            ("state_root".into(), o.state_root.to_hex()),
        ];
        if o.proof_verified == Some(true) {
            rows.push(("proof".into(), format!("verified against {}", o.state_root)));
        }
        if let Some(f) = &o.proof_file {
            rows.push(("proof_file".into(), f.clone()));
        }
        rows
    });
    Ok(())
}

/// Check a proof the node sent for an account, locally: it leads to the state root the node
/// reported, it is about this account's state key, and its value is the balance and nonce
/// shown (or the key is absent and the account is empty: never funded).
fn check_account_proof(
    proof: &StateProof,
    address: &Address,
    state_root: Hash32,
    balance: Amount,
    nonce: u64,
) -> CliResult {
    let rejected = |why: String| {
        CliError::with_code(ExitCode::Rejected, format!("the node's proof for {address} does not verify: {why}"))
    };
    verify_proof(&state_root.0, proof).map_err(|e| rejected(e.to_string()))?;
    if proof.key != account_key(address) {
        return Err(rejected("it is about another state key".into()));
    }
    let proven = match &proof.value {
        None => Account::default(),
        Some(bytes) => decode_account(bytes).map_err(rejected)?,
    };
    if proven.balance != balance || proven.nonce != nonce {
        return Err(rejected(format!(
            "it proves balance {} and nonce {}, but the node reported balance {balance} and nonce {nonce}",
            proven.balance, proven.nonce
        )));
    }
    Ok(())
}

/// Decode an account record (borsh) from a state value.
pub(crate) fn decode_account(bytes: &[u8]) -> Result<Account, String> {
    depin_types::codec::decode_bounded(bytes, ACCOUNT_VALUE_BYTES_MAX)
        .map_err(|e| format!("the value is not an account record: {e}"))
}

fn block(ctx: &Ctx, height: &str) -> CliResult {
    let which = match height.trim() {
        "latest" => "latest".to_string(),
        h => h
            .parse::<u64>()
            .map_err(|_| {
                CliError::with_code(
                    ExitCode::Usage,
                    format!("invalid block height {height:?}: use a number or `latest`"),
                )
            })?
            .to_string(),
    };
    let answer: BlockAnswer = ctx.client()?.get(&format!("/api/v1/blocks/{which}"))?;
    let header = &answer.block.header;
    if header.id() != answer.id {
        return Err(CliError::fail(format!(
            "the node's block {} has id {}, but its header hashes to {}",
            header.height,
            answer.id,
            header.id()
        )));
    }
    let txs = answer
        .block
        .txs
        .iter()
        .enumerate()
        .map(|(i, tx)| {
            let outcome = answer.receipts.get(i).map_or_else(|| "no receipt".to_string(), |r| outcome_text(&r.outcome));
            match tx {
                LoggedTxAnswer::Full(tx) => {
                    BlockTx { tx_id: tx.id(), kind: tx.content.body.kind(), sender: tx.content.sender(), outcome }
                }
                LoggedTxAnswer::Pruned { id, sender, reports } => BlockTx {
                    tx_id: *id,
                    kind: "submit_telemetry",
                    sender: *sender,
                    outcome: format!("{outcome} ({reports} reports, pruned by retention)"),
                },
            }
        })
        .collect();
    let out = BlockOut {
        height: header.height,
        id: answer.id,
        parent: header.parent,
        timestamp_ms: header.timestamp_ms,
        proposer: header.proposer.address(),
        n_txs: header.n_txs,
        txs_root: header.txs_root,
        receipts_root: header.receipts_root,
        state_root: header.state_root,
        txs,
    };
    output::print(ctx.output, &out, |o| {
        vec![
            ("height".into(), o.height.to_string()),
            ("id".into(), o.id.to_hex()),
            ("parent".into(), o.parent.to_hex()),
            ("time".into(), format_time_ms(o.timestamp_ms)),
            ("proposer".into(), o.proposer.to_string()),
            ("n_txs".into(), o.n_txs.to_string()),
            ("state_root".into(), o.state_root.to_hex()),
        ]
    });
    if ctx.output == Format::Table && !out.txs.is_empty() {
        println!();
        let shown = &out.txs[..out.txs.len().min(BLOCK_TABLE_TXS_MAX)];
        output::print_list(Format::Table, shown, &["TX", "KIND", "SENDER", "OUTCOME"], |t| {
            vec![t.tx_id.to_hex(), t.kind.to_string(), t.sender.to_string(), t.outcome.clone()]
        });
        if out.txs.len() > shown.len() {
            println!("… and {} more (all with -o json)", out.txs.len() - shown.len());
        }
    }
    Ok(())
}

/// Milliseconds since the Unix epoch as `YYYY-MM-DD hh:mm:ss.mmm UTC`.
pub(crate) fn format_time_ms(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // u64 milliseconds end in year ~584 million, far inside i64 days.
    let (year, month, day) = depin_types::time::civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{:03} UTC ({ms} ms)",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_epoch_milliseconds_as_utc() {
        assert_eq!(format_time_ms(0), "1970-01-01 00:00:00.000 UTC (0 ms)");
        assert_eq!(format_time_ms(951_782_400_000), "2000-02-29 00:00:00.000 UTC (951782400000 ms)");
        assert_eq!(format_time_ms(1_700_000_000_123), "2023-11-14 22:13:20.123 UTC (1700000000123 ms)");
    }
}
