//! A Vonage number on a Voice application: JSON webhooks on `/vonage/*`, each carrying a JWT
//! signed HS256 with the account's signature secret, on the real server. The tokens are made
//! here as Vonage makes them: `payload_hash` is the hex SHA-256 of the body as sent.

use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use saidno::config::CallerPolicy;
use saidno::startup::Application;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::*;

pub(crate) const SECRET: &str = "test-vonage-signature-secret-5b21";

pub(crate) async fn vonage_app_with(configure: impl FnOnce(&mut saidno::config::Settings)) -> TestApp {
    spawn_app_with(|s| {
        s.twilio.auth_token = String::new();
        s.vonage.signature_secret = SECRET.into();
        configure(s);
    })
    .await
}

/// A number as Vonage writes it: international digits, no `+`.
fn digits(number: &str) -> String {
    number.trim_start_matches('+').to_owned()
}

/// What the answer webhook posts with a call.
pub(crate) fn answer(conversation: &str, from: Option<&str>) -> Value {
    let mut body = json!({
        "to": digits(BUSINESS_NUMBER),
        "uuid": format!("{conversation}-leg"),
        "conversation_uuid": conversation,
        "region_url": "https://api-eu-1.vonage.com",
    });
    if let Some(from) = from {
        body["from"] = json!(from);
    }
    body
}

