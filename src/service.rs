//! What the owner can do to the records, in one place: the admin API and the command line's
//! offline mode both call these, so the rules are the same whichever way a change arrives.

mod companies;
mod dashboard;
mod password;
mod transfer;

pub use companies::{Attempt, CompanySummary, CompanyTimeline};
pub use dashboard::{Dashboard, DayTotals, Totals};
pub use transfer::{Format, ImportReport, RowProblem};

use std::sync::Arc;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::config::Settings;
use crate::domain::text::{TextTooLong, tidy};
use crate::domain::{
    Allow, CallRecord, CallerId, Channel, DecisionKind, Decline, FollowUps, IncomingCall, NumberError, PhoneNumber,
    RefusalMode, company_key,
};
use crate::policy;
use crate::speech::caller_hears;
use crate::store::{CallPage, CallQuery, Store, StoreError};

const MAX_COMPANY: usize = 120;
const MAX_NOTE: usize = 1000;
const MAX_NAME: usize = 120;
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

#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewDecline {
    pub number: String,
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
}

/// What would happen to a call, without a call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Preview {
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
}

impl Service {
    pub fn new(store: Arc<dyn Store>, settings: Arc<Settings>) -> Self {
        Self { store, settings }
    }

    pub fn decline(&self, new: NewDecline, now: Timestamp) -> Result<Saved<Decline>, ServiceError> {
        let number = self.typed_number(&new.number, new.force)?;
        let company = match tidy("company", new.company.as_deref(), MAX_COMPANY)? {
            // An existing company is joined under the name it was first given.
            Some(name) => Some(self.store.company_name(&company_key(&name))?.unwrap_or(name)),
            None => None,
        };
        let note = tidy("note", new.note.as_deref(), MAX_NOTE)?;
        let declined_by = tidy("declined_by", new.declined_by.as_deref(), MAX_NAME)?
            .or_else(|| self.settings.declined_by().map(str::to_owned));
        let existing = self.store.records_for(&number)?.decline;
        let created = existing.is_none();
        // Saying no again keeps the date it was first said: that date is the evidence.
        let decline = match existing {
            Some(old) => Decline {
                company: company.or(old.company),
                note: note.or(old.note),
                mode: new.mode.or(old.mode),
                declined_by: old.declined_by.or(declined_by),
                ..old
            },
            None => Decline {
                number,
                company,
                note,
                declined_at: now,
                declined_by,
                channel: new.channel.unwrap_or(Channel::Api),
                mode: new.mode,
            },
        };
        self.store.save_decline(&decline)?;
        Ok(Saved { record: decline, created })
    }

    pub fn remove_decline(&self, number: &str) -> Result<Decline, ServiceError> {
        let number = self.typed_number(number, true)?;
        self.store.remove_decline(&number)?.ok_or_else(|| ServiceError::NotFound(format!("{number} is not declined")))
    }

    pub fn declines(&self) -> Result<Vec<Decline>, ServiceError> {
        Ok(self.store.declines()?)
    }

    /// The declines with how often their company (or number) has called since, by company then number.
    pub fn decline_list(&self) -> Result<Vec<DeclineEntry>, ServiceError> {
        let mut declines = self.store.declines()?;
        declines.sort_by_key(|decline| (decline.party(), decline.number.clone()));
        declines
            .into_iter()
            .map(|decline| Ok(DeclineEntry { follow_ups: self.store.follow_ups(&decline.party())?, decline }))
            .collect()
    }

    pub fn allow(&self, new: NewAllow, now: Timestamp) -> Result<Saved<Allow>, ServiceError> {
        let number = self.typed_number(&new.number, new.force)?;
        let name = tidy("name", new.name.as_deref(), MAX_NAME)?;
        let existing = self.store.records_for(&number)?.allow;
        let created = existing.is_none();
        let allow = match existing {
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
        self.store.save_allow(&allow)?;
        Ok(Saved { record: allow, created })
    }

    pub fn remove_allow(&self, number: &str) -> Result<Allow, ServiceError> {
        let number = self.typed_number(number, true)?;
        self.store
            .remove_allow(&number)?
            .ok_or_else(|| ServiceError::NotFound(format!("{number} is not on the allow list")))
    }

    pub fn allows(&self) -> Result<Vec<Allow>, ServiceError> {
        Ok(self.store.allows()?)
    }

    pub fn calls(&self, query: CallQuery) -> Result<Vec<CallRecord>, ServiceError> {
        Ok(self.call_page(query)?.calls)
    }

    /// One page of the log, newest first, with the cursor of the next page if there is more.
    pub fn call_page(&self, mut query: CallQuery) -> Result<CallPage, ServiceError> {
        if query.limit == 0 || query.limit > MAX_LIMIT {
            return Err(ServiceError::Invalid {
                field: "limit",
                message: format!("must be between 1 and {MAX_LIMIT}"),
            });
        }
        if let (Some(since), Some(until)) = (query.since, query.until)
            && since > until
        {
            return Err(ServiceError::Invalid { field: "until", message: "must not be before since".into() });
        }
        // A number filter takes the number as typed, like every other command.
        if let Some(number) = query.number.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            query.number = Some(match number {
                "withheld" => number.to_owned(),
                _ => self.typed_number(number, true)?.to_string(),
            });
        } else {
            query.number = None;
        }
        query.search = query.search.filter(|words| !words.trim().is_empty());
        query.company = query.company.filter(|company| !company.trim().is_empty());
        Ok(self.store.call_page(&query)?)
    }

