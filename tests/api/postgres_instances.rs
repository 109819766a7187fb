//! Several servers on one PostgreSQL database, serving one business: an owner change made at any
//! of them is honoured by every other, and one that dies takes nothing with it that it had
//! acknowledged. Waits poll with a generous overall bound, which only stops a broken test.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::Method;
use saidno::store::test_db::TestDb;
use serde_json::json;

use crate::helpers::*;
use crate::postgres::{admin, on_postgres};

/// How long a change may take to show before the test gives up: far beyond the second promised,
/// so that a slow machine does not fail it, while a change that never arrives does.
pub(crate) const GIVE_UP_AFTER: Duration = Duration::from_secs(60);

pub(crate) fn refused(twiml: &str) -> bool {
    twiml.contains("<Hangup") && !twiml.contains("<Dial")
}

pub(crate) fn forwarded(twiml: &str) -> bool {
    twiml.contains("<Dial")
}

/// Calls `server` from `from` until `honoured` says the answer shows the change.
fn wait_until_answered(server: &Server, from: &str, what: &str, honoured: impl Fn(&str) -> bool) {
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let deadline = Instant::now() + GIVE_UP_AFTER;
    loop {
        let twiml = server.call(&format!("CA-wait-{}", CALLS.fetch_add(1, Ordering::SeqCst)), from);
        if honoured(&twiml) {
            return;
        }
        assert!(Instant::now() < deadline, "{what} never showed at the other server: {twiml}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub(crate) fn changed(server: &Server, method: Method, path: &str, body: Option<serde_json::Value>) {
    let (status, answer) = admin(server, method, path, body);
    assert!((200..300).contains(&status), "{status}: {answer}");
}

/// Two servers, each with its own data folder, on the one database.
pub(crate) fn two_servers(database: &TestDb) -> ((Binary, Server), (Binary, Server)) {
    let first = on_postgres(database);
    let second = on_postgres(database);
    let (a, b) = (first.serve(), second.serve());
    assert_eq!(a.get("/readyz").0, 200, "{}", a.log());
    assert_eq!(b.get("/readyz").0, 200, "{}", b.log());
    ((first, a), (second, b))
}

#[test]
fn a_decline_made_at_one_server_refuses_the_next_call_at_the_other() {
    let Some(database) = TestDb::new() else { return };
    let ((_first, a), (_second, b)) = two_servers(&database);
    assert!(forwarded(&b.call("CA-before", PUSHY)), "not yet declined");

    changed(&a, Method::POST, "/declines", Some(json!({"number": PUSHY, "company": "Everest"})));
    wait_until_answered(&b, PUSHY, "the decline", refused);
}

#[test]
fn an_allow_and_removals_made_at_one_server_take_effect_at_the_other() {
    let Some(database) = TestDb::new() else { return };
    let ((_first, a), (_second, b)) = two_servers(&database);
    changed(&a, Method::POST, "/declines", Some(json!({"number": PUSHY})));
    wait_until_answered(&b, PUSHY, "the decline", refused);

    // An allow is stronger than a decline, so the declined number rings through while it stands.
    changed(&a, Method::POST, "/allows", Some(json!({"number": PUSHY, "name": "Everest after all"})));
    wait_until_answered(&b, PUSHY, "the allow", forwarded);
    changed(&a, Method::DELETE, "/allows/%2B442079460123", None);
    wait_until_answered(&b, PUSHY, "the allow's removal", refused);
    changed(&a, Method::DELETE, "/declines/%2B442079460123", None);
    wait_until_answered(&b, PUSHY, "the decline's removal", forwarded);
}

/// A decline posted to `url`, or `None` once the server no longer answers.
fn try_decline(url: &str, number: &str) -> Option<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let response = saidno::tls::client()
            .post(format!("{url}/api/v1/declines"))
            .bearer_auth(ADMIN_TOKEN)
            .json(&json!({ "number": number }))
            .send()
            .await
            .ok()?;
        response.status().is_success().then_some(())
    })
}

#[test]
fn a_server_killed_mid_change_leaves_the_other_answering_every_call_with_every_acknowledged_change() {
    let Some(database) = TestDb::new() else { return };
    let ((_first, a), (_second, b)) = two_servers(&database);

    // Declines made at A one after another, until A is gone; those it acknowledged are kept.
    let a_url = a.url.clone();
    let changing = std::thread::spawn(move || {
        let mut acknowledged = Vec::new();
        for n in 0..100 {
            let number = format!("+4420794601{n:02}");
            if try_decline(&a_url, &number).is_none() {
                break;
            }
            acknowledged.push(number);
        }
        acknowledged
    });
    // Calls to B from a number no one declines, throughout: before, during and after the kill.
    let killed = Arc::new(AtomicBool::new(false));
    let b_url = b.url.clone();
    let calling = {
        let killed = killed.clone();
        std::thread::spawn(move || {
            let (mut answered, mut after_kill) = (0, 0);
            while after_kill < 30 {
                let after = killed.load(Ordering::SeqCst);
                let twiml = call_at(&b_url, &format!("CA-burst-{answered}"), "+442079460555");
                assert!(forwarded(&twiml), "call {answered} was answered: {twiml}");
                answered += 1;
                after_kill += usize::from(after);
            }
            answered
        })
    };

    let deadline = Instant::now() + GIVE_UP_AFTER;
    while database_declines(&database) < 5 {
        assert!(Instant::now() < deadline, "A made no declines");
        std::thread::sleep(Duration::from_millis(10));
    }
    a.kill();
    killed.store(true, Ordering::SeqCst);
    let acknowledged = changing.join().unwrap();
    let answered = calling.join().expect("B answered every call of the burst");
    assert!(answered >= 30, "{answered}");

    assert!(acknowledged.len() >= 5, "{acknowledged:?}");
    for number in &acknowledged {
        wait_until_answered(&b, number, &format!("the decline of {number}"), refused);
    }
    assert_eq!(b.get("/readyz").0, 200, "{}", b.log());
}

/// How many declines the database holds, read beside the servers.
fn database_declines(database: &TestDb) -> i64 {
    let url = database.url.clone();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
            tokio::spawn(connection);
            client.query_one("SELECT count(*) FROM declines", &[]).await.unwrap().get(0)
        })
    })
    .join()
    .unwrap()
}

#[test]
fn the_command_line_changes_the_database_beside_running_servers_and_both_follow() {
    let Some(database) = TestDb::new() else { return };
    let ((first, a), (_second, b)) = two_servers(&database);
    let added = first.ok(&["decline", "add", PUSHY, "--company", "Everest Windows"]);
    assert!(added.contains("Declined +442079460123"), "{added}");
    wait_until_answered(&a, PUSHY, "the command line's decline", refused);
    wait_until_answered(&b, PUSHY, "the command line's decline", refused);
}

#[test]
fn a_setting_changed_on_one_servers_settings_page_decides_the_next_call_at_the_other() {
    let Some(database) = TestDb::new() else { return };
    let ((first, a), (_second, b)) = two_servers(&database);
    assert!(first.with_input(&["admin", "set-password"], &format!("{PASSWORD}\n")).status.success());
    assert!(forwarded(&b.call("CA-before", "anonymous")));
    let cookie = crate::cli::signed_in_cookie(&a.url);
    let (status, _) = crate::web_settings::post_with(&a.url, "/settings/withheld", &cookie, &[("policy", "refuse")]);
    assert_eq!(status, 303);
    wait_until_answered(&b, "anonymous", "the withheld policy chosen at the first", refused);
}
