//! Telephony providers. Each is one folder and does three things at the edge: it verifies its own
//! requests, reads them into the provider-neutral call, and renders the neutral answer in its
//! own markup. Nothing past this module knows which provider a call came through.

use std::sync::Arc;

use axum::http::HeaderMap;

use crate::answer::Answer;
use crate::config::Settings;
use crate::domain::{CallerId, ForwardOutcome, IncomingCall};
use crate::speech::AnnouncementKeys;
use form::{FormError, Params};
use replay::SeenOnce;

pub mod api;
pub mod callbacks;
pub mod connect;
pub mod fields;
pub mod form;
pub mod pbx;
pub mod plivo;
pub mod recording_address;
pub mod recordings;
pub mod replay;
pub mod setup;
pub mod signalwire;
pub mod signing;
pub mod telnyx;
pub mod texting;
pub mod twilio;
pub mod vonage;
pub mod xml;

/// A request as it reached one of a provider's routes.
pub struct Inbound<'a> {
    /// The URL the provider was given for this request: `public_url` and the path with its query,
    /// never built from the `Host` header when `public_url` is set.
    pub url: &'a str,
    pub headers: &'a HeaderMap,
    /// The body exactly as it arrived: signatures cover the bytes.
    pub body: &'a [u8],
}

/// The text of one of the request's headers.
pub fn header_text<'h>(request: &'h Inbound<'_>, name: &str) -> Option<&'h str> {
    request.headers.get(name).and_then(|value| value.to_str().ok())
}

/// The parameters of a form post, which is how most providers send their webhooks.
pub fn form_params(request: &Inbound<'_>) -> Result<Params, Rejection> {
    let is_form = header_text(request, axum::http::header::CONTENT_TYPE.as_str())
        .is_some_and(|value| value.trim_start().starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(Rejection::WrongType("application/x-www-form-urlencoded"));
    }
    Ok(Params::decode(request.body)?)
}

/// Why a provider's request was refused. Nothing is recorded for a refused request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("the request body must be {0}")]
    WrongType(&'static str),
    #[error(transparent)]
    Malformed(#[from] FormError),
    /// A missing or wrong signature, a stale timestamp, a replay.
    #[error("{0}")]
    Unsigned(String),
    #[error("the request has no {0} parameter")]
    Missing(&'static str),
    #[error("the {0} parameter is not valid")]
    Invalid(&'static str),
}

/// What a transcription callback said of a call's voicemail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transcript {
    pub call_id: String,
    /// The words; none when the provider could not transcribe the message, or keeps them in a
    /// file.
    pub text: Option<String>,
    /// Where the provider keeps the words, for one that sends their file's address instead of
    /// them; saidno fetches it only from a configured account.
    pub file: Option<String>,
}

/// Markup the answer could not be rendered as; the caller of `render` falls back.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RenderError(pub String);

pub trait Provider: Send + Sync {
    /// The first part of its routes' paths (`/twilio/voice`) and its section in the configuration.
    fn name(&self) -> &'static str;
    /// The media type of its markup.
    fn content_type(&self) -> &'static str;
    /// The last part of the incoming call's route (`/twilio/voice`).
    fn voice_route(&self) -> &'static str {
        "voice"
    }
    /// The route of the provider's own reports on a call's progress, for one that sends them
    /// apart from the callbacks (Vonage's event webhook): verified, then answered with nothing.
    fn events_route(&self) -> Option<&'static str> {
        None
    }
    /// Checks that the request came from the provider and decodes its parameters.
    fn verify(&self, request: &Inbound<'_>) -> Result<Params, Rejection>;
    /// An incoming call, or a later request about it that carries the caller.
    fn incoming_call(&self, params: &Params) -> Result<IncomingCall, Rejection>;
    /// The provider's id for the call a callback is about.
    fn call_id(&self, params: &Params) -> Result<String, Rejection>;
    /// Whether a dial callback only reports progress (ringing), for a provider that sends every
    /// event of the forwarded leg there: it is then answered with nothing and recorded nowhere.
    fn dial_in_progress(&self, _params: &Params) -> bool {
        false
    }
    /// How a forward ended, from its dial callback.
    fn dial_outcome(&self, params: &Params) -> Result<ForwardOutcome, Rejection>;
    /// The voicemail left, from its recording callback.
    fn voicemail(&self, params: &Params) -> Result<ForwardOutcome, Rejection>;
    /// Whether the provider transcribes a voicemail and posts the words back to saidno: only then
    /// is transcription asked for and its callback route served.
    fn transcribes(&self) -> bool {
        false
    }
    /// The voicemail's words, from the transcription callback of a provider that `transcribes`.
    fn transcript(&self, _params: &Params) -> Result<Transcript, Rejection> {
        Err(Rejection::Missing("transcription"))
    }
    /// The keys pressed in a gather, empty for none.
    fn keys<'p>(&self, params: &'p Params) -> &'p str;
    /// A text to the business number: who sent it and what it says.
    fn text<'p>(&self, params: &'p Params) -> Result<(CallerId, &'p str), Rejection>;
    /// The number a text was sent to, as the provider spelt it: which business's line it is.
    fn texted<'p>(&self, params: &'p Params) -> Option<&'p str>;
    fn render(&self, answer: &Answer) -> Result<String, RenderError>;
    /// Ends the call.
    fn hang_up(&self) -> String;
    /// Says nothing: a forwarded leg connects, a text gets no reply.
    fn nothing(&self) -> String;
    /// A reply to the text `params` brought.
    fn reply(&self, params: &Params, words: &str) -> Result<String, RenderError>;
    /// What whoever answers a forward can do with a key during the announcement.
    fn announcement_keys(&self) -> AnnouncementKeys {
        AnnouncementKeys::TakeOrDecline
    }
}

