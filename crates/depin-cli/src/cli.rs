//! Declare the command line: global flags and noun-verb subcommands.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use depin_types::Scheme;

use crate::output::Format;

/// depin — a management node for Decentralized Physical Infrastructure Networks.
///
/// Start a local network with `depin up --dev`, then use the other commands against it.
///
/// Exit codes: 0 ok, 1 failure, 2 usage, 3 not found, 4 rejected (signature, nonce, funds,
/// proof, wrong key password, replay mismatch), 5 node unreachable or busy (retry).
#[derive(Parser, Debug)]
#[command(name = "depin", version, about, long_about)]
pub struct Cli {
    /// Node home: config.toml, genesis.toml, node key, keys/, data/. Default: the XDG data
    /// directory (~/.local/share/depin).
    #[arg(long, global = true, env = "DEPIN_HOME")]
    pub home: Option<PathBuf>,

    /// Output format for commands that print data.
    #[arg(short = 'o', long, global = true, env = "DEPIN_OUTPUT", value_enum, default_value = "table")]
    pub output: Format,

    /// URL of the node's HTTP API. Default: the `api.listen` address of the home's config.
    #[arg(long, global = true, env = "DEPIN_NODE")]
    pub node: Option<String>,

    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a node home: config.toml (every key, commented), genesis, node key.
    Init(InitArgs),
    /// Start the node: ledger, sequencer and HTTP API, until Ctrl-C or SIGTERM.
    Up(UpArgs),
    /// Create a local network of BFT validators: one shared genesis and a dev home for each.
    #[command(subcommand)]
    Testnet(TestnetCmd),
    /// Show the node's chain id, height, state root and mempool.
    Status,
    /// Manage account keys (encrypted at rest with argon2id + XChaCha20-Poly1305).
    #[command(subcommand)]
    Keys(KeysCmd),
    /// Generate, show and revoke device keys: the key of one physical asset, named by a did:key.
    ///
    /// A device key lives on the device (in its firmware or the depin agent). It signs the
    /// device's proof of possession when the asset is registered and, later, its telemetry. It
    /// is not an account key: it holds no funds, and it belongs on the device, not in the
    /// home's keystore (`depin keys`). Its identifier is a W3C `did:key` (docs/adr/0014).
    #[command(subcommand)]
    Device(DeviceCommand),
    /// Register physical assets and manage them: list, show (with proofs), health, update,
    /// move, activate, suspend, transfer, set a manager, decommission.
    #[command(subcommand)]
    Asset(AssetCmd),
    /// Manage device vendors (add, list, revoke) and sign vendor attestations of device keys.
    #[command(subcommand)]
    Vendor(VendorCmd),
    /// Run the device agent: sign and send an asset's telemetry to a node.
    #[command(subcommand)]
    Agent(AgentCmd),
    /// Watch the node's telemetry ingest: what it accepted and refused, and why.
    #[command(subcommand)]
    Telemetry(TelemetryCmd),
    /// Look at the whole network: asset health by state, class and region.
    #[command(subcommand)]
    Network(NetworkCmd),
    /// Ask the market for resources: submit a workload (TOML or JSON spec), follow it, top up
    /// its escrow, cancel it.
    #[command(subcommand)]
    Workload(WorkloadCmd),
    /// List the leases that place workloads' replicas on assets; give notice on one (provider).
    #[command(subcommand)]
    Lease(LeaseCmd),
    /// Sell an asset's resources: set, show or clear its price sheet (owner or manager).
    #[command(subcommand)]
    Price(PriceCmd),
    /// Mint credits by burning native tokens, and show an account's credits.
    #[command(subcommand)]
    Credits(CreditsCmd),
    /// Sign and submit transactions.
    #[command(subcommand)]
    Tx(TxCmd),
    /// Read accounts, blocks and recorded evidence from the node.
    #[command(subcommand)]
    Query(QueryCmd),
    /// Work with state proofs offline.
    #[command(subcommand)]
    Proof(ProofCmd),
    /// Offline maintenance of the node's ledger (the node must be stopped).
    #[command(subcommand)]
    Ledger(LedgerCmd),
    /// Show the configuration template, path or resolved values.
    #[command(subcommand)]
    Config(ConfigCmd),
    /// Run a benchmark suite and print its report (JSON with `-o json`).
    #[command(subcommand)]
    Bench(BenchCmd),
    /// Print a shell completion script.
    Completions {
        /// Shell.
        shell: clap_complete::Shell,
    },
}

/// `depin init`
#[derive(Args, Debug)]
pub struct InitArgs {
    /// Also create a funded `dev` account key (plaintext unless DEPIN_KEY_PASSWORD is set).
    #[arg(long)]
    pub dev: bool,
    /// Chain id.
    #[arg(long, default_value = "depin-local")]
    pub chain_id: String,
    /// Signature scheme of the dev account.
    #[arg(long, default_value = "ed25519")]
    pub scheme: Scheme,
}

/// `depin testnet …`
#[derive(Subcommand, Debug)]
pub enum TestnetCmd {
    /// Write a local test network into a new or empty directory: `genesis.toml` listing
    /// `validator-0..N-1` with their p2p addresses, and a dev home `validator-<i>/` for each
    /// (plaintext node key, the funded `dev` key, `[consensus] mode = "bft"`), ready for
    /// `depin up --home DIR/validator-<i>`.
    ///
    /// Validator `i` serves its API on 127.0.0.1:P+2i and consensus p2p on 127.0.0.1:P+2i+1
    /// (P = --base-port). Genesis funds the `dev` account and each validator's own account.
    /// The keys are stored unencrypted (the `dev` key is encrypted when DEPIN_KEY_PASSWORD is
    /// set): a test network is for development only.
    Init(TestnetInitArgs),
}

/// `depin testnet init`
#[derive(Args, Debug)]
pub struct TestnetInitArgs {
    /// Number of validators (1 to 1000). 4 is the smallest network that keeps running with one
    /// validator down or faulty (BFT needs n >= 3f + 1).
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub validators: usize,
    /// Directory to create the network in; must be new or empty.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Chain id.
    #[arg(long, value_name = "ID", default_value = "depin-testnet")]
    pub chain_id: String,
    /// First port: validator i uses P+2i (API) and P+2i+1 (p2p).
    #[arg(long, value_name = "P", default_value_t = 27000)]
    pub base_port: u16,
}

