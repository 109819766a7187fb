//! The policy through the webhook, as Twilio drives it: ranges, patterns, caller names, windows,
//! lapses, hours, the pause, escalation, the escape hatch and screening.

use jiff::{SignedDuration, Timestamp};
use reqwest::Method;
use saidno::config::{CallerPolicy, Step};
use saidno::domain::{Decline, PhoneNumber, RefusalMode, Target};
use saidno::store::{Change, Publish};
use serde_json::json;

use crate::helpers::*;

fn in_hours(hours: i64) -> String {
    Timestamp::now().checked_add(SignedDuration::from_hours(hours)).unwrap().to_string()
}

/// A call with extra parameters (caller name, verification), signed.
async fn call_with(app: &TestApp, call_id: &str, from: &str, extra: &[(&str, &str)]) -> Twiml {
    let mut pairs = incoming(call_id, from);
    pairs.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let response = app.post_signed("/twilio/voice", &pairs).await;
    assert_eq!(response.status(), 200);
    Twiml::from_response(response).await
}

/// A key pressed (or not) at a Gather, posted to its action as Twilio does.
async fn press(app: &TestApp, path: &str, call_id: &str, from: &str, digits: Option<&str>) -> Twiml {
    let mut pairs = incoming(call_id, from);
    if let Some(digits) = digits {
        pairs.push(("Digits", digits.to_owned()));
    }
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let response = app.post_signed(path, &pairs).await;
    assert_eq!(response.status(), 200);
    Twiml::from_response(response).await
}

#[tokio::test]
async fn a_declined_range_refuses_every_number_in_it_and_nothing_else() {
    let app = spawn_app().await;
    let saved = app.decline(json!({"number": "+44 20 7946 01*", "company": "Rotating Ltd"})).await;
    assert_eq!(saved["record"]["prefix"], "+4420794601");
    assert_eq!(app.call("CA1", "+442079460123").await.verbs(), ["Say", "Hangup"]);
    assert_eq!(app.call("CA2", "+442079460199").await.verbs(), ["Say", "Hangup"]);
    assert_eq!(app.call("CA3", "+442079460223").await.verbs(), ["Dial"]);
    let calls = app.calls().await;
    assert!(calls[2]["reason"].as_str().unwrap().contains("Rotating Ltd (+4420794601*)"), "{}", calls[2]);
}

#[tokio::test]
async fn a_whole_country_can_be_declined() {
    let app = spawn_app().await;
    app.decline(json!({"prefix": "+234", "mode": "reject"})).await;
    assert_eq!(app.call("CA1", "+2348012345678").await.verbs(), ["Reject"]);
    assert_eq!(app.call("CA2", "+442079460555").await.verbs(), ["Dial"]);
}

#[tokio::test]
async fn a_pattern_refuses_what_it_matches_in_full_and_a_bad_one_is_refused() {
    let app = spawn_app().await;
    app.decline(json!({"pattern": r"\+4420794601\d\d", "company": "Patterned Ltd"})).await;
    assert_eq!(app.call("CA1", "+442079460155").await.verbs(), ["Say", "Hangup"]);
    assert_eq!(app.call("CA2", "+442079460255").await.verbs(), ["Dial"]);

    let (status, error) = app.api(Method::POST, "/declines", Some(json!({"pattern": r"\+44(\d"}))).await;
    assert_eq!(status, 400);
    assert_eq!(error["field"], "pattern");
    assert!(error["error"].as_str().unwrap().contains("unclosed group"), "{error}");

    let (status, _) = app.api(Method::DELETE, "/declines/pattern%3A%5C%2B4420794601%5Cd%5Cd", None).await;
    assert_eq!(status, 200);
    assert_eq!(app.call("CA3", "+442079460155").await.verbs(), ["Dial"]);
}

