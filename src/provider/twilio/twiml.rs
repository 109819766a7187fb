//! TwiML: a decision rendered as the markup Twilio acts on. Every value is escaped.

use std::borrow::Cow;

use crate::config::{ClosedAction, Settings};
use crate::domain::{Action, CallerId, Decision, Ground, IncomingCall, Refusal, RefusalMode};
use crate::speech::{refusal_message, with_business};

/// Twilio refuses larger documents.
pub const MAX_BYTES: usize = 64 * 1024;

/// Where Twilio reports how a forward ended, and where a voicemail is handed over.
pub const DIAL_STATUS_PATH: &str = "/twilio/dial-status";
pub const VOICEMAIL_PATH: &str = "/twilio/voicemail";
/// Where the announcement to whoever answers a forward is fetched, and where their key is sent.
pub const WHISPER_PATH: &str = "/twilio/whisper";
pub const WHISPER_KEY_PATH: &str = "/twilio/whisper/key";
/// Where a refused caller's key press for the escape hatch arrives.
pub const ESCAPE_PATH: &str = "/twilio/escape";
/// Where a screened caller's key press arrives.
pub const SCREEN_PATH: &str = "/twilio/screen";
/// How long a caller has to press a key.
const KEY_TIMEOUT_SECS: &str = "6";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("the TwiML would be {0} bytes, over Twilio's limit of {MAX_BYTES}")]
    TooLarge(usize),
}

/// The answer to an incoming call.
pub fn answer(decision: &Decision, call: &IncomingCall, settings: &Settings) -> Result<String, RenderError> {
    match &decision.action {
        Action::Forward => forward_call(call, settings),
        Action::Refuse(Refusal { mode: RefusalMode::Reject, .. }) => {
            document(element("Reject", &[("reason", "busy")], None))
        }
        Action::Refuse(Refusal { mode: RefusalMode::Message, ground, escape_hatch }) => {
            let mut verbs = say(&refusal_message(ground, settings), settings);
            if *escape_hatch {
                // No key: the Gather ends and the refusal goes on to the hangup.
                verbs += &gather(ESCAPE_PATH, false, &say(&settings.policy.escape_hatch_prompt, settings));
            }
            document(verbs + &element("Hangup", &[], None))
        }
        Action::Screen => {
            let prompt = say(&with_business(&settings.policy.screen_prompt, settings), settings);
            // The callback hears of silence too, so the log can say the caller was screened out.
            document(gather(SCREEN_PATH, true, &prompt) + &element("Hangup", &[], None))
        }
        Action::Closed => {
            let closed = say(&with_business(&settings.hours.closed_message, settings), settings);
            match settings.hours.closed {
                ClosedAction::Voicemail => document(closed + &record(settings)),
                ClosedAction::Message => document(closed + &element("Hangup", &[], None)),
            }
        }
    }
}

/// Rings the business's phones for this call, announcing it to whoever answers unless the
/// announcement is switched off.
pub fn forward_call(call: &IncomingCall, settings: &Settings) -> Result<String, RenderError> {
    let whisper = settings.whisper.enabled.then(|| whisper_url(WHISPER_PATH, &call.call_sid, &call.from));
    forward(call.from.number().map(|n| n.as_str()), whisper.as_deref(), settings)
}

/// The refusal message, then the line closes.
pub fn refusal(decline: &crate::domain::Decline, settings: &Settings) -> Result<String, RenderError> {
    let ground = Ground::Declined { decline: decline.clone(), follow_up: 1, flagged: false };
    document(say(&refusal_message(&ground, settings), settings) + &element("Hangup", &[], None))
}

/// The announcement's address for one forwarded call: the original call's id and the caller ride
/// along in the query, which the signature covers. A caller without a number travels as empty.
pub fn whisper_url(path: &str, call_sid: &str, caller: &CallerId) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("call", call_sid)
        .append_pair("from", caller.number().map_or("", |number| number.as_str()))
        .finish();
    format!("{path}?{query}")
}

/// Waits for one key, saying `prompt` meanwhile.
fn gather(action: &str, on_silence_too: bool, prompt: &str) -> String {
    let mut attributes = vec![
        ("input", "dtmf"),
        ("numDigits", "1"),
        ("timeout", KEY_TIMEOUT_SECS),
        ("action", action),
        ("method", "POST"),
    ];
    if on_silence_too {
        attributes.push(("actionOnEmptyResult", "true"));
    }
    element("Gather", &attributes, Some(prompt))
}

/// The end of a refusal that offered the escape hatch, when no 1 was pressed.
pub fn goodbye(settings: &Settings) -> String {
    document(say("Goodbye.", settings) + &element("Hangup", &[], None)).unwrap_or_else(|_| hangup())
}

/// Rings the business's phones, showing the caller's number; with no phones, straight to voicemail.
/// With `whisper`, whoever answers first hears the announcement at that address.
pub fn forward(caller: Option<&str>, whisper: Option<&str>, settings: &Settings) -> Result<String, RenderError> {
    if settings.forward.to.is_empty() {
        return document(voicemail_verbs(settings));
    }
    let announce: Vec<(&str, &str)> = whisper.map(|url| vec![("url", url), ("method", "POST")]).unwrap_or_default();
    let numbers: String =
        settings.forward.to.iter().map(|n| element("Number", &announce, Some(&text(n.as_str())))).collect();
    let timeout = settings.forward.ring_timeout_secs.to_string();
    let mut attributes = vec![
        ("timeout", timeout.as_str()),
        ("answerOnBridge", "true"),
        ("action", DIAL_STATUS_PATH),
        ("method", "POST"),
    ];
    if let Some(caller) = caller {
        attributes.insert(0, ("callerId", caller));
    }
    document(element("Dial", &attributes, Some(&numbers)))
}

