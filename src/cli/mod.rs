//! The command line: `saidno serve`, and the owner's commands, which work on the store directly
//! when no server holds it, and through the running server's admin API when one does.

mod backend;
mod client;
mod output;
mod transfer;
mod when;

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use jiff::Timestamp;

use crate::config::{ConfigError, Settings};
use crate::domain::{Channel, RefusalMode};
use crate::service::{CheckRequest, NewAllow, NewDecline};
use crate::startup::{Application, StartupError};
use crate::store::CallQuery;
use backend::Backend;
use when::Spans;

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
    /// The numbers, ranges and patterns you said no to.
    #[command(subcommand)]
    Decline(DeclineCommand),
    /// Contacts who always ring through, and expected callbacks.
    #[command(subcommand)]
    Allow(AllowCommand),
    /// The call log, newest first.
    Log(LogArgs),
    /// Show what would happen to a call, and why, without a call.
    Check(CheckArgs),
    /// Let every call ring through until `saidno resume`, declines and hours included.
    Pause,
    /// End a pause: declines, hours and screening apply again.
    Resume,
    /// Write a consistent copy of the database to FILE, whether or not the server runs.
    Backup { file: PathBuf },
    /// Replace the database with a backup (with the server stopped); the old one is kept beside it.
    Restore { file: PathBuf },
}

