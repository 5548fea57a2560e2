//! Lay out and create a node home: config.toml, genesis.toml, node key, keys/, data/.
//!
//! [`init_home`] creates one home (`depin init`); [`init_testnet`] creates a directory of dev
//! homes for a local network of BFT validators that share one genesis (`depin testnet init`).
//! Both build and check everything in memory, then write each home with [`write_home`].

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use depin_keystore::{Kdf, KeyFile, Keystore};
use depin_types::genesis::GenesisValidator;
use depin_types::limits::MAX_GENESIS_VALIDATORS;
use depin_types::{Address, Amount, Genesis, GenesisAccount, Hash32, Params, PublicKey, Scheme, SecretKey};
use depin_types::telemetry::TelemetryParams;

use crate::sequencer::now_ms;
use crate::config::{ConfigError, ConsensusMode, NodeConfig, TEMPLATE};

/// Paths inside a home directory.
#[derive(Clone, Debug)]
pub struct Home {
    root: PathBuf,
}

impl Home {
    /// A home rooted at `root` (not necessarily existing).
    pub fn new(root: impl Into<PathBuf>) -> Home {
        Home { root: root.into() }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }
    /// `config.toml`.
    pub fn config(&self) -> PathBuf {
        self.root.join("config.toml")
    }
    /// `genesis.toml`.
    pub fn genesis(&self) -> PathBuf {
        self.root.join("genesis.toml")
    }
    /// The node's block-signing key (mode 0600; encrypted unless the home is a dev home, then
    /// `depin up` needs `DEPIN_KEY_PASSWORD` or a prompt to start).
    pub fn node_key(&self) -> PathBuf {
        self.root.join("node_key.json")
    }
    /// Account key files.
    pub fn keys(&self) -> PathBuf {
        self.root.join("keys")
    }
    /// The ledger directory: `blocks.redb` (the block log) and `state.redb` (derived state).
    pub fn ledger(&self) -> PathBuf {
        self.root.join("data")
    }
    /// True if `depin init` ran here.
    pub fn is_initialized(&self) -> bool {
        self.genesis().exists()
    }
}

/// Options of `depin init`.
#[derive(Clone, Debug)]
pub struct InitOptions {
    /// Chain id.
    pub chain_id: String,
    /// Create and fund a `dev` account.
    pub dev: bool,
    /// Encrypt the dev key with this password; `None` writes it in plaintext (dev only).
    pub dev_password: Option<Vec<u8>>,
    /// KDF for the dev key.
    pub kdf: Kdf,
    /// Signature scheme of the dev account.
    pub dev_scheme: Scheme,
    /// Encrypt the node key with this password. Required unless `dev`: outside dev networks
    /// no key is stored in plaintext.
    pub node_key_password: Option<Vec<u8>>,
}

impl Default for InitOptions {
    fn default() -> Self {
        InitOptions {
            chain_id: "depin-local".into(),
            dev: false,
            dev_password: None,
            kdf: Kdf::default(),
            dev_scheme: Scheme::Ed25519,
            node_key_password: None,
        }
    }
}

/// What `init` created.
#[derive(Clone, Debug, serde::Serialize)]
pub struct InitReport {
    /// Home directory.
    pub home: PathBuf,
    /// Chain id.
    pub chain_id: String,
    /// Node (validator) address.
    pub node_address: Address,
    /// Dev account address, with `--dev`.
    pub dev_address: Option<Address>,
    /// Dev account balance.
    pub dev_balance: Option<Amount>,
}

/// Balance of the dev account: 1 billion tokens of 10^6 base units.
pub const DEV_BALANCE: Amount = Amount(1_000_000_000 * 1_000_000);