#[tokio::test]
async fn a_caller_name_pattern_refuses_the_robocaller() {
    let app = spawn_app().await;
    app.decline(json!({"caller_name": r"V\d{15}", "company": "Robocaller", "mode": "reject"})).await;
    let robot = call_with(&app, "CA1", "+442079460555", &[("CallerName", "V123456789012345")]).await;
    assert_eq!(robot.verbs(), ["Reject"]);
    let person = call_with(&app, "CA2", "+442079460555", &[("CallerName", "JANE SMITH")]).await;
    assert_eq!(person.verbs(), ["Dial"]);
}

#[tokio::test]
async fn withheld_callers_follow_their_policy() {
    let refuse = spawn_app_with(|s| s.policy.withheld = CallerPolicy::Refuse).await;
    let twiml = refuse.call("CA1", "anonymous").await;
    assert_eq!(twiml.verbs(), ["Say", "Hangup"]);
    assert!(twiml.text_of("Say")[0].contains("withheld numbers"));

    let screen = spawn_app_with(|s| s.policy.withheld = CallerPolicy::Screen).await;
    assert_eq!(screen.call("CA2", "anonymous").await.verbs(), ["Gather", "Hangup"]);
    assert_eq!(screen.call("CA3", "+442079460555").await.verbs(), ["Dial"]);
}

#[tokio::test]
async fn callers_that_fail_verification_follow_their_policy() {
    let app = spawn_app_with(|s| s.policy.unverified = CallerPolicy::Refuse).await;
    let failed = call_with(&app, "CA1", "+442079460555", &[("StirVerstat", "TN-Validation-Failed-Diverted")]).await;
    assert_eq!(failed.verbs(), ["Say", "Hangup"]);
    let passed = call_with(&app, "CA2", "+442079460555", &[("StirVerstat", "TN-Validation-Passed-A")]).await;
    assert_eq!(passed.verbs(), ["Dial"]);
    let calls = app.calls().await;
    assert_eq!(calls[1]["verstat"], "TN-Validation-Failed-Diverted");
}

#[tokio::test]
async fn a_timed_allow_rings_through_in_its_window_only() {
    let app = spawn_app().await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;
    let window = json!({"number": PUSHY, "name": "Callback", "from": in_hours(-1), "until": in_hours(1)});
    assert_eq!(app.api(Method::POST, "/allows", Some(window)).await.0, 201);
    assert_eq!(app.call("CA1", PUSHY).await.verbs(), ["Dial"]);

    let later = json!({"number": PUSHY, "from": in_hours(2), "until": in_hours(3)});
    assert_eq!(app.api(Method::POST, "/allows", Some(later)).await.0, 200);
    assert_eq!(app.call("CA2", PUSHY).await.verbs(), ["Say", "Hangup"]);
    let calls = app.calls().await;
    assert!(
        calls[0]["reason"].as_str().unwrap().contains("the allow for +442079460123 (Callback) starts"),
        "{}",
        calls[0]
    );
    assert!(calls[1]["reason"].as_str().unwrap().contains("is allowed (Callback)"), "{}", calls[1]);
}

#[tokio::test]
async fn a_single_use_allow_lets_one_call_through() {
    let app = spawn_app().await;
    app.decline(json!({"number": PUSHY})).await;
    app.api(Method::POST, "/allows", Some(json!({"number": PUSHY, "once": true, "until": in_hours(4)}))).await;
    assert_eq!(app.call("CA1", PUSHY).await.verbs(), ["Dial"]);
    app.calls().await;
    assert_eq!(app.call("CA2", PUSHY).await.verbs(), ["Say", "Hangup"]);
    let (_, allows) = app.api(Method::GET, "/allows", None).await;
    assert!(allows[0]["used_at"].is_string(), "{allows}");
}

