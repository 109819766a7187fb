//! `saidno doctor`: checks the set-up end to end, each check with what to fix in plain words.

mod local;
mod provider;

use std::path::Path;

use jiff::Timestamp;

use crate::config::Loaded;

/// One check's result: what was looked at, and, when it is wrong, what to do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub check: String,
    pub verdict: Verdict,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Ok(String),
    /// Works, but deserves a look.
    Warn(String),
    /// Broken: calls or changes are at risk until it is fixed.
    Fix(String),
}

impl Finding {
    fn new(check: impl Into<String>, verdict: Verdict) -> Self {
        Self { check: check.into(), verdict }
    }
}

/// Runs every check in order. Without a valid configuration nothing else can be checked.
pub async fn examine(config: Option<&Path>, now: Timestamp) -> Vec<Finding> {
    let settings = match Loaded::read(config).and_then(|loaded| {
        let settings = loaded.settings()?;
        Ok((loaded, settings))
    }) {
        Ok((loaded, settings)) => {
            let said = loaded.file.map_or_else(
                || "no file: the defaults are in effect".to_owned(),
                |file| format!("{} is valid", file.display()),
            );
            let mut findings = vec![Finding::new("configuration", Verdict::Ok(said))];
            findings.extend(local::public_url(&settings));
            findings.extend(local::data_folder(&settings));
            findings.push(local::database(&settings).await);
            findings.extend(provider::accounts(&settings, now).await);
            return findings;
        }
        Err(error) => error,
    };
    vec![Finding::new("configuration", Verdict::Fix(settings.to_string()))]
}
