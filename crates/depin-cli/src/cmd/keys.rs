//! Manage the account keys of the home's keystore: new, list, show, import, export.

use std::io::{BufRead, Read};
use std::path::Path;

use depin_crypto::AddressError;
use depin_keystore::{from_seed_hex, validate_name, Kdf, KeyFile, KeystoreError, MAX_KEY_FILE_BYTES};
use depin_types::{Address, Scheme, SecretKey};
use serde::Serialize;

use crate::cli::KeysCmd;
use crate::cmd::{password, Ctx};
use crate::error::{CliError, CliResult, ExitCode};
use crate::output;

/// What `keys new|show|import` print about a key. Never contains secret material.
#[derive(Serialize)]
struct KeyView {
    name: String,
    scheme: Scheme,
    address: Address,
    public_key: String,
    encrypted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
}

impl KeyView {
    fn of(file: &KeyFile, path: Option<&Path>) -> KeyView {
        KeyView {
            name: file.name().to_string(),
            scheme: file.scheme(),
            address: file.address(),
            public_key: file.public_key().to_string(),
            encrypted: file.is_encrypted(),
            path: path.map(|p| p.display().to_string()),
        }
    }

    fn rows(&self) -> Vec<(String, String)> {
        let mut rows = vec![
            ("name".to_string(), self.name.clone()),
            ("address".to_string(), self.address.to_string()),
            ("scheme".to_string(), self.scheme.to_string()),
            ("public_key".to_string(), self.public_key.clone()),
            ("encrypted".to_string(), yes_no(self.encrypted).to_string()),
        ];
        if let Some(path) = &self.path {
            rows.push(("file".to_string(), path.clone()));
        }
        rows
    }
}

