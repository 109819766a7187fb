//! The web page: server-rendered HTML over the same service functions as the admin API.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Multipart, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Deserialize;

use super::AppState;
use super::api::{download, served};
use super::banners::{BannerParams, Banners};
use super::call_row::{CallRow, DeclinedSince, Seen};
use super::came_from::{came_from, same_site_path};
use super::error::ApiError;
use super::local_time::local_time;
use super::url_part::encode;
use crate::domain::{CallRecord, Channel, DecisionKind};
use crate::policy::short_date;
use crate::service::{CheckRequest, CompanySummary, Format, ImportReport, Preview, RowProblem, ServiceError};
use crate::store::{CallQuery, Cursor};

pub const STYLE: &str = include_str!("../../templates/style.css");
/// Served from saidno itself, as the page's policy lets scripts come from nowhere else.
pub const PRINT_SCRIPT: &str = include_str!("../../templates/print.js");
/// Puts calls on the Calls page and counts on the Dashboard as they arrive; the pages work without it.
pub const LIVE_SCRIPT: &str = include_str!("../../templates/live.js");
/// Takes the Calls page's actions without a reload; the page works without it.
pub const IN_PLACE_SCRIPT: &str = include_str!("../../templates/in_place.js");

/// The pause switch as every page's header shows it; one that cannot be read is not claimed to be on.
pub(super) async fn paused(state: &AppState) -> bool {
    state.service.paused().await.unwrap_or(false)
}
pub(super) const PAGE_SIZE: usize = 50;

/// Something went wrong: the page says what, with the status a program would expect.
#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
struct ErrorPage {
    /// The pause switch is on: every page says so, with Resume.
    paused: bool,
    message: String,
    rows: Vec<RowProblem>,
    /// The page the request came from, to go back to.
    back: String,
}

pub struct PageError(ApiError);

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> Self {
        Self(error)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        let field = match &self.0 {
            ApiError::Invalid { field: Some(field), .. } => format!("{field}: "),
            _ => String::new(),
        };
        let rows = match &self.0 {
            ApiError::Rejected(rows) => rows.clone(),
            _ => Vec::new(),
        };
        (status, ErrorPage { message: format!("{field}{}", self.0), rows, paused: false, back: came_from() })
            .into_response()
    }
}

pub(super) type PageResult = Result<Response, PageError>;

pub(super) fn bad(field: &'static str, message: impl Into<String>) -> PageError {
    PageError(ApiError::Invalid { field: Some(field), message: message.into() })
}

#[derive(Deserialize, Default)]
pub struct CallFilters {
    #[serde(default)]
    pub(super) decision: String,
    #[serde(default)]
    pub(super) number: String,
    #[serde(default)]
    pub(super) company: String,
    /// A local date, `2026-11-25`.
    #[serde(default)]
    pub(super) from_date: String,
    /// A local date, included.
    #[serde(default)]
    pub(super) to_date: String,
    #[serde(default)]
    pub(super) q: String,
    #[serde(default)]
    pub(super) before: String,
    /// The banner after a change made from this page.
    #[serde(flatten)]
    pub(super) banners: BannerParams,
}

impl CallFilters {
    /// Whether any filter narrows the list, so the folded filters open to show it.
    pub(super) fn any(&self) -> bool {
        [&self.decision, &self.number, &self.company, &self.from_date, &self.to_date, &self.q]
            .iter()
            .any(|value| !value.trim().is_empty())
    }
}

fn local_day(text: &str, field: &'static str, time_zone: &TimeZone) -> Result<Option<Timestamp>, PageError> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let date: Date = text.trim().parse().map_err(|_| bad(field, format!("{text:?} is not a date (2026-11-25)")))?;
    date.to_zoned_datetime(time_zone.clone()).map(|z| Some(z.timestamp())).map_err(|e| bad(field, e.to_string()))
}

fn after_day(text: &str, field: &'static str, time_zone: &TimeZone) -> Result<Option<Timestamp>, PageError> {
    let Some(start) = local_day(text, field, time_zone)? else { return Ok(None) };
    let next = start.to_zoned_datetime(time_zone.clone()).tomorrow().map_err(|e| bad(field, e.to_string()))?;
    Ok(Some(next.timestamp()))
}

impl CallFilters {
    /// The query these filters ask of the log; the live page matches each new call against it.
    pub(super) fn query(&self, time_zone: &TimeZone) -> Result<CallQuery, PageError> {
        let decision = match self.decision.as_str() {
            "" => None,
            "forward" => Some(DecisionKind::Forward),
            "decline" => Some(DecisionKind::Decline),
            "screen" => Some(DecisionKind::Screen),
            "closed" => Some(DecisionKind::Closed),
            other => return Err(bad("decision", format!("{other:?} is not forward or decline"))),
        };
        let before = match self.before.trim() {
            "" => None,
            text => Some(text.parse::<Cursor>().map_err(|e| bad("before", e))?),
        };
        Ok(CallQuery {
            decision,
            number: Some(self.number.clone()),
            company: Some(self.company.clone()),
            since: local_day(&self.from_date, "from_date", time_zone)?,
            until: after_day(&self.to_date, "to_date", time_zone)?,
            search: Some(self.q.clone()),
            before,
            limit: PAGE_SIZE,
            ..Default::default()
        })
    }

