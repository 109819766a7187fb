//! A call on its way to the log, its texts in one buffer: the request's thread makes one
//! allocation that the writer frees, rather than one for each text.
//!
//! Why: a block freed on another thread goes back to the thread that made it cold, its memory last
//! touched by the other core, and the request workers paid a cache miss for each such block they
//! reused. The writer unpacks the call into a `CallRecord` of its own, made and freed on its thread.

use jiff::Timestamp;

use crate::domain::{BusinessId, CallRecord, DecisionKind, ForwardOutcome};

/// The texts of a call record, in the order they are packed.
const TEXTS: usize = 9;

pub struct PackedCall {
    /// Every text of the record, one after another.
    texts: String,
    /// Where each text ends in `texts`.
    ends: [usize; TEXTS],
    /// Which optional texts the record has, a bit each, by their place in `TEXTS`.
    present: u16,
    at: Timestamp,
    decision: DecisionKind,
    follow_up: Option<u32>,
    flagged: bool,
    used_single_allow: bool,
    /// None for a call as it is answered: what the provider reports comes later, apart.
    outcome: Option<Box<ForwardOutcome>>,
    business: BusinessId,
}

impl PackedCall {
    pub fn pack(call: CallRecord) -> Self {
        // Taken apart field by field, so that a field added to the record cannot be left behind.
        let CallRecord {
            call_id,
            from,
            to,
            at,
            decision,
            reason,
            company,
            caller_name,
            verification,
            outcome,
            follow_up,
            party,
            flagged,
            used_single_allow,
            heard,
            business,
        } = call;
        let texts: [Option<&str>; TEXTS] = [
            Some(&call_id),
            Some(&from),
            Some(&to),
            Some(&reason),
            company.as_deref(),
            caller_name.as_deref(),
            verification.as_deref(),
            party.as_deref(),
            heard.as_deref(),
        ];
        let mut packed = String::with_capacity(texts.iter().flatten().map(|text| text.len()).sum());
        let mut ends = [0; TEXTS];
        let mut present = 0;
        for (place, text) in texts.iter().enumerate() {
            if let Some(text) = text {
                packed.push_str(text);
                present |= 1 << place;
            }
            ends[place] = packed.len();
        }
        Self {
            texts: packed,
            ends,
            present,
            at,
            decision,
            follow_up,
            flagged,
            used_single_allow,
            outcome: outcome.map(Box::new),
            business,
        }
    }

    /// The record as it was packed.
    pub fn unpack(self) -> CallRecord {
        let text = |place: usize| -> Option<String> {
            let start = if place == 0 { 0 } else { self.ends[place - 1] };
            (self.present & (1 << place) != 0).then(|| self.texts[start..self.ends[place]].to_owned())
        };
        let given = |place: usize| text(place).unwrap_or_default();
        CallRecord {
            call_id: given(0),
            from: given(1),
            to: given(2),
            at: self.at,
            decision: self.decision,
            reason: given(3),
            company: text(4),
            caller_name: text(5),
            verification: text(6),
            outcome: self.outcome.map(|outcome| *outcome),
            follow_up: self.follow_up,
            party: text(7),
            flagged: self.flagged,
            used_single_allow: self.used_single_allow,
            heard: text(8),
            business: self.business,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_comes_out_as_it_went_in_with_empty_and_absent_texts_kept_apart() {
        let full = CallRecord {
            call_id: "CA1".into(),
            from: "+442079460123".into(),
            to: "+442079460999".into(),
            at: Timestamp::from_second(1_790_000_000).unwrap(),
            decision: DecisionKind::Decline,
            reason: "refused: Everest Windows, declined 3 Nov 2026; 2nd call since".into(),
            company: Some("Everest Windows".into()),
            caller_name: Some(String::new()),
            verification: Some("TN-Validation-Passed-A".into()),
            outcome: Some(ForwardOutcome { status: Some("busy".into()), ..ForwardOutcome::default() }),
            follow_up: Some(2),
            party: Some("company: everest windows".into()),
            flagged: true,
            used_single_allow: true,
            heard: Some("We said no.".into()),
            business: BusinessId(7),
        };
        assert_eq!(PackedCall::pack(full.clone()).unpack(), full);
        let sparse = CallRecord { call_id: "CA2".into(), heard: Some("ringing".into()), ..CallRecord::default() };
        assert_eq!(PackedCall::pack(sparse.clone()).unpack(), sparse);
    }
}
