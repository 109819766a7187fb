//! The operator's API (`/api/v1/operator`): the businesses a deployment serves and their lines,
//! over the same service the `saidno business` and `saidno line` commands use. It has a bearer
//! token of its own, `[admin] operator_token`; without one its routes answer as if absent.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::api::{body, served};
use super::auth::{AdminToken, bearer};
use super::error::{ApiError, ErrorBody};
use crate::service::{BusinessSummary, IssuedToken, LineSummary, Operator};

type ApiResult<T> = Result<Json<T>, ApiError>;

/// The operator's service and the token its API is opened with.
pub struct OperatorDesk {
    pub operator: Operator,
    /// Without it the routes answer as if absent; the service stays, for a reload that sets it.
    token: Option<AdminToken>,
}

impl OperatorDesk {
    pub fn new(operator: Operator, token: Option<&str>) -> Self {
        Self { operator, token: token.map(AdminToken::new) }
    }
}

/// The operator's routes, relative to `/api/v1/operator`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_businesses, add_business))
        .routes(routes!(business, replace_settings, remove_business))
        .routes(routes!(issue_token))
        .routes(routes!(list_lines, add_line))
        .routes(routes!(remove_line))
}

/// Lets a request with the operator's token through; without an operator's API, answers as a
/// route that does not exist would, so that its presence is not told.
pub async fn require_operator_token(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(expected) = state.operator.as_ref().and_then(|desk| desk.token.as_ref()) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match bearer(request.headers()) {
        Some(token) if !token.is_empty() && expected.matches(token) => {
            let changes = request.method() != Method::GET;
            let response = next.run(request).await;
            // The next request this server takes sees the change, before any announcement of it
            // reaches the other servers (and this one).
            if let Some(hosting) = state.hosting.as_ref().filter(|_| changes && response.status().is_success()) {
                hosting.reread().await;
            }
            response
        }
        _ => ApiError::OperatorUnauthorized.into_response(),
    }
}

fn operator(state: &AppState) -> Result<&Operator, ApiError> {
    state.operator.as_ref().map(|desk| &desk.operator).ok_or_else(|| ApiError::NotFound("no operator's API".into()))
}

/// A business to add.
#[derive(Deserialize, Serialize, utoipa::ToSchema)]
pub struct NewBusinessRequest {
    /// Lower-case letters, digits and dashes.
    pub name: String,
    /// Its own settings, TOML in the configuration file's keys (business_name, refusal, forward,
    /// hours, owner, notify, ...); empty for the deployment's.
    #[serde(default)]
    pub settings: String,
}

/// A business's own settings, replacing those it had.
#[derive(Deserialize, Serialize, utoipa::ToSchema)]
pub struct SettingsRequest {
    pub settings: String,
}

/// A line to add: a number callers dial, and the business it brings calls to.
#[derive(Deserialize, Serialize, utoipa::ToSchema)]
pub struct NewLineRequest {
    /// As dialled in the deployment's region, or in E.164.
    pub number: String,
    pub business: String,
}

/// Every business, the default one first, each with its lines.
#[utoipa::path(get, path = "/businesses", tag = "operator", security(("operator_token" = [])),
    responses((status = 200, body = Vec<BusinessSummary>), (status = 401, body = ErrorBody), (status = 404)))]
pub async fn list_businesses(State(state): State<AppState>) -> ApiResult<Vec<BusinessSummary>> {
    served(operator(&state)?.list()).await.map(Json)
}

/// Add a business; its admin API token is in the answer, and shown only this once.
#[utoipa::path(post, path = "/businesses", tag = "operator", security(("operator_token" = [])),
    request_body = NewBusinessRequest,
    responses((status = 201, body = IssuedToken), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 404)))]
pub async fn add_business(
    State(state): State<AppState>,
    json: Result<Json<NewBusinessRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<IssuedToken>), ApiError> {
    let new = body(json)?;
    let issued = served(operator(&state)?.add(&new.name, &new.settings)).await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

#[utoipa::path(get, path = "/businesses/{name}", tag = "operator", security(("operator_token" = [])),
    params(("name" = String, Path, description = "the business's name")),
    responses((status = 200, body = BusinessSummary), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn business(State(state): State<AppState>, Path(name): Path<String>) -> ApiResult<BusinessSummary> {
    served(operator(&state)?.show(&name)).await.map(Json)
}

/// Replace a business's own settings; settings that would not be taken change nothing.
#[utoipa::path(put, path = "/businesses/{name}", tag = "operator", security(("operator_token" = [])),
    params(("name" = String, Path, description = "the business's name")), request_body = SettingsRequest,
    responses((status = 200, body = BusinessSummary), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn replace_settings(
    State(state): State<AppState>,
    Path(name): Path<String>,
    json: Result<Json<SettingsRequest>, JsonRejection>,
) -> ApiResult<BusinessSummary> {
    let SettingsRequest { settings } = body(json)?;
    served(operator(&state)?.replace_settings(&name, &settings)).await.map(Json)
}

/// Remove a business with its lines and every record it has; the default business stays.
#[utoipa::path(delete, path = "/businesses/{name}", tag = "operator", security(("operator_token" = [])),
    params(("name" = String, Path, description = "the business's name")),
    responses((status = 200, body = BusinessSummary), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn remove_business(State(state): State<AppState>, Path(name): Path<String>) -> ApiResult<BusinessSummary> {
    served(operator(&state)?.remove(&name)).await.map(Json)
}

/// Issue a business a new admin API token, shown only this once; the old one stops working.
#[utoipa::path(post, path = "/businesses/{name}/token", tag = "operator", security(("operator_token" = [])),
    params(("name" = String, Path, description = "the business's name")),
    responses((status = 200, body = IssuedToken), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn issue_token(State(state): State<AppState>, Path(name): Path<String>) -> ApiResult<IssuedToken> {
    served(operator(&state)?.issue_token(&name)).await.map(Json)
}

/// Every line, by number, with the business it brings calls to.
#[utoipa::path(get, path = "/lines", tag = "operator", security(("operator_token" = [])),
    responses((status = 200, body = Vec<LineSummary>), (status = 401, body = ErrorBody), (status = 404)))]
pub async fn list_lines(State(state): State<AppState>) -> ApiResult<Vec<LineSummary>> {
    served(operator(&state)?.lines()).await.map(Json)
}

/// Make a number a business's line; refused when it is another business's.
#[utoipa::path(post, path = "/lines", tag = "operator", security(("operator_token" = [])),
    request_body = NewLineRequest,
    responses((status = 201, body = LineSummary), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn add_line(
    State(state): State<AppState>,
    json: Result<Json<NewLineRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<LineSummary>), ApiError> {
    let NewLineRequest { number, business } = body(json)?;
    let line = served(operator(&state)?.add_line(&number, &business)).await?;
    Ok((StatusCode::CREATED, Json(line)))
}

/// Stop a number bringing calls to its business.
#[utoipa::path(delete, path = "/lines/{number}", tag = "operator", security(("operator_token" = [])),
    params(("number" = String, Path, description = "the number as dialled or in E.164")),
    responses((status = 200, body = LineSummary), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn remove_line(State(state): State<AppState>, Path(number): Path<String>) -> ApiResult<LineSummary> {
    served(operator(&state)?.remove_line(&number)).await.map(Json)
}
