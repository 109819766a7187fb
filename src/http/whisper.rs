//! The announcement to whoever answers a forwarded call, and the key they press: 1 (or nothing)
//! connects, 9 declines the caller, who then hears the refusal from the dial callback.

use std::sync::Arc;

use axum::extract::{Query, Request, State};
use axum::response::Response;
use jiff::Timestamp;
use serde::Deserialize;
use tracing::Instrument;

use super::AppState;
use super::webhook::{Edge, WebhookError, answered, verified};
use crate::answer::{self, Answer, CallRef};
use crate::config::NoKey;
use crate::domain::{CallerId, Channel, ForwardOutcome, OwnerDecision};
use crate::service::{NewDecline, ServiceError};
use crate::speech::{AnnouncementKeys, announcement};
use crate::telemetry::call_span;

/// What whoever answered hears when the decline they pressed 9 for could not be recorded.
const NOT_RECORDED: &str = "Sorry, saidno could not record the decline. Connecting the call.";

/// The original call, as carried in the announcement's query.
#[derive(Deserialize)]
pub struct Forwarded {
    call: String,
    #[serde(default)]
    from: String,
}

/// `POST /{provider}/whisper`: the forward was answered; say who is calling and wait for a key.
/// When the records cannot be read the number alone is announced; when the markup cannot be
/// rendered the call connects unannounced.
pub async fn announce(State(state): State<AppState>, edge: Arc<Edge>, request: Request) -> Response {
    answered(announce_forwarded(&state, &edge, request).await)
}

async fn announce_forwarded(state: &AppState, edge: &Edge, request: Request) -> Result<Response, WebhookError> {
    let (parts, _) = verified(state, edge, request).await?;
    let forwarded = forwarded(&parts)?;
    let span = call_span(&forwarded.call);
    Ok(announcement_for(state, edge, &forwarded).instrument(span).await)
}

/// The original call, from the query the announcement's address carries.
fn forwarded(parts: &axum::http::request::Parts) -> Result<Forwarded, WebhookError> {
    Query::<Forwarded>::try_from_uri(&parts.uri)
        .map(|Query(forwarded)| forwarded)
        .map_err(|_| crate::provider::Rejection::Missing("call").into())
}

async fn announcement_for(state: &AppState, edge: &Edge, forwarded: &Forwarded) -> Response {
    let caller = CallerId::from_text(&forwarded.from);
    let facts = match caller.number() {
        Some(number) => state.service.who_is_calling(number, Timestamp::now()),
        None => Ok((None, 0)),
    };
    let (company, calls_this_week) = facts.unwrap_or_else(|error| {
        state.metrics.store_error();
        tracing::error!(%error, "could not look up the caller; announcing the number only");
        (None, 0)
    });
    let words = announcement(&caller, company.as_deref(), calls_this_week, edge.provider.announcement_keys());
    let call = CallRef { call_id: forwarded.call.clone(), caller: caller.number().cloned() };
    let settings = state.service.settings();
    let hang_up_on_silence = settings.whisper.no_key == NoKey::Voicemail;
    let announced = answer::announcement(words, call, hang_up_on_silence, &settings);
    let markup = edge.provider.render(&announced).unwrap_or_else(|error| {
        tracing::error!(%error, "could not render the announcement; connecting the call");
        edge.provider.nothing()
    });
    edge.markup(markup)
}

/// `POST /{provider}/whisper/key`: the key pressed during the announcement (empty for none).
pub async fn key(State(state): State<AppState>, edge: Arc<Edge>, request: Request) -> Response {
    answered(key_pressed(&state, &edge, request).await)
}

async fn key_pressed(state: &AppState, edge: &Edge, request: Request) -> Result<Response, WebhookError> {
    let (parts, params) = verified(state, edge, request).await?;
    let forwarded = forwarded(&parts)?;
    let span = call_span(&forwarded.call);
    Ok(answer_key(state, edge, forwarded, edge.provider.keys(&params)).instrument(span).await)
}

