//! The admin API (`/api/v1`): JSON over the same service functions the command line uses offline.
//! Each handler's `#[utoipa::path]` is also what mounts it, so the OpenAPI description cannot
//! drift from the routes.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::error::{ApiError, ErrorBody};
use crate::domain::{Allow, CallRecord, DecisionKind, Decline};
use crate::service::{
    CheckRequest, CompanySummary, CompanyTimeline, Dashboard, DeclineEntry, Format, ImportReport, LegalHoldState,
    NewAllow, NewDecline, Preview, Saved, ServiceError,
};
use crate::store::{CallQuery, Cursor};

type ApiResult<T> = Result<Json<T>, ApiError>;

/// The header that carries the cursor of the next page of calls.
pub const NEXT_CURSOR: &str = "next-cursor";

/// A service call's answer as the API gives it. The store does its disk work off the async
/// workers itself, so the call is simply awaited.
pub async fn served<T>(work: impl Future<Output = Result<T, ServiceError>>) -> Result<T, ApiError> {
    work.await.map_err(ApiError::from)
}

pub(super) fn body<T>(json: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    json.map(|Json(value)| value).map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge,
        _ => ApiError::Invalid { field: None, message: rejection.body_text() },
    })
}

fn query<T>(params: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    params.map(|Query(params)| params).map_err(|rejection| ApiError::Invalid {
        field: field_named_in(&rejection.body_text()),
        message: rejection.body_text(),
    })
}

/// serde names the offending query parameter in its message; the error names it as the field.
fn field_named_in(message: &str) -> Option<&'static str> {
    const FIELDS: [&str; 12] = [
        "limit",
        "since",
        "until",
        "before",
        "decision",
        "number",
        "company",
        "q",
        "format",
        "skip_bad_rows",
        "declined",
        "at",
    ];
    // "Failed to deserialize query string: limit: invalid digit found in string".
    let named = message.rsplit_once("query string: ").map_or(message, |(_, rest)| rest);
    FIELDS.into_iter().find(|field| named.starts_with(&format!("{field}: ")) || message.contains(&format!("`{field}`")))
}

fn saved<T>(saved: Saved<T>) -> (StatusCode, Json<Saved<T>>) {
    let status = if saved.created { StatusCode::CREATED } else { StatusCode::OK };
    (status, Json(saved))
}

/// Add a decline, or update the details of one (keeping its first date).
#[utoipa::path(post, path = "/declines", tag = "declines", request_body = NewDecline,
    responses((status = 201, body = Saved<Decline>), (status = 200, description = "updated", body = Saved<Decline>),
              (status = 400, body = ErrorBody)))]
pub async fn add_decline(
    State(state): State<AppState>,
    json: Result<Json<NewDecline>, JsonRejection>,
) -> Result<(StatusCode, Json<Saved<Decline>>), ApiError> {
    let new = body(json)?;
    served(state.service.decline(new, Timestamp::now())).await.map(saved)
}

/// Remove a decline: calls from the number ring through again.
#[utoipa::path(delete, path = "/declines/{number}", tag = "declines",
    params(("number" = String, Path, description = "the number as typed or in E.164")),
    responses((status = 200, body = Decline), (status = 404, body = ErrorBody)))]
pub async fn remove_decline(State(state): State<AppState>, Path(number): Path<String>) -> ApiResult<Decline> {
    served(state.service.remove_decline(&number)).await.map(Json)
}

/// A change of a decline as the API answered it, given back to undo it.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct DeclineUndo {
    /// The number, range (`+4416329601*`), `pattern:REGEX` or `caller-name:REGEX` changed.
    target: String,
    /// The decline as the change left it: the `record` a `POST` answered, or `null` after a
    /// `DELETE`.
    after: Option<Decline>,
    /// The decline before the change: the `before` a `POST` answered (absent when it made a new
    /// one), or the decline a `DELETE` answered.
    #[serde(default)]
    before: Option<Decline>,
}

/// The decline on record after an Undo: the one put back, or `null` when there was none.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DeclineNow {
    decline: Option<Decline>,
}

