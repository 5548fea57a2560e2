//! Generate and show device keys: the keys physical assets sign with, named by `did:key`.
//!
//! A device key file has the format of an account key file (`depin_keystore::KeyFile`), so the
//! public key, scheme and address are readable without the password; it lives on the device, not
//! in the home's keystore.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use depin_crypto::{did_key, PublicKey, Scheme, SecretKey};
use depin_keystore::{validate_name, Kdf, KeyFile, KeystoreError, MAX_KEY_FILE_BYTES, MAX_NAME_LEN};
use serde::Serialize;

use crate::cli::{DeviceCmd, DeviceKeygenArgs};
use crate::cmd::{password, Ctx};
use crate::error::{CliError, CliResult, ExitCode};
use crate::output;

/// The name recorded in a key file when the file name gives none.
const FALLBACK_NAME: &str = "device";

/// What `device keygen|show` print. Never contains secret material.
#[derive(Serialize)]
struct DeviceView {
    did: String,
    scheme: Scheme,
    public_key: PublicKey,
    name: String,
    encrypted: bool,
    path: String,
}

impl DeviceView {
    fn of(file: &KeyFile, path: &Path) -> DeviceView {
        DeviceView {
            did: did_key(file.public_key()),
            scheme: file.scheme(),
            public_key: file.public_key().clone(),
            name: file.name().to_string(),
            encrypted: file.is_encrypted(),
            path: path.display().to_string(),
        }
    }

    fn rows(&self) -> Vec<(String, String)> {
        vec![
            ("did".to_string(), self.did.clone()),
            ("scheme".to_string(), self.scheme.to_string()),
            ("public_key".to_string(), self.public_key.to_string()),
            ("name".to_string(), self.name.clone()),
            ("encrypted".to_string(), if self.encrypted { "yes" } else { "no" }.to_string()),
            ("file".to_string(), self.path.clone()),
        ]
    }
}

fn usage(message: impl std::fmt::Display) -> CliError {
    CliError::with_code(ExitCode::Usage, message)
}

/// Run `depin device …`.
pub fn run(ctx: &Ctx, cmd: DeviceCmd) -> CliResult {
    match cmd {
        DeviceCmd::Keygen(args) => keygen(ctx, args),
        DeviceCmd::Show { file } => show(ctx, &file),
    }
}

fn keygen(ctx: &Ctx, args: DeviceKeygenArgs) -> CliResult {
    let DeviceKeygenArgs { out, scheme, name, force, insecure_plaintext } = args;
    let name = match name {
        Some(name) => {
            validate_name(&name).map_err(usage)?;
            name
        }
        None => name_from_path(&out),
    };
    // Every check that can fail runs before the password prompt and the KDF.
    let replace = check_target(&out, force)?;
    let key = SecretKey::generate(scheme).map_err(CliError::fail)?;
    let file = if insecure_plaintext {
        eprintln!(
            "warning: storing device key {name:?} unencrypted (--insecure-plaintext): anyone who can read {} \
             can sign as this device",
            out.display()
        );
        KeyFile::plaintext(&name, &key)
    } else {
        let pw = password("New device key password: ", true)?;
        KeyFile::encrypt(&name, &key, &pw, Kdf::default())?
    };
    if replace {
        replace_file(&file, &out)?;
    } else {
        file.write_new(&out).map_err(|e| match e {
            // Created by someone else since `check_target` looked.
            KeystoreError::AlreadyExists(_) => exists_error(&out),
            e => e.into(),
        })?;
    }
    output::print(ctx.output, &DeviceView::of(&file, &out), DeviceView::rows);
    Ok(())
}

/// The key file's name for a device key written to `path`: the file name without its
/// extension, with characters a key name may not hold replaced by `-`.
fn name_from_path(path: &Path) -> String {
    let stem = path.file_stem().map(|s| s.to_string_lossy()).unwrap_or_default();
    let name: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' })
        .take(MAX_NAME_LEN)
        .collect();
    if name.is_empty() { FALLBACK_NAME.to_string() } else { name }
}

