//! Tokens a provider sends once per request (Plivo's nonce, Vonage's `jti`): a second request
//! with one already seen is a replay. The memory outlives configuration reloads, so a reload
//! opens no window for replaying what was just sent. A token new here is also asked of the store,
//! which remembers it for every process on a shared database (`CallFacts::first_seen`).

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::store::CallFacts;

/// How long a token is remembered. Plivo's signature carries no time at all, so this bounds
/// how long after a request a copy of it is still refused.
pub const REMEMBER_SECS: i64 = 24 * 60 * 60;
/// Enough for a busy line's day of callbacks; past it the oldest are forgotten first.
const CAPACITY: usize = 200_000;

/// How long a request waits for the store to say whether another process saw its token. Past it
/// (or when the store cannot answer) the request is taken: a replay let through once is a call
/// forwarded, and the business never loses a call to a slow database.
pub const SHARED_WAIT: Duration = Duration::from_millis(500);

#[derive(Default)]
pub struct SeenOnce {
    tokens: Mutex<Tokens>,
    /// Where the processes sharing a database remember tokens; only this process's memory without.
    shared: Option<Arc<dyn CallFacts>>,
}

#[derive(Default)]
struct Tokens {
    seen: HashSet<String>,
    /// When each was seen, oldest first, so that expiry is a walk from the front.
    order: VecDeque<(i64, String)>,
}

impl SeenOnce {
    /// Tokens remembered here and in `store`.
    pub fn shared_by(store: Arc<dyn CallFacts>) -> Self {
        Self { tokens: Mutex::default(), shared: Some(store) }
    }

    /// Whether `token` is new, here and (when the store answers within `SHARED_WAIT`) at every
    /// process sharing the store, remembering it if so. Tokens are kept per provider (`scope`):
    /// two providers may well pick the same one.
    pub fn first_time(&self, scope: &str, token: &str, now_secs: i64) -> bool {
        if !self.first_time_here(scope, token, now_secs) {
            return false;
        }
        let Some(shared) = &self.shared else { return true };
        shared.first_seen(scope, token, SHARED_WAIT).unwrap_or_else(|error| {
            tracing::warn!(%error, scope, "could not ask whether another process saw this request; taking it");
            true
        })
    }

    fn first_time_here(&self, scope: &str, token: &str, now_secs: i64) -> bool {
        let key = format!("{scope}\u{0}{token}");
        let mut tokens = self.tokens.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        while tokens.order.front().is_some_and(|(at, _)| now_secs - at > REMEMBER_SECS) {
            tokens.forget_oldest();
        }
        if tokens.seen.contains(&key) {
            return false;
        }
        if tokens.order.len() >= CAPACITY {
            tokens.forget_oldest();
        }
        tokens.seen.insert(key.clone());
        tokens.order.push_back((now_secs, key));
        true
    }
}

impl Tokens {
    fn forget_oldest(&mut self) {
        if let Some((_, key)) = self.order.pop_front() {
            self.seen.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreError;

    /// A store shared with other processes, which saw `seen` already, or cannot answer.
    struct Shared(Result<bool, &'static str>);

    impl CallFacts for Shared {
        fn first_seen(&self, _: &str, _: &str, _: Duration) -> Result<bool, StoreError> {
            self.0.map_err(|reason| StoreError::Unavailable(reason.into()))
        }
    }

    #[test]
    fn a_token_another_process_saw_is_a_replay_and_one_the_store_cannot_answer_for_is_taken() {
        let elsewhere = SeenOnce::shared_by(Arc::new(Shared(Ok(false))));
        assert!(!elsewhere.first_time("plivo", "n1", 1_000), "seen by another process");
        let unanswered = SeenOnce::shared_by(Arc::new(Shared(Err("no database"))));
        assert!(unanswered.first_time("plivo", "n1", 1_000), "taken: a call is never lost to the database");
        assert!(!unanswered.first_time("plivo", "n1", 1_001), "still refused a second time here");
        let new = SeenOnce::shared_by(Arc::new(Shared(Ok(true))));
        assert!(new.first_time("plivo", "n1", 1_000));
    }

    #[test]
    fn a_token_passes_once_per_provider_until_it_is_forgotten() {
        let seen = SeenOnce::default();
        assert!(seen.first_time("plivo", "n1", 1_000));
        assert!(!seen.first_time("plivo", "n1", 1_001), "a replay");
        assert!(seen.first_time("vonage", "n1", 1_001), "another provider's token");
        assert!(!seen.first_time("plivo", "n1", 1_000 + REMEMBER_SECS), "still remembered");
        assert!(seen.first_time("plivo", "n1", 1_001 + REMEMBER_SECS), "forgotten after a day");
    }
}