#[tokio::test]
async fn a_not_before_decline_has_its_own_words_and_lapses_on_its_own() {
    // A decline whose date has passed cannot be made through the API: it is on record from before.
    let store = memory_store();
    let number = Target::Number(PhoneNumber::from_e164("+442079460124").unwrap());
    let lapsed = Decline {
        company: Some("Old Ltd".into()),
        not_before: Some("2026-06-01T00:00:00Z".parse().unwrap()),
        ..Decline::new(number, "2026-01-01T00:00:00Z".parse().unwrap())
    };
    store.apply_blocking(Change::Decline(lapsed), Publish::nowhere()).unwrap();
    let app = spawn_app_on(store, |_| {}).await;
    let until = "2027-03-01T00:00:00Z";
    app.decline(json!({"number": PUSHY, "company": "Everest Windows", "not_before": until})).await;
    let twiml = app.call("CA1", PUSHY).await;
    assert!(twiml.text_of("Say")[0].contains("not to call this number before 1 March 2027"), "{}", twiml.xml);

    assert_eq!(app.call("CA2", "+442079460124").await.verbs(), ["Dial"]);
    let calls = app.calls().await;
    assert!(
        calls[0]["reason"].as_str().unwrap().contains("the decline of Old Ltd lapsed on 1 Jun 2026"),
        "{}",
        calls[0]
    );

    let (status, error) =
        app.api(Method::POST, "/declines", Some(json!({"number": PUSHY, "not_before": "2020-01-01T00:00:00Z"}))).await;
    assert_eq!((status, error["field"].as_str()), (400, Some("not_before")));
}

#[tokio::test]
async fn outside_business_hours_callers_hear_the_closed_message_and_can_leave_a_voicemail() {
    let app = spawn_app_with(|s| {
        s.hours.enabled = true;
        for day in [&mut s.hours.monday, &mut s.hours.tuesday, &mut s.hours.wednesday, &mut s.hours.thursday] {
            *day = Default::default();
        }
        for day in [&mut s.hours.friday, &mut s.hours.saturday, &mut s.hours.sunday] {
            *day = Default::default();
        }
    })
    .await;
    let twiml = app.call("CA1", "+442079460555").await;
    assert_eq!(twiml.verbs(), ["Say", "Record", "Hangup"]);
    assert!(twiml.text_of("Say")[0].contains("We are closed"));
    assert_eq!(app.calls().await[0]["decision"], "closed");
}

#[tokio::test]
async fn the_pause_switch_lets_everything_through_until_resumed() {
    let app = spawn_app().await;
    app.decline(json!({"number": PUSHY})).await;
    let (status, state) = app.api(Method::POST, "/pause", Some(json!({"paused": true}))).await;
    assert_eq!((status, state["paused"].as_bool()), (200, Some(true)));
    assert_eq!(app.call("CA1", PUSHY).await.verbs(), ["Dial"]);
    app.api(Method::POST, "/pause", Some(json!({"paused": false}))).await;
    assert_eq!(app.call("CA2", PUSHY).await.verbs(), ["Say", "Hangup"]);
    let (_, state) = app.api(Method::GET, "/pause", None).await;
    assert_eq!(state["paused"], false);
}

#[tokio::test]
async fn the_ladder_turns_repeat_calls_into_silent_rejects_and_flags_the_company() {
    let app = spawn_app_with(|s| {
        s.policy.escalation.steps = vec![
            Step { from_call: 3, mode: Some(RefusalMode::Reject), flag: false },
            Step { from_call: 5, mode: None, flag: true },
        ]
    })
    .await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;
    let mut heard = Vec::new();
    for n in 1..=5 {
        heard.push(app.call(&format!("CA{n}"), PUSHY).await.verbs()[0].clone());
        app.calls().await;
    }
    assert_eq!(heard, ["Say", "Say", "Reject", "Reject", "Reject"]);
    let calls = app.calls().await;
    assert_eq!(calls[0]["flagged"], true);
    assert_eq!(calls[1]["flagged"], false);
    let reason = calls[0]["reason"].as_str().unwrap();
    assert!(reason.contains("5th call since; escalated to silent reject; flagged for a complaint"), "{reason}");

    let (_, companies) = app.api(Method::GET, "/companies", None).await;
    assert_eq!(companies[0]["flagged_for_complaint"], true, "{companies}");
    let browser = app.signed_in().await;
    let page = browser.get("/companies/company%3Aeverest%20windows").await;
    assert!(page.text_of("#flagged").contains("Flagged for a complaint"), "{}", page.text);
    assert!(browser.get("/companies").await.text_of("#companies").contains("flagged"));
}

