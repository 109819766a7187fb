//! `saidno config check`: the configuration in effect, secrets redacted, with each value's origin.

use std::path::Path;

use crate::config::{Loaded, leaves};

use super::CliError;

/// Keys whose values are never printed: only whether they are set.
const SECRETS: &[&str] = &[
    "store.url",
    "twilio.auth_token",
    "twilio.api_key_secret",
    "twilio.signing_keys",
    "admin.token",
    "admin.operator_token",
    "pbx.token",
    "signalwire.signing_key",
    "vonage.signature_secret",
    "plivo.auth_token",
    "signalwire.api_token",
    "telnyx.api_key",
    "vonage.api_secret",
];

pub fn check(path: Option<&Path>) -> Result<(), CliError> {
    let loaded = Loaded::read(path)?;
    loaded.settings()?;
    print!("{}", report(&loaded));
    Ok(())
}

/// The effective configuration as TOML a person can read, each line commented with its origin.
pub fn report(loaded: &Loaded) -> String {
    let file = loaded.file.as_ref().map_or_else(|| "none (defaults only)".to_owned(), |f| f.display().to_string());
    let mut out =
        format!("# The configuration is valid. File: {file}\n# Each value is followed by where it came from.\n");
    let mut section = String::new();
    for key in leaves() {
        let (table, name) = key.rsplit_once('.').unwrap_or(("", key.as_str()));
        if table != section {
            out.push_str(&format!("\n[{table}]\n"));
            section = table.to_owned();
        }
        let value = loaded.value(&key).unwrap_or(serde_json::Value::Null);
        let shown = if SECRETS.contains(&key.as_str()) { redacted(&value) } else { toml_like(&value) };
        out.push_str(&format!("{name} = {shown}  # {}\n", loaded.origins.of(&key)));
    }
    out
}

fn redacted(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) if text.is_empty() => "\"\"".to_owned(),
        serde_json::Value::Object(keys) if keys.is_empty() => "{}".to_owned(),
        // The key ids are not secret, and say which keys are set.
        serde_json::Value::Object(keys) => {
            let ids: Vec<String> = keys.keys().map(|id| format!("{id} = \"(redacted)\"")).collect();
            format!("{{ {} }}", ids.join(", "))
        }
        _ => "\"(redacted)\"".to_owned(),
    }
}

/// JSON's strings, numbers, booleans and arrays read as TOML; its objects become inline tables.
fn toml_like(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Object(entries) => {
            let inner: Vec<String> =
                entries.iter().map(|(key, value)| format!("{key} = {}", toml_like(value))).collect();
            if inner.is_empty() { "{}".to_owned() } else { format!("{{ {} }}", inner.join(", ")) }
        }
        serde_json::Value::Array(items) => {
            format!("[{}]", items.iter().map(toml_like).collect::<Vec<_>>().join(", "))
        }
        serde_json::Value::Null => "\"\"".to_owned(),
        other => other.to_string(),
    }
}
