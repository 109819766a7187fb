//! An in-memory store for unit tests and for the fail-open path's tests: same contract, no disk.

use std::collections::BTreeMap;
use std::sync::RwLock;

use super::{CallQuery, Store, StoreError};
use crate::domain::{Allow, CallRecord, Decline, ForwardOutcome, PhoneNumber};
use crate::policy::Records;

#[derive(Default)]
pub struct MemoryStore {
    inner: RwLock<Inner>,
}

#[derive(Default)]
struct Inner {
    declines: BTreeMap<PhoneNumber, Decline>,
    allows: BTreeMap<PhoneNumber, Allow>,
    /// Keyed like the real store: time, then arrival order.
    calls: BTreeMap<(i64, u64), CallRecord>,
    next_call: u64,
}

impl MemoryStore {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Store for MemoryStore {
    fn records_for(&self, number: &PhoneNumber) -> Result<Records, StoreError> {
        let inner = self.read();
        Ok(Records {
            decline: inner.declines.get(number).cloned(),
            allow: inner.allows.get(number).cloned(),
        })
    }

    fn save_decline(&self, decline: &Decline) -> Result<(), StoreError> {
        self.write()
            .declines
            .insert(decline.number.clone(), decline.clone());
        Ok(())
    }

    fn remove_decline(&self, number: &PhoneNumber) -> Result<Option<Decline>, StoreError> {
        Ok(self.write().declines.remove(number))
    }

    fn declines(&self) -> Result<Vec<Decline>, StoreError> {
        Ok(self.read().declines.values().cloned().collect())
    }

    fn save_allow(&self, allow: &Allow) -> Result<(), StoreError> {
        self.write()
            .allows
            .insert(allow.number.clone(), allow.clone());
        Ok(())
    }

    fn remove_allow(&self, number: &PhoneNumber) -> Result<Option<Allow>, StoreError> {
        Ok(self.write().allows.remove(number))
    }

    fn allows(&self) -> Result<Vec<Allow>, StoreError> {
        Ok(self.read().allows.values().cloned().collect())
    }

    fn append_calls(&self, calls: &[CallRecord]) -> Result<(), StoreError> {
        let mut inner = self.write();
        for call in calls {
            inner.next_call += 1;
            let key = (call.at.as_microsecond(), inner.next_call);
            inner.calls.insert(key, call.clone());
        }
        Ok(())
    }

    fn attach_outcome(&self, call_sid: &str, outcome: ForwardOutcome) -> Result<bool, StoreError> {
        let mut inner = self.write();
        let Some(call) = inner
            .calls
            .values_mut()
            .rev()
            .find(|call| call.call_sid == call_sid)
        else {
            return Ok(false);
        };
        call.outcome
            .get_or_insert_with(ForwardOutcome::default)
            .merge(outcome);
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

    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