#[derive(Subcommand, Debug)]
pub enum DeclineCommand {
    /// Record that you said no: calls from the number (or range, or pattern) are refused.
    Add(DeclineArgs),
    /// Forget a decline: calls ring through again.
    Remove {
        /// The number, or a range ending in * (`+4416329601*`)
        #[arg(required_unless_present_any = ["pattern", "caller_name"])]
        number: Option<String>,
        /// Remove the decline of this number pattern
        #[arg(long, conflicts_with_all = ["number", "caller_name"])]
        pattern: Option<String>,
        /// Remove the decline of this caller-name pattern
        #[arg(long, conflicts_with = "number")]
        caller_name: Option<String>,
    },
    /// List the declines.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Debug)]
pub struct DeclineArgs {
    /// The number as you would dial it, or a range ending in * (`'+4416329601*'`, `'+234*'`)
    #[arg(required_unless_present_any = ["pattern", "caller_name"])]
    number: Option<String>,
    /// Decline every number whose E.164 form matches this regular expression in full
    #[arg(long, conflicts_with_all = ["number", "caller_name"])]
    pattern: Option<String>,
    /// Decline every caller whose caller-name look-up matches this regular expression in full
    #[arg(long, conflicts_with = "number")]
    caller_name: Option<String>,
    /// The company (or person) you said no to; joins the company if it exists
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
    /// "Not before": the decline lapses on its own then (2027-03-01)
    #[arg(long, value_name = "WHEN")]
    not_before: Option<String>,
    /// Offer "press 1 for an existing order or appointment" on its refusals
    #[arg(long, overrides_with = "no_escape_hatch")]
    escape_hatch: bool,
    /// Never offer the escape hatch on its refusals, whatever the config says
    #[arg(long)]
    no_escape_hatch: bool,
    /// Take a number the numbering plan does not know yet
    #[arg(long)]
    force: bool,
}

#[derive(Subcommand, Debug)]
pub enum AllowCommand {
    /// Let this number ring through even if declined: always, or only in a window.
    Add {
        number: String,
        /// Who it is
        #[arg(long)]
        name: Option<String>,
        /// Ring through only from then (2026-11-24 14:00, tomorrow 14:00, 14:00)
        #[arg(long, value_name = "WHEN")]
        from: Option<String>,
        /// Ring through only until then (2026-11-24 16:00, or a span from now such as 2h)
        #[arg(long, value_name = "WHEN", conflicts_with = "for_")]
        until: Option<String>,
        /// Ring through for this long from now (2h, 30m)
        #[arg(long = "for", value_name = "SPAN")]
        for_: Option<String>,
        /// Ring through once, then lapse
        #[arg(long)]
        once: bool,
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

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The number, as you would type it (national or international form)
    #[arg(required_unless_present = "withheld")]
    number: Option<String>,
    /// A caller who withheld their number
    #[arg(long, conflicts_with = "number")]
    withheld: bool,
    /// As if the call came then (2026-11-24 19:30, tomorrow 08:00) [default: now]
    #[arg(long, value_name = "WHEN")]
    at: Option<String>,
    /// The caller-name look-up result the provider would send
    #[arg(long)]
    caller_name: Option<String>,
    /// The caller-verification result the provider would send (e.g. TN-Validation-Failed-A)
    #[arg(long)]
    verstat: Option<String>,
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
    if let Command::Restore { file } = &cli.command {
        return transfer::restore(&settings, file);
    }
    let settings = Arc::new(settings);
    let backend = Backend::connect(settings.clone())?;
    let moment = |flag: &str, text: Option<String>, spans| {
        text.map(|text| when::parse(flag, &text, Timestamp::now(), &settings.time_zone, spans))
            .transpose()
            .map_err(CliError::Invalid)
    };
    match cli.command {
        Command::Serve => unreachable!("handled above"),
        Command::Decline(DeclineCommand::Add(args)) => {
            let new = NewDecline {
                number: args.number.unwrap_or_default(),
                pattern: args.pattern,
                caller_name: args.caller_name,
                company: args.company,
                note: args.note,
                mode: args.mode,
                declined_by: args.by,
                force: args.force,
                channel: Some(Channel::CommandLine),
                not_before: moment("--not-before", args.not_before, Spans::Ahead)?,
                escape_hatch: match (args.escape_hatch, args.no_escape_hatch) {
                    (true, _) => Some(true),
                    (_, true) => Some(false),
                    _ => None,
                },
                ..Default::default()
            };
            output::declined(&backend.decline(new).await?, &settings);
        }
        Command::Decline(DeclineCommand::Remove { number, pattern, caller_name }) => {
            let target = match (number, pattern, caller_name) {
                (_, Some(pattern), _) => format!("pattern:{pattern}"),
                (_, _, Some(pattern)) => format!("caller-name:{pattern}"),
                (number, _, _) => number.unwrap_or_default(),
            };
            output::decline_removed(&backend.remove_decline(&target).await?)
        }
        Command::Decline(DeclineCommand::List { json }) => {
            output::declines(&backend.declines().await?, json, &settings)
        }
        Command::Allow(AllowCommand::Add { number, name, from, until, for_, once, force }) => {
            let until = match for_ {
                Some(span) => moment("--for", Some(span), Spans::Ahead)?,
                None => moment("--until", until, Spans::Ahead)?,
            };
            let from = moment("--from", from, Spans::Ahead)?;
            let new = NewAllow { number, name, force, from, until, once };
            output::allowed(&backend.allow(new).await?, &settings)
        }
        Command::Allow(AllowCommand::Remove { number }) => output::allow_removed(&backend.remove_allow(&number).await?),
        Command::Allow(AllowCommand::List { json }) => output::allows(&backend.allows().await?, json, &settings),
        Command::Log(args) => {
            let since = moment("--since", args.since, Spans::Back)?;
            let query = CallQuery { declined_only: args.declined, since, limit: args.limit };
            output::calls(&backend.calls(query).await?, args.json, &settings);
        }
        Command::Check(args) => {
            let request = CheckRequest {
                number: args.number,
                withheld: args.withheld,
                at: moment("--at", args.at, Spans::Ahead)?,
                caller_name: args.caller_name,
                verstat: args.verstat,
            };
            output::preview(&backend.check(request).await?)
        }
        Command::Pause => output::paused(backend.set_paused(true).await?),
        Command::Resume => output::paused(backend.set_paused(false).await?),
        Command::Backup { file } => transfer::backup(&backend, &file).await?,
        Command::Restore { .. } => unreachable!("handled above"),
    }
    Ok(())
}
