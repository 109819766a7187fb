//! `POST /{provider}/transcript`: the words of a voicemail, which the provider transcribes
//! minutes after the message was left. They join the voicemail on its call in the log, and are
//! on disk before the provider is told so.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::webhook::{Edge, WebhookError, answered, verified};
use crate::domain::ForwardOutcome;
use crate::provider::Rejection;
use crate::telemetry::call_span;

pub async fn transcript(State(state): State<AppState>, edge: Arc<Edge>, request: Request) -> Response {
    answered(transcribed(&state, &edge, request).await)
}

async fn transcribed(state: &AppState, edge: &Edge, request: Request) -> Result<Response, WebhookError> {
    let (_, params) = verified(state, edge, request).await?;
    let transcript = edge.provider.transcript(&params)?;
    // A file of words is fetched only from a configured account, and never from anywhere else.
    let file = match &transcript.file {
        Some(url) => Some(state.recordings.transcript_file(url).ok_or(Rejection::Invalid("transcription_url"))?),
        None => None,
    };
    let call_id = transcript.call_id;
    // The voicemail's own callback may still be on its way into the log.
    state.call_log.written().await;
    let call =
        state.service.call_by_id(&call_id).await.map_err(|error| WebhookError::Unavailable(error.to_string()))?;
    let voicemail = call.and_then(|call| call.outcome).and_then(|outcome| outcome.recording_url);
    if voicemail.is_none() {
        return Err(WebhookError::NotFound(format!("no voicemail was left on call {call_id}")));
    }
    let text = match file {
        Some(file) => file.words().await.map_err(|why| {
            WebhookError::Unfetched(format!("the transcript of call {call_id} could not be fetched: {why}"))
        })?,
        None => transcript.text,
    };
    let Some(text) = text else {
        // The message stays as it was, to be listened to: there are no words to show.
        call_span(&call_id).in_scope(|| tracing::info!("the provider gave no words for the voicemail"));
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    state.call_log.attach(call_id, ForwardOutcome { transcript: Some(text), ..ForwardOutcome::default() });
    state.call_log.flush().await;
    Ok(StatusCode::NO_CONTENT.into_response())
}
