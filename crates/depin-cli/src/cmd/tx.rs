//! Sign transactions with a key of the home's keystore, submit them, and report their receipts.

use depin_keystore::{KeyFile, KeystoreError};
use depin_types::{Amount, Hash32, Receipt, RejectReason, TxBody, TxContent, TxOutcome};
use serde::Deserialize;

use crate::cli::{TxCmd, TxCommon};
use crate::client::Client;
use crate::cmd::keys::{not_found_hint, resolve_address};
use crate::cmd::{password, status, Ctx};
use crate::error::{CliError, CliResult, ExitCode};
use crate::output;

/// How long the node is asked to wait for the block that includes a submitted transaction.
/// Below the client's 60 s request timeout, so a slow block is reported as still pending.
pub(crate) const WAIT_TIMEOUT_MS: u64 = 30_000;

/// The key that `depin init --dev` and `depin up --dev` create, unencrypted on purpose.
pub(crate) const DEV_KEY_NAME: &str = "dev";

/// The node's answer about one transaction (`POST /api/v1/txs`, `GET /api/v1/txs/{id}`).
#[derive(Deserialize)]
pub(crate) struct TxAnswer {
    #[serde(default)]
    pub(crate) tx_id: Option<Hash32>,
    pub(crate) status: String,
    #[serde(default)]
    pub(crate) height: Option<u64>,
    #[serde(default)]
    pub(crate) index: Option<u32>,
    #[serde(default)]
    pub(crate) block_id: Option<Hash32>,
    #[serde(default)]
    pub(crate) receipt: Option<Receipt>,
}

/// The part of `GET /api/v1/accounts/{address}` needed to sign.
#[derive(Deserialize)]
pub(crate) struct AccountNonce {
    pub(crate) nonce: u64,
}

fn usage(message: impl std::fmt::Display) -> CliError {
    CliError::with_code(ExitCode::Usage, message)
}

/// Run `depin tx …`.
pub fn run(ctx: &Ctx, cmd: TxCmd) -> CliResult {
    match cmd {
        TxCmd::Transfer { from, to, amount, common } => {
            let amount = parse_amount("--amount", &amount, false)?;
            let to = resolve_address(ctx, "--to", &to)?;
            send(ctx, &from, TxBody::Transfer { to, amount }, &common)
        }
        TxCmd::Burn { from, amount, common } => {
            let amount = parse_amount("--amount", &amount, false)?;
            send(ctx, &from, TxBody::Burn { amount }, &common)
        }
        TxCmd::Show { id } => show(ctx, &id),
    }
}

pub(crate) fn parse_amount(flag: &str, text: &str, zero_ok: bool) -> CliResult<Amount> {
    let amount: Amount = text.trim().parse().map_err(|e| usage(format!("invalid {flag} {text:?}: {e}")))?;
    if amount == Amount::ZERO && !zero_ok {
        // Rule A-1 rejects it after charging the fee and the nonce: refuse before signing.
        return Err(usage(format!("{flag} must be greater than 0")));
    }
    Ok(amount)
}

/// Sign `body` with the key `from` and submit it (or print it, with `--dry-run`).
fn send(ctx: &Ctx, from: &str, body: TxBody, common: &TxCommon) -> CliResult {
    let fee = common.fee.as_deref().map(|f| parse_amount("--fee", f, true)).transpose()?;
    let file = ctx.keystore()?.get(from).map_err(not_found_hint)?;
    let sender = file.address();
    if let TxBody::Transfer { to, .. } = &body
        && *to == sender
    {
        // Rule A-2 rejects it after charging the fee and the nonce: refuse before signing.
        return Err(usage("--to is the sender's own account"));
    }
    // Plaintext keys need --insecure-plaintext (ADR 0009), except the home's `dev` key: `depin
    // init --dev` / `depin up --dev` create it unencrypted on purpose for local dev networks,
    // and `--dev` was the explicit opt-in then. Any other plaintext key is refused.
    let allow_plaintext = common.insecure_plaintext || file.name() == DEV_KEY_NAME;
    if !file.is_encrypted() && !allow_plaintext {
        return Err(KeystoreError::PlaintextRefused.into());
    }

    let client = ctx.client()?;
    let status = status::fetch(&client)?;
    let fee = fee.unwrap_or(status.min_fee);
    let nonce = match common.nonce {
        Some(nonce) => nonce,
        None => client.get::<AccountNonce>(&format!("/api/v1/accounts/{sender}"))?.nonce,
    };
    let key = unlock(&file, allow_plaintext)?;
    let content = TxContent { chain_id: status.chain_id.clone(), signer: key.public_key(), nonce, fee, body };
    eprintln!("{}", summary(&file, &content));
    let tx = content.sign(&key);
    drop(key);
    let id = tx.id();

    if common.dry_run {
        println!("{}", serde_json::to_string_pretty(&tx).map_err(CliError::fail)?);
        eprintln!("dry run: transaction {id} signed, not submitted");
        return Ok(());
    }
    let path = if common.no_wait {
        "/api/v1/txs".to_string()
    } else {
        format!("/api/v1/txs?wait=true&timeout_ms={WAIT_TIMEOUT_MS}")
    };
    let answer: serde_json::Value = client.post_json(&path, &tx).map_err(|e| {
        // The client's messages end with "(code, HTTP status)".
        if e.message.contains("(fee_too_low,") {
            e.hint("pass --fee with at least the minimum fee")
        } else {
            e
        }
    })?;
    let parsed = parse_answer(&answer)?;
    if let Some(got) = parsed.tx_id
        && got != id
    {
        return Err(CliError::fail(format!("the node answered about transaction {got}, not {id}")));
    }
    print_answer(ctx, &answer, &parsed, id);
    match parsed.status.as_str() {
        "committed" => committed_outcome(&parsed, id),
        "pending" if common.no_wait => Ok(()),
        "pending" => Err(CliError::fail(format!(
            "transaction {id} was accepted but not committed within {} s",
            WAIT_TIMEOUT_MS / 1000
        ))
        .hint(format!("it may still be committed: check with `depin tx show {id}`"))),
        other => Err(CliError::fail(format!("the node reports transaction {id} as {other:?}"))),
    }
}

