//! The provider's webhooks: verify, parse, decide, answer. The answer never waits for the log.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;

use super::AppState;
use super::whisper::OwnerDecision;
use crate::answer;
use crate::domain::{Action, CallRecord, Decision, ForwardOutcome, Ground, IncomingCall, Refusal};
use crate::notify::Refused;
use crate::provider::twilio::form::Params;
use crate::provider::twilio::signature::Signed;
use crate::provider::twilio::{request, twiml};
use crate::speech::caller_hears;
use crate::telemetry::call_span;

/// Twilio's webhook bodies are a few kilobytes; anything near this is not Twilio.
pub const MAX_BODY: usize = 64 * 1024;
/// Twilio waits 15 seconds for an answer and sends its few kilobytes at once; a body still
/// arriving after this is not Twilio's.
const BODY_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Form parameters from a request whose signature checked out.
pub struct SignedForm(pub Params);

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("the request body is over {MAX_BODY} bytes")]
    TooLarge,
    #[error("the request body did not arrive in time")]
    TooSlow,
    #[error("the request body must be application/x-www-form-urlencoded")]
    NotAForm,
    #[error(transparent)]
    Malformed(#[from] crate::provider::twilio::form::FormError),
    #[error("the request is not signed by Twilio: {0}")]
    Signature(#[from] crate::provider::twilio::signature::SignatureError),
    #[error(transparent)]
    Request(#[from] request::RequestError),
}

impl IntoResponse for WebhookError {
    fn into_response(self) -> Response {
        let status = match self {
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::TooSlow => StatusCode::REQUEST_TIMEOUT,
            Self::NotAForm => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Malformed(_) | Self::Request(_) => StatusCode::BAD_REQUEST,
            Self::Signature(_) => StatusCode::FORBIDDEN,
        };
        tracing::warn!(%status, error = %self, "webhook request refused");
        (status, self.to_string()).into_response()
    }
}

impl FromRequest<AppState> for SignedForm {
    type Rejection = WebhookError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        let is_form = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.trim_start().starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return Err(WebhookError::NotAForm);
        }
        let body = tokio::time::timeout(BODY_TIME_LIMIT, axum::body::to_bytes(body, MAX_BODY))
            .await
            .map_err(|_| WebhookError::TooSlow)?
            .map_err(|_| WebhookError::TooLarge)?;
        let params = Params::decode(&body)?;
        if let Some(verifier) = &state.verifier {
            let path = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
            let url = format!("{}{path}", public_base(state, &parts.headers));
            verifier.verify(&Signed {
                url: &url,
                params: &params,
                body: &body,
                signature: header_text(&parts.headers, "x-twilio-signature"),
                settings: header_text(&parts.headers, "x-twilio-webhooks-signature-settings"),
            })?;
        }
        Ok(Self(params))
    }
}

/// The address Twilio was given: `public_url`, or this request's own host when none is set.
fn public_base(state: &AppState, headers: &HeaderMap) -> String {
    match state.settings.public_url() {
        Some(url) => url.to_owned(),
        None => format!("http://{}", header_text(headers, "host").unwrap_or("localhost")),
    }
}

fn header_text<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

pub(crate) fn twiml_response(xml: String) -> Response {
    ([(header::CONTENT_TYPE, "text/xml")], xml).into_response()
}

/// `POST /twilio/voice`: an incoming call. This route is served outside the router's layers, so
/// it does here what they would: the time limit on the body, the timing, the security headers. A
/// busy line pays for those and nothing else.
pub async fn voice(State(state): State<AppState>, request: Request) -> Response {
    let started = Instant::now();
    let mut response = match answer_request(&state, request).await {
        Ok(response) => response,
        Err(refused) => refused.into_response(),
    };
    state.metrics.webhook_latency(started.elapsed().as_secs_f64());
    super::security_headers::add(response.headers_mut());
    response
}

async fn answer_request(state: &AppState, request: Request) -> Result<Response, WebhookError> {
    let SignedForm(params) = SignedForm::from_request(request, state).await?;
    let call = request::incoming_call(&params)?;
    // No span per call: every event on this path names the call itself.
    let (xml, record) = answer_or_forward(state, &call, Timestamp::now());
    state.metrics.call(record.decision);
    state.call_log.record(record);
    Ok(twiml_response(xml))
}

/// Whatever goes wrong inside (a store error, markup that cannot be rendered, a panic), the call
/// is forwarded: a business must never lose a call because of saidno.
fn answer_or_forward(state: &AppState, call: &IncomingCall, now: Timestamp) -> (String, CallRecord) {
    let failure = match catch_unwind(AssertUnwindSafe(|| answer(state, call, now))) {
        Ok(Ok(answered)) => return answered,
        Ok(Err(error)) => error,
        Err(panic) => panic
            .downcast_ref::<&str>()
            .map(|message| format!("panic: {message}"))
            .or_else(|| panic.downcast_ref::<String>().map(|message| format!("panic: {message}")))
            .unwrap_or_else(|| "panic".to_owned()),
    };
    state.metrics.failed_open();
    tracing::error!(call_id = %call.call_id, error = %failure, "could not decide; forwarding the call");
    let decision = Decision {
        action: Action::Forward,
        reason: format!("forwarded: saidno could not decide ({failure})"),
        uses_single_allow: false,
    };
    (state.fallback_twiml.clone(), CallRecord::new(call, now, &decision))
}

