//! A Telnyx number on a TeXML application: webhooks on `/telnyx/*`, signed with Ed25519, on the
//! real server. The key pair is made here: Telnyx signs with the account's private key.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ring::signature::{Ed25519KeyPair, KeyPair};
use saidno::config::CallerPolicy;
use saidno::startup::Application;
use serde_json::json;

use crate::helpers::*;

/// The test's own key pair, from a seed of its own.
fn key_pair() -> Ed25519KeyPair {
    let seed: [u8; 32] = std::array::from_fn(|i| (i as u8).wrapping_mul(73).wrapping_add(5));
    Ed25519KeyPair::from_seed_unchecked(&seed).unwrap()
}

fn public_key() -> String {
    BASE64.encode(key_pair().public_key().as_ref())
}

pub(crate) async fn telnyx_app_with(configure: impl FnOnce(&mut saidno::config::Settings)) -> TestApp {
    spawn_app_with(|s| {
        s.twilio.auth_token = String::new();
        s.telnyx.public_key = public_key();
        configure(s);
    })
    .await
}

/// What a TeXML application posts with a call.
pub(crate) fn call_params(call_id: &str, from: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AccountSid", "b7e3c6a2-0000-4000-8000-000000000002".to_owned()),
        ("ApiVersion", "2010-04-01".to_owned()),
        ("CallSid", call_id.to_owned()),
        ("CallSidLegacy", format!("v3:{call_id}")),
        ("CallStatus", "ringing".to_owned()),
        ("ConnectionId", "1494404757140276705".to_owned()),
        ("Direction", "inbound".to_owned()),
        ("From", from.to_owned()),
        ("To", BUSINESS_NUMBER.to_owned()),
    ]
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// Posts as Telnyx does: the signature over the timestamp and the body exactly as sent.
async fn post(
    app: &TestApp,
    path: &str,
    pairs: &[(&str, String)],
    at: i64,
    pair: &Ed25519KeyPair,
) -> reqwest::Response {
    let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let body = form_body(&borrowed);
    let signature = BASE64.encode(pair.sign(format!("{at}|{body}").as_bytes()).as_ref());
    app.http
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("telnyx-signature-ed25519", signature)
        .header("telnyx-timestamp", at.to_string())
        .body(body)
        .send()
        .await
        .unwrap()
}

pub(crate) async fn signed(app: &TestApp, path: &str, pairs: &[(&str, String)]) -> Twiml {
    let response = post(app, path, pairs, now(), &key_pair()).await;
    assert_eq!(response.status(), 200);
    Twiml::from_response(response).await
}

#[tokio::test]
async fn a_declined_caller_is_refused_in_words_and_an_unknown_one_is_forwarded_with_callbacks_here() {
    let app = telnyx_app_with(|_| {}).await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;
    let refused = signed(&app, "/telnyx/voice", &call_params("v3:c0ffee01", PUSHY)).await;
    assert_eq!(refused.verbs(), ["Say", "Hangup"], "{}", refused.xml);
    assert!(refused.text_of("Say")[0].contains("Everest Windows"));

    let mut named = call_params("v3:c0ffee02", "+442079460777");
    named.push(("CallerId", "JOHN DOE".into()));
    let forwarded = signed(&app, "/telnyx/voice", &named).await;
    assert_eq!(forwarded.verbs(), ["Dial"]);
    assert_eq!(forwarded.attribute("Dial", "action").as_deref(), Some("/telnyx/dial-status"));
    assert!(forwarded.attribute("Number", "url").unwrap().starts_with("/telnyx/whisper?call=v3%3Ac0ffee02"));

    let calls = app.calls().await;
    assert_eq!(calls[0]["caller_name"], "JOHN DOE", "the caller's name as Telnyx names it");
    assert_eq!(calls[1]["decision"], "decline");
}

#[tokio::test]
async fn a_silent_decline_is_rejected_and_a_caller_with_no_number_is_withheld() {
    let app = telnyx_app_with(|s| s.policy.withheld = CallerPolicy::Refuse).await;
    app.decline(json!({"prefix": "+234", "mode": "reject"})).await;
    let rejected = signed(&app, "/telnyx/voice", &call_params("v3:c0ffee03", "+2348012345678")).await;
    assert_eq!(rejected.verbs(), ["Reject"]);
    for (id, from) in
        [("v3:c0ffee04", "anonymous"), ("v3:c0ffee05", "sip:anonymous@sip.telnyx.com"), ("v3:c0ffee06", "")]
    {
        let withheld = signed(&app, "/telnyx/voice", &call_params(id, from)).await;
        assert!(withheld.text_of("Say")[0].contains("withheld numbers"), "{from:?}: {}", withheld.xml);
    }
    assert!(app.calls().await.iter().take(3).all(|call| call["from"] == "withheld"));
}

#[tokio::test]
async fn a_number_that_did_not_validate_follows_the_unverified_policy() {
    let app = telnyx_app_with(|s| s.policy.unverified = CallerPolicy::Refuse).await;
    let mut failed = call_params("v3:c0ffee07", "+442079460777");
    failed.push(("ShakenStirAttestation", "C".into()));
    failed.push(("ShakenStirValidated", "false".into()));
    let refused = signed(&app, "/telnyx/voice", &failed).await;
    assert_eq!(refused.verbs(), ["Say", "Hangup"]);
    let mut passed = call_params("v3:c0ffee08", "+442079460778");
    passed.push(("ShakenStirAttestation", "A".into()));
    passed.push(("ShakenStirValidated", "true".into()));
    assert_eq!(signed(&app, "/telnyx/voice", &passed).await.verbs(), ["Dial"]);

    let calls = app.calls().await;
    assert_eq!(calls[1]["verstat"], "attestation C, not validated");
    assert!(calls[1]["reason"].as_str().unwrap().contains("failed verification (attestation C, not validated)"));
    assert_eq!(calls[0]["verstat"], "attestation A, validated");
}