/// Decrypt the key, asking for its password only if it is encrypted.
pub(crate) fn unlock(file: &KeyFile, allow_plaintext: bool) -> CliResult<depin_types::SecretKey> {
    if file.is_encrypted() {
        let pw = password(&format!("Password for key {:?}: ", file.name()), false)?;
        Ok(file.decrypt(Some(&pw), allow_plaintext)?)
    } else {
        Ok(file.decrypt(None, allow_plaintext)?)
    }
}

/// What is about to be signed, for stderr (ADR 0009: print before submitting).
pub(crate) fn summary(file: &KeyFile, c: &TxContent) -> String {
    let from = format!("{} ({})", file.name(), file.address());
    let action = match &c.body {
        TxBody::Transfer { to, amount } => format!("transfer {amount} from {from} to {to}"),
        TxBody::Burn { amount } => format!("burn {amount} from {from}"),
        TxBody::ReportEvidence { evidence } => format!(
            "report evidence against validator {} (view {}) from {from}",
            evidence.offender.address(),
            evidence.round().view
        ),
        other => format!("{} from {from}", other.kind().replace('_', " ")),
    };
    format!("signing: {action}; fee {}, nonce {}, chain {}", c.fee, c.nonce, c.chain_id)
}

pub(crate) fn parse_answer(answer: &serde_json::Value) -> CliResult<TxAnswer> {
    serde_json::from_value(answer.clone()).map_err(|e| CliError::fail(format!("unexpected answer from the node: {e}")))
}

/// Print the node's answer: as is with `-o json`, as rows otherwise.
pub(crate) fn print_answer(ctx: &Ctx, answer: &serde_json::Value, parsed: &TxAnswer, id: Hash32) {
    output::print(ctx.output, answer, |_| {
        let mut rows = vec![
            ("tx_id".to_string(), parsed.tx_id.unwrap_or(id).to_hex()),
            ("status".to_string(), parsed.status.clone()),
        ];
        if let Some(h) = parsed.height {
            rows.push(("height".to_string(), h.to_string()));
        }
        if let Some(i) = parsed.index {
            rows.push(("index".to_string(), i.to_string()));
        }
        if let Some(b) = parsed.block_id {
            rows.push(("block_id".to_string(), b.to_hex()));
        }
        if let Some(r) = &parsed.receipt {
            rows.push(("outcome".to_string(), outcome_text(&r.outcome)));
            rows.push(("fee_paid".to_string(), r.fee_paid.to_string()));
        }
        rows
    });
}

/// `applied`, or `rejected: <code> (<why>)`.
pub(crate) fn outcome_text(outcome: &TxOutcome) -> String {
    match outcome {
        TxOutcome::Applied => "applied".to_string(),
        TxOutcome::Rejected { reason } => format!("rejected: {} ({})", reason.code(), describe(reason)),
    }
}

/// Exit 0 for an applied transaction, 4 with the reason for a rejected one.
pub(crate) fn committed_outcome(parsed: &TxAnswer, id: Hash32) -> CliResult {
    let receipt = parsed
        .receipt
        .as_ref()
        .ok_or_else(|| CliError::fail("the node reports the transaction committed but sent no receipt"))?;
    match &receipt.outcome {
        TxOutcome::Applied => Ok(()),
        TxOutcome::Rejected { reason } => {
            let at = parsed.height.map(|h| format!(" in block {h}")).unwrap_or_default();
            let err = CliError::with_code(
                ExitCode::Rejected,
                format!("transaction {id} was committed{at} but rejected: {} ({})", reason.code(), describe(reason)),
            );
            Err(match (reason.charged(), receipt.fee_paid) {
                (false, _) => err,
                (true, Amount::ZERO) => err.hint("its nonce was used: the next transaction takes the next nonce"),
                (true, fee) => err.hint(format!("its fee ({fee}) was charged and its nonce used")),
            })
        }
    }
}

