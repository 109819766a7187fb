//! Twilio at the edge: its signed form posts in, TwiML out.

use std::collections::BTreeMap;

use axum::http::header;

use super::request;
use super::signature::{Signed, Verifier};
use super::twiml;
use crate::answer::Answer;
use crate::domain::{ForwardOutcome, IncomingCall};
use crate::provider::form::Params;
use crate::provider::{Inbound, Provider, Rejection, RenderError};

pub struct Twilio {
    /// `None` without an auth token: requests are taken unsigned, which the server allows only
    /// on loopback.
    verifier: Option<Verifier>,
}

impl Twilio {
    pub fn new(auth_token: Option<&str>, signing_keys: BTreeMap<String, String>) -> Self {
        Self { verifier: auth_token.map(|token| Verifier::new(token, signing_keys)) }
    }

    pub fn checks_signatures(&self) -> bool {
        self.verifier.is_some()
    }
}

fn header_text<'h>(request: &'h Inbound<'_>, name: &str) -> Option<&'h str> {
    request.headers.get(name).and_then(|value| value.to_str().ok())
}

impl Provider for Twilio {
    fn name(&self) -> &'static str {
        "twilio"
    }

    fn content_type(&self) -> &'static str {
        "text/xml"
    }

    fn verify(&self, request: &Inbound<'_>) -> Result<Params, Rejection> {
        let is_form = header_text(request, header::CONTENT_TYPE.as_str())
            .is_some_and(|value| value.trim_start().starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return Err(Rejection::WrongType("application/x-www-form-urlencoded"));
        }
        let params = Params::decode(request.body)?;
        if let Some(verifier) = &self.verifier {
            verifier
                .verify(&Signed {
                    url: request.url,
                    params: &params,
                    body: request.body,
                    signature: header_text(request, "x-twilio-signature"),
                    settings: header_text(request, "x-twilio-webhooks-signature-settings"),
                })
                .map_err(|error| Rejection::Unsigned(format!("the request is not signed by Twilio: {error}")))?;
        }
        Ok(params)
    }

    fn incoming_call(&self, params: &Params) -> Result<IncomingCall, Rejection> {
        request::incoming_call(params)
    }

    fn call_id(&self, params: &Params) -> Result<String, Rejection> {
        request::call_id(params)
    }

    fn dial_outcome(&self, params: &Params) -> Result<ForwardOutcome, Rejection> {
        request::dial_outcome(params)
    }

    fn voicemail(&self, params: &Params) -> Result<ForwardOutcome, Rejection> {
        request::voicemail(params)
    }

    fn keys<'p>(&self, params: &'p Params) -> &'p str {
        params.get("Digits").unwrap_or_default().trim()
    }

    fn text<'p>(&self, params: &'p Params) -> Result<(&'p str, &'p str), Rejection> {
        let from = params.get("From").ok_or(Rejection::Missing("From"))?.trim();
        Ok((from, params.get("Body").unwrap_or_default()))
    }

    fn render(&self, answer: &Answer) -> Result<String, RenderError> {
        twiml::render(answer).map_err(|error| RenderError(error.to_string()))
    }

    fn hang_up(&self) -> String {
        twiml::hangup()
    }

    fn nothing(&self) -> String {
        twiml::empty()
    }

    fn reply(&self, words: &str) -> Result<String, RenderError> {
        twiml::message(words).map_err(|error| RenderError(error.to_string()))
    }
}