/// Undo a change of a decline: put back exactly the decline it replaced, or none. Refused (`404`)
/// once the decline is no longer as that change left it, so a later change is never lost.
#[utoipa::path(post, path = "/declines/undo", tag = "declines", request_body = DeclineUndo,
    responses((status = 200, body = DeclineNow), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn undo_decline(
    State(state): State<AppState>,
    json: Result<Json<DeclineUndo>, JsonRejection>,
) -> ApiResult<DeclineNow> {
    let DeclineUndo { target, after, before } = body(json)?;
    let decline = served(state.service.undo_decline_change(&target, after, before)).await?;
    Ok(Json(DeclineNow { decline }))
}

/// The declines, with each one's follow-up count.
#[utoipa::path(get, path = "/declines", tag = "declines", responses((status = 200, body = Vec<DeclineEntry>)))]
pub async fn list_declines(State(state): State<AppState>) -> ApiResult<Vec<DeclineEntry>> {
    state.call_log.written().await;
    served(state.service.decline_list()).await.map(Json)
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct FormatParams {
    /// `csv` or `json`
    #[param(value_type = Option<String>)]
    format: Option<Format>,
    /// Import the good rows and report the bad ones, instead of refusing the whole file.
    #[serde(default)]
    skip_bad_rows: bool,
}

/// Every decline as CSV or JSON, in a form `POST /declines/import` takes back unchanged.
#[utoipa::path(get, path = "/declines/export", tag = "declines", params(FormatParams),
    responses((status = 200, content_type = "text/csv", body = String), (status = 200, content_type = "application/json", body = Vec<Decline>)))]
pub async fn export_declines(
    State(state): State<AppState>,
    params: Result<Query<FormatParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let format = query(params)?.format.unwrap_or(Format::Csv);
    let text = served(state.service.export_declines(format)).await?;
    Ok(download(format, "declines", text))
}

/// Import declines from CSV or JSON: a file with any bad row changes nothing (unless `skip_bad_rows`).
#[utoipa::path(post, path = "/declines/import", tag = "declines", params(FormatParams),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportReport), (status = 400, description = "bad rows, with their line numbers", body = ErrorBody)))]
pub async fn import_declines(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Result<Query<FormatParams>, QueryRejection>,
    text: Result<String, axum::extract::rejection::StringRejection>,
) -> ApiResult<ImportReport> {
    let params = query(params)?;
    let text = text.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge,
        _ => ApiError::Invalid { field: Some("file"), message: rejection.body_text() },
    })?;
    let is_json = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("json"));
    let format = params.format.unwrap_or(if is_json { Format::Json } else { Format::Csv });
    served(state.service.import_declines(text, format, params.skip_bad_rows)).await.map(Json)
}

/// Add an allow: the number always rings through (or, with a window, rings through then).
#[utoipa::path(post, path = "/allows", tag = "allows", request_body = NewAllow,
    responses((status = 201, body = Saved<Allow>), (status = 200, body = Saved<Allow>), (status = 400, body = ErrorBody)))]
pub async fn add_allow(
    State(state): State<AppState>,
    json: Result<Json<NewAllow>, JsonRejection>,
) -> Result<(StatusCode, Json<Saved<Allow>>), ApiError> {
    let new = body(json)?;
    served(state.service.allow(new, Timestamp::now())).await.map(saved)
}

#[utoipa::path(delete, path = "/allows/{number}", tag = "allows",
    params(("number" = String, Path, description = "the number as typed or in E.164")),
    responses((status = 200, body = Allow), (status = 404, body = ErrorBody)))]
pub async fn remove_allow(State(state): State<AppState>, Path(number): Path<String>) -> ApiResult<Allow> {
    served(state.service.remove_allow(&number)).await.map(Json)
}

#[utoipa::path(get, path = "/allows", tag = "allows", responses((status = 200, body = Vec<Allow>)))]
pub async fn list_allows(State(state): State<AppState>) -> ApiResult<Vec<Allow>> {
    served(state.service.allows()).await.map(Json)
}

/// Filters for the call log; each one narrows the listing.
#[derive(Deserialize, Default, utoipa::IntoParams)]
pub struct CallsParams {
    /// Only refused calls (the same as `decision=decline`).
    #[serde(default)]
    pub declined: bool,
    pub decision: Option<DecisionKind>,
    /// Calls from this number, as typed or in E.164; up to six digits are the number's last digits.
    pub number: Option<String>,
    /// Calls refused for a company whose name holds this (case and spacing do not matter).
    pub company: Option<String>,
    #[param(value_type = Option<String>, format = DateTime)]
    pub since: Option<Timestamp>,
    #[param(value_type = Option<String>, format = DateTime)]
    pub until: Option<Timestamp>,
    /// Words to look for in the number, company, caller name, reason or call id.
    pub q: Option<String>,
    /// The `next-cursor` header of the previous page.
    #[param(value_type = Option<String>)]
    pub before: Option<String>,
    /// At most this many calls (1 to 1000, default 50).
    pub limit: Option<usize>,
}

