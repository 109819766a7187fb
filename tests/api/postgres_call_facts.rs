//! Facts about calls that must hold however a load balancer spreads a call's requests over
//! several servers on one PostgreSQL database: the owner's 9, a single-use allow, the follow-up
//! numbering and a provider's once-only token.

use std::sync::Barrier;
use std::time::{Duration, Instant};

use reqwest::Method;
use saidno::provider::plivo::signature::sign_v3;
use saidno::store::test_db::TestDb;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::postgres::admin;
use crate::postgres_instances::{GIVE_UP_AFTER, changed, forwarded, refused, two_servers};

/// How long a refusal logged at one server takes at most to count at every other, as README's
/// PostgreSQL part states it.
const COUNTED_EVERYWHERE_WITHIN: Duration = Duration::from_secs(2);

const CALLER: &str = "+442079460555";
const PLIVO_TOKEN: &str = "plivo-auth-token-5e1d";

/// The attribute `name` of the first `element` in TwiML.
fn attribute(twiml: &str, element: &str, name: &str) -> String {
    let document = roxmltree::Document::parse(twiml).unwrap_or_else(|e| panic!("{e}: {twiml}"));
    let node = document.descendants().find(|node| node.has_tag_name(element));
    node.and_then(|node| node.attribute(name)).unwrap_or_else(|| panic!("no {element} {name} in {twiml}")).to_owned()
}

/// What the server's `/check` says a call from `number` would get now, without making one.
fn checked(server: &Server, number: &str) -> Value {
    let (status, preview) = admin(server, Method::POST, "/check", Some(json!({ "number": number })));
    assert_eq!(status, 200, "{preview}");
    preview
}

