//! Lay out and create a node home: config.toml, genesis.toml, node key, keys/, data/.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use depin_keystore::{Kdf, KeyFile, Keystore};
use depin_types::genesis::GenesisValidator;
use depin_types::{Address, Amount, Genesis, GenesisAccount, Params, Scheme, SecretKey};

use crate::config::TEMPLATE;

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
    /// A non-dev home without a node key password.
    #[error("the node key of a non-dev home must be encrypted: give a password (DEPIN_KEY_PASSWORD) or use --dev")]
    NodeKeyPassword,
}

/// Create a home: directories, commented config, node key, genesis, and with `dev` a funded
/// dev account in `keys/dev.json`.
pub fn init_home(home: &Home, opts: &InitOptions) -> Result<InitReport, InitError> {
    if home.is_initialized() {
        return Err(InitError::Exists(home.root().to_path_buf()));
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| InitError::Io { path, source }
    };
    // Build and validate everything in memory first: a bad --chain-id must not leave a
    // half-written home behind.
    let node_key = SecretKey::generate(Scheme::Ed25519)?;
    let dev = if opts.dev { Some(SecretKey::generate(opts.dev_scheme)?) } else { None };
    let dev_address = dev.as_ref().map(|d| d.public_key().address());
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
    let genesis = Genesis {
        chain_id: opts.chain_id.clone(),
        genesis_time_ms: now_ms,
        params: Params::default(),
        validators: vec![GenesisValidator { name: "node0".into(), public_key: node_key.public_key() }],
        accounts: dev_address.iter().map(|a| GenesisAccount { address: *a, balance: DEV_BALANCE }).collect(),
    };
    genesis.validate()?;
    let node_file = match (&opts.node_key_password, opts.dev) {
        (Some(pw), _) => KeyFile::encrypt("node", &node_key, pw, opts.kdf)?,
        (None, true) => KeyFile::plaintext("node", &node_key),
        (None, false) => return Err(InitError::NodeKeyPassword),
    };
    let dev_file = match (&dev, &opts.dev_password) {
        (Some(d), Some(pw)) => Some(KeyFile::encrypt("dev", d, pw, opts.kdf)?),
        (Some(d), None) => Some(KeyFile::plaintext("dev", d)),
        (None, _) => None,
    };

    let data = home.ledger();
    std::fs::create_dir_all(&data).map_err(io(&data))?;
    // A node key left by an earlier init that failed before writing genesis is replaced.
    let _ = std::fs::remove_file(home.node_key());
    node_file.write_new(&home.node_key())?;
    let keystore = Keystore::open(home.keys())?;
    if let Some(file) = &dev_file {
        if keystore.get("dev").is_ok() {
            std::fs::remove_file(keystore.path_of("dev")?).map_err(io(&home.keys()))?;
        }
        keystore.insert(file)?;
    }
    if !home.config().exists() {
        std::fs::write(home.config(), TEMPLATE).map_err(io(&home.config()))?;
    }
    // Written last, atomically (temp file, fsync, rename): its existence marks the home as
    // initialized, so it must never exist half-written.
    let tmp = home.root().join(".genesis.toml.tmp");
    {
        use std::io::Write as _;
        let mut f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(genesis.to_toml().as_bytes()).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
    }
    std::fs::rename(&tmp, home.genesis()).map_err(io(&home.genesis()))?;
    Ok(InitReport {
        home: home.root().to_path_buf(),
        chain_id: genesis.chain_id,
        node_address: node_key.public_key().address(),
        dev_balance: dev_address.map(|_| DEV_BALANCE),
        dev_address,
    })
}