/// Errors from `init`.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// The home already has a genesis.
    #[error("{0} is already initialized (genesis.toml exists); use another --home or remove it")]
    Exists(PathBuf),
    /// The directory of a test network must be new or empty.
    #[error("{0} is not empty; a test network is written only into a new or empty directory")]
    NotEmpty(PathBuf),
    /// Options that cannot describe a network (validator count, ports).
    #[error("{0}")]
    Options(String),
    /// File system.
    #[error("cannot write {path}: {source}")]
    Io {
        /// Path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// Key store.
    #[error(transparent)]
    Keystore(#[from] depin_keystore::KeystoreError),
    /// Key generation.
    #[error(transparent)]
    Key(#[from] depin_crypto::KeyError),
    /// Genesis.
    #[error(transparent)]
    Genesis(#[from] depin_types::GenesisError),
    /// The config.toml text to write does not parse or validate.
    #[error("the configuration to write is invalid: {0}")]
    Config(#[from] ConfigError),
    /// A non-dev home without a node key password.
    #[error("the node key of a non-dev home must be encrypted: give a password (DEPIN_KEY_PASSWORD) or use --dev")]
    NodeKeyPassword,
}

/// Everything a home holds before it is written, built and checked in memory first so that a
/// bad value never leaves a half-written home behind.
#[derive(Clone, Debug)]
pub struct HomeContents {
    /// The genesis document (validated again before anything is written).
    pub genesis: Genesis,
    /// The node's block-signing key file (plaintext only in dev homes).
    pub node_key: KeyFile,
    /// Account key files for `keys/` (such as the funded `dev` key). A key of the same name
    /// left behind by an earlier, failed init is replaced.
    pub keys: Vec<KeyFile>,
    /// `config.toml` text; written only if the home has no config yet. It must parse and
    /// validate as a [`NodeConfig`].
    pub config: String,
}

/// Write a home: the data directory, node key, keys, config (if absent), then genesis.toml
/// last and atomically, since its existence marks the home as initialized.
pub fn write_home(home: &Home, contents: &HomeContents) -> Result<(), InitError> {
    if home.is_initialized() {
        return Err(InitError::Exists(home.root().to_path_buf()));
    }
    contents.genesis.validate()?;
    let config: NodeConfig = toml::from_str(&contents.config)
        .map_err(|e| ConfigError::Parse { path: home.config().display().to_string(), message: e.to_string() })?;
    config.validate()?;
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| InitError::Io { path, source }
    };
    let data = home.ledger();
    std::fs::create_dir_all(&data).map_err(io(&data))?;
    // A node key left by an earlier init that failed before writing genesis is replaced.
    let _ = std::fs::remove_file(home.node_key());
    contents.node_key.write_new(&home.node_key())?;
    let keystore = Keystore::open(home.keys())?;
    for file in &contents.keys {
        if keystore.get(file.name()).is_ok() {
            std::fs::remove_file(keystore.path_of(file.name())?).map_err(io(&home.keys()))?;
        }
        keystore.insert(file)?;
    }
    if !home.config().exists() {
        std::fs::write(home.config(), &contents.config).map_err(io(&home.config()))?;
    }
    write_atomically(home.root(), &home.genesis(), &contents.genesis.to_toml())
}

/// Write `text` to `path` through a temporary file in `dir` (write, fsync, rename), so that
/// `path` never exists half-written.
fn write_atomically(dir: &Path, path: &Path, text: &str) -> Result<(), InitError> {
    use std::io::Write as _;
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| InitError::Io { path: p, source }
    };
    let name = path.file_name().map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{name}.tmp"));
    {
        let mut f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(text.as_bytes()).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
    }
    std::fs::rename(&tmp, path).map_err(io(path))
}

/// A key file: encrypted under `password` if one is given, else plaintext (dev networks).
fn key_file(name: &str, key: &SecretKey, password: Option<&[u8]>, kdf: Kdf) -> Result<KeyFile, InitError> {
    Ok(match password {
        Some(pw) => KeyFile::encrypt(name, key, pw, kdf)?,
        None => KeyFile::plaintext(name, key),
    })
}


/// Create a home: directories, commented config, node key, genesis, and with `dev` a funded
/// dev account in `keys/dev.json`.
pub fn init_home(home: &Home, opts: &InitOptions) -> Result<InitReport, InitError> {
    if home.is_initialized() {
        return Err(InitError::Exists(home.root().to_path_buf()));
    }
    // Build and validate everything in memory first: a bad --chain-id must not leave a
    // half-written home behind.
    let node_key = SecretKey::generate(Scheme::Ed25519)?;
    let dev = if opts.dev { Some(SecretKey::generate(opts.dev_scheme)?) } else { None };
    let dev_address = dev.as_ref().map(|d| d.public_key().address());
    let genesis = Genesis {
        chain_id: opts.chain_id.clone(),
        genesis_time_ms: now_ms(),
        params: Params::default(),
        validators: vec![GenesisValidator { name: "node0".into(), public_key: node_key.public_key(), p2p: None }],
        // The node account exists (empty) so that the node can sign the transactions it makes
        // itself: telemetry batches from its ingest edge, evidence.
        accounts: dev_address
            .iter()
            .map(|a| GenesisAccount { address: *a, balance: DEV_BALANCE })
            .chain(std::iter::once(GenesisAccount { address: node_key.public_key().address(), balance: Amount::ZERO }))
            .collect(),
        telemetry: if opts.dev { TelemetryParams::dev() } else { TelemetryParams::default() },
        market: Default::default(),
    };
    genesis.validate()?;
    if opts.node_key_password.is_none() && !opts.dev {
        return Err(InitError::NodeKeyPassword);
    }
    let node_file = key_file("node", &node_key, opts.node_key_password.as_deref(), opts.kdf)?;
    let dev_file = dev.as_ref().map(|d| key_file("dev", d, opts.dev_password.as_deref(), opts.kdf)).transpose()?;
    let keys = dev_file.into_iter().collect();
    let contents = HomeContents { genesis, node_key: node_file, keys, config: TEMPLATE.to_string() };
    write_home(home, &contents)?;
    Ok(InitReport {
        home: home.root().to_path_buf(),
        chain_id: contents.genesis.chain_id,
        node_address: node_key.public_key().address(),
        dev_balance: dev_address.map(|_| DEV_BALANCE),
        dev_address,
    })
}

/// Balance of each validator's own account (its node key's address) in a test network: enough
/// for years of fees on the transactions a validator sends itself.
pub const TESTNET_VALIDATOR_BALANCE: Amount = Amount(1_000_000 * 1_000_000);

/// Options of `depin testnet init`.
#[derive(Clone, Debug)]
pub struct TestnetOptions {
    /// Number of validators, 1 to `MAX_GENESIS_VALIDATORS`.
    pub validators: usize,
    /// Chain id.
    pub chain_id: String,
    /// Validator `i` serves its API on 127.0.0.1:`base_port + 2i` and consensus p2p on
    /// 127.0.0.1:`base_port + 2i + 1`.
    pub base_port: u16,
    /// Encrypt the shared dev key with this password; `None` writes it in plaintext.
    pub dev_password: Option<Vec<u8>>,
    /// KDF for the dev key.
    pub kdf: Kdf,
}

impl Default for TestnetOptions {
    fn default() -> Self {
        TestnetOptions {
            validators: 4,
            chain_id: "depin-testnet".into(),
            base_port: 27_000,
            dev_password: None,
            kdf: Kdf::default(),
        }
    }
}

/// One validator of a test network, as [`init_testnet`] wrote it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TestnetValidator {
    /// Its name in genesis: `validator-<i>`.
    pub name: String,
    /// Its home directory: `<dir>/validator-<i>`.
    pub home: PathBuf,
    /// Where its HTTP API listens (`[api] listen`).
    pub api: SocketAddr,
    /// Its consensus p2p address (genesis `p2p` and `[consensus] p2p_listen`).
    pub p2p: SocketAddr,
    /// Its node key (block and vote signing, Ed25519).
    pub public_key: PublicKey,
    /// Its node key's account, funded with [`TESTNET_VALIDATOR_BALANCE`].
    pub address: Address,
}

/// What [`init_testnet`] created.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TestnetReport {
    /// The test network's directory.
    pub dir: PathBuf,
    /// The shared genesis file, `<dir>/genesis.toml` (every home has a copy).
    pub genesis: PathBuf,
    /// Chain id.
    pub chain_id: String,
    /// The genesis id every validator starts from.
    pub genesis_id: Hash32,
    /// The shared `dev` account (`keys/dev.json` in every home).
    pub dev_address: Address,
    /// Its balance.
    pub dev_balance: Amount,
    /// Each validator's own account balance.
    pub validator_balance: Amount,
    /// The validators, in genesis order.
    pub validators: Vec<TestnetValidator>,
}

