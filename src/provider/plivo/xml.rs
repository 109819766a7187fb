//! Plivo XML: an answer spelt as the markup Plivo acts on.
//!
//! Plivo's callbacks are absolute addresses under the configured `public_url`. The announcement
//! of a forwarded call is Plivo's `confirmSound`, which may only speak, and its `confirmKey`:
//! whoever answers takes the call with 1, and without it the call is not put through.

use crate::answer::{Answer, CallRef, KeyFor, Step, Voice};
use crate::provider::callbacks::announcement_url;
use crate::provider::xml::Markup;

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
    let mut xml = Markup::response();
    for step in &answer.steps {
        element_of(&mut xml, step, &answer.voice, routes);
    }
    xml.finish()
}

/// A reply to a text: from the number it was sent to, to its sender.
pub fn message(from: &str, to: &str, words: &str) -> String {
    let mut xml = Markup::response();
    xml.element("Message", &[("src", from), ("dst", to), ("type", "sms")], words);
    xml.finish()
}

fn element_of(xml: &mut Markup, step: &Step, voice: &Voice, routes: &Routes) {
    match step {
        Step::Say(words) => speak(xml, words, voice),
        Step::Play { recording, .. } => {
            xml.element("Play", &[], recording);
        }
        // The announcement is played as `confirmSound`, which may hold nothing but speech.
        Step::Gather { prompt, key: KeyFor::Announcement(_), .. } => speak(xml, prompt, voice),
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
            xml.open("GetInput", &attributes);
            speak(xml, prompt, voice);
            xml.close("GetInput");
            // With no key Plivo goes on to the next element: here, the same callback, keyless.
            if *on_silence {
                xml.element("Redirect", &[("method", "POST")], &action);
            }
        }
        Step::Dial { caller, to, ring_timeout_secs, announce } => {
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
            xml.open("Dial", &attributes);
            for number in to {
                xml.element("Number", &[], digits(number.as_str()));
            }
            xml.close("Dial");
        }
        Step::Record { max_secs, transcribe } => {
            let max = max_secs.to_string();
            let action = routes.url("/voicemail");
            let transcript = routes.url("/transcript");
            let mut attributes = vec![
                ("action", action.as_str()),
                ("method", "POST"),
                ("maxLength", &max),
                ("playBeep", "true"),
                ("finishOnKey", "#"),
                ("fileFormat", "mp3"),
                ("redirect", "true"),
            ];
            if *transcribe {
                attributes.extend([("transcriptionType", "auto"), ("transcriptionUrl", transcript.as_str())]);
            }
            xml.empty("Record", &attributes);
        }
        // As the first element, Plivo ends the call without answering it: the caller hears busy.
        Step::Reject => {
            xml.empty("Hangup", &[("reason", "busy")]);
        }
        Step::Hangup => {
            xml.empty("Hangup", &[]);
        }
    }
}

/// Plivo's own voices are `WOMAN` and `MAN`; Amazon Polly's are named as Twilio names them.
fn speak(xml: &mut Markup, words: &str, voice: &Voice) {
    let name = match voice.name.to_ascii_lowercase().as_str() {
        name if name.starts_with("polly.") => voice.name.as_str(),
        "man" => "MAN",
        _ => "WOMAN",
    };
    xml.element("Speak", &[("voice", name), ("language", &voice.language)], words);
}

/// Plivo writes numbers as international digits without the `+`.
fn digits(e164: &str) -> &str {
    e164.trim_start_matches('+')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_voicemail_asks_for_an_automatic_transcript_at_the_transcript_callback() {
        let routes = Routes("https://saidno.example/plivo".into());
        let record = |transcribe| {
            render(&routes, &Answer { voice: Voice::default(), steps: vec![Step::Record { max_secs: 60, transcribe }] })
        };
        let asked = record(true);
        assert!(
            asked.contains(r#"transcriptionType="auto" transcriptionUrl="https://saidno.example/plivo/transcript""#),
            "{asked}"
        );
        assert!(!record(false).contains("transcription"));
    }

    #[test]
    fn a_recording_is_played() {
        let routes = Routes("https://saidno.example/plivo".into());
        let play = Step::Play { recording: "https://example.com/no.mp3?a=1&b=2".into(), words: "No.".into() };
        let xml = render(&routes, &Answer { voice: Voice::default(), steps: vec![play, Step::Hangup] });
        assert!(xml.contains("<Play>https://example.com/no.mp3?a=1&amp;b=2</Play><Hangup/>"), "{xml}");
    }

    #[test]
    fn plivos_voices_are_chosen_and_pollys_passed_on() {
        let spoken = |name: &str| {
            let mut xml = Markup::response();
            speak(&mut xml, "hi", &Voice { name: name.into(), language: "en-GB".into() });
            xml.finish()
        };
        assert!(spoken("Polly.Amy").contains(r#"voice="Polly.Amy""#));
        assert!(spoken("man").contains(r#"voice="MAN""#));
        assert!(spoken("alice").contains(r#"voice="WOMAN""#));
    }
}
