//! The web page's forms that change declines: decline from a log row, edit a decline, add a
//! number to a company, remove a decline after a confirmation, and Undo. Each ends on a page whose
//! banner says what the number's next call now does (see `banners`).

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use jiff::Timestamp;
use serde::Deserialize;

use super::AppState;
use super::api::served;
use super::banners::after_change;
use super::came_from::local_path;
use super::company_page::{self, Refused};
use super::decline_fields::DeclineFields;
use super::error::ApiError;
use super::pages::{PageResult, bad, paused};
use super::url_part::encode;
use crate::domain::{Channel, Decline};
use crate::service::{NewDecline, ServiceError};

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
    let mut target = after_change("/calls", "declined", &saved.record.target.to_string());
    if !saved.created {
        target.push_str("&updated=1");
    }
    Ok(Redirect::to(&target).into_response())
}

/// A decline's terms as its forms send them, kept as typed so that a refused form shows them again.
/// The company page of a decline: where it is listed, and edited.
fn company_link(decline: &Decline) -> String {
    format!("/companies/{}", encode(&decline.party()))
}

/// `POST /companies/{key}/declines/edit`: saves the decline's terms as typed. Refused, the page
/// shows the form again, open, with what was typed and why.
pub async fn edit(
    State(state): State<AppState>,
    Path(key): Path<String>,
    form: Result<Form<DeclineFields>, FormRejection>,
) -> PageResult {
    let Form(typed) = form.map_err(|r| bad("form", r.body_text()))?;
    let now = Timestamp::now();
    let service = state.service.clone();
    let time_zone = state.settings.time_zone.clone();
    let fields = typed.clone();
    let saved = served(async move {
        let kept = service.decline_on_record(&fields.target).await;
        let edited = match kept {
            Ok(kept) => match fields.edit(kept.as_ref(), now, &time_zone) {
                Ok(edit) => service.edit_decline_from_web(&fields.target, edit, now).await,
                Err(refused) => Err(refused),
            },
            Err(refused) => Err(refused),
        };
        Ok(edited)
    })
    .await?;
    match saved {
        Ok(saved) => {
            let page = company_link(&saved.record);
            let target = after_change(&page, "declined", &saved.record.target.as_typed());
            Ok(Redirect::to(&format!("{target}&updated=1")).into_response())
        }
        Err(ServiceError::Invalid { field, message }) => {
            let refused = Refused::Edit { fields: typed, message: format!("{field}: {message}") };
            company_page::refused(&state, key, refused).await
        }
        Err(other) => Err(ApiError::from(other).into()),
    }
}

/// `POST /companies/{key}/declines`: declines one more number under this company.
pub async fn add_to_company(
    State(state): State<AppState>,
    Path(key): Path<String>,
    form: Result<Form<DeclineFields>, FormRejection>,
) -> PageResult {
    let Form(typed) = form.map_err(|r| bad("form", r.body_text()))?;
    let now = Timestamp::now();
    let service = state.service.clone();
    let time_zone = state.settings.time_zone.clone();
    let (fields, party) = (typed.clone(), key.clone());
    let saved = served(async move {
        let added = match fields.edit(None, now, &time_zone) {
            Ok(edit) => {
                let new = NewDecline {
                    number: fields.target.clone(),
                    note: edit.note,
                    mode: edit.mode,
                    not_before: edit.not_before,
                    escape_hatch: edit.escape_hatch,
                    force: fields.force.is_some(),
                    channel: Some(Channel::Web),
                    ..Default::default()
                };
                service.add_to_company_from_web(&party, new, now).await
            }
            Err(refused) => Err(refused),
        };
        Ok(added)
    })
    .await?;
    match saved {
        Ok(saved) => {
            let mut target = after_change(&company_link(&saved.record), "declined", &saved.record.target.as_typed());
            if !saved.created {
                target.push_str("&updated=1");
            }
            Ok(Redirect::to(&target).into_response())
        }
        Err(ServiceError::Invalid { field, message }) => {
            let refused = Refused::Add { fields: typed, message: format!("{field}: {message}") };
            company_page::refused(&state, key, refused).await
        }
        Err(ServiceError::NotFound(message)) => Err(ApiError::NotFound(format!(
            "{message}; {} was not declined",
            if typed.target.trim().is_empty() { "no number" } else { typed.target.trim() }
        ))
        .into()),
        Err(other) => Err(ApiError::from(other).into()),
    }
}

#[derive(Deserialize)]
pub struct TargetQuery {
    target: String,
}

/// The step before a removal: what is about to go, and the button that removes it.
#[derive(Template, WebTemplate)]
#[template(path = "remove_decline.html")]
struct ConfirmRemovalPage {
    /// The pause switch is on: every page says so, with Resume.
    paused: bool,
    target: String,
    shown: String,
    company: String,
    declined: String,
    back: String,
}

/// `GET /declines/remove?target=`: asks before removing.
pub async fn confirm_removal(
    State(state): State<AppState>,
    query: Result<Query<TargetQuery>, QueryRejection>,
) -> PageResult {
    let Query(query) = query.map_err(|r| bad("target", r.body_text()))?;
    let decline = served(state.service.decline_on_record(&query.target))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("{} is not declined", query.target)))?;
    Ok(ConfirmRemovalPage {
        paused: paused(&state).await,
        target: decline.target.as_typed(),
        shown: decline.target.to_string(),
        company: decline.company.clone().unwrap_or_default(),
        declined: crate::policy::short_date(decline.declined_at, &state.settings.time_zone),
        back: company_link(&decline),
    }
    .into_response())
}

#[derive(Deserialize)]
pub struct RemoveForm {
    target: String,
}

/// `POST /declines/remove`, from the confirmation: removes the decline and lands on its company's
/// page (or the companies, when it was the company's last) with the banner and its Undo.
pub async fn remove(State(state): State<AppState>, form: Result<Form<RemoveForm>, FormRejection>) -> PageResult {
    let Form(form) = form.map_err(|r| bad("target", r.body_text()))?;
    let service = state.service.clone();
    let (removed, still_there) = served(async move {
        let removed = service.remove_decline_from_web(&form.target).await?;
        let still_there = service.company(&removed.party()).await.is_ok();
        Ok((removed, still_there))
    })
    .await?;
    let page = if still_there { company_link(&removed) } else { "/companies".to_owned() };
    Ok(Redirect::to(&after_change(&page, "removed", &removed.target.as_typed())).into_response())
}

#[derive(Deserialize)]
pub struct UndoForm {
    number: String,
    /// The page the banner was on (without its query), to return to.
    #[serde(default)]
    back: Option<String>,
}

/// The Undo on a decline's banner: the decline is put back exactly as it was before the change
/// (or removed, when there was none).
pub async fn undo_decline(State(state): State<AppState>, form: Result<Form<UndoForm>, FormRejection>) -> PageResult {
    let Form(form) = form.map_err(|r| bad("number", r.body_text()))?;
    let undone = served(state.service.undo_web_decline(&form.number, Timestamp::now())).await?;
    let back = local_path(form.back.as_deref(), "/calls");
    // A company's page follows the decline: the company it is back under, or the list when none is.
    let page = match (&undone.restored, back.starts_with("/companies")) {
        (Some(restored), true) => company_link(restored),
        (None, true) => "/companies".to_owned(),
        (_, false) => back,
    };
    Ok(Redirect::to(&after_change(&page, "undone", &undone.target.as_typed())).into_response())
}
