//! Plivo XML: an answer spelt as the markup Plivo acts on.
//!
//! Plivo's callbacks are absolute addresses under the configured `public_url`. The announcement
//! of a forwarded call is Plivo's `confirmSound`, which may only speak, and its `confirmKey`:
//! whoever answers takes the call with 1, and without it the call is not put through.

use crate::answer::{Answer, CallRef, KeyFor, Step, Voice};
use crate::provider::callbacks::announcement_url;
use crate::provider::xml::{element, text};

/// The key that takes a forwarded call during the announcement.
pub const TAKE_KEY: &str = "1";

/// Where Plivo is to send its callbacks: `public_url` and `/plivo`.
pub struct Routes(pub String);

impl Routes {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.0)
    }

    fn announcement(&self, call: &CallRef) -> String {
        self.url(&announcement_url("/whisper", call))
    }
}

pub fn render(routes: &Routes, answer: &Answer) -> String {
    let elements: String = answer.steps.iter().map(|step| element_of(step, &answer.voice, routes)).collect();
    document(&elements)
}

/// A reply to a text: from the number it was sent to, to its sender.
pub fn message(from: &str, to: &str, words: &str) -> String {
    document(&element("Message", &[("src", from), ("dst", to), ("type", "sms")], Some(&text(words))))
}

fn element_of(step: &Step, voice: &Voice, routes: &Routes) -> String {
    match step {
        Step::Say(words) => speak(words, voice),
        // The announcement is played as `confirmSound`, which may hold nothing but speech.
        Step::Gather { prompt, key: KeyFor::Announcement(_), .. } => speak(prompt, voice),
        Step::Gather { prompt, timeout_secs, key, on_silence } => {
            let action = routes.url(match key {
                KeyFor::Escape => "/escape",
                _ => "/screen",
            });
            // Plivo listens for 5 to 60 seconds.
            let timeout = timeout_secs.clamp(&5, &60).to_string();
            let attributes = [
                ("action", action.as_str()),
                ("method", "POST"),
                ("inputType", "dtmf"),
                ("numDigits", "1"),
                ("executionTimeout", &timeout),
                ("redirect", "true"),
            ];
            let mut out = element("GetInput", &attributes, Some(&speak(prompt, voice)));
            // With no key Plivo goes on to the next element: here, the same callback, keyless.
            if *on_silence {
                out += &element("Redirect", &[("method", "POST")], Some(&text(&action)));
            }
            out
        }
        Step::Dial { caller, to, ring_timeout_secs, announce } => {
            let numbers: String =
                to.iter().map(|number| element("Number", &[], Some(&text(digits(number.as_str()))))).collect();
            let timeout = ring_timeout_secs.to_string();
            let action = routes.url("/dial-status");
            let confirm = announce.as_ref().map(|call| routes.announcement(call));
            let caller = caller.as_ref().map(|number| digits(number.as_str()));
            let mut attributes =
                vec![("timeout", timeout.as_str()), ("action", &action), ("method", "POST"), ("redirect", "true")];
            // Without it Plivo shows the caller's own number, or none for a withheld caller.
            if let Some(caller) = caller {
                attributes.insert(0, ("callerId", caller));
            }
            if let Some(confirm) = &confirm {
                attributes.extend([("confirmSound", confirm.as_str()), ("confirmKey", TAKE_KEY)]);
            }
            element("Dial", &attributes, Some(&numbers))
        }
        Step::Record { max_secs } => {
            let max = max_secs.to_string();
            let action = routes.url("/voicemail");
            let attributes = [
                ("action", action.as_str()),
                ("method", "POST"),
                ("maxLength", &max),
                ("playBeep", "true"),
                ("finishOnKey", "#"),
                ("fileFormat", "mp3"),
                ("redirect", "true"),
            ];
            element("Record", &attributes, None)
        }
        // As the first element, Plivo ends the call without answering it: the caller hears busy.
        Step::Reject => element("Hangup", &[("reason", "busy")], None),
        Step::Hangup => element("Hangup", &[], None),
    }
}

/// Plivo's own voices are `WOMAN` and `MAN`; Amazon Polly's are named as Twilio names them.
fn speak(words: &str, voice: &Voice) -> String {
    let name = match voice.name.to_ascii_lowercase().as_str() {
        name if name.starts_with("polly.") => voice.name.as_str(),
        "man" => "MAN",
        _ => "WOMAN",
    };
    element("Speak", &[("voice", name), ("language", &voice.language)], Some(&text(words)))
}

/// Plivo writes numbers as international digits without the `+`.
fn digits(e164: &str) -> &str {
    e164.trim_start_matches('+')
}

fn document(elements: &str) -> String {
    format!(r#"<?xml version="1.0" encoding="UTF-8"?><Response>{elements}</Response>"#)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plivos_voices_are_chosen_and_pollys_passed_on() {
        let voice = |name: &str| Voice { name: name.into(), language: "en-GB".into() };
        assert!(speak("hi", &voice("Polly.Amy")).contains(r#"voice="Polly.Amy""#));
        assert!(speak("hi", &voice("man")).contains(r#"voice="MAN""#));
        assert!(speak("hi", &voice("alice")).contains(r#"voice="WOMAN""#));
    }
}
