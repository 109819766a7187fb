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
            eprintln!("saidno: {error}");
            if error.to_string().contains(ACCEPT_ANYWAY) {
                eprintln!("saidno: to accept it anyway, run the command again with --force");
            }
            ExitCode::from(error.exit_code())
        }
    }
}
