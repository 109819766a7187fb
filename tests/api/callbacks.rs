//! The callbacks after a forward: how the dial ended, and the voicemail left.

use crate::helpers::*;

#[tokio::test]
async fn when_nobody_answers_the_caller_can_leave_a_voicemail_and_both_land_in_the_log() {
    let app = spawn_app().await;
    app.call("CA700", "+442079460555").await;

    let response = app
        .post_signed(
            "/twilio/dial-status",
            &[("CallSid", "CA700"), ("DialCallStatus", "no-answer"), ("DialCallDuration", "0")],
        )
        .await;
    assert_eq!(response.status(), 200);
    let twiml = Twiml::from_response(response).await;
    assert_eq!(twiml.verbs(), ["Say", "Record", "Hangup"]);
    assert_eq!(twiml.attribute("Record", "action").as_deref(), Some("/twilio/voicemail"));
    assert_eq!(twiml.attribute("Record", "maxLength").as_deref(), Some("120"));

    let recording = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE123";
    let response = app
        .post_signed(
            "/twilio/voicemail",
            &[("CallSid", "CA700"), ("RecordingUrl", recording), ("RecordingDuration", "14")],
        )
        .await;
    assert_eq!(Twiml::from_response(response).await.verbs(), ["Hangup"]);

    let calls = app.calls().await;
    let outcome = &calls[0]["outcome"];
    assert_eq!(outcome["status"], "no-answer");
    assert_eq!(outcome["recording_url"], recording);
    assert_eq!(outcome["recording_secs"], 14);
}

#[tokio::test]
async fn a_busy_line_also_offers_voicemail() {
    let app = spawn_app().await;
    app.call("CA701", "+442079460555").await;
    let response = app.post_signed("/twilio/dial-status", &[("CallSid", "CA701"), ("DialCallStatus", "busy")]).await;
    assert_eq!(Twiml::from_response(response).await.verbs(), ["Say", "Record", "Hangup"]);
}

#[tokio::test]
async fn an_answered_call_hangs_up_and_its_duration_is_logged() {
    let app = spawn_app().await;
    app.call("CA702", "+442079460555").await;
    let response = app
        .post_signed(
            "/twilio/dial-status",
            &[("CallSid", "CA702"), ("DialCallStatus", "completed"), ("DialCallDuration", "95")],
        )
        .await;
    assert_eq!(Twiml::from_response(response).await.verbs(), ["Hangup"]);
    let calls = app.calls().await;
    assert_eq!(calls[0]["outcome"]["status"], "answered");
    assert_eq!(calls[0]["outcome"]["duration_secs"], 95);
}

#[tokio::test]
async fn with_voicemail_off_an_unanswered_call_hangs_up() {
    let app = spawn_app_with(|s| s.forward.voicemail = false).await;
    let response =
        app.post_signed("/twilio/dial-status", &[("CallSid", "CA703"), ("DialCallStatus", "no-answer")]).await;
    assert_eq!(Twiml::from_response(response).await.verbs(), ["Hangup"]);
}

#[tokio::test]
async fn callbacks_need_a_signature_too() {
    let app = spawn_app().await;
    for path in ["/twilio/dial-status", "/twilio/voicemail"] {
        let body = form_body(&[("CallSid", "CA704"), ("DialCallStatus", "busy")]);
        assert_eq!(app.post_form(path, body, None).await.status(), 403, "{path}");
    }
}

#[tokio::test]
async fn a_dial_status_twilio_never_sends_is_a_bad_request() {
    let app = spawn_app().await;
    let response = app.post_signed("/twilio/dial-status", &[("CallSid", "CA705"), ("DialCallStatus", "<b>")]).await;
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn a_recording_url_that_is_not_a_web_address_is_refused() {
    let app = spawn_app().await;
    app.call("CA706", "+442079460555").await;
    let response =
        app.post_signed("/twilio/voicemail", &[("CallSid", "CA706"), ("RecordingUrl", "javascript:alert(1)")]).await;
    assert_eq!(response.status(), 400);
    assert!(app.calls().await[0]["outcome"].is_null());
}
