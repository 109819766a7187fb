//! What the owner's texts leave behind: the last `LAST` listing, and the changes `UNDO` reverts.

use serde::{Deserialize, Serialize};

use super::{Allow, Decline, PhoneNumber, Target};

/// How many text changes `UNDO` can walk back.
const UNDO_DEPTH: usize = 10;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextSession {
    /// The callers `LAST` listed, by code (the first is code 1); `None` for a withheld caller.
    #[serde(default)]
    pub listed: Vec<Option<PhoneNumber>>,
    /// Newest last.
    #[serde(default)]
    pub changes: Vec<TextChange>,
}

/// One change made by text, with what was there before so it can be put back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TextChange {
    Declined { number: PhoneNumber, before: Option<Decline> },
    Allowed { number: PhoneNumber, before: Option<Allow> },
}

impl TextSession {
    pub fn remember(&mut self, change: TextChange) {
        self.changes.push(change);
        if self.changes.len() > UNDO_DEPTH {
            self.changes.remove(0);
        }
    }
}

/// A decline made on the web page, with what was there before, so its Undo puts that back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebChange {
    pub target: Target,
    pub before: Option<Decline>,
}

/// Keeps the newest `UNDO_DEPTH` web changes, one per target: a newer decline of the same target
/// replaces the older entry, whose "before" it already carries.
pub fn remember_web_change(changes: &mut Vec<WebChange>, change: WebChange) {
    match changes.iter().position(|kept| kept.target == change.target) {
        Some(index) => {
            let older = changes.remove(index);
            changes.push(WebChange { before: older.before, ..change });
        }
        None => changes.push(change),
    }
    if changes.len() > UNDO_DEPTH {
        changes.remove(0);
    }
}
