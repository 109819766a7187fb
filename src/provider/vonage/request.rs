//! Vonage's webhook bodies (JSON) turned into the crate's parameters, and those into domain types.

use serde_json::Value;

use crate::domain::{CallerId, ForwardOutcome, IncomingCall};
use crate::provider::Rejection;
use crate::provider::fields::{self, bounded, recording_url};
use crate::provider::form::Params;

/// Nesting deeper than this is no Vonage webhook's.
const MAX_DEPTH: usize = 8;

/// A JSON object's fields as parameters, nested ones named by their path (`dtmf.digits`), array
/// items by their index (`speech.results.0.text`), and scalars as their text; `null` is left out.
pub fn params(body: &[u8]) -> Result<Params, Rejection> {
    let value: Value = serde_json::from_slice(body).map_err(|_| Rejection::WrongType("a JSON object"))?;
    if !value.is_object() {
        return Err(Rejection::WrongType("a JSON object"));
    }
    let mut pairs = Vec::new();
    flatten(String::new(), &value, 0, &mut pairs)?;
    Ok(Params::from_pairs(pairs))
}

fn flatten(name: String, value: &Value, depth: usize, pairs: &mut Vec<(String, String)>) -> Result<(), Rejection> {
    if depth > MAX_DEPTH {
        return Err(Rejection::Invalid("body"));
    }
    let under = |key: &str| if name.is_empty() { key.to_owned() } else { format!("{name}.{key}") };
    match value {
        Value::Null => {}
        Value::Object(fields) => {
            for (key, inner) in fields {
                flatten(under(key), inner, depth + 1, pairs)?;
            }
        }
        Value::Array(items) => {
            for (index, inner) in items.iter().enumerate() {
                flatten(under(&index.to_string()), inner, depth + 1, pairs)?;
            }
        }
        Value::String(text) => pairs.push((name, text.clone())),
        Value::Bool(_) | Value::Number(_) => pairs.push((name, value.to_string())),
    }
    Ok(())
}

/// The answer webhook, or a later one that carries the caller (the input event). Vonage sends
/// `from` as international digits without `+`; one that is missing (a Client SDK user) or not
/// a number is a withheld caller. Vonage reports no STIR/SHAKEN result for inbound calls.
pub fn incoming_call(params: &Params) -> Result<IncomingCall, Rejection> {
    Ok(IncomingCall {
        call_id: call_id(params)?,
        from: CallerId::from_international_digits(bounded(params, "from")?.unwrap_or_default()),
        to: bounded(params, "to")?.map(to_e164).unwrap_or_default(),
        caller_name: None,
        verification: None,
    })
}

/// The business number as the log keeps numbers, `+` first.
fn to_e164(to: &str) -> String {
    match CallerId::from_international_digits(to) {
        CallerId::Number(number) => number.as_str().to_owned(),
        _ => to.trim().to_owned(),
    }
}

/// The conversation: one per incoming call, and named in every webhook about it: the caller's
/// leg, the forwarded leg and the recording. A leg's own `uuid` names only that leg, and the
/// recording event has none, so it serves only when no conversation is given.
pub fn call_id(params: &Params) -> Result<String, Rejection> {
    match params.get("conversation_uuid") {
        Some(_) => fields::call_id(params, "conversation_uuid"),
        None => fields::call_id(params, "uuid"),
    }
}

/// What the forwarded leg's `status` says, when it says how the forward ended.
fn ending(status: &str) -> Option<&'static str> {
    Some(match status {
        "answered" | "completed" => "answered",
        "busy" => "busy",
        "timeout" | "unanswered" => "no-answer",
        "failed" | "rejected" => "failed",
        "cancelled" => "canceled",
        _ => return None,
    })
}

/// The forwarded leg's events that only report progress: `started`, `ringing`, and `answered`,
/// after which the call goes on until `completed`. They are answered with nothing, so that no
/// NCCO can reach a call in progress.
pub fn in_progress(params: &Params) -> bool {
    params.get("status").is_some_and(|status| status == "answered" || ending(status).is_none())
}

/// How the forward ended, from the forwarded leg's event.
pub fn dial_outcome(params: &Params) -> Result<ForwardOutcome, Rejection> {
    let status = params.get("status").ok_or(Rejection::Missing("status"))?;
    let status = ending(status).ok_or(Rejection::Invalid("status"))?;
    Ok(ForwardOutcome {
        status: Some(status.to_owned()),
        duration_secs: fields::seconds(params, "duration")?,
        ..ForwardOutcome::default()
    })
}

