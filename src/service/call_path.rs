//! Deciding a call from the snapshot alone. A refusal is numbered as its party's next follow-up,
//! and a single-use allow is spent, here and only here, at the moment the call is decided.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use arc_swap::ArcSwap;
use futures_util::FutureExt;
use jiff::Timestamp;

use super::recent_callers::{self, RecentCallers};
use super::snapshot::Snapshot;
use super::{CheckRequest, MAX_NAME, Preview, Service, ServiceError, invalid};
use crate::domain::text::tidy;
use crate::domain::{Allow, CallerId, Decision, FollowUps, IncomingCall, PhoneNumber, Verification};
use crate::policy::{self, Records};
use crate::speech::caller_hears;
use crate::store::{CallQuery, Change, Counted, Publish, Store, StoreError};

/// The snapshot in effect and the follow-up counts, read from the store once, before the first
/// call is decided (`Service::warm_up`): the server reads them at start, a command that decides
/// nothing never does.
#[derive(Default)]
pub(super) struct Live {
    loaded: OnceLock<Result<Published, String>>,
    /// The changes published while the records are first read, taken in over what was read once
    /// the read is done (`None` when no read is under way). Held by whoever takes in a change, so
    /// that none made during the first read is lost in the hand-over.
    pending: Mutex<Option<Vec<Change>>>,
    /// One first read at a time.
    reading: tokio::sync::Mutex<()>,
}

struct Published {
    current: ArcSwap<Snapshot>,
    /// Follow-ups so far by party. Held while a call that a decline covers is decided, so that
    /// two calls at once from one company are its 4th and 5th, never both its 4th.
    follow_ups: Mutex<FollowUpCounts>,
    recent: Mutex<RecentCallers>,
}

/// Follow-ups so far by party (`Decline::party`). foldhash: looked up on every covered call.
type FollowUpCounts = foldhash::HashMap<String, FollowUps>;

/// How many of the week's logged calls are read back at start for the announcement's count.
const RECENT_AT_START: usize = 10_000;

impl Live {
    fn published(&self) -> Result<&Published, StoreError> {
        match self.loaded.get() {
            Some(loaded) => loaded.as_ref().map_err(|reason| StoreError::Unavailable(reason.clone())),
            None => Err(StoreError::Unavailable("the records have not been read yet".into())),
        }
    }

    /// Reads the records, once; later calls answer what the first read found.
    async fn load(&self, store: &dyn Store) -> Result<&Published, StoreError> {
        let _one = self.reading.lock().await;
        if self.loaded.get().is_none() {
            *lock(&self.pending) = Some(Vec::new());
            // A store that panics is as unreadable as one that fails, and says why the same way.
            let read = AssertUnwindSafe(Published::read(store)).catch_unwind().await.unwrap_or_else(|panic| {
                let message = match panic.downcast::<String>() {
                    Ok(text) => *text,
                    Err(panic) => panic.downcast_ref::<&str>().map_or("reading the records panicked", |t| t).to_owned(),
                };
                Err(StoreError::Backend(message))
            });
            let mut pending = lock(&self.pending);
            let read = read.map_err(|error| {
                tracing::error!(%error, "could not read the records; every call will ring through");
                error.to_string()
            });
            if let Ok(published) = &read {
                for change in pending.take().into_iter().flatten() {
                    published.take_in(&change);
                }
            }
            *pending = None;
            let _ = self.loaded.set(read);
        }
        self.published()
    }

    /// What a store tells of each change once it is durable: the snapshot in effect is copied
    /// (its parts are shared, so the copy is cheap), the change applied to the copy, and the copy
    /// put in its place. The store tells of one
    /// change at a time, in the order they reached the disk, so nothing is published before it
    /// is on disk and no change overtakes another.
    pub(super) fn publisher(self: &Arc<Self>) -> Publish {
        let live = self.clone();
        Publish::to(move |change| {
            let mut pending = lock(&live.pending);
            match (live.loaded.get(), pending.as_mut()) {
                (Some(Ok(published)), _) => published.take_in(change),
                (None, Some(during_read)) => during_read.push(change.clone()),
                // Not read (so nothing to bring up to date), or could not be read.
                _ => {}
            }
        })
    }
}

