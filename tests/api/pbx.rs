//! A business's own PBX asking before it rings: `GET /pbx/check` on the real server.

use std::sync::Arc;

use saidno::config::CallerPolicy;
use saidno::store::MemoryStore;
use serde_json::{Value, json};

use crate::fail_open::BrokenLookups;
use crate::helpers::*;

const PBX_TOKEN: &str = "test-pbx-token-51d2";

async fn pbx_app() -> TestApp {
    spawn_app_with(|s| s.pbx.token = PBX_TOKEN.into()).await
}

/// The look-up as a dialplan makes it: the answer's status and its lines.
async fn ask(app: &TestApp, query: &str, token: Option<&str>) -> (u16, Vec<String>) {
    let mut request = app.http.get(app.url(&format!("/pbx/check?{query}")));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    if status == 200 {
        assert_eq!(response.headers()["content-type"], "text/plain; charset=utf-8");
    }
    (status, response.text().await.unwrap().lines().map(str::to_owned).collect())
}

async fn verdict(app: &TestApp, query: &str) -> Vec<String> {
    let (status, lines) = ask(app, query, Some(PBX_TOKEN)).await;
    assert_eq!(status, 200, "{lines:?}");
    lines
}

#[tokio::test]
async fn a_declined_caller_is_refused_in_words_and_the_call_is_logged_and_counted() {
    let app = pbx_app().await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;
    let lines = verdict(&app, "from=%2B442079460123&to=%2B442079460000&call=1700000000.42").await;
    assert_eq!(lines[0], "decline");
    assert!(lines[1].contains("Everest Windows"), "{lines:?}");
    let calls = app.calls().await;
    assert_eq!(calls[0]["call_sid"], "1700000000.42");
    assert_eq!(calls[0]["decision"], "decline");
    assert_eq!(calls[0]["follow_up"], 1);

    let again = verdict(&app, "from=%2B442079460123&to=%2B442079460000&call=1700000000.43").await;
    assert_eq!(again[0], "decline");
    assert_eq!(app.calls().await[0]["follow_up"], 2, "the second call since the no");
}

#[tokio::test]
async fn a_number_written_without_plus_or_nationally_matches_its_decline() {
    let app = pbx_app().await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;
    for from in ["442079460123", "02079460123", "0044%202079%20460123"] {
        assert_eq!(verdict(&app, &format!("from={from}&to=4402079460000")).await[0], "decline", "{from}");
    }
    let calls = app.calls().await;
    assert!(calls.iter().all(|call| call["from"] == PUSHY), "{calls:?}");
}

#[tokio::test]
async fn an_unknown_caller_is_forwarded_and_a_silent_decline_is_rejected() {
    let app = pbx_app().await;
    app.decline(json!({"prefix": "+234", "mode": "reject"})).await;
    assert_eq!(verdict(&app, "from=%2B442079460777").await, ["forward", ""]);
    assert_eq!(verdict(&app, "from=%2B2348012345678").await, ["reject", ""]);
    let calls = app.calls().await;
    assert_eq!(calls[0]["decision"], "decline");
    assert_eq!(calls[1]["decision"], "forward");
}

#[tokio::test]
async fn a_withheld_caller_follows_its_policy() {
    let app = spawn_app_with(|s| {
        s.pbx.token = PBX_TOKEN.into();
        s.policy.withheld = CallerPolicy::Screen;
    })
    .await;
    for from in ["anonymous", "", "Restricted"] {
        let lines = verdict(&app, &format!("from={from}")).await;
        assert_eq!(lines[0], "screen", "{from:?}");
        assert!(lines[1].contains("press 1"), "{lines:?}");
    }
    assert!(app.calls().await.iter().all(|call| call["from"] == "withheld"));
}

#[tokio::test]
async fn the_escape_hatch_is_offered_on_a_third_line_and_as_json() {
    let app = spawn_app_with(|s| {
        s.pbx.token = PBX_TOKEN.into();
        s.policy.escape_hatch_companies = vec!["Everest Windows".into()];
    })
    .await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;
    let lines = verdict(&app, "from=%2B442079460123").await;
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines[2].contains("existing order or appointment"), "{lines:?}");

    let response = app
        .http
        .get(app.url("/pbx/check?from=%2B442079460123"))
        .bearer_auth(PBX_TOKEN)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["action"], "decline");
    assert!(answer["say"].as_str().unwrap().contains("Everest Windows"), "{answer}");
    assert!(answer["press_1"].as_str().unwrap().contains("existing order"), "{answer}");
}

#[tokio::test]
async fn a_look_up_without_the_token_is_refused_and_nothing_is_logged() {
    let app = pbx_app().await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;
    for token in [None, Some("wrong-token"), Some("")] {
        let (status, lines) = ask(&app, "from=%2B442079460123", token).await;
        assert_eq!(status, 403, "{token:?}: {lines:?}");
    }
    let (status, _) = ask(&app, "from=%2B442079460123&call=bad%20id", Some(PBX_TOKEN)).await;
    assert_eq!(status, 400, "a malformed call id");
    let (status, _) = ask(&app, &format!("from={}", "1".repeat(200)), Some(PBX_TOKEN)).await;
    assert_eq!(status, 400, "an over-long number");
    assert!(app.calls().await.is_empty(), "nothing is logged for a refused look-up");
}

#[tokio::test]
async fn without_a_token_configured_there_is_no_look_up() {
    let app = spawn_app().await;
    let (status, _) = ask(&app, "from=%2B442079460123", Some("anything")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_store_error_tells_the_pbx_to_ring_the_business() {
    let store = Arc::new(BrokenLookups { log: MemoryStore::default(), panic: false });
    let app = spawn_app_on(store, |s| s.pbx.token = PBX_TOKEN.into()).await;
    assert_eq!(verdict(&app, "from=%2B442079460123").await, ["forward", ""]);
    assert!(app.calls().await[0]["reason"].as_str().unwrap().contains("could not decide"));
}
