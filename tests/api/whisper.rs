//! The announcement to whoever answers a forward, driven as Twilio drives it: the `<Number url>`
//! request on the answered leg, the `<Gather>` key, then the original call's `<Dial action>`.

use saidno::config::NoKey;

use crate::helpers::*;

const CALLER: &str = "+442079460555";
const CHILD_SID: &str = "CA99990000000000000000000000000001";

/// What Twilio posts on the leg to the owner's phone once it is answered.
fn answered_leg(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut pairs = vec![
        ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
        ("CallSid", CHILD_SID),
        ("CallStatus", "in-progress"),
        ("Direction", "outbound-dial"),
        ("From", CALLER),
        ("To", OWNER_PHONE),
    ];
    pairs.extend_from_slice(extra);
    pairs
}

impl TestApp {
    /// The call rings through; returns the announcement's address from the `<Number url>`.
    async fn forwarded(&self, call_id: &str, from: &str) -> String {
        let twiml = self.call(call_id, from).await;
        assert_eq!(twiml.verbs(), ["Dial"], "{}", twiml.xml);
        assert_eq!(twiml.attribute("Number", "method").as_deref(), Some("POST"));
        twiml.attribute("Number", "url").expect("the forward announces the call")
    }

    async fn announcement(&self, url: &str) -> Twiml {
        let response = self.post_signed(url, &answered_leg(&[])).await;
        assert_eq!(response.status(), 200);
        Twiml::from_response(response).await
    }

    async fn press(&self, key_url: &str, digits: &'static str) -> Twiml {
        let response = self.post_signed(key_url, &answered_leg(&[("Digits", digits)])).await;
        assert_eq!(response.status(), 200);
        Twiml::from_response(response).await
    }

    async fn dial_ended(&self, call_id: &str, status: &str) -> Twiml {
        let pairs = [("CallSid", call_id), ("From", CALLER), ("DialCallStatus", status), ("DialCallSid", CHILD_SID)];
        let response = self.post_signed("/twilio/dial-status", &pairs).await;
        assert_eq!(response.status(), 200);
        Twiml::from_response(response).await
    }
}

#[tokio::test]
async fn whoever_answers_hears_the_caller_and_the_keys_before_being_connected() {
    let app = spawn_app().await;
    let url = app.forwarded("CA900", CALLER).await;
    assert_eq!(url, "/twilio/whisper?call=CA900&from=%2B442079460555");

    let twiml = app.announcement(&url).await;
    assert_eq!(twiml.verbs(), ["Gather"], "no key simply ends the document, which connects the call");
    assert_eq!(twiml.attribute("Gather", "numDigits").as_deref(), Some("1"));
    assert_eq!(twiml.attribute("Gather", "timeout").as_deref(), Some("5"));
    assert_eq!(twiml.attribute("Gather", "actionOnEmptyResult"), None);
    assert_eq!(
        twiml.attribute("Gather", "action").as_deref(),
        Some("/twilio/whisper/key?call=CA900&from=%2B442079460555")
    );
    let said = &twiml.text_of("Say")[0];
    assert!(said.starts_with("Call from 0 2 0, 7 9 4 6, 0 5 5 5."), "{said}");
    assert!(said.contains("Press 1 to take the call, or 9 to decline"), "{said}");
}

#[tokio::test]
async fn the_announcement_names_the_company_and_counts_this_weeks_calls() {
    let app = spawn_app().await;
    app.call("CA901", CALLER).await;
    let mut pairs = incoming("CA902", CALLER);
    pairs.push(("CallerName", "Everest Windows".to_owned()));
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let url =
        Twiml::from_response(app.post_signed("/twilio/voice", &pairs).await).await.attribute("Number", "url").unwrap();

    // The owner answers seconds later, when both calls are in the log.
    app.calls().await;
    let said = &app.announcement(&url).await.text_of("Say")[0];
    assert!(said.contains("Everest Windows, their 2nd call this week."), "{said}");
}

