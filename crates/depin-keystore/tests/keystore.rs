//! Exercise key files and keystores on real files in a temporary directory.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use depin_crypto::{Scheme, SecretKey};
use depin_keystore::{
    Kdf, KeyFile, Keystore, KeystoreError, MAX_KEY_FILE_BYTES, from_seed_hex, reencrypt,
};
use serde_json::Value;

const PW: &[u8] = b"correct horse battery staple";

fn fast() -> Kdf {
    Kdf::fast_for_tests()
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Edit a key file's JSON and re-parse it (bypassing nothing: `from_json` validates).
fn edit(file: &KeyFile, f: impl FnOnce(&mut Value)) -> Result<KeyFile, KeystoreError> {
    let mut v: Value = serde_json::from_str(&file.to_json()).unwrap();
    f(&mut v);
    KeyFile::from_json(&serde_json::to_string(&v).unwrap())
}

#[test]
fn round_trip_every_scheme_through_disk() {
    let dir = tempfile::tempdir().unwrap();
    for scheme in Scheme::ALL {
        let key = SecretKey::generate(scheme).unwrap();
        let file = KeyFile::encrypt(&format!("k-{scheme}"), &key, PW, fast()).unwrap();
        assert!(file.is_encrypted());
        assert_eq!(file.scheme(), scheme);
        assert_eq!(file.public_key(), &key.public_key());
        assert_eq!(file.address(), key.public_key().address());
        assert_eq!(file.kdf(), Some(fast()));
        let json = file.to_json();
        assert!(
            !json.contains(&hex::encode(key.seeds())),
            "seeds leaked into the file"
        );

        let path = dir.path().join(format!("{scheme}.json"));
        file.write_new(&path).unwrap();
        let back = KeyFile::read(&path).unwrap();
        assert_eq!(back.to_json(), json);
        let sk = back.decrypt(Some(PW), false).unwrap();
        assert_eq!(sk.seeds(), key.seeds());
        assert_eq!(sk.public_key(), key.public_key());
        // Plaintext allowance does not matter for encrypted files.
        back.decrypt(Some(PW), true).unwrap();
    }
}

#[test]
fn fresh_salt_and_nonce_each_time() {
    let key = SecretKey::generate(Scheme::Ed25519).unwrap();
    let a = KeyFile::encrypt("a", &key, PW, fast()).unwrap().to_json();
    let b = KeyFile::encrypt("a", &key, PW, fast()).unwrap().to_json();
    assert_ne!(a, b);
}

#[test]
fn wrong_or_missing_password() {
    let key = SecretKey::generate(Scheme::Ed25519).unwrap();
    let file = KeyFile::encrypt("a", &key, PW, fast()).unwrap();
    assert!(matches!(
        file.decrypt(Some(b"wrong"), false),
        Err(KeystoreError::WrongPassword)
    ));
    assert!(matches!(
        file.decrypt(Some(b""), true),
        Err(KeystoreError::WrongPassword)
    ));
    assert!(matches!(
        file.decrypt(None, true),
        Err(KeystoreError::PasswordRequired)
    ));
}

#[test]
fn tampered_ciphertext_salt_nonce_or_kdf_is_detected() {
    let key = SecretKey::generate(Scheme::Hybrid).unwrap();
    let file = KeyFile::encrypt("a", &key, PW, fast()).unwrap();
    for field in ["ciphertext", "salt", "nonce"] {
        let tampered = edit(&file, |v| {
            let s = v["secret"][field].as_str().unwrap();
            let mut bytes = hex::decode(s).unwrap();
            bytes[3] ^= 0x01;
            v["secret"][field] = Value::String(hex::encode(bytes));
        })
        .unwrap();
        assert!(
            matches!(
                tampered.decrypt(Some(PW), false),
                Err(KeystoreError::WrongPassword)
            ),
            "{field}"
        );
    }
    let tampered = edit(&file, |v| v["secret"]["t_cost"] = 2.into()).unwrap();
    assert!(matches!(
        tampered.decrypt(Some(PW), false),
        Err(KeystoreError::WrongPassword)
    ));
}

#[test]
fn swapped_public_fields_are_detected() {
    let key = SecretKey::generate(Scheme::Ed25519).unwrap();
    let other = SecretKey::generate(Scheme::Ed25519).unwrap();
    let file = KeyFile::encrypt("a", &key, PW, fast()).unwrap();
    let other_pk = other.public_key();

    // Both public fields swapped consistently: the AEAD associated data catches it.
    let swapped = edit(&file, |v| {
        v["address"] = Value::String(other_pk.address().to_string());
        v["public_key"] = Value::String(other_pk.to_string());
    })
    .unwrap();
    assert!(matches!(
        swapped.decrypt(Some(PW), false),
        Err(KeystoreError::WrongPassword)
    ));

    // Only one swapped: inconsistent, refused on parse.
    let r = edit(&file, |v| {
        v["public_key"] = Value::String(other_pk.to_string())
    });
    assert!(matches!(r, Err(KeystoreError::Format(_))), "{r:?}");
    let r = edit(&file, |v| {
        v["address"] = Value::String(other_pk.address().to_string())
    });
    assert!(matches!(r, Err(KeystoreError::Format(_))), "{r:?}");

    // A different scheme than the key's.
    let r = edit(&file, |v| v["scheme"] = Value::String("mldsa65".into()));
    assert!(matches!(r, Err(KeystoreError::Format(_))), "{r:?}");

    // Plaintext files have no AEAD: the recovered key must match the recorded public key.
    let plain = KeyFile::plaintext("p", &key);
    let swapped = edit(&plain, |v| {
        v["address"] = Value::String(other_pk.address().to_string());
        v["public_key"] = Value::String(other_pk.to_string());
    })
    .unwrap();
    assert!(matches!(
        swapped.decrypt(None, true),
        Err(KeystoreError::Mismatch)
    ));
}

#[test]
fn written_files_are_0600_and_open_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let key = SecretKey::generate(Scheme::Ed25519).unwrap();
    let file = KeyFile::encrypt("a", &key, PW, fast()).unwrap();
    let path = dir.path().join("a.json");
    file.write_new(&path).unwrap();
    assert_eq!(mode(&path), 0o600);
    // No temporary files are left behind.
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);

    for insecure in [0o644, 0o640, 0o604, 0o660] {
        fs::set_permissions(&path, fs::Permissions::from_mode(insecure)).unwrap();
        match KeyFile::read(&path) {
            Err(KeystoreError::InsecurePermissions { path: p, mode }) => {
                assert_eq!(p, path);
                assert_eq!(mode, insecure);
            }
            other => panic!("{insecure:o}: {other:?}"),
        }
    }
    fs::set_permissions(&path, fs::Permissions::from_mode(0o400)).unwrap();
    KeyFile::read(&path).unwrap();
}

