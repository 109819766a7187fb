//! The settings page: the pause switch, and the call policies, hours, texts and announcement,
//! each changed here (saved, with who changed it and when, before the page says so, and laid over
//! the configuration file's value) or put back to the file's value; and the settings only the
//! configuration file holds, shown with where to change them.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use jiff::Timestamp;
use serde::Deserialize;

use super::AppState;
use super::api::served;
use super::company_page::how_given;
use super::error::ApiError;
use super::local_time::local_time;
use super::pages::{PageResult, bad};
use super::setting_forms::{Misread, SettingForm};
use super::setting_words;
use crate::config::{SettingName, Settings};
use crate::domain::Channel;
use crate::service::{CheckRequest, Chosen, Service};

#[derive(Template, WebTemplate)]
#[template(path = "settings.html")]
struct SettingsPage {
    /// The pause switch is on: every page says so, with Resume.
    paused: bool,
    /// "on the web page, 2026-12-07 11:40", or empty when it was never changed.
    pause_changed: String,
    /// The page was reached by changing the pause switch: what a withheld caller's next call
    /// gets now, as the decision words it.
    pause_saved: Option<String>,
    /// The page was reached by changing a setting, or undoing a change.
    banner: Option<Banner>,
    withheld: Section,
    unverified: Section,
    hours: Section,
    notify: Section,
    announcement: Section,
    fixed: Vec<FixedSetting>,
}

/// What a change of a setting did, and what happens now.
struct Banner {
    /// `saved` or `undone`.
    id: &'static str,
    text: String,
    /// The change, as JSON, for its Undo; `None` after an Undo.
    undo: Option<String>,
}

/// One setting the page changes: its value in effect, where that comes from, and its form.
struct Section {
    name: &'static str,
    title: &'static str,
    now: String,
    origin: String,
    form: SettingForm,
    /// Why what was typed was refused; empty when nothing was.
    error: String,
}

/// A setting read from the configuration file, shown as it is and where to change it.
struct FixedSetting {
    name: &'static str,
    value: String,
    /// The key in the file, `[policy] screen_unknown`.
    key: &'static str,
    /// The same key in the environment, `SAIDNO_POLICY__SCREEN_UNKNOWN`.
    env: &'static str,
}

fn fixed_settings(settings: &Settings) -> Vec<FixedSetting> {
    let setting = |name, value, key, env| FixedSetting { name, value, key, env };
    vec![
        setting(
            "Ask unknown callers to press 1",
            if settings.policy.screen_unknown { "yes" } else { "no" }.to_owned(),
            "[policy] screen_unknown",
            "SAIDNO_POLICY__SCREEN_UNKNOWN",
        ),
        setting(
            "What callers hear when closed",
            settings.hours.closed_message.clone(),
            "[hours] closed_message",
            "SAIDNO_HOURS__CLOSED_MESSAGE",
        ),
    ]
}

/// A form refused: which setting, what was typed, and why.
struct Refused {
    name: SettingName,
    typed: SettingForm,
    message: String,
}

/// Renders the page: the sections show the settings in effect, but a refused form what was typed.
async fn page(state: &AppState, banner: Option<Banner>, pause_saved: bool, refused: Option<Refused>) -> PageResult {
    let service = state.service.clone();
    let (paused, changed, choices) = served(async move {
        Ok((service.paused().await?, service.pause_changed().await?, service.owner_choices().await?))
    })
    .await?;
    let pause_saved = match pause_saved {
        true => Some(next_call(&state.service, SettingName::Withheld).await?.unwrap_or_default()),
        false => None,
    };
    let settings = state.service.settings();
    let time_zone = &state.settings.time_zone;
    let section = |name: SettingName| {
        let (form, error) = match &refused {
            Some(refused) if refused.name == name => (refused.typed.clone(), refused.message.clone()),
            _ => (SettingForm::showing(name, &settings), String::new()),
        };
        Section {
            name: name.as_str(),
            title: setting_words::title(name),
            now: setting_words::value(name, &settings),
            origin: setting_words::origin(&choices.state_of(name), time_zone),
            form,
            error,
        }
    };
    let page = SettingsPage {
        paused,
        pause_changed: changed
            .map(|changed| format!("{}, {}", how_given(changed.by), local_time(changed.at, time_zone)))
            .unwrap_or_default(),
        pause_saved,
        banner,
        withheld: section(SettingName::Withheld),
        unverified: section(SettingName::Unverified),
        hours: section(SettingName::Hours),
        notify: section(SettingName::Notify),
        announcement: section(SettingName::Announcement),
        fixed: fixed_settings(&settings),
    };
    let status = if refused.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    Ok((status, page).into_response())
}

/// What the next call a setting bears on gets now, worded by the decision `/check` makes; `None`
/// for a setting that decides no call (the texts, the announcement).
async fn next_call(service: &Service, name: SettingName) -> Result<Option<String>, ApiError> {
    let (who, request) = match name {
        SettingName::Withheld => {
            ("A withheld caller's next call", CheckRequest { withheld: true, ..Default::default() })
        }
        SettingName::Unverified => (
            "A call now whose number failed verification",
            CheckRequest {
                number: Some(EXAMPLE_CALLER.into()),
                verstat: Some("TN-Validation-Failed".into()),
                ..Default::default()
            },
        ),
        SettingName::Hours => {
            ("A call now", CheckRequest { number: Some(EXAMPLE_CALLER.into()), ..Default::default() })
        }
        SettingName::Notify | SettingName::Announcement => return Ok(None),
    };
    let preview = served(service.check(request, Timestamp::now())).await?;
    Ok(Some(format!("{who}: {}", preview.reason)))
}