/// `depin up`
#[derive(Args, Debug)]
pub struct UpArgs {
    /// Create a dev home first if the home is empty (funded `dev` account, plaintext key).
    #[arg(long)]
    pub dev: bool,
    /// Listen address of the API (overrides config and DEPIN_API_LISTEN).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Block interval in ms (overrides config).
    #[arg(long)]
    pub block_interval_ms: Option<u64>,
}

/// `depin keys …`
#[derive(Subcommand, Debug)]
pub enum KeysCmd {
    /// Generate a key and store it encrypted (password from DEPIN_KEY_PASSWORD or a prompt).
    New {
        /// Key name: letters, digits, `-`, `_`.
        name: String,
        /// Signature scheme.
        #[arg(long, default_value = "ed25519")]
        scheme: Scheme,
        /// Store the key unencrypted (dev networks only).
        #[arg(long)]
        insecure_plaintext: bool,
    },
    /// List keys.
    List,
    /// Show a key's address and public key.
    Show {
        /// Key name or address.
        key: String,
    },
    /// Import a key file (JSON, as written by `keys export`) or a raw seed.
    Import {
        /// Name to store it under.
        name: String,
        /// A key file to import.
        #[arg(long, conflicts_with = "seed_hex")]
        file: Option<PathBuf>,
        /// Raw seed in hex (32 bytes; 64 for hybrid); `-` reads it from stdin (keeps it out of
        /// the process list).
        #[arg(long, requires = "scheme")]
        seed_hex: Option<String>,
        /// Scheme of the raw seed.
        #[arg(long)]
        scheme: Option<Scheme>,
        /// Store the key unencrypted (dev networks only).
        #[arg(long)]
        insecure_plaintext: bool,
    },
    /// Export a key file (still encrypted) to a file or stdout.
    Export {
        /// Key name or address.
        key: String,
        /// Output file (mode 0600); stdout if absent.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// `depin device …`
#[derive(Subcommand, Debug)]
pub enum DeviceCmd {
    /// Generate a device key into a new key file (mode 0600) and print its did:key.
    ///
    /// The file has the format of account key files (as `depin keys export` writes them),
    /// encrypted with a password from DEPIN_KEY_PASSWORD or a prompt; with --insecure-plaintext
    /// it is stored unencrypted, for devices that start unattended with no one to type a
    /// password. Copy it onto the device. An existing file is never replaced without --force.
    Keygen(DeviceKeygenArgs),
    /// Print a device key file's did:key, scheme and public key (no password needed).
    Show {
        /// The device key file.
        file: PathBuf,
    },
}

/// `depin device keygen`
#[derive(Args, Debug)]
pub struct DeviceKeygenArgs {
    /// The key file to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Signature scheme: ed25519, mldsa65 (post-quantum) or hybrid (both; a signature is valid
    /// only if both parts verify).
    #[arg(long, default_value = "ed25519")]
    pub scheme: Scheme,
    /// Name recorded in the key file: letters, digits, `-`, `_`. Default: the file name without
    /// its extension (other characters become `-`).
    #[arg(long)]
    pub name: Option<String>,
    /// Replace an existing key file at --out (the key it held is lost).
    #[arg(long)]
    pub force: bool,
    /// Store the key unencrypted, for devices with no one to type a password: anyone who can
    /// read the file can sign as the device.
    #[arg(long)]
    pub insecure_plaintext: bool,
}

/// `depin device …`: the key commands of [`DeviceCmd`] and `revoke`, which signs a transaction.
#[derive(Subcommand, Debug)]
pub enum DeviceCommand {
    /// Key commands (no node needed).
    #[command(flatten)]
    Key(DeviceCmd),
    /// Revoke a device key on the ledger: its asset is suspended at once and the key can never
    /// register as vendor-attested again (rule R-12).
    ///
    /// Signed by the vendor that attested the device (`--from VENDOR_KEY`, the vendor's key in
    /// this home's keystore, which pays the fee) or by a validator (`--as-node`, or `--from` a
    /// validator's account key).
    ///
    /// Example: depin device revoke did:key:z6Mk… --from acme
    Revoke(DeviceRevokeArgs),
}

/// `depin device revoke`
#[derive(Args, Debug)]
pub struct DeviceRevokeArgs {
    /// The device's public key: a did:key, or `SCHEME:HEX` as `depin device show` prints it.
    #[arg(value_name = "DEVICE_PUBKEY", required_unless_present = "device_key", conflicts_with = "device_key")]
    pub device: Option<String>,
    /// Read the device's public key from its key file instead (no password needed).
    #[arg(long, value_name = "FILE")]
    pub device_key: Option<PathBuf>,
    #[command(flatten)]
    pub signer: PrivilegedSigner,
    #[command(flatten)]
    pub common: TxCommon,
}

/// Who signs a transaction that only a validator (or, for device revocations, a vendor) may
/// send: exactly one of `--from` and `--as-node`.
#[derive(Args, Debug)]
#[group(required = true, multiple = false)]
pub struct PrivilegedSigner {
    /// Sign with this key of the home's keystore (name or address).
    #[arg(long, value_name = "KEY")]
    pub from: Option<String>,
    /// Sign with the home's node key (node_key.json): a validator key. Its account pays the fee,
    /// so it must have been funded (in a dev home: `depin tx transfer --from dev --to ADDRESS
    /// --amount 1000000`, ADDRESS from `depin status`).
    #[arg(long)]
    pub as_node: bool,
}

/// The signer and transaction flags of the `depin asset` commands that change the ledger.
#[derive(Args, Debug)]
pub struct AssetTxArgs {
    /// The account that signs (the owner, or for some changes the manager): a key name or
    /// address of the home's keystore. Default: the home's only key.
    #[arg(long, value_name = "KEY")]
    pub from: Option<String>,
    #[command(flatten)]
    pub common: TxCommon,
}

/// `depin asset …`
#[derive(Subcommand, Debug)]
pub enum AssetCmd {
    /// Register one asset: sign its proof of possession with the device key and lock its bond.
    ///
    /// The device key file comes from `depin device keygen` (its password from
    /// DEPIN_KEY_PASSWORD or a prompt; a key written with --insecure-plaintext needs none). The
    /// asset's id is the hash of the device key; it is also named by the key's did:key. The
    /// bond defaults to the class's current bond and the location is indexed at the registry's
    /// resolution, both read from the node (GET /api/v1/registry/params).
    ///
    /// Capacity keys by class (`--capacity k=v,k=v`; numbers may contain `_`):
    ///   wireless  band, range_m
    ///   compute   cpu_cores, memory_mib, arch, gpu=MODEL:COUNT (repeatable)
    ///   storage   bytes, media, redundancy
    ///   energy    source, peak_w, storage_wh (optional)
    ///   sensor    kind (repeatable), sample_period_ms
    ///   mining    algorithm, hashrate_hps
    ///
    /// A capacity, name, location or bond that the ledger would refuse is reported with exit
    /// code 2 before anything is signed.
    ///
    /// Example:
    ///   depin device keygen --out gpu-01.json --insecure-plaintext
    ///   depin asset register --class compute --device-key gpu-01.json \
    ///     --location 48.8584,2.2945 --name gpu-01 --from dev \
    ///     --capacity cpu_cores=32,memory_mib=131072,arch=x86_64,gpu=h100:8
    #[command(verbatim_doc_comment)]
    Register(AssetRegisterArgs),
    /// Register many assets listed in a TOML file, in transactions of at most 64, in order.
    ///
    /// Every entry is checked (capacity, location, name, energy, bond, attestation, device key
    /// file) before anything is signed; one line is printed per transaction. Relative paths are
    /// relative to the fleet file. Each device key file's password comes from
    /// DEPIN_KEY_PASSWORD or a prompt. A rejected batch stops the run (exit 4); the batches
    /// before it stay registered.
    ///
    /// File format: one [[asset]] table per asset.
    ///
    ///   [[asset]]
    ///   class = "compute"                    # wireless, compute, storage, energy, sensor, mining
    ///   device_key = "keys/gpu-01.json"      # from `depin device keygen`
    ///   location = "48.8584,2.2945"          # LAT,LON or an H3 cell in hex
    ///   capacity = "cpu_cores=32,memory_mib=131072,arch=x86_64,gpu=h100:8"
    ///   name = "gpu-01"                      # optional, up to 64 bytes
    ///   model = "supermicro-as-4125"         # optional, up to 64 bytes
    ///   mobile = false                       # optional, default false
    ///   energy_source = "grid"               # optional, with draw_w
    ///   draw_w = 700                         # optional, with energy_source
    ///   bond = "100000000"                   # optional, default: the class's bond
    ///   vendor_attestation = "att/gpu-01.json"  # optional, from `depin vendor attest`
    ///
    ///   [[asset]]
    ///   class = "sensor"
    ///   device_key = "keys/air-17.json"
    ///   location = "8c1fb46622dffff"
    ///   capacity = "kind=temperature,kind=humidity,sample_period_ms=60000"
    #[command(verbatim_doc_comment)]
    RegisterFleet(AssetRegisterFleetArgs),
    /// List assets, filtered by owner, manager, vendor, class, status or place.
    ///
    /// The table shows the start of each id (`--wide` or `-o json` for whole ids, which `asset
    /// show` and the other commands take). When more assets match than one page holds, the
    /// command for the next page is printed; `--all` follows every page.
    List(AssetListArgs),
    /// Show one asset; with --prove, verify a state proof of its record locally.
    Show {
        /// The asset id (64 hex digits) or the device's did:key.
        #[arg(value_name = "ID|DID")]
        id: String,
        /// Fetch a proof of the asset record and verify it against the state root the node
        /// reports (exit 4 if it does not verify).
        #[arg(long)]
        prove: bool,
    },
    /// Change an asset's name, model, capacity (same class) or energy profile (owner or manager).
    ///
    /// Fields not given keep their values. Capacity keys: see `depin asset register --help`.
    Update(AssetUpdateArgs),
    /// Re-assert an asset's location (owner or manager). It costs the registry's location fee,
    /// burned, on top of the transaction fee.
    Move(AssetMoveArgs),
    /// Put an asset in service (owner or manager).
    Activate {
        /// The asset id or did:key.
        #[arg(value_name = "ID|DID")]
        id: String,
        #[command(flatten)]
        tx: AssetTxArgs,
    },
    /// Take an asset out of service for maintenance (owner or manager); `activate` brings it back.
    Suspend {
        /// The asset id or did:key.
        #[arg(value_name = "ID|DID")]
        id: String,
        #[command(flatten)]
        tx: AssetTxArgs,
    },
    /// Give an asset, with its bond, to another account (owner only); its manager is cleared.
    Transfer {
        /// The asset id or did:key.
        #[arg(value_name = "ID|DID")]
        id: String,
        /// The new owner: an address (depin1…) or a key name.
        #[arg(long, value_name = "ADDR")]
        to: String,
        #[command(flatten)]
        tx: AssetTxArgs,
    },
    /// Set or clear the manager of up to 256 assets (owner only). A manager may update,
    /// move, activate and suspend an asset, never transfer or decommission it.
    SetManager {
        /// The asset ids or did:keys.
        #[arg(value_name = "ID|DID", required = true, num_args = 1..)]
        ids: Vec<String>,
        /// The manager: an address (depin1…) or a key name.
        #[arg(long, value_name = "ADDR", required_unless_present = "clear", conflicts_with = "clear")]
        manager: Option<String>,
        /// Remove the manager.
        #[arg(long)]
        clear: bool,
        #[command(flatten)]
        tx: AssetTxArgs,
    },
    /// Show an asset's health: healthy, degraded or offline now and in its last epochs, with the
    /// reasons in words, its uptime, its last report, and the node's latest refusals of its
    /// reports.
    ///
    /// With `-o json` the node's answer is printed unchanged (GET /api/v1/assets/{id}/health).
    Health {
        /// The asset id or did:key.
        #[arg(value_name = "ID|DID")]
        id: String,
        /// Past epochs to show, 0 to 100.
        #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u32).range(0..=100))]
        epochs: u32,
    },
    /// Retire an asset for good (owner only). Its bond returns to the owner after the
    /// registry's unbonding period (`unbonding_blocks` blocks); the command prints the height.
    Decommission {
        /// The asset id or did:key.
        #[arg(value_name = "ID|DID")]
        id: String,
        #[command(flatten)]
        tx: AssetTxArgs,
    },
}

/// `depin agent …`
#[derive(Subcommand, Debug)]
pub enum AgentCmd {
    /// Report an asset's telemetry to a node until Ctrl-C or SIGTERM.
    ///
    /// The agent reads the device key, asks the node (--node URL, or the home's node) for the
    /// chain id and telemetry parameters, checks that the asset is registered, then every
    /// interval measures, signs and sends one report. By default it reports this machine as a
    /// compute asset (CPU load, memory, disk and network use); --simulate CLASS reports
    /// plausible simulated metrics within the asset's registered capacity instead.
    ///
    /// One line per report is printed on stdout: its sequence number and the node's verdict
    /// (JSON Lines with -o json); progress and retries go to stderr. Sequence numbers are kept
    /// in --state-dir, so a restarted agent continues above the last one it used.
    ///
    /// When the node is overloaded (429) the agent waits as long as it says and sends the same
    /// reports again; when it is unreachable the agent keeps the reports (up to 64, while they
    /// are recent enough to count) and retries with a growing delay. It stops with an error
    /// when the asset is not registered, was re-keyed, or the node cannot verify its
    /// signatures.
    ///
    /// Example:
    ///   depin device keygen --out gpu-01.json --insecure-plaintext
    ///   depin asset register --class compute --device-key gpu-01.json ...
    ///   depin agent run --device-key gpu-01.json --node http://127.0.0.1:8787
    ///   depin agent run --device-key meter.json --simulate energy --fix 48.85,2.29
    #[command(verbatim_doc_comment)]
    Run(AgentRunArgs),
}

/// `depin agent run`
#[derive(Args, Debug)]
pub struct AgentRunArgs {
    /// The asset's device key file (from `depin device keygen`). Its password comes from
    /// DEPIN_KEY_PASSWORD or a prompt; a key written with --insecure-plaintext needs none.
    #[arg(long, value_name = "FILE")]
    pub device_key: PathBuf,
    /// Seconds between reports, 1 to 3600. Default: half a telemetry bucket of the chain (at
    /// least 1 s), so that every bucket gets a heartbeat.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub interval_s: Option<u64>,
    /// Send simulated metrics of this class, within the asset's registered capacity, instead
    /// of this machine's (which are compute metrics). It must be the asset's class.
    #[arg(long, value_name = "CLASS", value_parser = asset_class_parser())]
    pub simulate: Option<depin_types::asset::AssetClass>,
    /// Seed of the simulation (the same seed gives the same metrics). Default: from the asset
    /// id.
    #[arg(long, value_name = "S", requires = "simulate")]
    pub seed: Option<u64>,
    /// Directory for the agent's state: the last sequence number used, one file per asset
    /// (`<asset id>.seq`). Default: `agent/` in the node home (--home).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Send one report, print the node's verdict, and exit: 0 if it was accepted, 3 if the
    /// asset is not registered, 4 if the report was refused, 5 if the node stayed unreachable
    /// (after 4 attempts).
    #[arg(long)]
    pub once: bool,
    /// Attach a GNSS fix to every report: the position `LAT,LON` in decimal degrees, sent as
    /// the H3 cell at the registry's resolution.
    #[arg(long, value_name = "LAT,LON", allow_hyphen_values = true)]
    pub fix: Option<String>,
    /// The fix's stated accuracy, metres.
    #[arg(long, value_name = "M", default_value_t = 10, requires = "fix")]
    pub fix_accuracy_m: u32,
    /// Seconds to wait for the node's answer to one request, 1 to 300.
    #[arg(long, value_name = "S", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub timeout_s: u64,
}

/// `depin telemetry …`
#[derive(Subcommand, Debug)]
pub enum TelemetryCmd {
    /// Print the node's latest ingest results: when, which asset and sequence, and the verdict
    /// in words (accepted, or why not).
    ///
    /// The node keeps the latest results in memory (a restart starts empty). With `-o json`
    /// the node's answer is printed unchanged; with --follow, each new result is printed as one
    /// JSON line.
    Tail(TelemetryTailArgs),
}

/// `depin telemetry tail`
#[derive(Args, Debug)]
pub struct TelemetryTailArgs {
    /// Only this asset's reports: its id or did:key.
    #[arg(long, value_name = "ID|DID")]
    pub asset: Option<String>,
    /// How many of the latest results to show first, 1 to 1000.
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub limit: u32,
    /// Keep polling every second and print new results as they arrive, until Ctrl-C.
    #[arg(short, long)]
    pub follow: bool,
}

/// `depin network …`
#[derive(Subcommand, Debug)]
pub enum NetworkCmd {
    /// Count the network's registered and active assets by health now: healthy, degraded and
    /// offline, in total, by class and by region (H3 cells at resolution 4).
    ///
    /// With `-o json` the node's answer is printed unchanged (GET /api/v1/network/health).
    Health,
}

/// `depin asset register`
#[derive(Args, Debug)]
pub struct AssetRegisterArgs {
    /// Asset class.
    #[arg(long, value_name = "CLASS", value_parser = asset_class_parser())]
    pub class: depin_types::asset::AssetClass,
    /// The device key file (from `depin device keygen`): Ed25519 or hybrid.
    #[arg(long, value_name = "FILE")]
    pub device_key: PathBuf,
    /// Where the asset is: `LAT,LON` in decimal degrees, or an H3 cell in hex (a finer cell is
    /// coarsened to the registry's resolution).
    #[arg(long, value_name = "LAT,LON|H3", allow_hyphen_values = true)]
    pub location: String,
    /// Capacity as `key=value,…` (keys by class above).
    #[arg(long, value_name = "K=V,...")]
    pub capacity: String,
    /// The asset moves (vehicles, trackers): its location is where it is based.
    #[arg(long)]
    pub mobile: bool,
    /// A name for people, up to 64 bytes.
    #[arg(long)]
    pub name: Option<String>,
    /// Make and model, up to 64 bytes.
    #[arg(long)]
    pub model: Option<String>,
    #[command(flatten)]
    pub energy: EnergyArgs,
    /// Bond to lock, in base units: at least the class's bond (the default).
    #[arg(long, value_name = "AMOUNT")]
    pub bond: Option<String>,
    /// A vendor attestation of the device key (JSON from `depin vendor attest`).
    #[arg(long, value_name = "FILE")]
    pub vendor_attestation: Option<PathBuf>,
    #[command(flatten)]
    pub tx: AssetTxArgs,
}

/// An asset's energy profile: what it draws and from where.
#[derive(Args, Debug)]
pub struct EnergyArgs {
    /// Where its power comes from (with --draw-w).
    #[arg(long, value_name = "SOURCE", requires = "draw_w", value_parser = energy_source_parser())]
    pub energy_source: Option<depin_types::asset::EnergySource>,
    /// Expected average draw in watts, 0 to 10000000 (with --energy-source).
    #[arg(long, value_name = "W", requires = "energy_source")]
    pub draw_w: Option<u32>,
}

/// `depin asset register-fleet`
#[derive(Args, Debug)]
pub struct AssetRegisterFleetArgs {
    /// The fleet file (TOML, format above).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Leave out the entries whose device is already registered (to finish a run that stopped
    /// part way) instead of refusing the file.
    #[arg(long)]
    pub skip_registered: bool,
    #[command(flatten)]
    pub tx: AssetTxArgs,
}

/// `depin asset list`
#[derive(Args, Debug)]
pub struct AssetListArgs {
    /// Only assets of this owner: an address (depin1…) or a key name.
    #[arg(long, value_name = "ADDR|KEY")]
    pub owner: Option<String>,
    /// Only assets managed by this account: an address or a key name.
    #[arg(long, value_name = "ADDR|KEY")]
    pub manager: Option<String>,
    /// Only assets attested by this vendor: its public key (did:key or SCHEME:HEX) or a key name.
    #[arg(long, value_name = "PUBKEY")]
    pub vendor: Option<String>,
    /// Only assets of this class.
    #[arg(long, value_name = "CLASS", value_parser = asset_class_parser())]
    pub class: Option<depin_types::asset::AssetClass>,
    /// Only assets in this status (as it counts now: an asset of a revoked vendor is suspended).
    #[arg(long, value_name = "STATUS", value_parser = asset_status_parser())]
    pub status: Option<depin_types::asset::AssetStatus>,
    /// Only assets within --radius-km of this point, nearest first (one list: no cursor).
    #[arg(long, value_name = "LAT,LON", requires = "radius_km", conflicts_with_all = ["cursor", "all"], allow_hyphen_values = true)]
    pub near: Option<String>,
    /// Radius around --near, in kilometres (at most 500).
    #[arg(long, value_name = "KM", requires = "near")]
    pub radius_km: Option<f64>,
    /// Only assets in this H3 cell (hex) or any cell inside it.
    #[arg(long, value_name = "H3", conflicts_with = "near")]
    pub cell: Option<String>,
    /// Page size, 1 to 1000 (the node's default, 100, when absent).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub limit: Option<u32>,
    /// Continue after this cursor (printed at the end of the previous page).
    #[arg(long, value_name = "CURSOR", conflicts_with = "all")]
    pub cursor: Option<String>,
    /// Follow every page (at most 1000 pages).
    #[arg(long)]
    pub all: bool,
    /// Show whole ids in the table.
    #[arg(long)]
    pub wide: bool,
}

/// `depin asset update`
#[derive(Args, Debug)]
pub struct AssetUpdateArgs {
    /// The asset id or did:key.
    #[arg(value_name = "ID|DID")]
    pub id: String,
    /// New name, up to 64 bytes (empty to clear).
    #[arg(long)]
    pub name: Option<String>,
    /// New make and model, up to 64 bytes (empty to clear).
    #[arg(long)]
    pub model: Option<String>,
    /// New capacity as `key=value,…` for the asset's class (replaces the whole capacity).
    #[arg(long, value_name = "K=V,...")]
    pub capacity: Option<String>,
    #[command(flatten)]
    pub energy: EnergyArgs,
    #[command(flatten)]
    pub tx: AssetTxArgs,
}

/// `depin asset move`
#[derive(Args, Debug)]
pub struct AssetMoveArgs {
    /// The asset id or did:key.
    #[arg(value_name = "ID|DID")]
    pub id: String,
    /// The new location: `LAT,LON` or an H3 cell in hex.
    #[arg(long, value_name = "LAT,LON|H3", allow_hyphen_values = true)]
    pub location: String,
    /// The asset moves (vehicles, trackers). Default: as recorded.
    #[arg(long, conflicts_with = "fixed")]
    pub mobile: bool,
    /// The asset is installed at one place. Default: as recorded.
    #[arg(long)]
    pub fixed: bool,
    #[command(flatten)]
    pub tx: AssetTxArgs,
}

/// `depin vendor …`
#[derive(Subcommand, Debug)]
pub enum VendorCmd {
    /// Register a device vendor, whose attestations raise an asset to the vendor-attested tier
    /// (a validator only, until governance exists: --as-node or --from a validator's key).
    Add {
        /// The vendor's name, 1 to 64 bytes.
        #[arg(long)]
        name: String,
        /// The vendor's public key: a did:key, `SCHEME:HEX`, or a key name of this home.
        #[arg(long, value_name = "PUBKEY", required_unless_present = "key_file", conflicts_with = "key_file")]
        key: Option<String>,
        /// Read the vendor's public key from a key file instead (no password needed).
        #[arg(long, value_name = "FILE")]
        key_file: Option<PathBuf>,
        #[command(flatten)]
        signer: PrivilegedSigner,
        #[command(flatten)]
        common: TxCommon,
    },
    /// List the registered vendors.
    List,
    /// Revoke a vendor: its attestations stop counting and the assets it attested count as
    /// suspended (a validator only: --as-node or --from a validator's key).
    Revoke {
        /// The vendor's public key: a did:key, `SCHEME:HEX`, or a key name of this home.
        #[arg(value_name = "PUBKEY")]
        key: String,
        #[command(flatten)]
        signer: PrivilegedSigner,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Sign a vendor attestation of a device key into a JSON file, for `asset register
    /// --vendor-attestation FILE` (no transaction; the vendor must be registered by the time
    /// the asset is).
    ///
    /// An attestation names the chain: it is read from the node (`depin status`) unless
    /// --chain-id is given, which needs no node.
    Attest(VendorAttestArgs),
}

/// `depin vendor attest`
#[derive(Args, Debug)]
pub struct VendorAttestArgs {
    /// The vendor's key: a key file, or a key name or address of this home's keystore (its
    /// password from DEPIN_KEY_PASSWORD or a prompt).
    #[arg(long, value_name = "FILE|KEY")]
    pub vendor_key: String,
    /// The device's public key: a did:key or `SCHEME:HEX`.
    #[arg(long, value_name = "PUBKEY", required_unless_present = "device_key", conflicts_with = "device_key")]
    pub device: Option<String>,
    /// Read the device's public key from its key file instead (no password needed).
    #[arg(long, value_name = "FILE")]
    pub device_key: Option<PathBuf>,
    /// The attestation file to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Replace an existing file at --out.
    #[arg(long)]
    pub force: bool,
    /// The chain id (default: the node's).
    #[arg(long, value_name = "ID")]
    pub chain_id: Option<String>,
    /// Allow a plaintext vendor key file.
    #[arg(long)]
    pub insecure_plaintext: bool,
}

fn asset_class_parser() -> impl clap::builder::TypedValueParser<Value = depin_types::asset::AssetClass> {
    use depin_types::asset::AssetClass;
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(AssetClass::ALL.map(AssetClass::name))
        .map(|s| AssetClass::parse(&s).expect("invariant: clap accepts only the listed classes"))
}

fn asset_status_parser() -> impl clap::builder::TypedValueParser<Value = depin_types::asset::AssetStatus> {
    use depin_types::asset::AssetStatus;
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(AssetStatus::ALL.map(AssetStatus::name))
        .map(|s| AssetStatus::parse(&s).expect("invariant: clap accepts only the listed statuses"))
}

fn energy_source_parser() -> impl clap::builder::TypedValueParser<Value = depin_types::asset::EnergySource> {
    use depin_types::asset::ENERGY_SOURCES;
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(ENERGY_SOURCES.iter().map(|(name, _)| *name)).map(|s| {
        ENERGY_SOURCES
            .iter()
            .find(|(name, _)| *name == s)
            .map(|(_, source)| *source)
            .expect("invariant: clap accepts only the listed sources")
    })
}

/// `depin tx …`
#[derive(Subcommand, Debug)]
pub enum TxCmd {
    /// Transfer tokens.
    Transfer {
        /// Sender key name or address (from the home's keys/).
        #[arg(long)]
        from: String,
        /// Recipient: an address (depin1…) or a key name.
        #[arg(long)]
        to: String,
        /// Amount in base units.
        #[arg(long)]
        amount: String,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Burn tokens (reduces total supply).
    Burn {
        /// Sender key name or address.
        #[arg(long)]
        from: String,
        /// Amount in base units.
        #[arg(long)]
        amount: String,
        #[command(flatten)]
        common: TxCommon,
    },
    /// Show a transaction's status and receipt.
    Show {
        /// Transaction id (hex).
        id: String,
    },
}

/// Flags shared by transaction commands.
#[derive(Args, Debug)]
pub struct TxCommon {
    /// Fee in base units (default: the chain's `min_fee`, from the node's status).
    #[arg(long)]
    pub fee: Option<String>,
    /// Nonce (default: the account's next nonce from the node).
    #[arg(long)]
    pub nonce: Option<u64>,
    /// Return once the node accepted the transaction, without waiting for its block.
    #[arg(long)]
    pub no_wait: bool,
    /// Print the signed transaction as JSON and do not submit it.
    #[arg(long)]
    pub dry_run: bool,
    /// Allow a plaintext key file (dev networks).
    #[arg(long)]
    pub insecure_plaintext: bool,
}

/// `depin query …`
#[derive(Subcommand, Debug)]
pub enum QueryCmd {
    /// An account's balance and nonce; with --prove, a state proof.
    Account {
        /// Address (depin1…) or key name.
        address: String,
        /// Fetch and verify a proof against the state root.
        #[arg(long)]
        prove: bool,
        /// Save the proof to this file (implies --prove).
        #[arg(long)]
        proof_out: Option<PathBuf>,
    },
    /// A block by height, or `latest`.
    Block {
        /// Height or `latest`.
        height: String,
    },
    /// Byzantine faults recorded on the ledger (validators that signed conflicting votes).
    Evidence {
        /// Only faults of this validator (address or key name).
        #[arg(long)]
        offender: Option<String>,
        /// Page size, 1 to 1000.
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// Continue after this cursor (printed at the end of the previous page).
        #[arg(long)]
        cursor: Option<String>,
    },
}

/// `depin proof …`
#[derive(Subcommand, Debug)]
pub enum ProofCmd {
    /// Verify a saved proof against a state root, offline.
    Verify {
        /// Proof file (JSON from `query account --proof-out`).
        file: PathBuf,
        /// Trusted state root (hex).
        #[arg(long)]
        root: String,
    },
}

/// `depin ledger …`
#[derive(Subcommand, Debug)]
pub enum LedgerCmd {
    /// Audit: first bring the stored state up to the block log (as `up` does after a crash),
    /// then re-execute every block from genesis in a scratch ledger and compare the head's,
    /// the stored and the replayed state roots (the node must be stopped).
    Replay,
}

/// `depin config …`
#[derive(Subcommand, Debug)]
pub enum ConfigCmd {
    /// Print the template with every key, its default and its environment variable.
    Default,
    /// Print the config file path of the home.
    Path,
    /// Print the resolved configuration (file + environment).
    Show,
}

/// `depin bench …`
#[derive(Subcommand, Debug)]
pub enum BenchCmd {
    /// Signed transfers through decode → verify → execute → durable commit, beside raw
    /// Ed25519 verify rates, raw fsync latency and proof timings.
    Ledger {
        /// Transactions to run.
        #[arg(long, default_value_t = 100_000)]
        txs: usize,
        /// Transactions per block.
        #[arg(long, default_value_t = 10_000)]
        block_txs: usize,
        /// A small, fast run (CI smoke test).
        #[arg(long)]
        quick: bool,
    },
    /// A local network of 4 BFT validators (`depin up` children of this executable, on
    /// loopback) loaded over HTTP with pre-signed transfers from many funded senders: finalized
    /// tx/s and finality latency (submit to committed, p50/p99), beside the raw single-thread
    /// Ed25519 verify rate. Takes a 3 s warm-up plus --seconds, plus startup and funding.
    Consensus(BenchConsensusArgs),
    /// Register assets (1,000,000 by default) in signed batches of 64 per transaction and 100
    /// transactions per block, through verify (every proof of possession) → execute → durable
    /// commit; reports assets/s, resident memory (VmRSS, peak VmHWM) and the latency of listing
    /// every asset of an owner and of an H3 res-6 cell, beside raw Ed25519 verify rates and raw
    /// fsync latency. Device keys and signatures are generated (timed apart) in chunks between
    /// blocks. Takes minutes at the default size and a few GB under $TMPDIR.
    Registry {
        /// Assets to register, 1 to 10000000.
        #[arg(long, value_name = "N", default_value_t = depin_bench::registry::DEFAULT_ASSETS as u64,
              value_parser = clap::value_parser!(u64).range(1..=depin_bench::registry::MAX_ASSETS as u64))]
        assets: u64,
        /// Owner accounts the assets are registered by (a skewed draw: a few large fleets and a
        /// long tail), 1 to 999999.
        #[arg(long, value_name = "N", default_value_t = depin_bench::registry::DEFAULT_OWNERS as u64,
              value_parser = clap::value_parser!(u64).range(1..1_000_000))]
        owners: u64,
        /// Seed of the workload (keys, descriptors, locations, owners, queries).
        #[arg(long, value_name = "S", default_value_t = depin_bench::registry::DEFAULT_SEED)]
        seed: u64,
    },
    /// Device-signed telemetry reports (1,000,000 from 2,000 assets by default) through a real
    /// node's ingest edge (checks, cofactored batch signature verification on all cores, packing
    /// into transactions) and its local sequencer (durable blocks) until the state counts every
    /// report, in batches of 1,024 from client threads; reports/s end to end, its ratio to the
    /// raw Ed25519 batch-verify rate on all cores (measured in the same run, before and after
    /// the ingest window), ingest call latency and the edge-only rate. Takes about a minute and
    /// 0.6 GB of memory.
    Ingest {
        /// Reports to ingest, spread evenly over the assets, 1 to 10000000.
        #[arg(long, value_name = "N", default_value_t = depin_bench::ingest::DEFAULT_REPORTS as u64,
              value_parser = clap::value_parser!(u64).range(1..=depin_bench::ingest::MAX_REPORTS as u64))]
        reports: u64,
        /// Assets that report (registered in fleets of 64 before the timed run), 1 to 100000.
        #[arg(long, value_name = "N", default_value_t = depin_bench::ingest::DEFAULT_ASSETS as u64,
              value_parser = clap::value_parser!(u64).range(1..=depin_bench::ingest::MAX_ASSETS as u64))]
        assets: u64,
        /// Client threads calling the ingest edge concurrently, 1 to 16 (each owns a share of the
        /// assets, so every asset's reports still arrive in order).
        #[arg(long, value_name = "N", default_value_t = depin_bench::ingest::DEFAULT_CLIENTS as u64,
              value_parser = clap::value_parser!(u64).range(1..=depin_bench::ingest::MAX_CLIENTS as u64))]
        clients: u64,
        /// A small, fast run (CI smoke test): at most 2,000 reports from 64 assets.
        #[arg(long)]
        quick: bool,
    },
    /// The allocator on a seeded problem (100,000 workloads onto 100,000 assets by default):
    /// seconds beside the greedy baseline's, placed fraction, cost against the exact optimum
    /// (branch and bound, on 100 contended instances of 24 x 24 to 80 x 80), against greedy and
    /// against a Lagrangian lower bound (at full size and on 200 x 200 instances). Takes about
    /// a minute.
    Alloc {
        /// Workloads to place (1 to 3 replicas each), 1 to 2000000.
        #[arg(long, value_name = "N", default_value_t = depin_bench::alloc::DEFAULT_WORKLOADS as u64,
              value_parser = clap::value_parser!(u64).range(1..=depin_bench::alloc::MAX_SIZE as u64))]
        workloads: u64,
        /// Assets to place them on, 1 to 2000000.
        #[arg(long, value_name = "N", default_value_t = depin_bench::alloc::DEFAULT_ASSETS as u64,
              value_parser = clap::value_parser!(u64).range(1..=depin_bench::alloc::MAX_SIZE as u64))]
        assets: u64,
        /// A small, fast run (CI smoke test): at most 2,000 workloads and 2,000 assets, timed once.
        #[arg(long)]
        quick: bool,
    },
}

