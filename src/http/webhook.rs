//! The provider's webhooks: verify, parse, decide, answer. The answer never waits for the log.

use std::borrow::Cow;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;

use super::AppState;
use crate::answer::{self, Answer};
use crate::config::Settings;
use crate::domain::{Action, CallRecord, Decision, ForwardOutcome, Ground, IncomingCall, OwnerDecision, Refusal};
use crate::notify::Refused;
use crate::provider::form::Params;
use crate::provider::{Inbound, Provider, Rejection, RenderError};
use crate::speech::caller_hears;
use crate::telemetry::call_span;
use tracing::Instrument;

/// Providers' webhook bodies are a few kilobytes; anything near this is not a provider's.
pub const MAX_BODY: usize = 64 * 1024;
/// Providers wait seconds for an answer and send their few kilobytes at once; a body still
/// arriving after this is not a provider's.
const BODY_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

/// One provider's routes: the provider, and the plain forward in its markup, rendered once at
/// start so that answering a failure never depends on rendering.
pub struct Edge {
    pub provider: Box<dyn Provider>,
    fallback: String,
}

impl Edge {
    pub fn new(provider: Box<dyn Provider>, settings: &Settings) -> Result<Self, RenderError> {
        let fallback = provider.render(&answer::forward(None, None, settings))?;
        Ok(Self { provider, fallback })
    }

    pub fn markup(&self, body: String) -> Response {
        ([(header::CONTENT_TYPE, self.provider.content_type())], body).into_response()
    }

    /// For answers whose text is bounded by the configuration's own limits: should one still not
    /// fit, the line closes rather than the request failing.
    fn render_or_hang_up(&self, answer: &Answer) -> String {
        self.provider.render(answer).unwrap_or_else(|_| self.provider.hang_up())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("the request body is over {MAX_BODY} bytes")]
    TooLarge,
    #[error("the request body did not arrive in time")]
    TooSlow,
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// A report about a call the log has no such thing for.
    #[error("{0}")]
    NotFound(String),
    /// The log could not be read or written; the provider tries again later.
    #[error("the call log is unavailable: {0}")]
    Unavailable(String),
    /// Something the provider keeps could not be fetched from it; the provider tries again later.
    #[error("{0}")]
    Unfetched(String),
}

impl IntoResponse for WebhookError {
    fn into_response(self) -> Response {
        let status = match &self {
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::TooSlow => StatusCode::REQUEST_TIMEOUT,
            Self::Rejected(Rejection::WrongType(_)) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Rejected(Rejection::Unsigned(_)) => StatusCode::FORBIDDEN,
            Self::Rejected(_) => StatusCode::BAD_REQUEST,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Unfetched(_) => StatusCode::BAD_GATEWAY,
        };
        tracing::warn!(%status, error = %self, "webhook request refused");
        (status, self.to_string()).into_response()
    }
}

/// The request's parts and its parameters, once the provider has verified it.
pub async fn verified(state: &AppState, edge: &Edge, request: Request) -> Result<(Parts, Params), WebhookError> {
    let (parts, body) = request.into_parts();
    let body = tokio::time::timeout(BODY_TIME_LIMIT, axum::body::to_bytes(body, MAX_BODY))
        .await
        .map_err(|_| WebhookError::TooSlow)?
        .map_err(|_| WebhookError::TooLarge)?;
    let path = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
    let url = [public_base(state, &parts.headers).as_ref(), path].concat();
    let params = edge.provider.verify(&Inbound { url: &url, headers: &parts.headers, body: &body })?;
    Ok((parts, params))
}

/// The address the provider was given: `public_url`, or this request's own host when none is set.
fn public_base<'a>(state: &'a AppState, headers: &HeaderMap) -> Cow<'a, str> {
    match state.settings.public_url() {
        Some(url) => Cow::Borrowed(url),
        None => Cow::Owned(format!(
            "http://{}",
            headers.get(header::HOST).and_then(|value| value.to_str().ok()).unwrap_or("localhost")
        )),
    }
}

/// Answers with the provider's markup, or the request's refusal.
pub fn answered(result: Result<Response, WebhookError>) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}

/// `POST /{provider}/voice`: an incoming call. This route is served outside the router's layers,
/// so it does here what they would: the time limit on the body, the timing. A busy line pays for
/// those and nothing else. Its answer is markup for the provider, never a page a browser shows, so
/// it carries none of the pages' security headers: each would be parsed on every call for nothing.
pub async fn voice(State(state): State<AppState>, edge: Arc<Edge>, request: Request) -> Response {
    let started = Instant::now();
    let response = answered(answer_request(&state, &edge, request).await);
    state.metrics.webhook_latency(started.elapsed().as_secs_f64());
    response
}

async fn answer_request(state: &AppState, edge: &Edge, request: Request) -> Result<Response, WebhookError> {
    let (_, params) = verified(state, edge, request).await?;
    let call = edge.provider.incoming_call(&params)?;
    Ok(answer_call(state, edge, &call))
}

