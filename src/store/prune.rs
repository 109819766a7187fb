//! What one bounded pass of pruning the call log did, and where the next pass starts.

use super::Cursor;

/// The most log entries one prune batch looks at, so a batch holds the store only briefly and
/// calls keep being logged between batches.
pub const PRUNE_BATCH: usize = 1000;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Calls removed, each with every index entry that pointed at it.
    pub calls: usize,
    /// Calls past the period that were kept: a legal hold covers them (or their record cannot be
    /// read, so whether one does cannot be told).
    pub kept: usize,
    /// Hourly tallies removed.
    pub tallies: usize,
    /// Where the next batch continues; `None` once the walk reached the end of the period.
    pub next: Option<Cursor>,
}

impl Pruned {
    /// What this walk and its next batch pruned together, going on from where the batch stopped.
    pub fn and(self, batch: Pruned) -> Pruned {
        Pruned {
            calls: self.calls + batch.calls,
            kept: self.kept + batch.kept,
            tallies: self.tallies + batch.tallies,
            next: batch.next,
        }
    }
}
