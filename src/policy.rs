//! The decision: refuse, forward, screen or send to the closed message. Pure: everything it needs
//! comes in as arguments, so the webhook, `saidno check` and the admin API's preview give the same
//! answer for the same facts.
//!
//! Precedence, first match wins: the pause switch (everything rings through); an active allow; the
//! most specific active decline (number, then the longest range, then patterns, then caller-name
//! patterns), escalated by the ladder; the withheld and failed-verification policies; business
//! hours; screening of unknown callers; forward.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::config::{CallerPolicy, Hours, Settings};
use crate::domain::{
    Action, Allow, CallerId, Decision, Decline, FollowUps, Ground, IncomingCall, Refusal, RefusalMode, Target,
    company_key,
};

/// What the records say about a call.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Records {
    pub allow: Option<Allow>,
    /// Every decline covering the call (its number, a range, a pattern, its caller name), each with
    /// its party's follow-ups before this call.
    pub declines: Vec<(Decline, FollowUps)>,
    /// The owner's pause switch.
    pub paused: bool,
}

pub fn decide(call: &IncomingCall, records: &Records, now: Timestamp, settings: &Settings) -> Decision {
    if records.paused {
        return forward("saidno is paused, so every call rings through".into(), Vec::new());
    }
    let time_zone = &settings.time_zone;
    let mut declines: Vec<&(Decline, FollowUps)> = records.declines.iter().collect();
    declines.sort_by_key(|(decline, _)| std::cmp::Reverse(decline.target.specificity()));
    let active = declines.iter().find(|(decline, _)| decline.is_active(now));

    let mut notes = Vec::new();
    if let Some(allow) = &records.allow {
        if allow.is_active(now) {
            let mut reason =
                format!("{} is allowed{}{}", call.from, named(allow.name.as_deref()), window(allow, time_zone));
            if let Some((decline, _)) = active {
                reason.push_str(&format!(", which overrides the decline of {}", describe(decline, time_zone)));
            }
            return Decision { uses_single_allow: allow.once, ..forward(reason, Vec::new()) };
        }
        notes.push(inactive_allow(allow, now, time_zone));
    }
    if let Some((decline, follow_ups)) = active {
        return with_notes(refuse_declined(decline, follow_ups, settings), notes);
    }
    if let Some((lapsed, _)) = declines.first() {
        let date = lapsed.not_before.map(|date| short_date(date, time_zone)).unwrap_or_default();
        notes.push(format!("the decline of {} lapsed on {date}", subject(lapsed)));
    }

    let why = match &call.from {
        CallerId::Withheld => {
            let why = "caller withheld their number".to_owned();
            match settings.policy.withheld {
                CallerPolicy::Refuse => return refuse(Ground::Withheld, why, settings, notes),
                CallerPolicy::Screen => return screen(why, notes),
                CallerPolicy::Forward => why,
            }
        }
        CallerId::Other(text) => format!("caller id {text:?} is not a phone number"),
        CallerId::Number(number) => format!("no decline on record for {number}"),
    };
    if let Some(verification) = call.verification.as_ref().filter(|verification| verification.failed) {
        let report = &verification.report;
        let failed = format!("the caller's number failed verification ({report})");
        match settings.policy.unverified {
            CallerPolicy::Refuse => return refuse(Ground::Unverified(report.clone()), failed, settings, notes),
            CallerPolicy::Screen => return screen(failed, notes),
            CallerPolicy::Forward => notes.push(failed),
        }
    }
    if settings.hours.enabled && !is_open(&settings.hours, now, time_zone) {
        let reason = format!("closed: outside business hours; {why}");
        return with_notes(Decision { action: Action::Closed, reason, uses_single_allow: false }, notes);
    }
    if settings.policy.screen_unknown {
        return screen(why, notes);
    }
    forward(why, notes)
}

pub fn is_open(hours: &Hours, now: Timestamp, time_zone: &TimeZone) -> bool {
    let local = now.to_zoned_datetime(time_zone.clone());
    hours.day(local.weekday()).contains(local.time())
}

