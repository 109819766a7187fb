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
    Declined { target: Target, before: Option<Decline> },
    Allowed { allowed: PhoneNumber, before: Option<Allow> },
}

impl WebChange {
    fn is_of(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Declined { target, .. }, Self::Declined { target: other, .. }) => target == other,
            (Self::Allowed { allowed, .. }, Self::Allowed { allowed: other, .. }) => allowed == other,
            _ => false,
        }
    }
}

/// Keeps the newest `UNDO_DEPTH` web changes, one per declined target and one per allowed number:
/// a newer change of the same thing replaces the older entry, so that an Undo always puts back the
/// state just before the latest change (an edit's Undo brings back the decline as it was before
/// the edit, a removal's the record removed), and an older banner's Undo finds nothing to undo.
pub fn remember_web_change(changes: &mut Vec<WebChange>, change: WebChange) {
    changes.retain(|kept| !kept.is_of(&change));
    changes.push(change);
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
        assert_eq!(changes, [WebChange::Declined { target: Target::Number(number()), before: None }]);
        let allow = Allow::always(number(), Some("Mum".into()), Timestamp::UNIX_EPOCH);
        let allowed = vec![WebChange::Allowed { allowed: number(), before: Some(allow) }];
        let round_trip: Vec<WebChange> = serde_json::from_slice(&serde_json::to_vec(&allowed).unwrap()).unwrap();
        assert_eq!(round_trip, allowed);
    }

    #[test]
    fn a_second_change_of_the_same_number_replaces_the_first_and_undoes_to_just_before_itself() {
        let mum = Allow::always(number(), Some("Mum".into()), Timestamp::UNIX_EPOCH);
        let dave = Allow::always(number(), Some("Dave".into()), Timestamp::UNIX_EPOCH);
        let mut changes = Vec::new();
        remember_web_change(&mut changes, WebChange::Allowed { allowed: number(), before: Some(mum) });
        remember_web_change(&mut changes, WebChange::Declined { target: Target::Number(number()), before: None });
        remember_web_change(&mut changes, WebChange::Allowed { allowed: number(), before: Some(dave.clone()) });
        assert_eq!(
            changes,
            [
                WebChange::Declined { target: Target::Number(number()), before: None },
                WebChange::Allowed { allowed: number(), before: Some(dave) },
            ]
        );
    }
}