/// `depin bench consensus`
#[derive(Args, Debug)]
pub struct BenchConsensusArgs {
    /// Measured seconds of load (after a 3 s warm-up), 1 to 3600.
    #[arg(long, value_name = "S", default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub seconds: u64,
    /// Funded accounts the load is spread over, 16 (one per load thread) to 50000.
    #[arg(long, value_name = "N", default_value_t = 2_000,
          value_parser = clap::value_parser!(u64).range(depin_bench::consensus::LOAD_THREADS as u64..=50_000))]
    pub senders: u64,
    /// Most transactions accepted and not yet committed, 1 to 100000. The default is the
    /// targets' product by Little's law (10000 tx/s x 1 s).
    #[arg(long, value_name = "N", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub in_flight: u64,
    /// Transfers per second the load can offer at most: this many times (3 + --seconds) are
    /// signed before the run.
    #[arg(long, value_name = "TX_PER_S", default_value_t = 15_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_rate: u64,
    /// First port: validator i uses P+2i (API) and P+2i+1 (p2p) on 127.0.0.1. Default: 8 free
    /// consecutive ports in 20000..32000.
    #[arg(long, value_name = "P", value_parser = clap::value_parser!(u16).range(1..=65_528))]
    pub base_port: Option<u16>,
}

