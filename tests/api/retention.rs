//! The call log's retention period and legal holds: old calls leave the log in the background,
//! except a held company's, which stay whatever their age.

use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use reqwest::Method;
use saidno::domain::{CallRecord, DecisionKind, Decline, PhoneNumber, Target, party_key};
use saidno::store::{CallSink, Change, OwnerRecord, Publish, SledStore};
use serde_json::{Value, json};

use crate::helpers::*;

const EVEREST: &str = "+442079460123";
const ACME: &str = "+442079460124";

fn days_ago(days: i64) -> Timestamp {
    Timestamp::now() - SignedDuration::from_hours(days * 24)
}

fn refused(sid: &str, from: &str, company: &str, at: Timestamp) -> CallRecord {
    CallRecord {
        call_id: sid.into(),
        from: from.into(),
        to: BUSINESS_NUMBER.into(),
        at,
        decision: DecisionKind::Decline,
        reason: "declined".into(),
        company: Some(company.into()),
        party: Some(party_key(Some(company), "")),
        ..Default::default()
    }
}

/// Writes declines and calls into the binary's database before any server opens it.
fn seed(saidno: &Binary, calls: &[CallRecord]) {
    let data = saidno.dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let store = SledStore::open(&data.join("db"), 8).unwrap();
    for (number, company) in [(EVEREST, "Everest Windows"), (ACME, "Acme Double Glazing")] {
        let target = Target::Number(PhoneNumber::from_e164(number).unwrap());
        let decline = Decline { company: Some(company.into()), ..Decline::new(target, days_ago(1200)) };
        store.apply_blocking(Change::Decline(decline), Publish::nowhere()).unwrap();
    }
    store.append_calls(calls).unwrap();
    store.flush().unwrap();
}

fn logged_sids(saidno: &Binary) -> Vec<String> {
    let calls = saidno.json(&["log", "--json", "--limit", "100"]);
    calls.as_array().unwrap().iter().map(|call| call["call_sid"].as_str().unwrap().to_owned()).collect()
}

