//! Texts to the owner through Twilio's REST API, sent to a local stand-in for the API; every
//! request is checked against Twilio's published description of it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use saidno::config::{NotifyWhen, Settings};
use saidno::domain::{CallRecord, DecisionKind};
use saidno::notify::Notifier;
use saidno::store::{CallHistory, CallSink, SledStore};
use serde_json::json;

use crate::fake_twilio::{Answer, FakeTwilio};
use crate::helpers::*;
use crate::openapi::assert_twilio_accepts;

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const API_KEY: &str = "SKfedcba9876543210fedcba9876543210";

async fn app_texting(script: Vec<Answer>, configure: impl FnOnce(&mut Settings)) -> (TestApp, FakeTwilio) {
    let api = FakeTwilio::start(script).await;
    let base = api.url.clone();
    let app = spawn_app_with(move |s| {
        s.twilio.account_sid = ACCOUNT.into();
        s.twilio.api_base_url = base;
        s.notify.retry_base_ms = 1;
        s.notify.max_attempts = 3;
        configure(s);
    })
    .await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;
    (app, api)
}

impl TestApp {
    /// A call from the declined company, logged before the next one comes, as real calls are
    /// seconds apart: the follow-up count of the next call includes this one.
    async fn called(&self, call_id: &str) {
        assert_eq!(self.call(call_id, PUSHY).await.verbs(), ["Say", "Hangup"]);
        self.calls().await;
    }
}

fn basic(user: &str, secret: &str) -> String {
    format!("Basic {}", BASE64.encode(format!("{user}:{secret}")))
}

#[tokio::test]
async fn a_declined_company_calling_again_texts_the_owner_through_the_messages_api() {
    let (app, mut api) = app_texting(vec![], |_| {}).await;
    assert_eq!(app.call("CA500", PUSHY).await.verbs(), ["Say", "Hangup"]);

    let sent = api.next_request().await;
    assert_twilio_accepts(&sent);
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.path, format!("/2010-04-01/Accounts/{ACCOUNT}/Messages.json"));
    assert_eq!(sent.headers["authorization"], basic(ACCOUNT, AUTH_TOKEN).as_str());
    assert_eq!(sent.field("To").as_deref(), Some(OWNER_MOBILE));
    assert_eq!(sent.field("From").as_deref(), Some(BUSINESS_NUMBER), "from the number that was called");
    let body = sent.field("Body").unwrap();
    assert!(body.starts_with("Everest Windows called again: 1st time since you said no on "), "{body}");
    assert!(body.ends_with("Reply LAST for details."), "{body}");
}

#[tokio::test]
async fn an_api_key_signs_in_instead_of_the_auth_token() {
    let (app, mut api) = app_texting(vec![], |s| {
        s.twilio.api_key_sid = API_KEY.into();
        s.twilio.api_key_secret = "key-secret".into();
        s.notify.from = "+442079460001".into();
    })
    .await;
    app.call("CA510", PUSHY).await;
    let sent = api.next_request().await;
    assert_twilio_accepts(&sent);
    assert_eq!(sent.path, format!("/2010-04-01/Accounts/{ACCOUNT}/Messages.json"));
    assert_eq!(sent.headers["authorization"], basic(API_KEY, "key-secret").as_str());
    assert_eq!(sent.field("From").as_deref(), Some("+442079460001"));
}

