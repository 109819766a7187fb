//! The decision: refuse or forward a call. Pure: everything it needs comes in as arguments, so the
//! webhook, `saidno check` and the admin API's preview give the same answer for the same facts.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::config::Settings;
use crate::domain::{Action, Allow, CallerId, Decision, Decline, FollowUps, IncomingCall};

/// What the records say about the caller's number.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Records {
    pub decline: Option<Decline>,
    pub allow: Option<Allow>,
    /// The declined party's calls since the decline, before this one.
    pub follow_ups: FollowUps,
}

pub fn decide(call: &IncomingCall, records: &Records, _now: Timestamp, settings: &Settings) -> Decision {
    let number = match &call.from {
        CallerId::Number(number) => number,
        CallerId::Withheld => return forward("caller withheld their number".into()),
        CallerId::Other(text) => {
            return forward(format!("caller id {text:?} is not a phone number"));
        }
    };
    match (&records.allow, &records.decline) {
        (Some(allow), Some(decline)) => forward(format!(
            "{} is allowed{}, which overrides the decline of {}",
            number,
            named(allow.name.as_deref()),
            describe(decline, &settings.time_zone)
        )),
        (Some(allow), None) => forward(format!("{number} is allowed{}", named(allow.name.as_deref()))),
        (None, Some(decline)) => Decision {
            reason: format!(
                "refused: {}; {} call since",
                describe(decline, &settings.time_zone),
                ordinal(records.follow_ups.count + 1)
            ),
            action: Action::Refuse { mode: decline.mode.unwrap_or(settings.refusal.mode), decline: decline.clone() },
        },
        (None, None) => forward(format!("no decline on record for {number}")),
    }
}

/// "1st", "2nd", "3rd", "4th", "11th", "21st".
pub fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn forward(why: String) -> Decision {
    Decision { action: Action::Forward, reason: format!("forwarded: {why}") }
}

fn named(name: Option<&str>) -> String {
    name.map(|name| format!(" ({name})")).unwrap_or_default()
}

/// "Everest Windows, declined 3 Nov 2026 by Sam (kitchen upsell)".
fn describe(decline: &Decline, time_zone: &TimeZone) -> String {
    let mut text = format!(
        "{}, declined {}",
        decline.company.as_deref().unwrap_or("unnamed company"),
        short_date(decline.declined_at, time_zone)
    );
    if let Some(by) = &decline.declined_by {
        text.push_str(&format!(" by {by}"));
    }
    if let Some(note) = &decline.note {
        text.push_str(&format!(" ({note})"));
    }
    text
}

/// "3 Nov 2026", in the business's time zone.
pub fn short_date(at: Timestamp, time_zone: &TimeZone) -> String {
    at.to_zoned_datetime(time_zone.clone()).strftime("%-d %b %Y").to_string()
}