// ---------------------------------------------------------------------------------------------
// The market: workload, lease, price, credits
// ---------------------------------------------------------------------------------------------

/// The signer and transaction flags of the market commands.
#[derive(Args, Debug)]
pub struct MarketTxArgs {
    /// The account that signs and pays the fee (the consumer of a workload, the owner or
    /// manager of an asset): a key name or address of the home's keystore. Default: the home's
    /// only key.
    #[arg(long, value_name = "KEY")]
    pub from: Option<String>,
    #[command(flatten)]
    pub common: TxCommon,
}

/// A workload's state, for `--state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum WorkloadStateArg {
    /// Waiting for placement.
    Pending,
    /// Placed.
    Running,
    /// Over (completed, cancelled, overdrawn).
    Closed,
}

impl WorkloadStateArg {
    /// The name the API takes.
    pub fn name(self) -> &'static str {
        match self {
            WorkloadStateArg::Pending => "pending",
            WorkloadStateArg::Running => "running",
            WorkloadStateArg::Closed => "closed",
        }
    }
}

/// `depin workload …`
#[derive(Subcommand, Debug)]
pub enum WorkloadCmd {
    /// Submit a workload from a TOML or JSON spec file, moving its deposit into escrow.
    ///
    /// The spec is checked before anything is signed (exit 2 if the ledger would refuse it).
    /// At the end of the block the allocator places its replicas on priced, in-service assets
    /// that report telemetry, or records why it could not (`depin workload show ID`).
    ///
    /// Spec fields (docs/examples/workload-compute.toml, workload-storage.json):
    ///   name = "web"                       # optional, up to 64 bytes
    ///   class = "compute"                  # wireless, compute, storage, energy, sensor, mining
    ///   replicas = 2                       # 1 to 16
    ///   duration_epochs = 24               # epochs it runs once placed
    ///   max_price = 500                    # credits per replica per epoch, at most
    ///   resources = [{ unit = "vcpu_epoch", amount = 4 }, { unit = "memory_gib_epoch", amount = 8 }]
    ///   regions = ["851fb467fffffff", "48.85,2.35@5"]   # optional: H3 cells, or LAT,LON@RES
    ///   near = { lat = 48.85, lon = 2.35, max_km = 50 } # optional (or cell = "H3", max_m)
    ///   anti_affinity = { distinct_owners = true }      # and distinct_cells_res, distinct_energy
    ///   min_tier = "self_declared"         # or "vendor_attested"
    ///   min_uptime_permille = 0            # recent uptime required
    ///   green_only = false                 # solar, wind or hydro only
    ///   sla_uptime_permille = 900          # below it, an epoch is not paid
    ///   gpu_model = "h100"                 # compute: only assets whose GPUs are all h100
    ///   max_metered_price = 0              # credits per GB served / kWh delivered / reading
    ///
    /// Units by class: compute vcpu_epoch, memory_gib_epoch, gpu_epoch; storage gb_epoch_stored;
    /// wireless coverage_cell_epoch; energy kwh_stored; sensor stream_epoch; mining
    /// hashrate_th_epoch.
    #[command(verbatim_doc_comment)]
    Submit(WorkloadSubmitArgs),
    /// List workloads (all, or a consumer's), optionally in one state.
    List(WorkloadListArgs),
    /// Show a workload: state, escrow and its notice, leases with asset, price and cost terms,
    /// and, when not fully placed, why (the reason and how many assets each filter left).
    Show {
        /// The workload id.
        id: u64,
    },
    /// Cancel a workload (its consumer): its leases close and the escrow is refunded.
    Cancel {
        /// The workload id.
        id: u64,
        #[command(flatten)]
        tx: MarketTxArgs,
    },
    /// Add credits to a workload's escrow (its consumer).
    TopUp {
        /// The workload id.
        id: u64,
        /// Credits to add (base units), > 0.
        credits: String,
        #[command(flatten)]
        tx: MarketTxArgs,
    },
}

