//! `saidno connect`: a number's webhooks pointed at saidno through the provider's REST API, on
//! a local stand-in for it; every request is checked against the provider's description.

use std::process::Output;

use crate::fake_twilio::{Answer, FakeTwilio};
use crate::helpers::*;
use crate::openapi::{Description, assert_twilio_accepts, plivo_accepts};

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const NUMBER_SID: &str = "PN0123456789abcdef0123456789abcdef";
const PROJECT: &str = "b7e3c6a2-5d1f-4c8e-9a0b-1f2e3d4c5b6a";
const SIGNALWIRE_NUMBER: &str = "5d1f4c8e-0000-4000-8000-9a0b1f2e3d4c";
const BIN: &str = "https://handler.twilio.com/twiml/EH0123";

fn numbers(sid: &str, voice_url: &str) -> Answer {
    let body = format!(
        r#"{{"incoming_phone_numbers": [{{"sid": "{sid}", "phone_number": "{BUSINESS_NUMBER}",
            "voice_url": "{voice_url}", "voice_method": "GET", "voice_fallback_url": "", "voice_fallback_method": "POST",
            "sms_url": "", "sms_method": "POST", "voice_application_sid": ""}}], "next_page_uri": null}}"#
    );
    (200, vec![], Box::leak(body.into_boxed_str()))
}

async fn connect(saidno: &Binary, api: &FakeTwilio, args: &[&str]) -> Output {
    let mut command = tokio::process::Command::from(saidno.command());
    command
        .arg("connect")
        .args(args)
        .env("SAIDNO_TWILIO__ACCOUNT_SID", ACCOUNT)
        .env("SAIDNO_TWILIO__API_BASE_URL", &api.url)
        .env("SAIDNO_SIGNALWIRE__SPACE_URL", &api.url)
        .env("SAIDNO_SIGNALWIRE__PROJECT", PROJECT)
        .env("SAIDNO_SIGNALWIRE__API_TOKEN", "PT-token");
    command.output().await.unwrap()
}

#[tokio::test]
async fn a_twilio_number_is_pointed_at_saidno_with_its_fallback_and_the_changes_are_printed() {
    let updated: Answer = (200, vec![], r#"{"sid": "PN0123456789abcdef0123456789abcdef"}"#);
    let mut api = FakeTwilio::start(vec![numbers(NUMBER_SID, "https://demo.twilio.com/welcome/voice/"), updated]).await;
    let saidno = Binary::new("");
    let output = connect(&saidno, &api, &["twilio", "020 7946 0000", "--fallback", BIN]).await;
    let printed = stdout(&output);
    assert!(output.status.success(), "{printed}{}", stderr(&output));
    let voice = format!("{PUBLIC_URL}/twilio/voice");
    for change in [
        ["VoiceUrl", "https://demo.twilio.com/welcome/voice/", "->", voice.as_str()],
        ["VoiceMethod", "GET", "->", "POST"],
        ["VoiceFallbackUrl", "(none)", "->", BIN],
    ] {
        assert!(printed.lines().any(|line| line.split_whitespace().eq(change)), "{change:?} in {printed}");
    }

    let requests = api.received();
    assert_eq!(requests.len(), 2);
    requests.iter().for_each(assert_twilio_accepts);
    assert_eq!(requests[0].query, "PhoneNumber=%2B442079460000");
    assert_eq!(requests[1].path, format!("/2010-04-01/Accounts/{ACCOUNT}/IncomingPhoneNumbers/{NUMBER_SID}.json"));
    let form = requests[1].form();
    let field = |name: &str| form.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str());
    assert_eq!(field("VoiceUrl"), Some(format!("{PUBLIC_URL}/twilio/voice").as_str()));
    assert_eq!(field("SmsUrl"), Some(format!("{PUBLIC_URL}/twilio/sms").as_str()));
    assert_eq!(field("VoiceFallbackUrl"), Some(BIN));
    assert_eq!(field("SmsMethod"), None, "a setting already right is not sent");
}

#[tokio::test]
async fn a_dry_run_reads_the_number_and_changes_nothing() {
    let mut api = FakeTwilio::start(vec![numbers(NUMBER_SID, "")]).await;
    let output = connect(&Binary::new(""), &api, &["twilio", "+442079460000", "--dry-run"]).await;
    let printed = stdout(&output);
    assert!(output.status.success(), "{printed}");
    assert!(printed.contains("would change"), "{printed}");
    assert!(printed.contains("Nothing was changed (--dry-run)."), "{printed}");
    assert!(printed.contains("The fallback was left as it was"), "{printed}");
    let requests = api.received();
    assert_eq!(requests.len(), 1, "only the number was read");
    assert_eq!(requests[0].method, "GET");
}