async fn answer_key(state: &AppState, edge: &Edge, forwarded: Forwarded, digits: &str) -> Response {
    // Where the announcement cannot turn the caller away (Vonage), every key puts the call
    // through: neither a decline nor a voicemail the caller would never reach is promised.
    if edge.provider.announcement_keys() != AnnouncementKeys::TakeOrDecline {
        return edge.markup(edge.provider.nothing());
    }
    let settings = &state.service.settings();
    let render = |answer: Answer| {
        edge.markup(edge.provider.render(&answer).unwrap_or_else(|error| {
            tracing::error!(%error, "could not render the answer to the key; connecting the call");
            edge.provider.nothing()
        }))
    };
    match digits {
        "9" => render(decline(state, &forwarded).await),
        "" if settings.whisper.no_key == NoKey::Voicemail => {
            match state.service.hold_owner_decision(&forwarded.call, OwnerDecision::ToVoicemail).await {
                Ok(()) => render(answer::say_and_hang_up("Not taken. The caller can leave a message.", settings)),
                Err(error) => {
                    state.metrics.store_error();
                    tracing::error!(%error, "could not keep the call for voicemail; connecting");
                    edge.markup(edge.provider.nothing())
                }
            }
        }
        _ => edge.markup(edge.provider.nothing()),
    }
}

/// Whether this business answered the call. Every hosted business's callbacks are signed alike,
/// so the address alone does not make the call this business's: only a call in its own log is
/// one whose caller it declines. A deployment of one business has no one to tell it apart from,
/// and there a call whose entry the log had to drop under load is still declined.
async fn answered_here(state: &AppState, call_id: &str) -> Result<bool, ServiceError> {
    if !state.hosting.as_ref().is_some_and(|hosting| hosting.directory().hosts_many()) {
        return Ok(true);
    }
    state.call_log.written().await;
    Ok(state.service.call_by_id(call_id).await?.is_some())
}

/// Records the decline, and leaves word for the dial callback to give the caller the refusal.
async fn decline(state: &AppState, forwarded: &Forwarded) -> Answer {
    let settings = &state.service.settings();
    let CallerId::Number(number) = CallerId::from_text(&forwarded.from) else {
        return answer::say_and_connect(
            "This caller withheld their number, so it cannot be declined. Connecting.",
            settings,
        );
    };
    match answered_here(state, &forwarded.call).await {
        Ok(true) => {}
        Ok(false) => {
            tracing::warn!("a key pressed on a call this business did not answer; nothing declined");
            return answer::say_and_connect(
                "saidno did not answer this call, so it cannot decline it. Connecting.",
                settings,
            );
        }
        Err(error) => {
            state.metrics.store_error();
            tracing::error!(%error, "could not find the call to decline its caller; connecting");
            return answer::say_and_connect(NOT_RECORDED, settings);
        }
    }
    let new = NewDecline {
        number: number.to_string(),
        force: true,
        channel: Some(Channel::Phone),
        on_call: Some(forwarded.call.clone()),
        ..Default::default()
    };
    match state.service.decline(new, Timestamp::now()).await {
        Ok(saved) => {
            tracing::info!(from = %number, "declined by phone during the announcement");
            state.call_log.attach(
                forwarded.call.clone(),
                ForwardOutcome { status: Some("declined".into()), ..ForwardOutcome::default() },
            );
            let decision = OwnerDecision::Declined(saved.record);
            if let Err(error) = state.service.hold_owner_decision(&forwarded.call, decision).await {
                state.metrics.store_error();
                tracing::error!(%error, "could not keep the decline by phone for the caller's refusal");
                return answer::say_and_hang_up(
                    "Declined: their next call is refused. This caller could not be given the refusal.",
                    settings,
                );
            }
            answer::say_and_hang_up(
                "Declined. The caller hears your refusal. Text NO and the company to name them.",
                settings,
            )
        }
        Err(error) => {
            tracing::error!(%error, "could not record a decline by phone; connecting");
            answer::say_and_connect(NOT_RECORDED, settings)
        }
    }
}
