//! Every route saidno serves, in one place.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use tower_http::csrf::CsrfLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{
    AppState, allows_page, api, auth, backup, calls_page, came_from, company_page, dashboard_page, decline_forms,
    decline_selected, health, live_pages, openapi, operator, pages, pbx, security_headers, session, settings_page, sms,
    transcript, voicemail, webhook, whisper,
};
use webhook::Edge;

/// Admin requests carry a record or a query, never more than this.
const MAX_API_BODY: usize = 64 * 1024;
/// An import file may hold many thousands of declines.
const MAX_IMPORT_BODY: usize = 8 * 1024 * 1024;
/// Providers wait about 15 seconds for a webhook; answer (or give up) well before.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// An import of hundreds of thousands of declines takes longer than that, and its answer is the
/// owner's only word on whether the file was saved: cut off, it would say "timed out" while the
/// file went on being saved behind it.
const IMPORT_TIMEOUT: Duration = Duration::from_secs(600);

/// The admin API, the operator's API (each to be guarded by its own token), and their OpenAPI
/// description built from the same routes.
pub fn api_router() -> (Router<AppState>, Router<AppState>, utoipa::openapi::OpenApi) {
    let imports =
        OpenApiRouter::new().routes(routes!(api::import_declines)).layer(DefaultBodyLimit::max(MAX_IMPORT_BODY));
    let api = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(api::list_declines, api::add_decline))
        .routes(routes!(api::remove_decline))
        .routes(routes!(api::undo_decline))
        .routes(routes!(api::export_declines))
        .routes(routes!(api::list_allows, api::add_allow))
        .routes(routes!(api::remove_allow))
        .routes(routes!(api::list_calls))
        .routes(routes!(api::export_calls))
        .routes(routes!(api::list_companies))
        .routes(routes!(api::company))
        .routes(routes!(api::company_evidence))
        .routes(routes!(api::set_legal_hold))
        .routes(routes!(api::legal_holds))
        .routes(routes!(api::dashboard))
        .routes(routes!(api::check, api::check_posted))
        .routes(routes!(api::pause_state, api::set_pause))
        .routes(routes!(api::set_password))
        .routes(routes!(backup::backup))
        .layer(DefaultBodyLimit::max(MAX_API_BODY))
        .merge(imports);
    let operator =
        OpenApiRouter::new().nest("/operator", operator::routes().layer(DefaultBodyLimit::max(MAX_API_BODY)));
    let (operator, operator_spec) = operator.split_for_parts();
    let (api, mut spec) = api.split_for_parts();
    spec.merge(operator_spec);
    (api, operator, spec)
}

fn page_router(state: &AppState) -> Router<AppState> {
    let signed_in = Router::new()
        .route("/", get(dashboard_page::dashboard))
        .route("/calls", get(calls_page::calls))
        .route("/calls/live", get(live_pages::calls))
        .route("/calls/{call_id}/voicemail", get(voicemail::voicemail))
        .route("/live/dashboard", get(live_pages::dashboard))
        .route("/calls/decline", post(decline_forms::decline))
        .route("/calls/allow", post(allows_page::allow_from_log))
        .route("/declines/undo", post(decline_forms::undo_decline))
        .route("/calls/decline-selected", post(decline_selected::decline_selected))
        .route("/declines/undo-selected", post(decline_selected::undo_selected))
        .route("/declines/remove", get(decline_forms::confirm_removal).post(decline_forms::remove))
        .route("/companies", get(pages::companies))
        .route("/companies/{key}", get(company_page::company))
        .route("/companies/{key}/declines", post(decline_forms::add_to_company))
        .route("/companies/{key}/declines/edit", post(decline_forms::edit))
        .route("/companies/{key}/legal-hold", post(company_page::legal_hold))
        .route("/companies/{key}/evidence", get(company_page::evidence))
        .route("/companies/{key}/evidence.csv", get(company_page::evidence_csv))
        .route("/allows", get(allows_page::allows).post(allows_page::add_allow))
        .route("/allows/remove", post(allows_page::remove_allow))
        .route("/allows/undo", post(allows_page::undo_allow))
        .route("/check", get(pages::check))
        .route("/transfer", get(pages::transfer))
        .route("/transfer/declines.csv", get(pages::export_declines_csv))
        .route("/transfer/declines.json", get(pages::export_declines_json))
        .route("/transfer/calls.csv", get(pages::export_calls))
        .route("/transfer/import", post(pages::import))
        .route("/resume", post(pages::resume))
        .route("/settings", get(settings_page::settings))
        .route("/settings/pause", post(settings_page::set_pause))
        .route("/settings/undo", post(settings_page::undo))
        .route("/settings/{setting}", post(settings_page::choose))
        .route("/logout", post(session::sign_out))
        .route_layer(from_fn(came_from::remember))
        .route_layer(from_fn_with_state(state.clone(), session::require_session))
        .layer(DefaultBodyLimit::max(MAX_IMPORT_BODY));
    let mut csrf = CsrfLayer::new();
    if let Some(origin) = state.settings.public_url() {
        match csrf.clone().add_trusted_origin(origin) {
            Ok(with_origin) => csrf = with_origin,
            Err(error) => tracing::warn!(?error, "public_url is not a usable origin for cross-site checks"),
        }
    }
    Router::new()
        .route("/login", get(session::sign_in_page).post(session::sign_in))
        .route("/style.css", get(|| async { ([(header::CONTENT_TYPE, "text/css")], pages::STYLE) }))
        .route("/print.js", get(|| async { ([(header::CONTENT_TYPE, "text/javascript")], pages::PRINT_SCRIPT) }))
        .route("/live.js", get(|| async { ([(header::CONTENT_TYPE, "text/javascript")], pages::LIVE_SCRIPT) }))
        .route("/in-place.js", get(|| async { ([(header::CONTENT_TYPE, "text/javascript")], pages::IN_PLACE_SCRIPT) }))
        .merge(signed_in)
        .layer(DefaultBodyLimit::max(MAX_API_BODY))
        .layer(csrf)
}

