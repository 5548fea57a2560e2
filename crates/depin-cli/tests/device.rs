//! Tests of `depin device keygen|show` against the real binary: identifiers, key files,
//! overwrite protection and exit codes. No node is involved.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;

use common::{clear_depin_env, depin, expect_code, json, text};
use depin_crypto::{parse_did_key, PublicKey};

/// Run `depin ARGS` with a throwaway home, no `DEPIN_*` variable of the caller, and
/// `DEPIN_KEY_PASSWORD` set to `password` if given.
fn run(home: &Path, password: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = depin();
    clear_depin_env(&mut cmd).args(args).arg("--home").arg(home);
    if let Some(pw) = password {
        cmd.env("DEPIN_KEY_PASSWORD", pw);
    }
    cmd.output().expect("the depin binary runs")
}




fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The did printed must be the did:key of the public key printed.
#[track_caller]
fn assert_consistent(view: &serde_json::Value) {
    let did = view["did"].as_str().unwrap();
    let public_key: PublicKey = view["public_key"].as_str().unwrap().parse().unwrap();
    assert_eq!(parse_did_key(did).unwrap(), public_key, "{view}");
    assert_eq!(view["scheme"], public_key.scheme().to_string());
}

#[test]
fn keygen_then_show_gives_the_same_did_for_every_scheme() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    for (scheme, did_start) in [("ed25519", "did:key:z6Mk"), ("mldsa65", "did:key:z"), ("hybrid", "did:key:z")] {
        let path = dir.path().join(format!("sensor-{scheme}.json"));
        let p = path.to_str().unwrap();
        let made = json(&expect_code(
            &run(&home, None, &["device", "keygen", "--out", p, "--scheme", scheme, "--insecure-plaintext", "-o", "json"]),
            0,
            "keygen",
        ));
        assert_eq!(made["scheme"], scheme);
        assert!(made["did"].as_str().unwrap().starts_with(did_start), "{made}");
        assert_eq!(made["name"], format!("sensor-{scheme}"), "the name is the file stem");
        assert_eq!(made["encrypted"], false);
        assert_eq!(made["path"], p);
        assert_consistent(&made);
        assert_eq!(mode(&path), 0o600);

        let shown = json(&expect_code(&run(&home, None, &["device", "show", p, "-o", "json"]), 0, "show"));
        assert_eq!(shown, made);
    }
    // Device keys are files on their own: the home's keystore is not touched.
    assert!(!home.join("keys").exists());
}

#[test]
fn encrypted_key_is_shown_without_its_password() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let path = dir.path().join("meter.key");
    let p = path.to_str().unwrap();
    let out = expect_code(
        &run(&home, Some("device password"), &["device", "keygen", "--out", p, "--name", "meter-7"]),
        0,
        "encrypted keygen",
    );
    assert!(out.contains("did:key:z6Mk"), "{out}");
    let file = std::fs::read_to_string(&path).unwrap();
    assert!(file.contains("\"encrypted\"") && !file.contains("seeds"), "{file}");

    let shown = json(&expect_code(&run(&home, None, &["device", "show", p, "-o", "json"]), 0, "show"));
    assert_eq!(shown["encrypted"], true);
    assert_eq!(shown["name"], "meter-7");
    assert_consistent(&shown);
    // The table names the same did.
    let table = expect_code(&run(&home, None, &["device", "show", p]), 0, "show table");
    let did_line = table.lines().find(|l| l.starts_with("did ")).unwrap_or_else(|| panic!("{table}"));
    assert_eq!(did_line.split_whitespace().nth(1), shown["did"].as_str());

    // Without a password or a terminal, and without --insecure-plaintext: refused, nothing written.
    let other = dir.path().join("other.key");
    let out = run(&home, None, &["device", "keygen", "--out", other.to_str().unwrap()]);
    expect_code(&out, 2, "no password");
    assert!(text(&out.stderr).contains("DEPIN_KEY_PASSWORD"), "{}", text(&out.stderr));
    assert!(!other.exists());
}

#[test]
fn keygen_refuses_to_overwrite_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let path = dir.path().join("gateway.json");
    let p = path.to_str().unwrap();
    let keygen = |extra: &[&str]| {
        let mut args = vec!["device", "keygen", "--out", p, "--insecure-plaintext", "-o", "json"];
        args.extend_from_slice(extra);
        run(&home, None, &args)
    };
    let first = json(&expect_code(&keygen(&[]), 0, "first keygen"));
    let before = std::fs::read(&path).unwrap();

    let out = keygen(&[]);
    expect_code(&out, 2, "existing file");
    assert!(text(&out.stderr).contains("already exists") && text(&out.stderr).contains("--force"), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    assert_eq!(std::fs::read(&path).unwrap(), before, "the existing key file is untouched");

    // --force replaces it with a new key, still 0600, with no temporary file left behind.
    let second = json(&expect_code(&keygen(&["--force"]), 0, "forced keygen"));
    assert_ne!(second["did"], first["did"]);
    assert_consistent(&second);
    assert_eq!(mode(&path), 0o600);
    let shown = json(&expect_code(&run(&home, None, &["device", "show", p, "-o", "json"]), 0, "show"));
    assert_eq!(shown["did"], second["did"]);
    let names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["gateway.json"], "only the key file remains");

    // --force never replaces a file that is not a key file (a typo in --out), or a directory.
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "precious").unwrap();
    let out = run(&home, None, &["device", "keygen", "--out", notes.to_str().unwrap(), "--force", "--insecure-plaintext"]);
    expect_code(&out, 2, "force on a non-key file");
    assert!(text(&out.stderr).contains("not a key file"), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "precious");
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    expect_code(
        &run(&home, None, &["device", "keygen", "--out", sub.to_str().unwrap(), "--force", "--insecure-plaintext"]),
        2,
        "force on a directory",
    );
}

#[test]
fn bad_arguments_are_usage_errors_and_missing_files_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let path = dir.path().join("d.json");
    let p = path.to_str().unwrap();

    let out = run(&home, None, &["device", "keygen", "--out", p, "--scheme", "rsa", "--insecure-plaintext"]);
    expect_code(&out, 2, "bad scheme");
    assert!(text(&out.stderr).contains("rsa"), "{}", text(&out.stderr));
    expect_code(&run(&home, None, &["device", "keygen", "--insecure-plaintext"]), 2, "no --out");
    expect_code(
        &run(&home, None, &["device", "keygen", "--out", p, "--name", "bad/name", "--insecure-plaintext"]),
        2,
        "bad --name",
    );
    assert!(!path.exists(), "nothing written on a usage error");
    let in_missing_dir = dir.path().join("no-such-dir").join("d.json");
    expect_code(
        &run(&home, None, &["device", "keygen", "--out", in_missing_dir.to_str().unwrap(), "--insecure-plaintext"]),
        1,
        "missing directory",
    );

    expect_code(&run(&home, None, &["device", "show", p]), 3, "show a missing file");
    std::fs::write(&path, "{\"not\": \"a key\"}").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = run(&home, None, &["device", "show", p]);
    expect_code(&out, 1, "show a file that is not a key file");
    assert!(text(&out.stderr).contains("not a key file"), "{}", text(&out.stderr));
}