impl Live {
    /// What a store tells of the follow-up counts other processes' logged refusals reach: each is
    /// taken in over the count kept here, which so numbers the next refusal after them.
    fn counter(self: &Arc<Self>) -> Counted {
        let live = self.clone();
        Arc::new(move |counts| {
            if let Some(Ok(published)) = live.loaded.get() {
                let mut follow_ups = lock(&published.follow_ups);
                for (party, counted) in counts {
                    follow_ups.entry(party.clone()).or_default().merge(counted);
                }
            }
        })
    }
}

impl Published {
    async fn read(store: &dyn Store) -> Result<Self, StoreError> {
        let snapshot = Snapshot::read(store).await?;
        let follow_ups = store.follow_up_counts().await?.into_iter().collect();
        let mut recent = RecentCallers::default();
        let week_ago = Timestamp::now().checked_sub(recent_callers::WINDOW).ok();
        let this_week =
            store.calls(&CallQuery { since: week_ago, limit: RECENT_AT_START, ..Default::default() }).await?;
        for call in this_week.iter().rev() {
            recent.note(&CallerId::from_text(&call.from), call.caller_name.as_deref(), call.at);
        }
        Ok(Self {
            current: ArcSwap::from_pointee(snapshot),
            follow_ups: Mutex::new(follow_ups),
            recent: Mutex::new(recent),
        })
    }

    fn take_in(&self, change: &Change) {
        let mut next = Snapshot::clone(&self.current.load());
        next.apply(change);
        self.current.store(Arc::new(next));
    }
}

impl Service {
    /// Has the store tell the snapshot of the changes other processes make to the records (when
    /// several share its database), as it tells it of this process's own, and the follow-up
    /// counts of the refusals they log. Before `warm_up`, so that none made while the records are
    /// read is missed.
    pub fn follow_others(&self) {
        self.store.follow(self.live.publisher());
        self.store.follow_counts(self.live.counter());
    }

    /// Reads the records into memory, as calls are decided from them. Until it has, every call
    /// is left undecided (and so rings through).
    pub async fn warm_up(&self) -> Result<(), StoreError> {
        self.live.load(self.store.as_ref()).await.map(drop)
    }

    /// The owner's choices in the snapshot in effect; `None` before the records are read.
    pub(super) fn current_choices(&self) -> Option<Arc<crate::config::OwnerChoices>> {
        let published = self.live.published().ok()?;
        Some(published.current.load().choices().clone())
    }

    /// Everything on record that bears on a call, with its parties' follow-ups so far.
    pub fn records_for(&self, call: &IncomingCall) -> Result<Records, StoreError> {
        let published = self.live.published()?;
        Ok(records(&published.current.load(), call, &lock(&published.follow_ups)))
    }

    /// Decides a call as the webhook answers it, counting a refusal as its party's next
    /// follow-up and spending a single-use allow that let the call through.
    pub fn decide_call(&self, call: &IncomingCall, now: Timestamp) -> Result<Decision, ServiceError> {
        let published = self.live.published()?;
        lock(&published.recent).note(&call.from, call.caller_name.as_deref(), now);
        let snapshot = published.current.load();
        let number = call.from.number();
        if !snapshot.covers(call) {
            // Most calls: nothing to count and nothing to spend, so no lock.
            let records = Records { paused: snapshot.paused(), ..Records::default() };
            let settings = self.effective.over(&self.settings, snapshot.choices());
            return Ok(policy::decide(call, &records, now, &settings));
        }
        drop(snapshot);
        let mut follow_ups = lock(&published.follow_ups);
        // Loaded under the lock: a single-use allow is spent under it too.
        let snapshot = published.current.load();
        let settings = self.effective.over(&self.settings, snapshot.choices());
        let mut records = records(&snapshot, call, &follow_ups);
        let mut decision = policy::decide(call, &records, now, &settings);
        if decision.uses_single_allow
            && let Some(allow) = number.and_then(|n| snapshot.allow_of(n))
            && !self.spend(allow, now)?
        {
            // Another process on the same database spent it first: the call gets what the
            // number would get had this process already heard of that.
            if let Some(allow) = records.allow.as_mut() {
                allow.used_at = Some(now);
            }
            decision = policy::decide(call, &records, now, &settings);
        }
        if let Some(decline) = decision.decline() {
            follow_ups.entry(decline.party()).or_default().record(now);
        }
        Ok(decision)
    }