/// A number for the banners' example call: in a range set aside for drama, so no real caller's.
const EXAMPLE_CALLER: &str = "+442079460000";

#[derive(Deserialize, Default)]
pub struct SettingsQuery {
    #[serde(default)]
    saved: String,
    /// The change just saved, as JSON: the setting before it, for the Undo, and after it.
    #[serde(default)]
    change: String,
    #[serde(default)]
    undone: String,
}

pub async fn settings(
    State(state): State<AppState>,
    query: Result<Query<SettingsQuery>, QueryRejection>,
) -> PageResult {
    let Query(query) = query.map_err(|r| bad("query", r.body_text()))?;
    let banner = match (SettingName::parse(&query.saved), SettingName::parse(&query.undone)) {
        (Some(name), _) => Some(banner(&state, name, "saved", Some(query.change)).await?),
        (None, Some(name)) => Some(banner(&state, name, "undone", None).await?),
        (None, None) => None,
    };
    page(&state, banner, query.saved == "pause", None).await
}

async fn banner(
    state: &AppState,
    name: SettingName,
    id: &'static str,
    undo: Option<String>,
) -> Result<Banner, ApiError> {
    let value = setting_words::value(name, &state.service.settings());
    let done = if id == "saved" { "Saved" } else { "Undone" };
    let mut text = format!("{done}. {}: {value}.", setting_words::title(name));
    if let Some(next) = next_call(&state.service, name).await? {
        text.push_str(&format!(" {next}."));
    }
    Ok(Banner { id, text, undo: undo.filter(|change| !change.is_empty()) })
}

/// `POST /settings/{setting}`: changes one setting, or with `action=file` puts back the file's
/// value; saved (and who did it, when) before the page says so. A form that does not read, or a
/// value the file could not hold either, is refused on the page with what was typed.
pub async fn choose(
    State(state): State<AppState>,
    Path(name): Path<String>,
    form: Result<Form<SettingForm>, FormRejection>,
) -> PageResult {
    let Some(name) = SettingName::parse(&name) else {
        return Err(bad("setting", format!("{name:?} is not a setting the page changes")));
    };
    let Form(typed) = form.map_err(|r| bad("form", r.body_text()))?;
    // The page again, with what was typed and why it was refused in the form's own words.
    let refused = |field: &str, message: String| {
        let message = format!("{}: {message}", setting_words::field_label(field));
        page(&state, None, false, Some(Refused { name, typed: typed.clone(), message }))
    };
    let choice = match typed.choice(name) {
        Ok(choice) => choice,
        Err(Misread { field, message }) => return refused(field, message).await,
    };
    let chosen = match state.service.choose_setting(choice, Timestamp::now()).await {
        Ok(chosen) => chosen,
        Err(crate::service::ServiceError::Invalid { field, message }) => return refused(field, message).await,
        Err(other) => return Err(ApiError::from(other).into()),
    };
    tracing::info!(setting = name.as_str(), "a setting was changed from the web page");
    let change = serde_json::to_string(&chosen).map_err(|e| bad("change", e.to_string()))?;
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("saved", name.as_str())
        .append_pair("change", &change)
        .finish();
    Ok(Redirect::to(&format!("/settings?{query}")).into_response())
}

#[derive(Deserialize)]
pub struct UndoForm {
    change: String,
}

/// `POST /settings/undo`: puts a setting back exactly as it was before a change: its value, and
/// who changed it when, or that it was never changed. An Undo from a page older than the
/// setting's latest change finds nothing to undo.
pub async fn undo(State(state): State<AppState>, form: Result<Form<UndoForm>, FormRejection>) -> PageResult {
    let Form(form) = form.map_err(|r| bad("change", r.body_text()))?;
    let chosen: Chosen =
        serde_json::from_str(&form.change).map_err(|e| bad("change", format!("not a setting change to undo: {e}")))?;
    let name = chosen.before.choice.name();
    served(state.service.restore_setting(chosen)).await?;
    tracing::info!(setting = name.as_str(), "a setting change was undone from the web page");
    Ok(Redirect::to(&format!("/settings?undone={}", name.as_str())).into_response())
}

#[derive(Deserialize)]
pub struct PauseForm {
    paused: bool,
}

/// `POST /settings/pause`: turns blocking off or on; saved (and who did it, when) before the page
/// says so.
pub async fn set_pause(State(state): State<AppState>, form: Result<Form<PauseForm>, FormRejection>) -> PageResult {
    let Form(form) = form.map_err(|r| bad("paused", r.body_text()))?;
    served(state.service.set_paused(form.paused, Channel::Web, Timestamp::now())).await?;
    tracing::info!(paused = form.paused, "the pause switch was set from the web page");
    Ok(Redirect::to("/settings?saved=pause").into_response())
}
