//! An in-memory store for unit tests and for the fail-open path's tests: same contract, no disk.

use std::collections::{BTreeMap, HashMap};
use std::sync::RwLock;

use jiff::Timestamp;

use super::query::PageFill;
use super::{
    Answer, Archive, CallFacts, CallHistory, CallPage, CallQuery, CallSink, Change, Cursor, HourTally, Keep,
    OwnerRecord, PendingDecisions, Pruned, Publish, Removed, RepeatCaller, SCAN_BUDGET, StoreError, ready,
};
use crate::domain::{
    Allow, BusinessId, CallRecord, DecisionKind, Decline, FollowUps, ForwardOutcome, LegalHold, OwnerDecision,
    PhoneNumber, SettingChange, SignedIn, Target, TextSession, WebChange, company_key,
};

#[derive(Default)]
pub struct MemoryStore {
    inner: RwLock<Inner>,
    pending: PendingDecisions,
}

#[derive(Default)]
struct Inner {
    declines: BTreeMap<String, Decline>,
    paused: bool,
    pause_changed: Option<SettingChange>,
    owner_choices: crate::config::OwnerChoices,
    allows: BTreeMap<PhoneNumber, Allow>,
    companies: BTreeMap<String, String>,
    follow_ups: HashMap<String, FollowUps>,
    /// Keyed like the real store: time, then arrival order.
    calls: BTreeMap<Cursor, CallRecord>,
    next_call: u64,
    password_hash: Option<String>,
    text_sessions: HashMap<PhoneNumber, TextSession>,
    web_changes: Vec<WebChange>,
    signed_in: Vec<SignedIn>,
    legal_holds: BTreeMap<String, LegalHold>,
}

impl Inner {
    fn put_decline(&mut self, decline: Decline) {
        if let Some(company) = &decline.company {
            self.companies.entry(company_key(company)).or_insert_with(|| company.clone());
        }
        self.declines.insert(decline.target.key(), decline);
    }

    fn put_allow(&mut self, allow: &Allow) {
        self.allows.insert(allow.number.clone(), allow.clone());
    }
}

impl MemoryStore {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl OwnerRecord for MemoryStore {
    fn decline(&self, target: &Target) -> Answer<'_, Option<Decline>> {
        ready(Ok(self.read().declines.get(&target.key()).cloned()))
    }

    fn allow_of(&self, number: &PhoneNumber) -> Answer<'_, Option<Allow>> {
        ready(Ok(self.read().allows.get(number).cloned()))
    }

    fn declines(&self) -> Answer<'_, Vec<Decline>> {
        ready(Ok(self.read().declines.values().cloned().collect()))
    }

    fn rules(&self) -> Answer<'_, Vec<Decline>> {
        ready(Ok(self.read().declines.values().filter(|d| d.target.number().is_none()).cloned().collect()))
    }

    fn company_name(&self, key: &str) -> Answer<'_, Option<String>> {
        ready(Ok(self.read().companies.get(key).cloned()))
    }

    fn allows(&self) -> Answer<'_, Vec<Allow>> {
        ready(Ok(self.read().allows.values().cloned().collect()))
    }

    fn paused(&self) -> Answer<'_, bool> {
        ready(Ok(self.read().paused))
    }

    fn pause_changed(&self) -> Answer<'_, Option<SettingChange>> {
        ready(Ok(self.read().pause_changed))
    }

    fn owner_choices(&self) -> Answer<'_, crate::config::OwnerChoices> {
        ready(Ok(self.read().owner_choices.clone()))
    }

    fn legal_holds(&self) -> Answer<'_, Vec<LegalHold>> {
        ready(Ok(self.read().legal_holds.values().cloned().collect()))
    }

    fn password_hash(&self) -> Answer<'_, Option<String>> {
        ready(Ok(self.read().password_hash.clone()))
    }

    fn text_session(&self, owner: &PhoneNumber) -> Answer<'_, TextSession> {
        ready(Ok(self.read().text_sessions.get(owner).cloned().unwrap_or_default()))
    }

    fn web_changes(&self) -> Answer<'_, Vec<WebChange>> {
        ready(Ok(self.read().web_changes.clone()))
    }

    fn signed_in(&self) -> Answer<'_, Vec<SignedIn>> {
        ready(Ok(self.read().signed_in.clone()))
    }

    fn apply(&self, change: Change, publish: Publish) -> Answer<'_, Removed> {
        Box::pin(async move { self.apply_blocking(change, publish) })
    }

    /// The one place a change is made here: under the write lock, which it still holds while the
    /// change is published, so changes are published in the order they were made.
    fn apply_blocking(&self, change: Change, publish: Publish) -> Result<Removed, StoreError> {
        let inner = self.write();
        Ok(self.make(inner, change, publish, false).unwrap_or_default())
    }

    fn spend_allow(&self, spent: Allow, publish: Publish) -> Result<bool, StoreError> {
        Ok(self.make(self.write(), Change::Allow(spent), publish, true).is_some())
    }

    fn probe(&self) -> Answer<'_, ()> {
        ready(Ok(()))
    }
}

