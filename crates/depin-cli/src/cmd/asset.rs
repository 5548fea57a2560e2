//! Register physical assets and manage them on the ledger (rules ), and hold what
//! the registry commands (`asset`, `vendor`, `device revoke`) share: choosing the signing key,
//! signing and submitting one transaction, reading registry parameters and assets, and parsing
//! ids, public keys and locations.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use depin_crypto::{did_key, parse_did_key};
use depin_keystore::{validate_name, KeyFile, Keystore, KeystoreError};
use depin_ledger::authstate::{verify_proof, StateProof};
use depin_types::asset::{
    Asset, AssetClass, AssetDescriptor, AssetId, AssetMetadata, AssetStatus, AttestationTier, Bond, BondState,
    Capacity, EnergyProfile, Mobility, OwnerStatus, Problem, Registration, RegistryParams, StatusReason,
    VendorAttestation, MAX_ASSETS_PER_TX, MAX_NAME_LEN, MAX_REGISTRATIONS_PER_TX,
};
use depin_types::geo::{Cell, LatLon, Location};
use depin_types::{
    registry_key, Address, Amount, Hash32, PublicKey, RejectReason, Scheme, SecretKey, Transaction, TxBody, TxContent,
    TxOutcome,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::cli::{
    AssetCmd, AssetListArgs, AssetMoveArgs, AssetRegisterArgs, AssetRegisterFleetArgs, AssetTxArgs, AssetUpdateArgs,
    EnergyArgs, TxCommon,
};
use crate::client::Client;
use crate::cmd::keys::{not_found_hint, resolve_address};
use crate::cmd::status::{self, NodeStatus};
use crate::cmd::tx::{
    committed_outcome, describe, parse_amount, parse_answer, print_answer, summary, unlock, AccountNonce, TxAnswer,
    DEV_KEY_NAME, WAIT_TIMEOUT_MS,
};
use crate::cmd::{password, Ctx};
use crate::error::{CliError, CliResult, ExitCode};
use crate::output::{self, Format};

/// Hex digits of an asset id shown in the `asset list` table (without `--wide`).
const SHORT_ID_LEN: usize = 16;
/// Most pages `asset list --all` follows.
const LIST_PAGES_MAX: usize = 1_000;
/// Largest fleet file read by `asset register-fleet`.
const FLEET_FILE_BYTES_MAX: u64 = 8 << 20;
/// Most assets in one fleet file.
const FLEET_ASSETS_MAX: usize = 10_000;
/// Already registered entries named when a fleet file is refused for them.
const FLEET_REFUSED_SHOWN: usize = 5;
/// Largest vendor attestation file read.
const ATTESTATION_FILE_BYTES_MAX: u64 = 64 << 10;
/// Largest asset record accepted in a proof (a hybrid device key is about 2 KB; names, models
/// and capacity lists are bounded far below this).
const ASSET_VALUE_BYTES_MAX: usize = 64 << 10;
/// Largest expected draw of an energy profile, in watts (rule R-2; as the state machine checks).
const DRAW_W_MAX: u64 = 10_000_000;

pub(crate) fn usage(message: impl std::fmt::Display) -> CliError {
    CliError::with_code(ExitCode::Usage, message)
}

// ---------------------------------------------------------------------------------------------
// Signing and submitting (shared with `vendor` and `device revoke`)
// ---------------------------------------------------------------------------------------------

/// Which key signs a transaction.
#[derive(Clone, Copy, Debug)]
pub(crate) enum SignWith<'a> {
    /// A key of the home's keystore, by name or address; `None`: the home's only key.
    Key(Option<&'a str>),
    /// The home's node key (a validator key).
    Node,
}

/// The key file that will sign, checked against the plaintext rule, not yet unlocked.
pub(crate) struct SignerFile {
    file: KeyFile,
    allow_plaintext: bool,
    is_node: bool,
}

impl SignerFile {
    /// Find the signing key file. A plaintext key of the keystore is refused unless it is the
    /// `dev` key or `--insecure-plaintext` was given (ADR 0009); the node's own key may be
    /// plaintext (a dev home's is), as `depin up` reads it (`depin_node::read_node_key`).
    pub(crate) fn open(ctx: &Ctx, with: SignWith<'_>, insecure_plaintext: bool) -> CliResult<SignerFile> {
        match with {
            SignWith::Node => {
                let path = ctx.home.node_key();
                let file = KeyFile::read(&path).map_err(|e| match e {
                    KeystoreError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound => {
                        CliError::with_code(
                            ExitCode::NotFound,
                            format!("this home has no node key ({})", path.display()),
                        )
                        .hint("--as-node signs with the node key of --home / DEPIN_HOME: run it on a validator's home")
                    }
                    e => e.into(),
                })?;
                Ok(SignerFile { file, allow_plaintext: true, is_node: true })
            }
            SignWith::Key(from) => {
                let ks = ctx.keystore()?;
                let file = match from {
                    Some(name) => ks.get(name).map_err(not_found_hint)?,
                    None => only_key(&ks)?,
                };
                let allow_plaintext = insecure_plaintext || file.name() == DEV_KEY_NAME;
                if !file.is_encrypted() && !allow_plaintext {
                    return Err(KeystoreError::PlaintextRefused.into());
                }
                Ok(SignerFile { file, allow_plaintext, is_node: false })
            }
        }
    }

    /// The signing account.
    pub(crate) fn address(&self) -> Address {
        self.file.address()
    }

    /// Decrypt the key (a password from DEPIN_KEY_PASSWORD or a prompt, if it is encrypted).
    fn unlock(&self) -> CliResult<SecretKey> {
        unlock(&self.file, self.allow_plaintext)
    }
}

/// The home's only key, for commands run without `--from`.
fn only_key(ks: &Keystore) -> CliResult<KeyFile> {
    let mut keys = ks.list()?;
    match keys.len() {
        1 => Ok(keys.remove(0)),
        0 => Err(CliError::with_code(ExitCode::NotFound, "this home has no keys to sign with")
            .hint("create one with `depin keys new NAME`, or point at another home with --home")),
        _ => {
            let names: Vec<&str> = keys.iter().map(KeyFile::name).collect();
            Err(usage(format!("this home has several keys ({}): pass --from KEY", names.join(", "))))
        }
    }
}

/// A node to send to, with what signing needs from it (chain id, minimum fee).
pub(crate) struct Session {
    pub(crate) client: Client,
    pub(crate) status: NodeStatus,
    signer: SignerFile,
    fee: Amount,
}

/// One extra line of a transaction command's output: JSON key, JSON value, table text.
pub(crate) type Extra = (&'static str, Value, String);

/// A submitted transaction and the node's answer.
pub(crate) struct Submitted {
    answer: Value,
    parsed: TxAnswer,
    id: Hash32,
}

impl Session {
    /// Connect to the node and fix the fee (`--fee`, else the chain's minimum). The fee is
    /// parsed before the node is asked anything.
    pub(crate) fn open(ctx: &Ctx, signer: SignerFile, common: &TxCommon) -> CliResult<Session> {
        let fee = common.fee.as_deref().map(|f| parse_amount("--fee", f, true)).transpose()?;
        let client = ctx.client()?;
        let status = status::fetch(&client)?;
        let fee = fee.unwrap_or(status.min_fee);
        Ok(Session { client, status, signer, fee })
    }

    /// The chain the node runs.
    pub(crate) fn chain_id(&self) -> &str {
        &self.status.chain_id
    }

    /// The signing account.
    pub(crate) fn signer(&self) -> Address {
        self.signer.address()
    }

    /// The nonce to sign with: `--nonce`, else the account's next nonce.
    fn nonce(&self, common: &TxCommon) -> CliResult<u64> {
        match common.nonce {
            Some(nonce) => Ok(nonce),
            None => Ok(self.client.get::<AccountNonce>(&format!("/api/v1/accounts/{}", self.signer()))?.nonce),
        }
    }

    /// Sign `body`, printing what is signed on stderr first (ADR 0009).
    fn sign(&self, key: &SecretKey, nonce: u64, body: TxBody) -> Transaction {
        let content =
            TxContent { chain_id: self.status.chain_id.clone(), signer: key.public_key(), nonce, fee: self.fee, body };
        eprintln!("{}", summary(&self.signer.file, &content));
        content.sign(key)
    }

    /// Submit a signed transaction; wait for its block unless `no_wait`.
    fn post(&self, tx: &Transaction, no_wait: bool) -> CliResult<Submitted> {
        let id = tx.id();
        let path = if no_wait {
            "/api/v1/txs".to_string()
        } else {
            format!("/api/v1/txs?wait=true&timeout_ms={WAIT_TIMEOUT_MS}")
        };
        let answer: Value = self.client.post_json(&path, tx).map_err(|e| {
            // The client's messages end with "(code, HTTP status)".
            if e.message.contains("(fee_too_low,") {
                e.hint("pass --fee with at least the minimum fee")
            } else if e.message.contains("(unknown_account,") && self.signer.is_node {
                let address = self.signer();
                e.hint(format!(
                    "the node key's account {address} has never been funded; fund it first, e.g. \
                     `depin tx transfer --from dev --to {address} --amount 1000000`"
                ))
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
        Ok(Submitted { answer, parsed, id })
    }

    /// The whole life of a one-transaction command: sign `body`, submit it (or print it with
    /// `--dry-run`), print `extras` (computed from the node's answer) and the receipt, and exit
    /// by its outcome.
    pub(crate) fn send(
        &self,
        ctx: &Ctx,
        body: TxBody,
        common: &TxCommon,
        extras: impl FnOnce(&TxAnswer) -> Vec<Extra>,
    ) -> CliResult {
        let nonce = self.nonce(common)?;
        let key = self.signer.unlock()?;
        let tx = self.sign(&key, nonce, body);
        drop(key);
        if common.dry_run {
            return print_dry_run(std::slice::from_ref(&tx));
        }
        let sent = self.post(&tx, common.no_wait)?;
        report(ctx, &sent, extras(&sent.parsed));
        outcome(&sent, common.no_wait)
    }
}

/// `--dry-run`: the signed transaction (or, for several, a JSON array of them) on stdout.
fn print_dry_run(txs: &[Transaction]) -> CliResult {
    let json = match txs {
        [one] => serde_json::to_string_pretty(one),
        all => serde_json::to_string_pretty(all),
    };
    println!("{}", json.map_err(CliError::fail)?);
    for tx in txs {
        eprintln!("dry run: transaction {} signed, not submitted", tx.id());
    }
    Ok(())
}

/// Print `extras` and the node's answer: one JSON document, or the extra rows then the
/// transaction's rows.
fn report(ctx: &Ctx, sent: &Submitted, extras: Vec<Extra>) {
    let mut merged = serde_json::Map::new();
    let mut rows = Vec::new();
    for (key, value, text) in extras {
        merged.insert(key.to_string(), value);
        rows.push((key.to_string(), text));
    }
    if let Value::Object(fields) = &sent.answer {
        merged.extend(fields.clone());
    }
    if ctx.output == Format::Table && !rows.is_empty() {
        output::print(Format::Table, &(), |_| rows);
        println!();
    }
    print_answer(ctx, &Value::Object(merged), &sent.parsed, sent.id);
}

/// Exit 0 for an applied (or, with `--no-wait`, accepted) transaction, 4 with the reason for a
/// rejected one.
fn outcome(sent: &Submitted, no_wait: bool) -> CliResult {
    let id = sent.id;
    match sent.parsed.status.as_str() {
        "committed" => committed_outcome(&sent.parsed, id),
        "pending" if no_wait => Ok(()),
        "pending" => Err(CliError::fail(format!(
            "transaction {id} was accepted but not committed within {} s",
            WAIT_TIMEOUT_MS / 1000
        ))
        .hint(format!("it may still be committed: check with `depin tx show {id}`"))),
        other => Err(CliError::fail(format!("the node reports transaction {id} as {other:?}"))),
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing ids, keys, locations and descriptors (shared)
// ---------------------------------------------------------------------------------------------

/// An asset given as its id (64 hex digits) or its device's `did:key`.
pub(crate) fn parse_asset_id(text: &str) -> CliResult<AssetId> {
    let text = text.trim();
    if text.starts_with("did:") {
        let key = parse_did_key(text).map_err(|e| usage(format!("{text:?} is not a valid did:key: {e}")))?;
        return Ok(AssetId::of(&key));
    }
    text.parse().map_err(|_| {
        usage(format!("{text:?} is neither an asset id (64 hex digits) nor a did:key"))
            .hint("`depin asset list --wide` shows whole asset ids")
    })
}

/// A public key given as a `did:key`, as `SCHEME:HEX`, or (when `key_names`) as the name or
/// address of a key of the home's keystore. `what` names the argument in messages.
pub(crate) fn parse_public_key(ctx: &Ctx, what: &str, text: &str, key_names: bool) -> CliResult<PublicKey> {
    let text = text.trim();
    if text.starts_with("did:") {
        return parse_did_key(text).map_err(|e| usage(format!("{what} {text:?} is not a valid did:key: {e}")));
    }
    if text.contains(':') {
        return text.parse().map_err(|e| usage(format!("{what} {text:?} is not a public key: {e}")));
    }
    let expected = if key_names { "a did:key, SCHEME:HEX or a key name" } else { "a did:key or SCHEME:HEX" };
    if !key_names || validate_name(text).is_err() && !text.starts_with("depin1") {
        return Err(usage(format!("{what} {text:?} is not {expected}"))
            .hint("`depin device show FILE` prints a device key's did:key and public key"));
    }
    // Looking a name up must not create the keystore directory as a side effect.
    if ctx.home.keys().is_dir() {
        match ctx.keystore()?.get(text) {
            Ok(file) => return Ok(file.public_key().clone()),
            Err(KeystoreError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Err(CliError::with_code(ExitCode::NotFound, format!("{what} {text:?} is not {expected}: no key has this name"))
        .hint("`depin keys list` shows the keys of this home"))
}

/// The public key of a key file (no password needed).
pub(crate) fn read_public_key_file(path: &Path) -> CliResult<KeyFile> {
    KeyFile::read(path).map_err(|e| match e {
        KeystoreError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound => {
            CliError::with_code(ExitCode::NotFound, format!("no such file: {}", path.display()))
        }
        KeystoreError::Format(detail) => CliError::fail(format!("{} is not a key file: {detail}", path.display()))
            .hint("expected a file written by `depin device keygen` or `depin keys export`"),
        e => e.into(),
    })
}

/// A device key file that can prove possession (rule R-1: Ed25519 or hybrid).
pub(crate) fn read_device_key(path: &Path) -> CliResult<KeyFile> {
    let file = read_public_key_file(path)?;
    check_device_scheme(file.public_key())
        .map_err(|e| CliError::with_code(ExitCode::Usage, format!("device key {}: {}", path.display(), e.message)))?;
    Ok(file)
}

/// Rule R-1: only Ed25519 and hybrid device keys can prove possession.
pub(crate) fn check_device_scheme(key: &PublicKey) -> CliResult {
    match key.scheme() {
        Scheme::Ed25519 | Scheme::Hybrid => Ok(()),
        other => Err(usage(format!(
            "a {other} key cannot register an asset: a device proves possession with an ed25519 or hybrid key"
        ))
        .hint("generate one with `depin device keygen --scheme ed25519` (or hybrid)")),
    }
}

/// Decrypt a device key. One written with `device keygen --insecure-plaintext` is read without
/// a password: that flag was the explicit opt-in, for devices that start unattended.
pub(crate) fn unlock_device(file: &KeyFile, path: &Path) -> CliResult<SecretKey> {
    if file.is_encrypted() {
        let pw = password(&format!("Password for device key {}: ", path.display()), false)?;
        Ok(file.decrypt(Some(&pw), false)?)
    } else {
        Ok(file.decrypt(None, true)?)
    }
}

/// Rule R-2, checked before signing: a capacity for `class` from `key=value,…`.
fn parse_capacity(class: AssetClass, text: &str, flag: &str) -> CliResult<Capacity> {
    Capacity::parse(class, text).map_err(|problem| capacity_error(class, flag, &problem))
}

fn capacity_error(class: AssetClass, flag: &str, problem: &Problem) -> CliError {
    usage(format!("invalid {flag} for a {} asset: {problem}", class.name())).hint(format!(
        "{} capacity keys: {}",
        class.name(),
        class.capacity_keys()
    ))
}

/// Rule R-2, checked before signing: name and model.
fn metadata(name: Option<String>, model: Option<String>) -> CliResult<AssetMetadata> {
    let m = AssetMetadata { name: name.unwrap_or_default(), model: model.unwrap_or_default() };
    m.validate().map_err(|_| {
        usage(format!("the name and the model must each be at most {MAX_NAME_LEN} bytes, without control characters"))
    })?;
    Ok(m)
}

/// Rule R-2, checked before signing: an energy profile from `--energy-source` and `--draw-w`.
fn energy(args: &EnergyArgs) -> CliResult<Option<EnergyProfile>> {
    match (args.energy_source, args.draw_w) {
        (Some(source), Some(expected_draw_w)) => {
            Problem::range("draw_w", expected_draw_w.into(), 0, DRAW_W_MAX)
                .map_err(|p| usage(format!("--draw-w: {p}")))?;
            Ok(Some(EnergyProfile { source, expected_draw_w }))
        }
        (None, None) => Ok(None),
        // clap's `requires` pairs them; this is for callers that build EnergyArgs themselves.
        _ => Err(usage("--energy-source and --draw-w go together")),
    }
}

/// Check a location's syntax without knowing the registry's resolution yet (so a typo fails
/// before the node is asked).
fn check_location_syntax(flag: &str, text: &str) -> CliResult {
    let text = text.trim();
    let checked = if text.contains(',') { LatLon::parse(text).map(|_| ()) } else { Cell::parse(text).map(|_| ()) };
    checked.map_err(|e| usage(format!("invalid {flag} {text:?}: {e}")))
}

/// A location as a cell at the registry's resolution.
fn location_cell(flag: &str, text: &str, params: &RegistryParams) -> CliResult<Cell> {
    Location::parse(text, params.location_resolution)
        .map(Location::cell)
        .map_err(|e| usage(format!("invalid {flag} {:?}: {e}", text.trim())))
}

/// A vendor attestation file: `vendor` and `signature` (a [`VendorAttestation`]), and, as
/// `depin vendor attest` writes them, the chain and device it is for.
#[derive(Serialize, Deserialize)]
pub(crate) struct AttestationFile {
    pub(crate) vendor: PublicKey,
    pub(crate) signature: depin_types::Signature,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) chain_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) device_key: Option<PublicKey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) did: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) asset_id: Option<AssetId>,
}

fn read_attestation(path: &Path) -> CliResult<AttestationFile> {
    let text = read_bounded(path, ATTESTATION_FILE_BYTES_MAX)?;
    serde_json::from_str(&text).map_err(|e| {
        usage(format!("{} is not a vendor attestation: {e}", path.display()))
            .hint("expected a file written by `depin vendor attest`")
    })
}

/// Rule R-3, checked before signing: the attestation is the vendor's signature over this
/// device key on this chain.
fn check_attestation(
    path: &Path,
    a: &AttestationFile,
    chain_id: &str,
    device: &PublicKey,
) -> CliResult<VendorAttestation> {
    let wrong = |why: String| usage(format!("the vendor attestation {} {why}", path.display()));
    if let Some(c) = &a.chain_id
        && c != chain_id
    {
        return Err(wrong(format!("is for chain {c:?}, not {chain_id:?}")));
    }
    if let Some(d) = &a.device_key
        && d != device
    {
        return Err(wrong(format!("is for device {}, not {}", did_key(d), did_key(device))));
    }
    let attestation = VendorAttestation { vendor: a.vendor.clone(), signature: a.signature.clone() };
    let message = depin_types::asset::vendor_attestation_message(chain_id, device);
    if attestation.vendor.verify(&message, &attestation.signature).is_err() {
        return Err(wrong(format!("does not verify for device {} on chain {chain_id:?}", did_key(device))));
    }
    Ok(attestation)
}

/// Read a whole text file of at most `max_bytes`.
pub(crate) fn read_bounded(path: &Path, max_bytes: u64) -> CliResult<String> {
    let cannot = |e: io::Error| {
        let code = if e.kind() == io::ErrorKind::NotFound { ExitCode::NotFound } else { ExitCode::Failure };
        CliError::with_code(code, format!("cannot read {}: {e}", path.display()))
    };
    let f = std::fs::File::open(path).map_err(cannot)?;
    let mut text = String::new();
    f.take(max_bytes + 1).read_to_string(&mut text).map_err(cannot)?;
    if text.len() as u64 > max_bytes {
        return Err(usage(format!("{} is larger than {max_bytes} bytes", path.display())));
    }
    Ok(text)
}

// ---------------------------------------------------------------------------------------------
// Reading the registry from the node (shared)
// ---------------------------------------------------------------------------------------------

/// The registry parameters in force (`GET /api/v1/registry/params`).
pub(crate) fn fetch_params(client: &Client) -> CliResult<RegistryParams> {
    client.get("/api/v1/registry/params")
}

/// `GET /api/v1/assets/{id}`: the stored record with what the node derives from it.
pub(crate) struct AssetAnswer {
    /// The node's JSON, printed as is with `-o json`.
    json: Value,
    asset: Asset,
    extra: ViewExtra,
}

/// The members of an asset view beyond the stored record (mirror of `depin_node::AssetView`).
#[derive(Deserialize)]
struct ViewExtra {
    did: String,
    effective_status: AssetStatus,
    effective_reason: StatusReason,
    #[serde(default)]
    bond: Option<Bond>,
    height: u64,
    state_root: Hash32,
    #[serde(default)]
    proof: Option<StateProof>,
}

impl AssetAnswer {
    fn from_json(json: Value) -> CliResult<AssetAnswer> {
        let bad = |e: serde_json::Error| CliError::fail(format!("unexpected asset from the node: {e}"));
        let asset = serde_json::from_value(json.clone()).map_err(bad)?;
        let extra = serde_json::from_value(json.clone()).map_err(bad)?;
        Ok(AssetAnswer { json, asset, extra })
    }
}

fn fetch_asset(client: &Client, id: &AssetId, prove: bool) -> CliResult<AssetAnswer> {
    let path = format!("/api/v1/assets/{id}{}", if prove { "?prove=true" } else { "" });
    let answer = AssetAnswer::from_json(client.get(&path).map_err(asset_not_found_hint)?)?;
    if answer.asset.id != *id {
        return Err(CliError::fail(format!("the node answered about asset {}, not {id}", answer.asset.id)));
    }
    Ok(answer)
}

fn asset_not_found_hint(e: CliError) -> CliError {
    if e.exit_code == ExitCode::NotFound {
        e.hint("`depin asset list` shows the registered assets (--wide for whole ids)")
    } else {
        e
    }
}

/// Capacity as `key=value` text for tables: numbers and names as they are, lists in brackets,
/// a list entry's members joined by `:` (GPUs as `model:count`).
fn capacity_text(c: &Capacity) -> String {
    let value = serde_json::to_value(c).expect("invariant: capacities serialize");
    let Some(fields) = value.as_object().and_then(|o| o.values().next()).and_then(Value::as_object) else {
        return value.to_string();
    };
    let scalar = |v: &Value| match v {
        Value::String(s) => s.clone(),
        // Names before numbers, so GPUs read `h100:8` as in `--capacity`.
        Value::Object(o) => {
            let (names, numbers): (Vec<&Value>, Vec<&Value>) = o.values().partition(|x| x.is_string());
            names
                .into_iter()
                .chain(numbers)
                .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join(":")
        }
        other => other.to_string(),
    };
    fields
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| match v {
            Value::Array(items) => format!("{k}=[{}]", items.iter().map(scalar).collect::<Vec<_>>().join(",")),
            v => format!("{k}={}", scalar(v)),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn status_text(status: AssetStatus, reason: StatusReason) -> String {
    let reason = serde_json::to_value(reason).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    format!("{} ({reason})", status.name())
}

fn tier_text(tier: &AttestationTier) -> String {
    match tier {
        AttestationTier::SelfDeclared => "self-declared".to_string(),
        AttestationTier::VendorAttested { vendor } => format!("vendor-attested by {}", vendor.address()),
    }
}

fn bond_text(bond: Option<&Bond>) -> String {
    match bond {
        None => "returned".to_string(),
        Some(Bond { amount, state: BondState::Locked, .. }) => format!("{amount} (locked)"),
        Some(Bond { amount, state: BondState::Unbonding { release_height }, .. }) => {
            format!("{amount} (unbonding, returns at block {release_height})")
        }
    }
}

fn cell_text(cell: Cell) -> String {
    let c = cell.center();
    format!("{cell} (centre {:.6},{:.6})", c.lat(), c.lon())
}

// ---------------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------------

/// Run `depin asset …`.
pub fn run(ctx: &Ctx, cmd: AssetCmd) -> CliResult {
    match cmd {
        AssetCmd::Register(args) => register(ctx, args),
        AssetCmd::RegisterFleet(args) => register_fleet(ctx, args),
        AssetCmd::List(args) => list(ctx, &args),
        AssetCmd::Show { id, prove } => show(ctx, &id, prove),
        AssetCmd::Update(args) => update(ctx, args),
        AssetCmd::Move(args) => move_asset(ctx, args),
        AssetCmd::Activate { id, tx } => set_status(ctx, &id, OwnerStatus::Active, &tx),
        AssetCmd::Suspend { id, tx } => set_status(ctx, &id, OwnerStatus::Suspended, &tx),
        AssetCmd::Transfer { id, to, tx } => {
            let asset = parse_asset_id(&id)?;
            let to = resolve_address(ctx, "--to", &to)?;
            let session = open_session(ctx, &tx)?;
            if to == session.signer() {
                // Rule R-9 rejects it after charging the fee and the nonce: refuse before signing.
                return Err(usage("--to is the signer's own account"));
            }
            session.send(ctx, TxBody::TransferAsset { asset, to }, &tx.common, |_| {
                vec![("asset_id", json!(asset), asset.to_string()), ("new_owner", json!(to), to.to_string())]
            })
        }
        AssetCmd::SetManager { ids, manager, clear, tx } => {
            if ids.len() > MAX_ASSETS_PER_TX {
                return Err(usage(format!("at most {MAX_ASSETS_PER_TX} assets per transaction; got {}", ids.len())));
            }
            let assets = ids.iter().map(|i| parse_asset_id(i)).collect::<CliResult<Vec<_>>>()?;
            let manager = match (manager, clear) {
                (Some(m), false) => Some(resolve_address(ctx, "--manager", &m)?),
                (None, true) => None,
                _ => return Err(usage("give either --manager ADDR or --clear")),
            };
            let session = open_session(ctx, &tx)?;
            let n = assets.len();
            session.send(ctx, TxBody::SetManager { assets, manager }, &tx.common, |_| {
                vec![
                    ("n_assets", json!(n), n.to_string()),
                    (
                        "manager",
                        json!(manager),
                        manager.map_or_else(|| "none (cleared)".to_string(), |m| m.to_string()),
                    ),
                ]
            })
        }
        AssetCmd::Decommission { id, tx } => decommission(ctx, &id, &tx),
        AssetCmd::Health { id, epochs } => super::health::run(ctx, &id, epochs),
    }
}

fn open_session(ctx: &Ctx, tx: &AssetTxArgs) -> CliResult<Session> {
    let signer = SignerFile::open(ctx, SignWith::Key(tx.from.as_deref()), tx.common.insecure_plaintext)?;
    Session::open(ctx, signer, &tx.common)
}

/// What an asset registration declares, checked offline; the cell, bond and attestation are
/// settled once the registry's parameters and the chain id are known ([`Draft::settle`]).
struct Draft {
    /// Where it came from, for messages: empty for `asset register`, `FILE: asset N (name)` for
    /// an entry of a fleet file.
    origin: String,
    /// Its entry in the fleet file (1-based); 0 for `asset register`.
    entry: usize,
    /// What the location and bond are called there (flags, or fleet file keys).
    location_flag: &'static str,
    bond_flag: &'static str,
    capacity: Capacity,
    location: String,
    mobility: Mobility,
    energy: Option<EnergyProfile>,
    metadata: AssetMetadata,
    bond: Option<Amount>,
    attestation: Option<(PathBuf, AttestationFile)>,
    device_path: PathBuf,
    device: KeyFile,
}

/// A registration ready to sign.
struct Settled {
    descriptor: AssetDescriptor,
    bond: Amount,
    attestation: Option<VendorAttestation>,
}

impl Draft {
    fn id(&self) -> AssetId {
        AssetId::of(self.device.public_key())
    }

    /// Rules, checked before signing: the location at the registry's resolution,
    /// a bond of at least the class's bond, an attestation that verifies.
    fn settle(&self, params: &RegistryParams, chain_id: &str) -> CliResult<Settled> {
        let at = |e: CliError| {
            if self.origin.is_empty() {
                e
            } else {
                CliError { message: format!("{}: {}", self.origin, e.message), ..e }
            }
        };
        let class = self.capacity.class();
        let location = location_cell(self.location_flag, &self.location, params).map_err(at)?;
        let minimum = params.bond(class);
        let bond = self.bond.unwrap_or(minimum);
        if bond < minimum {
            return Err(at(usage(format!(
                "{} {bond} is under the {} bond of {minimum}",
                self.bond_flag,
                class.name()
            ))));
        }
        let attestation = match &self.attestation {
            None => None,
            Some((path, a)) => Some(check_attestation(path, a, chain_id, self.device.public_key()).map_err(at)?),
        };
        let descriptor = AssetDescriptor {
            capacity: self.capacity.clone(),
            location,
            mobility: self.mobility,
            energy: self.energy,
            metadata: self.metadata.clone(),
        };
        Ok(Settled { descriptor, bond, attestation })
    }
}

fn register(ctx: &Ctx, args: AssetRegisterArgs) -> CliResult {
    // Everything that can be checked offline is, before any key is read or the node is asked.
    let capacity = parse_capacity(args.class, &args.capacity, "--capacity")?;
    let metadata = metadata(args.name, args.model)?;
    let energy = energy(&args.energy)?;
    check_location_syntax("--location", &args.location)?;
    let bond = args.bond.as_deref().map(|b| parse_amount("--bond", b, false)).transpose()?;
    let attestation = match &args.vendor_attestation {
        Some(path) => Some((path.clone(), read_attestation(path)?)),
        None => None,
    };
    let device = read_device_key(&args.device_key)?;
    let draft = Draft {
        origin: String::new(),
        entry: 0,
        location_flag: "--location",
        bond_flag: "--bond",
        capacity,
        location: args.location.clone(),
        mobility: if args.mobile { Mobility::Mobile } else { Mobility::Fixed },
        energy,
        metadata,
        bond,
        attestation,
        device_path: args.device_key.clone(),
        device,
    };
    let session = open_session(ctx, &args.tx)?;
    let params = fetch_params(&session.client)?;
    let settled = draft.settle(&params, session.chain_id())?;
    let id = draft.id();
    refuse_if_registered(&session.client, &id)?;

    let device_key = unlock_device(&draft.device, &draft.device_path)?;
    let registration = Registration::sign(
        session.chain_id(),
        &session.signer(),
        &device_key,
        settled.descriptor,
        settled.bond,
        settled.attestation,
    );
    drop(device_key);
    let did = did_key(&registration.device_key);
    let class = draft.capacity.class();
    let cell = registration.descriptor.location;
    let bond = registration.bond;
    let tier = match &registration.attestation {
        None => AttestationTier::SelfDeclared,
        Some(a) => AttestationTier::VendorAttested { vendor: a.vendor.clone() },
    };
    eprintln!("registering {} asset {id} ({did}) at cell {cell} with a bond of {bond}", class.name());
    let body = TxBody::RegisterAssets { assets: vec![registration] };
    session.send(ctx, body, &args.tx.common, |_| {
        vec![
            ("asset_id", json!(id), id.to_string()),
            ("did", json!(did), did.clone()),
            ("class", json!(class), class.name().to_string()),
            ("location", json!(cell), cell.to_string()),
            ("bond", json!(bond), bond.to_string()),
            ("tier", json!(tier), tier_text(&tier)),
        ]
    })
}

/// Rule R-1 rejects a second registration of a device key after charging the fee: refuse
/// before signing when the node already knows the asset.
fn refuse_if_registered(client: &Client, id: &AssetId) -> CliResult {
    if is_registered(client, id)? {
        return Err(CliError::with_code(
            ExitCode::Rejected,
            format!("this device key is already registered as asset {id}"),
        )
        .hint(format!("`depin asset show {id}` shows it")));
    }
    Ok(())
}

/// Whether the node knows asset `id`.
fn is_registered(client: &Client, id: &AssetId) -> CliResult<bool> {
    match client.get::<Value>(&format!("/api/v1/assets/{id}")) {
        Ok(_) => Ok(true),
        Err(e) if e.exit_code == ExitCode::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// One entry of a fleet file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FleetAsset {
    class: String,
    device_key: PathBuf,
    location: String,
    capacity: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    mobile: bool,
    #[serde(default)]
    energy_source: Option<String>,
    #[serde(default)]
    draw_w: Option<u32>,
    #[serde(default)]
    bond: Option<String>,
    #[serde(default)]
    vendor_attestation: Option<PathBuf>,
}

/// A fleet file: `[[asset]]` tables.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FleetFile {
    #[serde(default, rename = "asset")]
    assets: Vec<FleetAsset>,
}

/// The outcome of one batch of a fleet, as printed.
#[derive(Serialize)]
struct BatchLine {
    batch: usize,
    /// The file entries (1-based) of its first and last asset.
    first_entry: usize,
    last_entry: usize,
    assets: Vec<AssetId>,
    tx_id: Hash32,
    status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    height: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    outcome: Option<String>,
}

fn fleet_draft(base: &Path, entry: usize, origin: String, a: FleetAsset) -> CliResult<Draft> {
    let at = |e: CliError| CliError { message: format!("{origin}: {}", e.message), ..e };
    let class = AssetClass::parse(a.class.trim()).ok_or_else(|| {
        let names: Vec<&str> = AssetClass::ALL.iter().map(|c| c.name()).collect();
        usage(format!("{origin}: unknown class {:?}; the classes are {}", a.class, names.join(", ")))
    })?;
    let capacity = parse_capacity(class, &a.capacity, "capacity").map_err(at)?;
    let metadata = metadata(a.name, a.model).map_err(at)?;
    let source = match a.energy_source.as_deref() {
        None => None,
        Some(s) => {
            Some(depin_types::asset::ENERGY_SOURCES.iter().find(|(n, _)| *n == s.trim()).map(|(_, e)| *e).ok_or_else(
                || {
                    let names: Vec<&str> = depin_types::asset::ENERGY_SOURCES.iter().map(|(n, _)| *n).collect();
                    usage(format!("{origin}: unknown energy_source {s:?}; the sources are {}", names.join(", ")))
                },
            )?)
        }
    };
    if source.is_some() != a.draw_w.is_some() {
        return Err(usage(format!("{origin}: energy_source and draw_w go together")));
    }
    let energy = energy(&EnergyArgs { energy_source: source, draw_w: a.draw_w }).map_err(at)?;
    check_location_syntax("location", &a.location).map_err(at)?;
    let bond = a.bond.as_deref().map(|b| parse_amount("bond", b, false)).transpose().map_err(at)?;
    let attestation = match a.vendor_attestation {
        Some(p) => {
            let path = base.join(p);
            let file = read_attestation(&path).map_err(at)?;
            Some((path, file))
        }
        None => None,
    };
    let device_path = base.join(&a.device_key);
    let device = read_device_key(&device_path).map_err(at)?;
    Ok(Draft {
        origin,
        entry,
        location_flag: "location",
        bond_flag: "bond",
        capacity,
        location: a.location,
        mobility: if a.mobile { Mobility::Mobile } else { Mobility::Fixed },
        energy,
        metadata,
        bond,
        attestation,
        device_path,
        device,
    })
}

fn register_fleet(ctx: &Ctx, args: AssetRegisterFleetArgs) -> CliResult {
    let path = &args.file;
    let text = read_bounded(path, FLEET_FILE_BYTES_MAX)?;
    let fleet: FleetFile = toml::from_str(&text).map_err(|e| {
        usage(format!("{} is not a fleet file: {e}", path.display()))
            .hint("`depin asset register-fleet --help` shows the format")
    })?;
    if fleet.assets.is_empty() {
        return Err(usage(format!("{} lists no [[asset]]", path.display())));
    }
    if fleet.assets.len() > FLEET_ASSETS_MAX {
        return Err(usage(format!(
            "{} lists {} assets; at most {FLEET_ASSETS_MAX} per file",
            path.display(),
            fleet.assets.len()
        )));
    }
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut drafts = Vec::with_capacity(fleet.assets.len());
    for (i, a) in fleet.assets.into_iter().enumerate() {
        let origin = match &a.name {
            Some(name) => format!("{}: asset {} ({name})", path.display(), i + 1),
            None => format!("{}: asset {}", path.display(), i + 1),
        };
        drafts.push(fleet_draft(&base, i + 1, origin, a)?);
    }
    for (i, d) in drafts.iter().enumerate() {
        if let Some(j) = drafts[..i].iter().position(|o| o.device.public_key() == d.device.public_key()) {
            return Err(usage(format!("{}: the same device key as asset {}", d.origin, j + 1)));
        }
    }

    let session = open_session(ctx, &args.tx)?;
    let params = fetch_params(&session.client)?;
    let settled = drafts.iter().map(|d| d.settle(&params, session.chain_id())).collect::<CliResult<Vec<_>>>()?;
    // Rule R-1 would reject a whole batch for one device registered before (after charging
    // the fee), so registered devices are found first: refused, or left out when asked.
    let mut registered = Vec::new();
    for d in &drafts {
        registered.push(is_registered(&session.client, &d.id())?);
    }
    let n_registered = registered.iter().filter(|r| **r).count();
    if n_registered > 0 && !args.skip_registered {
        let shown: Vec<String> = drafts
            .iter()
            .zip(&registered)
            .filter(|(_, r)| **r)
            .take(FLEET_REFUSED_SHOWN)
            .map(|(d, _)| format!("{} = {}", d.origin, d.id()))
            .collect();
        let more = if n_registered > shown.len() {
            format!(" and {} more", n_registered - shown.len())
        } else {
            String::new()
        };
        return Err(CliError::with_code(
            ExitCode::Rejected,
            format!("{n_registered} of the file's devices are already registered: {}{more}", shown.join("; ")),
        )
        .hint("pass --skip-registered to register only the others"));
    }
    let (drafts, settled): (Vec<Draft>, Vec<Settled>) =
        drafts.into_iter().zip(settled).zip(registered).filter(|(_, r)| !r).map(|(pair, _)| pair).unzip();
    if n_registered > 0 {
        eprintln!("leaving out {n_registered} assets already registered");
    }
    if drafts.is_empty() {
        eprintln!("nothing to register: every asset of {} is registered", path.display());
        if ctx.output == Format::Json {
            output::print(Format::Json, &json!({ "batches": [] }), |_| Vec::new());
        }
        return Ok(());
    }
    let mut nonce = session.nonce(&args.tx.common)?;
    let key = session.signer.unlock()?;
    let owner = session.signer();
    let mut registrations = Vec::with_capacity(drafts.len());
    for (d, s) in drafts.iter().zip(settled) {
        let device_key = unlock_device(&d.device, &d.device_path)?;
        registrations.push(Registration::sign(
            session.chain_id(),
            &owner,
            &device_key,
            s.descriptor,
            s.bond,
            s.attestation,
        ));
    }
    let n_batches = registrations.len().div_ceil(MAX_REGISTRATIONS_PER_TX);
    eprintln!("registering {} assets in {n_batches} transaction(s)", registrations.len());

    let mut txs = Vec::with_capacity(n_batches);
    for chunk in registrations.chunks(MAX_REGISTRATIONS_PER_TX) {
        let ids: Vec<AssetId> = chunk.iter().map(|r| AssetId::of(&r.device_key)).collect();
        txs.push((session.sign(&key, nonce, TxBody::RegisterAssets { assets: chunk.to_vec() }), ids));
        nonce += 1;
    }
    drop(key);
    if args.tx.common.dry_run {
        return print_dry_run(&txs.into_iter().map(|(tx, _)| tx).collect::<Vec<_>>());
    }

    let no_wait = args.tx.common.no_wait;
    let mut lines: Vec<BatchLine> = Vec::with_capacity(n_batches);
    let mut failure = None;
    for (b, (tx, ids)) in txs.into_iter().enumerate() {
        let first = b * MAX_REGISTRATIONS_PER_TX;
        let last = first + ids.len();
        let (first_entry, last_entry) = (drafts[first].entry, drafts[last - 1].entry);
        let result = session.post(&tx, no_wait).map_err(|e| CliError {
            message: format!("batch {} (entries {first_entry}-{last_entry}) was not accepted: {}", b + 1, e.message),
            ..e
        });
        let sent = match result {
            Ok(sent) => sent,
            Err(e) => {
                failure = Some(e);
                break;
            }
        };
        let receipt = sent.parsed.receipt.as_ref();
        let line = BatchLine {
            batch: b + 1,
            first_entry,
            last_entry,
            assets: ids,
            tx_id: sent.id,
            status: sent.parsed.status.clone(),
            height: sent.parsed.height,
            outcome: receipt.map(|r| crate::cmd::tx::outcome_text(&r.outcome)),
        };
        if ctx.output == Format::Table {
            let at = line.height.map(|h| format!(" in block {h}")).unwrap_or_default();
            let outcome = line.outcome.as_deref().map(|o| format!(": {o}")).unwrap_or_default();
            println!(
                "batch {}/{n_batches}: {} assets (entries {}-{}), tx {} {}{at}{outcome}",
                line.batch,
                line.assets.len(),
                line.first_entry,
                line.last_entry,
                line.tx_id,
                line.status
            );
        }
        lines.push(line);
        let result = match receipt.map(|r| &r.outcome) {
            Some(TxOutcome::Rejected { reason }) => {
                Err(batch_rejected(reason, b, &drafts[first..last], sent.parsed.height))
            }
            _ => outcome(&sent, no_wait),
        };
        if let Err(e) = result {
            failure = Some(e);
            break;
        }
    }
    if ctx.output == Format::Json {
        output::print(Format::Json, &json!({ "batches": lines }), |_| Vec::new());
    }
    let n_applied = lines.iter().filter(|l| l.outcome.as_deref() == Some("applied")).count();
    match failure {
        None => Ok(()),
        Some(e) if n_applied > 0 => Err(e.hint(format!(
            "the {n_applied} batch(es) before it are registered: fix the file and run it again with --skip-registered"
        ))),
        Some(e) => Err(e),
    }
}

/// A rejected fleet batch: its reason, with the asset it names mapped to its entry in the file.
fn batch_rejected(reason: &RejectReason, batch: usize, drafts: &[Draft], height: Option<u64>) -> CliError {
    let index = match reason {
        RejectReason::BadPossessionProof { index }
        | RejectReason::InvalidAsset { index, .. }
        | RejectReason::LocationResolution { index, .. }
        | RejectReason::DeviceAlreadyRegistered { index, .. }
        | RejectReason::BondTooSmall { index, .. }
        | RejectReason::UnknownVendor { index }
        | RejectReason::VendorRevoked { index }
        | RejectReason::DeviceRevoked { index } => Some(*index as usize),
        _ => None,
    };
    let which = index.and_then(|i| drafts.get(i)).map(|d| format!("; it concerns {}", d.origin)).unwrap_or_default();
    let at = height.map(|h| format!(" in block {h}")).unwrap_or_default();
    CliError::with_code(
        ExitCode::Rejected,
        format!("batch {} was committed{at} but rejected: {} ({}){which}", batch + 1, reason.code(), describe(reason)),
    )
}

/// `GET /api/v1/assets` (mirror of `depin_node::AssetPage`); near queries answer without a cursor.
#[derive(Deserialize, Serialize)]
struct AssetPage {
    assets: Vec<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

fn list(ctx: &Ctx, args: &AssetListArgs) -> CliResult {
    let mut query = Vec::new();
    let mut again = Vec::new();
    if let Some(o) = &args.owner {
        let a = resolve_address(ctx, "--owner", o)?;
        query.push(format!("owner={a}"));
        again.push(format!("--owner {a}"));
    }
    if let Some(m) = &args.manager {
        let a = resolve_address(ctx, "--manager", m)?;
        query.push(format!("manager={a}"));
        again.push(format!("--manager {a}"));
    }
    if let Some(v) = &args.vendor {
        // The node filters by the vendor key's address.
        let a = if v.trim().starts_with("depin1") {
            resolve_address(ctx, "--vendor", v)?
        } else {
            parse_public_key(ctx, "--vendor", v, true)?.address()
        };
        query.push(format!("vendor={a}"));
        again.push(format!("--vendor {a}"));
    }
    if let Some(c) = args.class {
        query.push(format!("class={}", c.name()));
        again.push(format!("--class {}", c.name()));
    }
    if let Some(s) = args.status {
        query.push(format!("status={}", s.name()));
        again.push(format!("--status {}", s.name()));
    }
    if let Some(c) = &args.cell {
        let cell = Cell::parse(c.trim()).map_err(|e| usage(format!("invalid --cell {c:?}: {e}")))?;
        query.push(format!("cell={cell}"));
        again.push(format!("--cell {cell}"));
    }
    if let (Some(near), Some(radius_km)) = (&args.near, args.radius_km) {
        let point = LatLon::parse(near.trim()).map_err(|e| usage(format!("invalid --near {near:?}: {e}")))?;
        if !(radius_km.is_finite() && radius_km > 0.0) {
            return Err(usage(format!("--radius-km must be a number above 0; got {radius_km}")));
        }
        query.push(format!("near={},{}", point.lat(), point.lon()));
        query.push(format!("radius_km={radius_km}"));
    }
    if let Some(l) = args.limit {
        query.push(format!("limit={l}"));
        again.push(format!("--limit {l}"));
    }
    if let Some(c) = &args.cursor
        && (c.is_empty() || !c.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return Err(usage(format!("invalid cursor {c:?}: use the one a previous page printed")));
    }

    let client = ctx.client()?;
    let mut cursor = args.cursor.clone();
    let mut assets = Vec::new();
    let mut pages = 0;
    let next_cursor = loop {
        let mut q = query.clone();
        if let Some(c) = &cursor {
            q.push(format!("cursor={c}"));
        }
        let path = if q.is_empty() { "/api/v1/assets".to_string() } else { format!("/api/v1/assets?{}", q.join("&")) };
        let page: AssetPage = client.get(&path)?;
        assets.extend(page.assets);
        pages += 1;
        match page.next_cursor {
            Some(c) if args.all && pages < LIST_PAGES_MAX => cursor = Some(c),
            next => break next,
        }
    };
    let page = AssetPage { assets, next_cursor };
    if ctx.output == Format::Json {
        output::print(Format::Json, &page, |_| Vec::new());
        return Ok(());
    }
    if page.assets.is_empty() {
        println!("no assets found");
    } else {
        let s = |v: &Value, k: &str| v[k].as_str().unwrap_or("").to_string();
        let near = args.near.is_some();
        let mut header = vec!["ID", "CLASS", "STATUS", "OWNER", "CELL", "NAME"];
        if near {
            // A near query answers nearest first, each with the distance of its cell's centre.
            header.push("DISTANCE");
        }
        output::print_list(Format::Table, &page.assets, &header, |a| {
            let id = s(a, "id");
            let id = if args.wide || id.len() <= SHORT_ID_LEN { id } else { format!("{}…", &id[..SHORT_ID_LEN]) };
            let status =
                a.get("effective_status").or(a.get("status")).and_then(Value::as_str).unwrap_or("").to_string();
            let mut row = vec![
                id,
                s(a, "class"),
                status,
                s(a, "owner"),
                s(a, "location"),
                a["metadata"]["name"].as_str().unwrap_or("").to_string(),
            ];
            if near {
                row.push(a["distance_m"].as_u64().map(|m| format!("{m} m")).unwrap_or_default());
            }
            row
        });
    }
    if let Some(c) = &page.next_cursor {
        let mut cmd = vec!["depin asset list".to_string()];
        cmd.extend(again);
        if args.wide {
            cmd.push("--wide".to_string());
        }
        cmd.push(format!("--cursor {c}"));
        println!("more: {}", cmd.join(" "));
    }
    Ok(())
}

fn show(ctx: &Ctx, id: &str, prove: bool) -> CliResult {
    let id = parse_asset_id(id)?;
    let answer = fetch_asset(&ctx.client()?, &id, prove)?;
    let mut json = answer.json.clone();
    if prove {
        let proof = answer
            .extra
            .proof
            .as_ref()
            .ok_or_else(|| CliError::fail("the node sent no proof").hint("is the node older than this CLI?"))?;
        check_asset_proof(proof, &id, answer.extra.state_root, &answer.asset)?;
        json["proof_verified"] = Value::Bool(true);
    }
    let (a, x) = (&answer.asset, &answer.extra);
    output::print(ctx.output, &json, |_| {
        let mut rows = vec![
            ("id".to_string(), a.id.to_string()),
            ("did".to_string(), x.did.clone()),
            ("class".to_string(), a.capacity.class().name().to_string()),
            ("status".to_string(), status_text(x.effective_status, x.effective_reason)),
        ];
        if (a.status, a.reason) != (x.effective_status, x.effective_reason) {
            rows.push(("recorded_status".to_string(), status_text(a.status, a.reason)));
        }
        rows.extend([
            ("owner".to_string(), a.owner.to_string()),
            ("manager".to_string(), a.manager.map_or_else(|| "none".to_string(), |m| m.to_string())),
            ("location".to_string(), cell_text(a.location)),
            ("mobility".to_string(), if a.mobility == Mobility::Mobile { "mobile" } else { "fixed" }.to_string()),
            ("locations".to_string(), format!("{} asserted", a.n_locations)),
            ("capacity".to_string(), capacity_text(&a.capacity)),
        ]);
        if let Some(e) = &a.energy {
            let source =
                serde_json::to_value(e.source).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
            rows.push(("energy".to_string(), format!("{source}, {} W expected", e.expected_draw_w)));
        }
        if !a.metadata.name.is_empty() {
            rows.push(("name".to_string(), a.metadata.name.clone()));
        }
        if !a.metadata.model.is_empty() {
            rows.push(("model".to_string(), a.metadata.model.clone()));
        }
        rows.extend([
            ("tier".to_string(), tier_text(&a.tier)),
            ("bond".to_string(), bond_text(x.bond.as_ref())),
            ("registered".to_string(), format!("block {}", a.registered_height)),
            ("status_since".to_string(), format!("block {}", a.status_height)),
            ("height".to_string(), x.height.to_string()),
            ("state_root".to_string(), x.state_root.to_hex()),
        ]);
        if prove {
            rows.push(("proof".to_string(), format!("verified against {}", x.state_root)));
        }
        rows
    });
    Ok(())
}

/// Check the node's proof of an asset record locally: it leads to the state root the node
/// reported, it is about this asset's state key, and it proves exactly the record shown.
fn check_asset_proof(proof: &StateProof, id: &AssetId, state_root: Hash32, shown: &Asset) -> CliResult {
    let rejected = |why: String| {
        CliError::with_code(ExitCode::Rejected, format!("the node's proof for asset {id} does not verify: {why}"))
    };
    verify_proof(&state_root.0, proof).map_err(|e| rejected(e.to_string()))?;
    if proof.key != registry_key::asset(id) {
        return Err(rejected("it is about another state key".into()));
    }
    let Some(bytes) = &proof.value else {
        return Err(rejected("it proves that the asset does not exist".into()));
    };
    let proven: Asset = depin_types::codec::decode_bounded(bytes, ASSET_VALUE_BYTES_MAX)
        .map_err(|e| rejected(format!("the value is not an asset record: {e}")))?;
    if proven != *shown {
        return Err(rejected("it proves another record than the one the node showed".into()));
    }
    Ok(())
}

fn update(ctx: &Ctx, args: AssetUpdateArgs) -> CliResult {
    let id = parse_asset_id(&args.id)?;
    let energy = energy(&args.energy)?;
    if args.name.is_none() && args.model.is_none() && args.capacity.is_none() && energy.is_none() {
        return Err(usage("nothing to change: give --name, --model, --capacity, or --energy-source with --draw-w"));
    }
    let session = open_session(ctx, &args.tx)?;
    let current = fetch_asset(&session.client, &id, false)?.asset;
    // Capacity keys depend on the class, which only the ledger knows; still checked before signing.
    let capacity =
        args.capacity.as_deref().map(|c| parse_capacity(current.capacity.class(), c, "--capacity")).transpose()?;
    let metadata = if args.name.is_some() || args.model.is_some() {
        // The ledger replaces name and model together: keep the one not given.
        Some(metadata(
            Some(args.name.unwrap_or_else(|| current.metadata.name.clone())),
            Some(args.model.unwrap_or_else(|| current.metadata.model.clone())),
        )?)
    } else {
        None
    };
    let mut changed = Vec::new();
    if let Some(m) = &metadata {
        changed.push(format!("name {:?}, model {:?}", m.name, m.model));
    }
    if let Some(c) = &capacity {
        changed.push(format!("capacity {}", capacity_text(c)));
    }
    if let Some(e) = &energy {
        changed.push(format!("energy {:?} {} W", e.source, e.expected_draw_w));
    }
    let body = TxBody::UpdateAsset { asset: id, capacity, energy, metadata };
    session.send(ctx, body, &args.tx.common, |_| {
        vec![("asset_id", json!(id), id.to_string()), ("changes", json!(changed), changed.join("; "))]
    })
}

fn move_asset(ctx: &Ctx, args: AssetMoveArgs) -> CliResult {
    let id = parse_asset_id(&args.id)?;
    check_location_syntax("--location", &args.location)?;
    let session = open_session(ctx, &args.tx)?;
    let params = fetch_params(&session.client)?;
    let location = location_cell("--location", &args.location, &params)?;
    let mobility = match (args.mobile, args.fixed) {
        (true, _) => Mobility::Mobile,
        (_, true) => Mobility::Fixed,
        // Keep what is recorded.
        _ => fetch_asset(&session.client, &id, false)?.asset.mobility,
    };
    let fee = params.location_fee;
    eprintln!(
        "re-asserting the location of asset {id} at cell {location} burns the location fee of {fee} \
         (plus the transaction fee)"
    );
    let body = TxBody::AssertLocation { asset: id, location, mobility };
    session.send(ctx, body, &args.tx.common, |_| {
        vec![
            ("asset_id", json!(id), id.to_string()),
            ("location", json!(location), cell_text(location)),
            ("mobility", json!(mobility), if mobility == Mobility::Mobile { "mobile" } else { "fixed" }.to_string()),
            ("location_fee", json!(fee), format!("{fee} (burned)")),
        ]
    })
}

fn set_status(ctx: &Ctx, id: &str, status: OwnerStatus, tx: &AssetTxArgs) -> CliResult {
    let asset = parse_asset_id(id)?;
    let session = open_session(ctx, tx)?;
    let name = match status {
        OwnerStatus::Active => "active",
        OwnerStatus::Suspended => "suspended",
    };
    session.send(ctx, TxBody::SetAssetStatus { asset, status }, &tx.common, |_| {
        vec![("asset_id", json!(asset), asset.to_string()), ("new_status", json!(name), name.to_string())]
    })
}

fn decommission(ctx: &Ctx, id: &str, tx: &AssetTxArgs) -> CliResult {
    let asset = parse_asset_id(id)?;
    let session = open_session(ctx, tx)?;
    let params = fetch_params(&session.client)?;
    // Rule R-10: the bond returns at the start of block (decommissioning block + period).
    let period = params.unbonding_blocks.max(1);
    eprintln!(
        "decommissioning asset {asset} for good; its bond returns {period} blocks after this transaction's block"
    );
    session.send(ctx, TxBody::DecommissionAsset { asset }, &tx.common, |answer| {
        let applied = answer.receipt.as_ref().is_some_and(|r| r.outcome == TxOutcome::Applied);
        let mut rows = vec![("asset_id", json!(asset), asset.to_string())];
        match answer.height {
            Some(h) if applied => {
                let release = h + period;
                rows.push((
                    "bond_release_height",
                    json!(release),
                    format!("block {release} ({period} blocks after block {h})"),
                ));
            }
            Some(_) => {}
            None => rows.push((
                "bond_release_height",
                Value::Null,
                format!("{period} blocks after the transaction's block"),
            )),
        }
        rows
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_help_lists_every_class_capacity_keys() {
        let mut cmd = <crate::cli::Cli as clap::CommandFactory>::command();
        let help = cmd
            .find_subcommand_mut("asset")
            .and_then(|a| a.find_subcommand_mut("register"))
            .expect("asset register exists")
            .render_long_help()
            .to_string();
        for class in AssetClass::ALL {
            let line = format!("{:<9} {}", class.name(), class.capacity_keys());
            assert!(help.contains(&line), "`asset register --help` lacks {line:?}:\n{help}");
        }
    }

    #[test]
    fn asset_ids_parse_from_hex_or_did_key() {
        let key = SecretKey::from_seeds(Scheme::Ed25519, &[3; 32]).unwrap().public_key();
        let id = AssetId::of(&key);
        assert_eq!(parse_asset_id(&id.to_string()).unwrap(), id);
        assert_eq!(parse_asset_id(&did_key(&key)).unwrap(), id);
        assert_eq!(parse_asset_id("abc").unwrap_err().exit_code, ExitCode::Usage);
        assert_eq!(parse_asset_id("did:key:zzz").unwrap_err().exit_code, ExitCode::Usage);
    }

    #[test]
    fn capacity_errors_name_the_field_and_the_range_and_are_usage_errors() {
        let e = parse_capacity(AssetClass::Compute, "cpu_cores=8,memory_mib=10,arch=x86_64", "--capacity").unwrap_err();
        assert_eq!(e.exit_code, ExitCode::Usage);
        assert!(e.message.contains("memory_mib is 10, outside 256..="), "{}", e.message);
        assert!(e.hint.unwrap().contains("cpu_cores, memory_mib, arch"));
    }

    #[test]
    fn capacity_text_reads_like_the_flag() {
        let c = Capacity::parse(AssetClass::Compute, "cpu_cores=8,memory_mib=1024,arch=x86_64,gpu=h100:2").unwrap();
        assert_eq!(capacity_text(&c), "arch=x86_64, cpu_cores=8, gpus=[h100:2], memory_mib=1024");
    }
}
