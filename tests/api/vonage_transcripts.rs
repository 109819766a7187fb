//! A Vonage voicemail's words: asked for with the recording when the application's key is set,
//! announced by a signed transcription event that names a file on Vonage's API, and fetched from
//! a stand-in for that API with a token the application's key signed, to show on the Calls page.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::fake_twilio::Captured;
use crate::helpers::*;
use crate::openapi::vonage_file_accepts;
use crate::voicemail_playback_by_provider::{
    APPLICATION_ID, StandIn, vonage_app, vonage_token_refused, vonage_voicemail,
};
use crate::vonage::{SECRET, answer, claims, forwarded_leg, fresh_jti, hs256, jwt, now, post, signed, token};

const WORDS_FILE: &str = "cccccccc-dddd-eeee-ffff-0123456789ab";
/// A file larger than the words of any voicemail come in.
const HUGE_FILE: &str = "eeeeeeee-dddd-eeee-ffff-0123456789ab";
const WORDS: &str = "Hi, it's Sam from <b>Print</b> & Co. Please call me back.";

/// Vonage's files endpoint holding one transcription, given only to the application's token.
fn words_gate(sent: &Captured, _: &str) -> Option<Response> {
    if let Some(refused) = vonage_token_refused(sent) {
        return Some(refused);
    }
    if sent.path == format!("/v1/files/{HUGE_FILE}") {
        // Few words, each with a great deal beside it: only the file's size is too much.
        let sentence = json!({"sentence": "Hi.", "raw_sentence": "hi ".repeat(1700)}).to_string();
        let file = format!("{{\"channels\": [{{\"transcript\": [{}]}}]}}", vec![sentence; 500].join(","));
        return Some(([("content-type", "application/json")], file).into_response());
    }
    if sent.path != format!("/v1/files/{WORDS_FILE}") || !sent.body.is_empty() {
        return Some(StatusCode::NOT_FOUND.into_response());
    }
    let (first, second) = WORDS.split_at(17);
    let file = json!({
        "request_id": "d2c4d2b8-0000-4000-8000-000000000001",
        "channels": [{
            "transcript": [
                {"sentence": first, "raw_sentence": first.to_lowercase(), "duration": 1200, "timestamp": 0},
                {"sentence": second.trim(), "raw_sentence": second.to_lowercase(), "duration": 2300, "timestamp": 1200},
            ],
            "duration": 4,
        }],
    });
    Some(([("content-type", "application/json")], file.to_string()).into_response())
}

/// What Vonage posts to the transcription's `eventUrl`.
fn transcription(conversation: &str, status: &str, url: &str) -> Value {
    json!({
        "conversation_uuid": conversation,
        "type": "transcription",
        "recording_uuid": "bbbbbbbb-cccc-dddd-eeee-0123456789ab",
        "status": status,
        "transcription_url": url,
    })
}

async fn post_signed(app: &TestApp, body: &Value) -> u16 {
    let body = body.to_string();
    post(app, "/vonage/transcript", &body, Some(&token(&body))).await.status().as_u16()
}

async fn transcript(app: &TestApp, conversation: &str) -> Value {
    let calls = app.calls().await;
    let call = calls.iter().find(|call| call["call_sid"] == conversation).expect("the call is logged");
    assert_eq!(call["outcome"]["recording_secs"], 42, "the voicemail is kept");
    call["outcome"]["transcript"].clone()
}

