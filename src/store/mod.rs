//! The storage boundary: everything saidno keeps goes through these roles. Only `sled.rs` knows
//! sled and only `postgres.rs` PostgreSQL; `open` picks one for the rest of the program.

mod businesses;
mod change;
mod local;
mod memory;
mod memory_businesses;
mod open;
mod pending_decisions;
mod postgres;
mod prune;
mod query;
mod sled;
mod unavailable;

pub use self::businesses::{Businesses, BusinessesChanged, NewBusiness};
pub use self::change::{Change, Publish, Removed};
pub use self::local::{open_local, restore_local};
pub use self::memory::MemoryStore;
pub use self::memory_businesses::MemoryBusinesses;
pub use self::open::{ONE_BUSINESS, OneBusiness, open_businesses, open_store};
pub use self::pending_decisions::PendingDecisions;
pub use self::postgres::{PostgresDatabase, PostgresStore, test_db};
pub use self::prune::{PRUNE_BATCH, Pruned};
pub use self::query::{CallPage, CallQuery, Cursor, HourTally, RepeatCaller, SCAN_BUDGET, party_of};
pub use self::sled::SledStore;
pub use self::unavailable::UnavailableStore;

use futures_util::future::BoxFuture;
use jiff::Timestamp;

use crate::domain::{
    Allow, BusinessId, CallRecord, Decline, DeclineTerms, FollowUps, ForwardOutcome, LegalHold, OwnerDecision,
    PhoneNumber, SettingChange, SignedIn, Target, TextSession, WebChange,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process (usually the running server) has the database open: the embedded store
    /// admits one process at a time.
    #[error("the database at {0} is in use by another process")]
    Locked(String),
    #[error("database error: {0}")]
    Backend(String),
    #[error("a stored record could not be read: {0}")]
    Corrupt(String),
    #[error("the database is not available: {0}")]
    Unavailable(String),
    /// The change would take what is already another's: a business's name, a line.
    #[error("{0}")]
    Conflict(String),
}

impl StoreError {
    /// How a request this error stopped is refused, when the database could not be reached (a
    /// PostgreSQL server down or cut off): said plainly, with the promise every change keeps, that
    /// it is made whole or not at all. Why it could not be is for the server's log and `/readyz`.
    pub fn unreachable_refusal(&self) -> Option<&'static str> {
        match self {
            Self::Unavailable(_) => {
                Some("the database cannot be reached, so nothing was changed; try again once it answers")
            }
            _ => None,
        }
    }
}

/// What a store's async methods return: boxed, so that the roles can be used as `dyn` objects.
pub type Answer<'a, T> = BoxFuture<'a, Result<T, StoreError>>;

/// Takes in the declines of numbers that share one set of terms (`OwnerRecord::each_number_decline`),
/// where the store reads them: on the store's own thread, so it owns what it fills.
pub type NumberVisit = Box<dyn FnMut(&DeclineTerms, &[u64]) + Send>;

/// An answer already known, from a store that does not wait on a disk.
fn ready<'a, T: Send + 'a>(answer: Result<T, StoreError>) -> Answer<'a, T> {
    Box::pin(std::future::ready(answer))
}

