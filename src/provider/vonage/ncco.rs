//! NCCO: an answer spelt as the JSON actions Vonage carries out, one after another; when they run
//! out, the call ends.
//!
//! What Vonage's actions cannot say as the neutral answer does:
//! * There is no reject: Vonage asks for the NCCO only once it has answered the call, so a silent
//!   refusal is an answered call that ends at once (`[]`), and Vonage bills it.
//! * There is no hangup either: the NCCO just ends.
//! * An `input` always reports to its `eventUrl`, timed out or not, and what that answers replaces
//!   the rest of the NCCO, so nothing is written after one: the callback decides what follows.
//! * `talk` picks its voice by language (and style), not by name, so only the voice's language
//!   is passed on.
//! * `connect` rings one endpoint: the first of the numbers to forward to.
//!
//! * A transcript comes as the address of a file of words on Vonage's API, readable only with a
//!   token the application's private key signs: it is asked for only when saidno has that key.
//!
//! Every `eventUrl` must be absolute, so the callbacks are `public_url` and `/vonage`.

use serde_json::{Value, json};

use crate::answer::{Answer, CallRef, KeyFor, Step, Voice};
use crate::domain::PhoneNumber;
use crate::provider::RenderError;
use crate::provider::callbacks::announcement_url;

/// Vonage reads at most this many characters of a `talk`.
pub const MAX_TALK_CHARS: usize = 1500;
/// Vonage documents no limit on a whole NCCO; one this large is a configuration mistake.
pub const MAX_BYTES: usize = 64 * 1024;
/// The longest wait for a key `input` allows.
const MAX_KEY_WAIT_SECS: u32 = 10;
/// The shortest and longest recording `record` allows.
const RECORD_SECS: std::ops::RangeInclusive<u32> = 3..=7200;

/// Where Vonage is to send its callbacks.
pub struct Routes {
    /// `public_url` and `/vonage`.
    pub base: String,
    /// Whether the application's files can be fetched, and so a transcript's words read.
    pub reads_files: bool,
}

impl Routes {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn announced(&self, path: &str, call: &CallRef) -> String {
        self.url(&announcement_url(path, call))
    }
}

/// The answer as one NCCO.
pub fn render(routes: &Routes, answer: &Answer) -> Result<String, RenderError> {
    let mut actions = Vec::new();
    for step in &answer.steps {
        match step {
            Step::Say(words) => actions.push(talk(words, &answer.voice, false)?),
            Step::Play { recording, .. } => actions.push(json!({"action": "stream", "streamUrl": [recording]})),
            // No key can change what happens once the announcement ends (the leg is put through),
            // so it is only spoken.
            Step::Gather { prompt, key: KeyFor::Announcement(_), .. } => {
                actions.push(talk(prompt, &answer.voice, false)?);
            }
            Step::Gather { prompt, timeout_secs, key, on_silence: _ } => {
                // Silence reaches the callback too, as no digits; the callbacks treat that as
                // silence would be treated had the answer gone on.
                let event_url = match key {
                    KeyFor::Escape => routes.url("/escape"),
                    _ => routes.url("/screen"),
                };
                actions.push(talk(prompt, &answer.voice, true)?);
                actions.push(json!({
                    "action": "input",
                    "type": ["dtmf"],
                    "dtmf": {"maxDigits": 1, "timeOut": (*timeout_secs).min(MAX_KEY_WAIT_SECS)},
                    "eventUrl": [event_url],
                }));
                break;
            }
            Step::Dial { caller, to, ring_timeout_secs, announce } => {
                actions.push(connect(routes, caller.as_ref(), to, *ring_timeout_secs, announce.as_ref())?);
            }
            Step::Record { max_secs, transcribe } => {
                let mut record = json!({
                    "action": "record",
                    "format": "mp3",
                    "beepStart": true,
                    "endOnKey": "#",
                    "timeOut": (*max_secs).clamp(*RECORD_SECS.start(), *RECORD_SECS.end()),
                    "eventUrl": [routes.url("/voicemail")],
                });
                // Without the application's key the words could never be read, and the owner
                // would pay for them all the same.
                if *transcribe && routes.reads_files {
                    record["transcription"] = json!({"eventUrl": [routes.url("/transcript")], "eventMethod": "POST"});
                }
                actions.push(record);
            }
            // Both end the NCCO, and so the call, answered as it already is.
            Step::Reject | Step::Hangup => break,
        }
    }
    let ncco = Value::Array(actions).to_string();
    if ncco.len() > MAX_BYTES {
        return Err(RenderError(format!("the NCCO would be {} bytes, over {MAX_BYTES}", ncco.len())));
    }
    Ok(ncco)
}

