//! Where each setting's value came from: a `SAIDNO_` variable, a line of the file, or the default.

use std::collections::HashMap;
use std::fmt;

use toml::de::{DeTable, DeValue};

use super::known_keys::{join, line_of};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    Environment(String),
    File { path: String, line: usize },
    Default,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Environment(variable) => write!(f, "{variable}"),
            Self::File { path, line } => write!(f, "line {line} of {path}"),
            Self::Default => write!(f, "default"),
        }
    }
}

/// The origin of every key set by the file or the environment; the rest are defaults.
#[derive(Debug, Default)]
pub struct Origins {
    file: Option<String>,
    lines: HashMap<String, usize>,
    variables: HashMap<String, String>,
}

impl Origins {
    /// `text` is the file at `path`, already known to parse.
    pub fn new(file: Option<(&str, &str)>, variables: impl Iterator<Item = (String, String)>) -> Self {
        let mut lines = HashMap::new();
        if let Some((_, text)) = file
            && let Ok(table) = DeTable::parse(text)
        {
            record(table.get_ref(), "", text, &mut lines);
        }
        let variables = variables
            .filter_map(|(variable, _)| {
                let rest = variable.strip_prefix("SAIDNO_")?;
                Some((rest.split("__").map(str::to_ascii_lowercase).collect::<Vec<_>>().join("."), variable))
            })
            .collect();
        Self { file: file.map(|(path, _)| path.to_owned()), lines, variables }
    }

    /// Where the value of `key` (dotted) came from. The environment wins over the file.
    pub fn of(&self, key: &str) -> Origin {
        if let Some(variable) = self.variables.get(key) {
            return Origin::Environment(variable.clone());
        }
        match (&self.file, self.lines.get(key)) {
            (Some(path), Some(line)) => Origin::File { path: path.clone(), line: *line },
            _ => Origin::Default,
        }
    }

    /// "at line 20 of saidno.toml", "from SAIDNO_X", or "" for a default.
    pub fn place(&self, key: &str) -> String {
        match self.of(key) {
            Origin::Environment(variable) => format!(" (from {variable})"),
            origin @ Origin::File { .. } => format!(" at {origin}"),
            Origin::Default => String::new(),
        }
    }
}

fn record(table: &DeTable<'_>, path: &str, text: &str, lines: &mut HashMap<String, usize>) {
    for (key, value) in table.iter() {
        let full = join(path, key.get_ref());
        lines.insert(full.clone(), line_of(text, key.span().start));
        if let DeValue::Table(inner) = value.get_ref() {
            record(inner, &full, text, lines);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_wins_over_the_file_and_the_rest_are_defaults() {
        let text = "listen = \"0.0.0.0:8080\"\n[forward]\nring_timeout_secs = 30\n";
        let variables = [("SAIDNO_LISTEN".to_owned(), "127.0.0.1:9000".to_owned())];
        let origins = Origins::new(Some(("saidno.toml", text)), variables.into_iter());
        assert_eq!(origins.of("listen"), Origin::Environment("SAIDNO_LISTEN".into()));
        assert_eq!(origins.of("forward.ring_timeout_secs").to_string(), "line 3 of saidno.toml");
        assert_eq!(origins.of("forward.voicemail"), Origin::Default);
    }
}
