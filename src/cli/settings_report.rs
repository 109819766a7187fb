//! `saidno config check`: the configuration in effect, secrets redacted, with each value's origin.

use std::path::Path;

use super::CliError;

pub fn check(_path: Option<&Path>) -> Result<(), CliError> {
    Err(CliError::Unavailable("config check is not built yet".into()))
}
