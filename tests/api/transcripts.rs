//! A voicemail's transcript: asked for with the recording, posted back by the provider minutes
//! later, kept with the voicemail and shown beside it on the Calls page.

use saidno::provider::twilio::signature::sign;

use crate::helpers::*;

const RECORDING: &str = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE123";

/// A call nobody answered, on which the caller left a message.
async fn voicemail_left(app: &TestApp, call_id: &str) {
    app.call(call_id, "+442079460555").await;
    let dial = [("CallSid", call_id), ("DialCallStatus", "no-answer"), ("DialCallDuration", "0")];
    assert_eq!(app.post_signed("/twilio/dial-status", &dial).await.status(), 200);
    let left = [("CallSid", call_id), ("RecordingUrl", RECORDING), ("RecordingDuration", "7")];
    assert_eq!(app.post_signed("/twilio/voicemail", &left).await.status(), 200);
}

/// What Twilio posts to `transcribeCallback` once the words are ready.
fn transcribed<'a>(call_id: &'a str, words: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
        ("CallSid", call_id),
        ("RecordingSid", "RE123"),
        ("RecordingUrl", RECORDING),
        ("TranscriptionSid", "TR123"),
        ("TranscriptionStatus", "completed"),
        ("TranscriptionText", words),
        ("TranscriptionType", "fast"),
        ("TranscriptionUrl", "https://api.twilio.com/2010-04-01/Accounts/AC1/Transcriptions/TR123"),
        ("url", "/twilio/transcript"),
    ]
}

async fn outcome(app: &TestApp) -> serde_json::Value {
    app.calls().await[0]["outcome"].clone()
}

#[tokio::test]
async fn the_voicemail_asks_for_a_transcript_and_its_words_show_beside_the_player_escaped() {
    let app = spawn_app().await;
    app.call("CA800", "+442079460555").await;
    let response =
        app.post_signed("/twilio/dial-status", &[("CallSid", "CA800"), ("DialCallStatus", "no-answer")]).await;
    let twiml = Twiml::from_response(response).await;
    assert_eq!(twiml.attribute("Record", "transcribe").as_deref(), Some("true"));
    assert_eq!(twiml.attribute("Record", "transcribeCallback").as_deref(), Some("/twilio/transcript"));
    let left = [("CallSid", "CA800"), ("RecordingUrl", RECORDING), ("RecordingDuration", "7")];
    app.post_signed("/twilio/voicemail", &left).await;

    let words = "Hi, it's Ana from <b>Bakery</b> & Co. Please call me back.";
    let response = app.post_signed("/twilio/transcript", &transcribed("CA800", words)).await;
    assert_eq!(response.status(), 204);
    let outcome = outcome(&app).await;
    assert_eq!(outcome["transcript"], words);
    assert_eq!(outcome["recording_secs"], 7, "the voicemail is kept");

    let page = app.signed_in().await.get("/calls").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.text_of("tr.call td.outcome .transcript"), format!("Transcript: {words}"));
    assert!(page.texts("td.outcome .transcript b").is_empty(), "the words are text, not markup");
    assert!(!page.text.contains("<b>Bakery"), "the markup in the words is escaped");

    let today = jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::UTC).date().to_string();
    let export = app.signed_in().await.get(&format!("/transfer/calls.csv?from_date={today}&to_date={today}")).await;
    assert!(export.text.lines().next().unwrap().ends_with(",recording_url,transcript"), "{}", export.text);
    assert!(export.text.lines().nth(1).unwrap().ends_with(&format!("{RECORDING},\"{words}\"")), "{}", export.text);
}

#[tokio::test]
async fn a_long_transcript_folds_under_its_opening_words() {
    let app = spawn_app().await;
    voicemail_left(&app, "CA801").await;
    let words = "Hello, this is Sam from the print shop about the banner you ordered last week. ".repeat(4);
    let words = words.trim();
    assert_eq!(app.post_signed("/twilio/transcript", &transcribed("CA801", words)).await.status(), 204);

    let page = app.signed_in().await.get("/calls").await;
    let opening = page.text_of("td.outcome details.transcript > summary");
    assert!(opening.starts_with("Transcript: Hello, this is Sam") && opening.ends_with('…'), "{opening}");
    assert!(opening.len() < words.len());
    assert_eq!(page.text_of("td.outcome details.transcript > p"), words);
}

#[tokio::test]
async fn a_failed_transcription_keeps_the_voicemail_and_shows_no_words() {
    let app = spawn_app().await;
    voicemail_left(&app, "CA802").await;
    let mut failed = transcribed("CA802", "");
    failed.retain(|(name, _)| *name != "TranscriptionStatus");
    failed.push(("TranscriptionStatus", "failed"));
    assert_eq!(app.post_signed("/twilio/transcript", &failed).await.status(), 204);

    let outcome = outcome(&app).await;
    assert!(outcome["transcript"].is_null());
    assert_eq!(outcome["recording_url"], RECORDING);
    let page = app.signed_in().await.get("/calls").await;
    assert!(page.texts(".transcript").is_empty());
    assert_eq!(page.text_of("tr.call td.outcome"), "no answer; voicemail, 7 s");
}

