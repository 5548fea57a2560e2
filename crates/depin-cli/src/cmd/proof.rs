//! Verify saved state proofs offline against a trusted state root (`depin proof verify`).

use std::io::Read;
use std::path::Path;

use depin_ledger::authstate::{verify_proof, StateProof};
use depin_types::state_key::ACCOUNT_PREFIX;
use depin_types::{Address, Amount, Hash32};
use serde::Serialize;

use crate::cli::ProofCmd;
use crate::cmd::query::decode_account;
use crate::cmd::Ctx;
use crate::error::{CliError, CliResult, ExitCode};
use crate::output::Format;

/// The largest proof file read (a proof is a few KiB; the tree is at most 256 levels deep).
const PROOF_FILE_BYTES_MAX: u64 = 1024 * 1024;

/// What a verified proof shows.
#[derive(Serialize)]
struct Verified {
    valid: bool,
    root: Hash32,
    version: u64,
    key: String,
    value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    account: Option<ProvenAccount>,
}

/// The account a proof of an `a/…` key shows.
#[derive(Serialize)]
struct ProvenAccount {
    address: Address,
    /// False for a proof of absence: the account was never funded.
    exists: bool,
    balance: Amount,
    nonce: u64,
}

/// Run `depin proof …`.
pub fn run(ctx: &Ctx, cmd: ProofCmd) -> CliResult {
    match cmd {
        ProofCmd::Verify { file, root } => verify(ctx, &file, &root),
    }
}

fn rejected(message: impl std::fmt::Display) -> CliError {
    CliError::with_code(ExitCode::Rejected, message)
}

fn verify(ctx: &Ctx, file: &Path, root: &str) -> CliResult {
    let root: Hash32 = root
        .trim()
        .parse()
        .map_err(|e| CliError::with_code(ExitCode::Usage, format!("invalid --root {root:?}: {e}")))?;
    let text = read_bounded(file)?;
    let proof: StateProof =
        serde_json::from_str(&text).map_err(|e| rejected(format!("{} is not a state proof: {e}", file.display())))?;
    verify_proof(&root.0, &proof).map_err(|e| rejected(format!("the proof does not verify: {e}")))?;
    let account = match proof.key.strip_prefix(ACCOUNT_PREFIX) {
        None => None,
        Some(raw) => {
            // The proof is valid, so a malformed account key or value means the state itself
            // holds it: report it rather than guess.
            let address =
                Address::from_bytes(raw).map_err(|e| rejected(format!("the proven key is not an account key: {e}")))?;
            let state = match &proof.value {
                None => None,
                Some(bytes) => Some(decode_account(bytes).map_err(rejected)?),
            };
            Some(ProvenAccount {
                address,
                exists: state.is_some(),
                balance: state.map_or(Amount::ZERO, |a| a.balance),
                nonce: state.map_or(0, |a| a.nonce),
            })
        }
    };
    let out = Verified {
        valid: true,
        root,
        version: proof.version,
        key: hex::encode(&proof.key),
        value: proof.value.as_ref().map(hex::encode),
        account,
    };
    match ctx.output {
        Format::Json => println!("{}", serde_json::to_string_pretty(&out).map_err(CliError::fail)?),
        Format::Table => println!("{}", sentence(&out)),
    }
    Ok(())
}

/// `valid: key … = … at root …`.
fn sentence(v: &Verified) -> String {
    let (key, value) = match &v.account {
        Some(a) if a.exists => (format!("a/{}", a.address), format!("balance {}, nonce {}", a.balance, a.nonce)),
        Some(a) => (format!("a/{}", a.address), "absent (never funded: balance 0, nonce 0)".to_string()),
        None => (format!("0x{}", v.key), v.value.as_ref().map_or_else(|| "absent".to_string(), |h| format!("0x{h}"))),
    };
    format!("valid: key {key} = {value} at root {} (height {})", v.root, v.version)
}

/// Read a file of at most [`PROOF_FILE_BYTES_MAX`] bytes.
fn read_bounded(path: &Path) -> CliResult<String> {
    let cannot = |e: std::io::Error| CliError::fail(format!("cannot read {}: {e}", path.display()));
    let f = std::fs::File::open(path).map_err(cannot)?;
    let mut text = String::new();
    f.take(PROOF_FILE_BYTES_MAX + 1).read_to_string(&mut text).map_err(cannot)?;
    if text.len() as u64 > PROOF_FILE_BYTES_MAX {
        return Err(rejected(format!(
            "{} is larger than {PROOF_FILE_BYTES_MAX} bytes: not a state proof",
            path.display()
        )));
    }
    Ok(text)
}
