//! Twilio at the edge: its signed form posts in, TwiML out. SignalWire and Telnyx speak the same
//! dialect, so a provider here is the dialect under a name of its own, with its own flavour: how
//! its requests are signed, and the parameters it names its own way.

use std::collections::BTreeMap;

use super::signature::{Signed, Verifier};
use super::{request, twiml};
use crate::answer::Answer;
use crate::domain::{CallerId, ForwardOutcome, IncomingCall};
use crate::provider::form::Params;
use crate::provider::{Inbound, Provider, Rejection, RenderError, Transcript, form_params, header_text};

/// What sets one provider of Twilio's dialect apart.
pub trait Flavour: Send + Sync {
    /// Checks that a request came from the provider.
    fn check(&self, request: &Inbound<'_>, params: &Params) -> Result<(), Rejection>;

    /// An incoming call, from parameters named as Twilio names them unless the provider differs.
    fn incoming_call(&self, params: &Params) -> Result<IncomingCall, Rejection> {
        request::incoming_call(params)
    }

    /// The voicemail left, from the `<Record action>` callback.
    fn voicemail(&self, params: &Params) -> Result<ForwardOutcome, Rejection> {
        request::voicemail(params)
    }

    /// How the provider's `<Record>` asks for a transcript.
    fn transcribe_attributes(&self) -> twiml::TranscribeAttributes {
        twiml::TWILIO_TRANSCRIBE
    }

    /// The transcript callback, from parameters named as Twilio names them unless the provider differs.
    fn transcript(&self, params: &Params) -> Result<Transcript, Rejection> {
        request::transcript(params, "TranscriptionText")
    }
}

/// A provider that speaks Twilio's dialect: form posts with Twilio's parameters in, TwiML out,
/// its callbacks under its own name.
pub struct Compatible<C> {
    name: &'static str,
    routes: String,
    flavour: C,
}

impl<C: Flavour> Compatible<C> {
    pub fn new(name: &'static str, flavour: C) -> Self {
        Self { name, routes: format!("/{name}"), flavour }
    }

    /// The same provider with its callbacks under `prefix` (see `Settings::callbacks_under`).
    pub fn under(self, prefix: &str) -> Self {
        Self { routes: format!("{prefix}/{}", self.name), ..self }
    }
}

impl<C: Flavour> Provider for Compatible<C> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn content_type(&self) -> &'static str {
        "text/xml"
    }

    fn verify(&self, request: &Inbound<'_>) -> Result<Params, Rejection> {
        let params = form_params(request)?;
        self.flavour.check(request, &params)?;
        Ok(params)
    }

    fn incoming_call(&self, params: &Params) -> Result<IncomingCall, Rejection> {
        self.flavour.incoming_call(params)
    }

    fn call_id(&self, params: &Params) -> Result<String, Rejection> {
        request::call_id(params)
    }

    fn dial_outcome(&self, params: &Params) -> Result<ForwardOutcome, Rejection> {
        request::dial_outcome(params)
    }

    fn voicemail(&self, params: &Params) -> Result<ForwardOutcome, Rejection> {
        self.flavour.voicemail(params)
    }

    fn transcribes(&self) -> bool {
        true
    }

    fn transcript(&self, params: &Params) -> Result<Transcript, Rejection> {
        self.flavour.transcript(params)
    }

    fn keys<'p>(&self, params: &'p Params) -> &'p str {
        params.get("Digits").unwrap_or_default().trim()
    }

    fn text<'p>(&self, params: &'p Params) -> Result<(CallerId, &'p str), Rejection> {
        let from = params.get("From").ok_or(Rejection::Missing("From"))?;
        Ok((CallerId::from_text(from), params.get("Body").unwrap_or_default()))
    }

    fn texted<'p>(&self, params: &'p Params) -> Option<&'p str> {
        params.get("To")
    }

    fn render(&self, answer: &Answer) -> Result<String, RenderError> {
        twiml::render_under(&self.routes, self.flavour.transcribe_attributes(), answer)
            .map_err(|error| RenderError(error.to_string()))
    }

    fn hang_up(&self) -> String {
        twiml::hangup()
    }

    fn nothing(&self) -> String {
        twiml::empty()
    }

    fn reply(&self, _: &Params, words: &str) -> Result<String, RenderError> {
        twiml::message(words).map_err(|error| RenderError(error.to_string()))
    }
}

/// Twilio's signature; with no auth token, none, which the server allows only on loopback.
pub struct TwilioSignature(Option<Verifier>);

impl Flavour for TwilioSignature {
    fn check(&self, request: &Inbound<'_>, params: &Params) -> Result<(), Rejection> {
        let Some(verifier) = &self.0 else { return Ok(()) };
        verifier
            .verify(&Signed {
                url: request.url,
                params,
                body: request.body,
                signature: header_text(request, "x-twilio-signature"),
                settings: header_text(request, "x-twilio-webhooks-signature-settings"),
            })
            .map_err(|error| Rejection::Unsigned(format!("the request is not signed by Twilio: {error}")))
    }
}

pub type Twilio = Compatible<TwilioSignature>;

/// Twilio, checking its requests against the auth token and the shared signing keys.
pub fn twilio(auth_token: Option<&str>, signing_keys: BTreeMap<String, String>) -> Twilio {
    Compatible::new("twilio", TwilioSignature(auth_token.map(|token| Verifier::new(token, signing_keys))))
}
