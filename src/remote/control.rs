//! The owner's texts carried out: each command becomes a service call and a short reply.

use std::sync::Arc;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::command::{self, Command, LISTED, ParseError, Whom};
use crate::config::Settings;
use crate::domain::{CallRecord, CallerId, Channel, DecisionKind, PhoneNumber, Target, TextChange, company_key};
use crate::service::{NewAllow, NewDecline, Saved, Service, ServiceError};
use crate::store::{CallQuery, Change, Store};

/// The answer to anything saidno does not understand. One SMS segment (160 GSM characters).
pub const HELP: &str = "NO [company]: decline last caller. NO 3 [company] or NO +44.. [company]. UNDO. \
                        ALLOW +44.. [for 2h|until 16:00]. LAST. STATUS.";

/// How far back `NO` looks for the last caller who rang through, and `LAST` for calls.
const RECENT_CALLS: usize = 50;
/// Company names are cut to this in listings, to keep a reply to one or two segments.
const SHORT_COMPANY: usize = 16;

pub struct Remote {
    service: Service,
    store: Arc<dyn Store>,
    settings: Arc<Settings>,
}

impl Remote {
    pub fn new(service: Service, store: Arc<dyn Store>, settings: Arc<Settings>) -> Self {
        Self { service, store, settings }
    }

    /// Carries out one text from the owner and returns the reply. Every failure is a reply too:
    /// the owner is on a phone, and an error page would never reach them.
    pub async fn handle(&self, owner: &PhoneNumber, body: &str, now: Timestamp) -> String {
        let command = match command::parse(body) {
            Ok(command) => command,
            Err(ParseError::Unknown) => return HELP.to_owned(),
            Err(ParseError::Malformed(message)) => return format!("{message} Nothing changed. HELP for commands."),
        };
        let result = match command {
            Command::Help => Ok(HELP.to_owned()),
            Command::Decline { target, company } => self.decline(owner, target, company, now).await,
            Command::Undo => self.undo(owner).await,
            Command::Allow { number, window } => self.allow(owner, &number, &window, now).await,
            Command::Last => self.last(owner, now).await,
            Command::Status => self.status(now).await,
        };
        result.unwrap_or_else(|error| match error {
            Failure::Refused(message) => format!("{message} Nothing changed."),
            Failure::Store(error) => {
                tracing::error!(%error, "a text command failed in the store");
                "Sorry, saidno could not reach its records; nothing changed. Try again shortly.".to_owned()
            }
        })
    }

    async fn decline(
        &self,
        owner: &PhoneNumber,
        target: Whom,
        company: Option<String>,
        now: Timestamp,
    ) -> Result<String, Failure> {
        let mut session = self.store.text_session(owner).await?;
        let mut on_call = None;
        let number = match target {
            Whom::Number(text) => text,
            Whom::Code(code) => match session.listed.get(usize::from(code) - 1) {
                Some(Some(number)) => number.to_string(),
                Some(None) => return Err(Failure::Refused(format!("Call {code} withheld its number."))),
                None => return Err(Failure::Refused(format!("No call {code}: send LAST first."))),
            },
            Whom::LastCaller => match self.last_forwarded().await? {
                Some((number, call)) => {
                    on_call = Some(call);
                    number.to_string()
                }
                None => return Err(Failure::Refused("No caller has rung through yet.".into())),
            },
        };
        // A number typed on a phone cannot carry --force; a plausible length is enough here.
        let parsed = PhoneNumber::parse_typed(&number, self.settings.region, true)
            .map_err(|error| Failure::Refused(format!("{error}.")))?;
        let new =
            NewDecline { number, company, force: true, channel: Some(Channel::Text), on_call, ..Default::default() };
        let Saved { record: saved, before, .. } = self.service.decline(new, now).await?;
        session.remember(TextChange::Declined { number: parsed.clone(), before });
        self.service.commit(Change::TextSession { owner: owner.clone(), session }).await?;
        let named = saved.company.as_deref().map(|company| format!(" ({company})")).unwrap_or_default();
        Ok(format!("Declined {parsed}{named}. Their next call hears your refusal. UNDO to revert."))
    }

