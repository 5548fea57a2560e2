//! Show configuration: the commented template, the file path, or the resolved values.

use depin_node::config::TEMPLATE;

use crate::cli::ConfigCmd;
use crate::cmd::Ctx;
use crate::error::{CliError, CliResult};
use crate::output::Format;

/// Run `depin config …`.
pub fn run(ctx: &Ctx, cmd: ConfigCmd) -> CliResult {
    match cmd {
        ConfigCmd::Default => print!("{TEMPLATE}"),
        ConfigCmd::Path => println!("{}", ctx.home.config().display()),
        ConfigCmd::Show => {
            let config = ctx.config()?;
            match ctx.output {
                Format::Json => println!("{}", serde_json::to_string_pretty(&config).map_err(CliError::fail)?),
                Format::Table => print!("{}", toml::to_string(&config).map_err(CliError::fail)?),
            }
        }
    }
    Ok(())
}