#[tokio::test]
async fn an_unanswered_forward_offers_voicemail_and_both_outcomes_are_attached() {
    let app = telnyx_app_with(|_| {}).await;
    signed(&app, "/telnyx/voice", &call_params("v3:c0ffee09", "+442079460777")).await;
    let mut status = call_params("v3:c0ffee09", "+442079460777");
    status.push(("DialCallStatus", "no-answer".into()));
    let voicemail = signed(&app, "/telnyx/dial-status", &status).await;
    assert_eq!(voicemail.verbs(), ["Say", "Record", "Hangup"]);
    assert_eq!(voicemail.attribute("Record", "action").as_deref(), Some("/telnyx/voicemail"));

    let mut left = call_params("v3:c0ffee09", "+442079460777");
    left.push(("RecordingUrl", "https://api.telnyx.com/v2/recordings/1.mp3".into()));
    left.push(("RecordingDuration", "7".into()));
    assert_eq!(signed(&app, "/telnyx/voicemail", &left).await.verbs(), ["Hangup"]);

    let outcome = &app.calls().await[0]["outcome"];
    assert_eq!(outcome["status"], "no-answer");
    assert_eq!(outcome["recording_secs"], 7);
}

#[tokio::test]
async fn a_request_not_signed_by_the_account_or_signed_long_ago_is_refused_and_nothing_is_logged() {
    let app = telnyx_app_with(|_| {}).await;
    let pairs = call_params("v3:c0ffee10", PUSHY);
    let stranger = Ed25519KeyPair::from_seed_unchecked(&[9u8; 32]).unwrap();
    assert_eq!(post(&app, "/telnyx/voice", &pairs, now(), &stranger).await.status(), 403, "another key");
    assert_eq!(post(&app, "/telnyx/voice", &pairs, now() - 301, &key_pair()).await.status(), 403, "a stale timestamp");
    assert_eq!(post(&app, "/telnyx/voice", &pairs, now() + 301, &key_pair()).await.status(), 403, "a timestamp ahead");

    let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let at = now();
    let signature = BASE64.encode(key_pair().sign(format!("{at}|{}", form_body(&borrowed)).as_bytes()).as_ref());
    let mut changed = pairs.clone();
    changed[7].1 = "+442079460555".into();
    let changed: Vec<(&str, &str)> = changed.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let replayed = app
        .http
        .post(app.url("/telnyx/voice"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("telnyx-signature-ed25519", signature)
        .header("telnyx-timestamp", at.to_string())
        .body(form_body(&changed))
        .send()
        .await
        .unwrap();
    assert_eq!(replayed.status(), 403, "a signature over another body");
    let unsigned = app.post_form("/telnyx/voice", form_body(&borrowed), None).await;
    assert_eq!(unsigned.status(), 403, "no signature at all");
    assert!(app.calls().await.is_empty(), "nothing is logged for a refused request");
}

#[tokio::test]
async fn a_public_key_that_is_not_one_stops_the_start_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(dir.path());
    settings.telnyx.public_key = "bm90IGEga2V5".into();
    let started = Application::build_with_store(settings, memory_store(), ADMIN_TOKEN).await;
    let error = started.err().expect("a wrong key is refused").to_string();
    assert!(error.contains("telnyx.public_key is not the 32 bytes of an Ed25519 public key"), "{error}");
}

#[tokio::test]
async fn a_voicemails_transcript_is_asked_for_in_texmls_words_and_shown_on_the_calls_page() {
    let app = telnyx_app_with(|_| {}).await;
    signed(&app, "/telnyx/voice", &call_params("v3:c0ffee11", "+442079460777")).await;
    let mut status = call_params("v3:c0ffee11", "+442079460777");
    status.push(("DialCallStatus", "no-answer".into()));
    let voicemail = signed(&app, "/telnyx/dial-status", &status).await;
    assert_eq!(voicemail.attribute("Record", "transcription").as_deref(), Some("true"));
    assert_eq!(voicemail.attribute("Record", "transcriptionCallback").as_deref(), Some("/telnyx/transcript"));
    let mut left = call_params("v3:c0ffee11", "+442079460777");
    left.push(("RecordingUrl", "https://api.telnyx.com/v2/recordings/2.mp3".into()));
    signed(&app, "/telnyx/voicemail", &left).await;

    let transcription = |words: &str| {
        vec![
            ("AccountSid", "f5586561-8ff0-4291-a0ac-84fe544797bd".to_owned()),
            ("CallSid", "v3:c0ffee11".to_owned()),
            ("Transcript", words.to_owned()),
        ]
    };
    let stranger = Ed25519KeyPair::from_seed_unchecked(&[9u8; 32]).unwrap();
    let forged = post(&app, "/telnyx/transcript", &transcription("Forged"), now(), &stranger).await;
    assert_eq!(forged.status(), 403);
    let stale = post(&app, "/telnyx/transcript", &transcription("Stale"), now() - 301, &key_pair()).await;
    assert_eq!(stale.status(), 403);
    let done = post(&app, "/telnyx/transcript", &transcription("Back at five, thanks."), now(), &key_pair()).await;
    assert_eq!(done.status(), 204);

    assert_eq!(app.calls().await[0]["outcome"]["transcript"], "Back at five, thanks.");
    let page = app.signed_in().await.get("/calls").await;
    assert_eq!(page.text_of("td.outcome .transcript"), "Transcript: Back at five, thanks.");
}