fn answer(state: &AppState, call: &IncomingCall, now: Timestamp) -> Result<(String, CallRecord), String> {
    if let Some(reason) = state.health.degraded() {
        return Err(format!("degraded: {reason}"));
    }
    let decision = state.service.decide_call(call, now).map_err(|error| {
        state.metrics.store_error();
        error.to_string()
    })?;
    let xml = twiml::render(&answer::for_call(&decision, call, &state.settings)).map_err(|e| e.to_string())?;
    if let (Action::Refuse(Refusal { ground: Ground::Declined { decline, follow_up, .. }, .. }), Some(number)) =
        (&decision.action, call.from.number())
    {
        state.notifier.refused(&Refused {
            call_id: call.call_id.clone(),
            company: decline.company.clone(),
            number: number.clone(),
            follow_up: *follow_up,
            declined_at: decline.declined_at,
            called: call.to.clone(),
        });
    }
    // At debug: every call is in the call log already, and a line per call costs a busy line dearly.
    tracing::debug!(call_id = %call.call_id, from = %call.from, decision = %decision.kind(), reason = %decision.reason, "call answered");
    let mut record = CallRecord::new(call, now, &decision);
    record.heard = Some(caller_hears(&decision, &state.settings));
    Ok((xml, record))
}

/// `POST /twilio/dial-status`: the forward ended. Offer voicemail unless someone answered or the
/// caller hung up.
pub async fn dial_status(
    State(state): State<AppState>,
    SignedForm(params): SignedForm,
) -> Result<Response, WebhookError> {
    let call_id = request::call_id(&params)?;
    call_span(&call_id).in_scope(|| {
        // Whoever answered may have decided during the announcement; the caller is still waiting.
        match state.whisper_decisions.take(&call_id) {
            Some(OwnerDecision::Declined(decline)) => {
                let xml = twiml::render(&answer::refusal(&decline, &state.settings)).unwrap_or_else(|error| {
                    tracing::error!(%error, "could not render the refusal the owner chose; hanging up");
                    twiml::hangup()
                });
                return Ok(twiml_response(xml));
            }
            Some(OwnerDecision::ToVoicemail) => {
                let outcome = ForwardOutcome { status: Some("no-answer".into()), ..Default::default() };
                state.call_log.attach(call_id, outcome);
                return Ok(twiml_response(twiml::render_or_hang_up(&answer::voicemail(&state.settings))));
            }
            None => {}
        }
        let outcome = request::dial_outcome(&params)?;
        let answered_or_gone = matches!(outcome.status.as_deref(), Some("answered" | "canceled"));
        state.call_log.attach(call_id, outcome);
        Ok(twiml_response(twiml::render_or_hang_up(&answer::after_dial(answered_or_gone, &state.settings))))
    })
}

/// `POST /twilio/escape`: a refused caller was offered "press 1 for an existing order". A 1 puts
/// them through, and the log says they came through the escape hatch; anything else, goodbye.
pub async fn escape(State(state): State<AppState>, SignedForm(params): SignedForm) -> Result<Response, WebhookError> {
    let call = request::incoming_call(&params)?;
    call_span(&call.call_id).in_scope(|| {
        if params.get("Digits") != Some("1") {
            return Ok(twiml_response(twiml::render_or_hang_up(&answer::goodbye(&state.settings))));
        }
        tracing::info!("a refused caller came through the escape hatch");
        state.call_log.attach(call.call_id.clone(), ForwardOutcome { via_escape_hatch: true, ..Default::default() });
        Ok(twiml_response(forward_or_fallback(&state, &call)))
    })
}

/// `POST /twilio/screen`: a screened caller pressed 1 (put through) or did not (screened out).
pub async fn screen(State(state): State<AppState>, SignedForm(params): SignedForm) -> Result<Response, WebhookError> {
    let call = request::incoming_call(&params)?;
    let passed = params.get("Digits") == Some("1");
    let screening = if passed { "passed" } else { "screened out" };
    call_span(&call.call_id).in_scope(|| {
        let outcome = ForwardOutcome { screening: Some(screening.to_owned()), ..Default::default() };
        state.call_log.attach(call.call_id.clone(), outcome);
        let xml = if passed { forward_or_fallback(&state, &call) } else { twiml::hangup() };
        Ok(twiml_response(xml))
    })
}

/// The call put through as configured, or, when that cannot be rendered, the fallback forward.
fn forward_or_fallback(state: &AppState, call: &IncomingCall) -> String {
    twiml::render(&answer::forward_call(call, &state.settings)).unwrap_or_else(|error| {
        state.metrics.failed_open();
        tracing::error!(%error, "could not render the forward; giving the fallback forward");
        state.fallback_twiml.clone()
    })
}

/// `POST /twilio/voicemail`: the caller left a message (or hung up during the greeting).
pub async fn voicemail(
    State(state): State<AppState>,
    SignedForm(params): SignedForm,
) -> Result<Response, WebhookError> {
    let call_id = request::call_id(&params)?;
    call_span(&call_id).in_scope(|| {
        state.call_log.attach(call_id, request::voicemail(&params)?);
        Ok(twiml_response(twiml::hangup()))
    })
}