/// The NCCO that ends the call, and the one that does nothing: both are no actions at all. For a
/// forwarded leg's announcement, an NCCO that ends puts the leg through.
pub fn empty() -> String {
    "[]".to_owned()
}

fn talk(words: &str, voice: &Voice, barge_in: bool) -> Result<Value, RenderError> {
    let count = words.chars().count();
    if count > MAX_TALK_CHARS {
        return Err(RenderError(format!("a talk of {count} characters is over Vonage's {MAX_TALK_CHARS}")));
    }
    let mut talk = json!({"action": "talk", "text": words});
    if !voice.language.trim().is_empty() {
        talk["language"] = json!(voice.language.trim());
    }
    if barge_in {
        // A key pressed during the prompt is the input's, as it is while Twilio's Gather speaks.
        talk["bargeIn"] = json!(true);
    }
    Ok(talk)
}

/// Rings the first number, showing the caller; a caller without a number shows one of the
/// application's own numbers (the business number), as Vonage shows nothing it does not own.
/// The forward's events go to the dial callback synchronously, so that one that was not
/// answered can go on to voicemail.
fn connect(
    routes: &Routes,
    caller: Option<&PhoneNumber>,
    to: &[PhoneNumber],
    ring_timeout_secs: u32,
    announce: Option<&CallRef>,
) -> Result<Value, RenderError> {
    let first = to.first().ok_or_else(|| RenderError("a forward with no number to ring".to_owned()))?;
    let mut endpoint = json!({"type": "phone", "number": digits(first)});
    if let Some(call) = announce {
        endpoint["onAnswer"] = json!({"url": routes.announced("/whisper", call)});
    }
    let mut connect = json!({
        "action": "connect",
        "endpoint": [endpoint],
        "timeout": ring_timeout_secs,
        "eventType": "synchronous",
        "eventUrl": [routes.url("/dial-status")],
    });
    match caller {
        Some(number) => connect["from"] = json!(digits(number)),
        None => connect["randomFromNumber"] = json!(true),
    }
    Ok(connect)
}

