//! `GET /pbx/check`: a business's own PBX asks what to do with a call before it rings. The call is
//! decided, logged and counted exactly as a provider's webhook call is.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;

use super::AppState;
use super::webhook::answer_or_forward;
use crate::answer;
use crate::provider::pbx::{Lookup, Verdict};

pub async fn check(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<Lookup>, QueryRejection>,
) -> Response {
    let Some(pbx) = &state.pbx else { return StatusCode::NOT_FOUND.into_response() };
    let authorization = headers.get(header::AUTHORIZATION).and_then(|value| value.to_str().ok());
    if !pbx.admits(authorization) {
        tracing::warn!("a PBX look-up without the PBX token was refused");
        return (StatusCode::FORBIDDEN, "the request does not carry the [pbx] token as its bearer token")
            .into_response();
    }
    let Ok(Query(lookup)) = query else {
        return (StatusCode::BAD_REQUEST, "the query must be from=NUMBER&to=NUMBER, with call= and name= if known")
            .into_response();
    };
    let now = Timestamp::now();
    let call = match lookup.incoming_call(state.settings.region, now.as_microsecond()) {
        Ok(call) => call,
        Err(error) => return (StatusCode::BAD_REQUEST, error.to_string()).into_response(),
    };
    // The owner's choices from the settings page (hours, the announcement) shape the answer too.
    let settings = state.service.settings();
    let render = |decision: &_| Ok(Verdict::of(&answer::for_call(decision, &call, &settings)));
    let verdict = answer_or_forward(&state, &call, now, render, Verdict::forward);
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains("application/json"));
    if wants_json {
        axum::Json(verdict).into_response()
    } else {
        ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], verdict.text()).into_response()
    }
}