/// What `keys export --out` prints.
#[derive(Serialize)]
struct Exported {
    name: String,
    address: Address,
    encrypted: bool,
    path: String,
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn usage(message: impl std::fmt::Display) -> CliError {
    CliError::with_code(ExitCode::Usage, message)
}

/// Run `depin keys …`.
pub fn run(ctx: &Ctx, cmd: KeysCmd) -> CliResult {
    match cmd {
        KeysCmd::New { name, scheme, insecure_plaintext } => new(ctx, &name, scheme, insecure_plaintext),
        KeysCmd::List => list(ctx),
        KeysCmd::Show { key } => {
            let ks = ctx.keystore()?;
            let file = ks.get(&key).map_err(not_found_hint)?;
            let path = ks.path_of(file.name())?;
            let view = KeyView::of(&file, Some(&path));
            output::print(ctx.output, &view, KeyView::rows);
            Ok(())
        }
        KeysCmd::Import { name, file, seed_hex, scheme, insecure_plaintext } => {
            import(ctx, &name, file.as_deref(), seed_hex.as_deref(), scheme, insecure_plaintext)
        }
        KeysCmd::Export { key, out } => export(ctx, &key, out.as_deref()),
    }
}

/// Refuse a bad or taken name before asking for a password or spending a KDF run.
fn check_new_name(ctx: &Ctx, name: &str) -> CliResult<depin_keystore::Keystore> {
    validate_name(name).map_err(usage)?;
    let ks = ctx.keystore()?;
    if ks.path_of(name)?.symlink_metadata().is_ok() {
        return Err(CliError::fail(format!("a key named {name:?} already exists; refusing to overwrite it"))
            .hint("choose another name (`depin keys list` shows the keys)"));
    }
    Ok(ks)
}

fn new(ctx: &Ctx, name: &str, scheme: Scheme, insecure_plaintext: bool) -> CliResult {
    let ks = check_new_name(ctx, name)?;
    let key = SecretKey::generate(scheme).map_err(CliError::fail)?;
    let file = seal(name, &key, insecure_plaintext)?;
    let path = ks.insert(&file)?;
    output::print(ctx.output, &KeyView::of(&file, Some(&path)), KeyView::rows);
    Ok(())
}

/// A key file for `key`: encrypted under a new password, or plaintext when asked for.
fn seal(name: &str, key: &SecretKey, insecure_plaintext: bool) -> CliResult<KeyFile> {
    if insecure_plaintext {
        eprintln!("warning: storing key {name:?} unencrypted (--insecure-plaintext): for dev networks only");
        return Ok(KeyFile::plaintext(name, key));
    }
    let pw = password("New key password: ", true)?;
    Ok(KeyFile::encrypt(name, key, &pw, Kdf::default())?)
}

fn list(ctx: &Ctx) -> CliResult {
    let files = ctx.keystore()?.list()?;
    let views: Vec<KeyView> = files.iter().map(|f| KeyView::of(f, None)).collect();
    output::print_list(ctx.output, &views, &["NAME", "SCHEME", "ENCRYPTED", "ADDRESS"], |v| {
        vec![v.name.clone(), v.scheme.to_string(), yes_no(v.encrypted).to_string(), v.address.to_string()]
    });
    Ok(())
}

fn import(
    ctx: &Ctx,
    name: &str,
    file: Option<&Path>,
    seed_hex: Option<&str>,
    scheme: Option<Scheme>,
    insecure_plaintext: bool,
) -> CliResult {
    let ks = check_new_name(ctx, name)?;
    let imported = match (file, seed_hex) {
        (Some(path), None) => {
            let source = read_import_source(path)?;
            if let Some(scheme) = scheme
                && scheme != source.scheme()
            {
                return Err(usage(format!(
                    "{} holds a key of scheme {}, not {scheme}",
                    path.display(),
                    source.scheme()
                )));
            }
            if source.is_encrypted() || insecure_plaintext {
                // Stored as is: the name is not part of the encrypted data's associated data, so
                // renaming needs no password and the file keeps its own encryption.
                rename(&source, name)?
            } else {
                let key = source.decrypt(None, true)?;
                eprintln!(
                    "{} is not encrypted; encrypting it (pass --insecure-plaintext to keep it plaintext)",
                    path.display()
                );
                seal(name, &key, false)?
            }
        }
        (None, Some(seed_hex)) => {
            let scheme = scheme.ok_or_else(|| usage("--seed-hex needs --scheme"))?;
            let seed_hex = if seed_hex == "-" { read_seed_from_stdin()? } else { seed_hex.to_string() };
            // Built plaintext first (cheap) so a bad seed fails before the password prompt.
            let plain = from_seed_hex(name, scheme, &seed_hex, None, Kdf::default()).map_err(|e| match e {
                KeystoreError::Key(e) => usage(format!("invalid seed for {scheme}: {e}")),
                e => e.into(),
            })?;
            seal(name, &plain.decrypt(None, true)?, insecure_plaintext)?
        }
        _ => return Err(usage("pass either --file FILE or --seed-hex HEX (with --scheme)")),
    };
    if let Some(twin) = ks.list().ok().and_then(|all| all.into_iter().find(|f| f.address() == imported.address())) {
        eprintln!("note: key {:?} already holds this account ({})", twin.name(), imported.address());
    }
    let path = ks.insert(&imported)?;
    output::print(ctx.output, &KeyView::of(&imported, Some(&path)), KeyView::rows);
    Ok(())
}

/// Read a key file to import. It may come from anywhere, so its permissions are not judged (it
/// is written 0600 into the keystore), but its size is bounded before reading it.
fn read_import_source(path: &Path) -> CliResult<KeyFile> {
    let cannot = |e: std::io::Error| CliError::fail(format!("cannot read {}: {e}", path.display()));
    let f = std::fs::File::open(path).map_err(cannot)?;
    let meta = f.metadata().map_err(cannot)?;
    if !meta.is_file() {
        return Err(usage(format!("{} is not a regular file", path.display())));
    }
    let mut text = String::new();
    f.take(MAX_KEY_FILE_BYTES as u64 + 1).read_to_string(&mut text).map_err(cannot)?;
    KeyFile::from_json(&text).map_err(|e| {
        CliError::fail(format!("{}: {e}", path.display())).hint("expected a key file written by `depin keys export`")
    })
}

/// The same key file under another name.
fn rename(file: &KeyFile, name: &str) -> CliResult<KeyFile> {
    if file.name() == name {
        return Ok(file.clone());
    }
    let mut json: serde_json::Value = serde_json::from_str(&file.to_json()).map_err(CliError::fail)?;
    json["name"] = serde_json::Value::String(name.to_string());
    Ok(KeyFile::from_json(&json.to_string())?)
}

/// `--seed-hex -`: read the seed from stdin, so it never appears in the process list.
fn read_seed_from_stdin() -> CliResult<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .take(1024)
        .read_line(&mut line)
        .map_err(|e| CliError::fail(format!("cannot read the seed from stdin: {e}")))?;
    Ok(line.trim().to_string())
}

