//! The words saidno says to callers, whatever provider carries them.

use crate::config::Settings;
use crate::domain::{Action, CallerId, Decision, Decline, Ground, Refusal, RefusalMode};
use crate::policy::spoken_date;

/// What a caller refused unanswered hears, as the log keeps it.
pub const BUSY_SIGNAL: &str = "a busy signal (the call is not answered)";

/// What a caller hears for a decision, in words for the owner: the preview, the log, the evidence.
pub fn caller_hears(decision: &Decision, settings: &Settings) -> String {
    match &decision.action {
        Action::Forward if settings.forward.to.is_empty() => "the voicemail greeting".to_owned(),
        Action::Forward => "your phones ringing".to_owned(),
        Action::Refuse(Refusal { mode: RefusalMode::Reject, .. }) => BUSY_SIGNAL.to_owned(),
        Action::Refuse(Refusal { ground, escape_hatch, .. }) => {
            let words = match refusal_recording(ground, settings) {
                Some(recording) => format!("the business's recording ({recording})"),
                None => refusal_message(ground, settings),
            };
            match escape_hatch {
                true => format!("{words} {}", settings.policy.escape_hatch_prompt),
                false => words,
            }
        }
        Action::Screen => with_business(&settings.policy.screen_prompt, settings),
        Action::Closed => with_business(&settings.hours.closed_message, settings),
    }
}

/// The business's recording a declined caller hears instead of the words, when it has one; the
/// withheld and unverified policies keep their own words.
pub fn refusal_recording<'s>(ground: &Ground, settings: &'s Settings) -> Option<&'s str> {
    let recording = settings.refusal.recording.trim();
    (matches!(ground, Ground::Declined { .. }) && !recording.is_empty()).then_some(recording)
}

/// What a refused caller hears: for a decline, the configured template with the business, the
/// company and the dates filled in; for the withheld and unverified policies, their own words.
pub fn refusal_message(ground: &Ground, settings: &Settings) -> String {
    match ground {
        Ground::Declined { decline, follow_up, .. } => declined_message(decline, *follow_up, settings),
        Ground::Withheld => with_business(&settings.refusal.withheld_message, settings),
        Ground::Unverified(_) => with_business(&settings.refusal.unverified_message, settings),
    }
}

/// Filled in one pass, so a company called "{date}" stays "{date}". From the second call after the
/// decline, `{calls_since}` tells the caller how many times they have called since: that is what
/// makes a persistent caller's list manager take notice.
fn declined_message(decline: &Decline, follow_up: u32, settings: &Settings) -> String {
    let company = decline.company.as_deref().unwrap_or("your company");
    let date = spoken_date(decline.declined_at, &settings.time_zone);
    let (template, not_before) = match decline.not_before {
        Some(not_before) => (&settings.refusal.not_before_message, spoken_date(not_before, &settings.time_zone)),
        None => (&settings.refusal.message, String::new()),
    };
    let calls_since = if follow_up >= 2 { format!(" You have called {follow_up} times since.") } else { String::new() };
    fill(
        template,
        &[
            ("business", settings.business_name()),
            ("company", company),
            ("date", &date),
            ("not_before", &not_before),
            ("calls_since", &calls_since),
        ],
    )
}

/// A configured text with `{business}` filled in.
pub fn with_business(template: &str, settings: &Settings) -> String {
    fill(template, &[("business", settings.business_name())])
}

/// The keys an announcement offers, as far as the provider can act on them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnnouncementKeys {
    /// 1 takes the call, 9 declines the caller.
    TakeOrDecline,
    /// Only 1, which takes the call; without it the call is not put through.
    TakeOnly,
    /// None: the call is put through once the announcement ends.
    None,
}

/// What whoever answers a forwarded call hears first: who is calling, and the keys they have.
pub fn announcement(
    caller: &CallerId,
    company: Option<&str>,
    calls_this_week: usize,
    keys: AnnouncementKeys,
) -> String {
    let who = match caller {
        CallerId::Number(number) => spoken_digits(&number.national()),
        CallerId::Withheld => "a withheld number".to_owned(),
        CallerId::Other(_) => "an internet caller".to_owned(),
    };
    let mut words = format!("Call from {who}");
    if let Some(company) = company {
        words.push_str(&format!(", {company}"));
    }
    if calls_this_week > 1 {
        words.push_str(&format!(", their {} call this week", crate::policy::ordinal(calls_this_week as u32)));
    }
    words.push_str(match keys {
        AnnouncementKeys::TakeOrDecline => ". Press 1 to take the call, or 9 to decline.",
        AnnouncementKeys::TakeOnly => ". Press 1 to take the call.",
        AnnouncementKeys::None => ". Connecting.",
    });
    words
}

