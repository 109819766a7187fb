//! On any internal failure the call is forwarded, never dropped.

use std::sync::Arc;

use jiff::Timestamp;
use saidno::domain::{
    Allow, BusinessId, CallRecord, Decline, FollowUps, ForwardOutcome, LegalHold, PhoneNumber, SignedIn, Target,
    TextSession, WebChange,
};
use saidno::store::{
    Answer, Archive, CallHistory, CallPage, CallQuery, CallSink, Change, Cursor, HourTally, Keep, MemoryStore,
    OwnerRecord, Pruned, Publish, Removed, RepeatCaller, StoreError,
};
use serde_json::json;

use crate::helpers::*;

/// A store whose look-ups and changes fail (or panic) while the call log still works, so the
/// test can see what was recorded.
pub struct BrokenLookups {
    pub log: MemoryStore,
    pub panic: bool,
}

fn fire() -> StoreError {
    StoreError::Backend("disk on fire".into())
}

fn on_fire<'a, T: Send + 'a>() -> Answer<'a, T> {
    Box::pin(std::future::ready(Err(fire())))
}

impl OwnerRecord for BrokenLookups {
    fn decline(&self, _: &Target) -> Answer<'_, Option<Decline>> {
        on_fire()
    }
    fn allow_of(&self, _: &PhoneNumber) -> Answer<'_, Option<Allow>> {
        on_fire()
    }
    fn declines(&self) -> Answer<'_, Vec<Decline>> {
        // What a call is decided from is read from here, at start.
        if self.panic {
            panic!("look-up exploded");
        }
        on_fire()
    }
    fn rules(&self) -> Answer<'_, Vec<Decline>> {
        self.log.rules()
    }
    fn company_name(&self, _: &str) -> Answer<'_, Option<String>> {
        on_fire()
    }
    fn allows(&self) -> Answer<'_, Vec<Allow>> {
        on_fire()
    }
    fn paused(&self) -> Answer<'_, bool> {
        on_fire()
    }
    fn pause_changed(&self) -> Answer<'_, Option<saidno::domain::SettingChange>> {
        on_fire()
    }
    fn owner_choices(&self) -> Answer<'_, saidno::config::OwnerChoices> {
        on_fire()
    }
    fn legal_holds(&self) -> Answer<'_, Vec<LegalHold>> {
        on_fire()
    }
    fn password_hash(&self) -> Answer<'_, Option<String>> {
        on_fire()
    }
    fn text_session(&self, _: &PhoneNumber) -> Answer<'_, TextSession> {
        on_fire()
    }
    fn web_changes(&self) -> Answer<'_, Vec<WebChange>> {
        on_fire()
    }
    fn signed_in(&self) -> Answer<'_, Vec<SignedIn>> {
        on_fire()
    }
    fn apply(&self, _: Change, _: Publish) -> Answer<'_, Removed> {
        on_fire()
    }
    fn apply_blocking(&self, _: Change, _: Publish) -> Result<Removed, StoreError> {
        Err(fire())
    }
    fn probe(&self) -> Answer<'_, ()> {
        on_fire()
    }
}

impl CallSink for BrokenLookups {
    fn append_calls(&self, calls: &[CallRecord]) -> Result<(), StoreError> {
        self.log.append_calls(calls)
    }
    fn attach_outcomes(&self, outcomes: &[(BusinessId, String, ForwardOutcome)]) -> Result<Vec<bool>, StoreError> {
        self.log.attach_outcomes(outcomes)
    }
    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// The log reads back, but the follow-up counts the snapshot starts from do not.
impl CallHistory for BrokenLookups {
    fn call_page(&self, query: &CallQuery) -> Answer<'_, CallPage> {
        self.log.call_page(query)
    }
    fn call_tallies(&self, since: Timestamp, until: Timestamp) -> Answer<'_, Vec<HourTally>> {
        self.log.call_tallies(since, until)
    }
    fn follow_ups(&self, _: &str) -> Answer<'_, FollowUps> {
        on_fire()
    }
    fn follow_up_counts(&self) -> Answer<'_, Vec<(String, FollowUps)>> {
        on_fire()
    }
    fn calls_after_no(&self, since: Timestamp, until: Timestamp) -> Answer<'_, u64> {
        self.log.calls_after_no(since, until)
    }
    fn repeat_callers(&self, since: Timestamp, min_calls: u32, limit: usize) -> Answer<'_, Vec<RepeatCaller>> {
        self.log.repeat_callers(since, min_calls, limit)
    }
    fn prune_calls(&self, before: Timestamp, keep: Keep, after: Option<Cursor>, budget: usize) -> Answer<'_, Pruned> {
        self.log.prune_calls(before, keep, after, budget)
    }
}

