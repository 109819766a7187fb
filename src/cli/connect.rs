//! `saidno connect PROVIDER NUMBER`: what changed on the number, or would with `--dry-run`.

use std::path::Path;

use super::{CliError, ConnectArgs};
use crate::config::Settings;
use crate::domain::PhoneNumber;
use crate::provider::connect::connect;

pub async fn run(config: Option<&Path>, args: &ConnectArgs) -> Result<(), CliError> {
    let settings = Settings::load(config)?;
    let number = PhoneNumber::parse_typed(&args.number, settings.region, false)
        .map_err(|error| CliError::Invalid(format!("{}: {error}", args.number)))?;
    if let Some(fallback) = &args.fallback
        && !fallback.starts_with("https://")
    {
        return Err(CliError::Invalid(format!("--fallback must be an https address, not {fallback}")));
    }
    let changes = connect(&settings, &args.provider, &number, args.fallback.as_deref(), args.dry_run)
        .await
        .map_err(CliError::Unavailable)?;
    if changes.is_empty() {
        println!("{number} already points at saidno; nothing changed.");
    } else {
        let width = changes.iter().map(|change| change.setting.len()).max().unwrap_or(0);
        let verb = if args.dry_run { "would change" } else { "changed" };
        println!("{number}: {verb}");
        for change in &changes {
            let from = if change.from.is_empty() { "(none)" } else { &change.from };
            let to = if change.to.is_empty() { "(none)" } else { &change.to };
            println!("  {:width$}  {from} -> {to}", change.setting);
        }
        if args.dry_run {
            println!("Nothing was changed (--dry-run).");
        }
    }
    if args.fallback.is_none() {
        println!("The fallback was left as it was: give --fallback with an answer that rings your phone.");
    }
    Ok(())
}
