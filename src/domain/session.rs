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

/// A change made on the web page, with what was there before, so its Undo puts that back.
/// Untagged: a decline's change is stored exactly as it was before allows had an Undo too.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum WebChange {
    Declined {
        target: Target,
        before: Option<Decline>,
        /// The change removed the decline: its Undo puts back `before`, what it removed.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        removed: bool,
    },
    Allowed {
        allowed: PhoneNumber,
        before: Option<Allow>,
        /// The change removed the allow, as for declines.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        removed: bool,
    },
}

impl WebChange {
    fn is_of(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Declined { target, .. }, Self::Declined { target: other, .. }) => target == other,
            (Self::Allowed { allowed, .. }, Self::Allowed { allowed: other, .. }) => allowed == other,
            _ => false,
        }
    }

    fn removes(&self) -> bool {
        match self {
            Self::Declined { removed, .. } | Self::Allowed { removed, .. } => *removed,
        }
    }

    /// This change, undoing to the state before `older` (a change of the same thing before it).
    /// A removal keeps what it removed: its Undo must bring that back, whatever came before.
    fn since(self, older: Self) -> Self {
        if self.removes() {
            return self;
        }
        match (self, older) {
            (Self::Declined { target, .. }, Self::Declined { before, .. }) => {
                Self::Declined { target, before, removed: false }
            }
            (Self::Allowed { allowed, .. }, Self::Allowed { before, .. }) => {
                Self::Allowed { allowed, before, removed: false }
            }
            (newer, _) => newer,
        }
    }
}

/// Keeps the newest `UNDO_DEPTH` web changes, one per declined target and one per allowed number:
/// a newer change of the same thing replaces the older entry, whose "before" it then carries.
pub fn remember_web_change(changes: &mut Vec<WebChange>, change: WebChange) {
    match changes.iter().position(|kept| kept.is_of(&change)) {
        Some(index) => {
            let older = changes.remove(index);
            changes.push(change.since(older));
        }
        None => changes.push(change),
    }
    if changes.len() > UNDO_DEPTH {
        changes.remove(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::Timestamp;

    fn number() -> PhoneNumber {
        PhoneNumber::from_e164("+442079460123").unwrap()
    }

    #[test]
    fn a_decline_s_change_stored_before_allows_had_an_undo_reads_back_as_it_was() {
        let stored = r#"[{"target":{"number":"+442079460123"},"before":null}]"#;
        let changes: Vec<WebChange> = serde_json::from_str(stored).unwrap();
        assert_eq!(changes, [WebChange::Declined { target: Target::Number(number()), before: None, removed: false }]);
        let allow = Allow::always(number(), Some("Mum".into()), Timestamp::UNIX_EPOCH);
        let allowed = vec![WebChange::Allowed { allowed: number(), before: Some(allow), removed: false }];
        let round_trip: Vec<WebChange> = serde_json::from_slice(&serde_json::to_vec(&allowed).unwrap()).unwrap();
        assert_eq!(round_trip, allowed);
    }

    #[test]
    fn a_second_change_of_the_same_number_undoes_to_before_the_first() {
        let mum = Allow::always(number(), Some("Mum".into()), Timestamp::UNIX_EPOCH);
        let mut changes = Vec::new();
        remember_web_change(
            &mut changes,
            WebChange::Allowed { allowed: number(), before: Some(mum.clone()), removed: false },
        );
        remember_web_change(
            &mut changes,
            WebChange::Declined { target: Target::Number(number()), before: None, removed: false },
        );
        remember_web_change(&mut changes, WebChange::Allowed { allowed: number(), before: None, removed: false });
        assert_eq!(
            changes,
            [
                WebChange::Declined { target: Target::Number(number()), before: None, removed: false },
                WebChange::Allowed { allowed: number(), before: Some(mum), removed: false },
            ]
        );
    }

    #[test]
    fn a_removal_after_an_add_undoes_to_what_it_removed() {
        let mum = Allow::always(number(), Some("Mum".into()), Timestamp::UNIX_EPOCH);
        let mut changes = Vec::new();
        remember_web_change(&mut changes, WebChange::Allowed { allowed: number(), before: None, removed: false });
        let removal = WebChange::Allowed { allowed: number(), before: Some(mum), removed: true };
        remember_web_change(&mut changes, removal.clone());
        assert_eq!(changes, [removal]);
    }
}
