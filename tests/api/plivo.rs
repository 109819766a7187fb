//! A Plivo number on a Plivo application: webhooks on `/plivo/*`, signed with the Auth Token and
//! a nonce as Plivo signs them, on the real server.

use std::sync::atomic::{AtomicU64, Ordering};

use saidno::config::CallerPolicy;
use saidno::provider::plivo::signature::{sign_v2, sign_v3};
use serde_json::json;

use crate::helpers::*;

pub(crate) const PLIVO_TOKEN: &str = "plivo-auth-token-5e1d";

pub(crate) async fn plivo_app_with(configure: impl FnOnce(&mut saidno::config::Settings)) -> TestApp {
    spawn_app_with(|s| {
        s.twilio.auth_token = String::new();
        s.plivo.auth_token = PLIVO_TOKEN.into();
        configure(s);
    })
    .await
}

/// A new nonce for every request, as Plivo sends.
fn nonce() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("{}{}", 38_467_321_946_000u64, NEXT.fetch_add(1, Ordering::Relaxed))
}

/// What Plivo posts to the answer URL: numbers as digits without `+`.
pub(crate) fn call_params(call_id: &str, from: &str) -> Vec<(&'static str, String)> {
    vec![
        ("BillRate", "0.0085".to_owned()),
        ("CallStatus", "ringing".to_owned()),
        ("CallUUID", call_id.to_owned()),
        ("Direction", "inbound".to_owned()),
        ("Event", "StartApp".to_owned()),
        ("From", from.to_owned()),
        ("SessionStart", "2026-12-01 10:00:00.000000".to_owned()),
        ("To", BUSINESS_NUMBER.trim_start_matches('+').to_owned()),
    ]
}

fn digits(e164: &str) -> String {
    e164.trim_start_matches('+').to_owned()
}

/// Posts as Plivo does, with the V3 signature of `token` in `header`.
async fn post_with(
    app: &TestApp,
    path: &str,
    pairs: &[(&str, String)],
    nonce: &str,
    token: &str,
    header: &str,
) -> reqwest::Response {
    let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let signature = sign_v3(token, &format!("{PUBLIC_URL}{path}"), &params(&borrowed), nonce);
    app.http
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .header(header, signature)
        .header("x-plivo-signature-v3-nonce", nonce)
        .body(form_body(&borrowed))
        .send()
        .await
        .unwrap()
}

pub(crate) async fn signed(app: &TestApp, path: &str, pairs: &[(&str, String)]) -> Twiml {
    let response = post_with(app, path, pairs, &nonce(), PLIVO_TOKEN, "x-plivo-signature-v3").await;
    assert_eq!(response.status(), 200);
    Twiml::from_response(response).await
}

#[tokio::test]
async fn a_declined_caller_sent_without_a_plus_is_refused_and_an_unknown_one_forwarded_with_callbacks_here() {
    let app = plivo_app_with(|_| {}).await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;
    let refused =
        signed(&app, "/plivo/voice", &call_params("97ceeb52-58b6-11e1-86da-000000000001", &digits(PUSHY))).await;
    assert_eq!(refused.verbs(), ["Speak", "Hangup"], "{}", refused.xml);
    assert!(refused.text_of("Speak")[0].contains("Everest Windows"));
    assert_eq!(refused.attribute("Speak", "voice").as_deref(), Some("Polly.Amy"));

    let mut named = call_params("97ceeb52-58b6-11e1-86da-000000000002", "442079460777");
    named.push(("CallerName", "JOHN DOE".into()));
    let forwarded = signed(&app, "/plivo/voice", &named).await;
    assert_eq!(forwarded.verbs(), ["Dial"], "{}", forwarded.xml);
    assert_eq!(forwarded.text_of("Number"), [digits(OWNER_PHONE)]);
    assert_eq!(forwarded.attribute("Dial", "callerId").as_deref(), Some("442079460777"));
    assert_eq!(forwarded.attribute("Dial", "action"), Some(format!("{PUBLIC_URL}/plivo/dial-status")));
    let confirm = forwarded.attribute("Dial", "confirmSound").unwrap();
    assert_eq!(
        confirm,
        format!("{PUBLIC_URL}/plivo/whisper?call=97ceeb52-58b6-11e1-86da-000000000002&from=%2B442079460777")
    );
    assert_eq!(forwarded.attribute("Dial", "confirmKey").as_deref(), Some("1"));

    let calls = app.calls().await;
    assert_eq!(calls[0]["from"], "+442079460777");
    assert_eq!(calls[0]["caller_name"], "JOHN DOE");
    assert_eq!(calls[1]["decision"], "decline");
    assert_eq!(calls[1]["from"], PUSHY, "digits without + are the E.164 number");
}

