//! The texts the owner receives, short enough for one SMS segment where the names allow.

use std::collections::BTreeMap;

use jiff::tz::TimeZone;

use super::Refused;
use crate::domain::CallRecord;
use crate::policy::ordinal;

/// "Everest Windows called again: 4th time since you said no on 3 Nov. Reply LAST for details."
pub fn called_again(refused: &Refused, time_zone: &TimeZone) -> String {
    let who = refused.company.clone().unwrap_or_else(|| refused.number.to_string());
    format!(
        "{who} called again: {} time since you said no on {}. Reply LAST for details.",
        ordinal(refused.follow_up),
        refused.declined_at.to_zoned_datetime(time_zone.clone()).strftime("%-d %b")
    )
}

/// "Refused today: Everest Windows 3, +442079460123 1. Reply LAST for details." `None` when
/// nobody was refused.
pub fn digest(refused: &[CallRecord]) -> Option<String> {
    let mut by_party: BTreeMap<String, usize> = BTreeMap::new();
    for call in refused.iter().filter(|call| call.is_refusal()) {
        *by_party.entry(call.company.clone().unwrap_or_else(|| call.from.clone())).or_default() += 1;
    }
    if by_party.is_empty() {
        return None;
    }
    let mut parties: Vec<(String, usize)> = by_party.into_iter().collect();
    parties.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let listed: Vec<String> = parties.iter().map(|(who, count)| format!("{who} {count}")).collect();
    Some(format!("Refused today: {}. Reply LAST for details.", listed.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{DecisionKind, PhoneNumber};

    #[test]
    fn the_notice_names_the_company_the_count_and_the_day() {
        let refused = Refused {
            call_id: "CA1".into(),
            company: Some("Everest Windows".into()),
            number: PhoneNumber::from_e164("+442079460123").unwrap(),
            follow_up: 4,
            declined_at: "2026-11-03T10:00:00Z".parse().unwrap(),
            called: "+442079460000".into(),
        };
        let text = called_again(&refused, &TimeZone::UTC);
        assert_eq!(text, "Everest Windows called again: 4th time since you said no on 3 Nov. Reply LAST for details.");
        assert!(text.len() <= 160);
    }

    #[test]
    fn the_digest_counts_refusals_by_company_most_first() {
        let call = |from: &str, company: Option<&str>, decision| CallRecord {
            call_id: "CA1".into(),
            from: from.into(),
            to: "+442079460000".into(),
            at: jiff::Timestamp::UNIX_EPOCH,
            decision,
            reason: String::new(),
            company: company.map(str::to_owned),
            ..Default::default()
        };
        let calls = [
            call("+442079460123", Some("Everest Windows"), DecisionKind::Decline),
            call("+442079460124", None, DecisionKind::Decline),
            call("+442079460125", Some("Everest Windows"), DecisionKind::Decline),
            call("+442079460555", None, DecisionKind::Forward),
        ];
        assert_eq!(
            digest(&calls).as_deref(),
            Some("Refused today: Everest Windows 2, +442079460124 1. Reply LAST for details.")
        );
        assert_eq!(digest(&calls[3..]), None);
    }
}