/// `depin workload submit`
#[derive(Args, Debug)]
pub struct WorkloadSubmitArgs {
    /// The spec file: TOML (`.toml`) or JSON (`.json`).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Credits to put in escrow (base units). Default: enough for the whole run, max_price ×
    /// replicas × duration_epochs; what is not spent is refunded when the workload closes. At
    /// least max_price × replicas × min_escrow_epochs (`depin` reads it from the node).
    #[arg(long, value_name = "CREDITS")]
    pub deposit: Option<String>,
    #[command(flatten)]
    pub tx: MarketTxArgs,
}

/// `depin workload list`
#[derive(Args, Debug)]
pub struct WorkloadListArgs {
    /// Only this consumer's workloads: an address (depin1…) or a key name.
    #[arg(long, value_name = "ADDR|KEY")]
    pub consumer: Option<String>,
    /// Only workloads in this state.
    #[arg(long, value_enum, value_name = "STATE")]
    pub state: Option<WorkloadStateArg>,
    /// Page size, 1 to 1000.
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub limit: u32,
    /// Continue after a previous page (the cursor it printed).
    #[arg(long, value_name = "CURSOR")]
    pub cursor: Option<String>,
}

/// `depin lease …`
#[derive(Subcommand, Debug)]
pub enum LeaseCmd {
    /// List leases, filtered by asset, consumer, workload, or open only.
    List(LeaseListArgs),
    /// Show one lease: asset, provider, price, cost terms, state, what was paid.
    Show {
        /// The lease id.
        id: u64,
    },
    /// Give notice on a lease (the asset's owner or manager): it ends after the market's notice
    /// period and its replica is placed elsewhere.
    End {
        /// The lease id.
        id: u64,
        #[command(flatten)]
        tx: MarketTxArgs,
    },
}

