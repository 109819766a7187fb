//! A call as one row of the log, worded to be read at a glance: the number as the owner dials it,
//! the caller's name, when in days the owner thinks in, and what happened in words.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use super::url_part::encode;
use crate::domain::{CallRecord, CallerId, DecisionKind, ForwardOutcome, Region};
use crate::policy;
use crate::speech::BUSY_SIGNAL;
use crate::store::party_of;

/// Where and when the log is read: the owner's region and zone, and today there.
pub struct Seen {
    pub region: Region,
    pub time_zone: TimeZone,
    pub today: Date,
}

impl Seen {
    pub fn now(region: Region, time_zone: &TimeZone) -> Self {
        let today = Timestamp::now().to_zoned_datetime(time_zone.clone()).date();
        Self { region, time_zone: time_zone.clone(), today }
    }

    /// "Today 12:05", "Yesterday 18:40", "24 Nov 14:00", or with the year when it is not this one.
    pub fn when(&self, at: Timestamp) -> String {
        let local = at.to_zoned_datetime(self.time_zone.clone());
        let day = local.date();
        if day == self.today {
            local.strftime("Today %H:%M").to_string()
        } else if self.today.yesterday().ok() == Some(day) {
            local.strftime("Yesterday %H:%M").to_string()
        } else if day.year() == self.today.year() {
            local.strftime("%-d %b %H:%M").to_string()
        } else {
            local.strftime("%-d %b %Y %H:%M").to_string()
        }
    }
}

/// A call as a row of the log.
pub struct CallRow {
    pub time: String,
    /// The moment in full, for hovering over the time.
    pub at: String,
    pub call_id: String,
    /// As logged: E.164, `withheld`, or what the provider sent.
    pub from: String,
    /// As the owner dials it.
    pub shown: String,
    pub caller_name: String,
    pub decision: String,
    pub refused: bool,
    pub company: String,
    pub company_link: String,
    pub follow_up: String,
    /// Why, in the words the other columns leave out.
    pub reason: String,
    /// The reason as the decision worded it, shown on hover and in exports.
    pub reason_in_full: String,
    pub outcome: String,
    pub can_decline: bool,
    /// A refused caller with a number, who can be let through as a customer.
    pub can_allow: bool,
    /// A refused caller whose calls an allow now lets through.
    pub allowed_since: bool,
    /// The decline now on record for this caller's number, if it was declined since.
    pub declined: Option<DeclinedSince>,
    /// Where the page plays the voicemail left, through saidno; empty when there is none to play.
    pub voicemail: String,
    /// The voicemail's words, as the provider transcribed them; empty when there are none.
    pub transcript: String,
    /// For a transcript too long to show whole in a row, its opening words, which unfold to the
    /// rest; empty for a short one, shown whole.
    pub transcript_opening: String,
}

/// A caller's current decline, as a forwarded row offers to edit it.
pub struct DeclinedSince {
    pub date: String,
    pub company: String,
    pub note: String,
}

impl CallRow {
    pub fn of(call: &CallRecord, seen: &Seen) -> Self {
        let shown = match CallerId::from_text(&call.from) {
            CallerId::Number(number) => number.as_dialled_in(seen.region),
            CallerId::Withheld => "withheld".to_owned(),
            CallerId::Other(text) => text,
        };
        // The owner pressed 9 during the announcement: the caller heard the refusal, whatever the
        // decision logged when the call was put through.
        let declined_by_phone = call.outcome.as_ref().and_then(|o| o.status.as_deref()) == Some("declined");
        let transcript = call.outcome.as_ref().and_then(|outcome| outcome.transcript.as_deref());
        Self {
            time: seen.when(call.at),
            at: call.at.to_zoned_datetime(seen.time_zone.clone()).strftime("%Y-%m-%d %H:%M:%S %Z").to_string(),
            call_id: call.call_id.clone(),
            from: call.from.clone(),
            shown,
            caller_name: call.caller_name.clone().unwrap_or_default(),
            decision: match call.decision {
                DecisionKind::Forward if declined_by_phone => "refused".into(),
                DecisionKind::Forward => "forwarded".into(),
                DecisionKind::Decline => "refused".into(),
                DecisionKind::Screen => "screened".into(),
                DecisionKind::Closed => "after hours".into(),
            },
            refused: call.is_refusal() || declined_by_phone,
            company: call.company.clone().unwrap_or_default(),
            company_link: party_of(call).map(|party| format!("/companies/{}", encode(&party))).unwrap_or_default(),
            follow_up: call.follow_up.map(|n| format!("#{n} since the no")).unwrap_or_default(),
            reason: match declined_by_phone {
                true => "declined by pressing 9 while the call was announced; the caller heard the refusal".into(),
                false => why(call),
            },
            reason_in_full: call.reason.clone(),
            outcome: outcome(call),
            can_decline: call.decision == DecisionKind::Forward && call.from.starts_with('+'),
            can_allow: (call.is_refusal() || declined_by_phone) && call.from.starts_with('+'),
            allowed_since: false,
            declined: None,
            voicemail: String::new(),
            transcript: transcript.unwrap_or_default().to_owned(),
            transcript_opening: transcript.and_then(opening).unwrap_or_default(),
        }
    }
}