/// "020 7946 0123" as "0 2 0, 7 9 4 6, 0 1 2 3": read digit by digit, grouped as written.
fn spoken_digits(written: &str) -> String {
    written
        .split_whitespace()
        .map(|group| group.chars().filter(char::is_ascii_digit).map(String::from).collect::<Vec<_>>().join(" "))
        .filter(|group| !group.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let filled = after.find('}').and_then(|close| {
            let value = values.iter().find(|(name, _)| *name == &after[..close])?.1;
            Some((value, close))
        });
        match filled {
            Some((value, close)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{PhoneNumber, Target};

    fn decline(company: Option<&str>) -> Decline {
        let number = Target::Number(PhoneNumber::from_e164("+442079460123").unwrap());
        Decline { company: company.map(str::to_owned), ..Decline::new(number, "2026-11-03T10:00:00Z".parse().unwrap()) }
    }

    #[test]
    fn the_message_names_business_company_and_date() {
        let mut settings = Settings::defaults();
        settings.business_name = "Acme Plumbing".into();
        settings.time_zone = jiff::tz::TimeZone::UTC;
        let message = declined_message(&decline(Some("Everest Windows")), 1, &settings);
        assert!(message.contains("this is Acme Plumbing"), "{message}");
        assert!(message.contains("On 3 November 2026 we asked Everest Windows"), "{message}");
    }

    #[test]
    fn from_the_second_call_the_message_says_how_many_times_they_have_called() {
        let settings = Settings::defaults();
        let first = declined_message(&decline(Some("Everest Windows")), 1, &settings);
        assert!(!first.contains("times since"), "{first}");
        let fourth = declined_message(&decline(Some("Everest Windows")), 4, &settings);
        assert!(fourth.contains("our answer is still no. You have called 4 times since. Please remove"), "{fourth}");
    }

    #[test]
    fn an_unnamed_company_is_addressed_as_your_company() {
        let message = declined_message(&decline(None), 1, &Settings::defaults());
        assert!(message.contains("we asked your company"), "{message}");
    }

    #[test]
    fn the_announcement_reads_the_number_digit_by_digit_with_company_and_calls() {
        let caller = CallerId::from_text("+442079460123");
        assert_eq!(
            announcement(&caller, Some("Everest Windows"), 3, AnnouncementKeys::TakeOrDecline),
            "Call from 0 2 0, 7 9 4 6, 0 1 2 3, Everest Windows, their 3rd call this week. \
             Press 1 to take the call, or 9 to decline."
        );
        assert_eq!(
            announcement(&CallerId::Withheld, None, 1, AnnouncementKeys::TakeOnly),
            "Call from a withheld number. Press 1 to take the call.",
            "a provider that cannot report the 9 does not offer it"
        );
        assert_eq!(
            announcement(&CallerId::Withheld, None, 1, AnnouncementKeys::None),
            "Call from a withheld number. Connecting.",
            "nor any key, where none changes what happens"
        );
    }

    #[test]
    fn a_not_before_decline_says_until_when() {
        let mut settings = Settings::defaults();
        settings.time_zone = jiff::tz::TimeZone::UTC;
        let decline = Decline { not_before: Some("2027-03-01T00:00:00Z".parse().unwrap()), ..decline(Some("Everest")) };
        let message = declined_message(&decline, 1, &settings);
        assert!(message.contains("not to call this number before 1 March 2027"), "{message}");
    }

    #[test]
    fn withheld_and_unverified_callers_hear_their_own_words() {
        let mut settings = Settings::defaults();
        settings.business_name = "Acme".into();
        assert!(refusal_message(&Ground::Withheld, &settings).contains("withheld numbers"));
        assert!(refusal_message(&Ground::Unverified("No-TN-Validation".into()), &settings).contains("verified"));
    }

    #[test]
    fn placeholders_inside_values_are_not_filled_again() {
        assert_eq!(fill("{a} and {b}", &[("a", "{b}"), ("b", "x")]), "{b} and x");
        assert_eq!(fill("{unknown} {a", &[("a", "x")]), "{unknown} {a");
    }
}