/// Answers a verified incoming call for the business `state` is of, in `edge`'s markup.
pub fn answer_call(state: &AppState, edge: &Edge, call: &IncomingCall) -> Response {
    // No span per call: every event on this path names the call itself.
    let settings = state.service.settings();
    let render = |decision: &Decision| {
        edge.provider.render(&answer::for_call(decision, call, &settings)).map_err(|e| e.to_string())
    };
    let markup = answer_or_forward(state, call, Timestamp::now(), render, || edge.fallback.clone());
    edge.markup(markup)
}

/// Answers a call to a number that is no business's line, in a deployment that hosts many: the
/// caller hears that the number is not in service, and the call is logged in the deployment's own
/// (default) business's log for the operator, never in any other business's.
pub fn not_in_service(state: &AppState, edge: &Edge, call: &IncomingCall) -> Response {
    let now = Timestamp::now();
    tracing::warn!(call_id = %call.call_id, to = %call.to, "a call to a number that is no business's line");
    let decision = Decision {
        action: Action::Closed,
        reason: format!("not in service: {} is no business's line", call.to),
        uses_single_allow: false,
    };
    let mut record = CallRecord::new(call, now, &decision);
    record.heard = Some(answer::NOT_IN_SERVICE.to_owned());
    state.metrics.call(record.decision);
    state.call_log.record(record);
    edge.markup(edge.render_or_hang_up(&answer::not_in_service(&state.service.settings())))
}

/// Decides the call, answers it with `render`'s spelling of the decision, and logs it. Whatever
/// goes wrong inside (a store error, an answer that cannot be rendered, a panic), the call is
/// answered with `fallback`, a plain forward, and logged as forwarded: a business must never
/// lose a call because of saidno.
pub fn answer_or_forward<T>(
    state: &AppState,
    call: &IncomingCall,
    now: Timestamp,
    render: impl Fn(&Decision) -> Result<T, String>,
    fallback: impl FnOnce() -> T,
) -> T {
    let decided = catch_unwind(AssertUnwindSafe(|| decide(state, call, now, &render))).unwrap_or_else(|panic| {
        let message =
            panic.downcast_ref::<&str>().map(|m| m.to_string()).or_else(|| panic.downcast_ref::<String>().cloned());
        Err(format!("panic: {}", message.as_deref().unwrap_or("no message")))
    });
    let (answer, record) = match decided {
        Ok(answered) => answered,
        Err(failure) => {
            state.metrics.failed_open();
            tracing::error!(call_id = %call.call_id, error = %failure, "could not decide; forwarding the call");
            let decision = Decision {
                action: Action::Forward,
                reason: format!("forwarded: saidno could not decide ({failure})"),
                uses_single_allow: false,
            };
            (fallback(), CallRecord::new(call, now, &decision))
        }
    };
    state.metrics.call(record.decision);
    state.call_log.record(record);
    answer
}

fn decide<T>(
    state: &AppState,
    call: &IncomingCall,
    now: Timestamp,
    render: impl Fn(&Decision) -> Result<T, String>,
) -> Result<(T, CallRecord), String> {
    if let Some(reason) = state.health.degraded() {
        return Err(format!("degraded: {reason}"));
    }
    let decision = state.service.decide_call(call, now).map_err(|error| {
        state.metrics.store_error();
        error.to_string()
    })?;
    let answer = render(&decision)?;
    let settings = state.service.settings();
    if let (Action::Refuse(Refusal { ground: Ground::Declined { decline, follow_up, .. }, .. }), Some(number)) =
        (&decision.action, call.from.number())
    {
        state.notifier.refused(
            &settings.notify,
            &Refused {
                call_id: call.call_id.clone(),
                company: decline.company.clone(),
                number: number.clone(),
                follow_up: *follow_up,
                declined_at: decline.declined_at,
                called: call.to.clone(),
            },
        );
    }
    // At debug: every call is in the call log already, and a line per call costs a busy line dearly.
    tracing::debug!(call_id = %call.call_id, from = %call.from, decision = %decision.kind(), reason = %decision.reason, "call answered");
    let mut record = CallRecord::new(call, now, &decision);
    record.heard = Some(caller_hears(&decision, &settings));
    Ok((answer, record))
}

/// `POST /{provider}/dial-status`: the forward ended. Offer voicemail unless someone answered or
/// the caller hung up.
pub async fn dial_status(State(state): State<AppState>, edge: Arc<Edge>, request: Request) -> Response {
    answered(after_dial(&state, &edge, request).await)
}