/// "3 November 2026", for words that are spoken.
pub fn spoken_date(at: Timestamp, time_zone: &TimeZone) -> String {
    at.to_zoned_datetime(time_zone.clone()).strftime("%-d %B %Y").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Channel, PhoneNumber, RefusalMode};

    const CALLER: &str = "+442079460123";

    fn settings() -> Settings {
        let mut settings = Settings::defaults();
        settings.time_zone = TimeZone::get("Europe/London").unwrap();
        settings
    }

    fn call_from(from: &str) -> IncomingCall {
        IncomingCall {
            call_sid: "CA1".into(),
            from: CallerId::from_provider(from),
            to: "+442079460999".into(),
            caller_name: None,
            verstat: None,
        }
    }

    fn decline(mode: Option<RefusalMode>) -> Decline {
        Decline {
            number: PhoneNumber::from_e164(CALLER).unwrap(),
            company: Some("Everest Windows".into()),
            note: Some("kitchen upsell".into()),
            declined_at: "2026-11-03T10:00:00Z".parse().unwrap(),
            declined_by: Some("Sam".into()),
            channel: Channel::CommandLine,
            mode,
        }
    }

    fn allow() -> Allow {
        Allow::always(
            PhoneNumber::from_e164(CALLER).unwrap(),
            Some("Mum".into()),
            "2026-11-01T10:00:00Z".parse().unwrap(),
        )
    }

    fn decide_with(from: &str, records: Records, settings: &Settings) -> Decision {
        decide(&call_from(from), &records, Timestamp::UNIX_EPOCH, settings)
    }

    #[test]
    fn a_declined_number_is_refused_with_a_reason_naming_company_date_and_person() {
        let records = Records { decline: Some(decline(None)), ..Default::default() };
        let decision = decide_with(CALLER, records, &settings());
        assert!(matches!(decision.action, Action::Refuse { mode: RefusalMode::Message, .. }));
        assert_eq!(
            decision.reason,
            "refused: Everest Windows, declined 3 Nov 2026 by Sam (kitchen upsell); 1st call since"
        );
    }

    #[test]
    fn a_decline_without_its_own_mode_follows_the_configured_default() {
        let mut settings = settings();
        settings.refusal.mode = RefusalMode::Reject;
        let records = Records { decline: Some(decline(None)), ..Default::default() };
        let decision = decide_with(CALLER, records, &settings);
        assert!(matches!(decision.action, Action::Refuse { mode: RefusalMode::Reject, .. }));
    }

    #[test]
    fn a_decline_with_its_own_mode_overrides_the_default() {
        let records = Records { decline: Some(decline(Some(RefusalMode::Reject))), ..Default::default() };
        let decision = decide_with(CALLER, records, &settings());
        assert!(matches!(decision.action, Action::Refuse { mode: RefusalMode::Reject, .. }));
    }

    #[test]
    fn an_allow_beats_a_decline_and_says_so() {
        let records = Records { decline: Some(decline(None)), allow: Some(allow()), ..Default::default() };
        let decision = decide_with(CALLER, records, &settings());
        assert_eq!(decision.action, Action::Forward);
        assert!(decision.reason.contains("allowed (Mum)"), "{}", decision.reason);
        assert!(decision.reason.contains("overrides the decline of Everest Windows"));
    }

    #[test]
    fn an_unknown_number_is_forwarded() {
        let decision = decide_with(CALLER, Records::default(), &settings());
        assert_eq!(decision.action, Action::Forward);
        assert_eq!(decision.reason, format!("forwarded: no decline on record for {CALLER}"));
    }

    #[test]
    fn withheld_and_non_number_callers_are_forwarded_with_their_own_reason() {
        let withheld = decide_with("anonymous", Records::default(), &settings());
        assert_eq!(withheld.reason, "forwarded: caller withheld their number");
        let sip = decide_with("sip:a@b.example", Records::default(), &settings());
        assert_eq!(sip.action, Action::Forward);
        assert!(sip.reason.contains("not a phone number"));
    }

    #[test]
    fn the_reason_counts_this_call_among_the_follow_ups() {
        let mut follow_ups = FollowUps::default();
        for _ in 0..3 {
            follow_ups.record(Timestamp::UNIX_EPOCH);
        }
        let records = Records { decline: Some(decline(None)), follow_ups, ..Default::default() };
        let decision = decide_with(CALLER, records, &settings());
        assert!(decision.reason.ends_with("; 4th call since"), "{}", decision.reason);
    }

    #[test]
    fn ordinals_read_as_english() {
        let read: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111].into_iter().map(ordinal).collect();
        assert_eq!(read, ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th"]);
    }

    #[test]
    fn dates_are_given_in_the_business_time_zone() {
        // 23:30 UTC on 3 Nov is already 4 Nov in Auckland.
        let at: Timestamp = "2026-11-03T23:30:00Z".parse().unwrap();
        assert_eq!(short_date(at, &TimeZone::get("Pacific/Auckland").unwrap()), "4 Nov 2026");
        assert_eq!(spoken_date(at, &TimeZone::UTC), "3 November 2026");
    }
}
