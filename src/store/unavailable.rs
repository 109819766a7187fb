//! The store saidno runs on when its database cannot be opened: every look-up fails, so every call
//! takes the fail-open path and rings through, while the server stays up and says what is wrong.

use jiff::Timestamp;

use super::{
    Answer, Archive, CallHistory, CallPage, CallQuery, CallSink, Change, Cursor, HourTally, Keep, OwnerRecord, Pruned,
    Publish, Removed, RepeatCaller, StoreError, ready,
};
use crate::domain::{
    Allow, BusinessId, CallRecord, Decline, FollowUps, ForwardOutcome, LegalHold, PhoneNumber, SignedIn, Target,
    TextSession, WebChange,
};

pub struct UnavailableStore {
    reason: String,
}

impl UnavailableStore {
    pub fn new(reason: impl Into<String>) -> Self {
        Self { reason: reason.into() }
    }

    fn error(&self) -> StoreError {
        StoreError::Unavailable(self.reason.clone())
    }

    fn fail<T: Send + 'static>(&self) -> Answer<'static, T> {
        ready(Err(self.error()))
    }
}

impl OwnerRecord for UnavailableStore {
    fn decline(&self, _: &Target) -> Answer<'_, Option<Decline>> {
        self.fail()
    }
    fn allow_of(&self, _: &PhoneNumber) -> Answer<'_, Option<Allow>> {
        self.fail()
    }
    fn declines(&self) -> Answer<'_, Vec<Decline>> {
        self.fail()
    }
    /// No rules can be read, so none match: the look-up of the number itself fails anyway.
    fn rules(&self) -> Answer<'_, Vec<Decline>> {
        ready(Ok(Vec::new()))
    }
    fn company_name(&self, _: &str) -> Answer<'_, Option<String>> {
        self.fail()
    }
    fn allows(&self) -> Answer<'_, Vec<Allow>> {
        self.fail()
    }
    fn pause_changed(&self) -> Answer<'_, Option<crate::domain::SettingChange>> {
        self.fail()
    }
    fn paused(&self) -> Answer<'_, bool> {
        self.fail()
    }
    fn owner_choices(&self) -> Answer<'_, crate::config::OwnerChoices> {
        self.fail()
    }
    fn legal_holds(&self) -> Answer<'_, Vec<LegalHold>> {
        self.fail()
    }
    fn password_hash(&self) -> Answer<'_, Option<String>> {
        self.fail()
    }
    fn text_session(&self, _: &PhoneNumber) -> Answer<'_, TextSession> {
        self.fail()
    }
    fn web_changes(&self) -> Answer<'_, Vec<WebChange>> {
        self.fail()
    }
    fn signed_in(&self) -> Answer<'_, Vec<SignedIn>> {
        self.fail()
    }
    fn apply(&self, _: Change, _: Publish) -> Answer<'_, Removed> {
        self.fail()
    }
    fn apply_blocking(&self, _: Change, _: Publish) -> Result<Removed, StoreError> {
        Err(self.error())
    }
    fn probe(&self) -> Answer<'_, ()> {
        self.fail()
    }
}

impl CallSink for UnavailableStore {
    fn append_calls(&self, _: &[CallRecord]) -> Result<(), StoreError> {
        Err(self.error())
    }
    fn attach_outcomes(&self, _: &[(BusinessId, String, ForwardOutcome)]) -> Result<Vec<bool>, StoreError> {
        Err(self.error())
    }
    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

impl CallHistory for UnavailableStore {
    fn call_page(&self, _: &CallQuery) -> Answer<'_, CallPage> {
        self.fail()
    }
    fn call_tallies(&self, _: Timestamp, _: Timestamp) -> Answer<'_, Vec<HourTally>> {
        self.fail()
    }
    fn follow_ups(&self, _: &str) -> Answer<'_, FollowUps> {
        self.fail()
    }
    fn follow_up_counts(&self) -> Answer<'_, Vec<(String, FollowUps)>> {
        self.fail()
    }
    fn calls_after_no(&self, _: Timestamp, _: Timestamp) -> Answer<'_, u64> {
        self.fail()
    }
    fn repeat_callers(&self, _: Timestamp, _: u32, _: usize) -> Answer<'_, Vec<RepeatCaller>> {
        self.fail()
    }
    /// Nothing is pruned from a log that cannot be read.
    fn prune_calls(&self, _: Timestamp, _: Keep, _: Option<Cursor>, _: usize) -> Answer<'_, Pruned> {
        self.fail()
    }
}

/// Nothing to read back: the start that chose this store has already said why the database is not used.
/// Nothing is kept, so the call's own answers (the forward, the dial's outcome) stand.
impl super::CallFacts for UnavailableStore {}

impl Archive for UnavailableStore {
    fn backup(&self, _: &mut dyn std::io::Write) -> Result<u64, StoreError> {
        Err(self.error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn holds_and_pruning_fail_with_the_reason_and_change_nothing() {
        let store = UnavailableStore::new("the disk is full");
        let unavailable = |result: Result<(), StoreError>| matches!(result, Err(StoreError::Unavailable(reason)) if reason == "the disk is full");
        let published = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let told = published.clone();
        let publish = Publish::to(move |_| told.store(true, std::sync::atomic::Ordering::SeqCst));
        let hold = Change::LegalHold { party: "company:everest".into(), since: Some(Timestamp::UNIX_EPOCH) };
        assert!(unavailable(store.apply(hold, publish).await.map(drop)));
        assert!(!published.load(std::sync::atomic::Ordering::SeqCst), "a change not made is not published");
        assert!(unavailable(store.legal_holds().await.map(drop)));
        assert!(unavailable(store.prune_calls(Timestamp::MAX, Box::new(|_| false), None, 10).await.map(drop)));
    }
}