async fn after_dial(state: &AppState, edge: &Edge, request: Request) -> Result<Response, WebhookError> {
    let (_, params) = verified(state, edge, request).await?;
    if edge.provider.dial_in_progress(&params) {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let call_id = edge.provider.call_id(&params)?;
    let span = call_span(&call_id);
    // Whoever answered may have decided during the announcement; the caller is still waiting.
    let decided = state.service.take_owner_decision(&call_id).instrument(span.clone()).await;
    span.in_scope(|| {
        let decided = decided.unwrap_or_else(|error| {
            state.metrics.store_error();
            tracing::error!(%error, "could not read what whoever answered decided; the call ends as the dial did");
            None
        });
        match decided {
            Some(OwnerDecision::Declined(decline)) => {
                let markup = edge
                    .provider
                    .render(&answer::refusal(&decline, &state.service.settings()))
                    .unwrap_or_else(|error| {
                        tracing::error!(%error, "could not render the refusal the owner chose; hanging up");
                        edge.provider.hang_up()
                    });
                return Ok(edge.markup(markup));
            }
            Some(OwnerDecision::ToVoicemail) => {
                let outcome = ForwardOutcome { status: Some("no-answer".into()), ..Default::default() };
                state.call_log.attach(call_id.clone(), outcome);
                return Ok(edge.markup(edge.render_or_hang_up(&answer::voicemail(&state.service.settings()))));
            }
            None => {}
        }
        let outcome = edge.provider.dial_outcome(&params)?;
        let answered_or_gone = matches!(outcome.status.as_deref(), Some("answered" | "canceled"));
        state.call_log.attach(call_id.clone(), outcome);
        Ok(edge.markup(edge.render_or_hang_up(&answer::after_dial(answered_or_gone, &state.service.settings()))))
    })
}

/// `POST /{provider}/event`, for a provider that reports a call's progress apart from the
/// callbacks (Vonage): the log learns how the call went from the callbacks, so these are
/// verified and answered with nothing.
pub async fn events(State(state): State<AppState>, edge: Arc<Edge>, request: Request) -> Response {
    answered(verified(&state, &edge, request).await.map(|_| StatusCode::NO_CONTENT.into_response()))
}

/// `POST /{provider}/escape`: a refused caller was offered "press 1 for an existing order". A 1
/// puts them through, and the log says they came through the escape hatch; anything else, goodbye.
pub async fn escape(State(state): State<AppState>, edge: Arc<Edge>, request: Request) -> Response {
    answered(escape_key(&state, &edge, request).await)
}

async fn escape_key(state: &AppState, edge: &Edge, request: Request) -> Result<Response, WebhookError> {
    let (_, params) = verified(state, edge, request).await?;
    let call = edge.provider.incoming_call(&params)?;
    call_span(&call.call_id).in_scope(|| {
        if edge.provider.keys(&params) != "1" {
            return Ok(edge.markup(edge.render_or_hang_up(&answer::goodbye(&state.service.settings()))));
        }
        tracing::info!("a refused caller came through the escape hatch");
        state.call_log.attach(call.call_id.clone(), ForwardOutcome { via_escape_hatch: true, ..Default::default() });
        Ok(edge.markup(forward_or_fallback(state, edge, &call)))
    })
}

/// `POST /{provider}/screen`: a screened caller pressed 1 (put through) or did not (screened out).
pub async fn screen(State(state): State<AppState>, edge: Arc<Edge>, request: Request) -> Response {
    answered(screen_key(&state, &edge, request).await)
}

async fn screen_key(state: &AppState, edge: &Edge, request: Request) -> Result<Response, WebhookError> {
    let (_, params) = verified(state, edge, request).await?;
    let call = edge.provider.incoming_call(&params)?;
    let passed = edge.provider.keys(&params) == "1";
    let screening = if passed { "passed" } else { "screened out" };
    call_span(&call.call_id).in_scope(|| {
        let outcome = ForwardOutcome { screening: Some(screening.to_owned()), ..Default::default() };
        state.call_log.attach(call.call_id.clone(), outcome);
        let markup = if passed { forward_or_fallback(state, edge, &call) } else { edge.provider.hang_up() };
        Ok(edge.markup(markup))
    })
}

/// The call put through as configured, or, when that cannot be rendered, the fallback forward.
fn forward_or_fallback(state: &AppState, edge: &Edge, call: &IncomingCall) -> String {
    edge.provider.render(&answer::forward_call(call, &state.service.settings())).unwrap_or_else(|error| {
        state.metrics.failed_open();
        tracing::error!(%error, "could not render the forward; giving the fallback forward");
        edge.fallback.clone()
    })
}

/// `POST /{provider}/voicemail`: the caller left a message (or hung up during the greeting).
pub async fn voicemail(State(state): State<AppState>, edge: Arc<Edge>, request: Request) -> Response {
    answered(left_message(&state, &edge, request).await)
}

async fn left_message(state: &AppState, edge: &Edge, request: Request) -> Result<Response, WebhookError> {
    let (_, params) = verified(state, edge, request).await?;
    let call_id = edge.provider.call_id(&params)?;
    call_span(&call_id).in_scope(|| {
        state.call_log.attach(call_id, edge.provider.voicemail(&params)?);
        Ok(edge.markup(edge.provider.hang_up()))
    })
}