fn exists_error(path: &Path) -> CliError {
    usage(format!("{} already exists; refusing to overwrite it", path.display()))
        .hint("pass --force to replace it (the key it holds is lost), or choose another --out")
}

/// Whether `path` is free (false) or an existing key file that `--force` may replace (true).
fn check_target(path: &Path, force: bool) -> CliResult<bool> {
    match path.symlink_metadata() {
        Ok(_) if !force => Err(exists_error(path)),
        Ok(meta) if !meta.file_type().is_file() => Err(usage(format!(
            "{} is not a regular file; --force replaces only a key file",
            path.display()
        ))),
        Ok(_) => {
            // A typo in --out must not destroy an unrelated file: only a key file is replaced.
            read_key_file_loosely(path).map_err(|e| {
                usage(format!("{} is not a key file ({e}); --force replaces only a key file", path.display()))
            })?;
            Ok(true)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let dir = parent_dir(path);
            if dir.is_dir() {
                Ok(false)
            } else {
                Err(CliError::fail(format!("cannot write {}: {} is not a directory", path.display(), dir.display())))
            }
        }
        Err(e) => Err(CliError::fail(format!("cannot access {}: {e}", path.display()))),
    }
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Parse the key file at `path` without the permission checks of `KeyFile::read` (the file is
/// about to be replaced, not trusted), bounded in size.
fn read_key_file_loosely(path: &Path) -> Result<KeyFile, String> {
    let mut text = String::new();
    File::open(path)
        .and_then(|f| f.take(MAX_KEY_FILE_BYTES as u64 + 1).read_to_string(&mut text))
        .map_err(|e| e.to_string())?;
    KeyFile::from_json(&text).map_err(|e| e.to_string())
}

/// Replace the key file at `path` atomically: the new file is written beside it (mode 0600,
/// synced, by `KeyFile::write_new`) and renamed over it, so `path` holds the old or the new
/// file, never a partial one.
fn replace_file(file: &KeyFile, path: &Path) -> CliResult {
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp: PathBuf = parent_dir(path).join(format!(".{file_name}.replace-{}", std::process::id()));
    file.write_new(&tmp)?;
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(CliError::fail(format!("cannot replace {}: {e}", path.display())));
    }
    if let Ok(dir) = File::open(parent_dir(path)) {
        // Make the rename durable; some file systems refuse to sync a directory, which is harmless.
        let _ = dir.sync_all();
    }
    Ok(())
}

fn show(ctx: &Ctx, path: &Path) -> CliResult {
    let file = KeyFile::read(path).map_err(|e| match e {
        KeystoreError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound => {
            CliError::with_code(ExitCode::NotFound, format!("no such file: {}", path.display()))
        }
        KeystoreError::Format(detail) => CliError::fail(format!("{} is not a key file: {detail}", path.display()))
            .hint("expected a file written by `depin device keygen`"),
        e => e.into(),
    })?;
    output::print(ctx.output, &DeviceView::of(&file, path), DeviceView::rows);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names_come_from_the_file_name() {
        assert_eq!(name_from_path(Path::new("/x/sensor-01.json")), "sensor-01");
        assert_eq!(name_from_path(Path::new("meter.v2.key")), "meter-v2");
        assert_eq!(name_from_path(Path::new("capteur é")), "capteur--");
        assert_eq!(name_from_path(Path::new("/")), FALLBACK_NAME);
        let long = "a".repeat(100);
        assert_eq!(name_from_path(Path::new(&long)).len(), MAX_NAME_LEN);
        for p in ["/x/sensor-01.json", "meter.v2.key", "capteur é", "/", long.as_str(), ".hidden"] {
            validate_name(&name_from_path(Path::new(p))).unwrap();
        }
    }
}
