//! The admin API (`/api/v1`): JSON over the same service functions the command line uses offline.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::error::ApiError;
use crate::domain::{Allow, CallRecord, Decline};
use crate::service::{CheckRequest, NewAllow, NewDecline, Preview, Saved, ServiceError};
use crate::store::CallQuery;

type ApiResult<T> = Result<Json<T>, ApiError>;

/// Changes flush to disk before they are acknowledged; that wait belongs off the async workers.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ServiceError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work).await.map_err(|_| ApiError::Internal)?.map_err(ApiError::from)
}

fn body<T>(json: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    json.map(|Json(value)| value).map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge,
        _ => ApiError::Invalid { field: None, message: rejection.body_text() },
    })
}

fn saved<T>(saved: Saved<T>) -> (StatusCode, Json<Saved<T>>) {
    let status = if saved.created { StatusCode::CREATED } else { StatusCode::OK };
    (status, Json(saved))
}

pub async fn add_decline(
    State(state): State<AppState>,
    json: Result<Json<NewDecline>, JsonRejection>,
) -> Result<(StatusCode, Json<Saved<Decline>>), ApiError> {
    let new = body(json)?;
    let service = state.service.clone();
    blocking(move || service.decline(new, Timestamp::now())).await.map(saved)
}

pub async fn remove_decline(State(state): State<AppState>, Path(number): Path<String>) -> ApiResult<Decline> {
    let service = state.service.clone();
    blocking(move || service.remove_decline(&number)).await.map(Json)
}

pub async fn list_declines(State(state): State<AppState>) -> ApiResult<Vec<Decline>> {
    let service = state.service.clone();
    blocking(move || service.declines()).await.map(Json)
}

pub async fn add_allow(
    State(state): State<AppState>,
    json: Result<Json<NewAllow>, JsonRejection>,
) -> Result<(StatusCode, Json<Saved<Allow>>), ApiError> {
    let new = body(json)?;
    let service = state.service.clone();
    blocking(move || service.allow(new, Timestamp::now())).await.map(saved)
}

pub async fn remove_allow(State(state): State<AppState>, Path(number): Path<String>) -> ApiResult<Allow> {
    let service = state.service.clone();
    blocking(move || service.remove_allow(&number)).await.map(Json)
}

pub async fn list_allows(State(state): State<AppState>) -> ApiResult<Vec<Allow>> {
    let service = state.service.clone();
    blocking(move || service.allows()).await.map(Json)
}

#[derive(Deserialize)]
pub struct CallsParams {
    #[serde(default)]
    declined: bool,
    since: Option<Timestamp>,
    limit: Option<usize>,
}

pub async fn list_calls(
    State(state): State<AppState>,
    params: Result<Query<CallsParams>, QueryRejection>,
) -> ApiResult<Vec<CallRecord>> {
    let Query(params) =
        params.map_err(|rejection| ApiError::Invalid { field: None, message: rejection.body_text() })?;
    let query = CallQuery { declined_only: params.declined, since: params.since, limit: params.limit.unwrap_or(50) };
    // Calls are logged off the call path; a listing must still show the call that just ended.
    state.call_log.written().await;
    let service = state.service.clone();
    blocking(move || service.calls(query)).await.map(Json)
}

/// `GET /check?number=...&at=...&caller_name=...&verstat=...&withheld=true`.
pub async fn check(
    State(state): State<AppState>,
    params: Result<Query<CheckRequest>, QueryRejection>,
) -> ApiResult<Preview> {
    let Query(request) =
        params.map_err(|rejection| ApiError::Invalid { field: None, message: rejection.body_text() })?;
    preview(state, request).await
}

/// `POST /check` with the same facts as JSON.
pub async fn check_posted(
    State(state): State<AppState>,
    json: Result<Json<CheckRequest>, JsonRejection>,
) -> ApiResult<Preview> {
    preview(state, body(json)?).await
}

async fn preview(state: AppState, request: CheckRequest) -> ApiResult<Preview> {
    let service = state.service.clone();
    blocking(move || service.check(request, Timestamp::now())).await.map(Json)
}

/// The pause switch, as the API reads and writes it.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct PauseState {
    pub paused: bool,
}

pub async fn pause_state(State(state): State<AppState>) -> ApiResult<PauseState> {
    let service = state.service.clone();
    blocking(move || service.paused()).await.map(|paused| Json(PauseState { paused }))
}

pub async fn set_pause(
    State(state): State<AppState>,
    json: Result<Json<PauseState>, JsonRejection>,
) -> ApiResult<PauseState> {
    let PauseState { paused } = body(json)?;
    let service = state.service.clone();
    blocking(move || service.set_paused(paused)).await.map(|paused| Json(PauseState { paused }))
}