/// The secret that enables each provider, as the configuration names it.
pub const SECRETS: [&str; 5] = [
    "[twilio] auth_token",
    "[signalwire] signing_key",
    "[telnyx] public_key",
    "[plivo] auth_token",
    "[vonage] signature_secret",
];

/// The providers whose secret is set, each checking its requests with it; with none set,
/// Twilio's routes, unsigned, for trying saidno on loopback. `replays` remembers the one-time
/// tokens of the providers that send them.
pub fn enabled(settings: &Settings, replays: &Arc<SeenOnce>) -> Result<Vec<Box<dyn Provider>>, String> {
    let mut providers: Vec<Box<dyn Provider>> = Vec::new();
    let under = settings.callbacks_under.as_str();
    // The providers that take only absolute addresses get them under the business's prefix too.
    let public_url = settings.public_url().map(|url| format!("{url}{under}"));
    if settings.takes_unsigned_calls() {
        tracing::warn!("no provider's secret set: Twilio's webhooks are taken unsigned (loopback only)");
    }
    if settings.auth_token().is_some() || settings.takes_unsigned_calls() {
        providers
            .push(Box::new(twilio::twilio(settings.auth_token(), settings.twilio.signing_keys.clone()).under(under)));
    }
    if let Some(key) = settings.signalwire_key() {
        providers.push(Box::new(signalwire::signalwire(key).under(under)));
    }
    if let Some(key) = settings.telnyx_key() {
        let key = telnyx::signature::PublicKey::from_base64(key).map_err(|why| format!("telnyx.public_key {why}"))?;
        providers.push(Box::new(telnyx::telnyx(key, &settings.telnyx.api_base_url).under(under)));
    }
    if let Some(token) = settings.plivo_token() {
        providers.push(Box::new(plivo::plivo(token, public_url.as_deref().or(Some(under)), replays.clone())));
    }
    if let Some(secret) = settings.vonage_secret() {
        // NCCO takes its callbacks only as absolute addresses.
        let public_url = public_url.as_deref().ok_or("vonage.signature_secret is set, so public_url must be too")?;
        let reads_files = vonage::recordings::configured(settings);
        providers.push(Box::new(vonage::vonage(secret, public_url, replays.clone(), reads_files)));
    }
    Ok(providers)
}

/// What to set so that `saidno doctor` can read the set-up of numbers whose webhooks are
/// checked, when nothing is set to read it with.
pub fn missing_account(settings: &Settings) -> Option<&'static str> {
    (settings.auth_token().is_some() && settings.twilio.account_sid.trim().is_empty())
        .then_some(twilio::setup::MISSING_ACCOUNT)
}

/// Every configured provider account as its own API describes it.
pub async fn inspect_accounts(settings: &Settings) -> Vec<setup::AccountSetup> {
    twilio::setup::inspect(settings).await.into_iter().collect()
}
