//! The operator's commands, `saidno business` and `saidno line`, and `--business`, which points
//! the owner's commands at one hosted business. They open the store themselves: a PostgreSQL
//! database is shared by every process, and the embedded store holds one business only.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Subcommand;

use super::CliError;
use super::backend::{Backend, local, unavailable};
use crate::config::{Loaded, Settings};
use crate::domain::BusinessName;
use crate::service::{BusinessSummary, IssuedToken, LineSummary, Operator, Service};
use crate::store::open_businesses;

#[derive(Subcommand, Debug)]
pub enum BusinessCommand {
    /// Add a business and print its admin API token, shown this once.
    Add {
        /// Lower-case letters, digits and dashes
        name: String,
        /// Its own settings: TOML in the configuration file's keys (business_name, [refusal],
        /// [forward], [hours], [owner], [notify], ...), laid over the deployment's
        #[arg(long, value_name = "FILE")]
        settings: Option<PathBuf>,
    },
    /// List the businesses, each with its lines.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show a business: its lines and its own settings.
    Show { name: String },
    /// Replace a business's own settings with those in FILE (`-` for standard input).
    Settings { name: String, file: PathBuf },
    /// Issue a business a new admin API token, shown this once; the old one stops working.
    Token { name: String },
    /// Remove a business with its lines and every record it has.
    Remove {
        name: String,
        /// Do not ask first
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum LineCommand {
    /// Make a number a business's line, named with --business: its calls go to that business.
    Add {
        /// The number as you would dial it, or in E.164
        number: String,
    },
    /// Stop a number bringing calls to its business.
    Remove { number: String },
    /// List the lines and the business each brings calls to (with --business, that business's).
    List {
        #[arg(long)]
        json: bool,
    },
}

/// The operator's service on the configured store.
fn operator(loaded: Loaded, settings: &Settings) -> Result<Operator, CliError> {
    let businesses =
        open_businesses(&settings.store, &settings.database_path()).map_err(|error| unavailable(&error))?;
    Ok(Operator::new(businesses, Arc::new(loaded))?)
}

pub async fn business(command: BusinessCommand, loaded: Loaded, settings: &Settings) -> Result<(), CliError> {
    let operator = operator(loaded, settings)?;
    match command {
        BusinessCommand::Add { name, settings } => {
            let settings = settings.map(|path| read(&path)).transpose()?.unwrap_or_default();
            let issued = local(operator.add(&name, &settings).await)?;
            println!("Added business {}.", issued.business.name);
            print_token(&issued);
        }
        BusinessCommand::List { json } => {
            let businesses = local(operator.list().await)?;
            if json {
                print_json(&businesses);
            } else {
                for business in &businesses {
                    println!("{}", listed(business));
                }
            }
        }
        BusinessCommand::Show { name } => {
            let business = local(operator.show(&name).await)?;
            println!("{}", listed(&business));
            println!("added {}", business.created_at);
            println!("admin API token: {}", if business.has_token { "issued" } else { "none" });
            if !business.settings.trim().is_empty() {
                println!("settings:\n{}", business.settings.trim_end());
            }
        }
        BusinessCommand::Settings { name, file } => {
            let business = local(operator.replace_settings(&name, &read(&file)?).await)?;
            println!("The settings of {} are replaced.", business.name);
        }
        BusinessCommand::Token { name } => {
            let issued = local(operator.issue_token(&name).await)?;
            println!("Issued {} a new admin API token; the old one no longer works.", issued.business.name);
            print_token(&issued);
        }
        BusinessCommand::Remove { name, yes } => {
            let business = local(operator.show(&name).await)?;
            let question = format!(
                "Remove {} with its {} line(s), its declines, allows and call log? This cannot be undone.",
                business.name,
                business.lines.len()
            );
            if !yes && !confirmed(&question)? {
                return Err(CliError::Invalid(format!("{} was not removed", business.name)));
            }
            let removed = local(operator.remove(&name).await)?;
            println!("Removed {} and every record it had.", removed.name);
        }
    }
    Ok(())
}

pub async fn line(
    command: LineCommand,
    business: Option<&str>,
    loaded: Loaded,
    settings: &Settings,
) -> Result<(), CliError> {
    let operator = operator(loaded, settings)?;
    match command {
        LineCommand::Add { number } => {
            let business = business.ok_or_else(|| {
                CliError::Invalid("name the business the line brings calls to with --business NAME".into())
            })?;
            let line = local(operator.add_line(&number, business).await)?;
            println!("{} brings calls to {}.", line.number, line.business);
        }
        LineCommand::Remove { number } => {
            let line = local(operator.remove_line(&number).await)?;
            println!("{} no longer brings calls to {}.", line.number, line.business);
        }
        LineCommand::List { json } => {
            let mut lines = local(operator.lines().await)?;
            if let Some(business) = business {
                lines.retain(|line| line.business == business.trim());
            }
            if json {
                print_json(&lines);
            } else {
                for LineSummary { number, business } in &lines {
                    println!("{number}  {business}");
                }
            }
        }
    }
    Ok(())
}

/// The owner's commands on the business called `name`: its store, and its settings over the
/// deployment's. Only a PostgreSQL store hosts businesses other than the default one.
pub async fn backend_of(name: &str, loaded: Loaded, settings: &Settings) -> Result<(Backend, Arc<Settings>), CliError> {
    if name.trim() != BusinessName::DEFAULT && settings.store.url().is_none() {
        return Err(CliError::Invalid(format!(
            "--business {name}: only a PostgreSQL store ([store] url) hosts businesses other than the default one"
        )));
    }
    let businesses =
        open_businesses(&settings.store, &settings.database_path()).map_err(|error| unavailable(&error))?;
    let operator = Operator::new(businesses.clone(), Arc::new(loaded))?;
    let (business, business_settings) = local(operator.settings_of(name).await)?;
    let store = businesses.store_of(business.id).map_err(|error| unavailable(&error))?;
    let business_settings = Arc::new(business_settings);
    let service = Service::open(store, business_settings.clone()).map_err(|e| CliError::Unavailable(e.to_string()))?;
    Ok((Backend::Local(service), business_settings))
}

fn print_token(issued: &IssuedToken) {
    println!("Its admin API token, shown this once (keep it now; `saidno business token` issues a new one):");
    println!("{}", issued.token);
}

fn listed(business: &BusinessSummary) -> String {
    let lines = if business.lines.is_empty() { "no lines".to_owned() } else { business.lines.join(", ") };
    format!("{}  {lines}", business.name)
}

fn print_json<T: serde::Serialize>(value: &T) {
    println!("{}", serde_json::to_string_pretty(value).expect("plain records serialise"));
}

fn read(path: &Path) -> Result<String, CliError> {
    let read =
        if path.as_os_str() == "-" { std::io::read_to_string(std::io::stdin()) } else { std::fs::read_to_string(path) };
    read.map_err(|e| CliError::Invalid(format!("cannot read {}: {e}", path.display())))
}

/// Asks `question` on standard error and reads the answer; only "y" or "yes" is a yes.
fn confirmed(question: &str) -> Result<bool, CliError> {
    eprint!("{question} [y/N] ");
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| CliError::Invalid(format!("could not read the answer: {e}")))?;
    Ok(matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes"))
}
