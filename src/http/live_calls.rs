//! The Calls page's stream: the calls written after the newest one the page shows, first those
//! already in the log, then each as it is written, and a call's row again when its outcome is.

use std::collections::{HashSet, VecDeque};

use askama::Template;
use axum::response::sse::Event;

use super::AppState;
use super::api::served;
use super::call_row::CallRow;
use super::pages::call_rows;
use crate::domain::CallRecord;
use crate::live::{Heard, Listening, Logged, next_logged};
use crate::store::CallQuery;

/// One row of the log, by the template the Calls page renders its rows with.
#[derive(Template)]
#[template(path = "call_row.html")]
struct Row {
    call: CallRow,
}

/// A new call, put at the top of the page; its id is where a reconnecting browser resumes.
const NEW: &str = "call";
/// A call's row as it now stands, put in place of the row the page shows, if it shows it.
const CHANGED: &str = "outcome";

/// One page's stream of rows.
pub struct Follower {
    state: AppState,
    /// The page's filters, as the log applies them to the page.
    query: CallQuery,
    logged: Listening,
    /// The id of the newest call the page has: shown on load or sent since. Empty when it has none.
    newest: String,
    /// Calls sent from the log that the broadcast may bring again.
    sent_from_log: HashSet<String>,
    /// Events ready to send.
    ready: VecDeque<Vec<Event>>,
    /// Whether the log has been read for the calls written since the page loaded.
    caught_up: bool,
}

impl Follower {
    /// Subscribes before the log is read, so that a call written in between is not missed.
    pub fn new(state: AppState, query: CallQuery, newest: String) -> Self {
        let logged = state.call_log.live().subscribe();
        Self { state, query, logged, newest, sent_from_log: HashSet::new(), ready: VecDeque::new(), caught_up: false }
    }

    /// The next events to send; `None` once no more calls will come.
    pub async fn next(&mut self) -> Option<Vec<Event>> {
        loop {
            if let Some(events) = self.ready.pop_front() {
                return Some(events);
            }
            if !self.caught_up {
                self.caught_up = true;
                // An outcome reported between the page being read and the stream opening came
                // before the subscription: the rows with one are sent as they now stand.
                self.catch_up(Again::Reported).await;
                continue;
            }
            match next_logged(&mut self.logged).await? {
                Heard::Logged(Logged::Call(call)) => {
                    if self.sent_from_log.remove(&call.call_id) || !self.query.matches(&call) {
                        continue;
                    }
                    if let Some(event) = self.rows(NEW, std::slice::from_ref(&call)).await.pop() {
                        self.newest.clone_from(&call.call_id);
                        return Some(vec![event]);
                    }
                }
                Heard::Logged(Logged::Outcome(call_id)) => {
                    let call = match served(self.state.service.call_by_id(&call_id)).await {
                        Ok(Some(call)) if self.query.matches(&call) => call,
                        Ok(_) => continue,
                        Err(error) => {
                            tracing::warn!(%error, %call_id, "a live call's outcome could not be read");
                            continue;
                        }
                    };
                    if let Some(event) = self.rows(CHANGED, std::slice::from_ref(&call)).await.pop() {
                        return Some(vec![event]);
                    }
                }
                // Whatever was dropped may have been new calls or outcomes: the log has both.
                Heard::Missed(_) => self.catch_up(Again::All).await,
            }
        }
    }