/// The API and p2p addresses of validator `index`: consecutive loopback ports from `base_port`.
fn testnet_ports(base_port: u16, index: usize) -> Option<(SocketAddr, SocketAddr)> {
    let api = u16::try_from(index).ok()?.checked_mul(2)?.checked_add(base_port)?;
    let p2p = api.checked_add(1)?;
    let at = |port| SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    Some((at(api), at(p2p)))
}

/// Refuse `dir` unless it is absent or an empty directory.
fn ensure_new_or_empty(dir: &Path) -> Result<(), InitError> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => match entries.next() {
            None => Ok(()),
            Some(_) => Err(InitError::NotEmpty(dir.to_path_buf())),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => {
            Err(InitError::Options(format!("{} exists and is not a directory", dir.display())))
        }
        Err(source) => Err(InitError::Io { path: dir.to_path_buf(), source }),
    }
}

/// Create a local network of `opts.validators` BFT validators in `dir` (new or empty): one
/// genesis, `<dir>/genesis.toml`, listing `validator-0..N-1` with their p2p addresses and
/// funding a `dev` account and each validator's own account; and for each validator a dev home
/// `<dir>/validator-<i>` with that genesis, a plaintext Ed25519 node key, the `dev` key in
/// `keys/`, and a config for `bft` mode on its own API and p2p ports.
pub fn init_testnet(dir: &Path, opts: &TestnetOptions) -> Result<TestnetReport, InitError> {
    let n = opts.validators;
    if !(1..=MAX_GENESIS_VALIDATORS).contains(&n) {
        return Err(InitError::Options(format!("--validators must be 1..={MAX_GENESIS_VALIDATORS}, not {n}")));
    }
    if opts.base_port == 0 {
        return Err(InitError::Options("--base-port must be at least 1".into()));
    }
    if testnet_ports(opts.base_port, n - 1).is_none() {
        return Err(InitError::Options(format!(
            "--base-port {} leaves no room for {n} validators: they need ports {}..={} (two each)",
            opts.base_port,
            opts.base_port,
            u32::from(opts.base_port) + 2 * n as u32 - 1
        )));
    }
    ensure_new_or_empty(dir)?;

    // Everything in memory first: keys, the genesis, every home's contents.
    let dev = SecretKey::generate(Scheme::Ed25519)?;
    let dev_file = key_file("dev", &dev, opts.dev_password.as_deref(), opts.kdf)?;
    let mut node_keys = Vec::with_capacity(n);
    let mut validators = Vec::with_capacity(n);
    for i in 0..n {
        let (api, p2p) = testnet_ports(opts.base_port, i).expect("invariant: the port range was checked");
        let key = SecretKey::generate(Scheme::Ed25519)?;
        validators.push(TestnetValidator {
            name: format!("validator-{i}"),
            home: dir.join(format!("validator-{i}")),
            api,
            p2p,
            public_key: key.public_key(),
            address: key.public_key().address(),
        });
        node_keys.push(key);
    }
    let genesis = Genesis {
        chain_id: opts.chain_id.clone(),
        genesis_time_ms: now_ms(),
        params: Params::default(),
        validators: validators
            .iter()
            .map(|v| GenesisValidator {
                name: v.name.clone(),
                public_key: v.public_key.clone(),
                p2p: Some(v.p2p.to_string()),
            })
            .collect(),
        accounts: std::iter::once(GenesisAccount { address: dev.public_key().address(), balance: DEV_BALANCE })
            .chain(validators.iter().map(|v| GenesisAccount { address: v.address, balance: TESTNET_VALIDATOR_BALANCE }))
            .collect(),
        telemetry: TelemetryParams::dev(),
        market: Default::default(),
    };
    genesis.validate()?;
    let homes = validators
        .iter()
        .zip(&node_keys)
        .map(|(v, key)| {
            let mut config = NodeConfig::default();
            config.api.listen = v.api;
            config.consensus.mode = ConsensusMode::Bft;
            config.consensus.p2p_listen = v.p2p;
            HomeContents {
                genesis: genesis.clone(),
                node_key: KeyFile::plaintext("node", key),
                keys: vec![dev_file.clone()],
                config: config.to_commented_toml(),
            }
        })
        .collect::<Vec<_>>();

    std::fs::create_dir_all(dir).map_err(|source| InitError::Io { path: dir.to_path_buf(), source })?;
    for (v, contents) in validators.iter().zip(&homes) {
        write_home(&Home::new(&v.home), contents)?;
    }
    let genesis_path = dir.join("genesis.toml");
    write_atomically(dir, &genesis_path, &genesis.to_toml())?;
    Ok(TestnetReport {
        dir: dir.to_path_buf(),
        genesis: genesis_path,
        chain_id: genesis.chain_id.clone(),
        genesis_id: genesis.id(),
        dev_address: dev.public_key().address(),
        dev_balance: DEV_BALANCE,
        validator_balance: TESTNET_VALIDATOR_BALANCE,
        validators,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn testnet(validators: usize, base_port: u16) -> TestnetOptions {
        TestnetOptions { validators, base_port, ..TestnetOptions::default() }
    }

    #[test]
    fn testnet_ports_are_consecutive_and_bounded() {
        let at = |port| SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        assert_eq!(testnet_ports(27_000, 0), Some((at(27_000), at(27_001))));
        assert_eq!(testnet_ports(27_000, 3), Some((at(27_006), at(27_007))));
        assert_eq!(testnet_ports(65_532, 1), Some((at(65_534), at(65_535))));
        assert_eq!(testnet_ports(65_533, 1), None);
        assert_eq!(testnet_ports(1, 70_000), None);
    }

    #[test]
    fn init_testnet_writes_one_genesis_and_a_dev_home_per_validator() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("net");
        let report = init_testnet(&out, &testnet(3, 30_000)).unwrap();
        let genesis = Genesis::from_toml(&std::fs::read_to_string(out.join("genesis.toml")).unwrap()).unwrap();
        assert_eq!(genesis.id(), report.genesis_id);
        assert_eq!(genesis.chain_id, "depin-testnet");
        assert!(genesis.is_replicated());
        assert_eq!(report.validators.len(), 3);
        let balance = |a: Address| genesis.accounts.iter().find(|x| x.address == a).map(|x| x.balance);
        assert_eq!(balance(report.dev_address), Some(DEV_BALANCE));
        for (i, v) in report.validators.iter().enumerate() {
            let home = Home::new(&v.home);
            assert_eq!(v.home, out.join(format!("validator-{i}")));
            let own = Genesis::from_toml(&std::fs::read_to_string(home.genesis()).unwrap()).unwrap();
            assert_eq!(own, genesis, "every home has the shared genesis");
            assert_eq!(genesis.validators[i].name, v.name);
            assert_eq!(genesis.validators[i].p2p_addr().unwrap(), Some(v.p2p));
            assert_eq!(balance(v.address), Some(TESTNET_VALIDATOR_BALANCE));
            let config = NodeConfig::load(&home.config(), Vec::new()).unwrap();
            assert_eq!(config.api.listen, SocketAddr::from((Ipv4Addr::LOCALHOST, 30_000 + 2 * i as u16)));
            assert_eq!(config.consensus.mode, ConsensusMode::Bft);
            assert_eq!(config.consensus.p2p_listen, v.p2p);
            assert_eq!(v.p2p.port(), 30_001 + 2 * i as u16);
            let node = KeyFile::read(&home.node_key()).unwrap();
            assert!(!node.is_encrypted(), "a test network's homes are dev homes");
            assert_eq!(node.public_key(), &v.public_key);
            assert_eq!(node.scheme(), Scheme::Ed25519);
            let dev = Keystore::open(home.keys()).unwrap().get("dev").unwrap();
            assert_eq!(dev.address(), report.dev_address);
            assert!(home.ledger().is_dir());
        }
    }

    #[test]
    fn init_testnet_encrypts_the_dev_key_when_given_a_password() {
        let dir = tempfile::tempdir().unwrap();
        let opts = TestnetOptions {
            validators: 2,
            dev_password: Some(b"pw".to_vec()),
            kdf: Kdf::fast_for_tests(),
            ..TestnetOptions::default()
        };
        let report = init_testnet(dir.path(), &opts).unwrap();
        for v in &report.validators {
            let dev = Keystore::open(Home::new(&v.home).keys()).unwrap().get("dev").unwrap();
            assert!(dev.is_encrypted());
            assert_eq!(dev.address(), report.dev_address);
        }
    }

    #[test]
    fn init_testnet_refuses_bad_options_and_used_directories_without_writing() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("net");
        for (opts, needle) in [
            (testnet(0, 27_000), "--validators must be 1..=1000, not 0"),
            (testnet(MAX_GENESIS_VALIDATORS + 1, 27_000), "--validators must be 1..=1000"),
            (testnet(4, 0), "--base-port must be at least 1"),
            (testnet(4, 65_530), "ports 65530..=65537"),
        ] {
            match init_testnet(&out, &opts) {
                Err(InitError::Options(m)) => assert!(m.contains(needle), "{m:?} does not say {needle:?}"),
                other => panic!("expected an options error ({needle}), got {other:?}"),
            }
            assert!(!out.exists(), "nothing is written for bad options");
        }
        let bad_chain = TestnetOptions { chain_id: "Bad Id".into(), ..testnet(2, 27_000) };
        assert!(matches!(init_testnet(&out, &bad_chain), Err(InitError::Genesis(_))));
        assert!(!out.exists(), "nothing is written for a bad chain id");

        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join("notes.txt"), "mine").unwrap();
        assert!(matches!(init_testnet(&out, &testnet(2, 27_000)), Err(InitError::NotEmpty(_))));
        assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1, "a used directory is left alone");
        let file = out.join("notes.txt");
        let not_a_dir = init_testnet(&file, &testnet(2, 27_000));
        assert!(matches!(not_a_dir, Err(InitError::Options(m)) if m.contains("not a directory")));
        // An existing empty directory is fine.
        let empty = dir.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        init_testnet(&empty, &testnet(1, 27_000)).unwrap();
    }

    #[test]
    fn init_home_writes_the_template_and_a_single_node_genesis() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::new(dir.path().join("home"));
        let report =
            init_home(&home, &InitOptions { dev: true, kdf: Kdf::fast_for_tests(), ..InitOptions::default() }).unwrap();
        assert_eq!(std::fs::read_to_string(home.config()).unwrap(), TEMPLATE);
        let genesis = Genesis::from_toml(&std::fs::read_to_string(home.genesis()).unwrap()).unwrap();
        assert!(!genesis.is_replicated());
        assert_eq!(genesis.validators[0].public_key.address(), report.node_address);
        assert!(matches!(init_home(&home, &InitOptions::default()), Err(InitError::Exists(_))));
    }
}
