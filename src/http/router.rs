//! Every route saidno serves, in one place.

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::from_fn_with_state;
use axum::routing::{delete, get, post};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use super::{AppState, api, auth, backup, health, sms, webhook, whisper};

/// Admin requests carry a record or a query, never more than this.
const MAX_API_BODY: usize = 64 * 1024;
/// Twilio waits 15 seconds for a webhook; answer (or give up) well before.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Pages load nothing from elsewhere, run no inline script, and are never framed.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/// A security header on every response that does not set its own.
fn header(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/declines", get(api::list_declines).post(api::add_decline))
        .route("/declines/{number}", delete(api::remove_decline))
        .route("/allows", get(api::list_allows).post(api::add_allow))
        .route("/allows/{number}", delete(api::remove_allow))
        .route("/calls", get(api::list_calls))
        .route("/check", get(api::check).post(api::check_posted))
        .route("/pause", get(api::pause_state).post(api::set_pause))
        .route("/backup", get(backup::backup))
        .route_layer(from_fn_with_state(state.clone(), auth::require_token))
        .layer(DefaultBodyLimit::max(MAX_API_BODY));

    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(health::ready))
        .route("/twilio/voice", post(webhook::voice).route_layer(from_fn_with_state(state.clone(), webhook::timed)))
        .route("/twilio/dial-status", post(webhook::dial_status))
        .route("/twilio/voicemail", post(webhook::voicemail))
        .route("/twilio/whisper", post(whisper::announce))
        .route("/twilio/whisper/key", post(whisper::key))
        .route("/twilio/sms", post(sms::sms))
        .route("/twilio/escape", post(webhook::escape))
        .route("/twilio/screen", post(webhook::screen))
        .nest("/api/v1", api)
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
        .layer(header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(header(header::REFERRER_POLICY, "no-referrer"))
        .layer(header(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