#[test]
fn plaintext_needs_explicit_allowance() {
    let dir = tempfile::tempdir().unwrap();
    let key = SecretKey::generate(Scheme::MlDsa65).unwrap();
    let file = KeyFile::plaintext("dev", &key);
    assert!(!file.is_encrypted());
    assert_eq!(file.kdf(), None);
    let path = dir.path().join("dev.json");
    file.write_new(&path).unwrap();
    let back = KeyFile::read(&path).unwrap();
    assert!(matches!(
        back.decrypt(None, false),
        Err(KeystoreError::PlaintextRefused)
    ));
    assert!(matches!(
        back.decrypt(Some(PW), false),
        Err(KeystoreError::PlaintextRefused)
    ));
    assert_eq!(back.decrypt(None, true).unwrap().seeds(), key.seeds());
    assert_eq!(
        back.decrypt(Some(b"ignored"), true).unwrap().seeds(),
        key.seeds()
    );
}

#[test]
fn write_new_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.json");
    fs::write(&path, "precious").unwrap();
    let key = SecretKey::generate(Scheme::Ed25519).unwrap();
    let file = KeyFile::encrypt("a", &key, PW, fast()).unwrap();
    assert!(matches!(
        file.write_new(&path),
        Err(KeystoreError::AlreadyExists(_))
    ));
    assert_eq!(fs::read_to_string(&path).unwrap(), "precious");

    let ks = Keystore::open(dir.path().join("ks")).unwrap();
    ks.insert(&file).unwrap();
    let again = KeyFile::encrypt(
        "a",
        &SecretKey::generate(Scheme::Ed25519).unwrap(),
        PW,
        fast(),
    )
    .unwrap();
    match ks.insert(&again) {
        Err(KeystoreError::AlreadyExists(name)) => assert_eq!(name, "a"),
        other => panic!("{other:?}"),
    }
    assert_eq!(ks.get("a").unwrap().address(), file.address());
}

