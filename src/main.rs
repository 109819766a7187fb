use std::process::ExitCode;

use clap::Parser;
use saidno::cli::{Cli, run};

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