#[tokio::test]
async fn a_signalwire_number_is_changed_through_the_compatibility_api() {
    let updated: Answer = (200, vec![], r#"{"sid": "5d1f4c8e-0000-4000-8000-9a0b1f2e3d4c"}"#);
    let mut api = FakeTwilio::start(vec![numbers(SIGNALWIRE_NUMBER, ""), updated]).await;
    let output = connect(&Binary::new(""), &api, &["signalwire", "+442079460000"]).await;
    assert!(output.status.success(), "{}{}", stdout(&output), stderr(&output));
    let requests = api.received();
    let description = Description::load("SignalWire", "signalwire-openapi.json");
    requests.iter().for_each(|request| description.assert_accepts(request));
    assert_eq!(
        requests[1].path,
        format!("/api/laml/2010-04-01/Accounts/{PROJECT}/IncomingPhoneNumbers/{SIGNALWIRE_NUMBER}")
    );
    assert_eq!(requests[1].field("VoiceUrl"), Some(format!("{PUBLIC_URL}/signalwire/voice")));
}

#[tokio::test]
async fn a_number_not_on_the_account_or_an_unknown_provider_is_refused_and_nothing_changes() {
    let empty: Answer = (200, vec![], r#"{"incoming_phone_numbers": [], "next_page_uri": null}"#);
    let mut api = FakeTwilio::start(vec![empty]).await;
    let output = connect(&Binary::new(""), &api, &["twilio", "+442079460001"]).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("+442079460001 is not a number of this Twilio account"), "{}", stderr(&output));
    assert_eq!(api.received().len(), 1, "nothing was changed");

    let output = connect(&Binary::new(""), &api, &["twillio", "+442079460001"]).await;
    assert_eq!(output.status.code(), Some(2));
    let output = connect(&Binary::new(""), &api, &["twilio", "not a number"]).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(api.received().is_empty(), "no request for input saidno will not take");
}

#[tokio::test]
async fn a_telnyx_numbers_texml_application_is_pointed_at_saidno() {
    let telnyx = Description::load("Telnyx", "telnyx-openapi.json");
    let number: Answer = (
        200,
        vec![],
        r#"{"data": [{"id": "1293384261075731499", "phone_number": "+442079460000",
        "connection_id": "1494404757140276705"}], "meta": {"page_number": 1, "page_size": 20, "total_pages": 1, "total_results": 1}}"#,
    );
    let application: Answer = (
        200,
        vec![],
        r#"{"data": {"id": "1494404757140276705", "friendly_name": "front desk",
        "voice_url": "https://example.com/texml", "voice_method": "get", "voice_fallback_url": ""}}"#,
    );
    let updated: Answer = (200, vec![], r#"{"data": {"id": "1494404757140276705"}}"#);
    let mut api = FakeTwilio::start(vec![number, application, updated]).await;
    let saidno = Binary::new("");
    let mut command = tokio::process::Command::from(saidno.command());
    command
        .args(["connect", "telnyx", "+442079460000", "--fallback", "https://example.com/texml-bin"])
        .env("SAIDNO_TELNYX__API_KEY", "KEY0123456789")
        .env("SAIDNO_TELNYX__API_BASE_URL", &api.url);
    let output = command.output().await.unwrap();
    assert!(output.status.success(), "{}{}", stdout(&output), stderr(&output));
    let requests = api.received();
    assert_eq!(requests.len(), 3);
    requests.iter().for_each(|request| telnyx.assert_accepts(request));
    assert_eq!(requests[0].query, "filter[phone_number]=%2B442079460000");
    assert_eq!(requests[2].method, "PATCH");
    assert_eq!(requests[2].path, "/v2/texml_applications/1494404757140276705");
    let update: serde_json::Value = serde_json::from_slice(&requests[2].body).unwrap();
    assert_eq!(update["friendly_name"], "front desk", "the name is kept");
    assert_eq!(update["voice_url"], format!("{PUBLIC_URL}/telnyx/voice"));
    assert_eq!(update["voice_method"], "post");
    assert_eq!(update["voice_fallback_url"], "https://example.com/texml-bin");
}

