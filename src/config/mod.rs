//! Settings: built-in defaults (the example file), then the config file, then `SAIDNO_` variables.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use config::{Environment, File, FileFormat};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::domain::{PhoneNumber, RefusalMode, Region};

mod known_keys;
mod origin;
mod owner_choices;
mod store_url;

pub use known_keys::leaves;
pub use origin::{Origin, Origins};
pub use owner_choices::{
    AnnouncementChoice, Choice, HoursChoice, NotifyChoice, OwnerChoices, Saved, SettingName, SettingState,
};
pub use store_url::{StoreUrl, Tls, check_url, read_ca_file};

/// The example file doubles as the defaults, so the documented values are the real ones.
pub const EXAMPLE: &str = include_str!("../../config/saidno.example.toml");

/// The files read when `--config` is not given: the first that exists. The second is where the
/// package installs it, so commands typed on a server find the service's configuration.
pub const DEFAULT_PATHS: [&str; 2] = ["config/saidno.toml", "/etc/saidno/saidno.toml"];

#[derive(Clone, Debug, Deserialize)]
pub struct Settings {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub public_url: String,
    #[serde(deserialize_with = "region")]
    pub region: Region,
    #[serde(rename = "timezone", deserialize_with = "time_zone")]
    pub time_zone: TimeZone,
    pub business_name: String,
    pub declined_by: String,
    pub forward: Forward,
    pub refusal: Refusal,
    pub policy: Policy,
    pub hours: Hours,
    pub twilio: Twilio,
    pub admin: Admin,
    pub store: Store,
    pub log: Log,
    pub http: Http,
    pub metrics: MetricsSettings,
    pub owner: Owner,
    pub whisper: Whisper,
    pub notify: Notify,
    pub pbx: Pbx,
    pub signalwire: SignalWire,
    pub telnyx: Telnyx,
    pub vonage: Vonage,
    pub plivo: Plivo,
    /// Where this business's callbacks are served, under the deployment's address: nothing for
    /// the default business, `/b/{name}` for the others of a deployment that hosts many, so that
    /// a provider's callback about a call says by its address whose call it is.
    #[serde(skip)]
    pub callbacks_under: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct MetricsSettings {
    pub listen: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Forward {
    #[serde(deserialize_with = "numbers")]
    pub to: Vec<PhoneNumber>,
    pub ring_timeout_secs: u32,
    pub voicemail: bool,
    pub voicemail_max_secs: u32,
    pub voicemail_greeting: String,
    /// Ask the provider to transcribe each voicemail.
    pub transcribe: bool,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Refusal {
    pub mode: RefusalMode,
    pub message: String,
    pub not_before_message: String,
    pub withheld_message: String,
    pub unverified_message: String,
    /// Played to a declined caller instead of `message` when set (`speech::refusal_recording`).
    pub recording: String,
    pub voice: String,
    pub language: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Policy {
    pub withheld: CallerPolicy,
    pub unverified: CallerPolicy,
    pub screen_unknown: bool,
    pub screen_prompt: String,
    pub escape_hatch: bool,
    pub escape_hatch_companies: Vec<String>,
    pub escape_hatch_prompt: String,
    pub escalation: Escalation,
}

/// What to do with a kind of caller that has no record of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallerPolicy {
    Forward,
    Screen,
    Refuse,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Escalation {
    pub steps: Vec<Step>,
}

/// From the `from_call`-th call since a decline on: refuse this way, and/or flag for a complaint.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Step {
    pub from_call: u32,
    #[serde(default)]
    pub mode: Option<RefusalMode>,
    #[serde(default)]
    pub flag: bool,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Hours {
    pub enabled: bool,
    pub monday: DayHours,
    pub tuesday: DayHours,
    pub wednesday: DayHours,
    pub thursday: DayHours,
    pub friday: DayHours,
    pub saturday: DayHours,
    pub sunday: DayHours,
    pub closed: ClosedAction,
    pub closed_message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClosedAction {
    Voicemail,
    Message,
}

/// One day's opening hours: "09:00-12:30,13:30-17:30"; empty for closed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DayHours(pub Vec<(jiff::civil::Time, jiff::civil::Time)>);

impl TryFrom<String> for DayHours {
    type Error = String;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        let mut spans = Vec::new();
        for span in text.split(',').map(str::trim).filter(|span| !span.is_empty()) {
            let bad = || format!("{span:?} is not opening hours like 09:00-17:30");
            let (open, close) = span.split_once('-').ok_or_else(bad)?;
            let open: jiff::civil::Time = open.trim().parse().map_err(|_| bad())?;
            let close: jiff::civil::Time = close.trim().parse().map_err(|_| bad())?;
            if open >= close {
                return Err(format!("{span:?}: the opening time must come before the closing time"));
            }
            spans.push((open, close));
        }
        Ok(Self(spans))
    }
}

/// Written as it is read: "09:00-12:30,13:30-17:30", empty for closed.
impl std::fmt::Display for DayHours {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let spans: Vec<String> = self
            .0
            .iter()
            .map(|(open, close)| format!("{}-{}", open.strftime("%H:%M"), close.strftime("%H:%M")))
            .collect();
        f.write_str(&spans.join(","))
    }
}

impl From<DayHours> for String {
    fn from(hours: DayHours) -> Self {
        hours.to_string()
    }
}

impl DayHours {
    pub fn contains(&self, time: jiff::civil::Time) -> bool {
        self.0.iter().any(|(open, close)| *open <= time && time < *close)
    }
}

impl Hours {
    pub fn day(&self, weekday: jiff::civil::Weekday) -> &DayHours {
        use jiff::civil::Weekday::*;
        match weekday {
            Monday => &self.monday,
            Tuesday => &self.tuesday,
            Wednesday => &self.wednesday,
            Thursday => &self.thursday,
            Friday => &self.friday,
            Saturday => &self.saturday,
            Sunday => &self.sunday,
        }
    }
}

#[derive(Clone, Deserialize)]
pub struct Twilio {
    pub auth_token: String,
    pub signing_keys: BTreeMap<String, String>,
    pub account_sid: String,
    pub api_key_sid: String,
    pub api_key_secret: String,
    pub api_base_url: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Owner {
    #[serde(deserialize_with = "numbers")]
    pub numbers: Vec<PhoneNumber>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Whisper {
    pub enabled: bool,
    pub wait_secs: u32,
    pub no_key: NoKey,
}

/// What the announcement does when whoever answered presses nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoKey {
    Connect,
    Voicemail,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Notify {
    pub when: NotifyWhen,
    pub from_follow_up: u32,
    pub digest_hour: u8,
    pub from: String,
    pub queue: usize,
    pub max_attempts: u32,
    pub retry_base_ms: u64,
}

/// When the owner hears by text that a declined company called again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyWhen {
    Every,
    From,
    Digest,
    Off,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Http {
    #[serde(deserialize_with = "address_ranges")]
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

#[derive(Clone, Deserialize)]
pub struct Admin {
    pub token: String,
    /// The operator's API token; empty for no operator's API.
    pub operator_token: String,
}

impl Admin {
    /// The operator's API token, when the operator's API is on.
    pub fn operator_token(&self) -> Option<&str> {
        Some(self.operator_token.trim()).filter(|token| !token.is_empty())
    }
}

/// The public key is not a secret, but a wrong one refuses every call, so start-up checks it.
#[derive(Clone, Deserialize)]
pub struct Telnyx {
    pub public_key: String,
    /// The API key the REST API signs in with, for texts to the owner.
    pub api_key: String,
    pub api_base_url: String,
}

/// Vonage signs each webhook with a token made with the account's signature secret.
#[derive(Clone, Deserialize)]
pub struct Vonage {
    pub signature_secret: String,
    /// The API key and secret, for texts to the owner through the SMS API.
    pub api_key: String,
    pub api_secret: String,
    /// Where the SMS and Numbers APIs answer, and where the Applications API does.
    pub api_base_url: String,
    pub applications_base_url: String,
    /// The Voice application and the path of its private key, which sign the tokens that fetch
    /// the application's voicemail recordings.
    pub application_id: String,
    pub private_key_path: String,
}

#[derive(Clone, Deserialize)]
pub struct SignalWire {
    pub signing_key: String,
    /// The Space's address, the project and its API token, for texts to the owner through the
    /// Twilio-compatible REST API.
    pub space_url: String,
    pub project: String,
    pub api_token: String,
}

#[derive(Clone, Deserialize)]
pub struct Plivo {
    pub auth_token: String,
    /// The Auth ID the REST API signs in with, for texts to the owner.
    pub auth_id: String,
    pub api_base_url: String,
    /// Where Plivo keeps recordings, under `/v1/Account/{auth_id}/Recording/`.
    pub media_base_url: String,
}

/// A business's own PBX, which asks before it rings.
#[derive(Clone, Deserialize)]
pub struct Pbx {
    pub token: String,
}

#[derive(Clone, Deserialize)]
pub struct Store {
    pub cache_mb: u64,
    /// A PostgreSQL database to keep everything in, instead of the embedded store; empty for none.
    pub url: String,
    /// The authorities (PEM) the PostgreSQL server's certificate must be signed by; empty for the
    /// system's.
    pub ca_file: String,
}

impl Store {
    /// The PostgreSQL database's url, when one is set.
    pub fn url(&self) -> Option<&str> {
        Some(self.url.trim()).filter(|url| !url.is_empty())
    }

    /// The file of authorities the PostgreSQL server's certificate is checked against, when set.
    pub fn ca_file(&self) -> Option<&Path> {
        Some(self.ca_file.trim()).filter(|path| !path.is_empty()).map(Path::new)
    }
}

/// The most `[log] queue` allows: about a gigabyte of calls waiting.
const MAX_LOG_QUEUE: usize = 1_000_000;

#[derive(Clone, Debug, Deserialize)]
pub struct Log {
    /// Days a call stays in the log; 0 keeps every call.
    pub retention_days: u32,
    /// The most calls and outcomes held in memory waiting to be written to the call log.
    pub queue: usize,
    /// How saidno's own log lines are written to standard error.
    pub format: LogFormat,
}

/// `text` for a person reading a terminal or the journal, `json` (one object a line) for log shippers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Text,
    Json,
}

impl Log {
    /// How long a call is kept, or `None` to keep every call.
    pub fn retention(&self) -> Option<jiff::SignedDuration> {
        (self.retention_days > 0).then(|| jiff::SignedDuration::from_hours(i64::from(self.retention_days) * 24))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {0} does not exist")]
    Missing(PathBuf),
    #[error("configuration: {0}")]
    Invalid(String),
    /// Each line names the file or variable, the key, and what is wrong with it.
    #[error("{}", .0.join("\n"))]
    Rejected(Vec<String>),
}

/// The configuration as read, before it is taken: every source merged, and where each value came from.
pub struct Loaded {
    merged: config::Config,
    pub origins: Origins,
    /// The file read on top of the defaults, if any.
    pub file: Option<PathBuf>,
}

impl Loaded {
    /// Reads the defaults, then the file (`path` must exist when given; without it the first of
    /// `DEFAULT_PATHS` that exists), then `SAIDNO_` variables. A key or a section
    /// saidno does not know, in the file or the environment, is refused by name and line.
    pub fn read(path: Option<&Path>) -> Result<Self, ConfigError> {
        let file = match path {
            Some(path) if !path.exists() => return Err(ConfigError::Missing(path.to_owned())),
            Some(path) => Some(path.to_owned()),
            None => DEFAULT_PATHS.iter().map(PathBuf::from).find(|path| path.exists()),
        };
        let text = match &file {
            Some(path) => Some(
                std::fs::read_to_string(path)
                    .map_err(|e| ConfigError::Invalid(format!("cannot read {}: {e}", path.display())))?,
            ),
            None => None,
        };
        let shown = file.as_ref().map(|path| path.display().to_string()).unwrap_or_default();
        let variables = || {
            std::env::vars_os().filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
        };
        let mut problems = match &text {
            Some(text) => known_keys::unknown_in_file(&shown, text).map_err(|e| ConfigError::Rejected(vec![e]))?,
            None => Vec::new(),
        };
        problems.extend(known_keys::unknown_in_environment(variables()));
        if !problems.is_empty() {
            return Err(ConfigError::Rejected(problems));
        }
        let mut builder = config::Config::builder().add_source(File::from_str(EXAMPLE, FileFormat::Toml));
        if let Some(text) = &text {
            builder = builder.add_source(File::from_str(text, FileFormat::Toml));
        }
        let environment = Environment::with_prefix("SAIDNO")
            .prefix_separator("_")
            .separator("__")
            .list_separator(",")
            .with_list_parse_key("forward.to")
            .with_list_parse_key("owner.numbers")
            .try_parsing(true);
        let merged = builder.add_source(environment).build().map_err(|e| ConfigError::Invalid(e.to_string()))?;
        let origins = Origins::new(text.as_deref().map(|text| (shown.as_str(), text)), variables());
        Ok(Self { merged, origins, file })
    }

    /// The defaults alone, as a fresh install with no file and no variables reads them.
    pub fn defaults() -> Self {
        let merged = config::Config::builder()
            .add_source(File::from_str(EXAMPLE, FileFormat::Toml))
            .build()
            .expect("the embedded example configuration is valid");
        Self { merged, origins: Origins::default(), file: None }
    }

    /// The settings, each value checked for its type and range.
    pub fn settings(&self) -> Result<Settings, ConfigError> {
        checked(&self.merged, &self.origins)
    }

    /// A business's settings: its own (`overlay`, TOML in the file's keys) over the file and the
    /// environment. Only a business's keys are taken (`known_keys::BUSINESS_KEYS`); a key saidno
    /// does not know or one of the deployment's is refused by name, and so is a value out of range.
    pub fn for_business(&self, overlay: &str) -> Result<Settings, ConfigError> {
        let problems = known_keys::not_for_business(BUSINESS_SETTINGS, overlay)
            .map_err(|problem| ConfigError::Rejected(vec![problem]))?;
        if !problems.is_empty() {
            return Err(ConfigError::Rejected(problems));
        }
        let merged = config::Config::builder()
            .add_source(self.merged.clone())
            .add_source(File::from_str(overlay, FileFormat::Toml))
            .build()
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        checked(&merged, &Origins::new(Some((BUSINESS_SETTINGS, overlay)), std::iter::empty()))
    }

    /// The value in effect for a dotted key, as JSON.
    pub fn value(&self, key: &str) -> Option<serde_json::Value> {
        self.merged.get::<serde_json::Value>(key).ok()
    }
}

/// How a business's own settings are named in what is said about them.
const BUSINESS_SETTINGS: &str = "the business's settings";

/// The settings in `merged`, each value checked for its type and range; a value at fault is
/// named with where it came from.
fn checked(merged: &config::Config, origins: &Origins) -> Result<Settings, ConfigError> {
    let settings: Settings =
        merged.clone().try_deserialize().map_err(|error| ConfigError::Rejected(vec![explain(error, origins)]))?;
    settings.check().map_err(|Misvalue { key, message }| {
        // The url may hold the database's password, and a token is a secret: they are not repeated.
        let secret = ["store.url", "admin.operator_token"].contains(&key);
        let value = merged.get::<serde_json::Value>(key).ok().filter(|_| !secret);
        let value = value.map(|value| format!(" = {value}")).unwrap_or_default();
        ConfigError::Rejected(vec![format!("{key}{value}{}: {message}", origins.place(key))])
    })?;
    Ok(settings)
}

/// A type error from the configuration reader, with where the value came from.
fn explain(error: config::ConfigError, origins: &Origins) -> String {
    match error {
        config::ConfigError::Type { key: Some(key), unexpected, expected, .. } => {
            format!("{key}{}: expected {expected}, found {unexpected}", origins.place(&key))
        }
        config::ConfigError::At { error, key: Some(key), .. } => {
            format!("{key}{}: {}", origins.place(&key), bare(&error))
        }
        other => other.to_string(),
    }
}

/// An error's own words, without the reader's "for key ... in ..." tail.
fn bare(error: &config::ConfigError) -> String {
    match error {
        config::ConfigError::Type { unexpected, expected, .. } => format!("expected {expected}, found {unexpected}"),
        config::ConfigError::At { error, .. } => bare(error),
        other => other.to_string(),
    }
}

/// A value outside what its key takes.
struct Misvalue {
    key: &'static str,
    message: String,
}

impl Settings {
    /// Loads and checks the settings (see `Loaded::read`).
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        Loaded::read(path)?.settings()
    }

    /// The defaults alone, as a fresh install has them.
    pub fn defaults() -> Self {
        let settings: Settings = config::Config::builder()
            .add_source(File::from_str(EXAMPLE, FileFormat::Toml))
            .build()
            .and_then(config::Config::try_deserialize)
            .expect("the embedded example configuration is valid");
        settings
    }

    fn check(&self) -> Result<(), Misvalue> {
        let invalid = |key, message: &str| Err(Misvalue { key, message: message.to_owned() });
        if !(5..=600).contains(&self.forward.ring_timeout_secs) {
            return invalid("forward.ring_timeout_secs", "must be between 5 and 600 seconds");
        }
        if !(1..=3600).contains(&self.forward.voicemail_max_secs) {
            return invalid("forward.voicemail_max_secs", "must be between 1 and 3600 seconds");
        }
        if !self.refusal.recording.trim().is_empty()
            && !reqwest::Url::parse(self.refusal.recording.trim())
                .is_ok_and(|url| matches!(url.scheme(), "http" | "https") && url.has_host())
        {
            return invalid("refusal.recording", "must be an http or https address the provider can fetch");
        }
        if !(1..=30).contains(&self.whisper.wait_secs) {
            return invalid("whisper.wait_secs", "must be between 1 and 30 seconds");
        }
        // Far enough that `now - retention` is always a time jiff can hold.
        if self.log.retention_days > 36_500 {
            return invalid("log.retention_days", "must be at most 36500 (100 years), or 0 to keep every call");
        }
        if self.notify.digest_hour > 23 {
            return invalid("notify.digest_hour", "must be an hour between 0 and 23");
        }
        if !(1..=MAX_LOG_QUEUE).contains(&self.log.queue) {
            return invalid("log.queue", "must be between 1 and 1000000 calls");
        }
        if self.notify.queue == 0 {
            return invalid("notify.queue", "must be at least 1");
        }
        if self.notify.max_attempts == 0 {
            return invalid("notify.max_attempts", "must be at least 1");
        }
        if !self.notify.from.trim().is_empty() && PhoneNumber::from_e164(self.notify.from.trim()).is_none() {
            return invalid("notify.from", "must be a number in E.164 form (+44...) or empty");
        }
        let api = self.twilio.api_base_url.trim();
        if !(api.starts_with("https://") || api.starts_with("http://")) {
            return invalid("twilio.api_base_url", "must start with https:// or http://");
        }
        let sid = self.twilio.account_sid.trim();
        if !sid.is_empty() && !is_sid(sid, "AC") {
            return invalid("twilio.account_sid", "must be AC followed by 32 hexadecimal digits");
        }
        let (application, key) = (self.vonage.application_id.trim(), self.vonage.private_key_path.trim());
        if application.is_empty() != key.is_empty() {
            let key = if application.is_empty() { "vonage.application_id" } else { "vonage.private_key_path" };
            return invalid(
                key,
                "must be set with the other: vonage.application_id and vonage.private_key_path go together",
            );
        }
        if !application.is_empty() && !is_uuid(application) {
            return invalid(
                "vonage.application_id",
                "must be the application's ID, such as aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
            );
        }
        if self.policy.escalation.steps.iter().any(|step| step.from_call < 2) {
            return invalid(
                "policy.escalation.steps",
                "from_call counts calls since the decline and starts at 2 (the first call back)",
            );
        }
        let url = self.public_url.trim_end_matches('/');
        if !(url.is_empty() || url.starts_with("https://") || url.starts_with("http://")) {
            return invalid("public_url", "must start with https:// or http://");
        }
        if let Some(url) = self.store.url() {
            check_url(url).map_err(|message| Misvalue { key: "store.url", message })?;
        }
        if let Some(path) = self.store.ca_file() {
            read_ca_file(path).map_err(|message| Misvalue { key: "store.ca_file", message })?;
        }
        if self.admin.operator_token().is_some_and(|operator| operator == self.admin.token.trim()) {
            return invalid(
                "admin.operator_token",
                "must differ from [admin] token: the operator's token must not open a business's admin API",
            );
        }
        if let Err(message) = self.metrics_address() {
            return Err(Misvalue { key: "metrics.listen", message });
        }
        Ok(())
    }

    /// The public address without a trailing slash, or `None` when it is to be taken from requests.
    pub fn public_url(&self) -> Option<&str> {
        let url = self.public_url.trim().trim_end_matches('/');
        (!url.is_empty()).then_some(url)
    }

    /// The business name, never blank, for the words callers hear.
    pub fn business_name(&self) -> &str {
        match self.business_name.trim() {
            "" => "our business",
            name => name,
        }
    }

    pub fn declined_by(&self) -> Option<&str> {
        match self.declined_by.trim() {
            "" => None,
            name => Some(name),
        }
    }

    /// The SignalWire project's Signing Key: its routes are served when it is set.
    pub fn signalwire_key(&self) -> Option<&str> {
        Some(self.signalwire.signing_key.trim()).filter(|key| !key.is_empty())
    }

    /// The Telnyx account's public key, as given: its routes are served when it is set.
    pub fn telnyx_key(&self) -> Option<&str> {
        Some(self.telnyx.public_key.trim()).filter(|key| !key.is_empty())
    }

    /// The Plivo account's Auth Token: its routes are served when it is set.
    pub fn plivo_token(&self) -> Option<&str> {
        Some(self.plivo.auth_token.trim()).filter(|token| !token.is_empty())
    }

    /// The Vonage account's signature secret: its routes are served when it is set.
    pub fn vonage_secret(&self) -> Option<&str> {
        Some(self.vonage.signature_secret.trim()).filter(|secret| !secret.is_empty())
    }

    /// No provider's secret is set: Twilio's routes then take unsigned requests, which is for
    /// trying saidno on loopback and nowhere else.
    pub fn takes_unsigned_calls(&self) -> bool {
        self.auth_token().is_none()
            && self.signalwire_key().is_none()
            && self.telnyx_key().is_none()
            && self.plivo_token().is_none()
            && self.vonage_secret().is_none()
    }

    pub fn auth_token(&self) -> Option<&str> {
        match self.twilio.auth_token.trim() {
            "" => None,
            token => Some(token),
        }
    }

    /// Where to serve metrics: `None` when off. Only a loopback address is taken.
    pub fn metrics_address(&self) -> Result<Option<SocketAddr>, String> {
        let listen = self.metrics.listen.trim();
        if listen.is_empty() {
            return Ok(None);
        }
        let address: SocketAddr = listen.parse().map_err(|_| "is not an address such as 127.0.0.1:9464".to_owned())?;
        if !address.ip().is_loopback() {
            return Err("is not a loopback address: metrics stay on this machine \
                 (put a scraper or a proxy in front if they must travel)"
                .to_owned());
        }
        Ok(Some(address))
    }

    /// Whether `number` is one of the owner's own mobiles.
    pub fn is_owner(&self, number: &PhoneNumber) -> bool {
        self.owner.numbers.contains(number)
    }

    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("db")
    }
}

// Secrets stay out of debug output, and so out of logs and error messages.
impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("cache_mb", &self.cache_mb)
            .field("url", &redacted(&self.url))
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

impl std::fmt::Debug for Twilio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Twilio")
            .field("auth_token", &redacted(&self.auth_token))
            .field("signing_keys", &self.signing_keys.keys().collect::<Vec<_>>())
            .field("account_sid", &self.account_sid)
            .field("api_key_sid", &self.api_key_sid)
            .field("api_key_secret", &redacted(&self.api_key_secret))
            .field("api_base_url", &self.api_base_url)
            .finish()
    }
}

impl std::fmt::Debug for Vonage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vonage")
            .field("signature_secret", &redacted(&self.signature_secret))
            .field("api_key", &self.api_key)
            .field("api_secret", &redacted(&self.api_secret))
            .field("api_base_url", &self.api_base_url)
            .field("applications_base_url", &self.applications_base_url)
            .field("application_id", &self.application_id)
            .field("private_key_path", &self.private_key_path)
            .finish()
    }
}

