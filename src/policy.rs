//! The decision: refuse, forward, screen or send to the closed message. Pure: everything it needs
//! comes in as arguments, so the webhook, `saidno check` and the admin API's preview give the same
//! answer for the same facts.
//!
//! Precedence, first match wins: the pause switch (everything rings through); an active allow; the
//! most specific active decline (number, then the longest range, then patterns, then caller-name
//! patterns), escalated by the ladder; the withheld and failed-verification policies; business
//! hours; screening of unknown callers; forward.

use std::fmt::Write as _;

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
        return forward(format_args!("saidno is paused, so every call rings through"), Vec::new());
    }
    let time_zone = &settings.time_zone;
    // The most specific decline (the first given of equally specific ones): of those that hold
    // now, and of all of them for the note on a lapse. No list is sorted for it.
    let most_specific = |holding: bool| {
        records
            .declines
            .iter()
            .filter(|(decline, _)| !holding || decline.is_active(now))
            .min_by_key(|(decline, _)| std::cmp::Reverse(decline.target.specificity()))
    };
    let active = most_specific(true);

    let mut notes = Vec::new();
    if let Some(allow) = &records.allow {
        if allow.is_active(now) {
            let mut reason = String::with_capacity(96);
            let _ = write!(reason, "{FORWARDED}{} is allowed", call.from);
            push_named(&mut reason, allow.name.as_deref());
            push_window(&mut reason, allow, time_zone);
            if let Some((decline, _)) = active {
                reason.push_str(", which overrides the decline of ");
                push_description(&mut reason, decline, time_zone);
            }
            return Decision { action: Action::Forward, reason, uses_single_allow: allow.once };
        }
        notes.push(inactive_allow(allow, now, time_zone));
    }
    if let Some((decline, follow_ups)) = active {
        return with_notes(refuse_declined(decline, follow_ups, settings), notes);
    }
    if !records.declines.is_empty()
        && let Some((lapsed, _)) = most_specific(false)
    {
        let mut note = String::from("the decline of ");
        push_subject(&mut note, lapsed);
        note.push_str(" lapsed on ");
        if let Some(date) = lapsed.not_before {
            push_short_date(&mut note, date, time_zone);
        }
        notes.push(note);
    }

    let why = Why(&call.from);
    if let CallerId::Withheld = call.from {
        match settings.policy.withheld {
            CallerPolicy::Refuse => return refuse(Ground::Withheld, why.to_string(), settings, notes),
            CallerPolicy::Screen => return screen(why, notes),
            CallerPolicy::Forward => {}
        }
    }
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
        let reason = format!("{CLOSED}outside business hours; {why}");
        return with_notes(Decision { action: Action::Closed, reason, uses_single_allow: false }, notes);
    }
    if settings.policy.screen_unknown {
        return screen(why, notes);
    }
    forward(why, notes)
}

/// Why a call with no record of its own is let through, or would be: written straight into the
/// reason rather than into a string of its own first.
struct Why<'a>(&'a CallerId);

impl std::fmt::Display for Why<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            CallerId::Withheld => f.write_str("caller withheld their number"),
            CallerId::Other(text) => write!(f, "caller id {text:?} is not a phone number"),
            CallerId::Number(number) => write!(f, "no decline on record for {number}"),
        }
    }
}

// Every reason opens with its verdict, so that it reads alone, in a text or on the command line.
const REFUSED: &str = "refused: ";
const FORWARDED: &str = "forwarded: ";
const SCREENED: &str = "screened: ";
const CLOSED: &str = "closed: ";

/// A reason without the verdict it opens with: where the verdict has a column of its own, as in a
/// log row, the rest says why.
pub fn after_verdict(reason: &str) -> &str {
    [REFUSED, FORWARDED, SCREENED, CLOSED].iter().find_map(|verdict| reason.strip_prefix(verdict)).unwrap_or(reason)
}