#[tokio::test]
async fn with_transcription_off_none_is_asked_for() {
    let app = spawn_app_with(|s| s.forward.transcribe = false).await;
    app.call("CA803", "+442079460555").await;
    let response = app.post_signed("/twilio/dial-status", &[("CallSid", "CA803"), ("DialCallStatus", "busy")]).await;
    let twiml = Twiml::from_response(response).await;
    assert_eq!(twiml.attribute("Record", "action").as_deref(), Some("/twilio/voicemail"));
    assert_eq!(twiml.attribute("Record", "transcribe"), None);
    assert_eq!(twiml.attribute("Record", "transcribeCallback"), None);
}

mod refused_transcripts {
    use super::*;

    async fn assert_no_transcript(app: &TestApp) {
        let outcome = outcome(app).await;
        assert!(outcome["transcript"].is_null(), "{outcome}");
        assert_eq!(outcome["recording_url"], RECORDING, "the voicemail is untouched");
    }

    #[tokio::test]
    async fn for_a_call_saidno_does_not_know_it_is_not_found_and_nothing_changes() {
        let app = spawn_app().await;
        voicemail_left(&app, "CA810").await;
        let response = app.post_signed("/twilio/transcript", &transcribed("CA999", "Who am I?")).await;
        assert_eq!(response.status(), 404);
        assert!(response.text().await.unwrap().contains("no voicemail was left on call CA999"));
        assert_no_transcript(&app).await;
    }

    #[tokio::test]
    async fn for_a_call_without_a_voicemail_it_is_not_found_and_nothing_changes() {
        let app = spawn_app().await;
        app.call("CA811", "+442079460555").await;
        let response = app.post_signed("/twilio/transcript", &transcribed("CA811", "Hello")).await;
        assert_eq!(response.status(), 404);
        assert!(app.calls().await[0]["outcome"].is_null());
    }

    #[tokio::test]
    async fn an_unsigned_or_wrongly_signed_one_is_forbidden_and_nothing_changes() {
        let app = spawn_app().await;
        voicemail_left(&app, "CA812").await;
        let pairs = transcribed("CA812", "Forged words");
        assert_eq!(app.post_form("/twilio/transcript", form_body(&pairs), None).await.status(), 403);
        let other_words =
            sign(AUTH_TOKEN, &format!("{PUBLIC_URL}/twilio/transcript"), &params(&transcribed("CA812", "Real")));
        let response = app.post_form("/twilio/transcript", form_body(&pairs), Some(&other_words)).await;
        assert_eq!(response.status(), 403);
        let wrong_token = sign("not-the-token", &format!("{PUBLIC_URL}/twilio/transcript"), &params(&pairs));
        let response = app.post_form("/twilio/transcript", form_body(&pairs), Some(&wrong_token)).await;
        assert_eq!(response.status(), 403);
        assert_no_transcript(&app).await;
    }

    #[tokio::test]
    async fn a_malformed_one_is_a_bad_request_and_nothing_changes() {
        let app = spawn_app().await;
        voicemail_left(&app, "CA813").await;
        let not_utf8 = b"CallSid=CA813&TranscriptionText=%FF%FE".to_vec();
        assert_eq!(app.post_form("/twilio/transcript", not_utf8, Some("irrelevant")).await.status(), 400);
        let mut no_call = transcribed("CA813", "Hello");
        no_call.retain(|(name, _)| *name != "CallSid");
        let response = app.post_signed("/twilio/transcript", &no_call).await;
        assert_eq!(response.status(), 400);
        assert!(response.text().await.unwrap().contains("CallSid"));
        let mut odd_status = transcribed("CA813", "Hello");
        odd_status.retain(|(name, _)| *name != "TranscriptionStatus");
        odd_status.push(("TranscriptionStatus", "<script>"));
        assert_eq!(app.post_signed("/twilio/transcript", &odd_status).await.status(), 400);
        assert_no_transcript(&app).await;
    }

    #[tokio::test]
    async fn words_longer_than_any_voicemails_or_an_oversized_body_are_refused_and_nothing_changes() {
        let app = spawn_app().await;
        voicemail_left(&app, "CA814").await;
        let too_many = "word ".repeat(2_000);
        let response = app.post_signed("/twilio/transcript", &transcribed("CA814", &too_many)).await;
        assert_eq!(response.status(), 400);
        assert!(response.text().await.unwrap().contains("TranscriptionText"));
        let huge = format!("CallSid=CA814&TranscriptionText={}", "x".repeat(70 * 1024));
        assert_eq!(app.post_form("/twilio/transcript", huge, Some("irrelevant")).await.status(), 413);
        assert_no_transcript(&app).await;
    }
}
