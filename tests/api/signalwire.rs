//! A SignalWire number: cXML webhooks on `/signalwire/*`, signed with the project's Signing Key,
//! on the real server.

use saidno::provider::signalwire::signature::{sign, sign_sha256};
use serde_json::json;

use crate::helpers::*;

const SIGNING_KEY: &str = "PSKtest-signing-key-0c4e";
const PROJECT: &str = "1f7a3b2c-0000-4000-8000-000000000001";

async fn signalwire_app() -> TestApp {
    // Twilio's secret stays unset: a SignalWire-only business.
    spawn_app_with(|s| {
        s.twilio.auth_token = String::new();
        s.signalwire.signing_key = SIGNING_KEY.into();
    })
    .await
}

/// What SignalWire sends with a call: Twilio's parameters, its project as the account.
fn call_params(call_id: &str, from: &str) -> Vec<(&'static str, String)> {
    let mut params = incoming(call_id, from);
    params[0] = ("AccountSid", PROJECT.to_owned());
    params
}

/// Posts to one of SignalWire's routes, signed with `headers` naming the signatures.
async fn post(app: &TestApp, path: &str, pairs: &[(&str, String)], headers: &[(&str, String)]) -> reqwest::Response {
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut request = app
        .http
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(&pairs));
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    request.send().await.unwrap()
}

/// Signed as SignalWire signs a cXML request.
async fn signed(app: &TestApp, path: &str, pairs: &[(&str, String)]) -> Twiml {
    let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let signature = sign(SIGNING_KEY, &format!("{PUBLIC_URL}{path}"), &params(&borrowed));
    let response = post(app, path, pairs, &[("x-signalwire-signature", signature)]).await;
    assert_eq!(response.status(), 200);
    Twiml::from_response(response).await
}

#[tokio::test]
async fn a_declined_caller_is_refused_in_words_and_an_unknown_one_is_forwarded_with_callbacks_here() {
    let app = signalwire_app().await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;
    let refused = signed(&app, "/signalwire/voice", &call_params("c0ffee01", PUSHY)).await;
    assert_eq!(refused.verbs(), ["Say", "Hangup"], "{}", refused.xml);
    assert!(refused.text_of("Say")[0].contains("Everest Windows"));

    let forwarded = signed(&app, "/signalwire/voice", &call_params("c0ffee02", "+442079460777")).await;
    assert_eq!(forwarded.verbs(), ["Dial"]);
    assert_eq!(forwarded.attribute("Dial", "action").as_deref(), Some("/signalwire/dial-status"));
    assert!(forwarded.attribute("Number", "url").unwrap().starts_with("/signalwire/whisper?call=c0ffee02"));
    assert_eq!(forwarded.text_of("Number"), [OWNER_PHONE]);

    let calls = app.calls().await;
    assert_eq!(calls[0]["call_sid"], "c0ffee02");
    assert_eq!(calls[1]["decision"], "decline");
}

#[tokio::test]
async fn a_silent_decline_is_rejected_and_a_withheld_caller_follows_its_policy() {
    let app = signalwire_app().await;
    app.decline(json!({"prefix": "+234", "mode": "reject"})).await;
    let rejected = signed(&app, "/signalwire/voice", &call_params("c0ffee03", "+2348012345678")).await;
    assert_eq!(rejected.verbs(), ["Reject"]);
    let withheld = signed(&app, "/signalwire/voice", &call_params("c0ffee04", "anonymous")).await;
    assert_eq!(withheld.verbs(), ["Dial"], "withheld callers ring through by default");
    assert_eq!(app.calls().await[0]["from"], "withheld");
}

#[tokio::test]
async fn an_unanswered_forward_offers_voicemail_and_both_outcomes_are_attached() {
    let app = signalwire_app().await;
    signed(&app, "/signalwire/voice", &call_params("c0ffee05", "+442079460777")).await;
    let mut status = call_params("c0ffee05", "+442079460777");
    status.push(("DialCallStatus", "no-answer".into()));
    let voicemail = signed(&app, "/signalwire/dial-status", &status).await;
    assert_eq!(voicemail.verbs(), ["Say", "Record", "Hangup"]);
    assert_eq!(voicemail.attribute("Record", "action").as_deref(), Some("/signalwire/voicemail"));

    let mut left = call_params("c0ffee05", "+442079460777");
    left.push(("RecordingUrl", "https://example.signalwire.com/recordings/RE1".into()));
    left.push(("RecordingDuration", "12".into()));
    let done = signed(&app, "/signalwire/voicemail", &left).await;
    assert_eq!(done.verbs(), ["Hangup"]);

    let outcome = &app.calls().await[0]["outcome"];
    assert_eq!(outcome["status"], "no-answer");
    assert_eq!(outcome["recording_secs"], 12);
}

