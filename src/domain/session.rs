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
    },
    Allowed {
        allowed: PhoneNumber,
        before: Option<Allow>,
    },
    /// Several numbers declined in one action (`batch` names it for its Undo), each with the
    /// decline it replaced.
    DeclinedTogether {
        batch: String,
        declined: Vec<DeclinedBefore>,
    },
}

/// One target of a change made to several at once, and its decline before the change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclinedBefore {
    pub target: Target,
    pub before: Option<Decline>,
}

impl WebChange {
    /// Whether this change set the decline of `target`.
    fn declines(&self, target: &Target) -> bool {
        match self {
            Self::Declined { target: declined, .. } => declined == target,
            Self::DeclinedTogether { declined, .. } => declined.iter().any(|entry| entry.target == *target),
            Self::Allowed { .. } => false,
        }
    }

    /// What is left of this (older) change to undo once `newer` is made: nothing of what `newer`
    /// changes again, so that no Undo ever reaches past a later change.
    fn without(self, newer: &Self) -> Option<Self> {
        match self {
            Self::Declined { ref target, .. } if newer.declines(target) => None,
            Self::Allowed { ref allowed, .. } if matches!(newer, Self::Allowed { allowed: other, .. } if other == allowed) => {
                None
            }
            Self::DeclinedTogether { batch, mut declined } => {
                declined.retain(|entry| !newer.declines(&entry.target));
                (!declined.is_empty()).then_some(Self::DeclinedTogether { batch, declined })
            }
            kept => Some(kept),
        }
    }
}

/// Keeps the newest `UNDO_DEPTH` web changes, one per declined target and one per allowed number:
/// a newer change of the same thing replaces the older entry (or leaves it out of an older change
/// of several), so that an Undo always puts back the state just before the latest change (an
/// edit's Undo brings back the decline as it was before the edit, a removal's the record removed),
/// and an older banner's Undo finds nothing to undo.
pub fn remember_web_change(changes: &mut Vec<WebChange>, change: WebChange) {
    let older = std::mem::take(changes);
    changes.extend(older.into_iter().filter_map(|kept| kept.without(&change)));
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
    fn a_later_change_of_one_number_of_several_leaves_it_out_of_their_undo() {
        let other = Target::Number(PhoneNumber::from_e164("+442079460124").unwrap());
        let together = |declined: Vec<Target>| WebChange::DeclinedTogether {
            batch: "1".into(),
            declined: declined.into_iter().map(|target| DeclinedBefore { target, before: None }).collect(),
        };
        let mut changes = Vec::new();
        remember_web_change(&mut changes, together(vec![Target::Number(number()), other.clone()]));
        remember_web_change(&mut changes, WebChange::Declined { target: Target::Number(number()), before: None });
        assert_eq!(
            changes,
            [together(vec![other.clone()]), WebChange::Declined { target: Target::Number(number()), before: None }]
        );
        remember_web_change(&mut changes, WebChange::Declined { target: other.clone(), before: None });
        assert_eq!(changes.len(), 2, "a change of several with nothing left to undo is forgotten: {changes:?}");
        let stored: Vec<WebChange> = serde_json::from_slice(&serde_json::to_vec(&changes).unwrap()).unwrap();
        assert_eq!(stored, changes);
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