impl CallsParams {
    pub fn into_query(self) -> Result<CallQuery, ApiError> {
        let before = match self.before.as_deref().filter(|text| !text.is_empty()) {
            Some(text) => {
                Some(text.parse::<Cursor>().map_err(|message| ApiError::Invalid { field: Some("before"), message })?)
            }
            None => None,
        };
        Ok(CallQuery {
            declined_only: self.declined,
            decision: self.decision,
            number: self.number,
            number_ending: None,
            company: self.company,
            party: None,
            since: self.since,
            until: self.until,
            search: self.q,
            before,
            limit: self.limit.unwrap_or(50),
        })
    }
}

/// The call log, newest first; the `next-cursor` header, when present, continues it (`before=`).
#[utoipa::path(get, path = "/calls", tag = "calls", params(CallsParams),
    responses((status = 200, body = Vec<CallRecord>,
               headers(("next-cursor" = String, description = "pass as `before` for the next page"))),
              (status = 400, body = ErrorBody)))]
pub async fn list_calls(
    State(state): State<AppState>,
    params: Result<Query<CallsParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let query = query(params)?.into_query()?;
    // Calls are logged off the call path; a listing must still show the call that just ended.
    state.call_log.written().await;
    let page = served(state.service.call_page(query)).await?;
    let mut response = Json(page.calls).into_response();
    if let Some(next) = page.next {
        let value = HeaderValue::from_str(&next.to_string()).map_err(|_| ApiError::Internal)?;
        response.headers_mut().insert(NEXT_CURSOR, value);
    }
    Ok(response)
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct RangeParams {
    #[param(value_type = Option<String>, format = DateTime)]
    since: Option<Timestamp>,
    #[param(value_type = Option<String>, format = DateTime)]
    until: Option<Timestamp>,
}

/// The call log between two moments, oldest first, as CSV.
#[utoipa::path(get, path = "/calls/export", tag = "calls", params(RangeParams),
    responses((status = 200, content_type = "text/csv", body = String), (status = 400, body = ErrorBody)))]
pub async fn export_calls(
    State(state): State<AppState>,
    params: Result<Query<RangeParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let RangeParams { since, until } = query(params)?;
    if let (Some(since), Some(until)) = (since, until)
        && since > until
    {
        return Err(ApiError::Invalid { field: Some("until"), message: "must not be before since".into() });
    }
    state.call_log.written().await;
    let text = served(state.service.export_calls(since, until)).await?;
    Ok(download(Format::Csv, "calls", text))
}

/// Every declined company (or unnamed number), with its numbers and follow-ups.
#[utoipa::path(get, path = "/companies", tag = "companies", responses((status = 200, body = Vec<CompanySummary>)))]
pub async fn list_companies(State(state): State<AppState>) -> ApiResult<Vec<CompanySummary>> {
    // The follow-up counts include the call that just ended.
    state.call_log.written().await;
    served(state.service.companies()).await.map(Json)
}

/// A company's declines and every call from it since, newest first.
#[utoipa::path(get, path = "/companies/{key}", tag = "companies",
    params(("key" = String, Path, description = "the company's key, e.g. `company:everest windows`")),
    responses((status = 200, body = CompanyTimeline), (status = 404, body = ErrorBody)))]
pub async fn company(State(state): State<AppState>, Path(key): Path<String>) -> ApiResult<CompanyTimeline> {
    state.call_log.written().await;
    served(state.service.company(&key)).await.map(Json)
}

/// A company's evidence for a complaint: its declines, then every call since, as CSV.
#[utoipa::path(get, path = "/companies/{key}/evidence", tag = "companies",
    params(("key" = String, Path, description = "the company's key")),
    responses((status = 200, content_type = "text/csv", body = String), (status = 404, body = ErrorBody)))]
pub async fn company_evidence(State(state): State<AppState>, Path(key): Path<String>) -> Result<Response, ApiError> {
    state.call_log.written().await;
    let name = evidence_file_name(&key);
    let text = served(state.service.evidence_csv(&key)).await?;
    Ok(download(Format::Csv, &name, text))
}

/// A legal hold to place or lift.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LegalHoldChange {
    /// true: keep every call of the company, whatever the log's retention period; false: lift the hold.
    pub held: bool,
}

