//! `GET /calls/{call_id}/voicemail`: a voicemail's audio for the signed-in owner. saidno fetches it
//! from the provider with the account's credentials and passes it on as it arrives, so that
//! neither the credentials nor the provider's address ever reach the browser.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use futures_util::stream;

use super::AppState;
use super::api::served;
use super::error::ApiError;
use super::pages::PageResult;
use crate::provider::recordings::Unfetched;

/// A byte range is passed on: Safari plays audio only from a server that answers one, and every
/// browser seeks with them.
pub async fn voicemail(State(state): State<AppState>, Path(call_id): Path<String>, headers: HeaderMap) -> PageResult {
    let call = served(state.service.call_by_id(&call_id)).await?;
    let Some(url) = call.and_then(|call| call.outcome?.recording_url) else {
        return Err(ApiError::NotFound(format!("no voicemail was left on call {call_id}")).into());
    };
    let Some(recording) = state.recordings.find(&url) else {
        // A webhook named it, and webhooks come from outside: fetch only what an account owns.
        tracing::warn!(%call_id, "a voicemail is not at a configured account's address; not fetched");
        let why = "this voicemail is not kept by a provider account saidno is configured with";
        return Ok((StatusCode::FORBIDDEN, why).into_response());
    };
    let range = headers
        .get(header::RANGE)
        .and_then(|range| range.to_str().ok())
        .filter(|range| range.starts_with("bytes=") && range.len() <= 100);
    let answer = match recording.fetch(range).await {
        Ok(answer) if answer.status().is_success() || answer.status() == StatusCode::RANGE_NOT_SATISFIABLE => answer,
        Ok(answer) => {
            tracing::warn!(%call_id, status = %answer.status(), "the provider did not give the voicemail");
            return Ok((StatusCode::BAD_GATEWAY, "the provider did not give the voicemail").into_response());
        }
        Err(Unfetched::Unreachable(error)) => {
            tracing::warn!(%call_id, error = %error.without_url(), "could not reach the provider for a voicemail");
            return Ok((StatusCode::BAD_GATEWAY, "the provider could not be reached").into_response());
        }
        Err(Unfetched::Refused(why)) => {
            tracing::warn!(%call_id, %why, "the provider did not give the voicemail");
            return Ok((StatusCode::BAD_GATEWAY, "the provider did not give the voicemail").into_response());
        }
    };
    let status = answer.status();
    let passed_on: Vec<_> = [header::CONTENT_LENGTH, header::CONTENT_RANGE, header::ACCEPT_RANGES]
        .into_iter()
        .filter_map(|name| Some((name.clone(), answer.headers().get(name)?.clone())))
        .collect();
    let kind = answer
        .headers()
        .get(header::CONTENT_TYPE)
        .filter(|kind| kind.as_bytes().starts_with(b"audio/"))
        .cloned()
        .unwrap_or(HeaderValue::from_static("audio/mpeg"));
    // Passed on chunk by chunk: a long message is never held in memory whole.
    let chunks = stream::unfold(Some(answer), |answer| async move {
        let mut answer = answer?;
        match answer.chunk().await {
            Ok(Some(chunk)) => Some((Ok(chunk), Some(answer))),
            Ok(None) => None,
            Err(error) => Some((Err(error.without_url()), None)),
        }
    });
    let mut response = (status, Body::from_stream(chunks)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, kind);
    // A caller's message is for the signed-in owner alone: no cache keeps it after signing out.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.extend(passed_on);
    Ok(response)
}
