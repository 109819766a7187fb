//! An allow in words: its row on the Allows page, and the few words a banner names it by.

use jiff::tz::TimeZone;

use super::local_time::local_time;
use crate::domain::Allow;
use crate::policy::short_date;

pub struct AllowRow {
    pub number: String,
    pub name: String,
    pub added: String,
    pub window: String,
}

impl AllowRow {
    pub fn of(allow: &Allow, time_zone: &TimeZone) -> Self {
        let window = match (allow.from, allow.until) {
            (None, None) => "always".to_owned(),
            (from, until) => format!(
                "{} to {}",
                from.map(|at| local_time(at, time_zone)).unwrap_or_else(|| "now".into()),
                until.map(|at| local_time(at, time_zone)).unwrap_or_else(|| "on".into())
            ),
        };
        let window = match (allow.once, allow.used_at) {
            (true, Some(used)) => format!("{window}, once (used {})", local_time(used, time_zone)),
            (true, None) => format!("{window}, once"),
            (false, _) => window,
        };
        Self {
            number: allow.number.to_string(),
            name: allow.name.clone().unwrap_or_default(),
            added: short_date(allow.added_at, time_zone),
            window,
        }
    }
}

/// The allow in a few words: "Mum, always" or "3 Nov 2026 10:00 to on, once".
pub fn described(allow: &Allow, time_zone: &TimeZone) -> String {
    let row = AllowRow::of(allow, time_zone);
    if row.name.is_empty() { row.window } else { format!("{}, {}", row.name, row.window) }
}
