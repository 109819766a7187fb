//! What the owner can do to the records, in one place: the admin API and the command line's
//! offline mode both call these, so the rules are the same whichever way a change arrives.

mod businesses;
mod call_facts;
mod call_path;
mod companies;
mod dashboard;
mod effective_settings;
mod password;
mod recent_callers;
mod retention;
mod snapshot;
mod transfer;
mod undo_from_answer;
mod web_batch;
mod web_edits;

pub use businesses::{BusinessSummary, IssuedToken, LineSummary, Operator, token_sha256};
pub use companies::{Attempt, CompanySummary, CompanyTimeline};
pub use dashboard::{AFTER_NO_WEEKS, Dashboard, DayTotals, Totals, WeekAfterNo};
pub use effective_settings::Chosen;
pub use retention::LegalHoldState;
pub use transfer::{Format, ImportReport, RowProblem};
pub use web_batch::{BatchDeclined, MAX_AT_ONCE};
pub use web_edits::DeclineEdit;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::config::Settings;
use crate::domain::text::{TextTooLong, tidy};
use crate::domain::{
    Allow, CallRecord, Channel, DecisionKind, Decline, DeclineBatch, FollowUps, NumberError, PhoneNumber, RefusalMode,
    SettingChange, Target, WebChange, company_key, remember_web_change,
};
use crate::matcher::check_pattern;
use crate::store::{CallPage, CallQuery, Change, Removed, Store, StoreError};

const MAX_COMPANY: usize = 120;
const MAX_NOTE: usize = 1000;
const MAX_NAME: usize = 120;
/// Providers' call ids are a few dozen characters.
const MAX_CALL_ID: usize = 64;
/// The most calls one listing returns.
pub const MAX_LIMIT: usize = 1000;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    #[error("{0}")]
    NotFound(String),
    #[error("{} row(s) are not valid declines; nothing was imported", .0.len())]
    Rejected(Vec<RowProblem>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<TextTooLong> for ServiceError {
    fn from(error: TextTooLong) -> Self {
        Self::Invalid { field: error.field, message: error.to_string() }
    }
}

/// A decline to record. It covers one of: `number` (a number, or a range when it ends in `*`:
/// `+4416329601*`), `prefix` (a range), `pattern` (a regular expression over the E.164 form) or
/// `caller_name` (a regular expression over the caller-name look-up).
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewDecline {
    #[serde(default)]
    pub number: String,
    #[serde(default)]
    pub prefix: Option<String>,
    #[serde(default)]
    pub pattern: Option<String>,
    #[serde(default)]
    pub caller_name: Option<String>,
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub mode: Option<RefusalMode>,
    #[serde(default)]
    pub declined_by: Option<String>,
    /// Take a number the numbering plan does not know yet.
    #[serde(default)]
    pub force: bool,
    /// Where the owner said no; the admin API by default.
    #[serde(default)]
    pub channel: Option<Channel>,
    /// "Do not call before": the decline lapses on its own at this moment.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub not_before: Option<Timestamp>,
    /// Offer the escape hatch on this decline's refusals (or not), whatever the config says.
    #[serde(default)]
    pub escape_hatch: Option<bool>,
    /// The call (its id) the no was given on, when it was given about one.
    #[serde(default)]
    pub on_call: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewAllow {
    pub number: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub force: bool,
    /// Ring through only from this moment...
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub from: Option<Timestamp>,
    /// ...and up to this one.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub until: Option<Timestamp>,
    /// Ring through once, then lapse.
    #[serde(default)]
    pub once: bool,
}

/// A decline and the calls its company (or number) made after it.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeclineEntry {
    #[serde(flatten)]
    pub decline: Decline,
    pub follow_ups: FollowUps,
}

/// A record and whether it is new or an update of one already kept.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Saved<T> {
    pub record: T,
    pub created: bool,
    /// The record this one replaced, exactly as it was; absent when the record is new.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<T>,
}

/// What an Undo put back, and what the number's next call will now do.
#[derive(Clone, Debug)]
pub struct Undone {
    pub target: Target,
    /// The decline as it stands again, or `None` when the undo removed it.
    pub restored: Option<Decline>,
    /// The decision's own reason for the next call, when the target is one number.
    pub next_call: Option<String>,
}

