//! Vonage at the edge: its signed JSON webhooks in, NCCO out.

use std::sync::Arc;

use axum::http::header;

use super::signature::SignatureSecret;
use super::{ncco, request, transcripts};
use crate::answer::Answer;
use crate::domain::{CallerId, ForwardOutcome, IncomingCall};
use crate::provider::form::Params;
use crate::provider::header_text;
use crate::provider::replay::SeenOnce;
use crate::provider::{Inbound, Provider, Rejection, RenderError, Transcript};
use crate::speech::AnnouncementKeys;

pub struct Vonage {
    secret: SignatureSecret,
    routes: ncco::Routes,
    replays: Arc<SeenOnce>,
}

/// Vonage, checking each webhook's token against the signature secret; `public_url` prefixes
/// its callbacks, which NCCO takes only as absolute addresses. Tokens already seen are kept in
/// `replays`, which outlives a reload. `reads_files` says whether the application's files, a
/// transcript's words among them, can be fetched.
pub fn vonage(signature_secret: &str, public_url: &str, replays: Arc<SeenOnce>, reads_files: bool) -> Vonage {
    let routes = ncco::Routes { base: format!("{}/vonage", public_url.trim_end_matches('/')), reads_files };
    Vonage { secret: SignatureSecret::new(signature_secret), routes, replays }
}

impl Provider for Vonage {
    fn name(&self) -> &'static str {
        "vonage"
    }

    fn content_type(&self) -> &'static str {
        "application/json"
    }

    /// The application's answer URL: Vonage calls it once it has answered the call.
    fn voice_route(&self) -> &'static str {
        "answer"
    }

    fn events_route(&self) -> Option<&'static str> {
        Some("event")
    }

    fn verify(&self, request: &Inbound<'_>) -> Result<Params, Rejection> {
        let is_json = header_text(request, header::CONTENT_TYPE.as_str())
            .is_some_and(|value| value.trim_start().starts_with("application/json"));
        if !is_json {
            return Err(Rejection::WrongType("application/json"));
        }
        let now = jiff::Timestamp::now().as_second();
        self.secret
            .verify(header_text(request, header::AUTHORIZATION.as_str()), request.body, now, |jti| {
                self.replays.first_time("vonage", jti, now)
            })
            .map_err(|error| Rejection::Unsigned(format!("the request is not signed by Vonage: {error}")))?;
        request::params(request.body)
    }

    fn incoming_call(&self, params: &Params) -> Result<IncomingCall, Rejection> {
        request::incoming_call(params)
    }

    fn call_id(&self, params: &Params) -> Result<String, Rejection> {
        request::call_id(params)
    }

    fn dial_in_progress(&self, params: &Params) -> bool {
        request::in_progress(params)
    }

    fn dial_outcome(&self, params: &Params) -> Result<ForwardOutcome, Rejection> {
        request::dial_outcome(params)
    }

    fn voicemail(&self, params: &Params) -> Result<ForwardOutcome, Rejection> {
        request::voicemail(params)
    }

    fn transcribes(&self) -> bool {
        self.routes.reads_files
    }

    fn transcript(&self, params: &Params) -> Result<Transcript, Rejection> {
        transcripts::event(params)
    }

    fn keys<'p>(&self, params: &'p Params) -> &'p str {
        params.get("dtmf.digits").unwrap_or_default().trim()
    }

    /// Vonage delivers texts through its Messages API, not to a voice application.
    fn text<'p>(&self, _: &'p Params) -> Result<(CallerId, &'p str), Rejection> {
        Err(Rejection::WrongType("a text webhook, which Vonage's Voice API does not send"))
    }

    fn texted<'p>(&self, _: &'p Params) -> Option<&'p str> {
        None
    }

    fn render(&self, answer: &Answer) -> Result<String, RenderError> {
        ncco::render(&self.routes, answer)
    }

    fn hang_up(&self) -> String {
        ncco::empty()
    }

    fn nothing(&self) -> String {
        ncco::empty()
    }

    fn reply(&self, _: &Params, _: &str) -> Result<String, RenderError> {
        Err(RenderError("Vonage's Voice API takes no replies to texts".to_owned()))
    }

    /// The announcement's NCCO runs on the answering phone's leg, and when it ends that leg is
    /// put through: NCCO has no way to hang it up, so the caller cannot be turned away from there.
    fn announcement_keys(&self) -> AnnouncementKeys {
        AnnouncementKeys::None
    }
}