    async fn undo(&self, owner: &PhoneNumber) -> Result<String, Failure> {
        let mut session = self.store.text_session(owner).await?;
        let Some(change) = session.changes.pop() else {
            return Err(Failure::Refused("Nothing to undo.".into()));
        };
        let reply = match change {
            TextChange::Declined { number, before } => {
                let was = if before.is_some() { "is declined as before" } else { "is no longer declined" };
                self.service.restore_decline(&Target::Number(number.clone()), before).await?;
                format!("Undone: {number} {was}.")
            }
            TextChange::Allowed { number, before } => {
                let was = if before.is_some() { "is allowed as before" } else { "is no longer allowed" };
                self.service.restore_allow(&number, before).await?;
                format!("Undone: {number} {was}.")
            }
        };
        self.service.commit(Change::TextSession { owner: owner.clone(), session }).await?;
        Ok(reply)
    }

    async fn allow(
        &self,
        owner: &PhoneNumber,
        number: &str,
        window: &command::Window,
        now: Timestamp,
    ) -> Result<String, Failure> {
        let time_zone = &self.settings.time_zone;
        let until = window.resolve(now, time_zone).map_err(Failure::Refused)?;
        // Parsed here for a reply worded for a phone; the service parses it again to save it.
        PhoneNumber::parse_typed(number, self.settings.region, true)
            .map_err(|error| Failure::Refused(format!("{error}.")))?;
        let mut session = self.store.text_session(owner).await?;
        let new = NewAllow { number: number.to_owned(), force: true, until, ..Default::default() };
        let Saved { record: saved, before, .. } = self.service.allow(new, now).await?;
        session.remember(TextChange::Allowed { number: saved.number.clone(), before });
        self.service.commit(Change::TextSession { owner: owner.clone(), session }).await?;
        let how_long = match until {
            Some(until) => format!("until {}", clock(until, now, time_zone)),
            None => "always".to_owned(),
        };
        Ok(format!("{} rings through {how_long}. UNDO to revert.", saved.number))
    }

    async fn last(&self, owner: &PhoneNumber, now: Timestamp) -> Result<String, Failure> {
        let calls = self.store.calls(&CallQuery { limit: usize::from(LISTED), ..Default::default() }).await?;
        if calls.is_empty() {
            return Ok("No calls yet.".to_owned());
        }
        let mut session = self.store.text_session(owner).await?;
        session.listed = calls.iter().map(|call| CallerId::from_text(&call.from).number().cloned()).collect();
        self.service.commit(Change::TextSession { owner: owner.clone(), session }).await?;
        let lines: Vec<String> =
            calls.iter().enumerate().map(|(index, call)| listing_line(index + 1, call, now, &self.settings)).collect();
        Ok(format!("{}\nNO <code> [company] declines it.", lines.join("\n")))
    }

    async fn status(&self, now: Timestamp) -> Result<String, Failure> {
        let time_zone = &self.settings.time_zone;
        let midnight =
            now.to_zoned_datetime(time_zone.clone()).start_of_day().map_err(|e| Failure::Refused(e.to_string()))?;
        let today = self
            .store
            .calls(&CallQuery { since: Some(midnight.timestamp()), limit: 100_000, ..Default::default() })
            .await?;
        let refused = today.iter().filter(|call| call.is_refusal()).count();
        let mut reply = format!("Today: {}, {refused} refused.", counted(today.len(), "call"));
        if let Some((name, count, since)) = self.top_offender().await? {
            reply.push_str(&format!(
                " Most persistent: {name}, {} since you said no on {}.",
                counted(count as usize, "call"),
                since.to_zoned_datetime(time_zone.clone()).strftime("%-d %b")
            ));
        }
        Ok(reply)
    }

    /// The declined party that has called back most often since being told no.
    async fn top_offender(&self) -> Result<Option<(String, u32, Timestamp)>, Failure> {
        let mut best: Option<(String, u32, Timestamp)> = None;
        let mut seen = std::collections::HashSet::new();
        for decline in self.store.declines().await? {
            let party = decline.party();
            if !seen.insert(party.clone()) {
                continue;
            }
            let count = self.store.follow_ups(&party).await?.count;
            if count > 0 && best.as_ref().is_none_or(|(_, most, _)| count > *most) {
                let name = match &decline.company {
                    Some(company) => self.store.company_name(&company_key(company)).await?.unwrap_or(company.clone()),
                    None => decline.target.to_string(),
                };
                best = Some((name, count, decline.declined_at));
            }
        }
        Ok(best)
    }

