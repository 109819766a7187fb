//! TwiML: an answer spelt as the markup Twilio acts on. Every value is escaped.

use crate::answer::{Answer, KeyFor, Step, Voice};
use crate::provider::xml::Markup;

pub use crate::provider::callbacks::announcement_url;

/// Twilio refuses larger documents.
pub const MAX_BYTES: usize = 64 * 1024;

/// Where Twilio's routes are mounted; a provider that speaks the same markup (SignalWire's cXML)
/// renders it with callbacks under its own name.
pub const ROUTES: &str = "/twilio";
/// The callbacks, after the routes' first part: how a forward ended, the voicemail left, the
/// announcement to whoever answers a forward and its key, a refused caller's escape-hatch key and
/// a screened caller's key.
const DIAL_STATUS: &str = "/dial-status";
const VOICEMAIL: &str = "/voicemail";
const TRANSCRIPT: &str = "/transcript";
pub const WHISPER: &str = "/whisper";
const WHISPER_KEY: &str = "/whisper/key";
const ESCAPE: &str = "/escape";
const SCREEN: &str = "/screen";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("the TwiML would be {0} bytes, over Twilio's limit of {MAX_BYTES}")]
    TooLarge(usize),
}

/// How a provider of the dialect names `<Record>`'s attributes that ask for a transcript: Twilio
/// and SignalWire say `transcribe` and `transcribeCallback`, Telnyx's TeXML `transcription` and
/// `transcriptionCallback`.
#[derive(Clone, Copy, Debug)]
pub struct TranscribeAttributes {
    pub on: &'static str,
    pub callback: &'static str,
}

pub const TWILIO_TRANSCRIBE: TranscribeAttributes =
    TranscribeAttributes { on: "transcribe", callback: "transcribeCallback" };

/// The answer as one TwiML document.
pub fn render(answer: &Answer) -> Result<String, RenderError> {
    render_under(ROUTES, TWILIO_TRANSCRIBE, answer)
}

/// The answer with its callbacks under `routes` (`/signalwire`), asking for a transcript with
/// `transcribe`'s attributes.
pub fn render_under(routes: &str, transcribe: TranscribeAttributes, answer: &Answer) -> Result<String, RenderError> {
    let mut xml = Markup::response();
    for step in &answer.steps {
        verb(&mut xml, step, &answer.voice, routes, transcribe);
    }
    within_limit(xml.finish())
}

/// `render`, for answers whose text is bounded by the configuration's own limits: should one still
/// not fit, the line closes rather than the request failing.
pub fn render_or_hang_up(answer: &Answer) -> String {
    render(answer).unwrap_or_else(|_| hangup())
}

pub fn hangup() -> String {
    render(&Answer::hangup()).expect("a hangup is small")
}

/// An answer that does nothing: for a forward, the calls connect; for a text, no reply is sent.
pub fn empty() -> String {
    render(&Answer::empty()).expect("an empty answer is small")
}

/// A text message's reply.
pub fn message(words: &str) -> Result<String, RenderError> {
    let mut xml = Markup::response();
    xml.element("Message", &[], words);
    within_limit(xml.finish())
}

fn verb(xml: &mut Markup, step: &Step, voice: &Voice, routes: &str, transcribe_as: TranscribeAttributes) {
    match step {
        Step::Say(words) => say(xml, words, voice),
        Step::Play { recording, .. } => {
            xml.element("Play", &[], recording);
        }
        Step::Gather { prompt, timeout_secs, key, on_silence } => {
            let action = match key {
                KeyFor::Escape => format!("{routes}{ESCAPE}"),
                KeyFor::Screen => format!("{routes}{SCREEN}"),
                KeyFor::Announcement(call) => announcement_url(&format!("{routes}{WHISPER_KEY}"), call),
            };
            let timeout = timeout_secs.to_string();
            let mut attributes = vec![
                ("input", "dtmf"),
                ("numDigits", "1"),
                ("timeout", &timeout),
                ("action", &action),
                ("method", "POST"),
            ];
            if *on_silence {
                attributes.push(("actionOnEmptyResult", "true"));
            }
            xml.open("Gather", &attributes);
            say(xml, prompt, voice);
            xml.close("Gather");
        }
        Step::Dial { caller, to, ring_timeout_secs, announce } => {
            let url = announce.as_ref().map(|call| announcement_url(&format!("{routes}{WHISPER}"), call));
            let announce: &[(&str, &str)] = match &url {
                Some(url) => &[("url", url), ("method", "POST")],
                None => &[],
            };
            let timeout = ring_timeout_secs.to_string();
            let action = format!("{routes}{DIAL_STATUS}");
            let caller = caller.as_ref().map_or("", |caller| caller.as_str());
            // An empty `callerId` is left out, as every empty attribute is.
            let attributes = [
                ("callerId", caller),
                ("timeout", timeout.as_str()),
                ("answerOnBridge", "true"),
                ("action", &action),
                ("method", "POST"),
            ];
            xml.open("Dial", &attributes);
            for number in to {
                xml.element("Number", announce, number.as_str());
            }
            xml.close("Dial");
        }
        Step::Record { max_secs, transcribe } => {
            let max = max_secs.to_string();
            let action = format!("{routes}{VOICEMAIL}");
            let callback = format!("{routes}{TRANSCRIPT}");
            let mut attributes =
                vec![("maxLength", max.as_str()), ("playBeep", "true"), ("action", &action), ("method", "POST")];
            if *transcribe {
                attributes.extend([(transcribe_as.on, "true"), (transcribe_as.callback, callback.as_str())]);
            }
            xml.empty("Record", &attributes);
        }
        Step::Reject => {
            xml.empty("Reject", &[("reason", "busy")]);
        }
        Step::Hangup => {
            xml.empty("Hangup", &[]);
        }
    }
}

fn say(xml: &mut Markup, words: &str, voice: &Voice) {
    xml.element("Say", &[("voice", &voice.name), ("language", &voice.language)], words);
}

fn within_limit(xml: String) -> Result<String, RenderError> {
    if xml.len() > MAX_BYTES { Err(RenderError::TooLarge(xml.len())) } else { Ok(xml) }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::answer::Voice;

    fn record(transcribe: bool, attributes: TranscribeAttributes) -> String {
        let answer = Answer { voice: Voice::default(), steps: vec![Step::Record { max_secs: 120, transcribe }] };
        render_under("/telnyx", attributes, &answer).unwrap()
    }

    #[test]
    fn a_voicemail_asks_for_its_transcript_at_the_transcript_callback_in_the_providers_words() {
        let twilio = record(true, TWILIO_TRANSCRIBE);
        assert!(twilio.contains(r#"transcribe="true" transcribeCallback="/telnyx/transcript""#), "{twilio}");
        let telnyx = TranscribeAttributes { on: "transcription", callback: "transcriptionCallback" };
        let texml = record(true, telnyx);
        assert!(texml.contains(r#"transcription="true" transcriptionCallback="/telnyx/transcript""#), "{texml}");
        assert!(!record(false, TWILIO_TRANSCRIBE).contains("transcri"), "not asked for when it is off");
    }

    #[test]
    fn oversized_documents_are_refused() {
        let huge = "x".repeat(MAX_BYTES);
        assert!(matches!(message(&huge), Err(RenderError::TooLarge(_))));
    }
}
