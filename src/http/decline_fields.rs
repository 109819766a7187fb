//! The fields of a decline as its forms carry them (edit, add a number to a company), and what
//! they mean: shared by the forms' handlers and the company page that shows them.

use axum::http::StatusCode;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Deserialize;

use super::local_time::local_time;
use crate::domain::{Decline, RefusalMode};
use crate::service::{DeclineEdit, ServiceError};
use crate::when::{self, Spans};

/// The status a refused form is shown again with.
pub const REFUSED: StatusCode = StatusCode::BAD_REQUEST;

#[derive(Clone, Debug, Default, Deserialize)]
pub struct DeclineFields {
    /// The decline edited (as `Target::as_typed` gives it), or the number added.
    #[serde(default)]
    pub target: String,
    #[serde(default)]
    pub company: String,
    #[serde(default)]
    pub note: String,
    /// Empty (as configured), `message` or `reject`.
    #[serde(default)]
    pub mode: String,
    /// A day or a moment as `when` reads it; empty for none.
    #[serde(default)]
    pub not_before: String,
    /// Empty (as configured), `on` or `off`.
    #[serde(default)]
    pub escape_hatch: String,
    /// "This number is new: accept it anyway".
    #[serde(default)]
    pub force: Option<String>,
}

impl DeclineFields {
    /// The fields of a decline on record, as its edit form shows them.
    pub fn of(decline: &Decline, time_zone: &TimeZone) -> Self {
        Self {
            target: decline.target.as_typed(),
            company: decline.company.clone().unwrap_or_default(),
            note: decline.note.clone().unwrap_or_default(),
            mode: decline.mode.map(|mode| mode.to_string()).unwrap_or_default(),
            not_before: decline.not_before.map(|at| local_time(at, time_zone)).unwrap_or_default(),
            escape_hatch: match decline.escape_hatch {
                None => String::new(),
                Some(true) => "on".into(),
                Some(false) => "off".into(),
            },
            force: None,
        }
    }

    /// The terms typed. `kept` is the decline being edited: a date shown and sent back unchanged
    /// keeps its exact moment, which the form shows only to the minute.
    pub fn edit(
        &self,
        kept: Option<&Decline>,
        now: Timestamp,
        time_zone: &TimeZone,
    ) -> Result<DeclineEdit, ServiceError> {
        let mode = match self.mode.as_str() {
            "" => None,
            "message" => Some(RefusalMode::Message),
            "reject" => Some(RefusalMode::Reject),
            other => return Err(invalid("mode", format!("{other:?} is not a spoken message or a busy signal"))),
        };
        let escape_hatch = match self.escape_hatch.as_str() {
            "" => None,
            "on" => Some(true),
            "off" => Some(false),
            other => return Err(invalid("escape_hatch", format!("{other:?} is not on or off"))),
        };
        let unchanged = kept.filter(|kept| Self::of(kept, time_zone).not_before == self.not_before.trim());
        let not_before = match (unchanged, self.not_before.trim()) {
            (Some(kept), _) => kept.not_before,
            (None, "") => None,
            (None, text) => Some(
                when::parse("not before", text, now, time_zone, Spans::Ahead)
                    .map_err(|message| invalid("not_before", message))?,
            ),
        };
        Ok(DeclineEdit {
            company: Some(self.company.clone()),
            note: Some(self.note.clone()),
            mode,
            not_before,
            escape_hatch,
        })
    }
}

fn invalid(field: &'static str, message: impl Into<String>) -> ServiceError {
    ServiceError::Invalid { field, message: message.into() }
}
