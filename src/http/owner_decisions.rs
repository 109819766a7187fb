//! What whoever answered a forward decided during its announcement, kept for the original call's
//! dial callback, which arrives as a request of its own seconds later.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::domain::Decline;

/// A decision waits this long at most for its dial callback, which follows within seconds.
const KEEP: Duration = Duration::from_secs(600);
/// Past this many pending decisions the oldest are dropped; there are never more than a few.
const MAX_PENDING: usize = 1000;

/// What whoever answered decided, for the original call's dial callback to act on.
#[derive(Clone, Debug)]
pub enum OwnerDecision {
    /// 9: the caller hears the refusal for this decline.
    Declined(Decline),
    /// No key, with `no_key = "voicemail"`: the caller may leave a message.
    ToVoicemail,
}

/// Decisions by the original call's id, until its dial callback takes them.
#[derive(Default)]
pub struct WhisperDecisions(Mutex<HashMap<String, (Instant, OwnerDecision)>>);

impl WhisperDecisions {
    pub fn put(&self, call_id: String, decision: OwnerDecision) {
        let mut pending = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        pending.retain(|_, (at, _)| at.elapsed() < KEEP);
        if pending.len() >= MAX_PENDING
            && let Some(oldest) = pending.iter().min_by_key(|(_, (at, _))| *at).map(|(sid, _)| sid.clone())
        {
            pending.remove(&oldest);
        }
        pending.insert(call_id, (Instant::now(), decision));
    }

    pub fn take(&self, call_id: &str) -> Option<OwnerDecision> {
        let mut pending = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        pending.remove(call_id).filter(|(at, _)| at.elapsed() < KEEP).map(|(_, decision)| decision)
    }
}