#[test]
fn keystore_list_and_get() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("nested").join("keys");
    let ks = Keystore::open(&root).unwrap();
    assert_eq!(mode(&root), 0o700);
    assert!(ks.list().unwrap().is_empty());

    let mut expected = Vec::new();
    for (name, scheme) in [
        ("zeta", Scheme::Ed25519),
        ("alpha", Scheme::Hybrid),
        ("mid", Scheme::MlDsa65),
    ] {
        let key = SecretKey::generate(scheme).unwrap();
        let file = KeyFile::encrypt(name, &key, PW, fast()).unwrap();
        let path = ks.insert(&file).unwrap();
        assert_eq!(path, root.join(format!("{name}.json")));
        assert_eq!(ks.path_of(name).unwrap(), path);
        expected.push((name, file.address()));
    }
    fs::write(root.join("README.txt"), "not a key").unwrap();
    fs::create_dir(root.join("dir.json")).unwrap();

    let names: Vec<String> = ks
        .list()
        .unwrap()
        .iter()
        .map(|f| f.name().to_string())
        .collect();
    assert_eq!(names, ["alpha", "mid", "zeta"]);

    for (name, address) in &expected {
        assert_eq!(ks.get(name).unwrap().address(), *address);
        let by_address = ks.get(&address.to_string()).unwrap();
        assert_eq!(by_address.name(), *name);
        by_address.decrypt(Some(PW), false).unwrap();
    }
    assert!(matches!(ks.get("nope"), Err(KeystoreError::NotFound(n)) if n == "nope"));
    assert!(matches!(
        ks.get("../etc/passwd"),
        Err(KeystoreError::NotFound(_))
    ));

    // Reopening an existing keystore works.
    assert_eq!(Keystore::open(&root).unwrap().list().unwrap().len(), 3);

    // A file whose inner name disagrees with its file name is reported, not silently used.
    fs::copy(root.join("mid.json"), root.join("copy.json")).unwrap();
    fs::set_permissions(root.join("copy.json"), fs::Permissions::from_mode(0o600)).unwrap();
    assert!(matches!(ks.get("copy"), Err(KeystoreError::Format(_))));
}

#[test]
fn bad_names_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    // Temporary directories are created 0755 (umask permitting); a keystore must be private.
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).unwrap();
    let ks = Keystore::open(dir.path()).unwrap();
    let key = SecretKey::generate(Scheme::Ed25519).unwrap();
    for bad in [
        "",
        "..",
        "a/b",
        "../escape",
        "/abs",
        "a.b",
        "sp ace",
        &"n".repeat(65),
    ] {
        assert!(
            matches!(
                KeyFile::encrypt(bad, &key, PW, fast()),
                Err(KeystoreError::BadName(_))
            ),
            "{bad:?}"
        );
        assert!(
            matches!(ks.path_of(bad), Err(KeystoreError::BadName(_))),
            "{bad:?}"
        );
        let plain = KeyFile::plaintext(bad, &key);
        assert!(
            matches!(ks.insert(&plain), Err(KeystoreError::BadName(_))),
            "{bad:?}"
        );
        assert!(matches!(
            plain.write_new(&dir.path().join("x.json")),
            Err(KeystoreError::BadName(_))
        ));
        assert!(matches!(
            KeyFile::from_json(&plain.to_json()),
            Err(KeystoreError::BadName(_))
        ));
    }
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn malformed_and_oversized_json_is_rejected() {
    let key = SecretKey::generate(Scheme::Ed25519).unwrap();
    let file = KeyFile::encrypt("a", &key, PW, fast()).unwrap();

    let mut big = file.to_json();
    big.push_str(&" ".repeat(MAX_KEY_FILE_BYTES));
    assert!(matches!(
        KeyFile::from_json(&big),
        Err(KeystoreError::Format(_))
    ));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.json");
    fs::write(&path, &big).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    assert!(matches!(
        KeyFile::read(&path),
        Err(KeystoreError::Format(_))
    ));

    assert!(matches!(
        KeyFile::from_json("not json"),
        Err(KeystoreError::Format(_))
    ));
    let cases: &[fn(&mut Value)] = &[
        |v| v["version"] = 2.into(),
        |v| v["extra"] = 1.into(),
        |v| v["secret"]["extra"] = 1.into(),
        |v| v["secret"]["kdf"] = "scrypt".into(),
        |v| v["secret"]["cipher"] = "aes256gcm".into(),
        |v| v["secret"]["kind"] = "sealed".into(),
        |v| v["secret"]["salt"] = "00ff".into(),
        |v| v["secret"]["nonce"] = "zz".into(),
        |v| v["secret"]["ciphertext"] = "00".into(),
        |v| v["scheme"] = "rsa".into(),
    ];
    for (i, case) in cases.iter().enumerate() {
        assert!(
            matches!(edit(&file, case), Err(KeystoreError::Format(_))),
            "case {i}"
        );
    }
    // Hostile KDF parameters are refused before any memory is allocated.
    for (field, value) in [
        ("m_cost_kib", u32::MAX),
        ("t_cost", 1000),
        ("p_cost", 255),
        ("t_cost", 0),
    ] {
        let r = edit(&file, |v| v["secret"][field] = value.into());
        assert!(
            matches!(r, Err(KeystoreError::BadKdf { .. })),
            "{field}={value}: {r:?}"
        );
    }
}

