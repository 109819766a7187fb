//! Shell completions and the manual page, both made from the command definitions themselves.

use std::io::Write;

use clap::{Command, CommandFactory};
use clap_mangen::Man;
use clap_mangen::roff::{Roff, roman};

use super::{Cli, CliError};

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

impl From<Shell> for clap_complete::Shell {
    fn from(shell: Shell) -> Self {
        match shell {
            Shell::Bash => Self::Bash,
            Shell::Zsh => Self::Zsh,
            Shell::Fish => Self::Fish,
        }
    }
}

pub fn completions(shell: Shell) -> Result<(), CliError> {
    // Into a buffer first: clap_complete panics on a failed write, and a closed pipe is an error
    // to report, not a crash.
    let mut script = Vec::new();
    clap_complete::generate(clap_complete::Shell::from(shell), &mut Cli::command(), "saidno", &mut script);
    write_stdout(&script)
}

pub fn page() -> Result<(), CliError> {
    let mut page = Vec::new();
    render(&mut page).map_err(unwritable)?;
    write_stdout(tidy(&String::from_utf8_lossy(&page)).as_bytes())
}

/// One page for the whole tree, since the package installs a single saidno(1): the top level as
/// clap_mangen renders it, then a COMMANDS section with every command's synopsis and options.
fn render(out: &mut Vec<u8>) -> std::io::Result<()> {
    let mut root = Cli::command().disable_help_subcommand(true);
    // Built once here so that every subcommand knows its full name ("saidno decline add").
    root.build();
    let man = Man::new(root.clone()).title("SAIDNO");
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;

    let mut commands = Roff::new();
    commands.control("SH", ["COMMANDS"]);
    commands.text([roman("The global options above apply to every command.")]);
    commands.to_writer(out)?;
    for command in visible(&root) {
        render_command(command, out)?;
    }
    let mut environment = Roff::new();
    environment.control("SH", ["ENVIRONMENT"]).text([roman(
        "Every configuration key can also be set from the environment: SAIDNO_ and the key, with __ \
         between section and key, e.g. SAIDNO_DATA_DIR or SAIDNO_TWILIO__AUTH_TOKEN.",
    )]);
    environment.to_writer(out)?;
    man.render_version_section(out)
}

fn render_command(command: &Command, out: &mut Vec<u8>) -> std::io::Result<()> {
    let name = command.get_bin_name().unwrap_or_else(|| command.get_name()).to_owned();
    let mut heading = Roff::new();
    heading.control("SS", [name.as_str()]);
    if let Some(about) = command.get_long_about().or_else(|| command.get_about()) {
        heading.text([roman(about.to_string())]);
    }
    heading.to_writer(out)?;
    let children: Vec<&Command> = visible(command).collect();
    if children.is_empty() {
        // Repeating --config and --help under every command would drown the options that matter.
        let own = command.clone().mut_arg("config", |a| a.hide(true)).mut_arg("help", |a| a.hide(true));
        let man = Man::new(own);
        let mut section = Vec::new();
        man.render_synopsis_section(&mut section)?;
        man.render_options_section(&mut section)?;
        out.extend(demote_headings(&section));
    }
    for child in children {
        render_command(child, out)?;
    }
    Ok(())
}

fn visible(command: &Command) -> impl Iterator<Item = &Command> {
    command.get_subcommands().filter(|c| !c.is_hide_set() && c.get_name() != "help")
}

/// Inside one command's subsection, clap_mangen's section headings (SYNOPSIS, OPTIONS) would
/// start new top-level sections of the page; they become paragraph breaks instead.
fn demote_headings(roff: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(roff);
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        out.push_str(if line.starts_with(".SH") { ".PP" } else { line });
        out.push('\n');
    }
    out.into_bytes()
}

/// Every piece rendered above opens with roff's two-line definition of the apostrophe string;
/// once is enough, and after the .TH line, so that the page opens with its title as man pages do.
fn tidy(page: &str) -> String {
    let is_preamble = |line: &str| line.starts_with(".ie \\n(.g .ds Aq ") || line.starts_with(".el .ds Aq ");
    let preamble: Vec<&str> = page.lines().filter(|l| is_preamble(l)).take(2).collect();
    let mut lines = page.lines().filter(|l| !is_preamble(l));
    let mut out = String::with_capacity(page.len());
    for line in lines.next().into_iter().chain(preamble).chain(lines) {
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn write_stdout(bytes: &[u8]) -> Result<(), CliError> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(bytes).and_then(|()| stdout.flush()).map_err(unwritable)
}

fn unwritable(e: std::io::Error) -> CliError {
    CliError::Unavailable(format!("cannot write to standard output: {e}"))
}
