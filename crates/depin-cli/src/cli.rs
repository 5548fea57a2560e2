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
    /// Generate and show device keys: the key of one physical asset, named by a did:key.
    ///
    /// A device key lives on the device (in its firmware or the depin agent). It signs the
    /// device's proof of possession when the asset is registered and, later, its telemetry. It
    /// is not an account key: it holds no funds, and it belongs on the device, not in the
    /// home's keystore (`depin keys`). Its identifier is a W3C `did:key` (docs/adr/0014).
    #[command(subcommand)]
    Device(DeviceCmd),
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
