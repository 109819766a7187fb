//! "Decline selected" on the Calls page: the numbers of the rows ticked, declined in one change with
//! one company and note, and that change's one Undo. Each ends on the Calls page with a banner
//! (see `banners`), like a decline of one number.

use axum::Form;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::response::{IntoResponse, Redirect};
use jiff::Timestamp;
use serde::Deserialize;

use super::AppState;
use super::api::served;
use super::banners::after_change;
use super::came_from::local_path;
use super::pages::{PageError, PageResult, bad};

/// The form as sent: every ticked row sends its number, so `number` comes as often as there are
/// rows ticked; `company` and `note` come once.
struct Selected {
    numbers: Vec<String>,
    company: String,
    note: String,
}

impl Selected {
    fn read(body: &[u8]) -> Result<Self, PageError> {
        std::str::from_utf8(body).map_err(|_| bad("form", "the form is not UTF-8 text"))?;
        let (mut numbers, mut company, mut note) = (Vec::new(), None, None);
        for (name, value) in form_urlencoded::parse(body) {
            let once = match name.as_ref() {
                "number" => {
                    numbers.push(value.into_owned());
                    continue;
                }
                "company" => &mut company,
                "note" => &mut note,
                other => return Err(bad("form", format!("{other:?} is not a field of this form"))),
            };
            if once.replace(value.into_owned()).is_some() {
                return Err(bad("form", format!("{name} is given more than once")));
            }
        }
        Ok(Self { numbers, company: company.unwrap_or_default(), note: note.unwrap_or_default() })
    }
}

/// `POST /calls/decline-selected`: refused whole, with nothing changed, when a number is not one,
/// none is ticked or too many are.
pub async fn decline_selected(State(state): State<AppState>, body: Bytes) -> PageResult {
    let selected = Selected::read(&body)?;
    let saved = served(state.service.decline_several_from_web(
        &selected.numbers,
        &selected.company,
        &selected.note,
        Timestamp::now(),
    ))
    .await?;
    Ok(Redirect::to(&after_change("/calls", "declined_batch", &saved.batch)).into_response())
}

#[derive(Deserialize)]
pub struct UndoSelectedForm {
    batch: String,
    /// The page the banner was on (without its query), to return to.
    #[serde(default)]
    back: Option<String>,
}

/// The Undo on the banner of several declines: each number's decline is back as it was before.
pub async fn undo_selected(
    State(state): State<AppState>,
    form: Result<Form<UndoSelectedForm>, FormRejection>,
) -> PageResult {
    let Form(form) = form.map_err(|r| bad("batch", r.body_text()))?;
    let restored = served(state.service.undo_web_batch(&form.batch)).await?;
    let numbers: Vec<String> = restored.iter().map(ToString::to_string).collect();
    let back = local_path(form.back.as_deref(), "/calls");
    Ok(Redirect::to(&after_change(&back, "undone_batch", &numbers.join(","))).into_response())
}
