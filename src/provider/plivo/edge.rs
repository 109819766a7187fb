//! Plivo at the edge: its signed form posts in, Plivo XML out.

use std::sync::Arc;

use super::signature::{self, Signed};
use super::{request, xml};
use crate::answer::Answer;
use crate::domain::{CallerId, ForwardOutcome, IncomingCall};
use crate::provider::form::Params;
use crate::provider::replay::SeenOnce;
use crate::provider::{Inbound, Provider, Rejection, RenderError, Transcript, form_params, header_text};
use crate::speech::AnnouncementKeys;

pub struct Plivo {
    auth_token: String,
    routes: xml::Routes,
    replays: Arc<SeenOnce>,
}

/// Plivo, checking its requests against the Auth Token; `public_url` prefixes its callbacks.
pub fn plivo(auth_token: &str, public_url: Option<&str>, replays: Arc<SeenOnce>) -> Plivo {
    let routes = xml::Routes(format!("{}/plivo", public_url.unwrap_or_default().trim_end_matches('/')));
    Plivo { auth_token: auth_token.to_owned(), routes, replays }
}

impl Plivo {
    /// The signature, and then the nonce it was made with, seen for the first time.
    fn check(&self, request: &Inbound<'_>, params: &Params) -> Result<(), Rejection> {
        let unsigned = |error: signature::SignatureError| {
            Rejection::Unsigned(format!("the request is not signed by Plivo: {error}"))
        };
        let v3_nonce = header_text(request, "x-plivo-signature-v3-nonce");
        let nonce = if v3_nonce.is_some() || !is_text(request.url) {
            let signatures =
                [header_text(request, "x-plivo-signature-v3"), header_text(request, "x-plivo-signature-ma-v3")];
            let signed = Signed { url: request.url, params, nonce: v3_nonce, signatures };
            signature::verify_v3(&self.auth_token, &signed).map_err(unsigned)?;
            v3_nonce
        } else {
            let nonce = header_text(request, "x-plivo-signature-v2-nonce");
            let signature = header_text(request, "x-plivo-signature-v2")
                .or_else(|| header_text(request, "x-plivo-signature-ma-v2"));
            signature::verify_v2(&self.auth_token, request.url, nonce, signature).map_err(unsigned)?;
            nonce
        };
        let nonce = nonce.unwrap_or_default();
        if self.replays.first_time("plivo", nonce, jiff::Timestamp::now().as_second()) {
            Ok(())
        } else {
            Err(Rejection::Unsigned("the request's nonce was used before: a replay".into()))
        }
    }
}

/// Plivo signs texts with V2 only, which covers nothing but the address: it is taken on the
/// texts' route and nowhere else.
fn is_text(url: &str) -> bool {
    url.split(['?', '#']).next().is_some_and(|path| path.ends_with("/plivo/sms"))
}

impl Provider for Plivo {
    fn name(&self) -> &'static str {
        "plivo"
    }

    fn content_type(&self) -> &'static str {
        "application/xml"
    }

    fn verify(&self, request: &Inbound<'_>) -> Result<Params, Rejection> {
        let params = form_params(request)?;
        self.check(request, &params)?;
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

    fn transcribes(&self) -> bool {
        true
    }

    fn transcript(&self, params: &Params) -> Result<Transcript, Rejection> {
        request::transcript(params)
    }

    fn keys<'p>(&self, params: &'p Params) -> &'p str {
        params.get("Digits").unwrap_or_default().trim()
    }

    fn text<'p>(&self, params: &'p Params) -> Result<(CallerId, &'p str), Rejection> {
        let from = params.get("From").ok_or(Rejection::Missing("From"))?;
        Ok((CallerId::from_international_digits(from), params.get("Text").unwrap_or_default()))
    }

    fn texted<'p>(&self, params: &'p Params) -> Option<&'p str> {
        params.get("To")
    }

    fn render(&self, answer: &Answer) -> Result<String, RenderError> {
        Ok(xml::render(&self.routes, answer))
    }

    fn hang_up(&self) -> String {
        xml::render(&self.routes, &Answer::hangup())
    }

    fn nothing(&self) -> String {
        xml::render(&self.routes, &Answer::empty())
    }

    fn reply(&self, params: &Params, words: &str) -> Result<String, RenderError> {
        let (Some(business), Some(sender)) = (params.get("To"), params.get("From")) else {
            return Err(RenderError("the text has no To and From to reply between".into()));
        };
        Ok(xml::message(business, sender, words))
    }

    /// The announcement is Plivo's `confirmSound`: a key can take the call, not decline it.
    fn announcement_keys(&self) -> AnnouncementKeys {
        AnnouncementKeys::TakeOnly
    }
}