/// `depin lease list`
#[derive(Args, Debug)]
pub struct LeaseListArgs {
    /// Only leases on this asset: its id or the device's did:key.
    #[arg(long, value_name = "ID|DID")]
    pub asset: Option<String>,
    /// Only leases of this consumer: an address (depin1…) or a key name.
    #[arg(long, value_name = "ADDR|KEY")]
    pub consumer: Option<String>,
    /// Only leases of this workload.
    #[arg(long, value_name = "ID")]
    pub workload: Option<u64>,
    /// Only open leases (not closed).
    #[arg(long)]
    pub open: bool,
    /// Page size, 1 to 1000.
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub limit: u32,
    /// Continue after a previous page (the cursor it printed).
    #[arg(long, value_name = "CURSOR")]
    pub cursor: Option<String>,
}

/// `depin price …`
#[derive(Subcommand, Debug)]
pub enum PriceCmd {
    /// Publish an asset's prices (owner or manager), replacing any previous sheet. Running
    /// leases keep the price they were placed at.
    ///
    /// Example: depin price set --asset ID --price vcpu_epoch=10 --price memory_gib_epoch=2
    Set(PriceSetArgs),
    /// Show an asset's prices, capacity, reserved and free units.
    Show {
        /// The asset id or the device's did:key.
        #[arg(long, value_name = "ID|DID")]
        asset: String,
    },
    /// Withdraw an asset's prices (owner or manager): it takes no new leases.
    Clear {
        /// The asset id or the device's did:key.
        #[arg(long, value_name = "ID|DID")]
        asset: String,
        #[command(flatten)]
        tx: MarketTxArgs,
    },
}

