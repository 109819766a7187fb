//! A voicemail's words as Vonage gives them: the `record` action's transcription event names the
//! conversation and, once transcribed, the address of a JSON file on the application's API
//! (`channels[].transcript[].sentence`), which only a token the application's key signed reads.

use serde::Deserialize;

use super::recordings::Application;
use super::request;
use crate::domain::MAX_TRANSCRIPT_CHARS;
use crate::provider::fields::recording_url;
use crate::provider::form::Params;
use crate::provider::recording_address::Unfetched;
use crate::provider::{Rejection, Transcript};

/// The file of a voicemail's words is larger than the words (each has its times and
/// confidence), but not this large.
const MAX_FILE_BYTES: usize = 2 * 1024 * 1024;

/// The transcription event: the call it is about and, when Vonage transcribed the message, the
/// file of its words. Any other status is a transcription that failed: no words, and the
/// voicemail stays as it was.
pub fn event(params: &Params) -> Result<Transcript, Rejection> {
    let call_id = request::call_id(params)?;
    let status = params.get("status").ok_or(Rejection::Missing("status"))?;
    let file = match status.trim() {
        "completed" => {
            Some(recording_url(params, "transcription_url")?.ok_or(Rejection::Missing("transcription_url"))?)
        }
        _ => None,
    };
    Ok(Transcript { call_id, text: None, file })
}

#[derive(Deserialize)]
struct File {
    #[serde(default)]
    channels: Vec<Channel>,
}

#[derive(Deserialize)]
struct Channel {
    #[serde(default)]
    transcript: Vec<Sentence>,
}

#[derive(Deserialize)]
struct Sentence {
    #[serde(default)]
    sentence: String,
}

/// The sentences of every channel as one text; none when nothing was said. Longer than any
/// voicemail's words is refused, as the other providers' are.
pub fn words(file: &[u8]) -> Result<Option<String>, String> {
    let file: File =
        serde_json::from_slice(file).map_err(|why| format!("the transcription file is not JSON: {why}"))?;
    let sentences = file.channels.iter().flat_map(|channel| &channel.transcript);
    let text = sentences.map(|sentence| sentence.sentence.trim()).filter(|s| !s.is_empty()).collect::<Vec<_>>();
    let text = text.join(" ");
    if text.chars().count() > MAX_TRANSCRIPT_CHARS {
        return Err(format!("the transcription is over {MAX_TRANSCRIPT_CHARS} characters"));
    }
    Ok((!text.is_empty()).then_some(text))
}

/// The words in the file at `address` (a file of `application`'s), fetched with its token.
pub async fn fetch(application: &Application, address: &str) -> Result<Option<String>, Unfetched> {
    let mut response = application.get(address)?.send().await.map_err(Unfetched::Unreachable)?;
    if !response.status().is_success() {
        return Err(Unfetched::Refused(format!("Vonage answered {}", response.status())));
    }
    let mut file = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(Unfetched::Unreachable)? {
        if file.len() + chunk.len() > MAX_FILE_BYTES {
            return Err(Unfetched::Refused(format!("the transcription file is over {MAX_FILE_BYTES} bytes")));
        }
        file.extend_from_slice(&chunk);
    }
    words(&file).map_err(Unfetched::Refused)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn params(body: serde_json::Value) -> Params {
        request::params(body.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn a_completed_transcription_names_its_conversation_and_its_file() {
        let transcript = event(&params(json!({
            "conversation_uuid": "CON-1",
            "type": "transcription",
            "recording_uuid": "REC-1",
            "status": "completed",
            "transcription_url": "https://api.nexmo.com/v1/files/aaaaaaaa-bbbb",
        })))
        .unwrap();
        let file = Some("https://api.nexmo.com/v1/files/aaaaaaaa-bbbb".to_owned());
        assert_eq!(transcript, Transcript { call_id: "CON-1".into(), text: None, file });
    }

    #[test]
    fn a_failed_transcription_has_no_words_and_a_broken_event_is_refused() {
        let failed = event(&params(json!({"conversation_uuid": "CON-1", "status": "failed"}))).unwrap();
        assert_eq!(failed, Transcript { call_id: "CON-1".into(), text: None, file: None });
        let read = |body| event(&params(body));
        assert_eq!(read(json!({"conversation_uuid": "CON-1"})), Err(Rejection::Missing("status")));
        assert_eq!(
            read(json!({"conversation_uuid": "CON-1", "status": "completed"})),
            Err(Rejection::Missing("transcription_url"))
        );
        assert_eq!(
            read(json!({"conversation_uuid": "CON-1", "status": "completed", "transcription_url": "ftp://x/y"})),
            Err(Rejection::Invalid("transcription_url"))
        );
    }

    #[test]
    fn the_sentences_of_every_channel_are_one_text_and_silence_is_none() {
        let file = json!({
            "request_id": "r1",
            "channels": [
                {"transcript": [{"sentence": " Hello, it's Sam. ", "words": []}, {"sentence": "Call me back."}]},
                {"transcript": [{"sentence": "Thanks."}]},
            ],
        });
        assert_eq!(
            words(file.to_string().as_bytes()).unwrap().as_deref(),
            Some("Hello, it's Sam. Call me back. Thanks.")
        );
        assert_eq!(words(br#"{"channels": [{"transcript": []}]}"#).unwrap(), None);
        assert_eq!(words(br#"{}"#).unwrap(), None);
    }

    #[test]
    fn a_file_that_is_not_json_or_longer_than_any_voicemail_is_refused() {
        assert!(words(b"<html>").unwrap_err().contains("not JSON"));
        let long = json!({"channels": [{"transcript": [{"sentence": "word ".repeat(MAX_TRANSCRIPT_CHARS)}]}]});
        assert!(words(long.to_string().as_bytes()).unwrap_err().contains("characters"));
    }
}
