//! The web page: server-rendered HTML over the same service functions as the admin API.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Multipart, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Deserialize;

use super::AppState;
use super::api::{download, served};
use super::call_row::{CallRow, DeclinedSince, Seen};
use super::came_from::{came_from, same_site_path};
use super::error::ApiError;
use super::url_part::encode;
use crate::domain::phone::ACCEPT_ANYWAY;
use crate::domain::{Allow, Channel, DecisionKind, PhoneNumber};
use crate::policy::short_date;
use crate::service::{
    CheckRequest, CompanySummary, Dashboard, Format, ImportReport, NewAllow, NewDecline, Preview, RowProblem,
    ServiceError,
};
use crate::store::{CallQuery, Cursor, RepeatCaller};

pub const STYLE: &str = include_str!("../../templates/style.css");
/// Served from saidno itself, as the page's policy lets scripts come from nowhere else.
pub const PRINT_SCRIPT: &str = include_str!("../../templates/print.js");

/// The pause switch as every page's header shows it; one that cannot be read is not claimed to be on.
pub(super) async fn paused(state: &AppState) -> bool {
    state.service.paused().await.unwrap_or(false)
}
const PAGE_SIZE: usize = 50;

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

pub(super) fn local_time(at: Timestamp, time_zone: &TimeZone) -> String {
    at.to_zoned_datetime(time_zone.clone()).strftime("%Y-%m-%d %H:%M").to_string()
}

#[derive(Template, WebTemplate)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    /// The pause switch is on: every page says so, with Resume.
    paused: bool,
    dashboard: Dashboard,
    bars: Vec<Bar>,
    chart_max: u64,
    top: Vec<CompanyRow>,
    repeats: Vec<RepeatRow>,
}

/// A number that keeps ringing through and was never told no, as the dashboard names it.
struct RepeatRow {
    number: String,
    shown: String,
    /// "called 6 times in 12 days, never declined".
    summary: String,
    last_call: String,
}

impl RepeatRow {
    fn of(caller: &RepeatCaller, seen: &Seen) -> Self {
        let days = (caller.last_at.as_second() - caller.first_at.as_second()).div_euclid(86_400) + 1;
        let span = if days == 1 { "one day".to_owned() } else { format!("{days} days") };
        Self {
            number: caller.number.clone(),
            shown: PhoneNumber::from_e164(&caller.number)
                .map_or_else(|| caller.number.clone(), |number| number.as_dialled_in(seen.region)),
            summary: format!("called {} times in {span}, never declined", caller.calls),
            last_call: seen.when(caller.last_at),
        }
    }
}

/// One day of the chart, in SVG units.
struct Bar {
    x: u32,
    label: String,
    forwarded: u64,
    refused: u64,
    forwarded_y: u32,
    forwarded_height: u32,
    refused_y: u32,
    refused_height: u32,
}

const CHART_HEIGHT: u32 = 120;

pub async fn dashboard(State(state): State<AppState>) -> PageResult {
    state.call_log.written().await;
    let dashboard = served(state.service.dashboard(Timestamp::now())).await?;
    let chart_max = dashboard.days.iter().map(|d| d.forwarded + d.refused).max().unwrap_or(0).max(1);
    // Screened and after-hours calls are counted on the cards; the chart shows forwarded and refused.
    let scale = |n: u64| (n * u64::from(CHART_HEIGHT) / chart_max) as u32;
    let bars = dashboard
        .days
        .iter()
        .enumerate()
        .map(|(i, day)| {
            let (forwarded_height, refused_height) = (scale(day.forwarded), scale(day.refused));
            Bar {
                x: i as u32 * 10,
                label: day.date.strftime("%-d %b").to_string(),
                forwarded: day.forwarded,
                refused: day.refused,
                refused_y: CHART_HEIGHT - refused_height,
                refused_height,
                forwarded_y: CHART_HEIGHT - refused_height - forwarded_height,
                forwarded_height,
            }
        })
        .collect();
    let top = dashboard.top_companies.iter().map(|c| CompanyRow::of(c, &state.settings.time_zone)).collect();
    let seen = Seen::now(state.settings.region, &state.settings.time_zone);
    let repeats = dashboard.repeat_callers.iter().map(|caller| RepeatRow::of(caller, &seen)).collect();
    Ok(DashboardPage { paused: paused(&state).await, dashboard, bars, chart_max, top, repeats }.into_response())
}

#[derive(Deserialize, Default)]
pub struct CallFilters {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    number: String,
    #[serde(default)]
    company: String,
    /// A local date, `2026-11-25`.
    #[serde(default)]
    from_date: String,
    /// A local date, included.
    #[serde(default)]
    to_date: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    before: String,
    /// Set after a decline from this page, to offer an undo.
    #[serde(default)]
    declined: String,
    /// Set when that decline changed one already on record.
    #[serde(default)]
    updated: String,
    #[serde(default)]
    undone: String,
    /// Set after "This was a customer" on a refused row.
    #[serde(default)]
    allowed: String,
    /// Set when that allow replaced one already on record, which its Undo puts back.
    #[serde(default)]
    replaced: String,
    /// Set after an allow's Undo.
    #[serde(default)]
    undone_allow: String,
}