pub fn is_open(hours: &Hours, now: Timestamp, time_zone: &TimeZone) -> bool {
    let local = time_zone.to_datetime(now);
    hours.day(local.weekday()).contains(local.time())
}

fn refuse_declined(decline: &Decline, follow_ups: &FollowUps, settings: &Settings) -> Decision {
    let this_call = follow_ups.count + 1;
    let chosen = decline.mode.unwrap_or(settings.refusal.mode);
    let reached = || settings.policy.escalation.steps.iter().filter(|step| step.from_call <= this_call);
    // The mode of the latest step reached that sets one (of steps from the same call, the last
    // listed), as though the steps were sorted by the call they start from.
    let mode = reached()
        .filter(|step| step.mode.is_some())
        .max_by_key(|step| step.from_call)
        .and_then(|step| step.mode)
        .unwrap_or(chosen);
    let flagged = reached().any(|step| step.flag);

    let mut reason = String::with_capacity(96);
    reason.push_str(REFUSED);
    push_description(&mut reason, decline, &settings.time_zone);
    reason.push_str("; ");
    push_ordinal(&mut reason, this_call);
    reason.push_str(" call since");
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
        let companies = &settings.policy.escape_hatch_companies;
        settings.policy.escape_hatch
            || (!companies.is_empty() && {
                let company = decline.company.as_deref().map(company_key);
                companies.iter().any(|listed| Some(company_key(listed)) == company)
            })
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
        Decision { action: Action::Refuse(refusal), reason: format!("{REFUSED}{why}"), uses_single_allow: false },
        notes,
    )
}

fn screen(why: impl std::fmt::Display, notes: Vec<String>) -> Decision {
    let reason = format!("{SCREENED}{why}; asked to press 1");
    with_notes(Decision { action: Action::Screen, reason, uses_single_allow: false }, notes)
}

fn forward(why: impl std::fmt::Display, notes: Vec<String>) -> Decision {
    let mut reason = String::with_capacity(64);
    let _ = write!(reason, "{FORWARDED}{why}");
    with_notes(Decision { action: Action::Forward, reason, uses_single_allow: false }, notes)
}

fn with_notes(mut decision: Decision, notes: Vec<String>) -> Decision {
    for note in notes {
        decision.reason.push_str("; ");
        decision.reason.push_str(&note);
    }
    decision
}

/// " (Mum)" after the number, when the allow names it.
fn push_named(out: &mut String, name: Option<&str>) {
    if let Some(name) = name {
        out.push_str(" (");
        out.push_str(name);
        out.push(')');
    }
}

/// " from 24 Nov 14:00 until 24 Nov 16:00, once".
fn push_window(out: &mut String, allow: &Allow, time_zone: &TimeZone) {
    if let Some(from) = allow.from {
        out.push_str(" from ");
        push_short_time(out, from, time_zone);
    }
    if let Some(until) = allow.until {
        out.push_str(" until ");
        push_short_time(out, until, time_zone);
    }
    if allow.once {
        out.push_str(", once");
    }
}

fn inactive_allow(allow: &Allow, now: Timestamp, time_zone: &TimeZone) -> String {
    let state = match (allow.used_at, allow.from, allow.until) {
        (Some(used), _, _) if allow.once => format!("was used on {}", short_time(used, time_zone)),
        (_, Some(from), _) if now < from => format!("starts {}", short_time(from, time_zone)),
        (_, _, Some(until)) => format!("ended {}", short_time(until, time_zone)),
        _ => "does not hold now".to_owned(),
    };
    let mut note = format!("the allow for {}", allow.number);
    push_named(&mut note, allow.name.as_deref());
    note.push(' ');
    note.push_str(&state);
    note
}