#[test]
fn reencrypt_changes_the_password() {
    let key = SecretKey::generate(Scheme::Hybrid).unwrap();
    let file = KeyFile::encrypt("a", &key, PW, fast()).unwrap();
    let new = reencrypt(&file, Some(PW), b"new password", fast(), false).unwrap();
    assert_eq!(new.name(), "a");
    assert_eq!(new.address(), file.address());
    assert!(matches!(
        new.decrypt(Some(PW), false),
        Err(KeystoreError::WrongPassword)
    ));
    assert_eq!(
        new.decrypt(Some(b"new password"), false).unwrap().seeds(),
        key.seeds()
    );
    assert!(matches!(
        reencrypt(&file, Some(b"bad"), b"x", fast(), false),
        Err(KeystoreError::WrongPassword)
    ));

    // Plaintext to encrypted, only when allowed.
    let plain = KeyFile::plaintext("p", &key);
    assert!(matches!(
        reencrypt(&plain, None, b"pw", fast(), false),
        Err(KeystoreError::PlaintextRefused)
    ));
    let sealed = reencrypt(&plain, None, b"pw", fast(), true).unwrap();
    assert!(sealed.is_encrypted());
    assert_eq!(
        sealed.decrypt(Some(b"pw"), false).unwrap().seeds(),
        key.seeds()
    );
}

#[test]
fn import_from_seed_hex() {
    let seed = [7u8; 32];
    let expected = SecretKey::from_seeds(Scheme::Ed25519, &seed)
        .unwrap()
        .public_key();
    let hex_seed = format!(" {}\n", hex::encode(seed));
    let sealed = from_seed_hex("imp", Scheme::Ed25519, &hex_seed, Some(PW), fast()).unwrap();
    assert!(sealed.is_encrypted());
    assert_eq!(sealed.public_key(), &expected);
    assert_eq!(sealed.decrypt(Some(PW), false).unwrap().seeds(), seed);
    let plain = from_seed_hex("imp", Scheme::Ed25519, &hex_seed, None, fast()).unwrap();
    assert!(!plain.is_encrypted());
    assert_eq!(plain.decrypt(None, true).unwrap().public_key(), expected);

    let hybrid = from_seed_hex("h", Scheme::Hybrid, &hex::encode([9u8; 64]), None, fast()).unwrap();
    assert_eq!(hybrid.scheme(), Scheme::Hybrid);
    assert!(matches!(
        from_seed_hex("h", Scheme::Hybrid, &hex::encode(seed), None, fast()),
        Err(KeystoreError::Key(_))
    ));
    assert!(matches!(
        from_seed_hex("x", Scheme::Ed25519, "not hex", None, fast()),
        Err(KeystoreError::Key(_))
    ));
    assert!(matches!(
        from_seed_hex("../x", Scheme::Ed25519, &hex_seed, None, fast()),
        Err(KeystoreError::BadName(_))
    ));
}

