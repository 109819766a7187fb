//! `saidno doctor` on the command line: prints each finding and fails when one needs fixing.

use std::path::Path;

use jiff::Timestamp;

use super::CliError;
use crate::doctor::{Verdict, examine};

pub async fn run(config: Option<&Path>) -> Result<(), CliError> {
    let findings = examine(config, Timestamp::now()).await;
    let width = findings.iter().map(|finding| finding.check.len()).max().unwrap_or(0);
    let mut to_fix = 0;
    for finding in &findings {
        let (mark, text) = match &finding.verdict {
            Verdict::Ok(text) => ("ok  ", text),
            Verdict::Warn(text) => ("warn", text),
            Verdict::Fix(text) => {
                to_fix += 1;
                ("FIX ", text)
            }
        };
        println!("{mark}  {:width$}  {text}", finding.check);
    }
    match to_fix {
        0 => Ok(()),
        1 => Err(CliError::NotFound("1 thing to fix".into())),
        n => Err(CliError::NotFound(format!("{n} things to fix"))),
    }
}