fn export(ctx: &Ctx, key: &str, out: Option<&Path>) -> CliResult {
    let file = ctx.keystore()?.get(key).map_err(not_found_hint)?;
    if !file.is_encrypted() {
        eprintln!("warning: key {:?} is not encrypted: the exported file contains its secret seed", file.name());
    }
    match out {
        None => print!("{}", file.to_json()),
        Some(path) => {
            file.write_new(path)?;
            let done = Exported {
                name: file.name().to_string(),
                address: file.address(),
                encrypted: file.is_encrypted(),
                path: path.display().to_string(),
            };
            output::print(ctx.output, &done, |d| {
                vec![
                    ("exported".to_string(), d.name.clone()),
                    ("address".to_string(), d.address.to_string()),
                    ("encrypted".to_string(), yes_no(d.encrypted).to_string()),
                    ("file".to_string(), d.path.clone()),
                ]
            });
        }
    }
    Ok(())
}

/// Add the usual hint to a "no such key" error.
pub(crate) fn not_found_hint(e: KeystoreError) -> CliError {
    let missing = matches!(e, KeystoreError::NotFound(_));
    let err = CliError::from(e);
    if missing {
        err.hint("`depin keys list` shows the keys of this home (--home / DEPIN_HOME)")
    } else {
        err
    }
}

/// An account given as an address (`depin1…`) or as the name of a key in the home's keystore.
///
/// A malformed address is a usage error (2); a well-formed name that is not in the keystore is
/// "not found" (3). `what` names the argument in messages.
pub(crate) fn resolve_address(ctx: &Ctx, what: &str, input: &str) -> CliResult<Address> {
    let text = input.trim();
    match text.parse::<Address>() {
        Ok(address) => return Ok(address),
        Err(e) if text.get(..6).is_some_and(|p| p.eq_ignore_ascii_case("depin1")) => {
            let detail = match e {
                AddressError::Encoding(detail) => detail,
                other => other.to_string(),
            };
            return Err(usage(format!("{what} {text:?} is not a valid address: {detail}"))
                .hint("addresses are checksummed: copy them whole (`depin keys show NAME`)"));
        }
        Err(_) => {}
    }
    if validate_name(text).is_err() {
        return Err(usage(format!("{what} {text:?} is neither an address (depin1…) nor a key name")));
    }
    // Looking a name up must not create the keystore directory as a side effect.
    let missing = || {
        CliError::with_code(ExitCode::NotFound, format!("{what} {text:?} is not an address and no key has this name"))
            .hint("`depin keys list` shows the keys of this home; addresses start with depin1")
    };
    if !ctx.home.keys().is_dir() {
        return Err(missing());
    }
    match ctx.keystore()?.get(text) {
        Ok(file) => Ok(file.address()),
        Err(KeystoreError::NotFound(_)) => Err(missing()),
        Err(e) => Err(e.into()),
    }
}
