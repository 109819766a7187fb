//! The Calls page's answer to an action taken on it without leaving it: the script that submits a
//! row's form in the background asks for it with a header, and gets, instead of the whole page the
//! form's redirect leads to, that page's banner and the rows of every number the action changed,
//! rendered by the same templates. Everything else about the action (its handler, its redirect, its
//! banner's wording) is the same as without the script.

use askama::Template;
use askama_web::WebTemplate;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::response::IntoResponse;

use super::AppState;
use super::api::served;
use super::banners::Banners;
use super::call_row::CallRow;
use super::pages::{PageResult, call_rows};
use crate::service::MAX_LIMIT;
use crate::store::CallQuery;

/// Sent by the page's script (`templates/in_place.js`) when it wants the fragment.
pub const ASKED_BY: HeaderName = HeaderName::from_static("x-saidno-fragment");

#[derive(Template, WebTemplate)]
#[template(path = "calls_fragment.html")]
struct CallsFragment {
    banners: Banners,
    calls: Vec<CallRow>,
}

pub fn asked(headers: &HeaderMap) -> bool {
    headers.contains_key(ASKED_BY)
}

/// The banner, and the newest rows of each number it reports changed: the rows on the page are
/// among them, so each can take its new state.
pub async fn fragment(state: &AppState, banners: Banners) -> PageResult {
    state.call_log.written().await;
    let mut calls = Vec::new();
    for number in banners.numbers() {
        let query = CallQuery { number: Some(number), limit: MAX_LIMIT, ..Default::default() };
        calls.extend(served(state.service.calls(query)).await?);
    }
    let calls = call_rows(state, &calls).await?;
    let mut response = CallsFragment { banners, calls }.into_response();
    // The same address answers the whole page too; no cache may give one for the other.
    response.headers_mut().insert(header::VARY, HeaderValue::from_static("x-saidno-fragment"));
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