impl MemoryStore {
    /// `apply_blocking`, holding `inner`; with `only_unspent`, an allow is saved only over one
    /// still unspent (`None` when it is not).
    fn make(
        &self,
        mut inner: std::sync::RwLockWriteGuard<'_, Inner>,
        change: Change,
        publish: Publish,
        only_unspent: bool,
    ) -> Option<Removed> {
        let removed = match &change {
            Change::Decline(decline) => {
                inner.put_decline(decline.clone());
                Removed::Nothing
            }
            Change::Declines(declines) => {
                declines.declines().for_each(|decline| inner.put_decline(decline));
                Removed::Nothing
            }
            Change::RemoveDecline(target) => match inner.declines.remove(&target.key()) {
                Some(decline) => Removed::Decline(decline),
                None => return Some(Removed::Nothing),
            },
            Change::Allow(allow) => {
                if only_unspent && inner.allows.get(&allow.number).is_none_or(|kept| kept.used_at.is_some()) {
                    return None;
                }
                inner.put_allow(allow);
                Removed::Nothing
            }
            Change::Allows(allows) => {
                allows.iter().for_each(|allow| inner.put_allow(allow));
                Removed::Nothing
            }
            Change::RemoveAllow(number) => match inner.allows.remove(number) {
                Some(allow) => Removed::Allow(allow),
                None => return Some(Removed::Nothing),
            },
            Change::Paused { paused, changed } => {
                inner.paused = *paused;
                inner.pause_changed = Some(*changed);
                Removed::Nothing
            }
            Change::Setting(state) => {
                inner.owner_choices.put(state);
                Removed::Nothing
            }
            Change::LegalHold { party, since: Some(since) } => {
                inner.legal_holds.insert(party.clone(), LegalHold { party: party.clone(), since: *since });
                Removed::Nothing
            }
            Change::LegalHold { party, since: None } => {
                inner.legal_holds.remove(party);
                Removed::Nothing
            }
            Change::PasswordHash(hash) => {
                inner.password_hash = Some(hash.clone());
                Removed::Nothing
            }
            Change::TextSession { owner, session } => {
                inner.text_sessions.insert(owner.clone(), session.clone());
                Removed::Nothing
            }
            Change::WebChanges(changes) => {
                inner.web_changes = changes.clone();
                Removed::Nothing
            }
            Change::SignIn { .. } | Change::SignOut { .. } => {
                let browsers = std::mem::take(&mut inner.signed_in);
                inner.signed_in = change.signed_in_after(browsers).unwrap_or_default();
                Removed::Nothing
            }
        };
        publish.published(&change);
        Some(removed)
    }
}

impl CallSink for MemoryStore {
    fn append_calls(&self, calls: &[CallRecord]) -> Result<(), StoreError> {
        let mut inner = self.write();
        for call in calls {
            if let (Some(party), Some(follow_up)) = (&call.party, call.follow_up.filter(|_| call.is_refusal())) {
                inner.follow_ups.entry(party.clone()).or_default().numbered(follow_up, call.at);
            }
            inner.next_call += 1;
            let key = Cursor::new(call.at, inner.next_call);
            inner.calls.insert(key, call.clone());
        }
        Ok(())
    }

    fn attach_outcomes(&self, outcomes: &[(BusinessId, String, ForwardOutcome)]) -> Result<Vec<bool>, StoreError> {
        let mut inner = self.write();
        let attached = outcomes.iter().map(|(_, call_id, outcome)| {
            let Some(call) = inner.calls.values_mut().rev().find(|call| &call.call_id == call_id) else {
                return false;
            };
            call.outcome.get_or_insert_with(ForwardOutcome::default).merge(outcome.clone());
            true
        });
        Ok(attached.collect())
    }

    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

impl CallHistory for MemoryStore {
    fn call_page(&self, query: &CallQuery) -> Answer<'_, CallPage> {
        ready(Ok(self.page(query)))
    }