/// The facts of a call to preview: a number (or a withheld caller), and optionally the time, the
/// caller-name look-up and the verification result.
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
pub struct CheckRequest {
    #[serde(default)]
    pub number: Option<String>,
    #[serde(default)]
    pub withheld: bool,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    #[param(value_type = Option<String>, format = DateTime)]
    pub at: Option<Timestamp>,
    #[serde(default)]
    pub caller_name: Option<String>,
    #[serde(default)]
    pub verstat: Option<String>,
}

/// What would happen to a call, without a call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Preview {
    /// The caller as the decision saw it: an E.164 number or `withheld`.
    pub number: String,
    pub decision: DecisionKind,
    pub reason: String,
    /// What the caller would hear: the refusal message, a busy signal, or the phones ringing.
    pub caller_hears: String,
}

#[derive(Clone)]
pub struct Service {
    store: Arc<dyn Store>,
    settings: Arc<Settings>,
    /// What calls are decided from: see `call_path`.
    live: Arc<call_path::Live>,
    /// The file's settings with the owner's choices laid over them, kept until the choices change.
    effective: Arc<effective_settings::Effective>,
    /// Taken by a legal hold's change and by each prune batch, so they never interleave.
    holding: Arc<tokio::sync::Mutex<()>>,
}

impl Service {
    /// The service over a store. The records a call is decided from are read by `warm_up`.
    pub fn open(store: Arc<dyn Store>, settings: Arc<Settings>) -> Result<Self, ServiceError> {
        Ok(Self { store, settings, live: Arc::default(), effective: Arc::default(), holding: Arc::default() })
    }

    /// A service over another store under the same settings, with a snapshot and locks of its own:
    /// for work on a business other than this one's that needs none of its snapshot (pruning).
    pub fn over(&self, store: Arc<dyn Store>) -> Self {
        Self {
            store,
            settings: self.settings.clone(),
            live: Arc::default(),
            effective: Arc::default(),
            holding: Arc::default(),
        }
    }

    /// The same service under new settings: the same store, snapshot and locks.
    pub fn with_settings(&self, settings: Arc<Settings>) -> Self {
        Self { settings, effective: Arc::default(), ..self.clone() }
    }

    pub async fn decline(&self, new: NewDecline, now: Timestamp) -> Result<Saved<Decline>, ServiceError> {
        let saved = self.decline_to_save(new, now).await?;
        self.put_decline(&saved.record.target, Some(&saved.record)).await?;
        Ok(saved)
    }

    /// The decline `new` makes, merged with the one on record, checked but not yet saved: one
    /// number's decline and several at once are worded and merged by this alone.
    async fn decline_to_save(&self, new: NewDecline, now: Timestamp) -> Result<Saved<Decline>, ServiceError> {
        let target = self.target(&new)?;
        let company = self.company_named(new.company.as_deref()).await?;
        let note = tidy_note(new.note.as_deref())?;
        let on_call = tidy("on_call", new.on_call.as_deref(), MAX_CALL_ID)?;
        let declined_by = tidy("declined_by", new.declined_by.as_deref(), MAX_NAME)?
            .or_else(|| self.settings.declined_by().map(str::to_owned));
        check_not_before(new.not_before, now)?;
        let before = self.store.decline(&target).await?;
        let created = before.is_none();
        // Saying no again keeps the date it was first said: that date is the evidence.
        let decline = match before.clone() {
            Some(old) => Decline {
                company: company.or(old.company),
                note: note.or(old.note),
                mode: new.mode.or(old.mode),
                declined_by: old.declined_by.or(declined_by),
                not_before: new.not_before.or(old.not_before),
                escape_hatch: new.escape_hatch.or(old.escape_hatch),
                // Like the date, the call the no was first given on stays.
                on_call: old.on_call.or(on_call),
                ..old
            },
            None => Decline {
                target,
                company,
                note,
                declined_at: now,
                declined_by,
                channel: new.channel.unwrap_or(Channel::Api),
                mode: new.mode,
                not_before: new.not_before,
                escape_hatch: new.escape_hatch,
                on_call,
            },
        };
        Ok(Saved { record: decline, created, before })
    }

