//! What the owner's texts leave behind: the last `LAST` listing, and the changes `UNDO` reverts.

use serde::{Deserialize, Serialize};

use super::{Allow, Decline, PhoneNumber};

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