    fn call_tallies(&self, since: Timestamp, until: Timestamp) -> Answer<'_, Vec<HourTally>> {
        ready(Ok(self.tallies(since, until)))
    }

    fn follow_ups(&self, party: &str) -> Answer<'_, FollowUps> {
        ready(Ok(self.read().follow_ups.get(party).cloned().unwrap_or_default()))
    }

    fn calls_after_no(&self, since: Timestamp, until: Timestamp) -> Answer<'_, u64> {
        let inner = self.read();
        let after_no = inner
            .calls
            .range(Cursor::at(since)..Cursor::at(until))
            .filter(|(_, call)| call.is_refusal() && call.party.is_some() && call.follow_up.is_some());
        ready(Ok(after_no.count() as u64))
    }

    fn follow_up_counts(&self) -> Answer<'_, Vec<(String, FollowUps)>> {
        ready(Ok(self.read().follow_ups.iter().map(|(party, counts)| (party.clone(), counts.clone())).collect()))
    }

    fn repeat_callers(&self, since: Timestamp, min_calls: u32, limit: usize) -> Answer<'_, Vec<RepeatCaller>> {
        ready(Ok(self.repeated(since, min_calls, limit)))
    }

    fn prune_calls(&self, before: Timestamp, keep: Keep, after: Option<Cursor>, budget: usize) -> Answer<'_, Pruned> {
        ready(Ok(self.prune(before, &keep, after, budget)))
    }
}

impl MemoryStore {
    fn page(&self, query: &CallQuery) -> CallPage {
        let lower = query.since.map_or(Cursor([0; 16]), Cursor::at);
        let mut upper = query.until.map_or(Cursor([0xff; 16]), Cursor::at);
        if let Some(before) = query.before {
            upper = upper.min(before);
        }
        let mut fill = PageFill::new(query);
        if lower >= upper {
            return fill.page();
        }
        // No indexes here, so every call in the range counts against the budget.
        for (position, call) in self.read().calls.range(lower..upper).rev() {
            if !fill.take(*position, call) {
                break;
            }
        }
        fill.page()
    }

    fn tallies(&self, since: Timestamp, until: Timestamp) -> Vec<HourTally> {
        let mut hours: BTreeMap<i64, HourTally> = BTreeMap::new();
        for call in self.read().calls.values() {
            let hour = call.at.as_second().div_euclid(3600);
            // Every hour that begins before `until`, as the sled store counts them.
            if hour < since.as_second().div_euclid(3600)
                || hour * 3600 >= until.as_second() + i64::from(until.subsec_nanosecond() > 0)
            {
                continue;
            }
            hours.entry(hour).or_default().count(call.decision);
        }
        hours
            .into_iter()
            .map(|(hour, tally)| HourTally { hour: Timestamp::from_second(hour * 3600).unwrap_or_default(), ..tally })
            .collect()
    }

    fn repeated(&self, since: Timestamp, min_calls: u32, limit: usize) -> Vec<RepeatCaller> {
        let inner = self.read();
        let mut by_number: HashMap<&str, RepeatCaller> = HashMap::new();
        let newest = inner.calls.range(Cursor::at(since)..).rev().take(SCAN_BUDGET).map(|(_, call)| call);
        for call in newest.filter(|call| call.decision != DecisionKind::Decline && call.from.starts_with('+')) {
            let seen = by_number.entry(&call.from).or_insert_with(|| RepeatCaller {
                number: call.from.clone(),
                calls: 0,
                first_at: call.at,
                last_at: call.at,
            });
            seen.calls += 1;
            seen.first_at = seen.first_at.min(call.at);
            seen.last_at = seen.last_at.max(call.at);
        }
        let mut repeated: Vec<RepeatCaller> = by_number.into_values().filter(|seen| seen.calls >= min_calls).collect();
        repeated.sort_by(|a, b| b.calls.cmp(&a.calls).then(b.last_at.cmp(&a.last_at)));
        repeated.truncate(limit);
        repeated
    }

    /// Tallies are counted from the calls here, so pruning the calls prunes them too.
    fn prune(&self, before: Timestamp, keep: &Keep, after: Option<Cursor>, budget: usize) -> Pruned {
        use std::ops::Bound;
        let mut inner = self.write();
        let lower = after.map_or(Bound::Unbounded, Bound::Excluded);
        let mut pruned = Pruned::default();
        let mut doomed = Vec::new();
        for (looked_at, (position, call)) in inner.calls.range((lower, Bound::Excluded(Cursor::at(before)))).enumerate()
        {
            if keep(call) {
                pruned.kept += 1;
            } else {
                doomed.push(*position);
            }
            if looked_at + 1 >= budget {
                pruned.next = Some(*position);
                break;
            }
        }
        for position in doomed {
            inner.calls.remove(&position);
            pruned.calls += 1;
        }
        pruned
    }
}

impl Archive for MemoryStore {}

/// Kept in memory, as the store is.
impl CallFacts for MemoryStore {
    fn hold_owner_decision(&self, call_id: &str, decision: OwnerDecision) -> Answer<'_, ()> {
        self.pending.put(call_id, decision);
        ready(Ok(()))
    }

    fn take_owner_decision(&self, call_id: &str) -> Answer<'_, Option<OwnerDecision>> {
        ready(Ok(self.pending.take(call_id)))
    }
}
