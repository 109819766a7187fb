//! The Calls page and the Dashboard, live: what is written to the call log reaches the open pages
//! as server-sent events carrying markup, rendered by the same templates as the pages, so the
//! script that shows it only puts it in place.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream, StreamExt};
use serde::Deserialize;
use tokio::time::Instant;

use super::AppState;
use super::api::served;
use super::dashboard_page::parts_now;
use super::live_calls::{Follower, resumable};
use super::pages::{CallFilters, PageResult, bad};
use super::session::{session_of, still_signed_in};
use crate::live::{drain, next_logged};

/// The Dashboard is counted anew at most this often per page, however many calls arrive.
const DASHBOARD_EVERY: Duration = Duration::from_secs(1);

/// Where a Calls page left off: the newest call it shows (`after`), or the last one its stream
/// sent (the browser's `Last-Event-ID` when it reconnects).
#[derive(Deserialize, Default)]
pub struct LeftOff {
    #[serde(default)]
    after: String,
}

/// `GET /calls/live?filters&after=ID`: the calls the page's filters let through that were
/// written after call `ID`, each as its row, then each new one and each changed outcome.
pub async fn calls(
    State(state): State<AppState>,
    headers: HeaderMap,
    filters: Result<Query<CallFilters>, QueryRejection>,
    left_off: Result<Query<LeftOff>, QueryRejection>,
) -> PageResult {
    let Query(filters) = filters.map_err(|r| bad("filters", r.body_text()))?;
    let Query(LeftOff { after }) = left_off.map_err(|r| bad("after", r.body_text()))?;
    // A browser reconnecting names the last call its stream sent, which is newer than the page's.
    let resumed = headers.get("last-event-id").map(|id| id.to_str().map(str::to_owned));
    let (field, newest) = match resumed {
        Some(Ok(id)) if !id.is_empty() => ("Last-Event-ID", id),
        Some(Err(_)) => return Err(bad("Last-Event-ID", "is not the id of a call")),
        _ => ("after", after),
    };
    if !resumable(&newest) {
        return Err(bad(field, "is not the id of a call"));
    }
    let asked = filters.query(&state.settings.time_zone)?;
    let query = served(async { state.service.call_query(asked) }).await?;
    if query.before.is_some() {
        return Err(bad("before", "only the newest calls are shown live"));
    }
    let rows = stream::unfold(Follower::new(state.clone(), query, newest), |mut follower| async move {
        let events = follower.next().await?;
        Some((events, follower))
    });
    Ok(streamed(&state, &headers, rows))
}

/// `GET /live/dashboard`: the Dashboard's parts that change with the calls, counted when the
/// stream opens (a call may have come since the page was read) and anew after calls and outcomes,
/// a burst of them counted once.
pub async fn dashboard(State(state): State<AppState>, headers: HeaderMap) -> PageResult {
    let logged = state.call_log.live().subscribe();
    let parts = stream::unfold((state.clone(), logged, None), |(state, mut logged, counted)| async move {
        if let Some(counted) = counted {
            next_logged(&mut logged).await?;
            tokio::time::sleep_until(counted + DASHBOARD_EVERY).await;
            drain(&mut logged)?;
        }
        let started = Instant::now();
        // Parts that cannot be counted are left as they are until the next call.
        let parts = parts_now(&state).await.inspect_err(|error| tracing::warn!(%error, "the live dashboard")).ok();
        let events = parts.into_iter().flatten().map(|(name, markup)| Event::default().event(name).data(markup));
        Some((events.collect(), (state, logged, Some(started))))
    });
    Ok(streamed(&state, &headers, parts))
}

/// The events as a stream that ends when the server stops or when the browser's session does (it
/// signed out, its hours ran out, a new password was set), with a comment now and then so that
/// proxies keep an idle stream open.
fn streamed(
    state: &AppState,
    headers: &HeaderMap,
    batches: impl Stream<Item = Vec<Event>> + Send + 'static,
) -> Response {
    // The route lets only a signed-in browser in, so there is a session to follow.
    let session = session_of(headers).unwrap_or_default();
    let following = state.clone();
    let events = batches
        .filter(|events| std::future::ready(!events.is_empty()))
        .take_while(move |_| {
            let (state, session) = (following.clone(), session.clone());
            async move { still_signed_in(&state, &session).await }
        })
        .flat_map(|events| stream::iter(events.into_iter().map(Ok::<_, Infallible>)))
        .take_until(state.call_log.live().closed());
    Sse::new(events).keep_alive(KeepAlive::default()).into_response()
}
