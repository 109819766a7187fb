//! Telephony providers. Each is one folder and does three things at the edge: it verifies its own
//! requests, reads them into the provider-neutral call, and renders the neutral answer in its
//! own markup. Nothing past this module knows which provider a call came through.

use axum::http::HeaderMap;

use crate::answer::Answer;
use crate::domain::{ForwardOutcome, IncomingCall};
use form::{FormError, Params};

pub mod form;
pub mod pbx;
pub mod setup;
pub mod signalwire;
pub mod signing;
pub mod telnyx;
pub mod twilio;

/// A request as it reached one of a provider's routes.
pub struct Inbound<'a> {
    /// The URL the provider was given for this request: `public_url` and the path with its query,
    /// never built from the `Host` header when `public_url` is set.
    pub url: &'a str,
    pub headers: &'a HeaderMap,
    /// The body exactly as it arrived: signatures cover the bytes.
    pub body: &'a [u8],
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

/// Markup the answer could not be rendered as; the caller of `render` falls back.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RenderError(pub String);

pub trait Provider: Send + Sync {
    /// The first part of its routes' paths (`/twilio/voice`) and its section in the configuration.
    fn name(&self) -> &'static str;
    /// The media type of its markup.
    fn content_type(&self) -> &'static str;
    /// Checks that the request came from the provider and decodes its parameters.
    fn verify(&self, request: &Inbound<'_>) -> Result<Params, Rejection>;
    /// An incoming call, or a later request about it that carries the caller.
    fn incoming_call(&self, params: &Params) -> Result<IncomingCall, Rejection>;
    /// The provider's id for the call a callback is about.
    fn call_id(&self, params: &Params) -> Result<String, Rejection>;
    /// How a forward ended, from its dial callback.
    fn dial_outcome(&self, params: &Params) -> Result<ForwardOutcome, Rejection>;
    /// The voicemail left, from its recording callback.
    fn voicemail(&self, params: &Params) -> Result<ForwardOutcome, Rejection>;
    /// The keys pressed in a gather, empty for none.
    fn keys<'p>(&self, params: &'p Params) -> &'p str;
    /// A text to the business number: who sent it and what it says.
    fn text<'p>(&self, params: &'p Params) -> Result<(&'p str, &'p str), Rejection>;
    fn render(&self, answer: &Answer) -> Result<String, RenderError>;
    /// Ends the call.
    fn hang_up(&self) -> String;
    /// Says nothing: a forwarded leg connects, a text gets no reply.
    fn nothing(&self) -> String;
    /// A reply to a text.
    fn reply(&self, words: &str) -> Result<String, RenderError>;
}

/// Every configured provider account as its own API describes it.
pub async fn inspect_accounts(settings: &crate::config::Settings) -> Vec<setup::AccountSetup> {
    twilio::setup::inspect(settings).await.into_iter().collect()
}