/// The owner's record: what they declined and allowed, and their settings. The call path never
/// reads it; the service reads it whole into the snapshot calls are decided from, and changes it
/// only through `apply`. Every method is async: a store on disk does its work off the runtime.
pub trait OwnerRecord: Send + Sync {
    /// The decline of exactly this target (one number, one range, one pattern), if any.
    fn decline(&self, target: &Target) -> Answer<'_, Option<Decline>>;
    fn allow_of(&self, number: &PhoneNumber) -> Answer<'_, Option<Allow>>;
    /// Every decline: numbers, ranges and patterns.
    fn declines(&self) -> Answer<'_, Vec<Decline>>;
    /// Every decline of a number, handed to `visit` as the keys (`PhoneNumber::key`) of numbers
    /// that share one set of terms, so that a million are read without copying their terms a
    /// million times, or holding them all at once.
    fn each_number_decline(&self, mut visit: NumberVisit) -> Answer<'_, ()> {
        Box::pin(async move {
            for decline in self.declines().await? {
                if let Some(number) = decline.target.number() {
                    visit(&decline.terms(), &[number.key()]);
                }
            }
            Ok(())
        })
    }
    /// The declines that are not of one number: few, and matched in memory.
    fn rules(&self) -> Answer<'_, Vec<Decline>>;
    /// The company's name as first written, by its key (see `domain::company_key`).
    fn company_name(&self, key: &str) -> Answer<'_, Option<String>>;
    fn allows(&self) -> Answer<'_, Vec<Allow>>;
    /// The owner's pause switch: while on, every call rings through.
    fn paused(&self) -> Answer<'_, bool>;
    /// Who last turned the pause switch on or off, and when; `None` before anyone has.
    fn pause_changed(&self) -> Answer<'_, Option<SettingChange>>;
    /// The settings the owner changed from the web page, laid over the configuration file's.
    fn owner_choices(&self) -> Answer<'_, crate::config::OwnerChoices>;
    /// The parties under a legal hold, whose calls are never pruned.
    fn legal_holds(&self) -> Answer<'_, Vec<LegalHold>>;
    /// The argon2 hash of the web page's password, if one was set.
    fn password_hash(&self) -> Answer<'_, Option<String>>;
    /// What the owner's texts from `owner` left behind (see `domain::TextSession`).
    fn text_session(&self, owner: &PhoneNumber) -> Answer<'_, TextSession>;
    /// The web page's recent declines with what each replaced, newest last, for its Undo.
    fn web_changes(&self) -> Answer<'_, Vec<WebChange>>;
    /// The browsers signed in to the web page, expired ones included until they are replaced.
    fn signed_in(&self) -> Answer<'_, Vec<SignedIn>>;

    /// Makes one change: whole, and on disk, when it resolves; or not at all. Once it is on disk,
    /// and before the next change is taken, `publish` is told of it (a change that changes
    /// nothing, such as removing what is not there, is not told).
    fn apply(&self, change: Change, publish: Publish) -> Answer<'_, Removed>;
    /// `apply`, blocking the calling thread: for the one change made on the call path (spending a
    /// single-use allow), which must be on disk before the call is answered and cannot wait on
    /// the runtime the call is answered on. Each store makes both in the same one place.
    fn apply_blocking(&self, change: Change, publish: Publish) -> Result<Removed, StoreError>;
    /// Spends a single-use allow as a call uses it: stores `spent` (the allow with its `used_at`)
    /// only if the allow kept for its number is still unspent, in one step no other call (in any
    /// process) can come between, and publishes it like any change. Whether this call spent it:
    /// false when another already had. Blocking, like `apply_blocking`, for the same reason.
    /// The default suits a store only one process uses, where the call path's own lock already
    /// lets one call at a time spend.
    fn spend_allow(&self, spent: Allow, publish: Publish) -> Result<bool, StoreError> {
        self.apply_blocking(Change::Allow(spent), publish).map(|_| true)
    }
    /// Proves the store can take a write and get it to disk now (for the readiness check).
    fn probe(&self) -> Answer<'_, ()>;
    /// Tells `publish` of each change other processes make to the record from the moment the
    /// store was opened, in the order they were made, so that a copy kept in memory (read after
    /// the store was opened) follows them as it follows this process's own. Only a store several
    /// processes share has any; calling it again replaces `publish`.
    fn follow(&self, _publish: Publish) {}
}

/// Where decided calls go: written in batches off the call path (see `crate::call_log`). It is
/// synchronous: its one writer is the call log's own thread, which no request waits on.
pub trait CallSink: Send + Sync {
    /// Logs calls. A refusal comes numbered among its party's follow-ups, and the party's count
    /// is kept up to that number.
    fn append_calls(&self, calls: &[CallRecord]) -> Result<(), StoreError>;
    /// Adds what the provider reported after each call to the call's entry, in order; false for
    /// a call that has none. Each call is found among its business's (a store of one business
    /// looks among its own whatever the business says).
    fn attach_outcomes(&self, outcomes: &[(BusinessId, String, ForwardOutcome)]) -> Result<Vec<bool>, StoreError>;
    /// Gets every call written so far to disk.
    fn flush(&self) -> Result<(), StoreError>;
}

/// Which logged calls a prune keeps (those of parties under a legal hold).
pub type Keep = Box<dyn Fn(&CallRecord) -> bool + Send + Sync>;

