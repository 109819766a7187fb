//! `saidno doctor` on the command line: prints each finding and fails when one needs fixing.

use std::path::Path;

use super::CliError;

pub async fn run(config: Option<&Path>) -> Result<(), CliError> {
    let _findings = crate::doctor::examine(config).await;
    Err(CliError::Unavailable("doctor is not built yet".into()))
}
