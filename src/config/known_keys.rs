//! The keys saidno knows, read from the example file that documents them all, and the checks that
//! refuse a key or a section it does not know, with the line and the nearest valid name.

use std::sync::OnceLock;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::EXAMPLE;

/// Tables whose keys are the owner's own names (key ids), not saidno's.
const FREE_FORM: &[&str] = &["twilio.signing_keys"];

/// Arrays of tables: the keys each item may have. The example shows these arrays empty.
const ITEM_KEYS: &[(&str, &[&str])] = &[("policy.escalation.steps", &["from_call", "mode", "flag"])];

/// Variables that begin like settings but are not saidno's: the test suite's PostgreSQL server
/// (and the same over TLS, with its authority), which a developer's shell or CI keeps exported
/// while saidno itself runs.
const NOT_SETTINGS: &[&str] =
    &["SAIDNO_TEST_DATABASE_URL", "SAIDNO_TEST_DATABASE_TLS_URL", "SAIDNO_TEST_DATABASE_CA_FILE"];

/// A place in the configuration that saidno knows: a key, or a section holding more.
#[derive(Debug)]
pub struct Known {
    pub name: String,
    pub children: Vec<Known>,
    /// A table holding more keys (as opposed to a value, an inline map or a list).
    pub section: bool,
}

/// Every known key, in the order the example file documents them.
pub fn schema() -> &'static [Known] {
    static SCHEMA: OnceLock<Vec<Known>> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let example = DeTable::parse(EXAMPLE).expect("the embedded example configuration is valid TOML");
        known_of(example.get_ref(), "")
    })
}

fn known_of(table: &DeTable<'_>, path: &str) -> Vec<Known> {
    let mut entries: Vec<_> = table.iter().collect();
    entries.sort_by_key(|(key, _)| key.span().start);
    entries
        .into_iter()
        .map(|(key, value)| {
            let full = join(path, key.get_ref());
            match value.get_ref() {
                DeValue::Table(inner) if !FREE_FORM.contains(&full.as_str()) => {
                    Known { name: key.get_ref().to_string(), children: known_of(inner, &full), section: true }
                }
                _ => Known { name: key.get_ref().to_string(), children: Vec::new(), section: false },
            }
        })
        .collect()
}

/// Every leaf key, dotted (`forward.ring_timeout_secs`), in the example's order.
pub fn leaves() -> Vec<String> {
    fn walk(known: &[Known], path: &str, out: &mut Vec<String>) {
        for entry in known {
            let full = join(path, &entry.name);
            if entry.section {
                walk(&entry.children, &full, out);
            } else {
                out.push(full);
            }
        }
    }
    let mut out = Vec::new();
    walk(schema(), "", &mut out);
    out
}

pub fn join(path: &str, name: &str) -> String {
    if path.is_empty() { name.to_owned() } else { format!("{path}.{name}") }
}

/// The nearest of `candidates` to a misspelt `name`, when one is near enough to be what was meant.
pub fn nearest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let typed = name.to_ascii_lowercase();
    candidates
        .map(|candidate| (strsim::damerau_levenshtein(&typed, candidate), candidate))
        .filter(|(distance, candidate)| *distance <= (candidate.len() / 3).max(2))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// Each key or section in `text` (the file at `file`) that saidno does not know, as a sentence
/// with its line and, where one is near, the name that was probably meant.
pub fn unknown_in_file(file: &str, text: &str) -> Result<Vec<String>, String> {
    let parsed = DeTable::parse(text).map_err(|error| format!("{file} is not valid TOML: {error}"))?;
    let mut problems = Vec::new();
    check_table(parsed.get_ref(), schema(), "", &Place { file, text }, &mut problems);
    Ok(problems)
}

struct Place<'a> {
    file: &'a str,
    text: &'a str,
}

impl Place<'_> {
    fn line<T>(&self, spanned: &Spanned<T>) -> usize {
        line_of(self.text, spanned.span().start)
    }
}

/// The 1-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].bytes().filter(|&b| b == b'\n').count() + 1
}

fn check_table(table: &DeTable<'_>, known: &[Known], path: &str, place: &Place<'_>, problems: &mut Vec<String>) {
    let mut entries: Vec<_> = table.iter().collect();
    entries.sort_by_key(|(key, _)| key.span().start);
    for (key, value) in entries {
        let name = key.get_ref().as_ref();
        let full = join(path, name);
        let Some(entry) = known.iter().find(|entry| entry.name == name) else {
            problems.push(unknown(name, path, value, known, place.line(key), place.file));
            continue;
        };
        match value.get_ref() {
            DeValue::Table(inner) if entry.section => check_table(inner, &entry.children, &full, place, problems),
            DeValue::Array(items) => {
                let Some((_, keys)) = ITEM_KEYS.iter().find(|(array, _)| *array == full) else { continue };
                let children: Vec<Known> = keys
                    .iter()
                    .map(|name| Known { name: (*name).to_owned(), children: Vec::new(), section: false })
                    .collect();
                for item in items.iter() {
                    if let DeValue::Table(inner) = item.get_ref() {
                        check_table(inner, &children, &full, place, problems);
                    }
                }
            }
            _ => {}
        }
    }
}