    /// Marks a single-use allow as used, on disk before the call it let through is answered, if
    /// no other call (at this process or another on the same database) used it first; whether
    /// this call did. The one change made on the call path, and the one made blocking: the call
    /// is answered from synchronous code, under the lock that lets exactly one call here spend
    /// the allow, and waiting there on the runtime could wait on the very worker that is blocked.
    fn spend(&self, allow: &Allow, now: Timestamp) -> Result<bool, ServiceError> {
        let spent = Allow { used_at: Some(now), ..allow.clone() };
        Ok(self.store.spend_allow(spent, self.live.publisher())?)
    }

    /// Who is calling, for the announcement: the name the owner gave the number (an allow's, or
    /// the declined company's) or else the network's caller name, and how many calls the number
    /// made this week, this one included.
    pub fn who_is_calling(&self, number: &PhoneNumber, now: Timestamp) -> Result<(Option<String>, usize), StoreError> {
        let published = self.live.published()?;
        let snapshot = published.current.load();
        let recent = lock(&published.recent);
        let (this_week, caller_name) = recent.this_week(number, now);
        let company = snapshot
            .allow_of(number)
            .and_then(|allow| allow.name.clone())
            .or_else(|| snapshot.decline_of(number).and_then(|decline| decline.company))
            .or_else(|| caller_name.map(str::to_owned));
        Ok((company, this_week))
    }

    /// Runs the webhook's own decision for a call with these facts at `at` (default `now`),
    /// without counting or spending anything. Reads the records first if they were not read.
    pub async fn check(&self, request: CheckRequest, now: Timestamp) -> Result<Preview, ServiceError> {
        self.warm_up().await?;
        let from = match (&request.number, request.withheld) {
            (Some(_), true) => return Err(invalid("number", "give a number or withheld, not both")),
            (Some(number), false) => CallerId::Number(self.typed_number(number, true)?),
            (None, true) => CallerId::Withheld,
            (None, false) => return Err(invalid("number", "give the number to check, or withheld")),
        };
        let call = IncomingCall {
            call_id: "preview".into(),
            from,
            to: String::new(),
            caller_name: tidy("caller_name", request.caller_name.as_deref(), MAX_NAME)?,
            verification: tidy("verstat", request.verstat.as_deref(), MAX_NAME)?.map(Verification::of_verstat),
        };
        let records = self.records_for(&call)?;
        let settings = self.settings();
        let decision = policy::decide(&call, &records, request.at.unwrap_or(now), &settings);
        let caller_hears = caller_hears(&decision, &settings);
        Ok(Preview { number: call.from.to_string(), decision: decision.kind(), reason: decision.reason, caller_hears })
    }
}