#[tokio::test]
async fn a_company_below_the_flagging_step_is_not_flagged() {
    let app = spawn_app_with(|s| s.policy.escalation.steps = vec![Step { from_call: 3, mode: None, flag: true }]).await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;
    for n in 1..=2 {
        app.call(&format!("CA{n}"), PUSHY).await;
        app.calls().await;
    }
    let (_, companies) = app.api(Method::GET, "/companies", None).await;
    assert_eq!(companies[0]["flagged_for_complaint"], false, "{companies}");
    let page = app.signed_in().await.get("/companies/company%3Aeverest%20windows").await;
    assert!(page.texts("#flagged").is_empty());
}

#[tokio::test]
async fn the_escape_hatch_puts_a_customer_through_and_lets_a_seller_go() {
    let app = spawn_app_with(|s| s.policy.escape_hatch_companies = vec!["Everest Windows".into()]).await;
    app.decline(json!({"number": PUSHY, "company": "everest windows"})).await;

    let refusal = app.call("CA1", PUSHY).await;
    assert_eq!(refusal.verbs(), ["Say", "Gather", "Hangup"]);
    assert_eq!(refusal.attribute("Gather", "action").as_deref(), Some("/twilio/escape"));
    assert!(refusal.text_of("Say")[1].contains("existing order or appointment"));

    let through = press(&app, "/twilio/escape", "CA1", PUSHY, Some("1")).await;
    assert_eq!(through.verbs(), ["Dial"]);
    assert_eq!(through.text_of("Number"), [OWNER_PHONE]);

    app.call("CA2", PUSHY).await;
    let other_key = press(&app, "/twilio/escape", "CA2", PUSHY, Some("5")).await;
    assert_eq!(other_key.verbs(), ["Say", "Hangup"]);

    let calls = app.calls().await;
    assert_eq!(calls[1]["outcome"]["via_escape_hatch"], true);
    assert!(calls[0]["outcome"].is_null(), "{}", calls[0]);
}

#[tokio::test]
async fn screening_puts_through_callers_who_press_1_and_logs_those_who_do_not() {
    let app = spawn_app_with(|s| s.policy.screen_unknown = true).await;
    let screen = app.call("CA1", "+442079460555").await;
    assert_eq!(screen.verbs(), ["Gather", "Hangup"]);
    assert_eq!(screen.attribute("Gather", "actionOnEmptyResult").as_deref(), Some("true"));

    assert_eq!(press(&app, "/twilio/screen", "CA1", "+442079460555", Some("1")).await.verbs(), ["Dial"]);
    app.call("CA2", "+442079460556").await;
    assert_eq!(press(&app, "/twilio/screen", "CA2", "+442079460556", None).await.verbs(), ["Hangup"]);

    let calls = app.calls().await;
    assert_eq!(calls[0]["decision"], "screen");
    assert_eq!(calls[0]["outcome"]["screening"], "screened out");
    assert_eq!(calls[1]["outcome"]["screening"], "passed");
}

#[tokio::test]
async fn check_previews_any_case() {
    let app = spawn_app_with(|s| s.policy.withheld = CallerPolicy::Refuse).await;
    app.decline(json!({"caller_name": "SPAM.*"})).await;
    let (status, preview) = app.api(Method::GET, "/check?withheld=true", None).await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(preview["decision"], "decline");
    let body = json!({"number": "020 7946 0555", "caller_name": "SPAM LIKELY"});
    let (_, preview) = app.api(Method::POST, "/check", Some(body)).await;
    assert_eq!(preview["decision"], "decline");
    assert!(preview["reason"].as_str().unwrap().contains("caller name /SPAM.*/"));
}
