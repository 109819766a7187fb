//! The admin API's review routes: companies, the dashboard, paging, export and import, the spec.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

impl TestApp {
    async fn api_text(&self, method: Method, path: &str, body: Option<(&str, String)>) -> (u16, String) {
        let mut request = self.http.request(method, self.url(&format!("/api/v1{path}"))).bearer_auth(ADMIN_TOKEN);
        if let Some((content_type, body)) = body {
            request = request.header("content-type", content_type).body(body);
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }
}

#[tokio::test]
async fn the_openapi_description_lists_every_api_route() {
    let app = spawn_app().await;
    let (status, spec) = app.api(Method::GET, "/openapi.json", None).await;
    assert_eq!(status, 200);
    let paths = spec["paths"].as_object().unwrap();
    let described: Vec<String> = paths
        .iter()
        .flat_map(|(path, methods)| {
            methods.as_object().unwrap().keys().map(move |m| format!("{} {path}", m.to_uppercase()))
        })
        .collect();
    for route in [
        "GET /declines",
        "POST /declines",
        "DELETE /declines/{number}",
        "POST /declines/undo",
        "GET /declines/export",
        "POST /declines/import",
        "GET /allows",
        "POST /allows",
        "DELETE /allows/{number}",
        "GET /calls",
        "GET /calls/export",
        "GET /companies",
        "GET /companies/{key}",
        "GET /companies/{key}/evidence",
        "PUT /companies/{key}/legal-hold",
        "GET /legal-holds",
        "GET /dashboard",
        "GET /check",
        "POST /check",
        "GET /pause",
        "POST /pause",
        "PUT /admin/password",
        "GET /backup",
        "GET /operator/businesses",
        "POST /operator/businesses",
        "GET /operator/businesses/{name}",
        "PUT /operator/businesses/{name}",
        "DELETE /operator/businesses/{name}",
        "POST /operator/businesses/{name}/token",
        "GET /operator/lines",
        "POST /operator/lines",
        "DELETE /operator/lines/{number}",
    ] {
        assert!(described.contains(&route.to_owned()), "{route} missing from {described:?}");
    }
    assert_eq!(described.len(), 32, "{described:?}");
    assert!(spec["components"]["schemas"]["Decline"].is_object());
    let unauthenticated = app.http.get(app.url("/api/v1/openapi.json")).send().await.unwrap();
    assert_eq!(unauthenticated.status(), 401);
}

#[tokio::test]
async fn calls_page_by_cursor_and_filter_by_number_company_and_search() {
    let app = spawn_app().await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;
    for i in 0..5 {
        app.call(&format!("CA80{i}"), "+442079460555").await;
    }
    app.call("CA810", PUSHY).await;
    let response = app.http.get(app.url("/api/v1/calls?limit=4")).bearer_auth(ADMIN_TOKEN).send().await.unwrap();
    let cursor = response.headers()["next-cursor"].to_str().unwrap().to_owned();
    let first: Vec<Value> = response.json().await.unwrap();
    assert_eq!(first.len(), 4);
    let (_, rest) = app.api(Method::GET, &format!("/calls?limit=4&before={cursor}"), None).await;
    let sids: Vec<&str> = rest.as_array().unwrap().iter().map(|c| c["call_sid"].as_str().unwrap()).collect();
    assert_eq!(sids, ["CA801", "CA800"]);

    let (_, by_company) = app.api(Method::GET, "/calls?company=everest%20WINDOWS", None).await;
    assert_eq!(by_company.as_array().unwrap().len(), 1);
    assert_eq!(by_company[0]["follow_up"], 1);
    let (_, by_number) = app.api(Method::GET, "/calls?number=020%207946%200555&decision=forward", None).await;
    assert_eq!(by_number.as_array().unwrap().len(), 5);
    let (_, searched) = app.api(Method::GET, "/calls?q=ca803", None).await;
    assert_eq!(searched[0]["call_sid"], "CA803");
    for (query, field) in [("limit=many", "limit"), ("since=yesterday", "since"), ("decision=maybe", "decision")] {
        let (status, error) = app.api(Method::GET, &format!("/calls?{query}"), None).await;
        assert_eq!((status, error["field"].as_str()), (400, Some(field)), "{query}: {error}");
    }
    let (status, error) = app.api(Method::GET, "/calls?before=xyz", None).await;
    assert_eq!((status, error["field"].as_str()), (400, Some("before")));
    let (status, error) =
        app.api(Method::GET, "/calls?since=2026-11-05T00:00:00Z&until=2026-11-01T00:00:00Z", None).await;
    assert_eq!((status, error["field"].as_str()), (400, Some("until")));
}

#[tokio::test]
async fn companies_and_their_timeline_count_follow_ups_across_numbers() {
    let app = spawn_app().await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;
    app.decline(json!({"number": "+442079460124", "company": "EVEREST windows"})).await;
    app.call("CA820", PUSHY).await;
    app.call("CA821", "+442079460124").await;
    let (_, companies) = app.api(Method::GET, "/companies", None).await;
    assert_eq!(companies[0]["name"], "Everest Windows");
    assert_eq!(companies[0]["numbers"], json!([PUSHY, "+442079460124"]));
    assert_eq!(companies[0]["follow_ups"]["count"], 2);
    let key = companies[0]["key"].as_str().unwrap().replace(' ', "%20").replace(':', "%3A");
    let (status, timeline) = app.api(Method::GET, &format!("/companies/{key}"), None).await;
    assert_eq!(status, 200);
    let sids: Vec<&str> =
        timeline["attempts"].as_array().unwrap().iter().map(|a| a["call"]["call_sid"].as_str().unwrap()).collect();
    assert_eq!(sids, ["CA821", "CA820"]);
    assert!(timeline["attempts"][0]["heard"].as_str().unwrap().contains("Everest Windows"));
    let (_, declines) = app.api(Method::GET, "/declines", None).await;
    assert!(declines.as_array().unwrap().iter().all(|d| d["follow_ups"]["count"] == 2));
    let (status, _) = app.api(Method::GET, "/companies/company%3Anobody", None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn evidence_lists_the_decline_and_every_later_attempt_with_its_details() {
    let app = spawn_app().await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows", "declined_by": "Sam", "note": "kitchen"})).await;
    let mut pairs: Vec<(&str, String)> = incoming("CA830", PUSHY);
    pairs.push(("CallerName", "EVEREST SALES".into()));
    pairs.push(("StirVerstat", "TN-Validation-Passed-A".into()));
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(app.post_signed("/twilio/voice", &pairs).await.status(), 200);
    let (status, csv) = app.api_text(Method::GET, "/companies/company%3Aeverest%20windows/evidence", None).await;
    assert_eq!(status, 200);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let get = |row: &csv::StringRecord, name: &str| row[headers.iter().position(|h| h == name).unwrap()].to_owned();
    assert_eq!(get(&rows[0], "kind"), "decline");
    assert_eq!(get(&rows[0], "declined_by"), "Sam");
    assert_eq!(get(&rows[1], "kind"), "attempt");
    assert_eq!(get(&rows[1], "number"), PUSHY);
    assert_eq!(get(&rows[1], "called"), BUSINESS_NUMBER);
    assert_eq!(get(&rows[1], "caller_name"), "EVEREST SALES");
    assert_eq!(get(&rows[1], "verstat"), "TN-Validation-Passed-A");
    assert_eq!(get(&rows[1], "call_sid"), "CA830");
    assert!(get(&rows[1], "heard").contains("Acme Plumbing"));
}

#[tokio::test]
async fn declines_round_trip_exactly_through_csv_and_json() {
    let app = spawn_app().await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows", "note": "said \"no\", twice", "mode": "reject"}))
        .await;
    app.decline(json!({"number": "+442079460124", "declined_by": "Sam"})).await;
    app.decline(json!({"number": "020 7946 01*", "company": "Rotating Ltd", "escape_hatch": true})).await;
    app.decline(json!({"pattern": "\\+23480\\d{8}", "not_before": "2099-01-01T00:00:00Z"})).await;
    app.decline(json!({"caller_name": "V\\d{15}"})).await;
    for format in ["csv", "json"] {
        let (status, exported) = app.api_text(Method::GET, &format!("/declines/export?format={format}"), None).await;
        assert_eq!(status, 200);
        let fresh = spawn_app().await;
        let (status, report) = fresh
            .api_text(
                Method::POST,
                &format!("/declines/import?format={format}"),
                Some(("text/plain", exported.clone())),
            )
            .await;
        assert_eq!(status, 200, "{report}");
        let (_, again) = fresh.api_text(Method::GET, &format!("/declines/export?format={format}"), None).await;
        assert_eq!(again, exported, "{format}");
        // The imported range is in force at once.
        assert_eq!(fresh.call("CA860", "+442079460155").await.verbs(), ["Say", "Gather", "Hangup"], "{format}");
    }
}