impl CallFilters {
    /// Whether any filter narrows the list, so the folded filters open to show it.
    fn any(&self) -> bool {
        [&self.decision, &self.number, &self.company, &self.from_date, &self.to_date, &self.q]
            .iter()
            .any(|value| !value.trim().is_empty())
    }
}

/// The banner after a decline from this page, worded from the decision the next call will get.
struct DeclinedBanner {
    target: String,
    company: Option<String>,
    updated: bool,
    /// The next call's decision, when it is not a refusal (an allow still wins, say).
    still_rings: Option<String>,
    /// The number's allow, which the banner offers to remove.
    allowed: bool,
}

/// The banner after "This was a customer": what the number's next call does now.
struct AllowedBanner {
    number: String,
    next_call: Option<String>,
    /// It replaced an allow on record (a lapsed or spent one), which the Undo puts back.
    replaced: bool,
}

/// The banner after an allow's Undo: the allow as it stands again, and what the next call will do.
struct UndoneAllowBanner {
    number: String,
    /// The allow put back, "Mum, 3 Nov 2026 10:00 to on, once", or empty when none is left.
    restored: String,
    next_call: Option<String>,
}

/// The banner after an Undo: what is on record now, and what the next call will do.
struct UndoneBanner {
    target: String,
    /// The decline as it stands again, "declined 3 Nov 2026", or empty when none is left.
    restored: String,
    next_call: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "calls.html")]
struct CallsPage {
    /// The pause switch is on: every page says so, with Resume.
    paused: bool,
    filters: CallFilters,
    calls: Vec<CallRow>,
    next_link: Option<String>,
    companies: Vec<String>,
    just_declined: Option<DeclinedBanner>,
    undone: Option<UndoneBanner>,
    allowed: Option<AllowedBanner>,
    undone_allow: Option<UndoneAllowBanner>,
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

pub async fn calls(State(state): State<AppState>, filters: Result<Query<CallFilters>, QueryRejection>) -> PageResult {
    let Query(filters) = filters.map_err(|r| bad("filters", r.body_text()))?;
    let time_zone = &state.settings.time_zone;
    let decision = match filters.decision.as_str() {
        "" => None,
        "forward" => Some(DecisionKind::Forward),
        "decline" => Some(DecisionKind::Decline),
        "screen" => Some(DecisionKind::Screen),
        "closed" => Some(DecisionKind::Closed),
        other => return Err(bad("decision", format!("{other:?} is not forward or decline"))),
    };
    let before = match filters.before.trim() {
        "" => None,
        text => Some(text.parse::<Cursor>().map_err(|e| bad("before", e))?),
    };
    let query = CallQuery {
        decision,
        number: Some(filters.number.clone()),
        company: Some(filters.company.clone()),
        since: local_day(&filters.from_date, "from_date", time_zone)?,
        until: after_day(&filters.to_date, "to_date", time_zone)?,
        search: Some(filters.q.clone()),
        before,
        limit: PAGE_SIZE,
        ..Default::default()
    };
    state.call_log.written().await;
    let service = state.service.clone();
    let declined = filters.declined.clone();
    let updated = !filters.updated.is_empty();
    let undone = filters.undone.clone();
    let allowed = filters.allowed.clone();
    let replaced = !filters.replaced.is_empty();
    let undone_allow = filters.undone_allow.clone();
    let zone = time_zone.clone();
    let (page, companies, just_declined, undone, allowed, undone_allow, current) = served(async move {
        let now = Timestamp::now();
        let just_declined = match declined.as_str() {
            "" => None,
            target => match service.decline_on_record(target).await? {
                Some(decline) => {
                    let allowed = match decline.target.number() {
                        Some(number) => service.allow_of(number).await?.is_some(),
                        None => false,
                    };
                    let next = next_call(&service, &decline, now).await;
                    Some(DeclinedBanner {
                        target: decline.target.to_string(),
                        company: decline.company,
                        updated,
                        allowed,
                        still_rings: next.filter(|p| p.decision != DecisionKind::Decline).map(|p| p.reason),
                    })
                }
                None => None,
            },
        };
        let undone = match undone.as_str() {
            "" => None,
            target => {
                let restored = service.decline_on_record(target).await?;
                let next_call = match &restored {
                    Some(decline) => next_call(&service, decline, now).await,
                    None => {
                        let request = CheckRequest { number: Some(target.to_owned()), ..Default::default() };
                        service.check(request, now).await.ok()
                    }
                };
                Some(UndoneBanner {
                    target: target.to_owned(),
                    restored: restored
                        .map(|d| format!("declined {}", short_date(d.declined_at, &zone)))
                        .unwrap_or_default(),
                    next_call: next_call.map(|preview| preview.reason),
                })
            }
        };
        let allowed = match allowed.as_str() {
            "" => None,
            number => Some(AllowedBanner {
                number: number.to_owned(),
                next_call: service
                    .check(CheckRequest { number: Some(number.to_owned()), ..Default::default() }, now)
                    .await
                    .ok()
                    .map(|preview| preview.reason),
                replaced,
            }),
        };
        let undone_allow = match undone_allow.as_str() {
            "" => None,
            number => {
                let restored = match PhoneNumber::from_e164(number) {
                    Some(number) => service.allow_of(&number).await?,
                    None => None,
                };
                Some(UndoneAllowBanner {
                    number: number.to_owned(),
                    restored: restored.map(|allow| AllowRow::of(&allow, &zone).described()).unwrap_or_default(),
                    next_call: service
                        .check(CheckRequest { number: Some(number.to_owned()), ..Default::default() }, now)
                        .await
                        .ok()
                        .map(|preview| preview.reason),
                })
            }
        };
        let page = service.call_page(query).await?;
        let current = service.current_declines(page.calls.iter().map(|call| call.from.as_str())).await?;
        Ok((page, service.company_names().await?, just_declined, undone, allowed, undone_allow, current))
    })
    .await?;
    let next_link = page.next.map(|next| {
        let keep = [
            ("decision", &filters.decision),
            ("number", &filters.number),
            ("company", &filters.company),
            ("from_date", &filters.from_date),
            ("to_date", &filters.to_date),
            ("q", &filters.q),
        ];
        let mut link = String::from("/calls?");
        for (name, value) in keep.iter().filter(|(_, value)| !value.is_empty()) {
            link.push_str(&format!("{name}={}&", encode(value)));
        }
        link + &format!("before={next}")
    });
    let seen = Seen::now(state.settings.region, time_zone);
    let calls = page
        .calls
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
            row
        })
        .collect();
    Ok(CallsPage {
        paused: paused(&state).await,
        filters,
        calls,
        next_link,
        companies,
        just_declined,
        undone,
        allowed,
        undone_allow,
    }
    .into_response())
}

