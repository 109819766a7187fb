//! The Calls page and the Dashboard, live: each call written to the log reaches the open pages as
//! a server-sent event carrying its markup, rendered by the same templates as the pages, so the
//! script that shows it only puts it in place.

use std::convert::Infallible;
use std::sync::Arc;

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream, StreamExt};
use tokio::sync::broadcast;

use super::AppState;
use super::api::served;
use super::call_row::CallRow;
use super::dashboard_page::cards_now;
use super::pages::{CallFilters, PageResult, bad, call_rows};
use super::session::{session_of, still_signed_in};
use crate::domain::CallRecord;
use crate::live::next_call;
use crate::store::CallQuery;

/// One row of the log, by the template the Calls page renders its rows with.
#[derive(Template)]
#[template(path = "call_row.html")]
struct Row {
    call: CallRow,
}

/// `GET /calls/live?filters`: each new call the page's filters let through, as its row.
pub async fn calls(
    State(state): State<AppState>,
    headers: HeaderMap,
    filters: Result<Query<CallFilters>, QueryRejection>,
) -> PageResult {
    let Query(filters) = filters.map_err(|r| bad("filters", r.body_text()))?;
    let asked = filters.query(&state.settings.time_zone)?;
    let query = served(async { state.service.call_query(asked) }).await?;
    if query.before.is_some() {
        return Err(bad("before", "only the newest calls are shown live"));
    }
    let calls = state.call_log.live().subscribe();
    let rows = stream::unfold((state.clone(), calls, query), |(state, mut calls, query)| async move {
        let row = next_row(&state, &mut calls, &query).await?;
        Some((row, (state, calls, query)))
    });
    Ok(streamed(&state, &headers, rows, "call"))
}

/// The markup of the next call `query` lets through; `None` once no more calls will come.
async fn next_row(
    state: &AppState,
    calls: &mut broadcast::Receiver<Arc<CallRecord>>,
    query: &CallQuery,
) -> Option<String> {
    loop {
        let call = next_call(calls).await?;
        // The page's own filters, as the log applies them to the page.
        if !query.matches(&call) {
            continue;
        }
        let rendered = match call_rows(state, std::slice::from_ref(&call)).await {
            Ok(mut rows) => rows.pop().map(|call| Row { call }.render()),
            Err(error) => {
                tracing::warn!(%error, "a live call could not be shown");
                continue;
            }
        };
        match rendered {
            Some(Ok(markup)) => return Some(markup),
            Some(Err(error)) => tracing::error!(%error, "could not render a live call's row"),
            None => {}
        }
    }
}

/// `GET /live/dashboard`: the Dashboard's cards, counted anew after each call.
pub async fn dashboard(State(state): State<AppState>, headers: HeaderMap) -> PageResult {
    let calls = state.call_log.live().subscribe();
    let counts = stream::unfold((state.clone(), calls), |(state, mut calls)| async move {
        next_call(&mut calls).await?;
        // A burst of calls is counted once, after its last.
        while let Ok(_) | Err(broadcast::error::TryRecvError::Lagged(_)) = calls.try_recv() {}
        let cards = cards_now(&state).await.inspect_err(|error| tracing::warn!(%error, "live counts")).ok();
        Some((cards, (state, calls)))
    })
    .filter_map(|cards| async move { cards });
    Ok(streamed(&state, &headers, counts, "cards"))
}

/// The events as a stream that ends when the server stops or when the browser's session does (it
/// signed out, its hours ran out, a new password was set), with a comment now and then so that
/// proxies keep an idle stream open.
fn streamed(
    state: &AppState,
    headers: &HeaderMap,
    markups: impl Stream<Item = String> + Send + 'static,
    name: &'static str,
) -> Response {
    // The route lets only a signed-in browser in, so there is a session to follow.
    let session = session_of(headers).unwrap_or_default();
    let following = state.clone();
    let events = markups
        .take_while(move |_| {
            let (state, session) = (following.clone(), session.clone());
            async move { still_signed_in(&state, &session).await }
        })
        .map(move |markup| Ok::<_, Infallible>(Event::default().event(name).data(markup)))
        .take_until(state.call_log.live().closed());
    Sse::new(events).keep_alive(KeepAlive::default()).into_response()
}
