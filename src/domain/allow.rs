//! An allow: a contact who always rings through, whatever else is on record; or, with a window,
//! an expected callback that rings through only then.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::PhoneNumber;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Allow {
    #[schema(value_type = String)]
    pub number: PhoneNumber,
    #[serde(default)]
    pub name: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub added_at: Timestamp,
    /// The window in which the allow holds; open-ended on a side that is `None`.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub from: Option<Timestamp>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub until: Option<Timestamp>,
    /// Lapses after the first call that rings through in the window.
    #[serde(default)]
    pub once: bool,
    /// When a `once` allow was used.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub used_at: Option<Timestamp>,
}

impl Allow {
    /// An allow with no window and no single use: the number always rings through.
    pub fn always(number: PhoneNumber, name: Option<String>, added_at: Timestamp) -> Self {
        Self { number, name, added_at, from: None, until: None, once: false, used_at: None }
    }

    /// Whether the allow lets a call through at `now`.
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.from.is_none_or(|from| from <= now)
            && self.until.is_none_or(|until| now < until)
            && !(self.once && self.used_at.is_some())
    }

    pub fn is_timed(&self) -> bool {
        self.from.is_some() || self.until.is_some() || self.once
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn window() -> Allow {
        Allow {
            from: Some(at("2026-11-24T14:00:00Z")),
            until: Some(at("2026-11-24T16:00:00Z")),
            ..Allow::always(PhoneNumber::from_e164("+442079460123").unwrap(), None, at("2026-11-20T00:00:00Z"))
        }
    }

    #[test]
    fn a_window_holds_from_its_start_up_to_but_not_including_its_end() {
        let allow = window();
        assert!(!allow.is_active(at("2026-11-24T13:59:59Z")));
        assert!(allow.is_active(at("2026-11-24T14:00:00Z")));
        assert!(allow.is_active(at("2026-11-24T15:59:59Z")));
        assert!(!allow.is_active(at("2026-11-24T16:00:00Z")));
    }

    #[test]
    fn a_single_use_allow_lapses_once_used() {
        let mut allow = Allow { once: true, ..window() };
        assert!(allow.is_active(at("2026-11-24T15:00:00Z")));
        allow.used_at = Some(at("2026-11-24T15:00:00Z"));
        assert!(!allow.is_active(at("2026-11-24T15:30:00Z")));
    }
}