/// After the forward: hang up if it was answered, else offer voicemail.
pub fn after_dial(answered_or_gone: bool, settings: &Settings) -> String {
    let verbs = if answered_or_gone || !settings.forward.voicemail {
        element("Hangup", &[], None)
    } else {
        voicemail_verbs(settings)
    };
    // The voicemail greeting is bounded by the config's size; fall back to hanging up if not.
    document(verbs).unwrap_or_else(|_| hangup())
}

/// The announcement to whoever answered: one key decides. With `hang_up_on_silence`, no key
/// goes to the key address too (empty), so that it can send the caller to voicemail.
pub fn whisper(
    words: &str,
    key_url: &str,
    hang_up_on_silence: bool,
    settings: &Settings,
) -> Result<String, RenderError> {
    let wait = settings.whisper.wait_secs.to_string();
    let mut attributes = vec![
        ("input", "dtmf"),
        ("numDigits", "1"),
        ("timeout", wait.as_str()),
        ("action", key_url),
        ("method", "POST"),
    ];
    if hang_up_on_silence {
        attributes.push(("actionOnEmptyResult", "true"));
    }
    // Without a key the document simply ends, and Twilio then connects the two calls.
    document(element("Gather", &attributes, Some(&say(words, settings))))
}

/// Speaks to whoever answered and hangs up their side: the caller goes on to the dial callback.
pub fn say_and_hang_up(words: &str, settings: &Settings) -> Result<String, RenderError> {
    document(say(words, settings) + &element("Hangup", &[], None))
}

/// Speaks to whoever answered and connects the call.
pub fn say_and_connect(words: &str, settings: &Settings) -> Result<String, RenderError> {
    document(say(words, settings))
}

/// An answer that does nothing: for a forward, the calls connect; for a text, no reply is sent.
pub fn empty() -> String {
    document(String::new()).expect("an empty answer is small")
}

/// A text message's reply.
pub fn message(words: &str) -> Result<String, RenderError> {
    document(element("Message", &[], Some(&text(words))))
}

/// The voicemail offer, as after a forward nobody took.
pub fn voicemail(settings: &Settings) -> String {
    document(voicemail_verbs(settings)).unwrap_or_else(|_| hangup())
}

pub fn hangup() -> String {
    document(element("Hangup", &[], None)).expect("a hangup is small")
}

fn voicemail_verbs(settings: &Settings) -> String {
    say(&settings.forward.voicemail_greeting, settings) + &record(settings)
}

fn record(settings: &Settings) -> String {
    let max = settings.forward.voicemail_max_secs.to_string();
    element(
        "Record",
        &[("maxLength", &max), ("playBeep", "true"), ("action", VOICEMAIL_PATH), ("method", "POST")],
        None,
    ) + &element("Hangup", &[], None)
}

fn say(words: &str, settings: &Settings) -> String {
    element("Say", &[("voice", &settings.refusal.voice), ("language", &settings.refusal.language)], Some(&text(words)))
}

fn document(verbs: String) -> Result<String, RenderError> {
    let xml = format!(r#"<?xml version="1.0" encoding="UTF-8"?><Response>{verbs}</Response>"#);
    if xml.len() > MAX_BYTES { Err(RenderError::TooLarge(xml.len())) } else { Ok(xml) }
}

/// `inner` is markup already escaped; attribute values are escaped here. Written into one string:
/// every answer to a call is built from these.
fn element(name: &str, attributes: &[(&str, &str)], inner: Option<&str>) -> String {
    let mut out = String::with_capacity(64 + inner.map_or(0, str::len));
    out.push('<');
    out.push_str(name);
    for (key, value) in attributes {
        let value = text(value);
        // Judged after cleaning: a value of nothing but control characters is no value either.
        if value.is_empty() {
            continue;
        }
        for part in [" ", key, "=\"", &value, "\""] {
            out.push_str(part);
        }
    }
    match inner {
        Some(inner) => {
            for part in [">", inner, "</", name, ">"] {
                out.push_str(part);
            }
        }
        None => out.push_str("/>"),
    }
    out
}

/// Escapes markup and drops the characters XML 1.0 cannot carry at all (NUL and most controls).
fn text(value: &str) -> Cow<'_, str> {
    let allowed = |c: &char| matches!(*c, '\t' | '\n' | '\r') || (*c >= ' ' && !matches!(*c, '\u{FFFE}' | '\u{FFFF}'));
    if value.chars().all(|c| allowed(&c)) {
        return quick_xml::escape::escape(value);
    }
    let clean: String = value.chars().filter(allowed).collect();
    Cow::Owned(quick_xml::escape::escape(clean.as_str()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_is_escaped_and_control_characters_dropped() {
        assert_eq!(text("<b>&\"'\0\u{7}"), "&lt;b&gt;&amp;&quot;&apos;");
    }

    #[test]
    fn oversized_documents_are_refused() {
        let huge = "x".repeat(MAX_BYTES);
        assert!(matches!(document(huge), Err(RenderError::TooLarge(_))));
    }

    #[test]
    fn empty_attributes_are_left_out() {
        assert_eq!(element("Say", &[("voice", "")], Some("hi")), "<Say>hi</Say>");
        assert_eq!(element("Say", &[("voice", "\0\u{7}")], Some("hi")), "<Say>hi</Say>");
    }
}
