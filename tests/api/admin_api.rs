//! The admin API the command line uses while the server runs.

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

const ROUTES: [(&str, &str); 15] = [
    ("GET", "/api/v1/declines"),
    ("POST", "/api/v1/declines"),
    ("POST", "/api/v1/declines/undo"),
    ("DELETE", "/api/v1/declines/%2B442079460123"),
    ("GET", "/api/v1/allows"),
    ("POST", "/api/v1/allows"),
    ("DELETE", "/api/v1/allows/%2B442079460123"),
    ("GET", "/api/v1/calls"),
    ("GET", "/api/v1/check?number=%2B442079460123"),
    ("POST", "/api/v1/check"),
    ("GET", "/api/v1/pause"),
    ("POST", "/api/v1/pause"),
    ("GET", "/api/v1/backup"),
    ("PUT", "/api/v1/companies/number%3A%2B442079460123/legal-hold"),
    ("GET", "/api/v1/legal-holds"),
];

#[tokio::test]
async fn every_api_route_refuses_a_request_without_the_right_token() {
    let app = spawn_app().await;
    app.decline(json!({"number": PUSHY})).await;
    for (method, path) in ROUTES {
        let method: Method = method.parse().unwrap();
        for token in [None, Some("wrong-token"), Some("")] {
            let mut request = app.http.request(method.clone(), app.url(path)).json(&json!({"number": PUSHY}));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 401, "{method} {path} with {token:?}");
            assert_eq!(response.headers()["www-authenticate"], "Bearer");
        }
    }
    // Nothing was removed by the refused DELETE.
    let (_, declines) = app.api(Method::GET, "/declines", None).await;
    assert_eq!(declines.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_new_decline_is_created_then_updated_keeping_its_date() {
    let app = spawn_app().await;
    let (status, first) = app
        .api(Method::POST, "/declines", Some(json!({"number": "020 7946 0123", "company": "Everest Windows"})))
        .await;
    assert_eq!(status, 201);
    assert_eq!(first["created"], true);
    assert_eq!(first["record"]["number"], PUSHY);
    assert_eq!(first["record"]["channel"], "api");

    let (status, second) =
        app.api(Method::POST, "/declines", Some(json!({"number": PUSHY, "note": "called at supper"}))).await;
    assert_eq!(status, 200);
    assert_eq!(second["created"], false);
    assert_eq!(second["record"]["declined_at"], first["record"]["declined_at"]);
    assert_eq!(second["record"]["company"], "Everest Windows");
    assert_eq!(second["record"]["note"], "called at supper");
}

#[tokio::test]
async fn bad_input_names_the_field_and_changes_nothing() {
    let app = spawn_app().await;
    let cases = [
        (json!({"number": "not a number"}), Some("number")),
        (json!({"number": "0800 FLOWERS"}), Some("number")),
        (json!({"number": "01632 960123"}), Some("number")),
        (json!({"number": PUSHY, "company": "x".repeat(500)}), Some("company")),
        (json!({"number": PUSHY, "mode": "shout"}), None),
        (json!({"company": "no number"}), None),
    ];
    for (body, field) in cases {
        let (status, error) = app.api(Method::POST, "/declines", Some(body.clone())).await;
        assert_eq!(status, 400, "{body}");
        assert!(error["error"].as_str().is_some_and(|e| !e.is_empty()), "{error}");
        if let Some(field) = field {
            assert_eq!(error["field"], field, "{body}: {error}");
        }
    }
    let (status, error) = app.api(Method::POST, "/declines", None).await;
    assert_eq!(status, 400, "{error}");
    let (_, declines) = app.api(Method::GET, "/declines", None).await;
    assert_eq!(declines, json!([]));
}

#[tokio::test]
async fn a_number_outside_the_numbering_plan_is_taken_when_forced() {
    let app = spawn_app().await;
    let (status, saved) =
        app.api(Method::POST, "/declines", Some(json!({"number": "01632 960123", "force": true}))).await;
    assert_eq!(status, 201, "{saved}");
    assert_eq!(saved["record"]["number"], "+441632960123");
}

#[tokio::test]
async fn removing_a_decline_lets_the_number_ring_through_again() {
    let app = spawn_app().await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;
    let (status, removed) = app.api(Method::DELETE, "/declines/020%207946%200123", None).await;
    assert_eq!(status, 200, "{removed}");
    assert_eq!(removed["company"], "Everest Windows");
    assert_eq!(app.call("CA900", PUSHY).await.verbs(), ["Dial"]);
    let (status, error) = app.api(Method::DELETE, "/declines/%2B442079460123", None).await;
    assert_eq!(status, 404, "{error}");
}

#[tokio::test]
async fn allows_are_added_listed_and_removed() {
    let app = spawn_app().await;
    let (status, _) = app.api(Method::POST, "/allows", Some(json!({"number": "020 7946 0555", "name": "Mum"}))).await;
    assert_eq!(status, 201);
    let (_, allows) = app.api(Method::GET, "/allows", None).await;
    assert_eq!(allows[0]["number"], "+442079460555");
    assert_eq!(allows[0]["name"], "Mum");
    let (status, _) = app.api(Method::DELETE, "/allows/%2B442079460555", None).await;
    assert_eq!(status, 200);
    let (status, _) = app.api(Method::DELETE, "/allows/%2B442079460555", None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn check_gives_the_decision_the_webhook_would_give() {
    let app = spawn_app().await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows", "mode": "reject"})).await;
    let (status, preview) = app.api(Method::GET, "/check?number=020%207946%200123", None).await;
    assert_eq!(status, 200);
    assert_eq!(preview["decision"], "decline");
    assert!(preview["reason"].as_str().unwrap().contains("Everest Windows"));
    assert!(preview["caller_hears"].as_str().unwrap().contains("busy"));
    assert_eq!(app.call("CA901", PUSHY).await.verbs(), ["Reject"]);

    let (status, error) = app.api(Method::GET, "/check?number=banana", None).await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["field"], "number");
}

#[tokio::test]
async fn the_call_listing_filters_by_refusal_time_and_count() {
    let app = spawn_app().await;
    app.decline(json!({"number": PUSHY})).await;
    app.call("CA910", "+442079460555").await;
    app.call("CA911", PUSHY).await;
    app.call("CA912", "+442079460556").await;

    let (_, declined) = app.api(Method::GET, "/calls?declined=true", None).await;
    let sids: Vec<_> = declined.as_array().unwrap().iter().map(|c| c["call_sid"].clone()).collect();
    assert_eq!(sids, [json!("CA911")]);
    let (_, limited) = app.api(Method::GET, "/calls?limit=2", None).await;
    assert_eq!(limited.as_array().unwrap().len(), 2);
    assert_eq!(limited[0]["call_sid"], "CA912");
    let (_, future) = app.api(Method::GET, "/calls?since=2099-01-01T00:00:00Z", None).await;
    assert_eq!(future, json!([]));

    for bad in ["/calls?limit=0", "/calls?limit=many", "/calls?since=yesterday", "/calls?limit=100000"] {
        let (status, error) = app.api(Method::GET, bad, None).await;
        assert_eq!(status, 400, "{bad}: {error}");
    }
}

#[tokio::test]
async fn an_oversized_admin_body_is_refused() {
    let app = spawn_app().await;
    let (status, _) =
        app.api(Method::POST, "/declines", Some(json!({"number": PUSHY, "note": "x".repeat(100 * 1024)}))).await;
    assert_eq!(status, 413);
    let (_, declines) = app.api(Method::GET, "/declines", None).await;
    assert_eq!(declines, json!([]));
}

#[tokio::test]
async fn an_undo_through_the_api_puts_back_exactly_what_a_change_replaced_and_never_a_later_change() {
    let app = spawn_app().await;
    let first = app.decline(json!({"number": PUSHY, "company": "Everest Windows", "note": "kitchen"})).await;
    let original = first["record"].clone();
    let second = app.decline(json!({"number": PUSHY, "note": "called again", "mode": "reject"})).await;
    assert_eq!(second["before"], original, "the answer carries the record it replaced");
    let undo = json!({"target": PUSHY, "after": second["record"], "before": second["before"]});

    let (status, now) = app.api(Method::POST, "/declines/undo", Some(undo.clone())).await;
    assert_eq!((status, &now["decline"]), (200, &original), "{now}");
    assert_eq!(listed_decline(&app).await, original, "exactly as before");
    assert!(app.call("CA701", PUSHY).await.verbs().contains(&"Say".to_owned()), "the spoken refusal is back");

    let (status, refused) = app.api(Method::POST, "/declines/undo", Some(undo)).await;
    assert_eq!(status, 404, "{refused}");
    assert!(refused["error"].as_str().unwrap().contains("nothing was undone"), "{refused}");

    // A removal's Undo gives the decline back; a creation's Undo takes it away.
    let (status, removed) = app.api(Method::DELETE, "/declines/%2B442079460123", None).await;
    assert_eq!(status, 200);
    let (status, now) =
        app.api(Method::POST, "/declines/undo", Some(json!({"target": PUSHY, "after": null, "before": removed}))).await;
    assert_eq!((status, &now["decline"]), (200, &original), "{now}");
    let fresh = app.decline(json!({"number": "+442079460124"})).await;
    assert!(fresh.get("before").is_none());
    let undo = json!({"target": "+442079460124", "after": fresh["record"]});
    let (status, now) = app.api(Method::POST, "/declines/undo", Some(undo)).await;
    assert_eq!((status, &now["decline"]), (200, &serde_json::Value::Null), "{now}");
    assert_eq!(app.call("CA702", "+442079460124").await.verbs(), ["Dial"], "no longer declined");
}

#[tokio::test]
async fn an_undo_that_does_not_match_its_target_or_does_not_read_changes_nothing() {
    let app = spawn_app().await;
    let saved = app.decline(json!({"number": PUSHY, "note": "kitchen"})).await;
    let cases = [
        (json!({"target": "+442079460999", "after": saved["record"]}), "after"),
        (json!({"target": "banana", "after": null}), "number"),
        (json!({"target": "pattern:(unclosed", "after": null}), "target"),
        (json!({"target": PUSHY, "after": {"target": "nonsense"}}), ""),
        (json!({"after": saved["record"]}), ""),
    ];
    for (body, field) in cases {
        let (status, refused) = app.api(Method::POST, "/declines/undo", Some(body.clone())).await;
        assert_eq!(status, 400, "{body}: {refused}");
        if !field.is_empty() {
            assert_eq!(refused["field"], field, "{refused}");
        }
    }
    assert_eq!(listed_decline(&app).await, saved["record"], "nothing changed");
}

/// The one decline on record, as the list gives it, without its count of calls since.
async fn listed_decline(app: &TestApp) -> serde_json::Value {
    let (_, declines) = app.api(Method::GET, "/declines", None).await;
    let mut listed = declines.as_array().unwrap().first().cloned().unwrap_or_default();
    listed.as_object_mut().map(|fields| fields.remove("follow_ups"));
    listed
}