fn records(snapshot: &Snapshot, call: &IncomingCall, follow_ups: &FollowUpCounts) -> Records {
    let allow = call.from.number().and_then(|number| {
        let allow = snapshot.allow_of(number)?;
        // The caller's number is the allow's, and already at hand: the copy of the number kept
        // is not read.
        debug_assert_eq!(allow.number, *number, "an allow is kept by its number's key");
        Some(Allow { number: number.clone(), name: allow.name.clone(), ..*allow })
    });
    let mut declines = Vec::new();
    snapshot.each_decline_covering(call, |decline, party| {
        let so_far = follow_ups.get(party).cloned().unwrap_or_default();
        declines.push((decline, so_far));
    });
    Records { allow, declines, paused: snapshot.paused() }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use crate::domain::{BusinessId, DecisionKind};
    use crate::domain::{CallRecord, Decline, ForwardOutcome, LegalHold, SignedIn, Target, TextSession, WebChange};
    use crate::service::{NewAllow, NewDecline};
    use crate::store::{
        Answer, Archive, CallHistory, CallPage, CallSink, Cursor, HourTally, Keep, MemoryStore, NumberVisit,
        OwnerRecord, Pruned, Removed, RepeatCaller, UnavailableStore,
    };

    /// A service with its records read, as the server has them before its first call.
    async fn service() -> Service {
        let service = Service::open(Arc::new(MemoryStore::default()), Arc::new(Settings::defaults())).unwrap();
        service.warm_up().await.unwrap();
        service
    }

    async fn decline(service: &Service, number: &str, company: &str) {
        let new = NewDecline { number: number.into(), company: Some(company.into()), ..Default::default() };
        service.decline(new, Timestamp::UNIX_EPOCH).await.unwrap();
    }

    #[tokio::test]
    async fn calls_at_once_from_one_company_are_numbered_one_after_another() {
        let service = service().await;
        decline(&service, "+442079460123", "Everest").await;
        decline(&service, "+442079460124", "Everest").await;
        let numbers: Vec<u32> = std::thread::scope(|threads| {
            let running: Vec<_> = (0..8)
                .map(|i| {
                    let service = &service;
                    threads.spawn(move || {
                        let from = if i % 2 == 0 { "+442079460123" } else { "+442079460124" };
                        let decision = service.decide_call(&IncomingCall::from_caller(from), Timestamp::now()).unwrap();
                        (decision.follow_up().unwrap(), decision.reason)
                    })
                })
                .collect();
            let mut numbers: Vec<u32> = running
                .into_iter()
                .map(|thread| {
                    let (number, reason) = thread.join().unwrap();
                    // The reason says the same number the log will carry.
                    assert!(reason.contains(&format!("{} call since", policy::ordinal(number))), "{reason}");
                    number
                })
                .collect();
            numbers.sort();
            numbers
        });
        assert_eq!(numbers, (1..=8).collect::<Vec<u32>>());
    }

    #[tokio::test]
    async fn a_single_use_allow_lets_exactly_one_of_many_calls_at_once_through() {
        let service = service().await;
        decline(&service, "+442079460123", "Everest").await;
        let once = NewAllow { number: "+442079460123".into(), once: true, ..Default::default() };
        service.allow(once, Timestamp::UNIX_EPOCH).await.unwrap();
        let through = std::thread::scope(|threads| {
            let running: Vec<_> = (0..8)
                .map(|_| {
                    threads.spawn(|| {
                        service.decide_call(&IncomingCall::from_caller("+442079460123"), Timestamp::now()).unwrap()
                    })
                })
                .collect();
            running
                .into_iter()
                .map(|thread| thread.join().unwrap())
                .filter(|decision| decision.kind() == DecisionKind::Forward)
                .count()
        });
        assert_eq!(through, 1);
        let number = PhoneNumber::from_e164("+442079460123").unwrap();
        assert!(service.store.allow_of(&number).await.unwrap().unwrap().used_at.is_some(), "spent on disk");
    }

    #[tokio::test]
    async fn a_call_the_allow_would_let_through_is_declined_when_another_process_spent_it_first() {
        let service = service().await;
        decline(&service, "+442079460123", "Everest").await;
        let once = NewAllow { number: "+442079460123".into(), once: true, ..Default::default() };
        service.allow(once, Timestamp::UNIX_EPOCH).await.unwrap();
        // Spent in the store as another process sharing it would, before this one hears of it.
        let number = PhoneNumber::from_e164("+442079460123").unwrap();
        let kept = service.store.allow_of(&number).await.unwrap().unwrap();
        let elsewhere = Allow { used_at: Some(Timestamp::UNIX_EPOCH), ..kept };
        assert!(service.store.spend_allow(elsewhere.clone(), Publish::nowhere()).unwrap());

        let decision = service.decide_call(&IncomingCall::from_caller("+442079460123"), Timestamp::now()).unwrap();
        assert_eq!(decision.kind(), DecisionKind::Decline, "{}", decision.reason);
        assert_eq!(decision.follow_up(), Some(1), "counted as the decline's first follow-up");
        assert_eq!(service.store.allow_of(&number).await.unwrap(), Some(elsewhere), "spent once, by the other");
    }

    #[tokio::test]
    async fn a_preview_counts_nothing() {
        let service = service().await;
        decline(&service, "+442079460123", "Everest").await;
        let check = CheckRequest { number: Some("+442079460123".into()), ..Default::default() };
        service.check(check.clone(), Timestamp::now()).await.unwrap();
        let reason = service.check(check, Timestamp::now()).await.unwrap().reason;
        assert!(reason.contains("1st call since"), "{reason}");
        let decided = service.decide_call(&IncomingCall::from_caller("+442079460123"), Timestamp::now()).unwrap();
        assert_eq!(decided.follow_up(), Some(1));
    }

    #[tokio::test]
    async fn a_change_is_decided_on_by_the_next_call() {
        let service = service().await;
        let caller = IncomingCall::from_caller("+442079460123");
        assert_eq!(service.decide_call(&caller, Timestamp::now()).unwrap().kind(), DecisionKind::Forward);
        decline(&service, "+442079460123", "Everest").await;
        assert_eq!(service.decide_call(&caller, Timestamp::now()).unwrap().kind(), DecisionKind::Decline);
        service.set_paused(true, crate::domain::Channel::CommandLine, Timestamp::UNIX_EPOCH).await.unwrap();
        assert_eq!(service.decide_call(&caller, Timestamp::now()).unwrap().kind(), DecisionKind::Forward);
        service.set_paused(false, crate::domain::Channel::CommandLine, Timestamp::UNIX_EPOCH).await.unwrap();
        service.remove_decline("+442079460123").await.unwrap();
        assert_eq!(service.decide_call(&caller, Timestamp::now()).unwrap().kind(), DecisionKind::Forward);
        let range = NewDecline { number: "+4420794601*".into(), ..Default::default() };
        service.decline(range, Timestamp::UNIX_EPOCH).await.unwrap();
        assert_eq!(service.decide_call(&caller, Timestamp::now()).unwrap().kind(), DecisionKind::Decline);
    }

    /// A store on a slow disk: reading the allows waits a turn of the runtime, so that a change
    /// can be made while the records are first read.
    #[derive(Default)]
    struct SlowAllows(MemoryStore);

    impl OwnerRecord for SlowAllows {
        fn decline(&self, target: &Target) -> Answer<'_, Option<Decline>> {
            self.0.decline(target)
        }
        fn allow_of(&self, number: &PhoneNumber) -> Answer<'_, Option<Allow>> {
            self.0.allow_of(number)
        }
        fn declines(&self) -> Answer<'_, Vec<Decline>> {
            self.0.declines()
        }
        fn each_number_decline(&self, visit: NumberVisit) -> Answer<'_, ()> {
            self.0.each_number_decline(visit)
        }
        fn rules(&self) -> Answer<'_, Vec<Decline>> {
            self.0.rules()
        }
        fn company_name(&self, key: &str) -> Answer<'_, Option<String>> {
            self.0.company_name(key)
        }
        fn allows(&self) -> Answer<'_, Vec<Allow>> {
            Box::pin(async move {
                tokio::task::yield_now().await;
                self.0.allows().await
            })
        }
        fn paused(&self) -> Answer<'_, bool> {
            self.0.paused()
        }
        fn pause_changed(&self) -> Answer<'_, Option<crate::domain::SettingChange>> {
            self.0.pause_changed()
        }
        fn owner_choices(&self) -> Answer<'_, crate::config::OwnerChoices> {
            self.0.owner_choices()
        }
        fn legal_holds(&self) -> Answer<'_, Vec<LegalHold>> {
            self.0.legal_holds()
        }
        fn password_hash(&self) -> Answer<'_, Option<String>> {
            self.0.password_hash()
        }
        fn text_session(&self, owner: &PhoneNumber) -> Answer<'_, TextSession> {
            self.0.text_session(owner)
        }
        fn web_changes(&self) -> Answer<'_, Vec<WebChange>> {
            self.0.web_changes()
        }
        fn signed_in(&self) -> Answer<'_, Vec<SignedIn>> {
            self.0.signed_in()
        }
        fn apply(&self, change: Change, publish: Publish) -> Answer<'_, Removed> {
            self.0.apply(change, publish)
        }
        fn apply_blocking(&self, change: Change, publish: Publish) -> Result<Removed, StoreError> {
            self.0.apply_blocking(change, publish)
        }
        fn probe(&self) -> Answer<'_, ()> {
            self.0.probe()
        }
    }

    impl CallSink for SlowAllows {
        fn append_calls(&self, calls: &[CallRecord]) -> Result<(), StoreError> {
            self.0.append_calls(calls)
        }
        fn attach_outcomes(&self, outcomes: &[(BusinessId, String, ForwardOutcome)]) -> Result<Vec<bool>, StoreError> {
            self.0.attach_outcomes(outcomes)
        }
        fn flush(&self) -> Result<(), StoreError> {
            self.0.flush()
        }
    }

    impl CallHistory for SlowAllows {
        fn call_page(&self, query: &CallQuery) -> Answer<'_, CallPage> {
            self.0.call_page(query)
        }
        fn call_tallies(&self, since: Timestamp, until: Timestamp) -> Answer<'_, Vec<HourTally>> {
            self.0.call_tallies(since, until)
        }
        fn follow_ups(&self, party: &str) -> Answer<'_, FollowUps> {
            self.0.follow_ups(party)
        }
        fn follow_up_counts(&self) -> Answer<'_, Vec<(String, FollowUps)>> {
            self.0.follow_up_counts()
        }
        fn calls_after_no(&self, since: Timestamp, until: Timestamp) -> Answer<'_, u64> {
            self.0.calls_after_no(since, until)
        }
        fn repeat_callers(&self, since: Timestamp, min_calls: u32, limit: usize) -> Answer<'_, Vec<RepeatCaller>> {
            self.0.repeat_callers(since, min_calls, limit)
        }
        fn prune_calls(
            &self,
            before: Timestamp,
            keep: Keep,
            after: Option<Cursor>,
            budget: usize,
        ) -> Answer<'_, Pruned> {
            self.0.prune_calls(before, keep, after, budget)
        }
    }

    impl Archive for SlowAllows {}
    impl crate::store::CallFacts for SlowAllows {}

    #[tokio::test]
    async fn a_decline_made_while_the_records_are_first_read_is_decided_on() {
        let service = Service::open(Arc::new(SlowAllows::default()), Arc::new(Settings::defaults())).unwrap();
        let new = NewDecline { number: "+442079460123".into(), company: Some("Everest".into()), ..Default::default() };
        // The declines are read, then the decline is made while the allows are being read.
        let (read, declined) = tokio::join!(service.warm_up(), service.decline(new, Timestamp::UNIX_EPOCH));
        read.unwrap();
        declined.unwrap();
        let caller = IncomingCall::from_caller("+442079460123");
        assert_eq!(service.decide_call(&caller, Timestamp::now()).unwrap().kind(), DecisionKind::Decline);
    }

    #[tokio::test]
    async fn records_that_cannot_be_read_leave_every_call_undecided() {
        let store = Arc::new(UnavailableStore::new("no disk"));
        let service = Service::open(store, Arc::new(Settings::defaults())).unwrap();
        assert!(service.warm_up().await.is_err());
        let error = service.decide_call(&IncomingCall::from_caller("+442079460123"), Timestamp::now()).unwrap_err();
        assert!(error.to_string().contains("no disk"), "{error}");
    }
}
