//! A batch of declines as JSON, in the shape it is kept in memory: the shared terms once, each
//! number as its key and the place of its terms. Read back only when every number is a number and
//! every place is among the terms, so that a batch read from elsewhere cannot fail when used.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Decline, DeclineBatch, DeclineTerms};
use crate::domain::PhoneNumber;

#[derive(Serialize)]
struct Written<'a> {
    terms: &'a [DeclineTerms],
    numbers: &'a [(u64, u32)],
    rules: &'a [Decline],
}

#[derive(Deserialize)]
struct Read {
    terms: Vec<DeclineTerms>,
    numbers: Vec<(u64, u32)>,
    rules: Vec<Decline>,
}

impl Serialize for DeclineBatch {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Written { terms: &self.terms, numbers: &self.numbers, rules: &self.rules }.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for DeclineBatch {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let Read { terms, numbers, rules } = Read::deserialize(deserializer)?;
        for &(key, index) in &numbers {
            if index as usize >= terms.len() {
                return Err(serde::de::Error::custom(format!("number {key} points past the batch's terms")));
            }
            if PhoneNumber::from_key(key).is_none() {
                return Err(serde::de::Error::custom(format!("{key} is not the key of a phone number")));
            }
        }
        Ok(Self { terms, numbers, rules, known: Default::default() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Target;

    fn batch() -> DeclineBatch {
        let decline = |number: &str| {
            let terms = DeclineTerms {
                company: Some("Everest".into()),
                note: None,
                declined_at: "2026-01-02T03:04:05Z".parse().unwrap(),
                declined_by: None,
                channel: Default::default(),
                mode: None,
                not_before: None,
                escape_hatch: None,
                on_call: None,
            };
            Decline::with_terms(Target::Number(PhoneNumber::from_e164(number).unwrap()), &terms)
        };
        DeclineBatch::from_iter([decline("+442079460123"), decline("+442079460124")])
    }

    #[test]
    fn a_batch_reads_back_as_written() {
        let written = batch();
        let read: DeclineBatch = serde_json::from_value(serde_json::to_value(&written).unwrap()).unwrap();
        assert_eq!(read.declines().collect::<Vec<_>>(), written.declines().collect::<Vec<_>>());
    }

    #[test]
    fn a_batch_pointing_past_its_terms_or_at_no_number_is_refused() {
        let mut json = serde_json::to_value(batch()).unwrap();
        json["numbers"][0][1] = 7.into();
        let error = serde_json::from_value::<DeclineBatch>(json).unwrap_err();
        assert!(error.to_string().contains("points past"), "{error}");

        let mut json = serde_json::to_value(batch()).unwrap();
        json["numbers"][0][0] = 0.into();
        let error = serde_json::from_value::<DeclineBatch>(json).unwrap_err();
        assert!(error.to_string().contains("not the key of a phone number"), "{error}");
    }
}
