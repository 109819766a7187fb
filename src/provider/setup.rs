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