/// `depin price set`
#[derive(Args, Debug)]
pub struct PriceSetArgs {
    /// The asset id or the device's did:key.
    #[arg(long, value_name = "ID|DID")]
    pub asset: String,
    /// A price: UNIT=CREDITS per unit per epoch (repeat for each unit of the class; units left
    /// out are not for sale). Units: compute vcpu_epoch, memory_gib_epoch, gpu_epoch; storage
    /// gb_epoch_stored; wireless coverage_cell_epoch; energy kwh_stored; sensor stream_epoch;
    /// mining hashrate_th_epoch. Optionally one metered unit, charged per unit served from the
    /// asset's telemetry (only workloads with max_metered_price at or above it are placed):
    /// storage and wireless gb_served, energy kwh_delivered, sensor reading.
    #[arg(long, value_name = "UNIT=CREDITS", required = true)]
    pub price: Vec<String>,
    /// Shortest lease accepted, in epochs (0: any).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub min_lease_epochs: u32,
    #[command(flatten)]
    pub tx: MarketTxArgs,
}

/// `depin credits …`
#[derive(Subcommand, Debug)]
pub enum CreditsCmd {
    /// Burn native tokens for credits at the market's price (credits_per_token_num /
    /// credits_per_token_den, `GET /api/v1/market`).
    Mint {
        /// Tokens to burn (base units), > 0.
        #[arg(value_name = "TOKENS")]
        tokens: String,
        #[command(flatten)]
        tx: MarketTxArgs,
    },
    /// Show an account's credits (outside escrows).
    Show {
        /// An address (depin1…) or a key name. Default: the home's only key.
        #[arg(value_name = "ADDR")]
        address: Option<String>,
    },
}
