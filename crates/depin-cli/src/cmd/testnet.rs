//! Create a local network of BFT validators (`depin testnet init`): one shared genesis and a
//! dev home per validator, written by `depin_node::home::init_testnet`.

use depin_keystore::Kdf;
use depin_node::home::{init_testnet, InitError, TestnetOptions, TestnetReport, TestnetValidator};

use crate::cli::{TestnetCmd, TestnetInitArgs};
use crate::cmd::Ctx;
use crate::error::{CliError, CliResult, ExitCode};
use crate::output::{self, Format};

/// Run `depin testnet …`.
pub fn run(ctx: &Ctx, cmd: TestnetCmd) -> CliResult {
    match cmd {
        TestnetCmd::Init(args) => init(ctx, &args),
    }
}

/// The API URL of a validator, as `--node` takes it.
fn api_url(v: &TestnetValidator) -> String {
    format!("http://{}", v.api)
}

/// The command that starts a validator.
fn start_command(v: &TestnetValidator) -> String {
    format!("depin up --home {}", v.home.display())
}

fn init(ctx: &Ctx, args: &TestnetInitArgs) -> CliResult {
    let opts = TestnetOptions {
        validators: args.validators,
        chain_id: args.chain_id.clone(),
        base_port: args.base_port,
        // As with `init --dev`: the dev key is encrypted when a password is provided for
        // automation, else plaintext.
        dev_password: std::env::var("DEPIN_KEY_PASSWORD").ok().map(String::into_bytes),
        kdf: Kdf::default(),
    };
    let report = init_testnet(&args.out, &opts).map_err(init_error)?;
    match ctx.output {
        Format::Json => print_json(&report)?,
        Format::Table => print_table(&report),
    }
    Ok(())
}

/// Bad arguments (validator count, ports, a used directory) are usage errors (exit 2).
fn init_error(e: InitError) -> CliError {
    match e {
        InitError::NotEmpty(_) => CliError::with_code(ExitCode::Usage, &e)
            .hint("choose a new directory for --out, or remove the old network first"),
        InitError::Options(_) | InitError::Genesis(_) => CliError::with_code(ExitCode::Usage, &e),
        e => CliError::fail(e),
    }
}

/// The report, with each validator's API URL and start command added.
fn print_json(report: &TestnetReport) -> CliResult {
    let mut json = serde_json::to_value(report).map_err(CliError::fail)?;
    if let Some(list) = json.get_mut("validators").and_then(|l| l.as_array_mut()) {
        for (item, v) in list.iter_mut().zip(&report.validators) {
            item["api_url"] = api_url(v).into();
            item["start"] = start_command(v).into();
        }
    }
    println!("{}", serde_json::to_string_pretty(&json).map_err(CliError::fail)?);
    Ok(())
}

fn print_table(report: &TestnetReport) {
    output::print(Format::Table, report, |r| {
        vec![
            ("dir".to_string(), r.dir.display().to_string()),
            ("genesis".to_string(), r.genesis.display().to_string()),
            ("chain_id".to_string(), r.chain_id.clone()),
            ("genesis_id".to_string(), r.genesis_id.to_hex()),
            ("dev_address".to_string(), r.dev_address.to_string()),
            ("dev_balance".to_string(), r.dev_balance.to_string()),
            ("validator_balance".to_string(), r.validator_balance.to_string()),
        ]
    });
    println!();
    output::print_list(Format::Table, &report.validators, &["name", "api_url", "p2p", "public_key", "home"], |v| {
        vec![v.name.clone(), api_url(v), v.p2p.to_string(), v.public_key.to_string(), v.home.display().to_string()]
    });
    println!();
    println!("Start each validator in its own terminal:");
    for v in &report.validators {
        println!("  {}", start_command(v));
    }
    if let Some(first) = report.validators.first() {
        println!();
        println!(
            "Then, for example: depin --home {} tx transfer --from dev --to <address> --amount 1000",
            first.home.display()
        );
    }
}
