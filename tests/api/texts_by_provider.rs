//! Texts to the owner through each provider's REST API, sent to a local stand-in for the API;
//! every request is checked against the provider's published description of it (Plivo
//! publishes none: its request is checked against the shape its SDK sends).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use saidno::config::Settings;
use serde_json::{Value, json};

use crate::fake_twilio::{Answer, Captured, FakeTwilio};
use crate::helpers::*;
use crate::openapi::{Description, plivo_accepts};

const PROJECT: &str = "b7e3c6a2-5d1f-4c8e-9a0b-1f2e3d4c5b6a";

/// saidno with no Twilio account to text through, and `configure`'s provider account on the
/// stand-in; a declined company then calls again (through Twilio's route).
async fn refused_call_texted_through(
    script: Vec<Answer>,
    configure: impl FnOnce(&mut Settings, String),
) -> (TestApp, Captured) {
    let mut api = FakeTwilio::start(script).await;
    let base = api.url.clone();
    let app = spawn_app_with(move |s| {
        s.twilio.account_sid = String::new();
        s.notify.retry_base_ms = 1;
        s.notify.max_attempts = 1;
        configure(s, base);
    })
    .await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;
    assert_eq!(app.call("CA700", PUSHY).await.verbs(), ["Say", "Hangup"]);
    let sent = api.next_request().await;
    (app, sent)
}

fn basic(user: &str, secret: &str) -> String {
    format!("Basic {}", BASE64.encode(format!("{user}:{secret}")))
}

fn json_body(sent: &Captured) -> Value {
    serde_json::from_slice(&sent.body).unwrap()
}

fn says_called_again(text: &str) {
    assert!(text.starts_with("Everest Windows called again: 1st time since you said no on "), "{text}");
}

#[tokio::test]
async fn through_signalwire_the_text_is_the_compatibility_apis_message_signed_in_as_the_project() {
    let (_app, sent) = refused_call_texted_through(vec![], |s, base| {
        s.signalwire.space_url = base;
        s.signalwire.project = PROJECT.into();
        s.signalwire.api_token = "PT-token-1".into();
    })
    .await;
    Description::load("SignalWire", "signalwire-openapi.json").assert_accepts(&sent);
    assert_eq!(sent.path, format!("/api/laml/2010-04-01/Accounts/{PROJECT}/Messages"));
    assert_eq!(sent.headers["authorization"], basic(PROJECT, "PT-token-1").as_str());
    assert_eq!(sent.field("To").as_deref(), Some(OWNER_MOBILE));
    assert_eq!(sent.field("From").as_deref(), Some(BUSINESS_NUMBER));
    says_called_again(&sent.field("Body").unwrap());
}

#[tokio::test]
async fn through_telnyx_the_text_is_a_v2_message_signed_in_with_the_api_key() {
    let answer = (
        200,
        vec![("content-type", "application/json")],
        r#"{"data": {"id": "40317f5c-0000-4000-8000-000000000001"}}"#,
    );
    let (_app, sent) = refused_call_texted_through(vec![answer], |s, base| {
        s.telnyx.api_key = "KEY0123456789".into();
        s.telnyx.api_base_url = base;
    })
    .await;
    Description::load("Telnyx", "telnyx-openapi.json").assert_accepts(&sent);
    assert_eq!(sent.path, "/v2/messages");
    assert_eq!(sent.headers["authorization"], "Bearer KEY0123456789");
    let message = json_body(&sent);
    assert_eq!(message["to"], OWNER_MOBILE);
    assert_eq!(message["from"], BUSINESS_NUMBER);
    says_called_again(message["text"].as_str().unwrap());
}

#[tokio::test]
async fn through_plivo_the_text_is_the_message_apis_json_signed_in_with_the_auth_id() {
    let answer = (
        202,
        vec![("content-type", "application/json")],
        r#"{"api_id": "a1", "message": "message(s) queued", "message_uuid": ["db3ce55a-7f1d-11e1-8ea7-1231380bc196"]}"#,
    );
    let (_app, sent) = refused_call_texted_through(vec![answer], |s, base| {
        s.plivo.auth_id = "MAXXXXXXXXXXXXXXXXXX".into();
        s.plivo.auth_token = "plivo-token-2".into();
        s.plivo.api_base_url = base;
    })
    .await;
    plivo_accepts(&sent, "send_message");
    assert_eq!(sent.path, "/v1/Account/MAXXXXXXXXXXXXXXXXXX/Message/");
    assert_eq!(sent.headers["authorization"], basic("MAXXXXXXXXXXXXXXXXXX", "plivo-token-2").as_str());
    let message = json_body(&sent);
    assert_eq!(message["dst"], OWNER_MOBILE.trim_start_matches('+'));
    assert_eq!(message["src"], BUSINESS_NUMBER.trim_start_matches('+'));
    says_called_again(message["text"].as_str().unwrap());
}

#[tokio::test]
async fn through_vonage_the_text_is_the_sms_apis_form_carrying_the_key_and_secret() {
    let answer = (
        200,
        vec![("content-type", "application/json")],
        r#"{"message-count": "1", "messages": [{"to": "447700900123", "message-id": "0A0000000123ABCD1", "status": "0"}]}"#,
    );
    let (_app, sent) = refused_call_texted_through(vec![answer], |s, base| {
        s.vonage.api_key = "abcd1234".into();
        s.vonage.api_secret = "vonage-secret-3".into();
        s.vonage.api_base_url = base;
    })
    .await;
    Description::load("Vonage", "vonage-sms-openapi.json").assert_accepts(&sent);
    assert_eq!(sent.path, "/sms/json");
    assert_eq!(sent.field("api_key").as_deref(), Some("abcd1234"));
    assert_eq!(sent.field("api_secret").as_deref(), Some("vonage-secret-3"));
    assert_eq!(sent.field("to"), Some(OWNER_MOBILE.trim_start_matches('+').to_owned()));
    assert_eq!(sent.field("from"), Some(BUSINESS_NUMBER.trim_start_matches('+').to_owned()));
    says_called_again(&sent.field("text").unwrap());
}