#[tokio::test]
async fn the_voicemail_asks_for_words_which_are_fetched_with_the_applications_token_and_shown() {
    let mut vonage = StandIn::start(words_gate).await;
    let app = vonage_app(&vonage, APPLICATION_ID).await;
    signed(&app, "/vonage/answer", &answer("CONtr1", Some("442079460777"))).await;
    let voicemail = signed(&app, "/vonage/dial-status", &forwarded_leg("CONtr1", "timeout")).await;
    assert_eq!(
        voicemail[1]["transcription"],
        json!({"eventUrl": [format!("{PUBLIC_URL}/vonage/transcript")], "eventMethod": "POST"})
    );
    vonage_voicemail(&app, "CONtr1", &format!("{}/v1/files/bbbbbbbb-cccc-dddd-eeee-0123456789ab", vonage.url)).await;

    let file = format!("{}/v1/files/{WORDS_FILE}", vonage.url);
    assert_eq!(post_signed(&app, &transcription("CONtr1", "completed", &file)).await, 204);
    assert_eq!(transcript(&app, "CONtr1").await, WORDS, "on disk before Vonage is answered");
    let sent = vonage.received();
    assert_eq!(sent.len(), 1);
    vonage_file_accepts(&sent[0], "download_transcription");

    let page = app.signed_in().await.get("/calls").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.text_of("tr.call[data-sid=\"CONtr1\"] td.outcome .transcript"), format!("Transcript: {WORDS}"));
    assert!(page.texts("td.outcome .transcript b").is_empty(), "the words are text, not markup");
}

#[tokio::test]
async fn a_forged_foreign_failed_refused_or_oversized_transcription_changes_nothing() {
    let mut vonage = StandIn::start(words_gate).await;
    let mut elsewhere = StandIn::start(words_gate).await;
    let app = vonage_app(&vonage, APPLICATION_ID).await;
    vonage_voicemail(&app, "CONtr2", &format!("{}/v1/files/bbbbbbbb-cccc-dddd-eeee-0123456789ab", vonage.url)).await;
    let file = format!("{}/v1/files/{WORDS_FILE}", vonage.url);

    let forged = transcription("CONtr2", "completed", &file).to_string();
    let other_secret = jwt(&hs256(), &claims(&forged, now(), &fresh_jti()), &format!("{SECRET}-not"));
    assert_eq!(post(&app, "/vonage/transcript", &forged, Some(&other_secret)).await.status(), 403);

    let foreign = format!("{}/v1/files/{WORDS_FILE}", elsewhere.url);
    assert_eq!(post_signed(&app, &transcription("CONtr2", "completed", &foreign)).await, 400);
    let beside = format!("{}/v1/files/{WORDS_FILE}/../../applications", vonage.url);
    assert_eq!(post_signed(&app, &transcription("CONtr2", "completed", &beside)).await, 400);

    assert_eq!(post_signed(&app, &transcription("CONtr2", "failed", &file)).await, 204);

    let huge = format!("{{\"conversation_uuid\": \"CONtr2\", \"pad\": \"{}\"}}", "x".repeat(70 * 1024));
    assert_eq!(post(&app, "/vonage/transcript", &huge, Some(&token(&huge))).await.status(), 413);
    assert!(vonage.received().is_empty() && elsewhere.received().is_empty(), "nothing was fetched");

    // A file Vonage does not give is answered so that Vonage tries again.
    let missing = format!("{}/v1/files/dddddddd-0000", vonage.url);
    assert_eq!(post_signed(&app, &transcription("CONtr2", "completed", &missing)).await, 502);
    let huge = format!("{}/v1/files/{HUGE_FILE}", vonage.url);
    assert_eq!(post_signed(&app, &transcription("CONtr2", "completed", &huge)).await, 502);
    assert_eq!(vonage.received().len(), 2);

    // The same event signed once, sent twice: the second is a replay.
    let body = transcription("CONtr2", "failed", &file).to_string();
    let once = token(&body);
    assert_eq!(post(&app, "/vonage/transcript", &body, Some(&once)).await.status(), 204);
    assert_eq!(post(&app, "/vonage/transcript", &body, Some(&once)).await.status(), 403);

    assert_eq!(transcript(&app, "CONtr2").await, Value::Null);
    let page = app.signed_in().await.get("/calls").await;
    assert!(page.texts("tr.call[data-sid=\"CONtr2\"] td.outcome .transcript").is_empty());
}