    /// The filters as a query string (`decision=forward&q=kitchen&`), without the page's position.
    pub(super) fn kept(&self) -> String {
        let keep = [
            ("decision", &self.decision),
            ("number", &self.number),
            ("company", &self.company),
            ("from_date", &self.from_date),
            ("to_date", &self.to_date),
            ("q", &self.q),
        ];
        keep.iter()
            .filter(|(_, value)| !value.is_empty())
            .map(|(name, value)| format!("{name}={}&", encode(value)))
            .collect()
    }
}

/// Calls as rows of the log, each forwarded one with the decline on record for its number since.
pub(super) async fn call_rows(state: &AppState, calls: &[CallRecord]) -> Result<Vec<CallRow>, ApiError> {
    let time_zone = &state.settings.time_zone;
    let current = served(state.service.current_declines(calls.iter().map(|call| call.from.as_str()))).await?;
    let seen = Seen::now(state.settings.region, time_zone);
    let mut rows: Vec<CallRow> = calls
        .iter()
        .map(|call| {
            let mut row = CallRow::of(call, &seen);
            if row.can_decline {
                row.declined = current.get(&call.from).map(|decline| DeclinedSince {
                    date: short_date(decline.declined_at, time_zone),
                    company: decline.company.clone().unwrap_or_default(),
                    note: decline.note.clone().unwrap_or_default(),
                });
            }
            // Offered only when saidno can fetch it: from a provider account it is configured with.
            if let Some(url) = call.outcome.as_ref().and_then(|outcome| outcome.recording_url.as_deref())
                && state.recordings.find(url).is_some()
            {
                row.voicemail = format!("/calls/{}/voicemail", encode(&call.call_id));
            }
            row
        })
        .collect();
    // A refused caller let through since is not offered to be let through again.
    let offered = rows.iter().filter(|row| row.can_allow).map(|row| row.from.as_str());
    let allowed = served(state.service.allowed_now(offered, Timestamp::now())).await?;
    for row in rows.iter_mut().filter(|row| allowed.contains(&row.from)) {
        row.can_allow = false;
        row.allowed_since = true;
    }
    Ok(rows)
}

/// A company as a row of the companies page.
pub struct CompanyRow {
    pub name: String,
    pub link: String,
    pub numbers: String,
    pub declined: String,
    pub declined_by: String,
    pub follow_ups: u32,
    pub first_attempt: String,
    pub last_attempt: String,
    pub flagged: bool,
    /// When a legal hold was placed on it; empty when there is none.
    pub held_since: String,
}

impl CompanyRow {
    pub(super) fn of(company: &CompanySummary, time_zone: &TimeZone) -> Self {
        let when = |at: Option<Timestamp>| at.map(|at| local_time(at, time_zone)).unwrap_or_default();
        Self {
            name: company.name.clone(),
            link: format!("/companies/{}", encode(&company.key)),
            numbers: company.numbers.join(", "),
            declined: short_date(company.declined_at, time_zone),
            declined_by: company.declined_by.clone().unwrap_or_default(),
            follow_ups: company.follow_ups.count,
            first_attempt: when(company.follow_ups.first_at),
            last_attempt: when(company.follow_ups.last_at),
            flagged: company.flagged_for_complaint,
            held_since: company.legal_hold_since.map(|at| local_time(at, time_zone)).unwrap_or_default(),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "companies.html")]
struct CompaniesPage {
    /// The pause switch is on: every page says so, with Resume.
    paused: bool,
    companies: Vec<CompanyRow>,
    /// Their names, for the form that declines a number that has not called yet.
    names: Vec<String>,
    banners: Banners,
}

pub async fn companies(
    State(state): State<AppState>,
    params: Result<Query<BannerParams>, QueryRejection>,
) -> PageResult {
    let Query(params) = params.map_err(|r| bad("query", r.body_text()))?;
    state.call_log.written().await;
    let service = state.service.clone();
    let zone = state.settings.time_zone.clone();
    let (companies, names, banners) = served(async move {
        let banners = Banners::read(&service, &params, "/companies", &zone).await?;
        Ok((service.companies().await?, service.company_names().await?, banners))
    })
    .await?;
    let companies = companies.iter().map(|c| CompanyRow::of(c, &state.settings.time_zone)).collect();
    Ok(CompaniesPage { paused: paused(&state).await, companies, names, banners }.into_response())
}

#[derive(Deserialize)]
pub struct CheckForm {
    #[serde(default)]
    number: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "check.html")]
