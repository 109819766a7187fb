//! One company's pages: its timeline, its legal hold, and the evidence of the calls it made after
//! the no, printable and as CSV.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Deserialize;

use super::AppState;
use super::api::{download, evidence_file_name, served};
use super::banners::{BannerParams, Banners};
use super::complaints::{Regulator, where_to_complain};
use super::decline_fields::{DeclineFields, REFUSED};
use super::local_time::local_time;
use super::pages::{CompanyRow, PageError, PageResult, bad, paused};
use super::url_part::encode;
use crate::domain::Channel;
use crate::service::{CompanyTimeline, Format};

/// A decline as the company page and the evidence show it.
struct DeclineRow {
    /// Its terms as the edit form shows them (or as typed, when the form was refused).
    fields: DeclineFields,
    /// Why the edit form was refused; empty when it was not.
    error: String,
    number: String,
    declined: String,
    declined_by: String,
    /// How the no was given, in words.
    channel: String,
    /// The call it was given on, when it was given about one.
    on_call: String,
    note: String,
    mode: String,
}

/// One call from the company after the no.
struct AttemptRow {
    time: String,
    from: String,
    to: String,
    caller_name: String,
    verification: String,
    call_id: String,
    follow_up: String,
    heard: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "company.html")]
struct CompanyPage {
    /// The pause switch is on: every page says so, with Resume.
    paused: bool,
    company: CompanyRow,
    key: String,
    declines: Vec<DeclineRow>,
    attempts: Vec<AttemptRow>,
    banners: Banners,
    /// The company has a name, so numbers can be added to it.
    can_add: bool,
    /// The form that adds a number, as typed when it was refused.
    add: DeclineFields,
    add_error: String,
    /// Company names, suggested when a decline is moved to another.
    names: Vec<String>,
}

/// A form on the company page that was refused: the page shows it again with what was typed and why.
pub enum Refused {
    Edit { fields: DeclineFields, message: String },
    Add { fields: DeclineFields, message: String },
}

#[derive(Template, WebTemplate)]
#[template(path = "evidence.html")]
struct EvidencePage {
    business: String,
    company: CompanyRow,
    key: String,
    declines: Vec<DeclineRow>,
    attempts: Vec<AttemptRow>,
    printed: String,
    /// The time zone every time on the page is in.
    zone: String,
    regulators: &'static [Regulator],
}

/// How each way of saying no reads in the evidence.
pub(super) fn how_given(channel: Channel) -> &'static str {
    match channel {
        Channel::CommandLine => "on the command line",
        Channel::Api => "through the admin API",
        Channel::Web => "on the web page",
        Channel::Phone => "by pressing 9 while the call was announced",
        Channel::Text => "by a text message",
    }
}

/// A moment as evidence gives it: with its time zone, so that it stands on its own.
fn zoned_time(at: Timestamp, time_zone: &TimeZone) -> String {
    at.to_zoned_datetime(time_zone.clone()).strftime("%Y-%m-%d %H:%M %Z").to_string()
}

fn timeline_rows(
    timeline: &CompanyTimeline,
    time_zone: &TimeZone,
    time: fn(Timestamp, &TimeZone) -> String,
) -> (Vec<DeclineRow>, Vec<AttemptRow>) {
    let declines = timeline
        .declines
        .iter()
        .map(|d| DeclineRow {
            fields: DeclineFields::of(d, time_zone),
            error: String::new(),
            number: d.target.to_string(),
            declined: time(d.declined_at, time_zone),
            declined_by: d.declined_by.clone().unwrap_or_default(),
            channel: how_given(d.channel).to_owned(),
            on_call: d.on_call.clone().unwrap_or_default(),
            note: d.note.clone().unwrap_or_default(),
            mode: d.mode.map(|m| m.to_string()).unwrap_or_else(|| "default".into()),
        })
        .collect();
    let attempts = timeline
        .attempts
        .iter()
        .map(|a| AttemptRow {
            time: time(a.call.at, time_zone),
            from: a.call.from.clone(),
            to: a.call.to.clone(),
            caller_name: a.call.caller_name.clone().unwrap_or_default(),
            verification: a.call.verification.clone().unwrap_or_default(),
            call_id: a.call.call_id.clone(),
            follow_up: a.call.follow_up.map(|n| n.to_string()).unwrap_or_default(),
            heard: a.heard.clone(),
        })
        .collect();
    (declines, attempts)
}