#[derive(Deserialize)]
pub struct DeclineForm {
    number: String,
    #[serde(default)]
    company: String,
    #[serde(default)]
    note: String,
    /// The row of the log the decline was given from.
    #[serde(default)]
    call: String,
}

pub async fn decline(State(state): State<AppState>, form: Result<Form<DeclineForm>, FormRejection>) -> PageResult {
    let Form(form) = form.map_err(|r| bad("number", r.body_text()))?;
    let new = NewDecline {
        number: form.number,
        company: Some(form.company),
        note: Some(form.note),
        force: true,
        channel: Some(Channel::Web),
        on_call: Some(form.call),
        ..Default::default()
    };
    let saved = served(state.service.decline_from_web(new, Timestamp::now())).await?;
    let mut target = format!("/calls?declined={}", encode(&saved.record.target.to_string()));
    if !saved.created {
        target.push_str("&updated=1");
    }
    Ok(Redirect::to(&target).into_response())
}

#[derive(Deserialize)]
pub struct NumberForm {
    number: String,
}

pub async fn undo_decline(State(state): State<AppState>, form: Result<Form<NumberForm>, FormRejection>) -> PageResult {
    let Form(form) = form.map_err(|r| bad("number", r.body_text()))?;
    let undone = served(state.service.undo_web_decline(&form.number, Timestamp::now())).await?;
    Ok(Redirect::to(&format!("/calls?undone={}", encode(&undone.target.to_string()))).into_response())
}

/// The Undo on the banner after "This was a customer": the allow it replaced is back, or none is.
pub async fn undo_allow(State(state): State<AppState>, form: Result<Form<NumberForm>, FormRejection>) -> PageResult {
    let Form(form) = form.map_err(|r| bad("number", r.body_text()))?;
    let (number, _) = served(state.service.undo_web_allow(&form.number)).await?;
    Ok(Redirect::to(&format!("/calls?undone_allow={}", encode(number.as_str()))).into_response())
}

/// What the next call from a declined number will get, when the decline is for one number.
async fn next_call(
    service: &crate::service::Service,
    decline: &crate::domain::Decline,
    now: Timestamp,
) -> Option<Preview> {
    let number = decline.target.number()?;
    service.check(CheckRequest { number: Some(number.to_string()), ..Default::default() }, now).await.ok()
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
}