/// Vonage writes numbers as international digits, without the `+`.
fn digits(number: &PhoneNumber) -> &str {
    number.as_str().trim_start_matches('+')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes() -> Routes {
        Routes { base: "https://saidno.example/vonage".into(), reads_files: false }
    }

    #[test]
    fn a_recording_is_streamed() {
        let play = Step::Play { recording: "https://example.com/no.mp3".into(), words: "No.".into() };
        let ncco = rendered(vec![play, Step::Hangup]);
        assert_eq!(ncco, json!([{"action": "stream", "streamUrl": ["https://example.com/no.mp3"]}]));
    }

    fn rendered(steps: Vec<Step>) -> Value {
        rendered_by(&routes(), steps)
    }

    fn rendered_by(routes: &Routes, steps: Vec<Step>) -> Value {
        let answer = Answer { voice: Voice { name: "Polly.Amy".into(), language: "en-GB".into() }, steps };
        serde_json::from_str(&render(routes, &answer).unwrap()).unwrap()
    }

    fn number(text: &str) -> PhoneNumber {
        PhoneNumber::from_e164(text).unwrap()
    }

    #[test]
    fn a_refusal_talks_in_the_voices_language_and_ends() {
        let ncco = rendered(vec![Step::Say("No, thank you.".into()), Step::Hangup, Step::Say("unreachable".into())]);
        assert_eq!(ncco, json!([{"action": "talk", "text": "No, thank you.", "language": "en-GB"}]));
        assert_eq!(rendered(vec![Step::Reject]), json!([]));
    }

    #[test]
    fn a_forward_rings_the_first_number_with_the_announcement_and_the_dial_callback() {
        let call = CallRef { call_id: "CON-1".into(), caller: Some(number("+447700900000")) };
        let ncco = rendered(vec![Step::Dial {
            caller: Some(number("+447700900000")),
            to: vec![number("+442079460999"), number("+442079460998")],
            ring_timeout_secs: 20,
            announce: Some(call),
        }]);
        let connect = &ncco[0];
        assert_eq!(connect["action"], "connect");
        assert_eq!(connect["from"], "447700900000");
        assert_eq!(connect["timeout"], 20);
        assert_eq!(connect["eventType"], "synchronous");
        assert_eq!(connect["eventUrl"], json!(["https://saidno.example/vonage/dial-status"]));
        assert_eq!(connect["endpoint"].as_array().unwrap().len(), 1);
        assert_eq!(connect["endpoint"][0]["number"], "442079460999");
        assert_eq!(
            connect["endpoint"][0]["onAnswer"]["url"],
            "https://saidno.example/vonage/whisper?call=CON-1&from=%2B447700900000"
        );
        let withheld = rendered(vec![Step::Dial {
            caller: None,
            to: vec![number("+442079460999")],
            ring_timeout_secs: 20,
            announce: None,
        }]);
        assert_eq!(withheld[0]["randomFromNumber"], true);
        assert!(withheld[0].get("from").is_none() && withheld[0]["endpoint"][0].get("onAnswer").is_none());
    }

    #[test]
    fn a_gather_talks_then_waits_for_one_key_and_nothing_follows_it() {
        let ncco = rendered(vec![
            Step::Gather { prompt: "Press 1.".into(), timeout_secs: 30, key: KeyFor::Escape, on_silence: false },
            Step::Hangup,
        ]);
        assert_eq!(ncco.as_array().unwrap().len(), 2);
        assert_eq!(ncco[0]["bargeIn"], true);
        assert_eq!(ncco[1]["type"], json!(["dtmf"]));
        assert_eq!(ncco[1]["dtmf"], json!({"maxDigits": 1, "timeOut": 10}));
        assert_eq!(ncco[1]["eventUrl"], json!(["https://saidno.example/vonage/escape"]));
    }

    #[test]
    fn a_voicemail_records_after_a_beep_until_hash_for_the_voicemail_callback() {
        let ncco = rendered(vec![
            Step::Say("Leave a message.".into()),
            Step::Record { max_secs: 120, transcribe: false },
            Step::Hangup,
        ]);
        let record = &ncco[1];
        assert_eq!((record["beepStart"].clone(), record["endOnKey"].clone()), (json!(true), json!("#")));
        assert_eq!(record["timeOut"], 120);
        assert_eq!(record["eventUrl"], json!(["https://saidno.example/vonage/voicemail"]));
        assert_eq!(record.get("transcription"), None);
    }

    #[test]
    fn a_transcript_is_asked_for_with_the_transcript_callback_only_when_its_words_can_be_read() {
        let record = |transcribe, reads_files| {
            let routes = Routes { reads_files, ..routes() };
            rendered_by(&routes, vec![Step::Record { max_secs: 120, transcribe }])[0].clone()
        };
        assert_eq!(
            record(true, true)["transcription"],
            json!({"eventUrl": ["https://saidno.example/vonage/transcript"], "eventMethod": "POST"})
        );
        assert_eq!(record(true, false).get("transcription"), None, "no transcript saidno could not read is paid for");
        assert_eq!(record(false, true).get("transcription"), None);
    }

    #[test]
    fn a_talk_over_vonages_limit_is_a_render_error() {
        let answer = Answer { steps: vec![Step::Say("x".repeat(MAX_TALK_CHARS + 1))], ..Answer::default() };
        assert!(render(&routes(), &answer).is_err());
    }
}