/// Place or lift a company's legal hold: while it is on, none of its calls leaves the log.
#[utoipa::path(put, path = "/companies/{key}/legal-hold", tag = "companies", request_body = LegalHoldChange,
    params(("key" = String, Path, description = "the company's key, e.g. `company:everest windows`")),
    responses((status = 200, body = LegalHoldState), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_legal_hold(
    State(state): State<AppState>,
    Path(key): Path<String>,
    json: Result<Json<LegalHoldChange>, JsonRejection>,
) -> ApiResult<LegalHoldState> {
    let LegalHoldChange { held } = body(json)?;
    served(state.service.set_legal_hold(&key, held, Timestamp::now())).await.map(Json)
}

/// The companies under a legal hold.
#[utoipa::path(get, path = "/legal-holds", tag = "companies", responses((status = 200, body = Vec<LegalHoldState>)))]
pub async fn legal_holds(State(state): State<AppState>) -> ApiResult<Vec<LegalHoldState>> {
    served(state.service.legal_holds()).await.map(Json)
}

/// Calls today, in the last 7 and 30 days, per day, and the companies that call most after a no.
#[utoipa::path(get, path = "/dashboard", tag = "calls", responses((status = 200, body = Dashboard)))]
pub async fn dashboard(State(state): State<AppState>) -> ApiResult<Dashboard> {
    state.call_log.written().await;
    served(state.service.dashboard(Timestamp::now())).await.map(Json)
}

/// What would happen to a call with these facts, and why: the webhook's own decision.
#[utoipa::path(get, path = "/check", tag = "calls", params(CheckRequest),
    responses((status = 200, body = Preview), (status = 400, body = ErrorBody)))]
pub async fn check(
    State(state): State<AppState>,
    params: Result<Query<CheckRequest>, QueryRejection>,
) -> ApiResult<Preview> {
    preview(state, query(params)?).await
}

/// The same preview with the facts as JSON.
#[utoipa::path(post, path = "/check", tag = "calls", request_body = CheckRequest,
    responses((status = 200, body = Preview), (status = 400, body = ErrorBody)))]
pub async fn check_posted(
    State(state): State<AppState>,
    json: Result<Json<CheckRequest>, JsonRejection>,
) -> ApiResult<Preview> {
    preview(state, body(json)?).await
}

async fn preview(state: AppState, request: CheckRequest) -> ApiResult<Preview> {
    served(state.service.check(request, Timestamp::now())).await.map(Json)
}

/// The pause switch, as the API reads and writes it.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PauseState {
    pub paused: bool,
}

/// Whether every call rings through for now.
#[utoipa::path(get, path = "/pause", tag = "admin", responses((status = 200, body = PauseState)))]
pub async fn pause_state(State(state): State<AppState>) -> ApiResult<PauseState> {
    served(state.service.paused()).await.map(|paused| Json(PauseState { paused }))
}

/// Pause (every call rings through) or resume.
#[utoipa::path(post, path = "/pause", tag = "admin", request_body = PauseState,
    responses((status = 200, body = PauseState), (status = 400, body = ErrorBody)))]
pub async fn set_pause(
    State(state): State<AppState>,
    json: Result<Json<PauseState>, JsonRejection>,
) -> ApiResult<PauseState> {
    let PauseState { paused } = body(json)?;
    served(state.service.set_paused(paused, crate::domain::Channel::Api, Timestamp::now()))
        .await
        .map(|paused| Json(PauseState { paused }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewPassword {
    pub password: String,
}

/// Set the web page's password (kept as an argon2 hash); signed-in browsers stay signed in.
#[utoipa::path(put, path = "/admin/password", tag = "admin", request_body = NewPassword,
    responses((status = 204), (status = 400, body = ErrorBody)))]
pub async fn set_password(
    State(state): State<AppState>,
    json: Result<Json<NewPassword>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let new = body(json)?;
    served(state.service.set_password(&new.password)).await.map(|()| StatusCode::NO_CONTENT)
}

/// A file to save: CSV or JSON, named for what it holds.
/// The name of a company's evidence file: "company:Everest Windows" gives
/// "evidence-everest-windows", in plain letters whatever the name holds.
pub fn evidence_file_name(key: &str) -> String {
    let name = key.split_once(':').map_or(key, |(_, name)| name);
    let mut part = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            part.push(c);
        } else if !part.is_empty() && !part.ends_with('-') {
            part.push('-');
        }
    }
    let part = part.trim_end_matches('-');
    if part.is_empty() { "evidence".to_owned() } else { format!("evidence-{part}") }
}

pub fn download(format: Format, name: &str, text: String) -> Response {
    let (content_type, extension) = match format {
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
        Format::Json => ("application/json", "json"),
    };
    let disposition = format!("attachment; filename=\"saidno-{name}.{extension}\"");
    ([(header::CONTENT_TYPE, content_type.to_owned()), (header::CONTENT_DISPOSITION, disposition)], text)
        .into_response()
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_companys_file_is_named_after_it_in_plain_letters() {
        assert_eq!(evidence_file_name("company:everest windows"), "evidence-everest-windows");
        assert_eq!(evidence_file_name("company:Ré & Co. \"Ltd\""), "evidence-r-co-ltd");
        assert_eq!(evidence_file_name("number:+442079460123"), "evidence-442079460123");
        assert_eq!(evidence_file_name("company:***"), "evidence");
    }
}