/// The call log read back, and pruned.
pub trait CallHistory: Send + Sync {
    /// One page of the log, newest first, read along an index so that no page walks the whole log.
    fn call_page(&self, query: &CallQuery) -> Answer<'_, CallPage>;
    fn calls(&self, query: &CallQuery) -> Answer<'_, Vec<CallRecord>> {
        let page = self.call_page(query);
        Box::pin(async move { Ok(page.await?.calls) })
    }
    /// Calls per hour (UTC) for the hours that begin in `[since, until)`, for the dashboard; hours
    /// without calls are left out.
    fn call_tallies(&self, since: Timestamp, until: Timestamp) -> Answer<'_, Vec<HourTally>>;
    /// The calls refused since the party (see `domain::party_key`) was told no.
    fn follow_ups(&self, party: &str) -> Answer<'_, FollowUps>;
    /// How many calls in `[since, until)` were refused as follow-ups of a no (numbered among their
    /// party's calls since): whether saying no is working, week by week on the dashboard.
    fn calls_after_no(&self, since: Timestamp, until: Timestamp) -> Answer<'_, u64>;
    /// Every party's follow-ups, for the call path to count on from.
    fn follow_up_counts(&self) -> Answer<'_, Vec<(String, FollowUps)>>;
    /// The numbers that rang through (were not refused) at least `min_calls` times since `since`,
    /// most calls first, at most `limit` of them. No more than `SCAN_BUDGET` of the newest calls
    /// are looked at, so a busy log answers as fast as a quiet one.
    fn repeat_callers(&self, since: Timestamp, min_calls: u32, limit: usize) -> Answer<'_, Vec<RepeatCaller>>;
    /// One bounded batch of pruning: of the calls logged before `before` (oldest first, strictly
    /// after `after` when given), looks at no more than `budget` and removes each one `keep`
    /// refuses, with every index entry that points at it; and removes the hourly tallies of hours
    /// that ended by `before`. Call again with the returned `next` until it is `None`.
    fn prune_calls(&self, before: Timestamp, keep: Keep, after: Option<Cursor>, budget: usize) -> Answer<'_, Pruned>;
    /// Tells `counted` of the follow-up counts other processes' logged refusals reach, so that
    /// counts kept in memory number the next refusal after them. Only a store several processes
    /// share has any; calling it again replaces `counted`.
    fn follow_counts(&self, _counted: Counted) {}
}

/// Told of parties' follow-up counts as other processes log them (`CallHistory::follow_counts`).
pub type Counted = std::sync::Arc<dyn Fn(&[(String, FollowUps)]) + Send + Sync>;

/// Facts about calls in progress that whichever process answers the next request about the call
/// must see: in a store several processes share, they are kept where all of them look.
pub trait CallFacts: Send + Sync {
    /// Keeps what whoever answered a forward decided, for the call's dial callback (replacing any
    /// decision already kept for the call).
    fn hold_owner_decision(&self, _call_id: &str, _decision: OwnerDecision) -> Answer<'_, ()> {
        ready(Err(StoreError::Unavailable("this store keeps no decisions made during a call".into())))
    }
    /// Takes the decision kept for the call, if one was kept within `pending_decisions::KEEP`:
    /// it is gone once taken, so exactly one dial callback acts on it.
    fn take_owner_decision(&self, _call_id: &str) -> Answer<'_, Option<OwnerDecision>> {
        ready(Ok(None))
    }
    /// Whether a provider's once-only token (`scope` is the provider) is seen here for the first
    /// time, remembering it if so; waits at most `within` for the answer. The default suits a
    /// store only one process uses: the process's own memory of tokens
    /// (`crate::provider::replay`) is all there is to ask.
    fn first_seen(&self, _scope: &str, _token: &str, _within: std::time::Duration) -> Result<bool, StoreError> {
        Ok(true)
    }
}

/// A consistent copy of everything kept, and a check that it all reads back. Both read the whole
/// store and block while they do: run them off the runtime (`tokio::task::spawn_blocking`).
pub trait Archive: Send + Sync {
    /// Writes a consistent copy of every record in the backup format (see `crate::backup`).
    fn backup(&self, _out: &mut dyn std::io::Write) -> Result<u64, StoreError> {
        Err(StoreError::Unavailable("this store cannot be backed up".into()))
    }
    /// Reads back everything the owner entered, to find damage before a caller does.
    fn verify(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// Everything saidno keeps, by role. A part of the program that needs one role takes only that
/// one: the call log's writer a `CallSink`, the snapshot's loader an `OwnerRecord`.
pub trait Store: OwnerRecord + CallSink + CallHistory + Archive + CallFacts + 'static {}

impl<T: OwnerRecord + CallSink + CallHistory + Archive + CallFacts + 'static> Store for T {}

#[cfg(test)]
mod contract;
