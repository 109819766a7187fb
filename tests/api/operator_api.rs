//! The operator's API over real HTTP: its own token, each route, and bad input refused with
//! nothing changed.

use std::sync::Arc;

use reqwest::Method;
use saidno::store::test_db::TestDb;
use saidno::store::{Businesses, MemoryBusinesses, PostgresDatabase};
use serde_json::{Value, json};

use crate::helpers::{ADMIN_TOKEN, OPERATOR_TOKEN, TestApp, spawn_app, spawn_operator_app};

async fn request(app: &TestApp, token: &str, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = app.http.request(method, app.url(&format!("/api/v1{path}"))).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn operator(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    request(app, OPERATOR_TOKEN, method, &format!("/operator{path}"), body).await
}

/// The businesses of a fresh PostgreSQL database, which keeps the database while the test runs;
/// without `SAIDNO_TEST_DATABASE_URL` (outside CI), businesses kept in memory.
fn businesses() -> (Option<TestDb>, Arc<dyn Businesses>) {
    match TestDb::new() {
        Some(database) => {
            let businesses = PostgresDatabase::open_with(&database.url, None).unwrap().registry();
            (Some(database), businesses)
        }
        None => (None, Arc::new(MemoryBusinesses::new(Arc::default()))),
    }
}

#[tokio::test]
async fn without_an_operator_token_the_operator_routes_answer_as_if_absent() {
    let app = spawn_app().await;
    for path in ["/operator/businesses", "/operator/lines", "/operator/businesses/acme"] {
        let (status, _) = request(&app, OPERATOR_TOKEN, Method::GET, path, None).await;
        assert_eq!(status, 404, "{path}");
        let (status, _) = request(&app, ADMIN_TOKEN, Method::GET, path, None).await;
        assert_eq!(status, 404, "{path}");
    }
    let (status, _) =
        request(&app, ADMIN_TOKEN, Method::POST, "/operator/businesses", Some(json!({ "name": "acme" }))).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn each_token_opens_only_its_own_api() {
    let (_database, businesses) = businesses();
    let app = spawn_operator_app(businesses).await;
    let (status, body) = request(&app, "not-the-token", Method::GET, "/operator/businesses", None).await;
    assert_eq!(
        (status, body["error"].as_str().unwrap()),
        (401, "a valid operator token is required (Authorization: Bearer ...)")
    );
    let (status, _) = request(&app, ADMIN_TOKEN, Method::GET, "/operator/businesses", None).await;
    assert_eq!(status, 401);
    let (status, _) = request(&app, OPERATOR_TOKEN, Method::GET, "/declines", None).await;
    assert_eq!(status, 401);
    let (status, added) = operator(&app, Method::POST, "/businesses", Some(json!({ "name": "acme" }))).await;
    assert_eq!(status, 201, "{added}");
    let business_token = added["token"].as_str().unwrap();
    let (status, _) = request(&app, business_token, Method::GET, "/operator/businesses", None).await;
    assert_eq!(status, 401);
    let (status, _) = request(&app, ADMIN_TOKEN, Method::GET, "/declines", None).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_business_is_added_shown_re_set_re_tokened_and_removed() {
    let (_database, businesses) = businesses();
    let app = spawn_operator_app(businesses.clone()).await;
    let new = json!({ "name": "acme", "settings": "business_name = \"Acme\"\n" });
    let (status, added) = operator(&app, Method::POST, "/businesses", Some(new)).await;
    assert_eq!(status, 201, "{added}");
    assert_eq!(added["token"].as_str().unwrap().len(), 43);
    assert_eq!(added["business"]["name"], "acme");
    let kept = businesses.business_named(&"acme".to_owned().try_into().unwrap()).await.unwrap().unwrap();
    assert_eq!(kept.token_sha256, Some(saidno::service::token_sha256(added["token"].as_str().unwrap())));

    let (status, listed) = operator(&app, Method::GET, "/businesses", None).await;
    assert_eq!(status, 200);
    let names: Vec<&str> = listed.as_array().unwrap().iter().map(|b| b["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["default", "acme"]);

    let settings = "[hours]\nenabled = true\n";
    let (status, replaced) =
        operator(&app, Method::PUT, "/businesses/acme", Some(json!({ "settings": settings }))).await;
    assert_eq!((status, replaced["settings"].as_str().unwrap()), (200, settings));
    let (status, shown) = operator(&app, Method::GET, "/businesses/acme", None).await;
    assert_eq!((status, shown["settings"].as_str().unwrap()), (200, settings));

    let (status, renewed) = operator(&app, Method::POST, "/businesses/acme/token", None).await;
    assert_eq!(status, 200);
    assert_ne!(renewed["token"], added["token"]);
    let kept = businesses.business(kept.id).await.unwrap().unwrap();
    assert_eq!(kept.token_sha256, Some(saidno::service::token_sha256(renewed["token"].as_str().unwrap())));

    let (status, removed) = operator(&app, Method::DELETE, "/businesses/acme", None).await;
    assert_eq!((status, removed["name"].as_str().unwrap()), (200, "acme"));
    let (status, _) = operator(&app, Method::GET, "/businesses/acme", None).await;
    assert_eq!(status, 404);
    let (status, _) = operator(&app, Method::DELETE, "/businesses/acme", None).await;
    assert_eq!(status, 404);
    let (status, body) = operator(&app, Method::DELETE, "/businesses/default", None).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(operator(&app, Method::GET, "/businesses/default", None).await.0, 200);
}

#[tokio::test]
async fn a_bad_name_a_taken_name_or_settings_a_business_may_not_have_change_nothing() {
    let (_database, businesses) = businesses();
    let app = spawn_operator_app(businesses).await;
    let refused = [
        (json!({ "name": "Acme Plumbing" }), "name", "lower-case letters"),
        (json!({ "name": "acme", "settings": "[refusal]\nmesage = \"Go\"\n" }), "settings", "did you mean `message`?"),
        (
            json!({ "name": "acme", "settings": "listen = \"0.0.0.0:80\"\n" }),
            "settings",
            "`listen` at line 1 is the deployment's setting",
        ),
        (
            json!({ "name": "acme", "settings": "[forward]\nring_timeout_secs = 1\n" }),
            "settings",
            "must be between 5 and 600",
        ),
        (json!({ "name": "acme", "settings": "[forward" }), "settings", "not valid TOML"),
        (json!({ "settings": "" }), "", "name"),
    ];
    for (body, field, words) in refused {
        let (status, error) = operator(&app, Method::POST, "/businesses", Some(body.clone())).await;
        assert_eq!(status, 400, "{body}: {error}");
        if !field.is_empty() {
            assert_eq!(error["field"], field, "{error}");
        }
        assert!(error["error"].as_str().unwrap().contains(words), "{body}: {error}");
    }
    let (_, listed) = operator(&app, Method::GET, "/businesses", None).await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");

    assert_eq!(operator(&app, Method::POST, "/businesses", Some(json!({ "name": "acme" }))).await.0, 201);
    let (status, error) = operator(&app, Method::POST, "/businesses", Some(json!({ "name": "acme" }))).await;
    assert_eq!((status, error["field"].as_str().unwrap()), (400, "name"));
    let bad = json!({ "settings": "[hours]\nmonday = \"17:00-09:00\"\n" });
    let (status, error) = operator(&app, Method::PUT, "/businesses/acme", Some(bad)).await;
    assert_eq!((status, error["field"].as_str().unwrap()), (400, "settings"), "{error}");
    let (_, shown) = operator(&app, Method::GET, "/businesses/acme", None).await;
    assert_eq!(shown["settings"], "");
    let (status, _) = operator(&app, Method::GET, "/businesses/Not%20A%20Name", None).await;
    assert_eq!(status, 400);
    let (status, _) = operator(&app, Method::PUT, "/businesses/nobody", Some(json!({ "settings": "" }))).await;
    assert_eq!(status, 404);
    let (status, _) = operator(&app, Method::POST, "/businesses/nobody/token", None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_line_is_one_business_s_and_a_bad_or_taken_number_is_refused() {
    let (_database, businesses) = businesses();
    let app = spawn_operator_app(businesses).await;
    for name in ["acme", "bolt"] {
        assert_eq!(operator(&app, Method::POST, "/businesses", Some(json!({ "name": name }))).await.0, 201);
    }
    let line = json!({ "number": "020 7946 0123", "business": "acme" });
    let (status, added) = operator(&app, Method::POST, "/lines", Some(line.clone())).await;
    assert_eq!((status, added), (201, json!({ "number": "+442079460123", "business": "acme" })));
    let (status, _) =
        operator(&app, Method::POST, "/lines", Some(json!({ "number": "+442079460123", "business": "acme" }))).await;
    assert_eq!(status, 201, "adding a business's own line again is fine");
    let (status, error) =
        operator(&app, Method::POST, "/lines", Some(json!({ "number": "+442079460123", "business": "bolt" }))).await;
    assert_eq!((status, error["field"].as_str().unwrap()), (400, "number"));
    assert!(error["error"].as_str().unwrap().contains("already a line of acme"), "{error}");
    for number in ["0800 FLOWERS", "01632 960123", ""] {
        let (status, error) =
            operator(&app, Method::POST, "/lines", Some(json!({ "number": number, "business": "bolt" }))).await;
        assert_eq!((status, error["field"].as_str().unwrap()), (400, "number"), "{number}: {error}");
    }
    let (status, _) =
        operator(&app, Method::POST, "/lines", Some(json!({ "number": "020 7946 0124", "business": "nobody" }))).await;
    assert_eq!(status, 404);
    let (status, lines) = operator(&app, Method::GET, "/lines", None).await;
    assert_eq!((status, lines), (200, json!([{ "number": "+442079460123", "business": "acme" }])));
    let (_, acme) = operator(&app, Method::GET, "/businesses/acme", None).await;
    assert_eq!(acme["lines"], json!(["+442079460123"]));

    let (status, _) = operator(&app, Method::DELETE, "/lines/not-a-number", None).await;
    assert_eq!(status, 400);
    let (status, removed) = operator(&app, Method::DELETE, "/lines/%2B442079460123", None).await;
    assert_eq!((status, removed["business"].as_str().unwrap()), (200, "acme"));
    let (status, _) = operator(&app, Method::DELETE, "/lines/%2B442079460123", None).await;
    assert_eq!(status, 404);

    operator(&app, Method::POST, "/lines", Some(line)).await;
    assert_eq!(operator(&app, Method::DELETE, "/businesses/acme", None).await.0, 200);
    let (_, lines) = operator(&app, Method::GET, "/lines", None).await;
    assert_eq!(lines, json!([]), "a removed business's lines go with it");
}

#[tokio::test]
async fn the_openapi_description_has_the_operator_s_routes_under_their_own_token() {
    let app = spawn_app().await;
    let (status, spec) = request(&app, ADMIN_TOKEN, Method::GET, "/openapi.json", None).await;
    assert_eq!(status, 200);
    let post = &spec["paths"]["/operator/businesses"]["post"];
    assert_eq!(post["security"], json!([{ "operator_token": [] }]), "{post}");
    for path in [
        "/operator/businesses/{name}",
        "/operator/businesses/{name}/token",
        "/operator/lines",
        "/operator/lines/{number}",
    ] {
        assert!(spec["paths"][path].is_object(), "{path} is not described");
    }
    assert!(spec["components"]["securitySchemes"]["operator_token"].is_object());
}
