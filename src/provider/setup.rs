//! What a provider's REST API says about the account's set-up, in words no provider owns, so
//! `saidno doctor` can judge every provider the same way.

use jiff::Timestamp;

/// One provider account as its API describes it.
#[derive(Clone, Debug)]
pub struct AccountSetup {
    /// The provider's name as a person knows it.
    pub provider: &'static str,
    /// The account's name when the credentials worked; otherwise what went wrong, in plain words.
    pub account: Result<String, String>,
    /// The provider's clock, from its answer's `Date` header.
    pub clock: Option<Timestamp>,
    /// The account's phone numbers and where each sends its calls.
    pub lines: Vec<LineSetup>,
    /// Where, under `public_url`, the provider must send an incoming call.
    pub voice_path: &'static str,
    /// Where, under `public_url`, the provider must send a text (for the owner's commands).
    pub sms_path: &'static str,
}

/// One phone number's webhooks as the provider has them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineSetup {
    pub number: String,
    pub voice_url: String,
    pub voice_method: String,
    pub fallback_url: String,
    pub sms_url: String,
    /// Set when the number's calls are handled by an application of the provider's rather than its own URL.
    pub application: Option<String>,
}

/// One webhook setting `saidno connect` changes, or would change with `--dry-run`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// The setting, in the provider's own words (`VoiceUrl`).
    pub setting: &'static str,
    pub from: String,
    pub to: String,
}

/// The settings that differ from what they should be, in order.
pub fn changes(settings: impl IntoIterator<Item = (&'static str, String, String)>) -> Vec<Change> {
    settings
        .into_iter()
        .filter(|(_, from, to)| from != to)
        .map(|(setting, from, to)| Change { setting, from, to })
        .collect()
}

/// Why a read of a provider's API gave nothing to work on.
#[derive(Debug)]
pub enum ReadError {
    /// The provider has no such resource (`404`).
    Missing,
    /// Anything else, in words.
    Failed(String),
}

impl ReadError {
    /// The error in words, with `missing` saying what a `404` means here.
    pub fn or_missing(self, missing: impl FnOnce() -> String) -> String {
        match self {
            Self::Missing => missing(),
            Self::Failed(why) => why,
        }
    }
}

/// Reads a resource of the provider's API, as JSON.
pub async fn read(provider: &str, request: reqwest::RequestBuilder) -> Result<serde_json::Value, ReadError> {
    let response = request.send().await.map_err(|error| ReadError::Failed(unreachable(provider, error)))?;
    match response.status() {
        reqwest::StatusCode::NOT_FOUND => Err(ReadError::Missing),
        status if !status.is_success() => Err(ReadError::Failed(format!("{provider} answered {status}"))),
        _ => response.json().await.map_err(|_| ReadError::Failed(format!("{provider}'s answer could not be read"))),
    }
}

/// Sends a change of `what` to the provider's API; a refusal changes nothing.
pub async fn change(provider: &str, what: &str, request: reqwest::RequestBuilder) -> Result<(), String> {
    let response = request.send().await.map_err(|error| unreachable(provider, error))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("{provider} answered {} when asked to change {what}; nothing was changed", response.status()))
    }
}

fn unreachable(provider: &str, error: reqwest::Error) -> String {
    format!("{provider}'s API could not be reached: {}", error.without_url())
}
