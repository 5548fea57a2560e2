//! Create a node home (`depin init`).

use depin_keystore::Kdf;
use depin_node::{init_home, InitOptions};

use crate::cli::InitArgs;
use crate::cmd::Ctx;
use crate::error::{CliError, CliResult};
use crate::output;

/// Run `depin init`.
pub fn run(ctx: &Ctx, args: &InitArgs) -> CliResult {
    let opts = InitOptions {
        chain_id: args.chain_id.clone(),
        dev: args.dev,
        // A dev key is encrypted when a password is provided for automation, else plaintext:
        // `--dev` is the explicit opt-in for unencrypted keys.
        dev_password: std::env::var("DEPIN_KEY_PASSWORD").ok().map(String::into_bytes),
        kdf: Kdf::default(),
        dev_scheme: args.scheme,
        // Dev homes keep the node key in plaintext (`--dev` is the explicit opt-in); any other
        // home encrypts it.
        node_key_password: if args.dev { None } else { Some(crate::cmd::password("Node key password: ", true)?) },
    };
    let report = init_home(&ctx.home, &opts).map_err(CliError::fail)?;
    output::print(ctx.output, &report, |r| {
        let mut rows = vec![
            ("home".to_string(), r.home.display().to_string()),
            ("chain_id".to_string(), r.chain_id.clone()),
            ("node_address".to_string(), r.node_address.to_string()),
        ];
        if let (Some(a), Some(b)) = (&r.dev_address, &r.dev_balance) {
            rows.push(("dev_address".to_string(), a.to_string()));
            rows.push(("dev_balance".to_string(), b.to_string()));
        }
        rows
    });
    Ok(())
}