#[tokio::test]
async fn a_file_with_bad_rows_names_their_lines_and_imports_nothing_unless_asked() {
    let app = spawn_app().await;
    let csv = "number,company,note,declined_at,declined_by,channel,mode\n\
               +442079460123,Everest Windows,,2026-11-03T10:00:00Z,Sam,web,\n\
               +442079460124,Acme,,2026-11-03T10:00:00Z,,fax,\n\
               +442079460123,Again,,2026-11-03T10:00:00Z,,web,\n\
               +442079460125,Acme,,2026-11-03T10:00:00Z,,web,shout\n";
    let (status, body) = app.api_text(Method::POST, "/declines/import", Some(("text/csv", csv.into()))).await;
    assert_eq!(status, 400, "{body}");
    let error: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["field"], "file");
    let lines: Vec<(u64, &str)> = error["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r["field"].as_str().unwrap()))
        .collect();
    assert_eq!(lines, [(3, "channel"), (4, "number"), (5, "mode")]);
    let (_, declines) = app.api(Method::GET, "/declines", None).await;
    assert_eq!(declines, json!([]));

    let (status, body) =
        app.api_text(Method::POST, "/declines/import?skip_bad_rows=true", Some(("text/csv", csv.into()))).await;
    assert_eq!(status, 200, "{body}");
    let report: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(report["imported"], 1);
    assert_eq!(report["skipped"].as_array().unwrap().len(), 3);

    for bad in ["", "not,a,header\n1,2,3\n", "number\n\"unterminated\n"] {
        let fresh = spawn_app().await;
        let (status, body) = fresh.api_text(Method::POST, "/declines/import", Some(("text/csv", bad.into()))).await;
        assert_eq!(status, 400, "{bad:?}: {body}");
        let (_, declines) = fresh.api(Method::GET, "/declines", None).await;
        assert_eq!(declines, json!([]));
    }
    let (status, body) =
        app.api_text(Method::POST, "/declines/import?format=json", Some(("application/json", "[{".into()))).await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn the_call_log_exports_a_date_range_as_csv() {
    let app = spawn_app().await;
    app.call("CA840", PUSHY).await;
    app.call("CA841", "+442079460555").await;
    let (status, csv) = app.api_text(Method::GET, "/calls/export?since=2020-01-01T00:00:00Z", None).await;
    assert_eq!(status, 200);
    let sids: Vec<String> =
        csv::Reader::from_reader(csv.as_bytes()).records().map(|r| r.unwrap()[1].to_owned()).collect();
    assert_eq!(sids, ["CA840", "CA841"], "oldest first");
    let (_, none) = app.api_text(Method::GET, "/calls/export?until=2020-01-01T00:00:00Z", None).await;
    assert_eq!(none, "");
    let (status, _) = app.api_text(Method::GET, "/calls/export?since=soon", None).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn the_dashboard_counts_today_and_the_password_must_be_long_enough() {
    let app = spawn_app().await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;
    app.call("CA850", PUSHY).await;
    app.call("CA851", "+442079460555").await;
    let (_, dashboard) = app.api(Method::GET, "/dashboard", None).await;
    assert_eq!(dashboard["today"], json!({"forwarded": 1, "refused": 1, "other": 0}));
    assert_eq!(dashboard["days"].as_array().unwrap().len(), 30);
    assert_eq!(dashboard["top_companies"][0]["name"], "Everest Windows");

    let (status, error) = app.api(Method::PUT, "/admin/password", Some(json!({"password": "short"}))).await;
    assert_eq!((status, error["field"].as_str()), (400, Some("password")));
    let mut browser = app.browser();
    assert_eq!(browser.sign_in("short").await.status, 401);
}