    /// A company's name as typed, tidied; an existing company is joined under the name it was
    /// first given.
    async fn company_named(&self, typed: Option<&str>) -> Result<Option<String>, ServiceError> {
        Ok(match tidy("company", typed, MAX_COMPANY)? {
            Some(name) => Some(self.store.company_name(&company_key(&name)).await?.unwrap_or(name)),
            None => None,
        })
    }

    /// Declines from the web page, and remembers what the decline replaced for its Undo.
    pub async fn decline_from_web(&self, new: NewDecline, now: Timestamp) -> Result<Saved<Decline>, ServiceError> {
        let saved = self.decline(new, now).await?;
        self.remember_web_change(WebChange::Declined {
            target: saved.record.target.clone(),
            before: saved.before.clone(),
        })
        .await?;
        Ok(saved)
    }

    /// Allows from the web page, and remembers what the allow replaced for its Undo.
    pub async fn allow_from_web(&self, new: NewAllow, now: Timestamp) -> Result<Saved<Allow>, ServiceError> {
        let saved = self.allow(new, now).await?;
        self.remember_web_change(WebChange::Allowed {
            allowed: saved.record.number.clone(),
            before: saved.before.clone(),
        })
        .await?;
        Ok(saved)
    }

    pub(crate) async fn remember_web_change(&self, change: WebChange) -> Result<(), ServiceError> {
        let mut changes = self.store.web_changes().await?;
        remember_web_change(&mut changes, change);
        self.commit(Change::WebChanges(changes)).await?;
        Ok(())
    }

    /// Undoes the web page's latest decline of `text`: the decline it replaced is put back as it
    /// was, or, when there was none, the decline is removed. Without a remembered change nothing
    /// is touched, so an old Undo button can never delete a decline it did not make.
    pub async fn undo_web_decline(&self, text: &str, now: Timestamp) -> Result<Undone, ServiceError> {
        let target = self.removal_target(text)?;
        let mut changes = self.store.web_changes().await?;
        let found =
            changes.iter().rposition(|change| matches!(change, WebChange::Declined { target: t, .. } if *t == target));
        let Some(WebChange::Declined { before, .. }) = found.map(|index| changes.remove(index)) else {
            return Err(ServiceError::NotFound(format!("there is no decline of {target} from this page to undo")));
        };
        self.restore_decline(&target, before.clone()).await?;
        self.commit(Change::WebChanges(changes)).await?;
        Ok(self.undone(target, before, now).await)
    }

    /// Undoes the web page's latest allow of `text`: the allow it replaced is put back as it was
    /// (a lapsed window, a spent single use), or, when there was none, the allow is removed.
    /// Without a remembered change nothing is touched, as for declines.
    /// Answers the number and the allow now on record.
    pub async fn undo_web_allow(&self, text: &str) -> Result<(PhoneNumber, Option<Allow>), ServiceError> {
        let number = self.typed_number(text, true)?;
        let mut changes = self.store.web_changes().await?;
        let found = changes
            .iter()
            .rposition(|change| matches!(change, WebChange::Allowed { allowed, .. } if *allowed == number));
        let Some(WebChange::Allowed { before, .. }) = found.map(|index| changes.remove(index)) else {
            return Err(ServiceError::NotFound(format!("there is no allow of {number} from this page to undo")));
        };
        self.restore_allow(&number, before.clone()).await?;
        self.commit(Change::WebChanges(changes)).await?;
        Ok((number, before))
    }

    /// Puts a decline back exactly as it was before a change: `before`, or nothing at all.
    pub async fn restore_decline(&self, target: &Target, before: Option<Decline>) -> Result<(), ServiceError> {
        self.put_decline(target, before.as_ref()).await?;
        Ok(())
    }

    /// Puts an allow back exactly as it was before a change: `before`, or nothing at all.
    pub async fn restore_allow(&self, number: &PhoneNumber, before: Option<Allow>) -> Result<(), ServiceError> {
        self.put_allow(number, before.as_ref()).await?;
        Ok(())
    }

