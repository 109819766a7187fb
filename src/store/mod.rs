//! The storage boundary: everything saidno keeps goes through these roles. Only `sled.rs` knows
//! sled; `local` opens it for the rest of the program.

mod change;
mod local;
mod memory;
mod prune;
mod query;
mod sled;
mod unavailable;

pub use self::change::{Change, Removed};
pub use self::local::{open_local, restore_local};
pub use self::memory::MemoryStore;
pub use self::prune::{PRUNE_BATCH, Pruned};
pub use self::query::{CallPage, CallQuery, Cursor, HourTally, RepeatCaller, SCAN_BUDGET, party_of};
pub use self::sled::SledStore;
pub use self::unavailable::UnavailableStore;

use jiff::Timestamp;

use crate::domain::{
    Allow, CallRecord, Decline, DeclineTerms, FollowUps, ForwardOutcome, LegalHold, PhoneNumber, SignedIn, Target,
    TextSession, WebChange,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process (usually the running server) has the database open.
    #[error("the database at {0} is in use by another process")]
    Locked(String),
    #[error("database error: {0}")]
    Backend(String),
    #[error("a stored record could not be read: {0}")]
    Corrupt(String),
    #[error("the database is not available: {0}")]
    Unavailable(String),
}

/// The owner's record: what they declined and allowed, and their settings. The call path never
/// reads it; the service reads it whole into the snapshot calls are decided from, and changes it
/// only through `apply`.
pub trait OwnerRecord: Send + Sync {
    /// The decline of exactly this target (one number, one range, one pattern), if any.
    fn decline(&self, target: &Target) -> Result<Option<Decline>, StoreError>;
    fn allow_of(&self, number: &PhoneNumber) -> Result<Option<Allow>, StoreError>;
    /// Every decline: numbers, ranges and patterns.
    fn declines(&self) -> Result<Vec<Decline>, StoreError>;
    /// Every decline of a number, as the keys (`PhoneNumber::key`) of numbers that share one set
    /// of terms, so that a million are read without holding them all or copying their terms.
    fn each_number_decline(&self, visit: &mut dyn FnMut(&DeclineTerms, &[u64])) -> Result<(), StoreError> {
        for decline in self.declines()? {
            if let Target::Number(number) = &decline.target {
                visit(&decline.terms(), &[number.key()]);
            }
        }
        Ok(())
    }
    /// The declines that are not of one number: few, and matched in memory.
    fn rules(&self) -> Result<Vec<Decline>, StoreError>;
    /// The company's name as first written, by its key (see `domain::company_key`).
    fn company_name(&self, key: &str) -> Result<Option<String>, StoreError>;
    fn allows(&self) -> Result<Vec<Allow>, StoreError>;
    /// The owner's pause switch: while on, every call rings through.
    fn paused(&self) -> Result<bool, StoreError>;
    /// The parties under a legal hold, whose calls are never pruned.
    fn legal_holds(&self) -> Result<Vec<LegalHold>, StoreError>;
    /// The argon2 hash of the web page's password, if one was set.
    fn password_hash(&self) -> Result<Option<String>, StoreError>;
    /// What the owner's texts from `owner` left behind (see `domain::TextSession`).
    fn text_session(&self, owner: &PhoneNumber) -> Result<TextSession, StoreError>;
    /// The web page's recent declines with what each replaced, newest last, for its Undo.
    fn web_changes(&self) -> Result<Vec<WebChange>, StoreError>;
    /// The browsers signed in to the web page, expired ones included until they are replaced.
    fn signed_in(&self) -> Result<Vec<SignedIn>, StoreError>;

    /// Makes one change: whole, and on disk, when it returns; or not at all. This is each store's
    /// one place where the owner's record changes.
    fn apply(&self, change: Change<'_>) -> Result<Removed, StoreError>;
    /// Proves the store can take a write and get it to disk now (for the readiness check).
    fn probe(&self) -> Result<(), StoreError>;
}

/// Where decided calls go: written in batches off the call path (see `crate::call_log`).
pub trait CallSink: Send + Sync {
    /// Logs calls. A refusal comes numbered among its party's follow-ups, and the party's count
    /// is kept up to that number.
    fn append_calls(&self, calls: &[CallRecord]) -> Result<(), StoreError>;
    /// Adds what the provider reported after each call to the call's entry, in order; false for
    /// a call that has none.
    fn attach_outcomes(&self, outcomes: &[(String, ForwardOutcome)]) -> Result<Vec<bool>, StoreError>;
    /// Gets every call written so far to disk.
    fn flush(&self) -> Result<(), StoreError>;
}

/// The call log read back, and pruned.
pub trait CallHistory: Send + Sync {
    /// One page of the log, newest first, read along an index so that no page walks the whole log.
    fn call_page(&self, query: &CallQuery) -> Result<CallPage, StoreError>;
    fn calls(&self, query: &CallQuery) -> Result<Vec<CallRecord>, StoreError> {
        Ok(self.call_page(query)?.calls)
    }
    /// Calls per hour (UTC) for the hours that begin in `[since, until)`, for the dashboard; hours
    /// without calls are left out.
    fn call_tallies(&self, since: Timestamp, until: Timestamp) -> Result<Vec<HourTally>, StoreError>;
    /// The calls refused since the party (see `domain::party_key`) was told no.
    fn follow_ups(&self, party: &str) -> Result<FollowUps, StoreError>;
    /// Every party's follow-ups, for the call path to count on from.
    fn follow_up_counts(&self) -> Result<Vec<(String, FollowUps)>, StoreError>;
    /// The numbers that rang through (were not refused) at least `min_calls` times since `since`,
    /// most calls first, at most `limit` of them. No more than `SCAN_BUDGET` of the newest calls
    /// are looked at, so a busy log answers as fast as a quiet one.
    fn repeat_callers(&self, since: Timestamp, min_calls: u32, limit: usize) -> Result<Vec<RepeatCaller>, StoreError>;
    /// One bounded batch of pruning: of the calls logged before `before` (oldest first, strictly
    /// after `after` when given), looks at no more than `budget` and removes each one `keep`
    /// refuses, with every index entry that points at it; and removes the hourly tallies of hours
    /// that ended by `before`. Call again with the returned `next` until it is `None`.
    fn prune_calls(
        &self,
        before: Timestamp,
        keep: &dyn Fn(&CallRecord) -> bool,
        after: Option<Cursor>,
        budget: usize,
    ) -> Result<Pruned, StoreError>;
}

/// A consistent copy of everything kept, and a check that it all reads back.
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
pub trait Store: OwnerRecord + CallSink + CallHistory + Archive + 'static {}

impl<T: OwnerRecord + CallSink + CallHistory + Archive + 'static> Store for T {}

#[cfg(test)]
mod contract;