#[tokio::test]
async fn a_silent_decline_is_rejected_unanswered_and_a_caller_with_no_number_is_withheld() {
    let app = plivo_app_with(|s| s.policy.withheld = CallerPolicy::Refuse).await;
    app.decline(json!({"prefix": "+234", "mode": "reject"})).await;
    let rejected = signed(&app, "/plivo/voice", &call_params("a1", "2348012345678")).await;
    assert_eq!(rejected.verbs(), ["Hangup"]);
    assert_eq!(rejected.attribute("Hangup", "reason").as_deref(), Some("busy"));
    for (id, from) in [("a2", "anonymous"), ("a3", "sip:anonymous@phone.plivo.com"), ("a4", "")] {
        let withheld = signed(&app, "/plivo/voice", &call_params(id, from)).await;
        assert!(withheld.text_of("Speak")[0].contains("withheld numbers"), "{from:?}: {}", withheld.xml);
    }
    assert!(app.calls().await.iter().take(3).all(|call| call["from"] == "withheld"));
}

#[tokio::test]
async fn an_unanswered_forward_offers_voicemail_and_both_outcomes_are_attached() {
    let app = plivo_app_with(|_| {}).await;
    signed(&app, "/plivo/voice", &call_params("b1", "442079460777")).await;
    let mut status = call_params("b1", "442079460777");
    status.push(("DialStatus", "timeout".into()));
    let voicemail = signed(&app, "/plivo/dial-status", &status).await;
    assert_eq!(voicemail.verbs(), ["Speak", "Record", "Hangup"], "{}", voicemail.xml);
    assert_eq!(voicemail.attribute("Record", "action"), Some(format!("{PUBLIC_URL}/plivo/voicemail")));
    assert_eq!(voicemail.attribute("Record", "maxLength").as_deref(), Some("120"));

    let mut left = call_params("b1", "442079460777");
    left.push(("RecordUrl", "https://media.plivo.com/v1/Account/MA1/Recording/r1.mp3".into()));
    left.push(("RecordingDuration", "7".into()));
    assert_eq!(signed(&app, "/plivo/voicemail", &left).await.verbs(), ["Hangup"]);

    let outcome = &app.calls().await[0]["outcome"];
    assert_eq!(outcome["status"], "no-answer");
    assert_eq!(outcome["recording_secs"], 7);
    assert_eq!(outcome["recording_url"], "https://media.plivo.com/v1/Account/MA1/Recording/r1.mp3");
}

#[tokio::test]
async fn the_announcement_only_speaks_and_offers_the_one_key_plivo_can_take() {
    let app = plivo_app_with(|_| {}).await;
    app.decline(json!({"number": "+442079460777", "company": "Everest Windows", "force": true})).await;
    let path = "/plivo/whisper?call=c1&from=%2B442079460777";
    let announced = signed(&app, path, &call_params("c1-b-leg", digits(OWNER_PHONE).as_str())).await;
    assert_eq!(announced.verbs(), ["Speak"], "{}", announced.xml);
    let words = &announced.text_of("Speak")[0];
    assert!(words.ends_with("Press 1 to take the call."), "{words}");
    assert!(words.starts_with("Call from 0 2 0, 7 9 4 6, 0 7 7 7, Everest Windows."), "{words}");
    assert!(!words.contains("decline"), "no key to decline is offered: {words}");
}