#[test]
fn secrets_never_appear_in_debug_or_errors() {
    let key = SecretKey::generate(Scheme::Ed25519).unwrap();
    let seed_hex = hex::encode(key.seeds());
    let plain = KeyFile::plaintext("p", &key);
    let sealed = KeyFile::encrypt("s", &key, PW, fast()).unwrap();
    for text in [format!("{plain:?}"), format!("{sealed:?}")] {
        assert!(!text.contains(&seed_hex), "{text}");
        assert!(
            text.contains(&key.public_key().address().to_string()),
            "{text}"
        );
    }
    let err = sealed.decrypt(Some(b"guess"), false).unwrap_err();
    assert!(!format!("{err} {err:?}").contains("guess"));
}

#[test]
fn default_kdf_parameters_work() {
    let kdf = Kdf::default();
    assert_eq!(
        kdf,
        Kdf {
            m_cost_kib: 65536,
            t_cost: 3,
            p_cost: 1
        }
    );
    let key = SecretKey::generate(Scheme::Ed25519).unwrap();
    let file = KeyFile::encrypt("real", &key, PW, kdf).unwrap();
    let back = KeyFile::from_json(&file.to_json()).unwrap();
    assert_eq!(back.kdf(), Some(kdf));
    assert_eq!(back.decrypt(Some(PW), false).unwrap().seeds(), key.seeds());
}

/// A valid encrypted key file named `name`, written (mode 0600) to `dir/<name>.json`.
fn write_key(dir: &Path, name: &str) -> (KeyFile, PathBuf) {
    let key = SecretKey::generate(Scheme::Ed25519).unwrap();
    let file = KeyFile::encrypt(name, &key, PW, fast()).unwrap();
    let path = dir.join(format!("{name}.json"));
    file.write_new(&path).unwrap();
    (file, path)
}

fn assert_not_regular(r: Result<KeyFile, KeystoreError>, expected: &Path) {
    match r {
        Err(KeystoreError::NotRegularFile { path }) => assert_eq!(path, expected),
        other => panic!("{}: {other:?}", expected.display()),
    }
}

#[test]
fn symlinks_directories_and_devices_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_, target) = write_key(dir.path(), "real");
    KeyFile::read(&target).unwrap();

    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    assert_not_regular(KeyFile::read(&link), &link);
    let dangling = dir.path().join("dangling.json");
    std::os::unix::fs::symlink(dir.path().join("missing.json"), &dangling).unwrap();
    assert_not_regular(KeyFile::read(&dangling), &dangling);
    assert_not_regular(KeyFile::read(dir.path()), dir.path());
    assert_not_regular(
        KeyFile::read(Path::new("/dev/null")),
        Path::new("/dev/null"),
    );

    // A missing file is still an I/O "not found" (`Keystore::get` relies on it).
    match KeyFile::read(&dir.path().join("missing.json")) {
        Err(KeystoreError::Io { source, .. }) => {
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound)
        }
        other => panic!("{other:?}"),
    }
    let msg = KeyFile::read(&link).unwrap_err().to_string();
    assert!(msg.contains("not a regular file"), "{msg}");

    // In a keystore: a symlinked key is refused by name, and makes listing fail loudly.
    let ks_dir = dir.path().join("ks");
    let ks = Keystore::open(&ks_dir).unwrap();
    let ks_link = ks_dir.join("real.json");
    std::os::unix::fs::symlink(&target, &ks_link).unwrap();
    assert_not_regular(ks.get("real"), &ks_link);
    assert!(matches!(
        ks.list(),
        Err(KeystoreError::NotRegularFile { .. })
    ));
}

#[test]
fn fifos_are_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let ks = Keystore::open(dir.path().join("ks")).unwrap();
    let fifo = ks.dir().join("pipe.json");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("run mkfifo");
    assert!(status.success());
    fs::set_permissions(&fifo, fs::Permissions::from_mode(0o600)).unwrap();

    let (tx, rx) = mpsc::channel();
    let (f, k) = (fifo.clone(), ks.clone());
    std::thread::spawn(move || {
        let _ = tx.send((KeyFile::read(&f), k.get("pipe"), k.list()));
    });
    let Ok((read, get, list)) = rx.recv_timeout(Duration::from_secs(10)) else {
        // Unblock the reader (opening the write end completes its open) before failing.
        let _ = fs::OpenOptions::new().write(true).open(&fifo);
        panic!("reading a FIFO blocked");
    };
    assert_not_regular(read, &fifo);
    assert_not_regular(get, &fifo);
    assert!(matches!(list, Err(KeystoreError::NotRegularFile { .. })));
}

