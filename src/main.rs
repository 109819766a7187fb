use std::process::ExitCode;

use clap::Parser;
use saidno::cli::{Cli, run};
use saidno::domain::phone::ACCEPT_ANYWAY;

// sled frees on one thread what it allocated on another, many times per call; glibc's allocator
// spends its time there and keeps the freed memory, mimalloc does neither.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // The error names the way to take a number the plan does not know in neutral words;
            // here that way is a flag.
            let hint = if error.to_string().contains(ACCEPT_ANYWAY) { " (with --force)" } else { "" };
            eprintln!("saidno: {error}{hint}");
            ExitCode::from(error.exit_code())
        }
    }
}