fn unknown(name: &str, path: &str, value: &Spanned<DeValue<'_>>, known: &[Known], line: usize, file: &str) -> String {
    let is_section = matches!(value.get_ref(), DeValue::Table(_));
    let candidates = known.iter().filter(|entry| entry.section == is_section || !is_section);
    let suggestion = nearest(name, candidates.map(|entry| entry.name.as_str()));
    if is_section {
        let meant = suggestion.map(|near| format!("; did you mean `[{}]`?", join(path, near))).unwrap_or_default();
        format!("{file}: unknown section `[{}]` at line {line}{meant}", join(path, name))
    } else {
        let within = if path.is_empty() { String::new() } else { format!(" in `[{path}]`") };
        let meant = match suggestion {
            Some(near) => format!("; did you mean `{near}`?"),
            None => format!("; the keys here are {}", names(known)),
        };
        format!("{file}: unknown key `{name}`{within} at line {line}{meant}")
    }
}

fn names(known: &[Known]) -> String {
    known.iter().filter(|entry| !entry.section).map(|entry| format!("`{}`", entry.name)).collect::<Vec<_>>().join(", ")
}

/// What a business may set in its own settings: what its callers hear and when, where its calls
/// go, and whom it tells. The rest (listener, store, providers' secrets, ...) is the deployment's.
pub const BUSINESS_KEYS: &[&str] = &[
    "region",
    "timezone",
    "business_name",
    "declined_by",
    "forward",
    "refusal",
    "policy",
    "hours",
    "owner",
    "whisper",
    "notify",
];

/// Each key or section in a business's settings (`text`, shown as `place`) that a business may
/// not set: one saidno does not know, as in the file, or one of the deployment's.
pub fn not_for_business(place: &str, text: &str) -> Result<Vec<String>, String> {
    let parsed = DeTable::parse(text).map_err(|error| format!("{place} are not valid TOML: {error}"))?;
    let mut problems = Vec::new();
    let mut entries: Vec<_> = parsed.get_ref().iter().collect();
    entries.sort_by_key(|(key, _)| key.span().start);
    for (key, _) in entries {
        let name = key.get_ref().as_ref();
        if !BUSINESS_KEYS.contains(&name) && schema().iter().any(|entry| entry.name == name) {
            problems.push(format!(
                "{place}: `{name}` at line {} is the deployment's setting, not a business's; a business may set {}",
                line_of(text, key.span().start),
                BUSINESS_KEYS.iter().map(|key| format!("`{key}`")).collect::<Vec<_>>().join(", ")
            ));
        }
    }
    check_table(parsed.get_ref(), schema(), "", &Place { file: place, text }, &mut problems);
    Ok(problems)
}

