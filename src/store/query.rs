//! Asking the call log for a page: the filters, the cursor that continues a listing, and the tallies.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::domain::{CallRecord, DecisionKind, company_key, party_key};

/// The most log entries one page may look at when its filters cannot all be answered by an index
/// (a search, or a number and a decision together). A page that runs out of budget ends early
/// with a cursor, so a search over millions of calls stays as fast as any other page.
pub const SCAN_BUDGET: usize = 20_000;

/// Which calls to list, newest first.
#[derive(Clone, Debug, Default)]
pub struct CallQuery {
    /// Only refused calls (the same as `decision: Some(Decline)`).
    pub declined_only: bool,
    pub decision: Option<DecisionKind>,
    /// Calls from this number, as logged (E.164 or `withheld`).
    pub number: Option<String>,
    /// Calls from numbers ending in these digits.
    pub number_ending: Option<String>,
    /// Calls refused on behalf of a company whose name holds this (case and spacing do not matter).
    pub company: Option<String>,
    /// Calls refused on behalf of this party (see `domain::party_key`): a company, or a number,
    /// range or pattern declined without a name.
    pub party: Option<String>,
    pub since: Option<Timestamp>,
    /// Calls strictly before this moment.
    pub until: Option<Timestamp>,
    /// Words to look for in the number, company, caller name, reason or call id.
    pub search: Option<String>,
    /// Continue a listing: calls strictly older than this cursor.
    pub before: Option<Cursor>,
    pub limit: usize,
}

/// A position in the call log: the time and arrival order of one call, as 16 bytes that sort the
/// way the log does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cursor(pub [u8; 16]);

/// One page, and where the next one starts if there is more.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallPage {
    pub calls: Vec<CallRecord>,
    pub next: Option<Cursor>,
}

/// A page being filled from calls read newest first, as every store's `call_page` fills one: a
/// call is kept when the query matches it, and the page ends once it is full or `SCAN_BUDGET`
/// calls have been looked at, continuing after the last one looked at.
pub struct PageFill<'a> {
    query: &'a CallQuery,
    page: CallPage,
    looked_at: usize,
}

impl<'a> PageFill<'a> {
    pub fn new(query: &'a CallQuery) -> Self {
        Self { query, page: CallPage::default(), looked_at: 0 }
    }

    /// Takes in the next call read; false once the page is done.
    pub fn take(&mut self, position: Cursor, call: &CallRecord) -> bool {
        self.looked_at += 1;
        if self.query.matches(call) {
            self.page.calls.push(call.clone());
        }
        let done = self.page.calls.len() >= self.query.limit || self.looked_at >= SCAN_BUDGET;
        if done {
            self.page.next = Some(position);
        }
        !done
    }

    pub fn page(self) -> CallPage {
        self.page
    }
}

/// How many calls were forwarded, refused, and otherwise answered (screened, after hours) in one hour.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HourTally {
    #[serde(skip)]
    pub hour: Timestamp,
    pub forwarded: u64,
    pub refused: u64,
    #[serde(default)]
    pub other: u64,
}

impl Cursor {
    /// The position of a call logged at `at` with arrival number `id`.
    pub fn new(at: Timestamp, id: u64) -> Self {
        let mut bytes = [0u8; 16];
        // Offset so calls before 1970 (only in imported data) still sort first.
        let at = (at.as_microsecond() as u64) ^ (1 << 63);
        bytes[..8].copy_from_slice(&at.to_be_bytes());
        bytes[8..].copy_from_slice(&id.to_be_bytes());
        Self(bytes)
    }

    /// The first position at `at`: a bound that takes in every call logged at that moment.
    pub fn at(at: Timestamp) -> Self {
        Self::new(at, 0)
    }

    /// The call's time in microseconds and its arrival number, as a log stores them.
    pub fn parts(self) -> (i64, i64) {
        let at = u64::from_be_bytes(self.0[..8].try_into().expect("8 bytes")) ^ (1 << 63);
        let id = u64::from_be_bytes(self.0[8..].try_into().expect("8 bytes"));
        (at as i64, id as i64)
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
    }
}

impl std::str::FromStr for Cursor {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || format!("{text:?} is not a cursor from a previous page");
        if text.len() != 32 || !text.is_ascii() {
            return Err(invalid());
        }
        let mut bytes = [0u8; 16];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[i * 2..i * 2 + 2], 16).map_err(|_| invalid())?;
        }
        Ok(Self(bytes))
    }
}

