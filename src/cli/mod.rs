//! The command line: `saidno serve`, and the owner's commands, which work on the store directly
//! when no server holds it, and through the running server's admin API when one does.

mod backend;
mod client;
mod output;
mod since;

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use jiff::Timestamp;

use crate::config::{ConfigError, Settings};
use crate::domain::{Channel, RefusalMode};
use crate::service::{Format, NewAllow, NewDecline};
use crate::startup::{Application, StartupError};
use crate::store::CallQuery;
use backend::Backend;

#[derive(Parser, Debug)]
#[command(name = "saidno", version, about = "Answers the calls you already said no to, and rings you for the rest.")]
pub struct Cli {
    /// Configuration file [default: config/saidno.toml when it exists]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server: answer calls and serve the admin API.
    Serve,
    /// The numbers you said no to.
    #[command(subcommand)]
    Decline(DeclineCommand),
    /// Contacts who always ring through.
    #[command(subcommand)]
    Allow(AllowCommand),
    /// The call log, newest first.
    Log(LogArgs),
    /// Show what would happen to a call from NUMBER, and why, without a call.
    Check {
        /// The number, as you would type it (national or international form)
        number: String,
    },
    /// Write declines, the call log or a company's evidence to standard output (or --output).
    #[command(subcommand)]
    Export(ExportCommand),
    /// Read declines from a CSV or JSON file made by `saidno export declines`.
    Import(ImportArgs),
    /// The web page's sign-in.
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(Subcommand, Debug)]
pub enum ExportCommand {
    /// Every decline, in a form `saidno import` reads back unchanged.
    Declines {
        #[arg(long, default_value = "csv")]
        format: Format,
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// The call log between two moments, oldest first, as CSV.
    Calls {
        /// From then: 2026-11-03, 2026-11-03T09:00:00Z, or a span back from now such as 30d
        #[arg(long)]
        since: Option<String>,
        /// Up to (not including) then, in the same forms
        #[arg(long)]
        until: Option<String>,
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// A company's decline and every call from it since, as CSV, for a complaint.
    Evidence {
        /// The company's name, or one of its declined numbers
        company: String,
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// `declines` (the only kind that can be imported)
    #[arg(value_parser = ["declines"])]
    what: String,
    /// The file; `-` for standard input
    file: PathBuf,
    /// csv or json [default: from the file's extension, else csv]
    #[arg(long)]
    format: Option<Format>,
    /// Import the good rows and list the bad ones, instead of refusing the whole file
    #[arg(long)]
    skip_bad_rows: bool,
}

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Set the web page's password, read from standard input (one line).
    SetPassword,
}

#[derive(Subcommand, Debug)]
pub enum DeclineCommand {
    /// Record that you said no to a caller: their next call is refused.
    Add {
        number: String,
        /// The company (or person) you said no to
        #[arg(long)]
        company: Option<String>,
        /// What was said, for your records
        #[arg(long)]
        note: Option<String>,
        /// How to refuse: message (answer and say why) or reject (busy, unanswered) [default: from config]
        #[arg(long)]
        mode: Option<RefusalMode>,
        /// Who said no [default: declined_by from config]
        #[arg(long)]
        by: Option<String>,
        /// Take a number the numbering plan does not know yet
        #[arg(long)]
        force: bool,
    },
    /// Forget a decline: calls from the number ring through again.
    Remove { number: String },
    /// List the declines.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum AllowCommand {
    /// Always ring through for this number, even if it is declined.
    Add {
        number: String,
        /// Who it is
        #[arg(long)]
        name: Option<String>,
        /// Take a number the numbering plan does not know yet
        #[arg(long)]
        force: bool,
    },
    /// Remove a number from the allow list.
    Remove { number: String },
    /// List the allowed numbers.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Debug)]
pub struct LogArgs {
    /// Print JSON for other programs
    #[arg(long)]
    json: bool,
    /// Only refused calls
    #[arg(long)]
    declined: bool,
    /// Only calls since then: 2026-11-03, 2026-11-03T09:00:00Z, or a span back from now such as 7d or 12h
    #[arg(long)]
    since: Option<String>,
    /// At most this many calls
    #[arg(long, default_value_t = 50)]
    limit: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error("the server refused the admin token: {0}")]
    Unauthorized(String),
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Startup(#[from] StartupError),
}

impl CliError {
    /// 2 for input saidno will not take, 3 for a refused token, 1 for everything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Config(_) | Self::Invalid(_) => 2,
            Self::Unauthorized(_) => 3,
            Self::NotFound(_) | Self::Unavailable(_) | Self::Startup(_) => 1,
        }
    }
}

pub async fn run(cli: Cli) -> Result<(), CliError> {
    let settings = Settings::load(cli.config.as_deref())?;
    if let Command::Serve = cli.command {
        crate::telemetry::init("info");
        let application = Application::build(settings).await?;
        return application.run().await.map_err(|e| CliError::Unavailable(e.to_string()));
    }
    crate::telemetry::init("warn");
    let settings = Arc::new(settings);
    let backend = Backend::connect(settings.clone())?;
    match cli.command {
        Command::Serve => unreachable!("handled above"),
        Command::Decline(DeclineCommand::Add { number, company, note, mode, by, force }) => {
            let new =
                NewDecline { number, company, note, mode, declined_by: by, force, channel: Some(Channel::CommandLine) };
            output::declined(&backend.decline(new).await?, &settings);
        }
        Command::Decline(DeclineCommand::Remove { number }) => {
            output::decline_removed(&backend.remove_decline(&number).await?)
        }
        Command::Decline(DeclineCommand::List { json }) => {
            output::declines(&backend.declines().await?, json, &settings)
        }
        Command::Allow(AllowCommand::Add { number, name, force }) => {
            output::allowed(&backend.allow(NewAllow { number, name, force, ..Default::default() }).await?)
        }
        Command::Allow(AllowCommand::Remove { number }) => output::allow_removed(&backend.remove_allow(&number).await?),
        Command::Allow(AllowCommand::List { json }) => output::allows(&backend.allows().await?, json, &settings),
        Command::Log(args) => {
            let since = args
                .since
                .as_deref()
                .map(|text| since::parse(text, Timestamp::now(), &settings.time_zone))
                .transpose()
                .map_err(CliError::Invalid)?;
            let query = CallQuery { declined_only: args.declined, since, limit: args.limit, ..Default::default() };
            output::calls(&backend.calls(query).await?, args.json, &settings);
        }
        Command::Check { number } => output::preview(&backend.check(&number).await?),
        Command::Export(ExportCommand::Declines { format, output }) => {
            write_out(output, &backend.export_declines(format).await?)?
        }
        Command::Export(ExportCommand::Calls { since, until, output }) => {
            let when = |text: Option<String>| {
                text.map(|text| since::parse(&text, Timestamp::now(), &settings.time_zone))
                    .transpose()
                    .map_err(CliError::Invalid)
            };
            write_out(output, &backend.export_calls(when(since)?, when(until)?).await?)?
        }
        Command::Export(ExportCommand::Evidence { company, output }) => {
            write_out(output, &backend.evidence(&company).await?)?
        }
        Command::Import(args) => {
            let is_json = args.file.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("json"));
            let format = args.format.unwrap_or(if is_json { Format::Json } else { Format::Csv });
            let text = read_input(&args.file)?;
            output::imported(&backend.import_declines(text, format, args.skip_bad_rows).await?);
        }
        Command::Admin(AdminCommand::SetPassword) => {
            let mut password = String::new();
            std::io::stdin()
                .read_line(&mut password)
                .map_err(|e| CliError::Invalid(format!("could not read the password: {e}")))?;
            let password = password.trim_end_matches(['\r', '\n']).to_owned();
            backend.set_password(password).await?;
            println!("The web page's password is set.");
        }
    }
    Ok(())
}

fn write_out(path: Option<PathBuf>, text: &str) -> Result<(), CliError> {
    match path {
        Some(path) => std::fs::write(&path, text)
            .map_err(|e| CliError::Unavailable(format!("cannot write {}: {e}", path.display()))),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

fn read_input(path: &std::path::Path) -> Result<String, CliError> {
    let read =
        if path.as_os_str() == "-" { std::io::read_to_string(std::io::stdin()) } else { std::fs::read_to_string(path) };
    read.map_err(|e| CliError::Invalid(format!("cannot read {}: {e}", path.display())))
}