pub fn router(state: AppState) -> Router {
    let (api, operator, spec) = api_router();
    let spec = Arc::new(spec.to_pretty_json().expect("the OpenAPI description serialises"));
    let api = api
        .route(
            "/openapi.json",
            get(move || {
                let spec = spec.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], spec.as_str().to_owned()) }
            }),
        )
        .route_layer(from_fn_with_state(state.clone(), auth::require_token))
        .merge(operator.route_layer(from_fn_with_state(state.clone(), operator::require_operator_token)));

    let mut routes = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(health::ready))
        .route("/pbx/check", get(pbx::check));
    for edge in &state.edges {
        routes = routes
            .route(&callback_path(&state, edge, "dial-status"), on_edge(edge, webhook::dial_status))
            .route(&callback_path(&state, edge, "voicemail"), on_edge(edge, webhook::voicemail))
            .route(&callback_path(&state, edge, "whisper"), on_edge(edge, whisper::announce))
            .route(&callback_path(&state, edge, "whisper/key"), on_edge(edge, whisper::key))
            .route(&callback_path(&state, edge, "sms"), on_edge(edge, sms::sms))
            .route(&callback_path(&state, edge, "escape"), on_edge(edge, webhook::escape))
            .route(&callback_path(&state, edge, "screen"), on_edge(edge, webhook::screen));
        if edge.provider.transcribes() {
            routes = routes.route(&callback_path(&state, edge, "transcript"), on_edge(edge, transcript::transcript));
        }
        if let Some(events) = edge.provider.events_route() {
            routes = routes.route(&callback_path(&state, edge, events), on_edge(edge, webhook::events));
        }
    }
    let mut routes = routes
        .nest("/api/v1", api)
        .merge(page_router(&state))
        .layer(from_fn(time_limit))
        .layer(from_fn(security_headers::on_every_response))
        .layer(TraceLayer::new_for_http());
    // Added after the layers, which wrap only the routes before them: a served call reaches its
    // handler before the router (`entry.rs`), and what comes here is a router's own use (tests, or a
    // method the route does not take), which is answered as the served route would be.
    for edge in &state.edges {
        routes = routes.route(&call_path(edge), on_edge(edge, webhook::voice));
    }
    routes.with_state(state)
}

/// Where a provider posts a text to a line.
pub fn text_path(edge: &Edge) -> String {
    edge_path(edge, "sms")
}

/// Where a provider posts an incoming call.
pub fn call_path(edge: &Edge) -> String {
    edge_path(edge, edge.provider.voice_route())
}

fn edge_path(edge: &Edge, route: &str) -> String {
    format!("/{}/{route}", edge.provider.name())
}

/// Where a provider posts a callback about one of this business's calls.
fn callback_path(state: &AppState, edge: &Edge, route: &str) -> String {
    format!("{}{}", state.settings.callbacks_under, edge_path(edge, route))
}

/// A `POST` route for one provider: the handler is given that provider's edge.
fn on_edge<F, Answer>(edge: &Arc<Edge>, handler: F) -> MethodRouter<AppState>
where
    F: Fn(State<AppState>, Arc<Edge>, Request) -> Answer + Clone + Send + Sync + 'static,
    Answer: Future<Output = Response> + Send + 'static,
{
    let edge = edge.clone();
    post(move |state: State<AppState>, request: Request| handler(state, edge.clone(), request))
}

/// Gives up on a request that has not been answered in time (`408`); imports get longer.
async fn time_limit(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let limit =
        if path == "/api/v1/declines/import" || path == "/transfer/import" { IMPORT_TIMEOUT } else { REQUEST_TIMEOUT };
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => StatusCode::REQUEST_TIMEOUT.into_response(),
    }
}
