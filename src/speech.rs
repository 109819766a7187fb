//! The words saidno says to callers, whatever provider carries them.

use crate::config::Settings;
use crate::domain::{Action, Decision, Decline, RefusalMode};
use crate::policy::spoken_date;

/// What a caller hears for a decision, in words for the owner: the preview, the log, the evidence.
/// `previous_calls` counts the declined party's calls since the decline, before this one.
pub fn caller_hears(decision: &Decision, previous_calls: u32, settings: &Settings) -> String {
    match &decision.action {
        Action::Forward if settings.forward.to.is_empty() => "the voicemail greeting".to_owned(),
        Action::Forward => "your phones ringing".to_owned(),
        Action::Refuse { mode: RefusalMode::Reject, .. } => "a busy signal (the call is not answered)".to_owned(),
        Action::Refuse { mode: RefusalMode::Message, decline } => {
            refusal_message_after(decline, previous_calls, settings)
        }
    }
}

/// The refusal message for a decline: the configured template with the business, the company and
/// the date filled in. Filled in one pass, so a company called "{date}" stays "{date}".
pub fn refusal_message(decline: &Decline, settings: &Settings) -> String {
    refusal_message_after(decline, 0, settings)
}

/// The refusal message for a caller who has already called `previous_calls` times since the
/// decline: from the second call on, `{calls_since}` tells them how many times they have called,
/// which is what makes a persistent caller's list manager take notice.
pub fn refusal_message_after(decline: &Decline, previous_calls: u32, settings: &Settings) -> String {
    let company = decline.company.as_deref().unwrap_or("your company");
    let date = spoken_date(decline.declined_at, &settings.time_zone);
    let calls = previous_calls.saturating_add(1);
    let calls_since = if calls >= 2 { format!(" You have called {calls} times since.") } else { String::new() };
    fill(
        &settings.refusal.message,
        &[("business", settings.business_name()), ("company", company), ("date", &date), ("calls_since", &calls_since)],
    )
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
    use crate::domain::{Channel, PhoneNumber};

    fn decline(company: Option<&str>) -> Decline {
        Decline {
            number: PhoneNumber::from_e164("+442079460123").unwrap(),
            company: company.map(str::to_owned),
            note: None,
            declined_at: "2026-11-03T10:00:00Z".parse().unwrap(),
            declined_by: None,
            channel: Channel::Web,
            mode: None,
        }
    }

    #[test]
    fn the_message_names_business_company_and_date() {
        let mut settings = Settings::defaults();
        settings.business_name = "Acme Plumbing".into();
        settings.time_zone = jiff::tz::TimeZone::UTC;
        let message = refusal_message(&decline(Some("Everest Windows")), &settings);
        assert!(message.contains("this is Acme Plumbing"), "{message}");
        assert!(message.contains("On 3 November 2026 we asked Everest Windows"), "{message}");
    }

    #[test]
    fn from_the_second_call_the_message_says_how_many_times_they_have_called() {
        let settings = Settings::defaults();
        let first = refusal_message_after(&decline(Some("Everest Windows")), 0, &settings);
        assert!(!first.contains("times since"), "{first}");
        let fourth = refusal_message_after(&decline(Some("Everest Windows")), 3, &settings);
        assert!(fourth.contains("our answer is still no. You have called 4 times since. Please remove"), "{fourth}");
    }

    #[test]
    fn an_unnamed_company_is_addressed_as_your_company() {
        let message = refusal_message(&decline(None), &Settings::defaults());
        assert!(message.contains("we asked your company"), "{message}");
    }

    #[test]
    fn placeholders_inside_values_are_not_filled_again() {
        assert_eq!(fill("{a} and {b}", &[("a", "{b}"), ("b", "x")]), "{b} and x");
        assert_eq!(fill("{unknown} {a", &[("a", "x")]), "{unknown} {a");
    }
}