    /// The number of the last caller who rang through, and that call's id.
    async fn last_forwarded(&self) -> Result<Option<(PhoneNumber, String)>, Failure> {
        let calls = self.store.calls(&CallQuery { limit: RECENT_CALLS, ..Default::default() }).await?;
        Ok(calls.iter().filter(|call| rang_through(call)).find_map(|call| {
            CallerId::from_text(&call.from).number().map(|number| (number.clone(), call.call_id.clone()))
        }))
    }
}

/// Whether the call rang the owner's phones: forwarded, or screened and put through.
fn rang_through(call: &CallRecord) -> bool {
    match call.decision {
        DecisionKind::Forward => true,
        DecisionKind::Screen => call.outcome.as_ref().and_then(|o| o.screening.as_deref()) == Some("passed"),
        DecisionKind::Decline | DecisionKind::Closed => false,
    }
}

/// "2 14:02 +442079460123 Everest Windo refused".
fn listing_line(code: usize, call: &CallRecord, now: Timestamp, settings: &Settings) -> String {
    let what = match call.decision {
        DecisionKind::Decline => "refused",
        DecisionKind::Screen => "screened",
        DecisionKind::Closed => "closed",
        DecisionKind::Forward => match call.outcome.as_ref().and_then(|o| o.status.as_deref()) {
            Some("declined") => "declined",
            Some("answered") => "answered",
            Some(_) => "missed",
            None => "rang",
        },
    };
    let company = call.company.as_deref().or(call.caller_name.as_deref()).map(|company| {
        let short: String = company.chars().take(SHORT_COMPANY).collect();
        format!(" {short}")
    });
    format!("{code} {} {}{} {what}", clock(call.at, now, &settings.time_zone), call.from, company.unwrap_or_default())
}

/// "1 call", "4 calls".
fn counted(count: usize, thing: &str) -> String {
    if count == 1 { format!("1 {thing}") } else { format!("{count} {thing}s") }
}

/// "14:02" today, "26 Nov 14:02" on another day.
fn clock(at: Timestamp, now: Timestamp, time_zone: &TimeZone) -> String {
    let zoned = at.to_zoned_datetime(time_zone.clone());
    if zoned.date() == now.to_zoned_datetime(time_zone.clone()).date() {
        zoned.strftime("%H:%M").to_string()
    } else {
        zoned.strftime("%-d %b %H:%M").to_string()
    }
}

enum Failure {
    /// The command cannot be carried out as written; the message says why.
    Refused(String),
    Store(crate::store::StoreError),
}

impl From<crate::store::StoreError> for Failure {
    fn from(error: crate::store::StoreError) -> Self {
        Self::Store(error)
    }
}

impl From<ServiceError> for Failure {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Invalid { message, .. } => Self::Refused(format!("{message}.")),
            ServiceError::Rejected(rows) => Self::Refused(format!("{} row(s) are not valid.", rows.len())),
            ServiceError::NotFound(message) => Self::Refused(message),
            ServiceError::Store(error) => Self::Store(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    #[tokio::test]
    async fn the_help_text_fits_one_sms_segment() {
        assert!(HELP.len() <= 160, "{} characters", HELP.len());
        assert!(HELP.is_ascii());
    }

    #[tokio::test]
    async fn a_text_change_is_undone_in_reverse_order() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::default());
        let settings = Arc::new(Settings::defaults());
        let remote = Remote::new(Service::open(store.clone(), settings.clone()).unwrap(), store.clone(), settings);
        let owner = PhoneNumber::from_e164("+447700900123").unwrap();
        let now = Timestamp::UNIX_EPOCH;
        let number = PhoneNumber::from_e164("+442079460123").unwrap();
        remote.handle(&owner, "NO +442079460123 Everest", now).await;
        remote.handle(&owner, "NO +442079460123 Everest Windows", now).await;
        let company = async || store.decline(&Target::Number(number.clone())).await.unwrap().and_then(|d| d.company);
        assert_eq!(company().await.as_deref(), Some("Everest Windows"));
        assert!(remote.handle(&owner, "UNDO", now).await.contains("as before"));
        assert_eq!(company().await.as_deref(), Some("Everest"));
        assert!(remote.handle(&owner, "undo", now).await.contains("no longer declined"));
        assert_eq!(company().await, None);
        assert_eq!(remote.handle(&owner, "UNDO", now).await, "Nothing to undo. Nothing changed.");
    }
}