/// The record event: the recording's address, and its length from its start and end.
pub fn voicemail(params: &Params) -> Result<ForwardOutcome, Rejection> {
    let at = |name| params.get(name).and_then(|time| time.trim().parse::<jiff::Timestamp>().ok());
    let recording_secs = match (at("start_time"), at("end_time")) {
        (Some(start), Some(end)) if end >= start => u32::try_from(end.as_second() - start.as_second()).ok(),
        _ => None,
    };
    Ok(ForwardOutcome {
        recording_url: recording_url(params, "recording_url")?,
        recording_secs,
        ..ForwardOutcome::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_fields_are_named_by_their_path_and_scalars_by_their_text() {
        let body = br#"{"uuid":"a-1","dtmf":{"digits":"9","timed_out":false},"speech":{"results":[{"text":"yes"}]},"size":12,"x":null}"#;
        let params = params(body).unwrap();
        assert_eq!(params.get("dtmf.digits"), Some("9"));
        assert_eq!(params.get("dtmf.timed_out"), Some("false"));
        assert_eq!(params.get("speech.results.0.text"), Some("yes"));
        assert_eq!(params.get("size"), Some("12"));
        assert_eq!(params.get("x"), None);
        assert!(super::params(b"[1]").is_err());
        assert!(super::params(b"uuid=1").is_err());
    }

    #[test]
    fn the_caller_is_international_digits_and_anything_else_is_withheld() {
        let call = |body: &[u8]| incoming_call(&params(body).unwrap()).unwrap();
        let known = call(br#"{"from":"447700900000","to":"442079460000","uuid":"u-1","conversation_uuid":"CON-1"}"#);
        assert_eq!(known.from, CallerId::from_text("+447700900000"));
        assert_eq!((known.call_id.as_str(), known.to.as_str()), ("CON-1", "+442079460000"));
        assert_eq!(known.verification, None);
        for withheld in
            [&br#"{"uuid":"u-1"}"#[..], br#"{"uuid":"u-1","from":"Unknown"}"#, br#"{"uuid":"u-1","from":""}"#]
        {
            assert_eq!(call(withheld).from, CallerId::Withheld);
        }
        assert_eq!(incoming_call(&params(br#"{"from":"447700900000"}"#).unwrap()), Err(Rejection::Missing("uuid")));
    }

    #[test]
    fn the_forwarded_legs_statuses_end_the_forward_or_report_progress() {
        let outcome = |status: &str| dial_outcome(&params(format!(r#"{{"status":"{status}"}}"#).as_bytes()).unwrap());
        for (status, ended) in [
            ("answered", "answered"),
            ("completed", "answered"),
            ("busy", "busy"),
            ("timeout", "no-answer"),
            ("unanswered", "no-answer"),
            ("failed", "failed"),
            ("rejected", "failed"),
            ("cancelled", "canceled"),
        ] {
            assert_eq!(outcome(status).unwrap().status.as_deref(), Some(ended), "{status}");
        }
        assert!(in_progress(&params(br#"{"status":"ringing"}"#).unwrap()));
        assert!(in_progress(&params(br#"{"status":"answered"}"#).unwrap()));
        assert!(!in_progress(&params(br#"{"status":"completed"}"#).unwrap()));
        assert!(!in_progress(&params(br#"{"status":"timeout"}"#).unwrap()));
        assert!(outcome("ringing").is_err());
        let completed = dial_outcome(&params(br#"{"status":"completed","duration":"42"}"#).unwrap()).unwrap();
        assert_eq!(completed.duration_secs, Some(42));
    }

    #[test]
    fn a_recording_is_timed_from_its_start_and_end_and_must_be_a_web_address() {
        let body = br#"{"recording_url":"https://api.nexmo.com/v1/files/aaaa","start_time":"2026-01-01T12:00:00Z","end_time":"2026-01-01T12:00:07Z","conversation_uuid":"CON-1"}"#;
        let left = voicemail(&params(body).unwrap()).unwrap();
        assert_eq!(left.recording_secs, Some(7));
        assert_eq!(left.recording_url.as_deref(), Some("https://api.nexmo.com/v1/files/aaaa"));
        assert!(voicemail(&params(br#"{"recording_url":"javascript:alert(1)"}"#).unwrap()).is_err());
    }
}
