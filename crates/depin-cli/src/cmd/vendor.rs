//! Manage device vendors and their attestations, and revoke device keys (rules ).

use std::io::Write as _;
use std::path::Path;

use depin_crypto::did_key;
use depin_keystore::KeyFile;
use depin_types::asset::{vendor_attestation_message, AssetId, Vendor, MAX_NAME_LEN};
use depin_types::{PublicKey, TxBody};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::cli::{DeviceRevokeArgs, PrivilegedSigner, TxCommon, VendorAttestArgs, VendorCmd};
use crate::cmd::asset::{
    check_device_scheme, parse_public_key, read_public_key_file, usage, AttestationFile, Session, SignWith, SignerFile,
};
use crate::cmd::keys::not_found_hint;
use crate::cmd::tx::{unlock, DEV_KEY_NAME};
use crate::cmd::{status, Ctx};
use crate::error::{CliError, CliResult, ExitCode};
use crate::output::{self, Format};

/// Most pages `vendor list` follows.
const VENDOR_PAGES_MAX: usize = 1_000;

/// Run `depin vendor …`.
pub fn run(ctx: &Ctx, cmd: VendorCmd) -> CliResult {
    match cmd {
        VendorCmd::Add { name, key, key_file, signer, common } => {
            let name = name.trim().to_string();
            if name.is_empty() || name.len() > MAX_NAME_LEN || name.chars().any(char::is_control) {
                // Rule R-11 rejects it after charging the fee: refuse before signing.
                return Err(usage(format!("--name must be 1 to {MAX_NAME_LEN} bytes without control characters")));
            }
            let key = match (key, key_file) {
                (Some(k), None) => parse_public_key(ctx, "--key", &k, true)?,
                (None, Some(f)) => read_public_key_file(&f)?.public_key().clone(),
                _ => return Err(usage("give either --key PUBKEY or --key-file FILE")),
            };
            let session = privileged_session(ctx, &signer, &common)?;
            let extras = vendor_rows(&name, &key);
            session.send(ctx, TxBody::AddVendor { name, key }, &common, |_| extras)
        }
        VendorCmd::List => list(ctx),
        VendorCmd::Revoke { key, signer, common } => {
            let key = parse_public_key(ctx, "the vendor key", &key, true)?;
            let session = privileged_session(ctx, &signer, &common)?;
            let address = key.address();
            session.send(ctx, TxBody::RevokeVendor { key: key.clone() }, &common, |_| {
                vec![("vendor", json!(key), key.to_string()), ("vendor_address", json!(address), address.to_string())]
            })
        }
        VendorCmd::Attest(args) => attest(ctx, &args),
    }
}

fn vendor_rows(name: &str, key: &PublicKey) -> Vec<crate::cmd::asset::Extra> {
    let address = key.address();
    vec![
        ("vendor_name", json!(name), name.to_string()),
        ("vendor", json!(key), key.to_string()),
        ("vendor_address", json!(address), address.to_string()),
    ]
}

/// A session signed by `--from KEY` or `--as-node`.
fn privileged_session(ctx: &Ctx, signer: &PrivilegedSigner, common: &TxCommon) -> CliResult<Session> {
    let with = match (&signer.from, signer.as_node) {
        (Some(from), false) => SignWith::Key(Some(from)),
        (None, true) => SignWith::Node,
        // clap's argument group makes them exclusive and one of them required.
        _ => return Err(usage("give either --from KEY or --as-node")),
    };
    let signer = SignerFile::open(ctx, with, common.insecure_plaintext)?;
    Session::open(ctx, signer, common)
}

/// `GET /api/v1/vendors` (mirror of `depin_node::VendorPage`).
#[derive(Deserialize)]
struct VendorPage {
    vendors: Vec<Vendor>,
    #[serde(default)]
    next_cursor: Option<String>,
}

/// A vendor as `vendor list` prints it.
#[derive(Serialize)]
struct VendorOut {
    name: String,
    key: PublicKey,
    did: String,
    address: depin_types::Address,
    revoked: bool,
    added_height: u64,
}

fn list(ctx: &Ctx) -> CliResult {
    let client = ctx.client()?;
    let mut vendors = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..VENDOR_PAGES_MAX {
        let path = match &cursor {
            Some(c) => format!("/api/v1/vendors?cursor={c}"),
            None => "/api/v1/vendors".to_string(),
        };
        let page: VendorPage = client.get(&path)?;
        vendors.extend(page.vendors);
        match page.next_cursor {
            Some(c) if c.bytes().all(|b| b.is_ascii_hexdigit()) => cursor = Some(c),
            _ => break,
        }
    }
    let out: Vec<VendorOut> = vendors
        .into_iter()
        .map(|v| VendorOut {
            did: did_key(&v.key),
            address: v.key.address(),
            name: v.name,
            key: v.key,
            revoked: v.revoked,
            added_height: v.added_height,
        })
        .collect();
    if ctx.output == Format::Table && out.is_empty() {
        println!("no vendors registered");
        return Ok(());
    }
    output::print_list(ctx.output, &out, &["NAME", "ADDRESS", "REVOKED", "ADDED", "KEY"], |v| {
        vec![
            v.name.clone(),
            v.address.to_string(),
            if v.revoked { "yes" } else { "no" }.to_string(),
            format!("block {}", v.added_height),
            v.did.clone(),
        ]
    });
    Ok(())
}

