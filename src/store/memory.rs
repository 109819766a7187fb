//! An in-memory store for unit tests and for the fail-open path's tests: same contract, no disk.

use std::collections::{BTreeMap, HashMap};
use std::sync::RwLock;

use super::{CallQuery, Store, StoreError};
use crate::domain::{
    Allow, CallRecord, Decline, FollowUps, ForwardOutcome, PhoneNumber, Target, TextSession, company_key,
};

#[derive(Default)]
pub struct MemoryStore {
    inner: RwLock<Inner>,
}

#[derive(Default)]
struct Inner {
    declines: BTreeMap<String, Decline>,
    paused: bool,
    allows: BTreeMap<PhoneNumber, Allow>,
    companies: BTreeMap<String, String>,
    follow_ups: HashMap<String, FollowUps>,
    /// Keyed like the real store: time, then arrival order.
    calls: BTreeMap<(i64, u64), CallRecord>,
    next_call: u64,
    text_sessions: HashMap<PhoneNumber, TextSession>,
}

impl MemoryStore {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Store for MemoryStore {
    fn decline(&self, target: &Target) -> Result<Option<Decline>, StoreError> {
        Ok(self.read().declines.get(&target.key()).cloned())
    }

    fn allow_of(&self, number: &PhoneNumber) -> Result<Option<Allow>, StoreError> {
        Ok(self.read().allows.get(number).cloned())
    }

    fn save_decline(&self, decline: &Decline) -> Result<(), StoreError> {
        let mut inner = self.write();
        if let Some(company) = &decline.company {
            inner.companies.entry(company_key(company)).or_insert_with(|| company.clone());
        }
        inner.declines.insert(decline.target.key(), decline.clone());
        Ok(())
    }

    fn remove_decline(&self, target: &Target) -> Result<Option<Decline>, StoreError> {
        Ok(self.write().declines.remove(&target.key()))
    }

    fn declines(&self) -> Result<Vec<Decline>, StoreError> {
        Ok(self.read().declines.values().cloned().collect())
    }

    fn rules(&self) -> Result<Vec<Decline>, StoreError> {
        Ok(self.read().declines.values().filter(|d| d.target.number().is_none()).cloned().collect())
    }

    fn company_name(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self.read().companies.get(key).cloned())
    }

    fn follow_ups(&self, party: &str) -> Result<FollowUps, StoreError> {
        Ok(self.read().follow_ups.get(party).cloned().unwrap_or_default())
    }

    fn save_allow(&self, allow: &Allow) -> Result<(), StoreError> {
        self.write().allows.insert(allow.number.clone(), allow.clone());
        Ok(())
    }

    fn remove_allow(&self, number: &PhoneNumber) -> Result<Option<Allow>, StoreError> {
        Ok(self.write().allows.remove(number))
    }

    fn allows(&self) -> Result<Vec<Allow>, StoreError> {
        Ok(self.read().allows.values().cloned().collect())
    }

    fn paused(&self) -> Result<bool, StoreError> {
        Ok(self.read().paused)
    }

    fn set_paused(&self, paused: bool) -> Result<(), StoreError> {
        self.write().paused = paused;
        Ok(())
    }

    fn append_calls(&self, calls: &[CallRecord]) -> Result<(), StoreError> {
        let mut inner = self.write();
        for call in calls {
            let mut call = call.clone();
            if call.used_single_allow
                && let Some(allow) = PhoneNumber::from_e164(&call.from).and_then(|n| inner.allows.get_mut(&n))
            {
                allow.used_at.get_or_insert(call.at);
            }
            if let Some(party) = call.party.clone().filter(|_| call.is_refusal()) {
                let follow_ups = inner.follow_ups.entry(party).or_default();
                follow_ups.record(call.at);
                call.follow_up = Some(follow_ups.count);
            }
            inner.next_call += 1;
            let key = (call.at.as_microsecond(), inner.next_call);
            inner.calls.insert(key, call);
        }
        Ok(())
    }

    fn attach_outcome(&self, call_sid: &str, outcome: ForwardOutcome) -> Result<bool, StoreError> {
        let mut inner = self.write();
        let Some(call) = inner.calls.values_mut().rev().find(|call| call.call_sid == call_sid) else {
            return Ok(false);
        };
        call.outcome.get_or_insert_with(ForwardOutcome::default).merge(outcome);
        Ok(true)
    }

    fn calls(&self, query: &CallQuery) -> Result<Vec<CallRecord>, StoreError> {
        let since = query.since.map_or(i64::MIN, |since| since.as_microsecond());
        Ok(self
            .read()
            .calls
            .iter()
            .rev()
            .take_while(|((at, _), _)| *at >= since)
            .map(|(_, call)| call)
            .filter(|call| !query.declined_only || call.is_refusal())
            .take(query.limit)
            .cloned()
            .collect())
    }

    fn text_session(&self, owner: &PhoneNumber) -> Result<TextSession, StoreError> {
        Ok(self.read().text_sessions.get(owner).cloned().unwrap_or_default())
    }

    fn save_text_session(&self, owner: &PhoneNumber, session: &TextSession) -> Result<(), StoreError> {
        self.write().text_sessions.insert(owner.clone(), session.clone());
        Ok(())
    }

    fn probe(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