/// Waits until `server` would give a call from `number` the decision `kind`.
fn wait_until_checked(server: &Server, number: &str, kind: &str) {
    let deadline = Instant::now() + GIVE_UP_AFTER;
    while checked(server, number)["decision"] != kind {
        assert!(Instant::now() < deadline, "{number} never came to {kind}: {}", checked(server, number));
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn calls(server: &Server) -> Vec<Value> {
    let (status, calls) = admin(server, Method::GET, "/calls", None);
    assert_eq!(status, 200, "{calls}");
    calls.as_array().unwrap().clone()
}

/// The logged call `sid` at `server`, once it is logged.
fn logged(server: &Server, sid: &str) -> Value {
    let deadline = Instant::now() + GIVE_UP_AFTER;
    loop {
        if let Some(call) = calls(server).into_iter().find(|call| call["call_sid"] == sid) {
            return call;
        }
        assert!(Instant::now() < deadline, "{sid} was never logged");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// What Twilio posts on the leg to the owner's phone once it is answered.
fn answered_leg(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut pairs = vec![("CallSid", "CA-leg"), ("CallStatus", "in-progress"), ("From", CALLER), ("To", OWNER_PHONE)];
    pairs.extend_from_slice(extra);
    pairs
}

/// Calls `server` as `sid` from `CALLER`, answers the forward there and presses `digits` at
/// `presses`: what the owner hears.
fn press_during_announcement(server: &Server, sid: &str, presses: &Server, digits: &'static str) -> String {
    let twiml = server.call(sid, CALLER);
    assert!(forwarded(&twiml), "{twiml}");
    let (status, announced) = post_signed_to(&server.url, &attribute(&twiml, "Number", "url"), &answered_leg(&[]));
    assert_eq!(status, 200, "{announced}");
    let key = attribute(&announced, "Gather", "action");
    let (status, owner_hears) = post_signed_to(&presses.url, &key, &answered_leg(&[("Digits", digits)]));
    assert_eq!(status, 200, "{owner_hears}");
    owner_hears
}

/// The original call's dial callback, at `server`, once the owner's leg completed: what the caller hears.
fn dial_completed(server: &Server, sid: &str) -> String {
    let ended = [("CallSid", sid), ("From", CALLER), ("DialCallStatus", "completed"), ("DialCallSid", "CA-leg")];
    let (status, caller_hears) = post_signed_to(&server.url, "/twilio/dial-status", &ended);
    assert_eq!(status, 200, "{caller_hears}");
    caller_hears
}

#[test]
fn nine_pressed_at_one_server_refuses_the_caller_whose_call_ended_at_the_other() {
    let Some(database) = TestDb::new() else { return };
    let ((_first, a), (_second, b)) = two_servers(&database);
    // The owner's 9 reaches B, and the original call's dial callback A.
    let owner_hears = press_during_announcement(&a, "CA-nine", &b, "9");
    assert!(owner_hears.contains("The caller hears your refusal"), "{owner_hears}");
    let caller_hears = dial_completed(&a, "CA-nine");
    assert!(
        refused(&caller_hears) && caller_hears.contains("Acme Plumbing"),
        "the caller hears the refusal: {caller_hears}"
    );

    // The decision is acted on once: a repeated callback, at either server, finds none.
    let again = dial_completed(&b, "CA-nine");
    assert!(!again.contains("<Say"), "{again}");

    for server in [&a, &b] {
        let (status, declines) = admin(server, Method::GET, "/declines", None);
        assert_eq!(status, 200);
        assert_eq!(declines[0]["number"], CALLER, "{declines}");
        assert_eq!(declines[0]["on_call"], "CA-nine", "{declines}");
        wait_until_checked(server, CALLER, "decline");
    }
}

#[test]
fn nine_that_cannot_be_kept_for_the_dial_callback_says_so_and_still_declines_the_number() {
    let Some(database) = TestDb::new() else { return };
    let ((_first, a), (_second, b)) = two_servers(&database);
    database.execute("DROP TABLE owner_decisions");
    let owner_hears = press_during_announcement(&a, "CA-unkept", &b, "9");
    assert!(owner_hears.contains("This caller could not be given the refusal"), "{owner_hears}");
    assert!(!owner_hears.contains("The caller hears your refusal"), "{owner_hears}");
    // The callback cannot read a decision either, and ends the call as the dial ended.
    let caller_hears = dial_completed(&a, "CA-unkept");
    assert!(caller_hears.contains("<Hangup") && !caller_hears.contains("<Say"), "{caller_hears}");
    wait_until_checked(&a, CALLER, "decline");
    wait_until_checked(&b, CALLER, "decline");
}

#[test]
fn a_single_use_allow_lets_one_of_two_calls_at_two_servers_through() {
    let Some(database) = TestDb::new() else { return };
    let ((_first, a), (_second, b)) = two_servers(&database);
    changed(&a, Method::POST, "/declines", Some(json!({"number": PUSHY, "company": "Everest"})));
    changed(&a, Method::POST, "/allows", Some(json!({"number": PUSHY, "once": true})));
    wait_until_checked(&a, PUSHY, "forward");
    wait_until_checked(&b, PUSHY, "forward");

    // Both calls at once, each at its own server, both of which hold the allow unspent.
    let together = Barrier::new(2);
    let answers: Vec<String> = std::thread::scope(|threads| {
        let calling = [(&a, "CA-once-a"), (&b, "CA-once-b")].map(|(server, sid)| {
            let together = &together;
            threads.spawn(move || {
                together.wait();
                server.call(sid, PUSHY)
            })
        });
        calling.into_iter().map(|call| call.join().unwrap()).collect()
    });
    let through = answers.iter().filter(|twiml| forwarded(twiml)).count();
    assert_eq!(through, 1, "exactly one rings through: {answers:?}");
    assert_eq!(answers.iter().filter(|twiml| refused(twiml)).count(), 1, "the other is declined: {answers:?}");

    for server in [&a, &b] {
        let (_, allows) = admin(server, Method::GET, "/allows", None);
        assert!(allows[0]["used_at"].is_string(), "spent, as both see: {allows}");
        wait_until_checked(server, PUSHY, "decline");
    }
}

#[test]
fn refusals_alternating_between_two_servers_are_numbered_one_after_another() {
    let Some(database) = TestDb::new() else { return };
    let ((_first, a), (_second, b)) = two_servers(&database);
    changed(&a, Method::POST, "/declines", Some(json!({"number": PUSHY, "company": "Everest"})));
    wait_until_checked(&a, PUSHY, "decline");
    wait_until_checked(&b, PUSHY, "decline");

    let sids = ["CA-follow-1", "CA-follow-2", "CA-follow-3", "CA-follow-4"];
    for (n, sid) in sids.iter().enumerate() {
        if n > 0 {
            std::thread::sleep(COUNTED_EVERYWHERE_WITHIN);
        }
        let server = if n % 2 == 0 { &a } else { &b };
        assert!(refused(&server.call(sid, PUSHY)), "{sid}");
    }
    let numbered: Vec<(Value, String)> = sids
        .iter()
        .map(|sid| {
            let call = logged(&a, sid);
            (call["follow_up"].clone(), call["reason"].as_str().unwrap_or_default().to_owned())
        })
        .collect();
    let numbers: Vec<&Value> = numbered.iter().map(|(number, _)| number).collect();
    assert_eq!(numbers, [&json!(1), &json!(2), &json!(3), &json!(4)], "{numbered:?}");
    for ((_, reason), ordinal) in numbered.iter().zip(["1st", "2nd", "3rd", "4th"]) {
        assert!(reason.contains(&format!("{ordinal} call since")), "the caller is told the number logged: {reason}");
    }
}

/// Two servers on one database that both take Plivo's webhooks.
fn two_plivo_servers(database: &TestDb) -> ((Binary, Server), (Binary, Server)) {
    let config = format!(
        "[admin]\ntoken = \"{ADMIN_TOKEN}\"\n[store]\nurl = \"{}\"\n[plivo]\nauth_token = \"{PLIVO_TOKEN}\"\n",
        database.url
    );
    let (first, second) = (Binary::new(&config), Binary::new(&config));
    let (a, b) = (first.serve(), second.serve());
    assert_eq!(a.get("/readyz").0, 200, "{}", a.log());
    assert_eq!(b.get("/readyz").0, 200, "{}", b.log());
    ((first, a), (second, b))
}

/// Plivo's answer-URL request for a call, signed with `nonce`, posted to the server at `url`.
fn plivo_call(url: &str, call_id: &str, nonce: &str) -> (u16, String) {
    let pairs = [
        ("CallStatus", "ringing"),
        ("CallUUID", call_id),
        ("Direction", "inbound"),
        ("Event", "StartApp"),
        ("From", "442079460555"),
        ("To", "442079460000"),
    ];
    let signature = sign_v3(PLIVO_TOKEN, &format!("{PUBLIC_URL}/plivo/voice"), &params(&pairs), nonce);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let response = saidno::tls::client()
            .post(format!("{url}/plivo/voice"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-plivo-signature-v3", signature)
            .header("x-plivo-signature-v3-nonce", nonce)
            .body(form_body(&pairs))
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    })
}

#[test]
fn a_plivo_request_taken_at_one_server_is_refused_as_a_replay_at_the_other() {
    let Some(database) = TestDb::new() else { return };
    let ((_first, a), (_second, b)) = two_plivo_servers(&database);
    let (status, answer) = plivo_call(&a.url, "uuid-replayed", "81726354");
    assert_eq!(status, 200, "{answer}");
    assert!(answer.contains("<Dial"), "{answer}");

    let (status, replayed) = plivo_call(&b.url, "uuid-replayed", "81726354");
    assert_eq!(status, 403, "the same nonce at the other server is a replay: {replayed}");
    let (status, fresh) = plivo_call(&b.url, "uuid-fresh", "81726355");
    assert_eq!(status, 200, "a new nonce is taken there: {fresh}");
    // Without the shared memory, each server still refuses what it saw itself and takes the rest.
    database.execute("DROP TABLE seen_tokens");
    let (status, answer) = plivo_call(&b.url, "uuid-unshared", "81726356");
    assert_eq!(status, 200, "taken when the database cannot say: {answer}");
    assert_eq!(plivo_call(&b.url, "uuid-unshared", "81726356").0, 403, "a replay at the same server");

    logged(&a, "uuid-replayed");
    logged(&a, "uuid-fresh");
    let sids: Vec<Value> = calls(&a).iter().map(|call| call["call_sid"].clone()).collect();
    assert_eq!(sids.iter().filter(|sid| **sid == "uuid-replayed").count(), 1, "logged once: {sids:?}");
}