#[tokio::test]
async fn the_twilio_signature_alias_and_a_matching_sha256_signature_are_taken() {
    let app = signalwire_app().await;
    let pairs = call_params("c0ffee06", "+442079460777");
    let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let url = format!("{PUBLIC_URL}/signalwire/voice");
    let signature = sign(SIGNING_KEY, &url, &params(&borrowed));
    let alias = post(&app, "/signalwire/voice", &pairs, &[("x-twilio-signature", signature.clone())]).await;
    assert_eq!(alias.status(), 200);

    let sha256 = sign_sha256(SIGNING_KEY, &url, form_body(&borrowed).as_bytes());
    let both = [("x-signalwire-signature", signature), ("x-signalwire-sha256-signature", sha256)];
    assert_eq!(post(&app, "/signalwire/voice", &pairs, &both).await.status(), 200);
    assert_eq!(app.calls().await.len(), 2);
}

#[tokio::test]
async fn a_request_not_signed_with_the_signing_key_is_refused_and_nothing_is_logged() {
    let app = signalwire_app().await;
    let pairs = call_params("c0ffee07", PUSHY);
    let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let url = format!("{PUBLIC_URL}/signalwire/voice");
    let good = sign(SIGNING_KEY, &url, &params(&borrowed));
    let cases = [
        vec![],
        vec![("x-signalwire-signature", sign("another-key", &url, &params(&borrowed)))],
        vec![(
            "x-signalwire-signature",
            sign(SIGNING_KEY, "https://elsewhere.example/signalwire/voice", &params(&borrowed)),
        )],
        vec![("x-signalwire-signature", good.clone()), ("x-signalwire-sha256-signature", "00ff".repeat(16))],
    ];
    for headers in cases {
        let response = post(&app, "/signalwire/voice", &pairs, &headers).await;
        assert_eq!(response.status(), 403, "{headers:?}");
    }
    let mut tampered = pairs.clone();
    tampered[5] = ("From", "+442079460555".into());
    let response = post(&app, "/signalwire/voice", &tampered, &[("x-signalwire-signature", good)]).await;
    assert_eq!(response.status(), 403, "a changed caller");
    assert!(app.calls().await.is_empty(), "nothing is logged for a refused request");
}

#[tokio::test]
async fn with_only_signalwire_set_twilio_s_routes_are_not_served() {
    let app = signalwire_app().await;
    let response = app.post_form("/twilio/voice", form_body(&[("CallSid", "CA1"), ("From", PUSHY)]), None).await;
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn a_voicemails_transcript_is_asked_for_and_taken_only_when_signed_by_the_project() {
    let app = signalwire_app().await;
    signed(&app, "/signalwire/voice", &call_params("c0ffee12", "+442079460777")).await;
    let mut status = call_params("c0ffee12", "+442079460777");
    status.push(("DialCallStatus", "no-answer".into()));
    let voicemail = signed(&app, "/signalwire/dial-status", &status).await;
    assert_eq!(voicemail.attribute("Record", "transcribe").as_deref(), Some("true"));
    assert_eq!(voicemail.attribute("Record", "transcribeCallback").as_deref(), Some("/signalwire/transcript"));
    let mut left = call_params("c0ffee12", "+442079460777");
    left.push(("RecordingUrl", "https://example.signalwire.com/recordings/RE2".into()));
    signed(&app, "/signalwire/voicemail", &left).await;

    let mut transcription = call_params("c0ffee12", "+442079460777");
    transcription.extend([
        ("RecordingUrl", "https://example.signalwire.com/recordings/RE2".into()),
        ("TranscriptionSid", "TR2".into()),
        ("TranscriptionStatus", "completed".into()),
        ("TranscriptionText", "Parcel is at the back door.".into()),
    ]);
    let borrowed: Vec<(&str, &str)> = transcription.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let url = format!("{PUBLIC_URL}/signalwire/transcript");
    let wrong = sign("PSKnot-the-key", &url, &params(&borrowed));
    let forged = post(&app, "/signalwire/transcript", &transcription, &[("x-signalwire-signature", wrong)]).await;
    assert_eq!(forged.status(), 403);
    assert!(app.calls().await[0]["outcome"]["transcript"].is_null());
    let right = sign(SIGNING_KEY, &url, &params(&borrowed));
    let done = post(&app, "/signalwire/transcript", &transcription, &[("x-signalwire-signature", right)]).await;
    assert_eq!(done.status(), 204);
    assert_eq!(app.calls().await[0]["outcome"]["transcript"], "Parcel is at the back door.");
}