#[tokio::test]
async fn pressing_9_refuses_the_caller_declines_the_number_by_phone_and_logs_it() {
    let app = spawn_app().await;
    let url = app.forwarded("CA910", CALLER).await;
    let key_url = app.announcement(&url).await.attribute("Gather", "action").unwrap();

    let owner_hears = app.press(&key_url, "9").await;
    assert_eq!(owner_hears.verbs(), ["Say", "Hangup"], "the owner's leg ends; the caller is not connected");

    let declines = app.declines().await;
    assert_eq!(declines.len(), 1);
    assert_eq!(declines[0]["number"], CALLER);
    assert_eq!(declines[0]["channel"], "phone");
    assert_eq!(declines[0]["on_call"], "CA910", "the no was given on the announced call");
    assert!(declines[0]["company"].is_null(), "the company is named later");

    // The owner's leg hung up, so the original call moves on to its dial callback: the refusal.
    let caller_hears = app.dial_ended("CA910", "completed").await;
    assert_eq!(caller_hears.verbs(), ["Say", "Hangup"]);
    let said = &caller_hears.text_of("Say")[0];
    assert!(said.contains("Acme Plumbing") && said.contains("remove this number"), "{said}");

    let calls = app.calls().await;
    assert_eq!(calls[0]["call_sid"], "CA910");
    assert_eq!(calls[0]["outcome"]["status"], "declined", "{}", calls[0]);
    let log = app.signed_in().await.get("/calls").await;
    let row = log.text_of("tr.call[data-sid=CA910]");
    assert!(
        row.contains("refused") && row.contains("declined by pressing 9"),
        "the log says what the caller got: {row}"
    );
    assert!(!row.contains("no decline on record"), "{row}");

    assert_eq!(app.call("CA911", CALLER).await.verbs(), ["Say", "Hangup"], "the next call is refused outright");
}

#[tokio::test]
async fn pressing_1_connects_and_changes_nothing() {
    let app = spawn_app().await;
    let url = app.forwarded("CA920", CALLER).await;
    let key_url = app.announcement(&url).await.attribute("Gather", "action").unwrap();
    assert_eq!(app.press(&key_url, "1").await.verbs(), Vec::<String>::new(), "an empty answer connects");
    assert!(app.declines().await.is_empty());
    assert_eq!(app.dial_ended("CA920", "completed").await.verbs(), ["Hangup"]);
}

#[tokio::test]
async fn with_no_key_set_to_voicemail_silence_sends_the_caller_to_voicemail() {
    let app = spawn_app_with(|s| s.whisper.no_key = NoKey::Voicemail).await;
    let url = app.forwarded("CA930", CALLER).await;
    let announcement = app.announcement(&url).await;
    assert_eq!(announcement.attribute("Gather", "actionOnEmptyResult").as_deref(), Some("true"));
    let key_url = announcement.attribute("Gather", "action").unwrap();

    assert_eq!(app.press(&key_url, "").await.verbs(), ["Say", "Hangup"]);
    assert_eq!(app.dial_ended("CA930", "completed").await.verbs(), ["Say", "Record", "Hangup"]);
    assert!(app.declines().await.is_empty());
}

#[tokio::test]
async fn with_the_whisper_off_calls_connect_unannounced() {
    let app = spawn_app_with(|s| s.whisper.enabled = false).await;
    let twiml = app.call("CA940", CALLER).await;
    assert_eq!(twiml.verbs(), ["Dial"]);
    assert_eq!(twiml.attribute("Number", "url"), None);
}

#[tokio::test]
async fn a_withheld_caller_cannot_be_declined_by_key_and_is_connected() {
    let app = spawn_app().await;
    let url = app.forwarded("CA950", "anonymous").await;
    let key_url = app.announcement(&url).await.attribute("Gather", "action").unwrap();
    let owner_hears = app.press(&key_url, "9").await;
    assert_eq!(owner_hears.verbs(), ["Say"], "no hangup: the call connects after the words");
    assert!(owner_hears.text_of("Say")[0].contains("withheld"));
    assert!(app.declines().await.is_empty());
}

#[tokio::test]
async fn announcement_requests_must_be_signed() {
    let app = spawn_app().await;
    let body = form_body(&answered_leg(&[("Digits", "9")]));
    for path in
        ["/twilio/whisper?call=CA960&from=%2B442079460555", "/twilio/whisper/key?call=CA960&from=%2B442079460555"]
    {
        assert_eq!(app.post_form(path, body.clone(), None).await.status(), 403, "{path}");
    }
    assert!(app.declines().await.is_empty());
}

#[tokio::test]
async fn a_key_without_the_call_it_belongs_to_is_a_bad_request_and_changes_nothing() {
    let app = spawn_app().await;
    let response = app.post_signed("/twilio/whisper/key?from=%2B442079460555", &answered_leg(&[("Digits", "9")])).await;
    assert_eq!(response.status(), 400);
    assert!(app.declines().await.is_empty());
}