    /// Every call that matches, page after page: for exports, which want the whole range.
    pub fn all_calls(&self, mut query: CallQuery) -> Result<Vec<CallRecord>, ServiceError> {
        query.limit = MAX_LIMIT;
        let mut calls = Vec::new();
        loop {
            let page = self.call_page(query.clone())?;
            calls.extend(page.calls);
            match page.next {
                Some(next) => query.before = Some(next),
                None => return Ok(calls),
            }
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Runs the webhook's own decision for a call from `number` at `now`.
    pub fn check(&self, number: &str, now: Timestamp) -> Result<Preview, ServiceError> {
        let number = self.typed_number(number, true)?;
        let records = self.store.records_for(&number)?;
        let call = IncomingCall {
            call_sid: "preview".into(),
            from: CallerId::Number(number.clone()),
            to: String::new(),
            caller_name: None,
            verstat: None,
        };
        let decision = policy::decide(&call, &records, now, &self.settings);
        let caller_hears = caller_hears(&decision, records.follow_ups.count, &self.settings);
        Ok(Preview { number: number.to_string(), decision: decision.kind(), reason: decision.reason, caller_hears })
    }

    fn typed_number(&self, text: &str, force: bool) -> Result<PhoneNumber, ServiceError> {
        PhoneNumber::parse_typed(text, self.settings.region, force)
            .map_err(|error: NumberError| ServiceError::Invalid { field: "number", message: error.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    fn service() -> Service {
        Service::new(Arc::new(MemoryStore::default()), Arc::new(Settings::defaults()))
    }

    fn new_decline(number: &str, company: Option<&str>) -> NewDecline {
        NewDecline { number: number.into(), company: company.map(str::to_owned), ..Default::default() }
    }

    #[test]
    fn declining_again_keeps_the_first_date_and_updates_the_details() {
        let service = service();
        let first: Timestamp = "2026-11-03T10:00:00Z".parse().unwrap();
        let later: Timestamp = "2026-11-20T10:00:00Z".parse().unwrap();
        let saved = service.decline(new_decline("020 7946 0123", None), first).unwrap();
        assert!(saved.created);
        let again = service.decline(new_decline("+442079460123", Some("Everest")), later).unwrap();
        assert!(!again.created);
        assert_eq!(again.record.declined_at, first);
        assert_eq!(again.record.company.as_deref(), Some("Everest"));
        assert_eq!(service.declines().unwrap().len(), 1);
    }

    #[test]
    fn a_company_written_differently_joins_the_existing_company() {
        let service = service();
        service.decline(new_decline("020 7946 0123", Some("Everest Windows")), Timestamp::UNIX_EPOCH).unwrap();
        let second = service.decline(new_decline("020 7946 0124", Some(" everest   WINDOWS")), Timestamp::UNIX_EPOCH);
        assert_eq!(second.unwrap().record.company.as_deref(), Some("Everest Windows"));
    }

    #[test]
    fn a_bad_number_names_the_field_and_stores_nothing() {
        let service = service();
        let err = service.decline(new_decline("not a number", None), Timestamp::UNIX_EPOCH).unwrap_err();
        assert!(matches!(err, ServiceError::Invalid { field: "number", .. }), "{err}");
        assert!(service.declines().unwrap().is_empty());
    }

    #[test]
    fn an_overlong_company_names_the_field_and_stores_nothing() {
        let service = service();
        let long = "x".repeat(MAX_COMPANY + 1);
        let err = service.decline(new_decline("02079460123", Some(&long)), Timestamp::UNIX_EPOCH).unwrap_err();
        assert!(matches!(err, ServiceError::Invalid { field: "company", .. }), "{err}");
        assert!(service.declines().unwrap().is_empty());
    }

    #[test]
    fn removing_what_is_not_there_is_not_found() {
        assert!(matches!(service().remove_decline("02079460123"), Err(ServiceError::NotFound(_))));
        assert!(matches!(service().remove_allow("02079460123"), Err(ServiceError::NotFound(_))));
    }

    #[test]
    fn check_previews_the_refusal_the_caller_would_hear() {
        let service = service();
        service.decline(new_decline("02079460123", Some("Everest Windows")), Timestamp::UNIX_EPOCH).unwrap();
        let preview = service.check("020 7946 0123", Timestamp::UNIX_EPOCH).unwrap();
        assert_eq!(preview.decision, DecisionKind::Decline);
        assert!(preview.caller_hears.contains("Everest Windows"), "{}", preview.caller_hears);
        let other = service.check("020 7946 0999", Timestamp::UNIX_EPOCH).unwrap();
        assert_eq!(other.decision, DecisionKind::Forward);
    }

    #[test]
    fn a_listing_limit_out_of_range_is_refused() {
        let err = service().calls(CallQuery { limit: 0, ..Default::default() }).unwrap_err();
        assert!(matches!(err, ServiceError::Invalid { field: "limit", .. }));
    }
}
