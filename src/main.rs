use std::process::ExitCode;

use clap::Parser;
use saidno::cli::{Cli, run};

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
            ExitCode::from(error.exit_code())
        }
    }
}
