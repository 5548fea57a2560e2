//! Run the `depin` command line: parse arguments, dispatch, map errors to exit codes.
// The CLI owns the terminal: printing is its job.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod cli;
mod client;
mod cmd;
mod error;
mod output;

use clap::Parser;

fn main() {
    let cli = cli::Cli::parse();
    let code = match cmd::run(cli) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {}", e.message);
            if let Some(hint) = &e.hint {
                eprintln!("hint: {hint}");
            }
            e.exit_code as i32
        }
    };
    std::process::exit(code);
}