/// Waits for the server's log to report `count` passes of pruning, and returns the last one.
fn pruned_line(server: &Server, count: usize) -> String {
    let waiting = Instant::now();
    loop {
        let log = server.log();
        let passes: Vec<&str> = log.lines().filter(|line| line.contains("call log pruned")).collect();
        if passes.len() >= count {
            return passes[count - 1].to_owned();
        }
        assert!(waiting.elapsed() < Duration::from_secs(60), "no pruning reported:\n{log}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn old_calls_leave_the_log_at_start_up_while_a_held_company_keeps_all_of_its_calls() {
    let saidno = Binary::new("");
    seed(
        &saidno,
        &[
            refused("CA-everest-old", EVEREST, "Everest Windows", days_ago(1000)),
            refused("CA-acme-old", ACME, "Acme Double Glazing", days_ago(1000)),
            CallRecord {
                call_id: "CA-forwarded-old".into(),
                from: "+442079460555".into(),
                at: days_ago(800),
                ..Default::default()
            },
            // Inside the default two years by a day: younger than the period, so it stays.
            refused("CA-everest-edge", EVEREST, "Everest Windows", days_ago(729)),
            refused("CA-everest-young", EVEREST, "Everest Windows", days_ago(1)),
        ],
    );
    // Offline, the command line places the hold on the store itself.
    let held = saidno.ok(&["legal-hold", "add", "Acme Double Glazing"]);
    assert!(held.contains("Legal hold on Acme Double Glazing"), "{held}");

    let mut server = saidno.serve();
    let line = pruned_line(&server, 1);
    assert!(line.contains("pruned=2") && line.contains("kept_under_legal_hold=1"), "{line}");
    assert!(server.metrics().contains("saidno_calls_pruned_total 2"));
    assert_eq!(logged_sids(&saidno), ["CA-everest-young", "CA-everest-edge", "CA-acme-old"]);
    // The pruned call is gone from its company's page and evidence too; the held one is on its.
    let evidence = saidno.ok(&["export", "evidence", "Everest Windows"]);
    assert!(!evidence.contains("CA-everest-old") && evidence.contains("CA-everest-edge"), "{evidence}");
    assert!(saidno.ok(&["export", "evidence", "Acme Double Glazing"]).contains("CA-acme-old"));

    // Through the running server, the hold is listed and lifted; the next pass prunes the rest.
    let holds = saidno.json(&["legal-hold", "list", "--json"]);
    assert_eq!(holds[0]["key"], "company:acme double glazing", "{holds}");
    let lifted = saidno.ok(&["legal-hold", "remove", ACME]);
    assert!(lifted.contains("No legal hold on"), "{lifted}");
    assert_eq!(saidno.json(&["legal-hold", "list", "--json"]), json!([]));
    assert!(server.terminate().success());

    let server = saidno.serve();
    let line = pruned_line(&server, 1);
    assert!(line.contains("pruned=1") && line.contains("kept_under_legal_hold=0"), "{line}");
    assert_eq!(logged_sids(&saidno), ["CA-everest-young", "CA-everest-edge"]);
}

#[test]
fn a_retention_of_zero_keeps_every_call() {
    let saidno = Binary::new("[log]\nretention_days = 0\n");
    seed(&saidno, &[refused("CA-ancient", EVEREST, "Everest Windows", days_ago(5000))]);
    let mut server = saidno.serve();
    assert_eq!(logged_sids(&saidno), ["CA-ancient"]);
    assert!(server.terminate().success());
    assert!(!server.log().contains("call log pruned"), "{}", server.log());
}

#[test]
fn a_retention_the_config_cannot_mean_is_refused_with_its_name() {
    let saidno = Binary::new("[log]\nretention_days = -3\n");
    let output = saidno.run(&["log"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("retention_days"));
}

#[tokio::test]
async fn the_admin_api_places_and_lifts_a_hold_and_refuses_what_it_cannot_hold() {
    let app = spawn_app().await;
    app.decline(json!({"number": EVEREST, "company": "Everest Windows"})).await;
    let path = "/companies/company%3Aeverest%20windows/legal-hold";

    let (status, placed) = app.api(Method::PUT, path, Some(json!({"held": true}))).await;
    assert_eq!(status, 200, "{placed}");
    assert_eq!((placed["key"].as_str(), placed["held"].as_bool()), (Some("company:everest windows"), Some(true)));
    let since = placed["since"].as_str().unwrap().to_owned();
    // Placing it again keeps the first date.
    let (_, again) = app.api(Method::PUT, path, Some(json!({"held": true}))).await;
    assert_eq!(again["since"], since.as_str());
    let (_, companies) = app.api(Method::GET, "/companies", None).await;
    assert_eq!(companies[0]["legal_hold_since"], since.as_str(), "{companies}");

    for (body, expected) in [(json!({"held": "yes"}), 400), (json!({}), 400)] {
        let (status, error) = app.api(Method::PUT, path, Some(body)).await;
        assert_eq!(status, expected, "{error}");
        assert!(!error["error"].as_str().unwrap().is_empty());
    }
    let (status, error) =
        app.api(Method::PUT, "/companies/company%3Anobody/legal-hold", Some(json!({"held": true}))).await;
    assert_eq!(status, 404, "{error}");
    let (_, holds) = app.api(Method::GET, "/legal-holds", None).await;
    assert_eq!(holds.as_array().unwrap().len(), 1, "a refused request changed nothing: {holds}");

    let (status, lifted) = app.api(Method::PUT, path, Some(json!({"held": false}))).await;
    assert_eq!((status, &lifted["held"], &lifted["since"]), (200, &Value::Bool(false), &Value::Null));
    let (_, holds) = app.api(Method::GET, "/legal-holds", None).await;
    assert_eq!(holds, json!([]));
}

#[tokio::test]
async fn the_company_page_shows_the_hold_and_its_button_places_and_lifts_it() {
    let app = spawn_app().await;
    app.decline(json!({"number": EVEREST, "company": "Everest Windows"})).await;
    let browser = app.signed_in().await;
    let company = "/companies/company%3Aeverest%20windows";

    let page = browser.get(company).await;
    assert!(page.texts("#held").is_empty());
    assert_eq!(page.attributes("#legal-hold input[name=held]", "value"), ["true"]);
    let placed = browser.post(&format!("{company}/legal-hold"), &[("held", "true")]).await;
    assert_eq!((placed.status, placed.location.as_deref()), (303, Some(company)), "{}", placed.text);
    let page = browser.get(company).await;
    assert!(page.text_of("#held").contains("Under a legal hold since"), "{}", page.text);
    assert_eq!(page.attributes("#legal-hold input[name=held]", "value"), ["false"]);

    // A form from another site changes nothing.
    let forged =
        browser.post_from(&format!("{company}/legal-hold"), &[("held", "false")], "https://evil.example").await;
    assert_eq!(forged.status, 403);
    let garbled = browser.post(&format!("{company}/legal-hold"), &[("held", "maybe")]).await;
    assert_eq!(garbled.status, 400);
    assert!(!browser.get(company).await.texts("#held").is_empty(), "still held");

    browser.post(&format!("{company}/legal-hold"), &[("held", "false")]).await;
    assert!(browser.get(company).await.texts("#held").is_empty());
}
