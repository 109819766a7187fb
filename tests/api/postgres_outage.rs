//! PostgreSQL cut off while saidno serves, through a proxy the test cuts and restores: calls are
//! still answered from the record in memory, `/readyz` says the database cannot be reached, owner
//! changes are refused whole, and the calls answered meanwhile wait in a bounded queue and are
//! logged once the database answers again. Waits poll with a generous overall bound, which only
//! stops a broken test; none of them is a measure of speed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use saidno::store::PostgresStore;
use saidno::store::test_db::TestDb;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::postgres::admin;

const GIVE_UP_AFTER: Duration = Duration::from_secs(60);
const OTHER: &str = "+442079460555";

fn refused(twiml: &Twiml) -> bool {
    let verbs = twiml.verbs();
    verbs.contains(&"Hangup".to_owned()) && !verbs.contains(&"Dial".to_owned())
}

fn forwarded(twiml: &Twiml) -> bool {
    twiml.verbs().contains(&"Dial".to_owned())
}

/// `/readyz` once it answers `status`: its body.
async fn ready_with(app: &TestApp, status: u16) -> Value {
    let deadline = Instant::now() + GIVE_UP_AFTER;
    loop {
        let response = app.http.get(app.url("/readyz")).send().await.unwrap();
        let answered = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        if answered == status {
            return body;
        }
        assert!(Instant::now() < deadline, "/readyz never answered {status}: {answered} {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The log once it holds every one of `call_ids`.
async fn logged(app: &TestApp, call_ids: &[&str]) -> Vec<Value> {
    let deadline = Instant::now() + GIVE_UP_AFTER;
    loop {
        let (status, calls) = app.api(Method::GET, "/calls?limit=100", None).await;
        if status == 200 {
            let calls = calls.as_array().unwrap().clone();
            let has = |id: &&str| calls.iter().any(|call| call["call_sid"] == **id);
            if call_ids.iter().all(has) {
                return calls;
            }
        }
        assert!(Instant::now() < deadline, "{call_ids:?} never all reached the log: {status} {calls}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Calls `app` from `from` until it is refused: a change made elsewhere has been followed.
async fn refused_once_followed(app: &TestApp, from: &str, what: &str) {
    let deadline = Instant::now() + GIVE_UP_AFTER;
    for attempt in 0.. {
        if refused(&app.call(&format!("CA-follow-{}-{attempt}", from.trim_start_matches('+')), from).await) {
            return;
        }
        assert!(Instant::now() < deadline, "{what} was never followed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn call_of<'a>(calls: &'a [Value], call_id: &str) -> &'a Value {
    calls.iter().find(|call| call["call_sid"] == call_id).unwrap()
}

/// The command line on the same database, as the owner runs it beside the server.
fn command_line(url: &str) -> Binary {
    Binary::new(&format!("[admin]\ntoken = \"{ADMIN_TOKEN}\"\n[store]\nurl = \"{url}\"\n"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_an_outage_calls_are_answered_changes_refused_and_the_log_written_when_it_returns() {
    let Some(database) = TestDb::new() else { return };
    let (proxy, through_proxy) = CutProxy::to_postgres(&database.url);
    let store = Arc::new(PostgresStore::open(&through_proxy).unwrap());
    let app = spawn_app_on(store, |_| {}).await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;
    let browser = app.signed_in().await;
    ready_with(&app, 200).await;
    // Another process on the same database, not cut off: the command line.
    let elsewhere = command_line(&database.url);
    let cut_off_cli = command_line(&through_proxy);

    proxy.cut();
    let unready = ready_with(&app, 503).await;
    let reason = unready["store"].as_str().unwrap();
    assert!(reason.contains(&format!("PostgreSQL database at postgres://{}/", proxy.address)), "{unready}");

    // Every call is answered: the declined caller refused from the record in memory, others put through.
    assert!(refused(&app.call("CA-cut-1", PUSHY).await));
    assert!(forwarded(&app.call("CA-cut-2", OTHER).await));
    let status = [("CallSid", "CA-cut-2"), ("DialCallStatus", "completed"), ("DialCallDuration", "42")];
    assert_eq!(app.post_signed("/twilio/dial-status", &status).await.status(), 200);
    assert!(refused(&app.call("CA-cut-3", PUSHY).await));

    // Owner changes are refused whole, saying why, through the admin API, the web page and the
    // command line.
    let said = "the database cannot be reached, so nothing was changed";
    let (status, body) = app.api(Method::POST, "/declines", Some(json!({"number": OTHER}))).await;
    assert_eq!(status, 503, "{body}");
    assert!(body["error"].as_str().unwrap().contains(said), "{body}");
    let page = browser.post("/calls/decline", &[("number", OTHER), ("company", "Acme Leads")]).await;
    assert_eq!(page.status, 503, "{}", page.text);
    assert!(page.text_of("#error").contains(said), "{}", page.text);
    let cli = cut_off_cli.run(&["decline", "add", OTHER, "--company", "Acme Leads"]);
    assert!(!cli.status.success());
    assert!(stderr(&cli).contains(said), "{}", stderr(&cli));
    // A change made meanwhile by a process that reaches the database.
    elsewhere.ok(&["decline", "add", "+442079460666", "--company", "Meanwhile Ltd"]);

    proxy.restore();
    assert_eq!(ready_with(&app, 200).await["ready"], true);
    let calls = logged(&app, &["CA-cut-1", "CA-cut-2", "CA-cut-3"]).await;
    assert_eq!(call_of(&calls, "CA-cut-1")["decision"], "decline");
    assert_eq!(call_of(&calls, "CA-cut-3")["decision"], "decline");
    let put_through = call_of(&calls, "CA-cut-2");
    assert_eq!(put_through["decision"], "forward");
    assert_eq!(put_through["outcome"]["status"], "answered", "{put_through}");
    assert_eq!(put_through["outcome"]["duration_secs"], 42, "{put_through}");

    // None of the refused changes is there; the change made elsewhere is followed.
    let declines = app.declines().await;
    assert!(!declines.iter().any(|decline| decline["number"] == OTHER), "{declines:?}");
    assert!(forwarded(&app.call("CA-after-1", OTHER).await));
    refused_once_followed(&app, "+442079460666", "a change made elsewhere during the outage").await;
    // And changes work again, here and from elsewhere.
    let (status, body) = app.api(Method::POST, "/declines", Some(json!({"number": OTHER}))).await;
    assert!(status == 200 || status == 201, "{status}: {body}");
    assert!(refused(&app.call("CA-after-2", OTHER).await));
    elsewhere.ok(&["decline", "add", "+442079460777", "--company", "Afterwards Ltd"]);
    refused_once_followed(&app, "+442079460777", "a change made elsewhere after the outage").await;
}

#[test]
fn calls_past_the_queue_are_left_out_of_the_log_counted_and_said() {
    let Some(database) = TestDb::new() else { return };
    let (proxy, through_proxy) = CutProxy::to_postgres(&database.url);
    let saidno = Binary::new(&format!(
        "[admin]\ntoken = \"{ADMIN_TOKEN}\"\n[store]\nurl = \"{through_proxy}\"\n[log]\nqueue = 3\n"
    ));
    let mut server = saidno.serve();
    assert_eq!(server.get("/readyz").0, 200, "{}", server.log());

    proxy.cut();
    let deadline = Instant::now() + GIVE_UP_AFTER;
    while server.get("/readyz").0 != 503 {
        assert!(Instant::now() < deadline, "never unready: {}", server.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    for id in 1..=5 {
        assert!(server.call(&format!("CA-full-{id}"), OTHER).contains("<Dial"));
    }
    let metrics = server.metrics();
    assert!(metrics.contains("saidno_calls_not_logged_total 2"), "{metrics}");
    server.wait_for_log("2 calls and 0 outcomes of calls were not logged", 1);

    proxy.restore();
    let deadline = Instant::now() + GIVE_UP_AFTER;
    let calls = loop {
        let (status, calls) = admin(&server, Method::GET, "/calls?limit=10", None);
        if status == 200 && calls.as_array().unwrap().len() >= 3 {
            break calls;
        }
        assert!(Instant::now() < deadline, "the held calls never reached the log: {status} {calls}");
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut ids: Vec<&str> = calls.as_array().unwrap().iter().map(|call| call["call_sid"].as_str().unwrap()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["CA-full-1", "CA-full-2", "CA-full-3"], "the first three, which the queue held");
    server.terminate();
    assert!(server.log().contains("the call log can be written again"), "{}", server.log());
}
