//! The Allows page: contacts who always ring through, or only within a window, or only once, as
//! `saidno allow add --from --until --once` and the `ALLOW ... until` text take them. Every change
//! ends on a banner that says what the number's next call now does, with an Undo.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Deserialize;

use super::AppState;
use super::allow_words::AllowRow;
use super::api::served;
use super::banners::{BannerParams, Banners, after_change};
use super::came_from::{local_path, same_site_path};
use super::error::ApiError;
use super::pages::{PageResult, bad, paused};
use crate::domain::phone::ACCEPT_ANYWAY;
use crate::service::{NewAllow, ServiceError};
use crate::when::{self, Spans};

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
    banners: Banners,
}

async fn page(state: &AppState, params: &BannerParams, typed: AllowForm, error: Option<String>) -> PageResult {
    let service = state.service.clone();
    let time_zone = &state.settings.time_zone;
    let (allows, banners) =
        served(async { Ok((service.allows().await?, Banners::read(&service, params, "/allows", time_zone).await?)) })
            .await?;
    let refused = error.is_some();
    let page = AllowsPage {
        paused: paused(state).await,
        allows: allows.iter().map(|allow| AllowRow::of(allow, time_zone)).collect(),
        offer_anyway: error.as_deref().is_some_and(|message| message.contains(ACCEPT_ANYWAY)),
        typed,
        error,
        banners,
    };
    Ok(if refused { (StatusCode::BAD_REQUEST, page).into_response() } else { page.into_response() })
}

pub async fn allows(State(state): State<AppState>, params: Result<Query<BannerParams>, QueryRejection>) -> PageResult {
    let Query(params) = params.map_err(|r| bad("query", r.body_text()))?;
    page(&state, &params, AllowForm::default(), None).await
}

#[derive(Default, Deserialize)]
pub struct AllowForm {
    #[serde(default)]
    number: String,
    #[serde(default)]
    name: String,
    /// From when it rings through, as `when` reads it (`tomorrow 14:00`); empty for now.
    #[serde(default)]
    from: String,
    /// Until when (`tomorrow 16:00`, `2h`); empty for always.
    #[serde(default)]
    until: String,
    /// Ring through once, then lapse.
    #[serde(default)]
    once: Option<String>,
    /// The "accept it anyway" checkbox, offered when the numbering plan does not know the number.
    #[serde(default)]
    force: Option<String>,
}

impl AllowForm {
    /// The allow typed, its moments read as the command line reads `--from` and `--until`.
    fn allow(&self, now: Timestamp, time_zone: &TimeZone) -> Result<NewAllow, String> {
        let moment = |label: &str, text: &str| match text.trim() {
            "" => Ok(None),
            text => when::parse(label, text, now, time_zone, Spans::Ahead).map(Some),
        };
        Ok(NewAllow {
            number: self.number.clone(),
            name: Some(self.name.clone()),
            force: self.force.is_some(),
            from: moment("from", &self.from).map_err(|message| format!("from: {message}"))?,
            until: moment("until", &self.until).map_err(|message| format!("until: {message}"))?,
            once: self.once.is_some(),
        })
    }
}

/// Adds an allow. A refused one is shown again in the form, with why, so nothing typed is lost.
pub async fn add_allow(State(state): State<AppState>, form: Result<Form<AllowForm>, FormRejection>) -> PageResult {
    let Form(form) = form.map_err(|r| bad("number", r.body_text()))?;
    let now = Timestamp::now();
    let new = match form.allow(now, &state.settings.time_zone) {
        Ok(new) => new,
        Err(message) => return page(&state, &BannerParams::default(), form, Some(message)).await,
    };
    match served(async { Ok(state.service.allow_from_web(new, now).await) }).await? {
        Ok(saved) => {
            let mut target = after_change("/allows", "allowed", saved.record.number.as_str());
            if saved.before.is_some() {
                target.push_str("&replaced=1");
            }
            Ok(Redirect::to(&target).into_response())
        }
        Err(ServiceError::Invalid { field, message }) => {
            page(&state, &BannerParams::default(), form, Some(format!("{field}: {message}"))).await
        }
        Err(other) => Err(ApiError::from(other).into()),
    }
}

#[derive(Deserialize)]
pub struct NumberForm {
    number: String,
    /// The page the form was on (without its query), to return to.
    #[serde(default)]
    back: Option<String>,
}

/// Removes an allow, from the allows page or from a banner, and goes back to where it was pressed
/// with a banner that offers to undo it.
pub async fn remove_allow(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<NumberForm>, FormRejection>,
) -> PageResult {
    let Form(form) = form.map_err(|r| bad("number", r.body_text()))?;
    let removed = served(state.service.remove_allow_from_web(&form.number)).await?;
    let back = same_site_path(&headers, "/allows");
    Ok(Redirect::to(&after_change(&back, "unallowed", removed.number.as_str())).into_response())
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
    Ok(Redirect::to(&format!("{}{replaced}", after_change("/calls", "allowed", saved.record.number.as_str())))
        .into_response())
}

/// The Undo on an allow's banner: the allow it replaced or removed is back, or none is.
pub async fn undo_allow(State(state): State<AppState>, form: Result<Form<NumberForm>, FormRejection>) -> PageResult {
    let Form(form) = form.map_err(|r| bad("number", r.body_text()))?;
    let (number, _) = served(state.service.undo_web_allow(&form.number)).await?;
    let back = local_path(form.back.as_deref(), "/calls");
    Ok(Redirect::to(&after_change(&back, "undone_allow", number.as_str())).into_response())
}
