//! Dispatch subcommands and hold what they share: home, output format, node client, passwords.

mod agent;
mod asset;
mod bench;
mod config;
mod device;
mod health;
mod init;
mod keys;
mod ledger;
mod market;
mod network;
mod proof;
mod query;
mod status;
mod telemetry;
mod testnet;
mod tx;
mod up;
mod vendor;

use std::io::IsTerminal;
use std::path::PathBuf;

use depin_keystore::Keystore;
use depin_node::{Home, NodeConfig};

use crate::cli::{Cli, Command, DeviceCommand};
use crate::client::Client;
use crate::error::{CliError, CliResult, ExitCode};
use crate::output::Format;

/// What every command may use.
pub struct Ctx {
    /// The node home.
    pub home: Home,
    /// Output format.
    pub output: Format,
    node: Option<String>,
}

impl Ctx {
    /// The resolved configuration of the home (file, then environment).
    pub fn config(&self) -> CliResult<NodeConfig> {
        NodeConfig::load(&self.home.config(), std::env::vars()).map_err(CliError::fail)
    }

    /// A client for the node: `--node`, else the home's `api.listen`.
    pub fn client(&self) -> CliResult<Client> {
        let base = match &self.node {
            // `127.0.0.1:8787` is taken to mean http://127.0.0.1:8787 (the API is plain HTTP on
            // loopback; TLS belongs to a reverse proxy).
            Some(url) if url.contains("://") => url.clone(),
            Some(url) => format!("http://{url}"),
            None => format!("http://{}", self.config()?.api.listen),
        };
        Ok(Client::new(&base))
    }

    /// The home's key store.
    pub fn keystore(&self) -> CliResult<Keystore> {
        Ok(Keystore::open(self.home.keys())?)
    }
}

fn default_home() -> CliResult<PathBuf> {
    directories::ProjectDirs::from("dev", "depin", "depin")
        .map(|d| d.data_dir().to_path_buf())
        .ok_or_else(|| CliError::fail("cannot find a home directory").hint("pass --home DIR or set DEPIN_HOME"))
}

/// A password: `DEPIN_KEY_PASSWORD`, else a prompt on a terminal (twice when `confirm`).
pub fn password(prompt: &str, confirm: bool) -> CliResult<Vec<u8>> {
    if let Ok(pw) = std::env::var("DEPIN_KEY_PASSWORD") {
        if pw.is_empty() {
            return Err(CliError::with_code(ExitCode::Usage, "DEPIN_KEY_PASSWORD is set but empty"));
        }
        return Ok(pw.into_bytes());
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::with_code(ExitCode::Usage, "a key password is needed and stdin is not a terminal")
            .hint("set DEPIN_KEY_PASSWORD"));
    }
    let pw = rpassword::prompt_password(prompt).map_err(CliError::fail)?;
    if confirm && rpassword::prompt_password("Repeat the password: ").map_err(CliError::fail)? != pw {
        return Err(CliError::with_code(ExitCode::Usage, "the passwords differ"));
    }
    if pw.is_empty() {
        return Err(CliError::with_code(ExitCode::Usage, "an empty password is not allowed")
            .hint("use --insecure-plaintext for a dev key without a password"));
    }
    Ok(pw.into_bytes())
}

/// Run the parsed command line.
pub fn run(cli: Cli) -> CliResult {
    let home = match cli.home {
        Some(h) => h,
        None => default_home()?,
    };
    let ctx = Ctx { home: Home::new(home), output: cli.output, node: cli.node };
    match cli.command {
        Command::Init(args) => init::run(&ctx, &args),
        Command::Up(args) => up::run(&ctx, &args),
        Command::Testnet(cmd) => testnet::run(&ctx, cmd),
        Command::Status => status::run(&ctx),
        Command::Keys(cmd) => keys::run(&ctx, cmd),
        Command::Device(DeviceCommand::Key(cmd)) => device::run(&ctx, cmd),
        Command::Device(DeviceCommand::Revoke(args)) => vendor::revoke_device(&ctx, args),
        Command::Asset(cmd) => asset::run(&ctx, cmd),
        Command::Vendor(cmd) => vendor::run(&ctx, cmd),
        Command::Agent(cmd) => agent::run(&ctx, cmd),
        Command::Telemetry(cmd) => telemetry::run(&ctx, cmd),
        Command::Network(cmd) => network::run(&ctx, cmd),
        Command::Workload(cmd) => market::run_workload(&ctx, cmd),
        Command::Lease(cmd) => market::run_lease(&ctx, cmd),
        Command::Price(cmd) => market::run_price(&ctx, cmd),
        Command::Credits(cmd) => market::run_credits(&ctx, cmd),
        Command::Tx(cmd) => tx::run(&ctx, cmd),
        Command::Query(cmd) => query::run(&ctx, cmd),
        Command::Proof(cmd) => proof::run(&ctx, cmd),
        Command::Ledger(cmd) => ledger::run(&ctx, cmd),
        Command::Config(cmd) => config::run(&ctx, cmd),
        Command::Bench(cmd) => bench::run(&ctx, cmd),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "depin", &mut std::io::stdout());
            Ok(())
        }
    }
}