/// About two lines of a row on a phone: a transcript longer than this folds.
const SHOWN_WHOLE_CHARS: usize = 120;

/// The opening words of a transcript too long to show whole, cut at a word, with an ellipsis.
fn opening(transcript: &str) -> Option<String> {
    if transcript.chars().count() <= SHOWN_WHOLE_CHARS {
        return None;
    }
    let cut = transcript.char_indices().nth(SHOWN_WHOLE_CHARS - 20).map_or(transcript.len(), |(at, _)| at);
    let words = transcript[..cut].rsplit_once(' ').map_or(&transcript[..cut], |(words, _)| words);
    Some(format!("{}…", words.trim_end()))
}

/// Why, without what the row's other columns already say: the verdict, the caller's number, the
/// company and which call since the no this is. The reason in full stays on hover.
fn why(call: &CallRecord) -> String {
    let mut why = policy::after_verdict(&call.reason)
        .replacen(&format!("{} is allowed", call.from), "allowed", 1)
        .replacen(&format!(" for {}", call.from), "", 1);
    if let Some(company) = call.company.as_deref()
        && let Some(rest) = why.strip_prefix(company).and_then(|rest| rest.strip_prefix(", "))
    {
        why = rest.to_owned();
    }
    if let Some(n) = call.follow_up {
        why = why.replacen(&format!("; {} call since", policy::ordinal(n)), "", 1);
    }
    why
}

/// What happened, in words: for a refusal what the caller heard, for a forward how it ended.
fn outcome(call: &CallRecord) -> String {
    let mut parts = Vec::new();
    if call.decision == DecisionKind::Decline {
        let busy = call.heard.as_deref() == Some(BUSY_SIGNAL);
        parts.push(if busy { "busy signal, unanswered" } else { "spoken refusal" }.to_owned());
    }
    if let Some(outcome) = &call.outcome {
        parts.extend(forward_outcome(outcome));
    }
    parts.join("; ")
}

fn forward_outcome(outcome: &ForwardOutcome) -> Vec<String> {
    let mut parts = Vec::new();
    if outcome.via_escape_hatch {
        parts.push("came through the escape hatch".to_owned());
    }
    match outcome.screening.as_deref() {
        Some("passed") => parts.push("passed screening".to_owned()),
        Some(_) => parts.push("screened out".to_owned()),
        None => {}
    }
    let ended = match outcome.status.as_deref() {
        Some("answered") => Some(match outcome.duration_secs {
            Some(secs) => format!("answered, {}", length(secs)),
            None => "answered".to_owned(),
        }),
        Some("no-answer") => Some("no answer".to_owned()),
        Some("busy") => Some("busy".to_owned()),
        Some("failed") => Some("could not connect".to_owned()),
        Some("canceled") => Some("caller hung up".to_owned()),
        Some("declined") => Some("spoken refusal".to_owned()),
        Some(other) => Some(other.to_owned()),
        None => None,
    };
    parts.extend(ended);
    if outcome.recording_url.is_some() {
        parts.push(match outcome.recording_secs {
            Some(secs) => format!("voicemail, {}", length(secs)),
            None => "voicemail".to_owned(),
        });
    }
    parts
}