async fn timeline(state: &AppState, key: String) -> Result<CompanyTimeline, PageError> {
    state.call_log.written().await;
    Ok(served(state.service.company(&key)).await?)
}

pub async fn company(
    State(state): State<AppState>,
    Path(key): Path<String>,
    params: Result<Query<BannerParams>, QueryRejection>,
) -> PageResult {
    let Query(params) = params.map_err(|r| bad("query", r.body_text()))?;
    render(&state, key, &params, None).await.map(IntoResponse::into_response)
}

/// The company page again, with a refused form open and filled in as it was typed.
pub async fn refused(state: &AppState, key: String, refused: Refused) -> PageResult {
    let page = render(state, key, &BannerParams::default(), Some(refused)).await?;
    Ok((REFUSED, page).into_response())
}

async fn render(
    state: &AppState,
    key: String,
    params: &BannerParams,
    refused: Option<Refused>,
) -> Result<CompanyPage, PageError> {
    let timeline = timeline(state, key.clone()).await?;
    let time_zone = &state.settings.time_zone;
    let back = format!("/companies/{}", encode(&key));
    let service = state.service.clone();
    let (banners, names) = served(async {
        Ok((Banners::read(&service, params, &back, time_zone).await?, service.company_names().await?))
    })
    .await?;
    let (mut declines, attempts) = timeline_rows(&timeline, time_zone, local_time);
    let (mut add, mut add_error) = (DeclineFields::default(), String::new());
    match refused {
        Some(Refused::Edit { fields, message }) => {
            if let Some(row) = declines.iter_mut().find(|row| row.fields.target == fields.target) {
                row.fields = fields;
                row.error = message;
            }
        }
        Some(Refused::Add { fields, message }) => (add, add_error) = (fields, message),
        None => {}
    }
    Ok(CompanyPage {
        paused: paused(state).await,
        company: CompanyRow::of(&timeline.company, time_zone),
        key: encode(&key),
        can_add: timeline.declines.iter().any(|decline| decline.company.is_some()),
        declines,
        attempts,
        banners,
        add,
        add_error,
        names,
    })
}

#[derive(Deserialize)]
pub struct LegalHoldForm {
    held: bool,
}

/// The company page's legal hold button: places or lifts the hold, then shows the page again.
pub async fn legal_hold(
    State(state): State<AppState>,
    Path(key): Path<String>,
    form: Result<Form<LegalHoldForm>, FormRejection>,
) -> PageResult {
    let Form(form) = form.map_err(|r| bad("held", r.body_text()))?;
    let party = key.clone();
    served(state.service.set_legal_hold(&party, form.held, Timestamp::now())).await?;
    Ok(Redirect::to(&format!("/companies/{}", encode(&key))).into_response())
}

pub async fn evidence(State(state): State<AppState>, Path(key): Path<String>) -> PageResult {
    let timeline = timeline(&state, key.clone()).await?;
    let time_zone = &state.settings.time_zone;
    let (declines, mut attempts) = timeline_rows(&timeline, time_zone, zoned_time);
    // Evidence reads as a story: the no first, then each call after it.
    attempts.reverse();
    Ok(EvidencePage {
        business: state.settings.business_name().to_owned(),
        company: CompanyRow::of(&timeline.company, time_zone),
        key: encode(&key),
        declines,
        attempts,
        printed: zoned_time(Timestamp::now(), time_zone),
        zone: time_zone.iana_name().unwrap_or("UTC").to_owned(),
        regulators: where_to_complain(state.settings.region),
    }
    .into_response())
}

pub async fn evidence_csv(State(state): State<AppState>, Path(key): Path<String>) -> PageResult {
    state.call_log.written().await;
    let name = evidence_file_name(&key);
    let text = served(state.service.evidence_csv(&key)).await?;
    Ok(download(Format::Csv, &name, text))
}
