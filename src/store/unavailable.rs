//! The store saidno runs on when its database cannot be opened: every look-up fails, so every call
//! takes the fail-open path and rings through, while the server stays up and says what is wrong.

use jiff::Timestamp;

use super::{
    Archive, CallHistory, CallPage, CallQuery, CallSink, Change, Cursor, HourTally, OwnerRecord, Pruned, Removed,
    RepeatCaller, StoreError,
};
use crate::domain::{
    Allow, CallRecord, Decline, FollowUps, ForwardOutcome, LegalHold, PhoneNumber, SignedIn, Target, TextSession,
    WebChange,
};

pub struct UnavailableStore {
    reason: String,
}

impl UnavailableStore {
    pub fn new(reason: impl Into<String>) -> Self {
        Self { reason: reason.into() }
    }

    fn fail<T>(&self) -> Result<T, StoreError> {
        Err(StoreError::Unavailable(self.reason.clone()))
    }
}

impl OwnerRecord for UnavailableStore {
    fn decline(&self, _: &Target) -> Result<Option<Decline>, StoreError> {
        self.fail()
    }
    fn allow_of(&self, _: &PhoneNumber) -> Result<Option<Allow>, StoreError> {
        self.fail()
    }
    fn declines(&self) -> Result<Vec<Decline>, StoreError> {
        self.fail()
    }
    /// No rules can be read, so none match: the look-up of the number itself fails anyway.
    fn rules(&self) -> Result<Vec<Decline>, StoreError> {
        Ok(Vec::new())
    }
    fn company_name(&self, _: &str) -> Result<Option<String>, StoreError> {
        self.fail()
    }
    fn allows(&self) -> Result<Vec<Allow>, StoreError> {
        self.fail()
    }
    fn paused(&self) -> Result<bool, StoreError> {
        self.fail()
    }
    fn legal_holds(&self) -> Result<Vec<LegalHold>, StoreError> {
        self.fail()
    }
    fn password_hash(&self) -> Result<Option<String>, StoreError> {
        self.fail()
    }
    fn text_session(&self, _: &PhoneNumber) -> Result<TextSession, StoreError> {
        self.fail()
    }
    fn web_changes(&self) -> Result<Vec<WebChange>, StoreError> {
        self.fail()
    }
    fn signed_in(&self) -> Result<Vec<SignedIn>, StoreError> {
        self.fail()
    }
    fn apply(&self, _: Change<'_>) -> Result<Removed, StoreError> {
        self.fail()
    }
    fn probe(&self) -> Result<(), StoreError> {
        self.fail()
    }
}

impl CallSink for UnavailableStore {
    fn append_calls(&self, _: &[CallRecord]) -> Result<(), StoreError> {
        self.fail()
    }
    fn attach_outcomes(&self, _: &[(String, ForwardOutcome)]) -> Result<Vec<bool>, StoreError> {
        self.fail()
    }
    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

impl CallHistory for UnavailableStore {
    fn call_page(&self, _: &CallQuery) -> Result<CallPage, StoreError> {
        self.fail()
    }
    fn call_tallies(&self, _: Timestamp, _: Timestamp) -> Result<Vec<HourTally>, StoreError> {
        self.fail()
    }
    fn follow_ups(&self, _: &str) -> Result<FollowUps, StoreError> {
        self.fail()
    }
    fn follow_up_counts(&self) -> Result<Vec<(String, FollowUps)>, StoreError> {
        self.fail()
    }
    fn repeat_callers(&self, _: Timestamp, _: u32, _: usize) -> Result<Vec<RepeatCaller>, StoreError> {
        self.fail()
    }
    /// Nothing is pruned from a log that cannot be read.
    fn prune_calls(
        &self,
        _: Timestamp,
        _: &dyn Fn(&CallRecord) -> bool,
        _: Option<Cursor>,
        _: usize,
    ) -> Result<Pruned, StoreError> {
        self.fail()
    }
}

/// Nothing to read back: the start that chose this store has already said why the database is not used.
impl Archive for UnavailableStore {
    fn backup(&self, _: &mut dyn std::io::Write) -> Result<u64, StoreError> {
        self.fail()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_and_pruning_fail_with_the_reason_and_change_nothing() {
        let store = UnavailableStore::new("the disk is full");
        let unavailable = |result: Result<(), StoreError>| matches!(result, Err(StoreError::Unavailable(reason)) if reason == "the disk is full");
        assert!(unavailable(
            store.apply(Change::LegalHold { party: "company:everest", since: Some(Timestamp::UNIX_EPOCH) }).map(drop)
        ));
        assert!(unavailable(store.legal_holds().map(drop)));
        assert!(unavailable(store.prune_calls(Timestamp::MAX, &|_| false, None, 10).map(drop)));
    }
}