impl std::fmt::Debug for SignalWire {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignalWire")
            .field("signing_key", &redacted(&self.signing_key))
            .field("space_url", &self.space_url)
            .field("project", &self.project)
            .field("api_token", &redacted(&self.api_token))
            .finish()
    }
}

impl std::fmt::Debug for Telnyx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telnyx")
            .field("public_key", &self.public_key)
            .field("api_key", &redacted(&self.api_key))
            .field("api_base_url", &self.api_base_url)
            .finish()
    }
}

impl std::fmt::Debug for Plivo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plivo")
            .field("auth_token", &redacted(&self.auth_token))
            .field("auth_id", &self.auth_id)
            .field("api_base_url", &self.api_base_url)
            .finish()
    }
}

impl std::fmt::Debug for Pbx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pbx").field("token", &redacted(&self.token)).finish()
    }
}

impl std::fmt::Debug for Admin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admin")
            .field("token", &redacted(&self.token))
            .field("operator_token", &redacted(&self.operator_token))
            .finish()
    }
}

fn redacted(secret: &str) -> &'static str {
    if secret.is_empty() { "(not set)" } else { "(set)" }
}

/// A Twilio SID: a two-letter kind and 32 hexadecimal digits.
pub fn is_sid(text: &str, kind: &str) -> bool {
    text.len() == 34 && text.starts_with(kind) && text[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// An ID written as a UUID: five groups of 8, 4, 4, 4 and 12 hexadecimal digits.
pub fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A list of numbers, or one number alone: from the environment, a single `+447700900123` arrives
/// as the integer 447700900123 (the `+` read as a sign), which is taken back as that number.
/// Addresses and ranges, one or a list (as an environment variable gives one): an address alone
/// is a range of one.
fn address_ranges<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<ipnet::IpNet>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Written {
        Many(Vec<String>),
        One(String),
    }
    let texts = match Written::deserialize(deserializer)? {
        Written::Many(texts) => texts,
        Written::One(text) => text.split(',').map(str::to_owned).collect(),
    };
    texts
        .iter()
        .map(|text| {
            let text = text.trim();
            text.parse::<ipnet::IpNet>()
                .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| serde::de::Error::custom(format!("{text:?} is not an IP address or range (10.0.0.0/8)")))
        })
        .collect()
}