/// A reject reason in words (the code is the stable part; see docs/spec/state-machine.md).
pub(crate) fn describe(reason: &RejectReason) -> String {
    match reason {
        RejectReason::BadSignature => "the signature does not verify".into(),
        RejectReason::WrongChainId { expected } => format!("for another chain; this chain is {expected}"),
        RejectReason::BadNonce { expected, got } => format!("nonce {got}, but the next nonce is {expected}"),
        RejectReason::FeeTooLow { min_fee } => format!("the fee is under the minimum of {min_fee}"),
        RejectReason::CannotPayFee { balance } => format!("the balance {balance} cannot pay the fee"),
        RejectReason::ZeroAmount => "the amount is zero".into(),
        RejectReason::InsufficientFunds { balance, amount } => {
            format!("balance {balance} after the fee is less than the amount {amount}")
        }
        RejectReason::SelfTransfer => "sender and recipient are the same account".into(),
        RejectReason::BalanceOverflow => "the recipient's balance would overflow".into(),
        RejectReason::UnknownAccount => "the sender account does not exist".into(),
        RejectReason::InvalidEvidence { problem } => format!("the evidence proves no fault: {problem}"),
        RejectReason::EvidenceAlreadyRecorded => "this fault is already recorded".into(),
        RejectReason::BatchSize { max } => format!("the batch must hold 1 to {max} items"),
        RejectReason::BadPossessionProof { index } => {
            format!("asset {index}: the device key's proof of possession or the vendor attestation does not verify")
        }
        RejectReason::InvalidAsset { index, problem } => format!("asset {index}: {problem}"),
        RejectReason::LocationResolution { index, expected, got } => {
            format!("asset {index}: the location is an H3 cell of resolution {got}, the registry uses {expected}")
        }
        RejectReason::DeviceAlreadyRegistered { index, asset } => {
            format!("asset {index}: this device key is already registered as asset {asset}")
        }
        RejectReason::BondTooSmall { index, minimum } => format!("asset {index}: the bond is under the minimum of {minimum}"),
        RejectReason::UnknownVendor { index } => format!("asset {index}: the attesting vendor is not registered"),
        RejectReason::VendorRevoked { index } => format!("asset {index}: the vendor is revoked"),
        RejectReason::DeviceRevoked { index } => format!("asset {index}: the device key is revoked"),
        RejectReason::UnknownAsset { asset } => format!("no asset {asset}"),
        RejectReason::NotOwnerOrManager { asset } => format!("the signer neither owns nor manages asset {asset}"),
        RejectReason::ManagerNotAllowed { asset } => {
            format!("only the owner of asset {asset} may do this; a manager may not")
        }
        RejectReason::AssetDecommissioned { asset } => format!("asset {asset} is decommissioned"),
        RejectReason::ClassChange { asset } => format!("asset {asset} cannot change class"),
        RejectReason::InvalidTransition { asset, from, to } => {
            format!("asset {asset} cannot go from {} to {}", from.name(), to.name())
        }
        RejectReason::NotPrivileged => "only a validator may do this (until governance exists)".into(),
        RejectReason::VendorExists => "this vendor is already registered".into(),
        RejectReason::BadReportSignature { index } => {
            format!("telemetry report {index}: the device signature does not verify")
        }
        RejectReason::InvalidParams { problem } => format!("invalid parameters: {problem}"),
        RejectReason::InvalidMarketInput { problem } => format!("invalid price sheet or workload: {problem}"),
        RejectReason::InsufficientCredits { balance, amount } => {
            format!("{balance} credits held, {amount} needed: mint more with `depin credits mint`")
        }
        RejectReason::UnknownWorkload { id } => format!("no workload {id}"),
        RejectReason::UnknownLease { id } => format!("no lease {id}"),
        RejectReason::NotConsumer => "only the workload's consumer may do this".into(),
        RejectReason::NotProvider => "only the leased asset's owner or manager may do this".into(),
        RejectReason::AlreadyClosed => "the workload or lease is already closed (or already ending)".into(),
        RejectReason::MarketFull { limit } => format!("a market limit is reached: {limit}"),
    }
}

/// `depin tx show ID`.
fn show(ctx: &Ctx, id: &str) -> CliResult {
    let id: Hash32 = id.trim().parse().map_err(|e| usage(format!("invalid transaction id {id:?}: {e}")))?;
    let answer = fetch_tx(&ctx.client()?, id)?;
    let parsed = parse_answer(&answer)?;
    if parsed.status == "unknown" {
        return Err(CliError::with_code(ExitCode::NotFound, format!("transaction {id} is unknown to the node"))
            .hint("it was never submitted to this node, or it was dropped from the mempool"));
    }
    print_answer(ctx, &answer, &parsed, id);
    Ok(())
}

fn fetch_tx(client: &Client, id: Hash32) -> CliResult<serde_json::Value> {
    client.get(&format!("/api/v1/txs/{id}"))
}