/// Who was declined, as a person reads it: the company, with the range or pattern when the
/// decline is not of one number.
fn push_subject(out: &mut String, decline: &Decline) {
    match (&decline.company, &decline.target) {
        (Some(company), Target::Number(_)) => out.push_str(company),
        (Some(company), target) => {
            let _ = write!(out, "{company} ({target})");
        }
        (None, Target::Number(_)) => out.push_str("unnamed company"),
        (None, target) => {
            let _ = write!(out, "{target}");
        }
    }
}

/// "Everest Windows, declined 3 Nov 2026 by Sam, not before 1 Mar 2027 (kitchen upsell)".
fn push_description(out: &mut String, decline: &Decline, time_zone: &TimeZone) {
    push_subject(out, decline);
    out.push_str(", declined ");
    push_short_date(out, decline.declined_at, time_zone);
    if let Some(by) = &decline.declined_by {
        out.push_str(" by ");
        out.push_str(by);
    }
    if let Some(date) = decline.not_before {
        out.push_str(", not before ");
        push_short_date(out, date, time_zone);
    }
    if let Some(note) = &decline.note {
        out.push_str(" (");
        out.push_str(note);
        out.push(')');
    }
}

/// "1st", "2nd", "3rd", "4th", "11th", "21st".
pub fn ordinal(n: u32) -> String {
    let mut text = String::new();
    push_ordinal(&mut text, n);
    text
}

fn push_ordinal(out: &mut String, n: u32) {
    let suffix = match (n % 10, n % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    let _ = write!(out, "{n}{suffix}");
}

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// "3 Nov 2026", in the business's time zone.
pub fn short_date(at: Timestamp, time_zone: &TimeZone) -> String {
    let mut text = String::with_capacity(11);
    push_short_date(&mut text, at, time_zone);
    text
}

/// `short_date` written by hand rather than through `strftime`, which costs a decision several
/// hundred nanoseconds: the same text for every year of four digits, `strftime` for any other.
fn push_short_date(out: &mut String, at: Timestamp, time_zone: &TimeZone) {
    let local = time_zone.to_datetime(at);
    if !(1000..=9999).contains(&local.year()) {
        let _ = write!(out, "{}", local.strftime("%-d %b %Y"));
        return;
    }
    push_day_month(out, local);
    out.push(' ');
    push_digits(out, local.year().unsigned_abs().into(), 4);
}

/// "24 Nov 14:00", in the business's time zone.
pub fn short_time(at: Timestamp, time_zone: &TimeZone) -> String {
    let mut text = String::with_capacity(12);
    push_short_time(&mut text, at, time_zone);
    text
}

/// `short_time` by hand, as `push_short_date`.
fn push_short_time(out: &mut String, at: Timestamp, time_zone: &TimeZone) {
    let local = time_zone.to_datetime(at);
    push_day_month(out, local);
    out.push(' ');
    push_digits(out, local.hour().unsigned_abs().into(), 2);
    out.push(':');
    push_digits(out, local.minute().unsigned_abs().into(), 2);
}

/// "3 Nov": the day unpadded and the month's English abbreviation, as `%-d %b` writes them.
fn push_day_month(out: &mut String, local: jiff::civil::DateTime) {
    let day = local.day().unsigned_abs();
    if day >= 10 {
        out.push(char::from(b'0' + day / 10));
    }
    out.push(char::from(b'0' + day % 10));
    out.push(' ');
    out.push_str(MONTHS[usize::from(local.month().unsigned_abs()) - 1]);
}

/// `value` in exactly `width` decimal digits, zero-padded; `value` has no more than that.
fn push_digits(out: &mut String, value: u32, width: u32) {
    for place in (0..width).rev() {
        out.push(char::from(b'0' + (value / 10u32.pow(place) % 10) as u8));
    }
}

/// "3 November 2026", for words that are spoken.
pub fn spoken_date(at: Timestamp, time_zone: &TimeZone) -> String {
    at.to_zoned_datetime(time_zone.clone()).strftime("%-d %B %Y").to_string()
}

#[cfg(test)]
mod tests;