/// "42 s", "2 min 05 s".
fn length(secs: u32) -> String {
    match secs {
        0..60 => format!("{secs} s"),
        _ => format!("{} min {:02} s", secs / 60, secs % 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen() -> Seen {
        Seen { region: "GB".parse().unwrap(), time_zone: TimeZone::UTC, today: "2026-12-01".parse().unwrap() }
    }

    #[test]
    fn times_read_in_days_the_owner_thinks_in() {
        let seen = seen();
        assert_eq!(seen.when("2026-12-01T12:05:00Z".parse().unwrap()), "Today 12:05");
        assert_eq!(seen.when("2026-11-30T18:40:00Z".parse().unwrap()), "Yesterday 18:40");
        assert_eq!(seen.when("2026-11-24T14:00:00Z".parse().unwrap()), "24 Nov 14:00");
        assert_eq!(seen.when("2025-11-24T14:00:00Z".parse().unwrap()), "24 Nov 2025 14:00");
    }

    #[test]
    fn why_leaves_out_what_the_other_columns_say_and_keeps_the_rest() {
        let logged = |reason: &str, company: Option<&str>, follow_up| CallRecord {
            from: "+442079460123".into(),
            reason: reason.into(),
            company: company.map(str::to_owned),
            follow_up,
            ..Default::default()
        };
        let cases = [
            (logged("forwarded: no decline on record for +442079460123", None, None), "no decline on record"),
            (logged("forwarded: +442079460123 is allowed (Mum)", None, None), "allowed (Mum)"),
            (
                logged(
                    "refused: Everest Windows, declined 25 Nov 2026 by Sam (kitchen upsell); 2nd call since; flagged for a complaint",
                    Some("Everest Windows"),
                    Some(2),
                ),
                "declined 25 Nov 2026 by Sam (kitchen upsell); flagged for a complaint",
            ),
            (
                logged("screened: caller withheld their number; asked to press 1", None, None),
                "caller withheld their number; asked to press 1",
            ),
        ];
        for (call, why) in cases {
            let row = CallRow::of(&call, &seen());
            assert_eq!(row.reason, why);
            assert_eq!(row.reason_in_full, call.reason, "in full on hover");
        }
    }

    #[test]
    fn a_row_shows_the_number_as_dialled_and_what_happened_in_words() {
        let call = |from: &str, decision, heard: Option<&str>, outcome| CallRecord {
            from: from.into(),
            decision,
            heard: heard.map(str::to_owned),
            outcome,
            at: "2026-12-01T12:05:00Z".parse().unwrap(),
            ..Default::default()
        };
        let answered =
            ForwardOutcome { status: Some("answered".into()), duration_secs: Some(125), ..Default::default() };
        let row = CallRow::of(&call("+442079460555", DecisionKind::Forward, None, Some(answered)), &seen());
        assert_eq!((row.shown.as_str(), row.outcome.as_str()), ("020 7946 0555", "answered, 2 min 05 s"));
        assert_eq!(row.from, "+442079460555", "E.164 stays for hovering and forms");
        let abroad = CallRow::of(&call("+14155550100", DecisionKind::Forward, None, None), &seen());
        assert_eq!(abroad.shown, "+1 415-555-0100");

        let message = ForwardOutcome {
            status: Some("no-answer".into()),
            recording_url: Some("https://api.example/RE1".into()),
            recording_secs: Some(42),
            ..Default::default()
        };
        let row = CallRow::of(&call("+442079460555", DecisionKind::Forward, None, Some(message)), &seen());
        assert_eq!(row.outcome, "no answer; voicemail, 42 s");
        let busy = CallRow::of(&call("+442079460123", DecisionKind::Decline, Some(BUSY_SIGNAL), None), &seen());
        assert_eq!(busy.outcome, "busy signal, unanswered");
        let spoken = CallRow::of(&call("+442079460123", DecisionKind::Decline, Some("We said no."), None), &seen());
        assert_eq!(spoken.outcome, "spoken refusal");
        let pressed_9 = ForwardOutcome { status: Some("declined".into()), ..Default::default() };
        let row = CallRow::of(&call("+442079460123", DecisionKind::Forward, None, Some(pressed_9)), &seen());
        assert_eq!((row.decision.as_str(), row.outcome.as_str()), ("refused", "spoken refusal"));
        assert!(row.reason.starts_with("declined by pressing 9"), "{}", row.reason);
        let screened = ForwardOutcome { screening: Some("screened out".into()), ..Default::default() };
        let row = CallRow::of(&call("withheld", DecisionKind::Screen, None, Some(screened)), &seen());
        assert_eq!((row.shown.as_str(), row.outcome.as_str()), ("withheld", "screened out"));
    }

    #[test]
    fn a_short_transcript_is_shown_whole_and_a_long_one_opens_with_its_first_words() {
        let row = |words: &str| {
            let outcome = ForwardOutcome {
                recording_url: Some("https://api.example/RE1".into()),
                transcript: Some(words.into()),
                ..Default::default()
            };
            CallRow::of(&CallRecord { outcome: Some(outcome), ..Default::default() }, &seen())
        };
        let short = row("Please call me back about the order.");
        assert_eq!(
            (short.transcript.as_str(), short.transcript_opening.as_str()),
            ("Please call me back about the order.", "")
        );
        let long = "Hello, this is Sam from the print shop calling about the banner you ordered. ".repeat(3);
        let folded = row(&long);
        assert_eq!(folded.transcript, long);
        assert!(folded.transcript_opening.starts_with("Hello, this is Sam"), "{}", folded.transcript_opening);
        assert!(folded.transcript_opening.ends_with("…") && folded.transcript_opening.chars().count() <= 101);
        assert!(!folded.transcript_opening.contains("  "), "cut at a word");
        assert_eq!(CallRow::of(&CallRecord::default(), &seen()).transcript, "");
    }
}