#[tokio::test]
async fn a_screened_caller_who_presses_nothing_is_sent_to_the_screen_callback_all_the_same() {
    let app = plivo_app_with(|s| s.policy.withheld = CallerPolicy::Screen).await;
    let screened = signed(&app, "/plivo/voice", &call_params("d1", "anonymous")).await;
    assert_eq!(screened.verbs(), ["GetInput", "Redirect", "Hangup"], "{}", screened.xml);
    assert_eq!(screened.attribute("GetInput", "action"), Some(format!("{PUBLIC_URL}/plivo/screen")));
    assert_eq!(screened.text_of("Redirect"), [format!("{PUBLIC_URL}/plivo/screen")]);
    let mut pressed = call_params("d1", "anonymous");
    pressed.push(("Digits", "1".into()));
    assert_eq!(signed(&app, "/plivo/screen", &pressed).await.verbs(), ["Dial"]);
}

#[tokio::test]
async fn a_stir_level_is_logged_as_plivo_reports_it() {
    let app = plivo_app_with(|s| s.policy.unverified = CallerPolicy::Refuse).await;
    let mut call = call_params("e1", "442079460777");
    call.push(("STIRVerification", "Not Verified".into()));
    call.push(("STIRAttestation", "C".into()));
    assert_eq!(signed(&app, "/plivo/voice", &call).await.verbs(), ["Dial"], "not a failed verification");
    assert_eq!(app.calls().await[0]["verstat"], "Not Verified, attestation C");
}

