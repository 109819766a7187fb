//! How the settings page words each setting the owner can change: its value in effect, and where
//! that value comes from. The banners after a change and the page itself use the same words.

use jiff::tz::TimeZone;

use super::company_page::how_given;
use super::local_time::local_time;
use crate::config::{CallerPolicy, ClosedAction, NoKey, NotifyWhen, SettingName, SettingState, Settings};

/// What a refusal calls the field it is about: the words of the form's own label, whether the
/// form could not read it (`digest_hour`) or the value is one the configuration file could not
/// hold either (`notify.digest_hour`). A day of the week, or anything else, is called as it is.
pub fn field_label(field: &str) -> &str {
    match field {
        "policy" => "Policy",
        "enabled" => "On or off",
        "closed" => "When closed",
        "when" => "Text me",
        "from_follow_up" | "notify.from_follow_up" => "From which call after the no",
        "digest_hour" | "notify.digest_hour" => "Digest at hour",
        "wait_secs" | "whisper.wait_secs" => "Seconds to wait for a key",
        "no_key" => "When no key is pressed",
        other => other,
    }
}

/// The setting's name as a sentence starts it.
pub fn title(name: SettingName) -> &'static str {
    match name {
        SettingName::Withheld => "Withheld callers",
        SettingName::Unverified => "Callers whose number failed verification",
        SettingName::Hours => "Business hours",
        SettingName::Notify => "Texts to you",
        SettingName::Announcement => "Announce forwarded calls",
    }
}

pub fn policy(policy: CallerPolicy) -> &'static str {
    match policy {
        CallerPolicy::Forward => "forward: their calls ring through",
        CallerPolicy::Screen => "screen: they are asked to press 1 first",
        CallerPolicy::Refuse => "refuse: they hear the refusal message, then the call ends",
    }
}

pub fn closed(action: ClosedAction) -> &'static str {
    match action {
        ClosedAction::Voicemail => "the closed message, then voicemail",
        ClosedAction::Message => "the closed message, then the call ends",
    }
}

pub fn notify_when(when: NotifyWhen) -> &'static str {
    match when {
        NotifyWhen::Every => "every call refused from a declined company",
        NotifyWhen::From => "a declined company's calls from a given follow-up on",
        NotifyWhen::Digest => "one digest a day",
        NotifyWhen::Off => "none",
    }
}

pub fn no_key(no_key: NoKey) -> &'static str {
    match no_key {
        NoKey::Connect => "the call connects",
        NoKey::Voicemail => "the caller goes to voicemail",
    }
}

/// The setting's value in `settings` (the ones in effect).
pub fn value(name: SettingName, settings: &Settings) -> String {
    match name {
        SettingName::Withheld => policy(settings.policy.withheld).to_owned(),
        SettingName::Unverified => policy(settings.policy.unverified).to_owned(),
        SettingName::Hours => {
            let hours = &settings.hours;
            if !hours.enabled {
                return "off: calls ring through at any hour".to_owned();
            }
            let days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
            let opening: Vec<String> = days
                .iter()
                .zip(jiff::civil::Weekday::Monday.cycle_forward())
                .map(|(day, weekday)| {
                    let spans = hours.day(weekday).to_string();
                    format!("{day} {}", if spans.is_empty() { "closed" } else { &spans })
                })
                .collect();
            format!("on: {}; when closed, {}", opening.join("; "), closed(hours.closed))
        }
        SettingName::Notify => {
            let notify = &settings.notify;
            let when = match notify.when {
                NotifyWhen::From => format!("from the {} call after a no on", ordinal(notify.from_follow_up)),
                NotifyWhen::Digest => format!("one digest a day at {:02}:00", notify.digest_hour),
                when => notify_when(when).to_owned(),
            };
            match notify.when != NotifyWhen::Off && settings.owner.numbers.is_empty() {
                true => format!("{when}, though none is sent until [owner] numbers names your mobile"),
                false => when,
            }
        }
        SettingName::Announcement => {
            let whisper = &settings.whisper;
            if !whisper.enabled {
                return "off: forwarded calls connect at once".to_owned();
            }
            format!(
                "on: whoever answers hears who is calling and presses 1 to take the call, 9 to refuse; \
                 after {} seconds without a key, {}",
                whisper.wait_secs,
                no_key(whisper.no_key)
            )
        }
    }
}

fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// Where the value comes from: the web page (by whom, when), or the file, with its key and the
/// environment variable that overrides it.
pub fn origin(state: &SettingState, time_zone: &TimeZone) -> String {
    let (key, env) = state.choice.name().file_keys();
    let file = format!("from the configuration file ({key}, {env})");
    match state.changed {
        None => file,
        Some(changed) if state.choice.is_from_file() => {
            format!("{file}; put back {} on {}", how_given(changed.by), local_time(changed.at, time_zone))
        }
        Some(changed) => format!("changed {} on {}", how_given(changed.by), local_time(changed.at, time_zone)),
    }
}