#[test]
fn keystore_directory_open_to_others_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("keys");
    fs::create_dir(&root).unwrap();
    for insecure in [0o750, 0o705, 0o770, 0o755, 0o710, 0o701] {
        fs::set_permissions(&root, fs::Permissions::from_mode(insecure)).unwrap();
        match Keystore::open(&root) {
            Err(KeystoreError::InsecureDirectory { path, mode }) => {
                assert_eq!(path, root);
                assert_eq!(mode, insecure);
            }
            other => panic!("{insecure:o}: {other:?}"),
        }
        // Refused, not silently tightened.
        assert_eq!(mode(&root), insecure);
    }
    let msg = Keystore::open(&root).unwrap_err().to_string();
    assert!(msg.contains("chmod 700"), "{msg}");

    fs::set_permissions(&root, fs::Permissions::from_mode(0o700)).unwrap();
    Keystore::open(&root).unwrap();
    // A symbolic link to a private directory is fine; to an open one, refused.
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&root, &link).unwrap();
    Keystore::open(&link).unwrap();
    fs::set_permissions(&root, fs::Permissions::from_mode(0o755)).unwrap();
    assert!(matches!(
        Keystore::open(&link),
        Err(KeystoreError::InsecureDirectory { .. })
    ));

    // A regular file where the directory should be.
    let file = dir.path().join("file");
    fs::write(&file, "x").unwrap();
    assert!(matches!(
        Keystore::open(&file),
        Err(KeystoreError::Io { .. })
    ));
}

#[test]
fn serde_deserialization_validates() {
    let key = SecretKey::generate(Scheme::Ed25519).unwrap();
    let other = SecretKey::generate(Scheme::Ed25519).unwrap();
    let file = KeyFile::encrypt("a", &key, PW, fast()).unwrap();

    // A valid file deserializes through plain serde, too.
    let back: KeyFile = serde_json::from_str(&file.to_json()).unwrap();
    assert_eq!(back.to_json(), file.to_json());
    let back: KeyFile = serde_json::from_value(serde_json::to_value(&file).unwrap()).unwrap();
    back.decrypt(Some(PW), false).unwrap();

    let tampered: &[fn(&mut Value, &SecretKey)] = &[
        |v, o| v["address"] = Value::String(o.public_key().address().to_string()),
        |v, o| v["public_key"] = Value::String(o.public_key().to_string()),
        |v, _| v["scheme"] = "mldsa65".into(),
        |v, _| v["name"] = "../escape".into(),
        |v, _| v["version"] = 2.into(),
        |v, _| v["secret"]["m_cost_kib"] = u32::MAX.into(),
        |v, _| v["secret"]["salt"] = "00ff".into(),
        |v, _| v["secret"]["ciphertext"] = "00".into(),
        |v, _| v["extra"] = 1.into(),
    ];
    for (i, tamper) in tampered.iter().enumerate() {
        let mut v: Value = serde_json::from_str(&file.to_json()).unwrap();
        tamper(&mut v, &other);
        let text = serde_json::to_string(&v).unwrap();
        assert!(serde_json::from_str::<KeyFile>(&text).is_err(), "case {i}");
        assert!(serde_json::from_value::<KeyFile>(v).is_err(), "case {i}");
        assert!(KeyFile::from_json(&text).is_err(), "case {i}");
    }
}

#[test]
fn empty_password_is_refused() {
    let key = SecretKey::generate(Scheme::Ed25519).unwrap();
    assert!(matches!(
        KeyFile::encrypt("a", &key, b"", fast()),
        Err(KeystoreError::EmptyPassword)
    ));
    let file = KeyFile::encrypt("a", &key, PW, fast()).unwrap();
    assert!(matches!(
        reencrypt(&file, Some(PW), b"", fast(), false),
        Err(KeystoreError::EmptyPassword)
    ));
    assert!(matches!(
        from_seed_hex(
            "a",
            Scheme::Ed25519,
            &hex::encode([7u8; 32]),
            Some(b""),
            fast()
        ),
        Err(KeystoreError::EmptyPassword)
    ));
    assert_eq!(
        KeystoreError::EmptyPassword.to_string(),
        "an empty password is not allowed"
    );
}
