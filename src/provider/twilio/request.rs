//! Twilio's webhook parameters turned into domain types.

use crate::domain::{CallerId, ForwardOutcome, IncomingCall, Verification};
use crate::provider::fields::{self, bounded, call_id as id_in, recording_url, seconds};
use crate::provider::form::Params;
use crate::provider::{Rejection, Transcript};

pub use crate::provider::fields::extra;

pub fn incoming_call(params: &Params) -> Result<IncomingCall, Rejection> {
    Ok(IncomingCall {
        call_id: call_id(params)?,
        from: caller(bounded(params, "From")?.ok_or(Rejection::Missing("From"))?),
        to: bounded(params, "To")?.unwrap_or_default().to_owned(),
        caller_name: extra(params, "CallerName"),
        verification: extra(params, "StirVerstat").map(Verification::of_verstat),
    })
}

/// What Twilio sends in `From` when the caller's number is not available. `+266696687` (which
/// spells "anonymous" on a keypad) has the shape of a number, so it is named here; the words are
/// kept as the known spellings, though anything that is not a number is a withheld caller anyway.
const WITHHELD: [&str; 6] = ["anonymous", "+266696687", "restricted", "unknown", "unavailable", "private"];

/// A `From` that is not a number (a word, a SIP address, nothing) is a withheld caller: there is
/// no number to decline, show or call back.
fn caller(from: &str) -> CallerId {
    if WITHHELD.iter().any(|spelling| spelling.eq_ignore_ascii_case(from.trim())) {
        return CallerId::Withheld;
    }
    match CallerId::from_text(from) {
        CallerId::Other(_) => CallerId::Withheld,
        caller => caller,
    }
}

pub fn call_id(params: &Params) -> Result<String, Rejection> {
    id_in(params, "CallSid")
}

/// The `<Dial action>` callback: how the forward ended.
pub fn dial_outcome(params: &Params) -> Result<ForwardOutcome, Rejection> {
    let status = params.get("DialCallStatus").ok_or(Rejection::Missing("DialCallStatus"))?;
    let status = match status {
        "completed" | "answered" => "answered",
        "busy" | "no-answer" | "failed" | "canceled" => status,
        _ => return Err(Rejection::Invalid("DialCallStatus")),
    };
    Ok(ForwardOutcome {
        status: Some(status.to_owned()),
        duration_secs: seconds(params, "DialCallDuration")?,
        ..ForwardOutcome::default()
    })
}

/// The `<Record action>` callback: the voicemail left.
pub fn voicemail(params: &Params) -> Result<ForwardOutcome, Rejection> {
    let url = recording_url(params, "RecordingUrl")?;
    Ok(ForwardOutcome {
        recording_url: url,
        recording_secs: seconds(params, "RecordingDuration")?,
        ..ForwardOutcome::default()
    })
}

/// The `<Record transcribeCallback>` callback: the voicemail's words in `text` (Twilio's
/// `TranscriptionText`), or none when `TranscriptionStatus` says transcription failed. A provider
/// that sends no status sends words only when it has them.
pub fn transcript(params: &Params, text: &'static str) -> Result<Transcript, Rejection> {
    let call_id = call_id(params)?;
    let text = match params.get("TranscriptionStatus") {
        Some("failed") => None,
        None | Some("completed") => fields::transcript(params, text)?,
        Some(_) => return Err(Rejection::Invalid("TranscriptionStatus")),
    };
    Ok(Transcript { call_id, text, file: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn withheld_callers_are_recognised_in_every_spelling_twilio_uses() {
        for from in ["anonymous", "Anonymous", "+266696687", "restricted", "unknown", "unavailable", "private", ""] {
            let call = incoming_call(&params(&[("CallSid", "CA1"), ("From", from)])).unwrap();
            assert_eq!(call.from, CallerId::Withheld, "{from:?}");
        }
        let call = incoming_call(&params(&[("CallSid", "CA1"), ("From", "sip:alice@example.com")])).unwrap();
        assert_eq!(call.from, CallerId::Withheld, "a caller without a number");
    }

    #[test]
    fn a_call_needs_a_sid_and_a_from() {
        assert_eq!(incoming_call(&params(&[("From", "+442079460123")])), Err(Rejection::Missing("CallSid")));
        assert_eq!(incoming_call(&params(&[("CallSid", "CA1")])), Err(Rejection::Missing("From")));
        assert_eq!(
            incoming_call(&params(&[("CallSid", "CA<1>"), ("From", "+44")])),
            Err(Rejection::Invalid("CallSid"))
        );
    }

    #[test]
    fn an_empty_from_is_a_withheld_caller() {
        let call = incoming_call(&params(&[("CallSid", "CA1"), ("From", "")])).unwrap();
        assert_eq!(call.from, CallerId::Withheld);
    }

    #[test]
    fn dial_statuses_are_read_and_checked() {
        let outcome = dial_outcome(&params(&[("DialCallStatus", "completed"), ("DialCallDuration", "42")])).unwrap();
        assert_eq!(outcome.status.as_deref(), Some("answered"));
        assert_eq!(outcome.duration_secs, Some(42));
        assert!(dial_outcome(&params(&[("DialCallStatus", "exploded")])).is_err());
        assert!(dial_outcome(&params(&[("DialCallStatus", "busy"), ("DialCallDuration", "-1")])).is_err());
    }

    #[test]
    fn a_transcript_is_read_with_its_call_and_a_failed_one_has_no_words() {
        let done = [("CallSid", "CA1"), ("TranscriptionStatus", "completed"), ("TranscriptionText", " Call me back. ")];
        let transcript = transcript(&params(&done), "TranscriptionText").unwrap();
        assert_eq!(transcript, Transcript { call_id: "CA1".into(), text: Some("Call me back.".into()), file: None });
        let failed = [("CallSid", "CA1"), ("TranscriptionStatus", "failed"), ("TranscriptionText", "")];
        assert_eq!(super::transcript(&params(&failed), "TranscriptionText").unwrap().text, None);
    }

    #[test]
    fn a_transcript_without_its_call_or_with_an_unknown_status_or_too_long_is_refused() {
        let read = |pairs: &[(&str, &str)]| super::transcript(&params(pairs), "TranscriptionText");
        assert_eq!(read(&[("TranscriptionText", "hi")]), Err(Rejection::Missing("CallSid")));
        assert_eq!(
            read(&[("CallSid", "CA1"), ("TranscriptionStatus", "exploded")]),
            Err(Rejection::Invalid("TranscriptionStatus"))
        );
        let long = "word ".repeat(crate::domain::MAX_TRANSCRIPT_CHARS);
        assert_eq!(
            read(&[("CallSid", "CA1"), ("TranscriptionText", long.as_str())]),
            Err(Rejection::Invalid("TranscriptionText"))
        );
    }

    #[test]
    fn a_recording_url_must_be_a_web_address() {
        assert!(voicemail(&params(&[("RecordingUrl", "javascript:alert(1)")])).is_err());
        let outcome =
            voicemail(&params(&[("RecordingUrl", "https://api.twilio.com/RE1"), ("RecordingDuration", "9")])).unwrap();
        assert_eq!(outcome.recording_secs, Some(9));
    }
}