fn refuse_declined(decline: &Decline, follow_ups: &FollowUps, settings: &Settings) -> Decision {
    let this_call = follow_ups.count + 1;
    let chosen = decline.mode.unwrap_or(settings.refusal.mode);
    let mut steps: Vec<_> =
        settings.policy.escalation.steps.iter().filter(|step| step.from_call <= this_call).collect();
    steps.sort_by_key(|step| step.from_call);
    let mode = steps.iter().filter_map(|step| step.mode).next_back().unwrap_or(chosen);
    let flagged = steps.iter().any(|step| step.flag);

    let mut reason = format!("refused: {}; {} call since", describe(decline, &settings.time_zone), ordinal(this_call));
    if mode != chosen {
        reason.push_str(match mode {
            RefusalMode::Reject => "; escalated to silent reject",
            RefusalMode::Message => "; escalated to the spoken refusal",
        });
    }
    if flagged {
        reason.push_str("; flagged for a complaint");
    }
    let hatch_for_company = || {
        let company = decline.company.as_deref().map(company_key);
        settings.policy.escape_hatch
            || settings.policy.escape_hatch_companies.iter().any(|listed| Some(company_key(listed)) == company)
    };
    let escape_hatch = mode == RefusalMode::Message && decline.escape_hatch.unwrap_or_else(hatch_for_company);
    if escape_hatch {
        reason.push_str("; offered the escape hatch");
    }
    let ground = Ground::Declined { decline: decline.clone(), follow_up: this_call, flagged };
    Decision { action: Action::Refuse(Refusal { ground, mode, escape_hatch }), reason, uses_single_allow: false }
}

fn refuse(ground: Ground, why: String, settings: &Settings, notes: Vec<String>) -> Decision {
    let refusal = Refusal { ground, mode: settings.refusal.mode, escape_hatch: false };
    with_notes(
        Decision { action: Action::Refuse(refusal), reason: format!("refused: {why}"), uses_single_allow: false },
        notes,
    )
}

fn screen(why: String, notes: Vec<String>) -> Decision {
    let reason = format!("screened: {why}; asked to press 1");
    with_notes(Decision { action: Action::Screen, reason, uses_single_allow: false }, notes)
}

fn forward(why: String, notes: Vec<String>) -> Decision {
    with_notes(
        Decision { action: Action::Forward, reason: format!("forwarded: {why}"), uses_single_allow: false },
        notes,
    )
}

fn with_notes(mut decision: Decision, notes: Vec<String>) -> Decision {
    for note in notes {
        decision.reason.push_str("; ");
        decision.reason.push_str(&note);
    }
    decision
}

fn named(name: Option<&str>) -> String {
    name.map(|name| format!(" ({name})")).unwrap_or_default()
}

/// " from 24 Nov 14:00 until 24 Nov 16:00, once".
fn window(allow: &Allow, time_zone: &TimeZone) -> String {
    let mut text = String::new();
    if let Some(from) = allow.from {
        text.push_str(&format!(" from {}", short_time(from, time_zone)));
    }
    if let Some(until) = allow.until {
        text.push_str(&format!(" until {}", short_time(until, time_zone)));
    }
    if allow.once {
        text.push_str(", once");
    }
    text
}

fn inactive_allow(allow: &Allow, now: Timestamp, time_zone: &TimeZone) -> String {
    let state = match (allow.used_at, allow.from, allow.until) {
        (Some(used), _, _) if allow.once => format!("was used on {}", short_time(used, time_zone)),
        (_, Some(from), _) if now < from => format!("starts {}", short_time(from, time_zone)),
        (_, _, Some(until)) => format!("ended {}", short_time(until, time_zone)),
        _ => "does not hold now".to_owned(),
    };
    format!("the allow for {}{} {state}", allow.number, named(allow.name.as_deref()))
}

/// Who was declined, as a person reads it: the company, with the range or pattern when the
/// decline is not of one number.
fn subject(decline: &Decline) -> String {
    match (&decline.company, &decline.target) {
        (Some(company), Target::Number(_)) => company.clone(),
        (Some(company), target) => format!("{company} ({target})"),
        (None, Target::Number(_)) => "unnamed company".to_owned(),
        (None, target) => target.to_string(),
    }
}

/// "Everest Windows, declined 3 Nov 2026 by Sam, not before 1 Mar 2027 (kitchen upsell)".
fn describe(decline: &Decline, time_zone: &TimeZone) -> String {
    let mut text = format!("{}, declined {}", subject(decline), short_date(decline.declined_at, time_zone));
    if let Some(by) = &decline.declined_by {
        text.push_str(&format!(" by {by}"));
    }
    if let Some(date) = decline.not_before {
        text.push_str(&format!(", not before {}", short_date(date, time_zone)));
    }
    if let Some(note) = &decline.note {
        text.push_str(&format!(" ({note})"));
    }
    text
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

/// "3 Nov 2026", in the business's time zone.
pub fn short_date(at: Timestamp, time_zone: &TimeZone) -> String {
    at.to_zoned_datetime(time_zone.clone()).strftime("%-d %b %Y").to_string()
}

/// "24 Nov 14:00", in the business's time zone.
pub fn short_time(at: Timestamp, time_zone: &TimeZone) -> String {
    at.to_zoned_datetime(time_zone.clone()).strftime("%-d %b %H:%M").to_string()
}

/// "3 November 2026", for words that are spoken.
pub fn spoken_date(at: Timestamp, time_zone: &TimeZone) -> String {
    at.to_zoned_datetime(time_zone.clone()).strftime("%-d %B %Y").to_string()
}

#[cfg(test)]
mod tests;