/// Each `SAIDNO_` variable in `variables` that names no key, with the variable probably meant.
pub fn unknown_in_environment(variables: impl Iterator<Item = (String, String)>) -> Vec<String> {
    let mut problems = Vec::new();
    for (variable, _) in variables {
        if NOT_SETTINGS.contains(&variable.as_str()) {
            continue;
        }
        let Some(rest) = variable.strip_prefix("SAIDNO_") else { continue };
        let parts: Vec<String> = rest.split("__").map(str::to_ascii_lowercase).collect();
        let mut known = schema();
        let mut path = String::new();
        for (depth, part) in parts.iter().enumerate() {
            if FREE_FORM.contains(&path.as_str()) {
                break;
            }
            match known.iter().find(|entry| entry.name == *part) {
                Some(entry) => {
                    known = &entry.children;
                    path = join(&path, part);
                }
                None => {
                    let meant = nearest(part, known.iter().map(|entry| entry.name.as_str())).map(|near| {
                        let mut fixed = parts.clone();
                        fixed[depth] = near.to_owned();
                        format!("; did you mean SAIDNO_{}?", fixed.join("__").to_ascii_uppercase())
                    });
                    problems.push(format!(
                        "unknown variable {variable}: saidno has no setting `{}`{}",
                        join(&path, part),
                        meant.unwrap_or_default()
                    ));
                    break;
                }
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_misspelt_section_is_named_with_its_line_and_the_section_meant() {
        let text = "listen = \"127.0.0.1:8080\"\n\n[twilo]\nauth_token = \"x\"\n";
        assert_eq!(
            unknown_in_file("saidno.toml", text).unwrap(),
            ["saidno.toml: unknown section `[twilo]` at line 3; did you mean `[twilio]`?"]
        );
    }

    #[test]
    fn a_misspelt_key_is_named_within_its_section() {
        let text = "[forward]\nto = []\nring_timeout = 30\n";
        assert_eq!(
            unknown_in_file("saidno.toml", text).unwrap(),
            ["saidno.toml: unknown key `ring_timeout` in `[forward]` at line 3; did you mean `ring_timeout_secs`?"]
        );
        let dotted = "forward.ring_timout_secs = 30\n";
        assert_eq!(
            unknown_in_file("saidno.toml", dotted).unwrap(),
            ["saidno.toml: unknown key `ring_timout_secs` in `[forward]` at line 1; did you mean `ring_timeout_secs`?"]
        );
    }

    #[test]
    fn a_key_far_from_any_lists_the_keys_that_are() {
        let problems = unknown_in_file("f.toml", "[whisper]\nbanana = 1\n").unwrap();
        assert_eq!(
            problems,
            [
                "f.toml: unknown key `banana` in `[whisper]` at line 2; the keys here are `enabled`, `wait_secs`, `no_key`"
            ]
        );
    }

    #[test]
    fn the_owners_own_names_and_escalation_steps_are_checked_as_such() {
        let text = "[twilio]\nsigning_keys = { KS1 = \"a\", KS2 = \"b\" }\n[policy.escalation]\nsteps = [{ from_call = 3, mode = \"reject\" }, { from_cal = 4 }]\n";
        assert_eq!(
            unknown_in_file("f.toml", text).unwrap(),
            ["f.toml: unknown key `from_cal` in `[policy.escalation.steps]` at line 4; did you mean `from_call`?"]
        );
    }

    #[test]
    fn every_documented_key_is_known_and_the_example_has_no_unknown_key() {
        assert!(unknown_in_file("example", EXAMPLE).unwrap().is_empty());
        let leaves = leaves();
        assert_eq!(leaves.first().map(String::as_str), Some("listen"));
        assert!(leaves.contains(&"forward.ring_timeout_secs".to_owned()));
        assert!(leaves.contains(&"twilio.signing_keys".to_owned()));
    }

    #[test]
    fn a_misspelt_variable_is_named_with_the_variable_meant() {
        let variables = [
            ("SAIDNO_TWILO__AUTH_TOKEN".to_owned(), "x".to_owned()),
            ("SAIDNO_FORWARD__TO".to_owned(), "+447700900123".to_owned()),
            ("SAIDNO_TWILIO__SIGNING_KEYS__KS1".to_owned(), "x".to_owned()),
            ("SAIDNO_STORE__URL".to_owned(), "postgres://db/saidno".to_owned()),
            ("SAIDNO_TEST_DATABASE_URL".to_owned(), "postgres://db/postgres".to_owned()),
            ("SAIDNO_TEST_DATABASE_TLS_URL".to_owned(), "postgres://db/postgres?sslmode=verify-full".to_owned()),
            ("SAIDNO_TEST_DATABASE_CA_FILE".to_owned(), "/tmp/ca.pem".to_owned()),
            ("HOME".to_owned(), "/root".to_owned()),
        ];
        assert_eq!(
            unknown_in_environment(variables.into_iter()),
            [
                "unknown variable SAIDNO_TWILO__AUTH_TOKEN: saidno has no setting `twilo`; did you mean SAIDNO_TWILIO__AUTH_TOKEN?"
            ]
        );
    }

    #[test]
    fn a_business_may_set_its_own_keys_and_neither_a_deployment_key_nor_a_misspelt_one() {
        let own = "business_name = \"Acme\"\ntimezone = \"Europe/London\"\n[forward]\nto = [\"+442079460123\"]\n[hours]\nenabled = true\n";
        assert!(not_for_business("settings", own).unwrap().is_empty());
        let problems = not_for_business("settings", "listen = \"0.0.0.0:80\"\n[store]\nurl = \"x\"\n").unwrap();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with("settings: `listen` at line 1 is the deployment's setting"), "{problems:?}");
        assert!(problems[1].starts_with("settings: `store` at line 2 is the deployment's setting"), "{problems:?}");
        assert_eq!(
            not_for_business("settings", "[forward]\nring_timeout = 30\n").unwrap(),
            ["settings: unknown key `ring_timeout` in `[forward]` at line 2; did you mean `ring_timeout_secs`?"]
        );
        assert!(not_for_business("settings", "[forward").is_err());
    }
}