#[tokio::test]
async fn the_owners_text_signed_with_v2_is_a_command_answered_from_the_business_number() {
    let app = plivo_app_with(|_| {}).await;
    let pairs = [
        ("From", digits(OWNER_MOBILE)),
        ("To", digits(BUSINESS_NUMBER)),
        ("Text", "NO +442079460888 Everest Windows".to_owned()),
        ("Type", "sms".to_owned()),
        ("MessageUUID", "2f4d6f6e-0000-4000-8000-000000000001".to_owned()),
    ];
    let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let nonce = nonce();
    let send = |signature: String| {
        app.http
            .post(app.url("/plivo/sms"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-plivo-signature-v2", signature)
            .header("x-plivo-signature-v2-nonce", nonce.clone())
            .body(form_body(&borrowed))
            .send()
    };
    let wrong = send(sign_v2("another-token", &format!("{PUBLIC_URL}/plivo/sms"), &nonce)).await.unwrap();
    assert_eq!(wrong.status(), 403);
    let response = send(sign_v2(PLIVO_TOKEN, &format!("{PUBLIC_URL}/plivo/sms"), &nonce)).await.unwrap();
    assert_eq!(response.status(), 200);
    let reply = Twiml::from_response(response).await;
    assert_eq!(reply.verbs(), ["Message"], "{}", reply.xml);
    assert_eq!(reply.attribute("Message", "src"), Some(digits(BUSINESS_NUMBER)));
    assert_eq!(reply.attribute("Message", "dst"), Some(digits(OWNER_MOBILE)));
    assert!(reply.text_of("Message")[0].starts_with("Declined +442079460888 (Everest Windows)."), "{}", reply.xml);
    assert_eq!(app.declines().await.len(), 1);
}

#[tokio::test]
async fn a_request_not_signed_by_the_account_or_sent_twice_is_refused_and_nothing_more_is_logged() {
    let app = plivo_app_with(|_| {}).await;
    let pairs = call_params("f1", &digits(PUSHY));
    let v3 = "x-plivo-signature-v3";
    assert_eq!(post_with(&app, "/plivo/voice", &pairs, &nonce(), "another-token", v3).await.status(), 403);
    let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let unsigned = app.post_form("/plivo/voice", form_body(&borrowed), None).await;
    assert_eq!(unsigned.status(), 403, "no signature at all");

    let nonce = nonce();
    let signature = sign_v3(PLIVO_TOKEN, &format!("{PUBLIC_URL}/plivo/voice"), &params(&borrowed), &nonce);
    let mut changed = pairs.clone();
    changed[5].1 = "442079460555".into();
    let changed: Vec<(&str, &str)> = changed.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let send = |body: String, header: &'static str| {
        app.http
            .post(app.url("/plivo/voice"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header(header, signature.clone())
            .header("x-plivo-signature-v3-nonce", nonce.clone())
            .body(body)
            .send()
    };
    assert_eq!(send(form_body(&changed), v3).await.unwrap().status(), 403, "a signature over other parameters");
    let v2_only = app
        .http
        .post(app.url("/plivo/voice"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-plivo-signature-v2", sign_v2(PLIVO_TOKEN, &format!("{PUBLIC_URL}/plivo/voice"), "777"))
        .header("x-plivo-signature-v2-nonce", "777")
        .body(form_body(&borrowed))
        .send()
        .await
        .unwrap();
    assert_eq!(v2_only.status(), 403, "V2 covers no parameters, so a call needs V3");
    assert!(app.calls().await.is_empty(), "nothing is logged for a refused request");

    let main_account = send(form_body(&borrowed), "x-plivo-signature-ma-v3").await.unwrap();
    assert_eq!(main_account.status(), 200, "the main account's signature passes");
    assert_eq!(send(form_body(&borrowed), v3).await.unwrap().status(), 403, "the same nonce again: a replay");
    assert_eq!(app.calls().await.len(), 1, "only the first was logged");
}

#[tokio::test]
async fn a_voicemails_transcript_is_asked_for_received_once_and_shown_on_the_calls_page() {
    let app = plivo_app_with(|_| {}).await;
    signed(&app, "/plivo/voice", &call_params("b2", "442079460777")).await;
    let mut status = call_params("b2", "442079460777");
    status.push(("DialStatus", "timeout".into()));
    let voicemail = signed(&app, "/plivo/dial-status", &status).await;
    assert_eq!(voicemail.attribute("Record", "transcriptionType").as_deref(), Some("auto"));
    assert_eq!(voicemail.attribute("Record", "transcriptionUrl"), Some(format!("{PUBLIC_URL}/plivo/transcript")));
    let mut left = call_params("b2", "442079460777");
    left.push(("RecordUrl", "https://media.plivo.com/v1/Account/MA1/Recording/r2.mp3".into()));
    left.push(("RecordingDuration", "9".into()));
    signed(&app, "/plivo/voicemail", &left).await;

    // What Plivo posts to `transcriptionUrl`.
    let transcription = |words: &str| {
        vec![
            ("call_uuid", "b2".to_owned()),
            ("duration", "9".to_owned()),
            ("recording_id", "r2".to_owned()),
            ("transcription", words.to_owned()),
            ("transcription_charge", "0.05".to_owned()),
            ("transcription_rate", "0.05".to_owned()),
        ]
    };
    let once = nonce();
    let post = |words: &str, nonce: &str, token: &str| {
        let pairs = transcription(words);
        let nonce = nonce.to_owned();
        let token = token.to_owned();
        let app = &app;
        async move { post_with(app, "/plivo/transcript", &pairs, &nonce, &token, "x-plivo-signature-v3").await.status() }
    };
    assert_eq!(post("Please ring the shop.", &once, PLIVO_TOKEN).await, 204);
    assert_eq!(post("Other words", &once, PLIVO_TOKEN).await, 403, "a nonce is good once");
    assert_eq!(post("Forged", &nonce(), "wrong-token").await, 403);

    let outcome = &app.calls().await[0]["outcome"];
    assert_eq!(outcome["recording_secs"], 9);
    assert_eq!(outcome["transcript"], "Please ring the shop.");
    let page = app.signed_in().await.get("/calls").await;
    assert_eq!(page.text_of("td.outcome .transcript"), "Transcript: Please ring the shop.");
}
