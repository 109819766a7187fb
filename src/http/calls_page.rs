//! The Calls page: the log, newest first, with its filters, its banners and the live stream that
//! keeps the newest page up to date. The answers in place and the stream have files of their own.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;

use super::AppState;
use super::api::served;
use super::banners::Banners;
use super::call_row::CallRow;
use super::calls_in_place;
use super::live_calls::resumable;
use super::pages::{CallFilters, PageResult, bad, call_rows, paused};
use super::url_part::encode;

#[derive(Template, WebTemplate)]
#[template(path = "calls.html")]
struct CallsPage {
    /// The pause switch is on: every page says so, with Resume.
    paused: bool,
    filters: CallFilters,
    calls: Vec<CallRow>,
    next_link: Option<String>,
    /// The stream of new calls matching the filters, when the page shows the newest calls.
    live_link: Option<String>,
    companies: Vec<String>,
    banners: Banners,
}

pub async fn calls(
    State(state): State<AppState>,
    headers: HeaderMap,
    filters: Result<Query<CallFilters>, QueryRejection>,
) -> PageResult {
    let Query(filters) = filters.map_err(|r| bad("filters", r.body_text()))?;
    let time_zone = &state.settings.time_zone;
    if calls_in_place::asked(&headers) {
        let (service, params, zone) = (state.service.clone(), filters.banners.clone(), time_zone.clone());
        let banners = served(async move { Banners::read(&service, &params, "/calls", &zone).await }).await?;
        return calls_in_place::fragment(&state, banners).await;
    }
    let query = filters.query(time_zone)?;
    state.call_log.written().await;
    let service = state.service.clone();
    let params = filters.banners.clone();
    let zone = time_zone.clone();
    let (page, companies, banners) = served(async move {
        let banners = Banners::read(&service, &params, "/calls", &zone).await?;
        let page = service.call_page(query).await?;
        Ok((page, service.company_names().await?, banners))
    })
    .await?;
    let next_link = page.next.map(|next| format!("/calls?{}before={next}", filters.kept()));
    // Only the newest calls take new ones at the top; an older page stays as it was. The stream
    // starts after the newest call shown, so a call logged before it opens is not missed.
    let after = match page.calls.first() {
        Some(newest) if resumable(&newest.call_id) => format!("after={}", encode(&newest.call_id)),
        // From the newest page of the log, of which the page skips the rows it shows.
        _ => String::new(),
    };
    let live_link = filters.before.trim().is_empty().then(|| format!("/calls/live?{}{after}", filters.kept()));
    let calls = call_rows(&state, &page.calls).await?;
    Ok(CallsPage { paused: paused(&state).await, filters, calls, next_link, live_link, companies, banners }
        .into_response())
}