struct CheckPage {
    /// The pause switch is on: every page says so, with Resume.
    paused: bool,
    number: String,
    preview: Option<Preview>,
    error: Option<String>,
    /// The number tested is not refused yet, and can be declined from here.
    can_decline: bool,
    companies: Vec<String>,
}

pub async fn check(State(state): State<AppState>, form: Result<Query<CheckForm>, QueryRejection>) -> PageResult {
    let number = form.map(|Query(form)| form.number).unwrap_or_default();
    let paused = paused(&state).await;
    let page = |preview: Option<Preview>, error: Option<String>, companies: Vec<String>| CheckPage {
        paused,
        number: number.clone(),
        can_decline: preview.as_ref().is_some_and(|p| p.decision != DecisionKind::Decline && p.number.starts_with('+')),
        preview,
        error,
        companies,
    };
    if number.trim().is_empty() {
        return Ok(page(None, None, Vec::new()).into_response());
    }
    let service = state.service.clone();
    let request = CheckRequest { number: Some(number.clone()), ..Default::default() };
    let tested =
        served(async move { Ok((service.check(request, Timestamp::now()).await, service.company_names().await?)) })
            .await?;
    match tested {
        (Ok(preview), companies) => Ok(page(Some(preview), None, companies).into_response()),
        (Err(ServiceError::Invalid { message, .. }), _) => {
            Ok((StatusCode::BAD_REQUEST, page(None, Some(message), Vec::new())).into_response())
        }
        (Err(other), _) => Err(ApiError::from(other).into()),
    }
}

/// `POST /resume`, from the pause banner: blocking is back on, and the owner stays on the page
/// they were reading.
pub async fn resume(State(state): State<AppState>, headers: HeaderMap) -> PageResult {
    served(state.service.set_paused(false, Channel::Web, Timestamp::now())).await?;
    tracing::info!("blocking resumed from the web page");
    Ok(Redirect::to(&same_site_path(&headers, "/")).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "transfer.html")]
struct TransferPage {
    /// The pause switch is on: every page says so, with Resume.
    paused: bool,
    report: Option<ImportReport>,
}

pub async fn transfer(State(state): State<AppState>) -> PageResult {
    Ok(TransferPage { paused: paused(&state).await, report: None }.into_response())
}

pub async fn export_declines_csv(State(state): State<AppState>) -> PageResult {
    Ok(download(Format::Csv, "declines", served(state.service.export_declines(Format::Csv)).await?))
}

pub async fn export_declines_json(State(state): State<AppState>) -> PageResult {
    Ok(download(Format::Json, "declines", served(state.service.export_declines(Format::Json)).await?))
}

pub async fn export_calls(
    State(state): State<AppState>,
    filters: Result<Query<CallFilters>, QueryRejection>,
) -> PageResult {
    let Query(filters) = filters.map_err(|r| bad("filters", r.body_text()))?;
    let time_zone = &state.settings.time_zone;
    let since = local_day(&filters.from_date, "from_date", time_zone)?;
    let until = after_day(&filters.to_date, "to_date", time_zone)?;
    if let (Some(since), Some(until)) = (since, until)
        && since >= until
    {
        return Err(bad("to_date", "must not be before the first day"));
    }
    state.call_log.written().await;
    Ok(download(Format::Csv, "calls", served(state.service.export_calls(since, until)).await?))
}

/// An uploaded file of declines; `.json` files are read as JSON, anything else as CSV.
pub async fn import(State(state): State<AppState>, mut multipart: Multipart) -> PageResult {
    let mut text = None;
    let mut format = Format::Csv;
    let mut skip_bad_rows = false;
    while let Some(field) = multipart.next_field().await.map_err(|e| bad("file", e.body_text()))? {
        match field.name() {
            Some("file") => {
                if field.file_name().is_some_and(|name| name.to_ascii_lowercase().ends_with(".json")) {
                    format = Format::Json;
                }
                let bytes = field.bytes().await.map_err(|e| bad("file", e.body_text()))?;
                text = Some(String::from_utf8(bytes.to_vec()).map_err(|_| bad("file", "the file is not UTF-8 text"))?);
            }
            Some("skip_bad_rows") => skip_bad_rows = true,
            _ => {}
        }
    }
    let text = text.filter(|text| !text.trim().is_empty()).ok_or_else(|| bad("file", "choose a file to import"))?;
    let report = served(state.service.import_declines(text, format, skip_bad_rows)).await?;
    Ok(TransferPage { paused: paused(&state).await, report: Some(report) }.into_response())
}
