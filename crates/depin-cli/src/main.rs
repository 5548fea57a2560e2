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
    quiet_on_closed_pipe();
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

/// `depin asset list | head` closes stdout early; Rust ignores SIGPIPE, so the next `println!`
/// panics. A reader that has seen enough is not an error: exit quietly with 0 instead of a panic
/// message (every other panic keeps the default report).
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        // std's `println!` says "Broken pipe", writers that `expect` an io::Error say "BrokenPipe".
        if msg.contains("Broken pipe") || msg.contains("BrokenPipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}