impl CallQuery {
    pub fn decision(&self) -> Option<DecisionKind> {
        self.decision.or(self.declined_only.then_some(DecisionKind::Decline))
    }

    /// The part of a company's name the query looks for, as names are compared: "everest  WIN"
    /// finds "Everest Windows".
    pub fn company_part(&self) -> Option<String> {
        self.company.as_deref().map(company_key).filter(|key| !key.is_empty())
    }

    /// Whether a call passes every filter; the index a store reads along may already ensure some.
    pub fn matches(&self, call: &CallRecord) -> bool {
        self.decision().is_none_or(|decision| call.decision == decision)
            && self.number.as_deref().is_none_or(|number| call.from == number)
            && self.number_ending.as_deref().is_none_or(|digits| call.from.ends_with(digits))
            && self.party.as_deref().is_none_or(|party| party_of(call).as_deref() == Some(party))
            && self.company_part().is_none_or(|part| {
                party_of(call).is_some_and(|party| party.strip_prefix(COMPANY).is_some_and(|name| name.contains(&part)))
            })
            && self.since.is_none_or(|since| call.at >= since)
            && self.until.is_none_or(|until| call.at < until)
            && self.search.as_deref().is_none_or(|words| mentions(call, words))
    }
}

/// A number that rang through again and again: how often, and over what stretch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RepeatCaller {
    /// As logged, in E.164.
    pub number: String,
    pub calls: u32,
    #[schema(value_type = String, format = DateTime)]
    pub first_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub last_at: Timestamp,
}

/// How a company's party key begins (see `domain::party_key`).
pub const COMPANY: &str = "company:";

/// Who a refused call counts toward; calls logged before the party was kept give their company's.
pub fn party_of(call: &CallRecord) -> Option<String> {
    if !call.is_refusal() {
        return None;
    }
    call.party.clone().or_else(|| call.company.as_deref().map(|company| party_key(Some(company), "")))
}

impl HourTally {
    pub fn count(&mut self, decision: DecisionKind) {
        match decision {
            DecisionKind::Forward => self.forwarded += 1,
            DecisionKind::Decline => self.refused += 1,
            DecisionKind::Screen | DecisionKind::Closed => self.other += 1,
        }
    }
}

/// The hour (counted from 1970) a call is tallied in; calls before 1970 (only in imported data)
/// count in the first.
pub fn hour_of(at: Timestamp) -> i64 {
    at.as_second().max(0) / 3600
}

/// The end (exclusive) of the hours a tally up to `until` covers: every hour that begins before it.
pub fn hours_before(until: Timestamp) -> i64 {
    hour_of(until) + i64::from(until.as_second() % 3600 != 0 || until.subsec_nanosecond() != 0)
}

/// A decision as the call logs store it.
pub fn decision_code(decision: DecisionKind) -> i16 {
    match decision {
        DecisionKind::Forward => 0,
        DecisionKind::Decline => 1,
        DecisionKind::Screen => 2,
        DecisionKind::Closed => 3,
    }
}

pub fn decision_of(code: i64) -> Result<DecisionKind, super::StoreError> {
    Ok(match code {
        0 => DecisionKind::Forward,
        1 => DecisionKind::Decline,
        2 => DecisionKind::Screen,
        3 => DecisionKind::Closed,
        other => return Err(super::StoreError::Corrupt(format!("a logged call has an unknown decision ({other})"))),
    })
}

/// Text to find inside a SQL `LIKE` pattern (with `ESCAPE '\'`), its wildcards taken literally.
pub fn like_escaped(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// Every word appears (case-insensitively) somewhere in the call's searchable text.
fn mentions(call: &CallRecord, words: &str) -> bool {
    let haystack = [
        call.from.as_str(),
        call.company.as_deref().unwrap_or_default(),
        call.caller_name.as_deref().unwrap_or_default(),
        call.reason.as_str(),
        call.call_id.as_str(),
    ]
    .join("\n")
    .to_lowercase();
    words.split_whitespace().all(|word| haystack.contains(&word.to_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_survives_its_text_form_and_sorts_by_time() {
        let early = Cursor::new("2026-11-01T10:00:00Z".parse().unwrap(), 7);
        let late = Cursor::new("2026-11-02T10:00:00Z".parse().unwrap(), 1);
        assert!(early < late);
        assert_eq!(early.to_string().parse::<Cursor>().unwrap(), early);
        assert!("zz".parse::<Cursor>().is_err());
        assert!("g".repeat(32).parse::<Cursor>().is_err());
    }
}