    async fn undone(&self, target: Target, restored: Option<Decline>, now: Timestamp) -> Undone {
        // Worded by the decision itself, so the page says what the caller will get.
        let next_call = match target.number() {
            Some(number) => {
                let request = CheckRequest { number: Some(number.to_string()), ..Default::default() };
                self.check(request, now).await.ok().map(|preview| preview.reason)
            }
            None => None,
        };
        Undone { target, restored, next_call }
    }

    /// Removes a decline: `text` is a number, a range (`+4416329601*`), `pattern:REGEX` or
    /// `caller-name:REGEX`.
    pub async fn remove_decline(&self, text: &str) -> Result<Decline, ServiceError> {
        let target = self.removal_target(text)?;
        self.put_decline(&target, None)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("{target} is not declined")))
    }

    pub async fn declines(&self) -> Result<Vec<Decline>, ServiceError> {
        Ok(self.store.declines().await?)
    }

    /// The declines with how often their company (or number) has called since, by company then target.
    pub async fn decline_list(&self) -> Result<Vec<DeclineEntry>, ServiceError> {
        let mut declines = self.store.declines().await?;
        declines.sort_by_key(|decline| (decline.party(), decline.target.key()));
        let mut entries = Vec::with_capacity(declines.len());
        for decline in declines {
            entries.push(DeclineEntry { follow_ups: self.store.follow_ups(&decline.party()).await?, decline });
        }
        Ok(entries)
    }

    pub async fn allow(&self, new: NewAllow, now: Timestamp) -> Result<Saved<Allow>, ServiceError> {
        let number = self.typed_number(&new.number, new.force)?;
        let name = tidy("name", new.name.as_deref(), MAX_NAME)?;
        if let (Some(from), Some(until)) = (new.from, new.until)
            && from >= until
        {
            return Err(invalid("until", "the window must end after it starts"));
        }
        if new.until.is_some_and(|until| until <= now) {
            return Err(invalid("until", "the window has already ended"));
        }
        let before = self.store.allow_of(&number).await?;
        let created = before.is_none();
        let allow = match before.clone() {
            // A new window replaces the old one, and a single use starts afresh.
            Some(old) => Allow {
                name: name.or(old.name),
                from: new.from,
                until: new.until,
                once: new.once,
                used_at: None,
                ..old
            },
            None => Allow { from: new.from, until: new.until, once: new.once, ..Allow::always(number, name, now) },
        };
        self.put_allow(&allow.number, Some(&allow)).await?;
        Ok(Saved { record: allow, created, before })
    }

    pub async fn remove_allow(&self, number: &str) -> Result<Allow, ServiceError> {
        let number = self.typed_number(number, true)?;
        self.put_allow(&number, None)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("{number} is not on the allow list")))
    }

    pub async fn allows(&self) -> Result<Vec<Allow>, ServiceError> {
        Ok(self.store.allows().await?)
    }

    pub async fn calls(&self, query: CallQuery) -> Result<Vec<CallRecord>, ServiceError> {
        Ok(self.call_page(query).await?.calls)
    }

    /// One page of the log, newest first, with the cursor of the next page if there is more.
    pub async fn call_page(&self, query: CallQuery) -> Result<CallPage, ServiceError> {
        let query = self.call_query(query)?;
        Ok(self.store.call_page(&query).await?)
    }

    /// The call with this id, if the log has it.
    pub async fn call_by_id(&self, call_id: &str) -> Result<Option<CallRecord>, ServiceError> {
        // The search finds every call whose text holds the id; the one with exactly it is the call.
        // A page may end before the log does, so the search goes on while there is more. Small
        // pages: the call is usually among the first few that mention its id, and a page stops
        // reading the log once full, so a recent call is found without scanning far.
        let mut query = CallQuery { search: Some(call_id.to_owned()), limit: 8, ..Default::default() };
        loop {
            let page = self.store.call_page(&query).await?;
            if let Some(call) = page.calls.into_iter().find(|call| call.call_id == call_id) {
                return Ok(Some(call));
            }
            match page.next {
                Some(next) => query.before = Some(next),
                None => return Ok(None),
            }
        }
    }

    /// The query as the log reads it: the number as typed made E.164 (or its last few digits),
    /// empty filters dropped. The live Calls page matches new calls against the same query.
    pub fn call_query(&self, mut query: CallQuery) -> Result<CallQuery, ServiceError> {
        if query.limit == 0 || query.limit > MAX_LIMIT {
            return Err(invalid("limit", &format!("must be between 1 and {MAX_LIMIT}")));
        }
        if let (Some(since), Some(until)) = (query.since, query.until)
            && since > until
        {
            return Err(invalid("until", "must not be before since"));
        }
        // A number filter takes the number as typed, like every other command, or its last few
        // digits, as an owner remembers a number.
        let typed = query.number.take();
        match typed.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            Some("withheld") => query.number = Some("withheld".to_owned()),
            Some(number) => match last_digits(number) {
                Some(digits) => query.number_ending = Some(digits),
                None => query.number = Some(self.typed_number(number, true)?.to_string()),
            },
            None => {}
        }
        query.search = query.search.filter(|words| !words.trim().is_empty());
        query.company = query.company.filter(|company| !company.trim().is_empty());
        Ok(query)
    }

    /// Every call that matches, page after page: for exports, which want the whole range.
    pub async fn all_calls(&self, mut query: CallQuery) -> Result<Vec<CallRecord>, ServiceError> {
        query.limit = MAX_LIMIT;
        let mut calls = Vec::new();
        loop {
            let page = self.call_page(query.clone()).await?;
            calls.extend(page.calls);
            match page.next {
                Some(next) => query.before = Some(next),
                None => return Ok(calls),
            }
        }
    }

    /// A consistent copy of the whole database, in the backup format.
    /// It blocks while it reads the whole store: run it off the runtime.
    pub fn backup(&self, out: &mut dyn std::io::Write) -> Result<u64, ServiceError> {
        Ok(self.store.backup(out)?)
    }

    /// The pause switch: while on, every call rings through. Who changed it, and when, is kept
    /// with it in the same write.
    pub async fn set_paused(&self, paused: bool, by: Channel, now: Timestamp) -> Result<bool, ServiceError> {
        self.commit(Change::Paused { paused, changed: SettingChange { by, at: now } }).await?;
        Ok(paused)
    }

    /// Who last set the pause switch, and when.
    pub async fn pause_changed(&self) -> Result<Option<SettingChange>, ServiceError> {
        Ok(self.store.pause_changed().await?)
    }

    pub async fn paused(&self) -> Result<bool, ServiceError> {
        Ok(self.store.paused().await?)
    }

    /// Makes a change to the owner's record: the one way the service changes it. The store makes
    /// it durable and only then publishes it to the snapshot calls are decided from.
    pub(crate) async fn commit(&self, change: Change) -> Result<Removed, ServiceError> {
        Ok(self.store.apply(change, self.live.publisher()).await?)
    }

    /// Saves a decline (or, with `None`, removes the decline of `target`). Returns the decline removed.
    async fn put_decline(&self, target: &Target, decline: Option<&Decline>) -> Result<Option<Decline>, ServiceError> {
        let change = match decline {
            Some(decline) => Change::Decline(decline.clone()),
            None => Change::RemoveDecline(target.clone()),
        };
        Ok(self.commit(change).await?.decline())
    }

    /// Saves many declines at once, all or none.
    async fn put_declines(&self, declines: Arc<DeclineBatch>) -> Result<(), ServiceError> {
        self.commit(Change::Declines(declines)).await.map(drop)
    }

    /// Saves an allow (or, with `None`, removes the allow of `number`). Returns the allow removed.
    async fn put_allow(&self, number: &PhoneNumber, allow: Option<&Allow>) -> Result<Option<Allow>, ServiceError> {
        let change = match allow {
            Some(allow) => Change::Allow(allow.clone()),
            None => Change::RemoveAllow(number.clone()),
        };
        Ok(self.commit(change).await?.allow())
    }

    /// The decline on record for `text` (a number, range or pattern as `remove_decline` takes it).
    pub async fn decline_on_record(&self, text: &str) -> Result<Option<Decline>, ServiceError> {
        Ok(self.store.decline(&self.removal_target(text)?).await?)
    }

    /// The allow on record for a number.
    pub async fn allow_of(&self, number: &PhoneNumber) -> Result<Option<Allow>, ServiceError> {
        Ok(self.store.allow_of(number).await?)
    }

    /// The declines now on record for the E.164 numbers among `numbers`, by number.
    /// Of `numbers` (E.164), those an allow lets through at `now`.
    pub async fn allowed_now<'a>(
        &self,
        numbers: impl Iterator<Item = &'a str>,
        now: Timestamp,
    ) -> Result<HashSet<String>, ServiceError> {
        let mut allowed = HashSet::new();
        for text in numbers {
            let Some(number) = PhoneNumber::from_e164(text) else { continue };
            if !allowed.contains(text) && self.allow_of(&number).await?.is_some_and(|allow| allow.is_active(now)) {
                allowed.insert(text.to_owned());
            }
        }
        Ok(allowed)
    }

    pub async fn current_declines<'a>(
        &self,
        numbers: impl Iterator<Item = &'a str>,
    ) -> Result<HashMap<String, Decline>, ServiceError> {
        let mut current = HashMap::new();
        for text in numbers {
            if current.contains_key(text) {
                continue;
            }
            let Some(number) = PhoneNumber::from_e164(text) else { continue };
            if let Some(decline) = self.store.decline(&Target::Number(number)).await? {
                current.insert(text.to_owned(), decline);
            }
        }
        Ok(current)
    }

    /// A decline already on record named as a number, a range, `pattern:REGEX` or `caller-name:REGEX`.
    fn removal_target(&self, text: &str) -> Result<Target, ServiceError> {
        Ok(match (text.strip_prefix("pattern:"), text.strip_prefix("caller-name:")) {
            (Some(pattern), _) => Target::Pattern(pattern.to_owned()),
            (_, Some(pattern)) => Target::CallerName(pattern.to_owned()),
            _ => self.target(&NewDecline { number: text.to_owned(), force: true, ..Default::default() })?,
        })
    }

    /// What a new decline covers, checked: exactly one of number, range, pattern or caller name.
    fn target(&self, new: &NewDecline) -> Result<Target, ServiceError> {
        let number = Some(new.number.trim()).filter(|number| !number.is_empty());
        match (number, &new.prefix, &new.pattern, &new.caller_name) {
            (Some(number), None, None, None) => match number.strip_suffix('*') {
                Some(range) => self.range(range),
                None => Ok(Target::Number(self.typed_number(number, new.force)?)),
            },
            (None, Some(range), None, None) => self.range(range.trim_end_matches('*')),
            (None, None, Some(pattern), None) => {
                check_pattern(pattern).map_err(|message| invalid("pattern", &message))?;
                Ok(Target::Pattern(pattern.clone()))
            }
            (None, None, None, Some(pattern)) => {
                check_pattern(pattern).map_err(|message| invalid("caller_name", &message))?;
                Ok(Target::CallerName(pattern.clone()))
            }
            _ => Err(invalid("number", "give exactly one of a number, a range (prefix), a pattern or a caller name")),
        }
    }

    fn range(&self, typed: &str) -> Result<Target, ServiceError> {
        let prefix = self.settings.region.range_prefix(typed).map_err(|e| invalid("prefix", &e.to_string()))?;
        Ok(Target::Prefix(prefix))
    }

    fn typed_number(&self, text: &str, force: bool) -> Result<PhoneNumber, ServiceError> {
        PhoneNumber::parse_typed(text, self.settings.region, force)
            .map_err(|error: NumberError| invalid("number", &error.to_string()))
    }
}

