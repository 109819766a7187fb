//! How many entries the call log holds in memory at once, and the ones it had to turn away.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How often, at most, the log says that calls were turned away: a flood of them is one line a
/// while, not one a call.
const REPORT_EVERY: Duration = Duration::from_secs(10);

/// The entries queued and not yet written, counted from the moment one is queued until it is in
/// the store (or given up on), so that calls held through an outage of the database count too.
pub struct Bound {
    most: usize,
    held: AtomicUsize,
    /// Turned away since the log last said so.
    calls_turned_away: AtomicU64,
    outcomes_turned_away: AtomicU64,
}

impl Bound {
    pub fn new(most: usize) -> Self {
        Self {
            most: most.max(1),
            held: AtomicUsize::new(0),
            calls_turned_away: AtomicU64::new(0),
            outcomes_turned_away: AtomicU64::new(0),
        }
    }

    pub fn most(&self) -> usize {
        self.most
    }

    /// Takes one more entry in, unless `most` are held already; never waits.
    pub fn admit(&self) -> bool {
        self.held
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |held| (held < self.most).then_some(held + 1))
            .is_ok()
    }

    /// `count` entries are no longer held: written, or given up on.
    pub fn release(&self, count: usize) {
        if count > 0 {
            self.held.fetch_sub(count, Ordering::SeqCst);
        }
    }

    pub fn held(&self) -> usize {
        self.held.load(Ordering::SeqCst)
    }

    /// One entry turned away, to be told in the log at the next report.
    pub fn turned_away(&self, call: bool) {
        let count = if call { &self.calls_turned_away } else { &self.outcomes_turned_away };
        count.fetch_add(1, Ordering::SeqCst);
    }

    /// Says in the log how many entries were turned away since it last did, when there were any
    /// and `last` is long enough ago (or `now` is the last chance).
    pub fn report(&self, last: &mut Option<Instant>, now: bool) {
        if !now && last.is_some_and(|at| at.elapsed() < REPORT_EVERY) {
            return;
        }
        let calls = self.calls_turned_away.swap(0, Ordering::SeqCst);
        let outcomes = self.outcomes_turned_away.swap(0, Ordering::SeqCst);
        if calls == 0 && outcomes == 0 {
            return;
        }
        *last = Some(Instant::now());
        tracing::warn!(
            calls,
            outcomes,
            "{calls} calls and {outcomes} outcomes of calls were not logged: {} were already waiting to be \
             written, as many as [log] queue allows",
            self.most
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_more_than_the_bound_are_held_and_each_released_one_makes_room() {
        let bound = Bound::new(2);
        assert!(bound.admit() && bound.admit());
        assert!(!bound.admit(), "a third is turned away");
        bound.release(1);
        assert!(bound.admit());
        assert_eq!(bound.held(), 2);
    }
}