    /// Reads the newest page of the log: the calls newer than the page's newest are sent as new
    /// (oldest first), up to a page of them; the rest, as `again` says, as they now stand.
    async fn catch_up(&mut self, again: Again) {
        let page = match served(self.state.service.call_page(self.query.clone())).await {
            Ok(page) => page,
            Err(error) => {
                tracing::warn!(%error, "a live page could not catch up from the log");
                return;
            }
        };
        let (newer, older) = split_at_shown(&page.calls, &self.newest);
        if let Some(newest) = newer.last() {
            self.newest.clone_from(&newest.call_id);
        }
        if self.sent_from_log.len() > 4 * super::pages::PAGE_SIZE {
            // Only the calls still in the broadcast could come again; a duplicate the page skips.
            self.sent_from_log.clear();
        }
        self.sent_from_log.extend(newer.iter().map(|call| call.call_id.clone()));
        let mut events = self.rows(NEW, &newer).await;
        let changed: Vec<CallRecord> = match again {
            Again::Reported => older.iter().filter(|call| call.outcome.is_some()).cloned().collect(),
            Again::All => older.to_vec(),
        };
        events.extend(self.rows(CHANGED, &changed).await);
        if !events.is_empty() {
            self.ready.push_back(events);
        }
    }

    /// The calls as events of rows, by the page's template; a call that cannot be shown is left
    /// out and logged.
    async fn rows(&self, name: &'static str, calls: &[CallRecord]) -> Vec<Event> {
        if calls.is_empty() {
            return Vec::new();
        }
        let rows = match call_rows(&self.state, calls).await {
            Ok(rows) => rows,
            Err(error) => {
                tracing::warn!(%error, "live calls could not be shown");
                return Vec::new();
            }
        };
        rows.into_iter()
            .filter_map(|call| {
                let id = call.call_id.clone();
                let markup = Row { call }.render().inspect_err(|error| tracing::error!(%error, "a live row")).ok()?;
                let event = Event::default().event(name).data(markup);
                // An id that cannot come back as a resume point is not sent; the page then resumes
                // from the one before, and skips the rows it already shows.
                Some(match name == NEW && resumable(&id) {
                    true => event.id(id),
                    false => event,
                })
            })
            .collect()
    }
}

/// Which of the calls a page already shows are sent again when it catches up from the log.
enum Again {
    /// Those with an outcome reported: any of them may have changed since the page was read.
    Reported,
    /// All of them: the page missed what the broadcast said of them.
    All,
}

/// Longer than any provider's call id.
const LONGEST_CALL_ID: usize = 128;

/// Whether a call id can mark where a page left off: it travels in a link and in an SSE `id:`
/// line, which take no control characters.
pub fn resumable(call_id: &str) -> bool {
    call_id.len() <= LONGEST_CALL_ID && !call_id.chars().any(char::is_control)
}

/// The calls of a page of the log (newest first) that are newer than call `newest`, oldest first,
/// and the rest. When the page does not hold `newest` (a page that showed no calls, or one more
/// than a page of calls behind), every call on it is newer.
fn split_at_shown<'a>(page: &'a [CallRecord], newest: &str) -> (Vec<CallRecord>, &'a [CallRecord]) {
    let shown = page.iter().position(|call| call.call_id == newest).unwrap_or(page.len());
    let (newer, older) = page.split_at(shown);
    (newer.iter().rev().cloned().collect(), older)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(calls: &[CallRecord]) -> Vec<&str> {
        calls.iter().map(|call| call.call_id.as_str()).collect()
    }

    #[test]
    fn the_calls_after_the_newest_shown_are_sent_oldest_first_and_the_rest_are_not() {
        let page: Vec<_> =
            ["CA4", "CA3", "CA2", "CA1"].map(|id| CallRecord { call_id: id.into(), ..Default::default() }).into();
        let (newer, older) = split_at_shown(&page, "CA2");
        assert_eq!((ids(&newer), ids(older)), (vec!["CA3", "CA4"], vec!["CA2", "CA1"]));
        let (newer, older) = split_at_shown(&page, "CA4");
        assert_eq!((ids(&newer), ids(older).len()), (vec![], 4), "nothing new since the page");
        for unknown in ["", "CA0"] {
            let (newer, older) = split_at_shown(&page, unknown);
            assert_eq!((ids(&newer), ids(older).len()), (vec!["CA1", "CA2", "CA3", "CA4"], 0), "{unknown:?}");
        }
    }
}