/// The most digits taken as the end of a number rather than as a number of their own.
const MAX_LAST_DIGITS: usize = 6;

/// "0555" or "46 0555": fewer digits than a number with its area code ever has.
fn last_digits(text: &str) -> Option<String> {
    let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let few = (1..=MAX_LAST_DIGITS).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
    few.then_some(digits)
}

fn tidy_note(typed: Option<&str>) -> Result<Option<String>, ServiceError> {
    Ok(tidy("note", typed, MAX_NOTE)?)
}

/// A "do not call before" date is a promise about the future: one already past would lapse at once.
fn check_not_before(not_before: Option<Timestamp>, now: Timestamp) -> Result<(), ServiceError> {
    if not_before.is_some_and(|date| date <= now) {
        return Err(invalid("not_before", "the date must be in the future"));
    }
    Ok(())
}

fn invalid(field: &'static str, message: &str) -> ServiceError {
    ServiceError::Invalid { field, message: message.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    fn service() -> Service {
        Service::open(Arc::new(MemoryStore::default()), Arc::new(Settings::defaults())).unwrap()
    }

    fn new_decline(number: &str, company: Option<&str>) -> NewDecline {
        NewDecline { number: number.into(), company: company.map(str::to_owned), ..Default::default() }
    }

    #[tokio::test]
    async fn declining_again_keeps_the_first_date_and_updates_the_details() {
        let service = service();
        let first: Timestamp = "2026-11-03T10:00:00Z".parse().unwrap();
        let later: Timestamp = "2026-11-20T10:00:00Z".parse().unwrap();
        let saved = service.decline(new_decline("020 7946 0123", None), first).await.unwrap();
        assert!(saved.created);
        let again = service.decline(new_decline("+442079460123", Some("Everest")), later).await.unwrap();
        assert!(!again.created);
        assert_eq!(again.record.declined_at, first);
        assert_eq!(again.record.company.as_deref(), Some("Everest"));
        assert_eq!(service.declines().await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_company_written_differently_joins_the_existing_company() {
        let service = service();
        service.decline(new_decline("020 7946 0123", Some("Everest Windows")), Timestamp::UNIX_EPOCH).await.unwrap();
        let second =
            service.decline(new_decline("020 7946 0124", Some(" everest   WINDOWS")), Timestamp::UNIX_EPOCH).await;
        assert_eq!(second.unwrap().record.company.as_deref(), Some("Everest Windows"));
    }

    #[tokio::test]
    async fn a_bad_number_names_the_field_and_stores_nothing() {
        let service = service();
        let err = service.decline(new_decline("not a number", None), Timestamp::UNIX_EPOCH).await.unwrap_err();
        assert!(matches!(err, ServiceError::Invalid { field: "number", .. }), "{err}");
        assert!(service.declines().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn an_overlong_company_names_the_field_and_stores_nothing() {
        let service = service();
        let long = "x".repeat(MAX_COMPANY + 1);
        let err = service.decline(new_decline("02079460123", Some(&long)), Timestamp::UNIX_EPOCH).await.unwrap_err();
        assert!(matches!(err, ServiceError::Invalid { field: "company", .. }), "{err}");
        assert!(service.declines().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn removing_what_is_not_there_is_not_found() {
        assert!(matches!(service().remove_decline("02079460123").await, Err(ServiceError::NotFound(_))));
        assert!(matches!(service().remove_allow("02079460123").await, Err(ServiceError::NotFound(_))));
    }

    #[tokio::test]
    async fn check_previews_the_refusal_the_caller_would_hear() {
        let service = service();
        service.decline(new_decline("02079460123", Some("Everest Windows")), Timestamp::UNIX_EPOCH).await.unwrap();
        let preview = service.check(check("020 7946 0123"), Timestamp::UNIX_EPOCH).await.unwrap();
        assert_eq!(preview.decision, DecisionKind::Decline);
        assert!(preview.caller_hears.contains("Everest Windows"), "{}", preview.caller_hears);
        let other = service.check(check("020 7946 0999"), Timestamp::UNIX_EPOCH).await.unwrap();
        assert_eq!(other.decision, DecisionKind::Forward);
    }

    fn check(number: &str) -> CheckRequest {
        CheckRequest { number: Some(number.into()), ..Default::default() }
    }

    #[tokio::test]
    async fn a_range_is_typed_with_a_star_and_refuses_every_number_in_it() {
        let service = service();
        let saved =
            service.decline(new_decline("01632 9601*", Some("Rotating Ltd")), Timestamp::UNIX_EPOCH).await.unwrap();
        assert_eq!(saved.record.target, Target::Prefix("+4416329601".into()));
        let preview = service.check(check("+441632960123"), Timestamp::UNIX_EPOCH).await.unwrap();
        assert_eq!(preview.decision, DecisionKind::Decline);
        assert!(preview.reason.contains("Rotating Ltd (+4416329601*)"), "{}", preview.reason);
        service.remove_decline("+4416329601*").await.unwrap();
        assert_eq!(
            service.check(check("+441632960123"), Timestamp::UNIX_EPOCH).await.unwrap().decision,
            DecisionKind::Forward
        );
    }

    #[tokio::test]
    async fn a_pattern_is_compiled_at_once_and_a_bad_one_is_refused_with_the_regex_error() {
        let service = service();
        let bad = NewDecline { pattern: Some(r"\+234(".into()), ..Default::default() };
        let err = service.decline(bad, Timestamp::UNIX_EPOCH).await.unwrap_err();
        assert!(
            matches!(&err, ServiceError::Invalid { field: "pattern", message } if message.contains("unclosed")),
            "{err}"
        );
        assert!(service.declines().await.unwrap().is_empty());

        let good = NewDecline { pattern: Some(r"\+23480\d{8}".into()), ..Default::default() };
        service.decline(good, Timestamp::UNIX_EPOCH).await.unwrap();
        let preview = service.check(check("+2348012345678"), Timestamp::UNIX_EPOCH).await.unwrap();
        assert_eq!(preview.decision, DecisionKind::Decline);
        service.remove_decline(r"pattern:\+23480\d{8}").await.unwrap();
        assert_eq!(
            service.check(check("+2348012345678"), Timestamp::UNIX_EPOCH).await.unwrap().decision,
            DecisionKind::Forward
        );
    }

    #[tokio::test]
    async fn a_decline_covers_exactly_one_thing() {
        let both = NewDecline { number: "02079460123".into(), pattern: Some(".*".into()), ..Default::default() };
        assert!(matches!(service().decline(both, Timestamp::UNIX_EPOCH).await, Err(ServiceError::Invalid { .. })));
        assert!(matches!(
            service().decline(NewDecline::default(), Timestamp::UNIX_EPOCH).await,
            Err(ServiceError::Invalid { .. })
        ));
    }

    #[tokio::test]
    async fn a_not_before_date_must_lie_ahead_and_a_window_must_end_after_it_starts() {
        let now: Timestamp = "2026-11-24T12:00:00Z".parse().unwrap();
        let past = NewDecline {
            not_before: Some("2026-11-01T00:00:00Z".parse().unwrap()),
            ..new_decline("02079460123", None)
        };
        assert!(matches!(service().decline(past, now).await, Err(ServiceError::Invalid { field: "not_before", .. })));
        let backwards = NewAllow {
            number: "02079460123".into(),
            from: Some("2026-11-25T16:00:00Z".parse().unwrap()),
            until: Some("2026-11-25T14:00:00Z".parse().unwrap()),
            ..Default::default()
        };
        assert!(matches!(service().allow(backwards, now).await, Err(ServiceError::Invalid { field: "until", .. })));
    }

    #[tokio::test]
    async fn the_pause_switch_forwards_a_declined_number() {
        let service = service();
        service.decline(new_decline("02079460123", Some("Everest")), Timestamp::UNIX_EPOCH).await.unwrap();
        service.set_paused(true, Channel::CommandLine, Timestamp::UNIX_EPOCH).await.unwrap();
        let preview = service.check(check("02079460123"), Timestamp::UNIX_EPOCH).await.unwrap();
        assert_eq!(preview.decision, DecisionKind::Forward);
        assert!(service.paused().await.unwrap());
    }

    #[tokio::test]
    async fn a_withheld_preview_needs_no_number() {
        let preview = service()
            .check(CheckRequest { withheld: true, ..Default::default() }, Timestamp::UNIX_EPOCH)
            .await
            .unwrap();
        assert_eq!(preview.number, "withheld");
        assert!(service().check(CheckRequest::default(), Timestamp::UNIX_EPOCH).await.is_err());
    }

    #[tokio::test]
    async fn a_listing_limit_out_of_range_is_refused() {
        let err = service().calls(CallQuery { limit: 0, ..Default::default() }).await.unwrap_err();
        assert!(matches!(err, ServiceError::Invalid { field: "limit", .. }));
    }
}