pub async fn companies(State(state): State<AppState>) -> PageResult {
    state.call_log.written().await;
    let service = state.service.clone();
    let (companies, names) =
        served(async move { Ok((service.companies().await?, service.company_names().await?)) }).await?;
    let companies = companies.iter().map(|c| CompanyRow::of(c, &state.settings.time_zone)).collect();
    Ok(CompaniesPage { paused: paused(&state).await, companies, names }.into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "allows.html")]
struct AllowsPage {
    /// The pause switch is on: every page says so, with Resume.
    paused: bool,
    allows: Vec<AllowRow>,
    /// What was typed, kept when it was refused.
    typed: AllowForm,
    error: Option<String>,
    /// The refusal was of a number the numbering plan does not know: offer to take it anyway.
    offer_anyway: bool,
}

struct AllowRow {
    number: String,
    name: String,
    added: String,
    window: String,
}

impl AllowRow {
    fn of(allow: &Allow, time_zone: &TimeZone) -> Self {
        let window = match (allow.from, allow.until) {
            (None, None) => "always".to_owned(),
            (from, until) => format!(
                "{} to {}",
                from.map(|at| local_time(at, time_zone)).unwrap_or_else(|| "now".into()),
                until.map(|at| local_time(at, time_zone)).unwrap_or_else(|| "on".into())
            ),
        };
        let window = if allow.once { format!("{window}, once") } else { window };
        Self {
            number: allow.number.to_string(),
            name: allow.name.clone().unwrap_or_default(),
            added: short_date(allow.added_at, time_zone),
            window,
        }
    }

    /// The allow in a few words: "Mum, always" or "3 Nov 2026 10:00 to on, once".
    fn described(&self) -> String {
        if self.name.is_empty() { self.window.clone() } else { format!("{}, {}", self.name, self.window) }
    }
}

pub async fn allows(State(state): State<AppState>) -> PageResult {
    let allows = served(state.service.allows()).await?;
    let allows = allows.iter().map(|a| AllowRow::of(a, &state.settings.time_zone)).collect();
    Ok(AllowsPage {
        paused: paused(&state).await,
        allows,
        typed: AllowForm::default(),
        error: None,
        offer_anyway: false,
    }
    .into_response())
}

#[derive(Default, Deserialize)]
pub struct AllowForm {
    number: String,
    #[serde(default)]
    name: String,
    /// The "accept it anyway" checkbox, offered when the numbering plan does not know the number.
    #[serde(default)]
    force: Option<String>,
}

/// Adds an allow. A number refused is shown again in the form, with why, so nothing typed is lost.
pub async fn add_allow(State(state): State<AppState>, form: Result<Form<AllowForm>, FormRejection>) -> PageResult {
    let Form(form) = form.map_err(|r| bad("number", r.body_text()))?;
    let new = NewAllow {
        number: form.number.clone(),
        name: Some(form.name.clone()),
        force: form.force.is_some(),
        ..Default::default()
    };
    let service = state.service.clone();
    let (added, allows) =
        served(async move { Ok((service.allow(new, Timestamp::now()).await, service.allows().await?)) }).await?;
    match added {
        Ok(_) => Ok(Redirect::to("/allows").into_response()),
        Err(ServiceError::Invalid { message, .. }) => {
            let allows = allows.iter().map(|a| AllowRow::of(a, &state.settings.time_zone)).collect();
            let offer_anyway = message.contains(ACCEPT_ANYWAY);
            let page =
                AllowsPage { paused: paused(&state).await, allows, typed: form, error: Some(message), offer_anyway };
            Ok((StatusCode::BAD_REQUEST, page).into_response())
        }
        Err(other) => Err(ApiError::from(other).into()),
    }
}

/// Removes an allow, from the allows page or from a banner, and goes back to where it was pressed.
pub async fn remove_allow(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<NumberForm>, FormRejection>,
) -> PageResult {
    let Form(form) = form.map_err(|r| bad("number", r.body_text()))?;
    served(state.service.remove_allow(&form.number)).await?;
    Ok(Redirect::to(&same_site_path(&headers, "/allows")).into_response())
}

/// "This was a customer", on a refused row: the number rings through from now on, whatever is
/// declined; the page then says what its next call does, and offers to take the allow back.
pub async fn allow_from_log(
    State(state): State<AppState>,
    form: Result<Form<NumberForm>, FormRejection>,
) -> PageResult {
    let Form(form) = form.map_err(|r| bad("number", r.body_text()))?;
    // The number comes from the log, where a declined number may be one the plan does not know.
    let new = NewAllow { number: form.number, force: true, ..Default::default() };
    let saved = served(state.service.allow_from_web(new, Timestamp::now())).await?;
    let replaced = if saved.before.is_some() { "&replaced=1" } else { "" };
    Ok(Redirect::to(&format!("/calls?allowed={}{replaced}", encode(saved.record.number.as_str()))).into_response())
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
    served(state.service.set_paused(false)).await?;
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