impl Archive for BrokenLookups {}
impl saidno::store::CallFacts for BrokenLookups {}

fn assert_forwarded(twiml: &Twiml) {
    assert_eq!(twiml.verbs(), ["Dial"], "{}", twiml.xml);
    assert_eq!(twiml.text_of("Number"), [OWNER_PHONE]);
}

#[tokio::test]
async fn a_store_error_forwards_the_call_and_logs_why() {
    let app = spawn_app_on(Arc::new(BrokenLookups { log: MemoryStore::default(), panic: false }), |_| {}).await;
    assert_forwarded(&app.call("CA800", PUSHY).await);
    let calls = app.calls().await;
    assert_eq!(calls[0]["decision"], "forward");
    let reason = calls[0]["reason"].as_str().unwrap();
    assert!(reason.contains("could not decide") && reason.contains("disk on fire"), "{reason}");
}

#[tokio::test]
async fn a_panic_while_deciding_forwards_the_call_and_the_server_goes_on() {
    let app = spawn_app_on(Arc::new(BrokenLookups { log: MemoryStore::default(), panic: true }), |_| {}).await;
    assert_forwarded(&app.call("CA801", PUSHY).await);
    assert_forwarded(&app.call("CA802", PUSHY).await);
    let calls = app.calls().await;
    assert!(calls[0]["reason"].as_str().unwrap().contains("look-up exploded"));
}

#[tokio::test]
async fn an_answer_that_cannot_be_rendered_forwards_the_call() {
    // A business name so long that the refusal message would break Twilio's size limit.
    let app = spawn_app_on(memory_store(), |s| s.business_name = "Acme ".repeat(14_000)).await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;
    assert_forwarded(&app.call("CA803", PUSHY).await);
    let calls = app.calls().await;
    assert!(calls[0]["reason"].as_str().unwrap().contains("over Twilio's limit"), "{}", calls[0]);
}

#[tokio::test]
async fn a_failing_store_is_reported_to_the_admin_as_unavailable_not_as_success() {
    let app = spawn_app_on(Arc::new(BrokenLookups { log: MemoryStore::default(), panic: false }), |_| {}).await;
    let (status, body) = app.api(reqwest::Method::POST, "/declines", Some(json!({"number": PUSHY}))).await;
    assert_eq!(status, 503, "{body}");
    assert!(!body["error"].as_str().unwrap().contains("fire"), "internals stay in the server's log: {body}");
}

#[tokio::test]
async fn the_announcement_still_plays_when_the_records_cannot_be_read() {
    let app = spawn_app_on(Arc::new(BrokenLookups { log: MemoryStore::default(), panic: false }), |_| {}).await;
    let url = "/twilio/whisper?call=CA810&from=%2B442079460123";
    let twiml = Twiml::from_response(app.post_signed(url, &[("CallSid", "CA811"), ("From", PUSHY)]).await).await;
    assert_eq!(twiml.verbs(), ["Gather"]);
    assert!(twiml.text_of("Say")[0].starts_with("Call from 0 2 0, 7 9 4 6, 0 1 2 3."), "{}", twiml.xml);
}

#[tokio::test]
async fn a_decline_by_key_that_cannot_be_saved_connects_the_call() {
    let app = spawn_app_on(Arc::new(BrokenLookups { log: MemoryStore::default(), panic: false }), |_| {}).await;
    // The call rang through (the log still takes calls): a key pressed on it may decline its caller.
    app.call("CA812", PUSHY).await;
    let url = "/twilio/whisper/key?call=CA812&from=%2B442079460123";
    let twiml =
        Twiml::from_response(app.post_signed(url, &[("CallSid", "CA813"), ("From", PUSHY), ("Digits", "9")]).await)
            .await;
    assert_eq!(twiml.verbs(), ["Say"], "no hangup: the call connects after the words");
    assert!(twiml.text_of("Say")[0].contains("could not record"), "{}", twiml.xml);
    let dial = [("CallSid", "CA812"), ("DialCallStatus", "completed")];
    let after = Twiml::from_response(app.post_signed("/twilio/dial-status", &dial).await).await;
    assert_eq!(after.verbs(), ["Hangup"], "no refusal for a decline that was not recorded");
}

#[tokio::test]
async fn a_text_command_that_cannot_reach_the_records_says_so_and_changes_nothing() {
    let app = spawn_app_on(Arc::new(BrokenLookups { log: MemoryStore::default(), panic: false }), |_| {}).await;
    let reply = app.command("NO +442079460123 Everest").await;
    assert!(reply.contains("could not reach its records; nothing changed"), "{reply}");
    assert!(!reply.contains("fire"), "internals stay in the server's log: {reply}");
}
