//! Owner decisions awaiting their dial callback, kept in this process's memory: for the stores
//! only one process uses (in PostgreSQL they are rows, which every process on the database sees).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::domain::OwnerDecision;

/// A decision waits this long at most for its dial callback, which follows within seconds.
pub const KEEP: Duration = Duration::from_secs(600);
/// Past this many pending decisions the oldest are dropped; there are never more than a few.
const MAX_PENDING: usize = 1000;

/// Decisions by the original call's id, until its dial callback takes them.
#[derive(Default)]
pub struct PendingDecisions(Mutex<HashMap<String, (Instant, OwnerDecision)>>);

impl PendingDecisions {
    pub fn put(&self, call_id: &str, decision: OwnerDecision) {
        let mut pending = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        pending.retain(|_, (at, _)| at.elapsed() < KEEP);
        if pending.len() >= MAX_PENDING
            && let Some(oldest) = pending.iter().min_by_key(|(_, (at, _))| *at).map(|(sid, _)| sid.clone())
        {
            pending.remove(&oldest);
        }
        pending.insert(call_id.to_owned(), (Instant::now(), decision));
    }

    pub fn take(&self, call_id: &str) -> Option<OwnerDecision> {
        let mut pending = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        pending.remove(call_id).filter(|(at, _)| at.elapsed() < KEEP).map(|(_, decision)| decision)
    }
}
