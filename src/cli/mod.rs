//! The command line: `saidno serve`, and the owner's commands, which work on the store directly
//! when no server holds it, and through the running server's admin API when one does.

mod backend;
mod checkup;
mod client;
mod connect;
mod hosting;
mod manual;
mod output;
mod settings_report;
mod transfer;

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use jiff::Timestamp;

use crate::config::{ConfigError, Loaded};
use crate::domain::{Channel, RefusalMode};
use crate::service::{CheckRequest, Format, NewAllow, NewDecline};
use crate::startup::{Application, StartupError};
use crate::store::CallQuery;
use crate::when::{self, Spans};
use backend::Backend;

#[derive(Parser, Debug)]
#[command(name = "saidno", version, about = "Answers the calls you already said no to, and rings you for the rest.")]
pub struct Cli {
    /// Configuration file [default: config/saidno.toml, else /etc/saidno/saidno.toml, when one exists]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The hosted business a command acts on (with a PostgreSQL store) [default: the default business]
    #[arg(long, global = true, value_name = "NAME")]
    pub business: Option<String>,
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
    /// Write declines, the call log or a company's evidence to standard output (or --output).
    #[command(subcommand)]
    Export(ExportCommand),
    /// Read declines from a CSV or JSON file made by `saidno export declines`.
    Import(ImportArgs),
    /// The web page's sign-in.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Keep every call of a company in the log, whatever the retention period ([log] retention_days).
    #[command(subcommand)]
    LegalHold(LegalHoldCommand),
    /// The configuration: check it, and show where each value comes from.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Check the set-up end to end and say in plain words what to fix.
    Doctor,
    /// Point a number's voice and messaging webhooks at saidno through the provider's API.
    Connect(ConnectArgs),
    /// The businesses a deployment hosts (with a PostgreSQL store), and their admin API tokens.
    #[command(subcommand)]
    Business(hosting::BusinessCommand),
    /// The numbers callers dial, each bringing calls to one business.
    #[command(subcommand)]
    Line(hosting::LineCommand),
    /// Print the shell completion script for bash, zsh or fish.
    Completions {
        #[arg(value_enum)]
        shell: manual::Shell,
    },
    /// Print the manual page (roff), made from these same command definitions.
    #[command(hide = true)]
    Manual,
}

#[derive(Args, Debug)]
pub struct ConnectArgs {
    /// The provider the number is with
    #[arg(value_parser = clap::builder::PossibleValuesParser::new(crate::provider::connect::PROVIDERS))]
    pub provider: String,
    /// The number, as you would dial it or in E.164
    pub number: String,
    /// Where the provider sends calls when saidno cannot be reached: an answer of the provider's
    /// own that rings your phone (a bin or a static answer held by the provider). Without it the number's fallback is left as it is.
    #[arg(long, value_name = "URL")]
    pub fallback: Option<String>,
    /// Say what would change, and change nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Validate the configuration and print it in effect, secrets redacted, with where each value came from.
    Check,
}

#[derive(Subcommand, Debug)]
pub enum LegalHoldCommand {
    /// Place a legal hold: none of the company's calls leaves the log while it is on.
    Add {
        /// The company's name, or one of its declined numbers
        company: String,
    },
    /// Lift a legal hold: the company's calls are pruned with the rest once past the period.
    Remove {
        /// The company's name, or one of its declined numbers
        company: String,
    },
    /// List the companies under a legal hold.
    List {
        #[arg(long)]
        json: bool,
    },
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
    // These need no configuration, or report on it themselves.
    match &cli.command {
        Command::Completions { shell } => return manual::completions(*shell),
        Command::Manual => return manual::page(),
        Command::Config(ConfigCommand::Check) => return settings_report::check(cli.config.as_deref()),
        Command::Doctor => return checkup::run(cli.config.as_deref()).await,
        Command::Connect(args) => return connect::run(cli.config.as_deref(), args).await,
        _ => {}
    }
    if cli.business.is_some() && matches!(cli.command, Command::Serve | Command::Restore { .. } | Command::Business(_))
    {
        return Err(CliError::Invalid(
            "--business names the business an owner's command or `saidno line add` acts on; it does not apply here"
                .into(),
        ));
    }
    let loaded = Loaded::read(cli.config.as_deref())?;
    let settings = loaded.settings()?;
    if let Command::Serve = cli.command {
        crate::telemetry::init("info", settings.log.format);
        let application =
            Application::build(settings).await?.with_configuration(loaded)?.reloading_from(cli.config.clone());
        return application.run().await.map_err(|e| CliError::Unavailable(e.to_string()));
    }
    crate::telemetry::init("warn", settings.log.format);
    if let Command::Restore { file } = &cli.command {
        return transfer::restore(&settings, file);
    }
    match cli.command {
        Command::Business(command) => return hosting::business(command, loaded, &settings).await,
        Command::Line(command) => return hosting::line(command, cli.business.as_deref(), loaded, &settings).await,
        _ => {}
    }
    // The embedded store's one business is the default one, reached as ever: through the running
    // server when one holds the store.
    let hosted = cli
        .business
        .as_deref()
        .filter(|name| settings.store.url().is_some() || name.trim() != crate::domain::BusinessName::DEFAULT);
    let (backend, settings) = match hosted {
        Some(name) => hosting::backend_of(name, loaded, &settings).await?,
        None => {
            let settings = Arc::new(settings);
            (Backend::connect(settings.clone())?, settings)
        }
    };
    let moment = |flag: &str, text: Option<String>, spans| {
        text.map(|text| when::parse(flag, &text, Timestamp::now(), &settings.time_zone, spans))
            .transpose()
            .map_err(CliError::Invalid)
    };
    match cli.command {
        Command::Serve => unreachable!("handled above"),
        Command::Config(_)
        | Command::Doctor
        | Command::Connect(_)
        | Command::Completions { .. }
        | Command::Manual
        | Command::Business(_)
        | Command::Line(_) => unreachable!("handled above"),
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
            let query = CallQuery { declined_only: args.declined, since, limit: args.limit, ..Default::default() };
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
        Command::Export(ExportCommand::Declines { format, output }) => {
            write_out(output, &backend.export_declines(format).await?)?
        }
        Command::Export(ExportCommand::Calls { since, until, output }) => {
            let (since, until) = (moment("--since", since, Spans::Back)?, moment("--until", until, Spans::Back)?);
            write_out(output, &backend.export_calls(since, until).await?)?
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
        Command::LegalHold(LegalHoldCommand::Add { company }) => {
            output::legal_hold(&company, &backend.set_legal_hold(&company, true).await?, &settings)
        }
        Command::LegalHold(LegalHoldCommand::Remove { company }) => {
            output::legal_hold(&company, &backend.set_legal_hold(&company, false).await?, &settings)
        }
        Command::LegalHold(LegalHoldCommand::List { json }) => {
            output::legal_holds(&backend.legal_holds().await?, json, &settings)
        }
        Command::Backup { file } => transfer::backup(&backend, &file).await?,
        Command::Restore { .. } => unreachable!("handled above"),
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