#[tokio::test]
async fn a_busy_api_is_tried_again_and_a_429_waits_as_asked() {
    let script = vec![
        (503, vec![], r#"{"code": 20503, "message": "Service unavailable"}"#),
        (429, vec![("retry-after", "0")], "{}"),
    ];
    let (app, mut api) = app_texting(script, |_| {}).await;
    app.call("CA520", PUSHY).await;
    let tries = [api.next_request().await, api.next_request().await, api.next_request().await];
    for sent in &tries {
        assert_twilio_accepts(sent);
        assert_eq!(sent.body, tries[0].body, "the same text each time");
    }
}

#[tokio::test]
async fn a_text_twilio_refuses_is_not_tried_again() {
    let script = vec![(400, vec![], r#"{"code": 21211, "message": "Invalid 'To' Phone Number"}"#)];
    let (app, mut api) = app_texting(script, |_| {}).await;
    app.called("CA530").await;
    let refused = api.next_request().await;
    app.call("CA531", PUSHY).await;
    let next = api.next_request().await;
    assert!(refused.field("Body").unwrap().contains("1st time"));
    assert!(next.field("Body").unwrap().contains("2nd time"), "the refused text was not sent again");
}

#[tokio::test]
async fn sending_gives_up_after_the_configured_tries() {
    let script = vec![(500, vec![], "{}"), (500, vec![], "{}"), (500, vec![], "{}")];
    let (app, mut api) = app_texting(script, |_| {}).await;
    app.called("CA540").await;
    for _ in 0..3 {
        assert!(api.next_request().await.field("Body").unwrap().contains("1st time"));
    }
    app.call("CA541", PUSHY).await;
    assert!(api.next_request().await.field("Body").unwrap().contains("2nd time"), "no fourth try of the first text");
}

#[tokio::test]
async fn from_the_nth_follow_up_only_later_calls_are_reported() {
    let (app, mut api) = app_texting(vec![], |s| {
        s.notify.when = NotifyWhen::From;
        s.notify.from_follow_up = 2;
    })
    .await;
    app.called("CA550").await;
    app.call("CA551", PUSHY).await;
    let first = api.next_request().await;
    assert_twilio_accepts(&first);
    assert!(first.field("Body").unwrap().contains("2nd time"), "the 1st call since the no is not reported");
}

#[tokio::test]
async fn calls_are_answered_while_the_api_is_down() {
    // Nothing listens at this address; the caller must not notice.
    let app = spawn_app_with(|s| {
        s.twilio.account_sid = ACCOUNT.into();
        s.twilio.api_base_url = "http://127.0.0.1:9".into();
        s.notify.retry_base_ms = 1;
    })
    .await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;
    for sid in ["CA560", "CA561", "CA562"] {
        assert_eq!(app.call(sid, PUSHY).await.verbs(), ["Say", "Hangup"]);
    }
    assert_eq!(app.call("CA563", "+442079460555").await.verbs(), ["Dial"]);
}

#[tokio::test]
async fn the_daily_digest_sums_up_the_days_refusals_in_one_text() {
    let mut api = FakeTwilio::start(vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(dir.path());
    settings.twilio.account_sid = ACCOUNT.into();
    settings.twilio.api_base_url = api.url.clone();
    settings.notify.when = NotifyWhen::Digest;
    let store = Arc::new(SledStore::open(&settings.database_path(), 8).unwrap());
    let now = Timestamp::now();
    let refused = |sid: &str, from: &str, company: Option<&str>, hours_ago: i64| CallRecord {
        call_id: sid.into(),
        from: from.into(),
        to: BUSINESS_NUMBER.into(),
        at: now.checked_sub(SignedDuration::from_hours(hours_ago)).unwrap(),
        decision: DecisionKind::Decline,
        reason: "refused".into(),
        company: company.map(str::to_owned),
        ..Default::default()
    };
    store
        .append_calls(&[
            refused("CA570", PUSHY, Some("Everest Windows"), 30),
            refused("CA571", PUSHY, Some("Everest Windows"), 5),
            refused("CA572", "+442079460124", None, 4),
            refused("CA573", PUSHY, Some("Everest Windows"), 1),
        ])
        .unwrap();

    let history: Arc<dyn CallHistory> = store;
    let settings = Arc::new(settings);
    let current = settings.clone();
    let notifier = Notifier::sender(settings, Arc::new(move || current.clone()), Default::default());
    notifier.digest(&history, now).await;
    let sent = api.next_request().await;
    assert_twilio_accepts(&sent);
    assert_eq!(sent.field("To").as_deref(), Some(OWNER_MOBILE));
    assert_eq!(sent.field("From").as_deref(), Some(BUSINESS_NUMBER));
    assert_eq!(
        sent.field("Body").as_deref(),
        Some("Refused today: Everest Windows 2, +442079460124 1. Reply LAST for details."),
        "the call 30 hours ago belongs to yesterday's digest"
    );
}
