//! `POST /{provider}/sms`: texts to the business number. The owner's are commands; anyone else's
//! get no reply.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::Response;
use futures_util::FutureExt;
use jiff::Timestamp;

use super::AppState;
use super::webhook::{Edge, WebhookError, answered, verified};
use crate::domain::CallerId;
use crate::provider::Rejection;
use crate::provider::form::Params;

/// Ten SMS segments; a command is a line.
const MAX_BODY_CHARS: usize = 1600;

pub async fn sms(State(state): State<AppState>, edge: Arc<Edge>, request: Request) -> Response {
    answered(reply(&state, &edge, request).await)
}

async fn reply(state: &AppState, edge: &Edge, request: Request) -> Result<Response, WebhookError> {
    let (_, params) = verified(state, edge, request).await?;
    reply_to(state, edge, &params).await
}

/// Answers a verified text for the business `state` is of.
pub async fn reply_to(state: &AppState, edge: &Edge, params: &Params) -> Result<Response, WebhookError> {
    let (from, body) = edge.provider.text(params)?;
    if body.chars().count() > MAX_BODY_CHARS {
        return Err(Rejection::Invalid("Body").into());
    }
    let owner = match from {
        CallerId::Number(number) if state.settings.is_owner(&number) => number,
        _ => {
            tracing::warn!(%from, "a text from a number that is not the owner's was ignored");
            return Ok(edge.markup(edge.provider.nothing()));
        }
    };
    // Calls are logged off the call path; NO and LAST must see the call that just ended.
    state.call_log.written().await;
    // A command that fails on a fault of saidno's own still gets the owner a reply.
    let reply = AssertUnwindSafe(state.remote.handle(&owner, body, Timestamp::now()))
        .catch_unwind()
        .await
        .unwrap_or_else(|_| "Sorry, saidno could not carry that out; nothing changed.".to_owned());
    tracing::info!(reply = %reply, "answered a text from the owner");
    Ok(edge.markup(edge.provider.reply(params, &reply).unwrap_or_else(|_| edge.provider.nothing())))
}