/// What `vendor attest` prints.
#[derive(Serialize)]
struct Attested {
    file: String,
    vendor: PublicKey,
    vendor_address: depin_types::Address,
    device_did: String,
    asset_id: AssetId,
    chain_id: String,
}

fn attest(ctx: &Ctx, args: &VendorAttestArgs) -> CliResult {
    let device = match (&args.device, &args.device_key) {
        (Some(d), None) => parse_public_key(ctx, "--device", d, false)?,
        (None, Some(f)) => read_public_key_file(f)?.public_key().clone(),
        _ => return Err(usage("give either --device PUBKEY or --device-key FILE")),
    };
    // An attestation of a key that cannot prove possession could never be used (rule R-1).
    check_device_scheme(&device)?;
    if !args.force && args.out.symlink_metadata().is_ok() {
        return Err(usage(format!("{} already exists; refusing to overwrite it", args.out.display()))
            .hint("pass --force to replace it, or choose another --out"));
    }
    let (vendor_file, allow_plaintext) = vendor_key_file(ctx, &args.vendor_key, args.insecure_plaintext)?;
    let chain_id = match &args.chain_id {
        Some(c) => c.clone(),
        None => status::fetch(&ctx.client()?)?.chain_id,
    };
    let vendor_key = unlock(&vendor_file, allow_plaintext)?;
    let signature = vendor_key.sign(&vendor_attestation_message(&chain_id, &device));
    drop(vendor_key);
    let file = AttestationFile {
        vendor: vendor_file.public_key().clone(),
        signature,
        chain_id: Some(chain_id.clone()),
        device_key: Some(device.clone()),
        did: Some(did_key(&device)),
        asset_id: Some(AssetId::of(&device)),
    };
    write_file(&args.out, &file, args.force)?;
    let out = Attested {
        file: args.out.display().to_string(),
        vendor: file.vendor.clone(),
        vendor_address: file.vendor.address(),
        device_did: did_key(&device),
        asset_id: AssetId::of(&device),
        chain_id,
    };
    output::print(ctx.output, &out, |o| {
        vec![
            ("attestation".to_string(), o.file.clone()),
            ("vendor".to_string(), o.vendor_address.to_string()),
            ("device".to_string(), o.device_did.clone()),
            ("asset_id".to_string(), o.asset_id.to_string()),
            ("chain_id".to_string(), o.chain_id.clone()),
        ]
    });
    Ok(())
}

/// The vendor's key: a key file if `text` names an existing file, else a key of the keystore.
/// Plaintext is allowed with `--insecure-plaintext`, or for the keystore's `dev` key (ADR 0009).
fn vendor_key_file(ctx: &Ctx, text: &str, insecure_plaintext: bool) -> CliResult<(KeyFile, bool)> {
    let path = Path::new(text);
    let (file, allow) = if path.is_file() {
        (read_public_key_file(path)?, insecure_plaintext)
    } else if ctx.home.keys().is_dir() {
        let file = ctx.keystore()?.get(text).map_err(not_found_hint).map_err(|e| {
            if e.exit_code == ExitCode::NotFound {
                CliError { message: format!("--vendor-key {text:?} is neither a file nor a key of this home"), ..e }
            } else {
                e
            }
        })?;
        let allow = insecure_plaintext || file.name() == DEV_KEY_NAME;
        (file, allow)
    } else {
        return Err(CliError::with_code(
            ExitCode::NotFound,
            format!("--vendor-key {text:?} is neither a file nor a key of this home"),
        ));
    };
    if !file.is_encrypted() && !allow {
        return Err(depin_keystore::KeystoreError::PlaintextRefused.into());
    }
    Ok((file, allow))
}

/// Write `value` as pretty JSON to a new file (or over an existing one with `force`).
fn write_file<T: Serialize>(path: &Path, value: &T, force: bool) -> CliResult {
    let mut text = serde_json::to_string_pretty(value).map_err(CliError::fail)?;
    text.push('\n');
    let mut options = std::fs::File::options();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let cannot = |e: std::io::Error| CliError::fail(format!("cannot write {}: {e}", path.display()));
    let mut f = options.open(path).map_err(cannot)?;
    f.write_all(text.as_bytes()).and_then(|()| f.sync_all()).map_err(cannot)
}

/// Run `depin device revoke`.
pub fn revoke_device(ctx: &Ctx, args: DeviceRevokeArgs) -> CliResult {
    let device = match (&args.device, &args.device_key) {
        (Some(d), None) => parse_public_key(ctx, "the device key", d, false)?,
        (None, Some(f)) => read_public_key_file(f)?.public_key().clone(),
        _ => return Err(usage("give either DEVICE_PUBKEY or --device-key FILE")),
    };
    let session = privileged_session(ctx, &args.signer, &args.common)?;
    let did = did_key(&device);
    let asset = AssetId::of(&device);
    session.send(ctx, TxBody::RevokeDevice { device_key: device }, &args.common, |_| {
        vec![("device", json!(did), did.clone()), ("asset_id", json!(asset), asset.to_string())]
    })
}
