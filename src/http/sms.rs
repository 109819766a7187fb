//! `POST /twilio/sms`: texts to the business number. The owner's are commands; anyone else's
//! get no reply.

use axum::extract::State;
use axum::response::Response;
use jiff::Timestamp;

use super::AppState;
use super::webhook::{SignedForm, WebhookError, twiml_response};
use crate::domain::PhoneNumber;
use crate::provider::twilio::request::RequestError;
use crate::provider::twilio::twiml;

/// Ten SMS segments; a command is a line.
const MAX_BODY_CHARS: usize = 1600;

pub async fn sms(State(state): State<AppState>, SignedForm(params): SignedForm) -> Result<Response, WebhookError> {
    let from = params.get("From").ok_or(RequestError::Missing("From"))?.trim();
    let body = params.get("Body").unwrap_or_default();
    if body.chars().count() > MAX_BODY_CHARS {
        return Err(RequestError::Invalid("Body").into());
    }
    let owner = match PhoneNumber::from_e164(from) {
        Some(number) if state.settings.is_owner(&number) => number,
        _ => {
            tracing::warn!(from, "a text from a number that is not the owner's was ignored");
            return Ok(twiml_response(twiml::empty()));
        }
    };
    // Calls are logged off the call path; NO and LAST must see the call that just ended.
    state.call_log.written().await;
    let remote = state.remote.clone();
    let body = body.to_owned();
    let reply = tokio::task::spawn_blocking(move || remote.handle(&owner, &body, Timestamp::now()))
        .await
        .unwrap_or_else(|_| "Sorry, saidno could not carry that out; nothing changed.".to_owned());
    tracing::info!(reply = %reply, "answered a text from the owner");
    Ok(twiml_response(twiml::message(&reply).unwrap_or_else(|_| twiml::empty())))
}
