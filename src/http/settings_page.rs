//! The settings page: the pause switch, which the owner changes here as `saidno pause` and the API
//! do, with who last changed it and when; and the call policies, hours, texts and announcement,
//! which are read from the configuration file and shown with where to change them.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect};
use jiff::Timestamp;
use serde::Deserialize;

use super::AppState;
use super::api::served;
use super::company_page::how_given;
use super::local_time::local_time;
use super::pages::{PageResult, bad};
use crate::config::Settings;
use crate::domain::Channel;
use crate::service::CheckRequest;

#[derive(Template, WebTemplate)]
#[template(path = "settings.html")]
struct SettingsPage {
    /// The pause switch is on: every page says so, with Resume.
    paused: bool,
    /// "on the web page, 2026-12-07 11:40", or empty when it was never changed.
    pause_changed: String,
    /// What a withheld caller's next call gets now, as the decision words it.
    withheld_next: String,
    /// The page was reached by changing the switch.
    saved: bool,
    fixed: Vec<FixedSetting>,
}

/// A setting read from the configuration file, shown as it is and where to change it.
struct FixedSetting {
    name: &'static str,
    value: String,
    /// The key in the file, `[policy] withheld`.
    key: &'static str,
    /// The same key in the environment, `SAIDNO_POLICY__WITHHELD`.
    env: &'static str,
}

/// Lower-case words for a configuration value, as the file spells it.
fn spelled(value: impl std::fmt::Debug) -> String {
    format!("{value:?}").to_lowercase()
}

fn fixed_settings(settings: &Settings) -> Vec<FixedSetting> {
    let hours = &settings.hours;
    let days = [
        ("Mon", &hours.monday),
        ("Tue", &hours.tuesday),
        ("Wed", &hours.wednesday),
        ("Thu", &hours.thursday),
        ("Fri", &hours.friday),
        ("Sat", &hours.saturday),
        ("Sun", &hours.sunday),
    ];
    let opening = days
        .iter()
        .map(|(day, spans)| {
            let spans: Vec<String> =
                spans.0.iter().map(|(open, close)| format!("{}-{}", short(*open), short(*close))).collect();
            format!("{day} {}", if spans.is_empty() { "closed".to_owned() } else { spans.join(",") })
        })
        .collect::<Vec<_>>()
        .join("; ");
    let setting = |name, value, key, env| FixedSetting { name, value, key, env };
    vec![
        setting("Withheld callers", spelled(settings.policy.withheld), "[policy] withheld", "SAIDNO_POLICY__WITHHELD"),
        setting(
            "Callers whose number failed verification",
            spelled(settings.policy.unverified),
            "[policy] unverified",
            "SAIDNO_POLICY__UNVERIFIED",
        ),
        setting(
            "Ask unknown callers to press 1",
            yes_no(settings.policy.screen_unknown),
            "[policy] screen_unknown",
            "SAIDNO_POLICY__SCREEN_UNKNOWN",
        ),
        setting(
            "Business hours",
            if hours.enabled { opening } else { "not used: calls ring through at any hour".to_owned() },
            "[hours] enabled, monday ... sunday",
            "SAIDNO_HOURS__ENABLED",
        ),
        setting("Outside the hours", spelled(hours.closed), "[hours] closed", "SAIDNO_HOURS__CLOSED"),
        setting("Texts to you", spelled(settings.notify.when), "[notify] when", "SAIDNO_NOTIFY__WHEN"),
        setting(
            "Announce forwarded calls (press 9 to refuse)",
            yes_no(settings.whisper.enabled),
            "[whisper] enabled",
            "SAIDNO_WHISPER__ENABLED",
        ),
    ]
}

fn short(time: jiff::civil::Time) -> String {
    time.strftime("%H:%M").to_string()
}

fn yes_no(on: bool) -> String {
    if on { "yes".into() } else { "no".into() }
}

#[derive(Deserialize, Default)]
pub struct SettingsQuery {
    #[serde(default)]
    saved: String,
}

pub async fn settings(
    State(state): State<AppState>,
    query: Result<Query<SettingsQuery>, QueryRejection>,
) -> PageResult {
    let Query(query) = query.map_err(|r| bad("query", r.body_text()))?;
    let service = state.service.clone();
    let (paused, changed, withheld_next) = served(async move {
        let request = CheckRequest { withheld: true, ..Default::default() };
        let next = service.check(request, Timestamp::now()).await?;
        Ok((service.paused().await?, service.pause_changed().await?, next.reason))
    })
    .await?;
    let time_zone = &state.settings.time_zone;
    Ok(SettingsPage {
        paused,
        pause_changed: changed
            .map(|changed| format!("{}, {}", how_given(changed.by), local_time(changed.at, time_zone)))
            .unwrap_or_default(),
        withheld_next,
        saved: !query.saved.is_empty(),
        fixed: fixed_settings(&state.settings),
    }
    .into_response())
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