#[tokio::test]
async fn a_plivo_numbers_application_is_pointed_at_saidno_sending_only_what_changes() {
    let number: Answer = (
        200,
        vec![],
        r#"{"api_id": "a1", "number": "442079460000", "voice_enabled": true,
        "application": "/v1/Account/MAXXXXXXXXXXXXXXXXXX/Application/29986316244302815/"}"#,
    );
    let application: Answer = (
        200,
        vec![],
        r#"{"api_id": "a2", "app_id": "29986316244302815", "app_name": "front desk",
        "answer_url": "https://example.com/answer", "answer_method": "POST", "fallback_answer_url": "",
        "fallback_method": "POST", "message_url": "", "message_method": "POST"}"#,
    );
    let changed: Answer = (202, vec![], r#"{"api_id": "a3", "message": "changed"}"#);
    let mut api = FakeTwilio::start(vec![number, application, changed]).await;
    let saidno = Binary::new("");
    let mut command = tokio::process::Command::from(saidno.command());
    command
        .args(["connect", "plivo", "+442079460000"])
        .env("SAIDNO_PLIVO__AUTH_ID", "MAXXXXXXXXXXXXXXXXXX")
        .env("SAIDNO_PLIVO__AUTH_TOKEN", "plivo-token")
        .env("SAIDNO_PLIVO__API_BASE_URL", &api.url);
    let output = command.output().await.unwrap();
    assert!(output.status.success(), "{}{}", stdout(&output), stderr(&output));
    let requests = api.received();
    assert_eq!(requests.len(), 3);
    plivo_accepts(&requests[0], "update_number");
    plivo_accepts(&requests[1], "update_application");
    plivo_accepts(&requests[2], "update_application");
    assert_eq!(requests[0].path, "/v1/Account/MAXXXXXXXXXXXXXXXXXX/Number/442079460000/");
    assert_eq!(requests[2].path, "/v1/Account/MAXXXXXXXXXXXXXXXXXX/Application/29986316244302815/");
    let update: serde_json::Value = serde_json::from_slice(&requests[2].body).unwrap();
    assert_eq!(
        update,
        serde_json::json!({"answer_url": format!("{PUBLIC_URL}/plivo/voice"), "message_url": format!("{PUBLIC_URL}/plivo/sms")}),
        "only the settings that change"
    );
}

#[tokio::test]
async fn a_vonage_numbers_application_gets_saidnos_webhooks_signed_and_keeps_the_rest() {
    let numbers = Description::load("Vonage", "vonage-numbers-openapi.json");
    let applications = Description::load("Vonage", "vonage-application-openapi.json");
    let owned: Answer = (
        200,
        vec![],
        r#"{"count": 1, "numbers": [{"country": "GB", "msisdn": "442079460000",
        "type": "landline", "app_id": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab", "features": ["VOICE", "SMS"]}]}"#,
    );
    let application: Answer = (
        200,
        vec![],
        r#"{"id": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab", "name": "front desk",
        "capabilities": {"voice": {"webhooks": {"answer_url": {"address": "https://example.com/answer", "http_method": "GET"},
        "event_url": {"address": "https://example.com/event", "http_method": "POST"}}}, "rtc": {"webhooks": {}}}}"#,
    );
    let updated: Answer = (200, vec![], r#"{"id": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab", "name": "front desk"}"#);
    let mut api = FakeTwilio::start(vec![owned, application, updated]).await;
    let saidno = Binary::new("");
    let mut command = tokio::process::Command::from(saidno.command());
    command
        .args(["connect", "vonage", "+442079460000", "--fallback", "https://example.com/ncco-forward.json"])
        .env("SAIDNO_VONAGE__API_KEY", "abcd1234")
        .env("SAIDNO_VONAGE__API_SECRET", "vonage-secret-3")
        .env("SAIDNO_VONAGE__API_BASE_URL", &api.url)
        .env("SAIDNO_VONAGE__APPLICATIONS_BASE_URL", &api.url);
    let output = command.output().await.unwrap();
    assert!(output.status.success(), "{}{}", stdout(&output), stderr(&output));
    let requests = api.received();
    assert_eq!(requests.len(), 3);
    numbers.assert_accepts(&requests[0]);
    applications.assert_accepts(&requests[1]);
    applications.assert_accepts(&requests[2]);
    assert_eq!(requests[2].method, "PUT");
    assert_eq!(requests[2].path, "/v2/applications/aaaaaaaa-bbbb-cccc-dddd-0123456789ab");
    let sent: serde_json::Value = serde_json::from_slice(&requests[2].body).unwrap();
    let voice = &sent["capabilities"]["voice"];
    assert_eq!(voice["webhooks"]["answer_url"]["address"], format!("{PUBLIC_URL}/vonage/answer"));
    assert_eq!(voice["webhooks"]["answer_url"]["http_method"], "POST");
    assert_eq!(voice["webhooks"]["event_url"]["address"], format!("{PUBLIC_URL}/vonage/event"));
    assert_eq!(voice["webhooks"]["fallback_answer_url"]["address"], "https://example.com/ncco-forward.json");
    assert_eq!(voice["signed_callbacks"], true);
    assert_eq!(sent["name"], "front desk");
    assert_eq!(sent["capabilities"]["rtc"], serde_json::json!({"webhooks": {}}), "other capabilities are kept");
}