pub(crate) fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// A token id never used before in this test run.
pub(crate) fn fresh_jti() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!("b1f0c2d4-0000-4000-8000-{:012}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// The claims Vonage puts in a webhook's token, over `body`.
pub(crate) fn claims(body: &str, iat: i64, jti: &str) -> Value {
    json!({
        "iat": iat,
        "jti": jti,
        "iss": "Vonage",
        "payload_hash": hex(&Sha256::digest(body.as_bytes())),
        "api_key": "abcd1234",
        "application_id": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A JWT with `header` and `claims`, signed HS256 with `secret`.
pub(crate) fn jwt(header: &Value, claims: &Value, secret: &str) -> String {
    let signing_input =
        format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

pub(crate) fn hs256() -> Value {
    json!({"alg": "HS256", "typ": "JWT"})
}

/// A fresh token over `body`, as Vonage signs each webhook.
pub(crate) fn token(body: &str) -> String {
    jwt(&hs256(), &claims(body, now(), &fresh_jti()), SECRET)
}

pub(crate) async fn post(app: &TestApp, path: &str, body: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = app.http.post(app.url(path)).header("content-type", "application/json").body(body.to_owned());
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    request.send().await.unwrap()
}

/// Posts `body` signed, and reads the NCCO answered.
pub(crate) async fn signed(app: &TestApp, path: &str, body: &Value) -> Value {
    let body = body.to_string();
    let response = post(app, path, &body, Some(&token(&body))).await;
    assert_eq!(response.status(), 200, "{path}");
    assert_eq!(response.headers()["content-type"], "application/json");
    serde_json::from_str(&response.text().await.unwrap()).unwrap()
}

fn actions(ncco: &Value) -> Vec<&str> {
    ncco.as_array().unwrap().iter().map(|action| action["action"].as_str().unwrap()).collect()
}

fn vonage_url(path: &str) -> String {
    format!("{PUBLIC_URL}/vonage{path}")
}

#[tokio::test]
async fn a_declined_caller_is_refused_in_words_and_an_unknown_one_is_forwarded_with_callbacks_here() {
    let app = vonage_app_with(|_| {}).await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;
    let refused = signed(&app, "/vonage/answer", &answer("CON-c0ffee01", Some(&digits(PUSHY)))).await;
    assert_eq!(actions(&refused), ["talk"], "a talk, then the NCCO ends: {refused}");
    assert!(refused[0]["text"].as_str().unwrap().contains("Everest Windows"));
    assert_eq!(refused[0]["language"], "en-GB");

    let forwarded = signed(&app, "/vonage/answer", &answer("CON-c0ffee02", Some("442079460777"))).await;
    assert_eq!(actions(&forwarded), ["connect"]);
    let connect = &forwarded[0];
    assert_eq!(
        connect["endpoint"],
        json!([{
            "type": "phone",
            "number": digits(OWNER_PHONE),
            "onAnswer": {"url": vonage_url("/whisper?call=CON-c0ffee02&from=%2B442079460777")},
        }])
    );
    assert_eq!(connect["from"], "442079460777");
    assert_eq!(connect["eventType"], "synchronous");
    assert_eq!(connect["eventUrl"], json!([vonage_url("/dial-status")]));

    let calls = app.calls().await;
    assert_eq!(calls[1]["decision"], "decline");
    assert_eq!(calls[1]["from"], PUSHY, "digits without + match the declined E.164 record");
    assert_eq!(calls[0]["from"], "+442079460777");
}

#[tokio::test]
async fn a_silent_decline_is_answered_and_ended_at_once_and_a_caller_with_no_number_is_withheld() {
    let app = vonage_app_with(|s| s.policy.withheld = CallerPolicy::Refuse).await;
    app.decline(json!({"prefix": "+234", "mode": "reject"})).await;
    let ended = signed(&app, "/vonage/answer", &answer("CON-c0ffee03", Some("2348012345678"))).await;
    assert_eq!(ended, json!([]), "no actions: Vonage has answered, and the call ends");
    for (id, from) in [("CON-c0ffee04", None), ("CON-c0ffee05", Some("Unknown")), ("CON-c0ffee06", Some(""))] {
        let withheld = signed(&app, "/vonage/answer", &answer(id, from)).await;
        assert_eq!(actions(&withheld), ["talk"], "{from:?}");
        assert!(withheld[0]["text"].as_str().unwrap().contains("withheld numbers"), "{from:?}: {withheld}");
    }
    let calls = app.calls().await;
    assert!(calls.iter().take(3).all(|call| call["from"] == "withheld"), "{calls:?}");
    assert_eq!(calls[3]["from"], "+2348012345678");
}

/// An event of the forwarded leg, as `connect` sends it to its `eventUrl`.
pub(crate) fn forwarded_leg(conversation: &str, status: &str) -> Value {
    json!({
        "from": "442079460777",
        "to": digits(OWNER_PHONE),
        "uuid": format!("{conversation}-forwarded-leg"),
        "conversation_uuid": conversation,
        "status": status,
        "direction": "outbound",
        "timestamp": "2026-01-01T12:00:00.000Z",
    })
}

#[tokio::test]
async fn an_answered_forward_is_left_alone_and_logged_when_it_completes() {
    let app = vonage_app_with(|_| {}).await;
    signed(&app, "/vonage/answer", &answer("CON-c0ffee14", Some("442079460777"))).await;
    let answered = forwarded_leg("CON-c0ffee14", "answered").to_string();
    let response = post(&app, "/vonage/dial-status", &answered, Some(&token(&answered))).await;
    assert_eq!(response.status(), 204, "no NCCO reaches a call in progress");
    let mut completed = forwarded_leg("CON-c0ffee14", "completed");
    completed["duration"] = json!("42");
    assert_eq!(signed(&app, "/vonage/dial-status", &completed).await, json!([]));
    let outcome = &app.calls().await[0]["outcome"];
    assert_eq!(outcome["status"], "answered");
    assert_eq!(outcome["duration_secs"], 42);
}

#[tokio::test]
async fn an_unanswered_forward_offers_voicemail_and_the_message_is_attached_to_the_call() {
    let app = vonage_app_with(|_| {}).await;
    signed(&app, "/vonage/answer", &answer("CON-c0ffee07", Some("442079460777"))).await;
    let leg = |status| forwarded_leg("CON-c0ffee07", status);
    for status in ["started", "ringing"] {
        let progress = leg(status).to_string();
        let response = post(&app, "/vonage/dial-status", &progress, Some(&token(&progress))).await;
        assert_eq!(response.status(), 204, "progress is answered with nothing: {status}");
    }

    let voicemail = signed(&app, "/vonage/dial-status", &leg("timeout")).await;
    assert_eq!(actions(&voicemail), ["talk", "record"]);
    assert_eq!(voicemail[1]["eventUrl"], json!([vonage_url("/voicemail")]));
    assert_eq!(voicemail[1]["endOnKey"], "#");
    assert_eq!(voicemail[1].get("transcription"), None, "Vonage's words could not be read, so are not paid for");
    let transcript = json!({"conversation_uuid": "CON-c0ffee07", "transcription_url": "https://api.nexmo.com/x"});
    let body = transcript.to_string();
    assert_eq!(post(&app, "/vonage/transcript", &body, Some(&token(&body))).await.status(), 404, "no such route");

    let recording = json!({
        "start_time": "2026-01-01T12:00:30Z",
        "end_time": "2026-01-01T12:00:37Z",
        "recording_url": "https://api.nexmo.com/v1/files/aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
        "size": 28_160,
        "recording_uuid": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
        "conversation_uuid": "CON-c0ffee07",
        "timestamp": "2026-01-01T12:00:37Z",
    });
    assert_eq!(signed(&app, "/vonage/voicemail", &recording).await, json!([]));

    let calls = app.calls().await;
    assert_eq!(calls.len(), 1);
    let outcome = &calls[0]["outcome"];
    assert_eq!(outcome["status"], "no-answer");
    assert_eq!(outcome["recording_secs"], 7);
    assert_eq!(outcome["recording_url"], "https://api.nexmo.com/v1/files/aaaaaaaa-bbbb-cccc-dddd-0123456789ab");
}

#[tokio::test]
async fn the_escape_hatch_key_arrives_in_the_input_event_and_puts_the_caller_through() {
    let app = vonage_app_with(|s| s.policy.escape_hatch_companies = vec!["Everest Windows".into()]).await;
    app.decline(json!({"number": PUSHY, "company": "everest windows"})).await;
    let refusal = signed(&app, "/vonage/answer", &answer("CON-c0ffee11", Some(&digits(PUSHY)))).await;
    assert_eq!(actions(&refusal), ["talk", "talk", "input"], "{refusal}");
    assert!(refusal[1]["text"].as_str().unwrap().contains("existing order or appointment"));
    assert_eq!(refusal[2]["eventUrl"], json!([vonage_url("/escape")]));

    let mut pressed = answer("CON-c0ffee11", Some(&digits(PUSHY)));
    pressed["dtmf"] = json!({"digits": "1", "timed_out": false});
    let through = signed(&app, "/vonage/escape", &pressed).await;
    assert_eq!(actions(&through), ["connect"]);
    assert_eq!(through[0]["endpoint"][0]["number"], digits(OWNER_PHONE));
    assert_eq!(app.calls().await[0]["outcome"]["via_escape_hatch"], true);
}

#[tokio::test]
async fn the_announcement_tells_who_is_calling_and_offers_no_key_it_cannot_act_on() {
    let app = vonage_app_with(|_| {}).await;
    let answered = json!({"uuid": "c0ffee08-forwarded-leg", "conversation_uuid": "CON-c0ffee08"});
    let ncco = signed(&app, "/vonage/whisper?call=CON-c0ffee08&from=%2B442079460777", &answered).await;
    assert_eq!(actions(&ncco), ["talk"]);
    let words = ncco[0]["text"].as_str().unwrap();
    assert_eq!(words, "Call from 0 2 0, 7 9 4 6, 0 7 7 7. Connecting.");
    // The announcement's NCCO cannot hang up the answering phone, so a key that reaches the
    // key's route all the same puts the call through, and none declines.
    for digits in ["1", "9", ""] {
        let mut pressed = answered.clone();
        pressed["dtmf"] = json!({"digits": digits, "timed_out": digits.is_empty()});
        let key = signed(&app, "/vonage/whisper/key?call=CON-c0ffee08&from=%2B442079460777", &pressed).await;
        assert_eq!(key, json!([]), "{digits:?}");
    }
    assert!(app.declines().await.is_empty());
}

#[tokio::test]
async fn call_events_are_verified_and_answered_with_nothing() {
    let app = vonage_app_with(|_| {}).await;
    let event = json!({"status": "completed", "uuid": "u-1", "conversation_uuid": "CON-c0ffee09", "duration": "12"})
        .to_string();
    assert_eq!(post(&app, "/vonage/event", &event, Some(&token(&event))).await.status(), 204);
    assert_eq!(post(&app, "/vonage/event", &event, None).await.status(), 403);
    assert!(app.calls().await.is_empty());
}

#[tokio::test]
async fn a_request_not_signed_by_the_account_fresh_and_once_is_refused_and_nothing_is_logged() {
    let app = vonage_app_with(|_| {}).await;
    let body = answer("CON-c0ffee10", Some(&digits(PUSHY))).to_string();
    let refused = |token: Option<String>, why: &'static str| {
        let (app, body) = (&app, &body);
        async move {
            let response = post(app, "/vonage/answer", body, token.as_deref()).await;
            assert_eq!(response.status(), 403, "{why}");
        }
    };
    refused(None, "no Authorization").await;
    refused(Some(jwt(&hs256(), &claims(&body, now(), &fresh_jti()), "another-secret")), "a wrong secret").await;
    let unsigned_header = URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT"}).to_string());
    let unsigned_claims = URL_SAFE_NO_PAD.encode(claims(&body, now(), &fresh_jti()).to_string());
    refused(Some(format!("{unsigned_header}.{unsigned_claims}.")), "alg none").await;
    refused(Some(jwt(&hs256(), &claims(&body, now() - 301, &fresh_jti()), SECRET)), "a stale iat").await;
    refused(Some(jwt(&hs256(), &claims(&body, now() + 301, &fresh_jti()), SECRET)), "an iat ahead").await;
    let other_body = answer("CON-c0ffee10", Some("442079460555")).to_string();
    refused(Some(jwt(&hs256(), &claims(&other_body, now(), &fresh_jti()), SECRET)), "a payload_hash of another body")
        .await;

    // A token used once (here on the event route, which records nothing) is refused after.
    let once = token(&body);
    assert_eq!(post(&app, "/vonage/event", &body, Some(&once)).await.status(), 204);
    refused(Some(once), "a replayed jti").await;
    assert!(app.calls().await.is_empty(), "nothing is logged for a refused request");
}

#[tokio::test]
async fn a_failure_inside_forwards_the_call_with_the_fallback_connect() {
    let vonage = |s: &mut saidno::config::Settings| {
        s.twilio.auth_token = String::new();
        s.vonage.signature_secret = SECRET.into();
    };
    let broken = crate::fail_open::BrokenLookups { log: saidno::store::MemoryStore::default(), panic: false };
    let app = spawn_app_on(std::sync::Arc::new(broken), vonage).await;
    let forwarded = signed(&app, "/vonage/answer", &answer("CON-c0ffee12", Some(&digits(PUSHY)))).await;
    assert_eq!(actions(&forwarded), ["connect"], "a store error forwards");
    assert_eq!(forwarded[0]["randomFromNumber"], true, "the fallback shows the business number");
    assert!(app.calls().await[0]["reason"].as_str().unwrap().contains("could not decide"));

    // A refusal too long for one talk cannot be spoken: the call is forwarded instead.
    let app = spawn_app_on(memory_store(), |s| {
        vonage(s);
        s.business_name = "Acme ".repeat(400);
    })
    .await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;
    let forwarded = signed(&app, "/vonage/answer", &answer("CON-c0ffee13", Some(&digits(PUSHY)))).await;
    assert_eq!(actions(&forwarded), ["connect"]);
    assert!(app.calls().await[0]["reason"].as_str().unwrap().contains("over Vonage's 1500"));
}

#[tokio::test]
async fn a_signature_secret_without_a_public_url_stops_the_start_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(dir.path());
    settings.vonage.signature_secret = SECRET.into();
    settings.public_url = String::new();
    let started = Application::build_with_store(settings, memory_store(), ADMIN_TOKEN).await;
    let error = started.err().expect("Vonage needs absolute callbacks").to_string();
    assert!(error.contains("vonage.signature_secret is set, so public_url must be too"), "{error}");
}