fn numbers<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<PhoneNumber>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Written {
        Many(Vec<String>),
        One(String),
        Digits(u64),
    }
    let texts = match Written::deserialize(deserializer)? {
        Written::Many(texts) => texts,
        Written::One(text) => vec![text],
        Written::Digits(digits) => vec![format!("+{digits}")],
    };
    texts
        .iter()
        .map(|text| {
            PhoneNumber::from_e164(text.trim()).ok_or_else(|| {
                serde::de::Error::custom(format!("{text:?} is not a phone number in E.164 form (+44...)"))
            })
        })
        .collect()
}

fn region<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Region, D::Error> {
    String::deserialize(deserializer)?.parse().map_err(serde::de::Error::custom)
}

fn time_zone<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<TimeZone, D::Error> {
    let name = String::deserialize(deserializer)?;
    if name.trim().is_empty() {
        return Ok(TimeZone::try_system().unwrap_or(TimeZone::UTC));
    }
    TimeZone::get(name.trim()).map_err(|e| serde::de::Error::custom(format!("timezone {name:?}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_is_a_complete_configuration() {
        let settings = Settings::defaults();
        assert_eq!(settings.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(settings.refusal.mode, RefusalMode::Message);
        assert!(settings.forward.to.is_empty());
        assert!(settings.auth_token().is_none());
        assert_eq!(settings.log.retention(), Some(jiff::SignedDuration::from_hours(730 * 24)));
    }

    #[test]
    fn a_vonage_application_needs_its_key_and_an_id_of_the_right_shape() {
        let mut settings = Settings::defaults();
        settings.vonage.application_id = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab".into();
        assert_eq!(settings.check().unwrap_err().key, "vonage.private_key_path");
        settings.vonage.private_key_path = "/etc/saidno/vonage.key".into();
        assert!(settings.check().is_ok());
        settings.vonage.application_id = "my-app".into();
        assert_eq!(settings.check().unwrap_err().key, "vonage.application_id");
        settings.vonage.application_id = String::new();
        assert_eq!(settings.check().unwrap_err().key, "vonage.application_id");
    }

    #[test]
    fn opening_hours_are_read_and_checked() {
        let day = DayHours::try_from("09:00-12:30, 13:30-17:30".to_owned()).unwrap();
        assert!(day.contains("09:00".parse().unwrap()));
        assert!(!day.contains("12:30".parse().unwrap()));
        assert!(day.contains("17:29".parse().unwrap()));
        assert!(!day.contains("17:30".parse().unwrap()));
        assert_eq!(DayHours::try_from(String::new()).unwrap(), DayHours::default());
        assert!(DayHours::try_from("17:00-09:00".to_owned()).is_err());
        assert!(DayHours::try_from("nine to five".to_owned()).is_err());
    }

    #[test]
    fn the_call_log_queue_is_bounded_and_a_bound_outside_its_range_is_refused_by_name() {
        let mut settings = Settings::defaults();
        assert_eq!(settings.log.queue, 100_000);
        for refused in [0, MAX_LOG_QUEUE + 1] {
            settings.log.queue = refused;
            let error = settings.check().unwrap_err();
            assert_eq!((error.key, error.message.as_str()), ("log.queue", "must be between 1 and 1000000 calls"));
        }
        settings.log.queue = 1;
        assert!(settings.check().is_ok());
    }

    /// The example file with `toml` over it, as a configuration file is read.
    fn read(toml: &str) -> Result<Settings, config::ConfigError> {
        config::Config::builder()
            .add_source(File::from_str(EXAMPLE, FileFormat::Toml))
            .add_source(File::from_str(toml, FileFormat::Toml))
            .build()
            .and_then(config::Config::try_deserialize::<Settings>)
    }

    #[test]
    fn one_number_or_a_list_is_taken_and_anything_else_is_refused_by_name() {
        let one = read("[owner]\nnumbers = \"+447700900123\"").unwrap();
        assert_eq!(one.owner.numbers, [PhoneNumber::from_e164("+447700900123").unwrap()]);
        let from_environment = read("[forward]\nto = 447700900123").unwrap();
        assert_eq!(from_environment.forward.to, [PhoneNumber::from_e164("+447700900123").unwrap()]);
        let error = read("[owner]\nnumbers = [\"07700 900123\"]").unwrap_err().to_string();
        assert!(error.contains("\"07700 900123\" is not a phone number in E.164 form"), "{error}");
    }

    #[test]
    fn trusted_proxies_are_addresses_or_ranges_and_anything_else_is_refused_by_name() {
        let read_ok = read("[http]\ntrusted_proxies = [\"127.0.0.1\", \"10.0.0.0/8\", \"::1\"]").unwrap();
        let trusted: Vec<String> = read_ok.http.trusted_proxies.iter().map(ToString::to_string).collect();
        assert_eq!(trusted, ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]);
        let one = read("[http]\ntrusted_proxies = \"192.168.1.10, 10.0.0.0/8\"").unwrap();
        assert_eq!(one.http.trusted_proxies.len(), 2);
        let error = read("[http]\ntrusted_proxies = [\"proxy.local\"]").unwrap_err().to_string();
        assert!(error.contains("\"proxy.local\" is not an IP address or range"), "{error}");
        assert!(Settings::defaults().http.trusted_proxies.is_empty());
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let mut settings = Settings::defaults();
        settings.twilio.auth_token = "tok-very-secret".into();
        settings.admin.token = "adm-very-secret".into();
        settings.admin.operator_token = "opr-very-secret".into();
        settings.pbx.token = "pbx-very-secret".into();
        settings.signalwire.signing_key = "psk-very-secret".into();
        settings.vonage.signature_secret = "vng-very-secret".into();
        settings.plivo.auth_token = "plv-very-secret".into();
        settings.signalwire.api_token = "swt-very-secret".into();
        settings.telnyx.api_key = "KEY-very-secret".into();
        settings.vonage.api_secret = "vns-very-secret".into();
        settings.twilio.signing_keys.insert("KS1".into(), "key-very-secret".into());
        settings.twilio.api_key_secret = "api-very-secret".into();
        let shown = format!("{settings:?}");
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(shown.contains("KS1"));
    }

    /// The configuration as read from a file holding `text`, without the environment.
    fn loaded(text: &str) -> Loaded {
        let merged = config::Config::builder()
            .add_source(File::from_str(EXAMPLE, FileFormat::Toml))
            .add_source(File::from_str(text, FileFormat::Toml))
            .build()
            .unwrap();
        Loaded { merged, origins: Origins::new(Some(("saidno.toml", text)), std::iter::empty()), file: None }
    }

    fn refusal(result: Result<Settings, ConfigError>) -> String {
        match result {
            Err(error) => error.to_string(),
            Ok(_) => panic!("the business's settings were taken"),
        }
    }

    #[test]
    fn a_refusal_recording_must_be_an_address_the_provider_can_fetch() {
        for wrong in ["we-said-no.mp3", "ftp://example.com/no.mp3", "file:///srv/no.mp3"] {
            let said = refusal(loaded(&format!("[refusal]\nrecording = \"{wrong}\"\n")).settings());
            assert!(said.contains("refusal.recording") && said.contains("http or https"), "{wrong}: {said}");
        }
        let fine = loaded("[refusal]\nrecording = \"https://example.com/no.mp3\"\n").settings().unwrap();
        assert_eq!(fine.refusal.recording, "https://example.com/no.mp3");
    }

    #[test]
    fn a_business_s_settings_win_over_the_file_and_leave_the_rest_as_the_file_has_it() {
        let deployment =
            loaded("business_name = \"Hosting Ltd\"\n[forward]\nring_timeout_secs = 40\n[admin]\ntoken = \"t\"\n");
        let settings = deployment
            .for_business("business_name = \"Acme Plumbing\"\n[forward]\nto = [\"+442079460123\"]\n")
            .unwrap();
        assert_eq!(settings.business_name(), "Acme Plumbing");
        assert_eq!(settings.forward.to, [PhoneNumber::from_e164("+442079460123").unwrap()]);
        assert_eq!(settings.forward.ring_timeout_secs, 40);
        assert_eq!(settings.admin.token, "t");
        assert_eq!(deployment.for_business("").unwrap().business_name(), "Hosting Ltd");
    }

    #[test]
    fn a_business_s_settings_are_refused_by_key_for_a_deployment_key_a_misspelling_or_a_bad_value() {
        let deployment = loaded("");
        let error = refusal(deployment.for_business("[admin]\ntoken = \"mine\"\n"));
        assert!(error.contains("`admin` at line 1 is the deployment's setting, not a business's"), "{error}");
        let error = refusal(deployment.for_business("[refusal]\nmesage = \"Go away\"\n"));
        assert!(error.contains("unknown key `mesage` in `[refusal]` at line 2; did you mean `message`?"), "{error}");
        let error = refusal(deployment.for_business("[forward]\nring_timeout_secs = 1\n"));
        assert_eq!(
            error,
            "forward.ring_timeout_secs = 1 at line 2 of the business's settings: must be between 5 and 600 seconds"
        );
        let error = refusal(deployment.for_business("[owner]\nnumbers = [\"07700 900123\"]\n"));
        assert!(error.contains("is not a phone number in E.164 form"), "{error}");
        let error = refusal(deployment.for_business("timezone = \"Mars/Olympus\"\n"));
        assert!(error.contains("Mars/Olympus"), "{error}");
        assert!(refusal(deployment.for_business("business_name = ")).contains("not valid TOML"));
    }
}
