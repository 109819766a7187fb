//! Two businesses hosted on one PostgreSQL database, and the second trying, with its own token
//! and the first's numbers and call ids, to see, change or remove anything of the first's.

use reqwest::Method;
use saidno::store::test_db::TestDb;
use serde_json::{Value, json};

use crate::helpers::hosted::{add_business, hosting, records};
use crate::helpers::*;

const LINE_A: &str = "+442079460101";
const LINE_B: &str = "+442079460202";
const NO_LINE: &str = "+442079460303";
/// A number only A declined, under a company name only A knows.
const DECLINED_BY_A: &str = "+442079460404";
const A_SECRET_COMPANY: &str = "Everest Secret Windows";
const ALLOWED_BY_A: &str = "+442079460505";
const A_CALL: &str = "CA-alpha-call";

/// Adds a business with its own name, forward target and line; returns its API token.
fn business(saidno: &Binary, name: &str, shown_as: &str, forward_to: &str, line: &str) -> String {
    add_business(saidno, name, &format!("business_name = \"{shown_as}\"\n[forward]\nto = [\"{forward_to}\"]\n"), line)
}

fn request(server: &Server, token: &str, method: Method, path: &str, body: Option<Value>) -> (u16, String) {
    // A backup the store cannot take is cut short on purpose: nothing of it was shown.
    api_at(&server.url, token, method, path, body)
}

fn read(server: &Server, token: &str, path: &str) -> Value {
    let (status, body) = request(server, token, Method::GET, path, None);
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// Waits until the business behind `token` has logged `count` calls; the bound only stops a
/// broken test.
fn logged_calls(server: &Server, token: &str, count: usize) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let calls = read(server, token, "/calls?limit=50");
        if calls.as_array().unwrap().len() >= count {
            return calls;
        }
        assert!(std::time::Instant::now() < deadline, "only {calls}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Each route of the OpenAPI description, with its path's parameters filled in with A's values.
fn routes_aimed_at_a(description: &Value, a_company: &str) -> Vec<(Method, String)> {
    let encoded = |number: &str| number.replace('+', "%2B");
    let mut routes = Vec::new();
    for (path, methods) in description["paths"].as_object().unwrap() {
        for method in methods.as_object().unwrap().keys() {
            let Ok(method) = method.to_uppercase().parse::<Method>() else { continue };
            for aimed in
                [encoded(DECLINED_BY_A), encoded(ALLOWED_BY_A), A_CALL.to_owned(), a_company.replace(' ', "%20")]
            {
                let mut filled = String::new();
                for part in path.split('/').filter(|part| !part.is_empty()) {
                    filled.push('/');
                    filled.push_str(if part.starts_with('{') { &aimed } else { part });
                }
                routes.push((method.clone(), filled));
            }
        }
    }
    routes.sort_by(|a, b| (a.0.as_str(), &a.1).cmp(&(b.0.as_str(), &b.1)));
    routes.dedup();
    routes
}

#[test]
fn business_b_with_its_own_token_can_neither_see_nor_change_anything_of_business_a() {
    let Some(database) = TestDb::new() else { return };
    let saidno = hosting(&database);
    let token_a = business(&saidno, "alpha", "Alpha Plumbing", "+442079460911", LINE_A);
    let token_b = business(&saidno, "bravo", "Bravo Roofing", "+442079460922", LINE_B);
    let server = saidno.serve();
    assert_eq!(server.get("/readyz").0, 200, "{}", server.log());

    let decline = json!({"number": DECLINED_BY_A, "company": A_SECRET_COMPANY});
    assert!(request(&server, &token_a, Method::POST, "/declines", Some(decline)).0 < 300);
    let allow = json!({"number": ALLOWED_BY_A, "name": "Alpha's supplier"});
    assert!(request(&server, &token_a, Method::POST, "/allows", Some(allow)).0 < 300);
    assert!(
        call_line_at(&server.url, A_CALL, DECLINED_BY_A, LINE_A).contains("<Hangup"),
        "A refuses its declined number"
    );
    logged_calls(&server, &token_a, 1);

    // A number A declined rings through at B, to B's phone.
    let at_b = call_line_at(&server.url, "CA-bravo-call", DECLINED_BY_A, LINE_B);
    assert!(at_b.contains("<Dial") && at_b.contains("+442079460922") && !at_b.contains("+442079460911"), "{at_b}");
    // A number that is no line is not in service, and logged by neither.
    let nowhere = call_line_at(&server.url, "CA-nowhere", "+442079460606", NO_LINE);
    assert!(!nowhere.contains("<Dial"), "{nowhere}");
    let b_calls = logged_calls(&server, &token_b, 1);
    assert!(!b_calls.to_string().contains("CA-nowhere") && !b_calls.to_string().contains(A_CALL), "{b_calls}");

    let companies = read(&server, &token_a, "/companies");
    let a_company = companies[0]["key"].as_str().unwrap_or_else(|| panic!("{companies}")).to_owned();
    let hold = json!({"held": true, "reason": "A's dispute"});
    let (status, held) = request(
        &server,
        &token_a,
        Method::PUT,
        &format!("/companies/{}/legal-hold", a_company.replace(' ', "%20")),
        Some(hold),
    );
    assert!(status < 300, "{status}: {held}");
    assert!(request(&server, &token_a, Method::POST, "/pause", Some(json!({"paused": true}))).0 < 300);

    let before = records(&server, &token_a);
    let shown = serde_json::to_string(&before).unwrap();
    assert!(shown.contains(A_SECRET_COMPANY) && shown.contains(A_CALL) && shown.contains(ALLOWED_BY_A), "{shown}");
    let description = read(&server, &token_b, "/openapi.json");
    let routes = routes_aimed_at_a(&description, &a_company);
    assert!(routes.len() > 10, "the description lists the routes: {routes:?}");
    for (method, path) in &routes {
        let body = (method != Method::GET && method != Method::DELETE)
            .then(|| json!({"number": DECLINED_BY_A, "company": "Bravo guessing", "call_sid": A_CALL, "held": false, "paused": false}));
        let (status, answer) = request(&server, &token_b, method.clone(), path, body);
        // What B named itself may come back in an error; anything else of A's may not.
        let unasked = answer.to_lowercase().replace(&a_company, "").replace(A_CALL.to_lowercase().as_str(), "");
        assert!(
            !unasked.contains(&A_SECRET_COMPANY.to_lowercase()) && !answer.contains("Alpha"),
            "{method} {path} showed A's record to B ({status}): {answer}"
        );
        assert!(!answer.contains(A_CALL) || path.contains(A_CALL), "{method} {path} showed A's call: {answer}");
    }
    let after = records(&server, &token_a);
    assert_eq!(before, after, "B's requests changed A's records");
    assert!(!server.log().contains("panicked"), "{}", server.log());
}

#[test]
fn each_token_opens_only_its_own_business_and_the_operator_s_api_only_its_own() {
    let Some(database) = TestDb::new() else { return };
    let saidno = hosting(&database);
    let token_a = business(&saidno, "alpha", "Alpha Plumbing", "+442079460911", LINE_A);
    let server = saidno.serve();
    let decline = json!({"number": DECLINED_BY_A, "company": A_SECRET_COMPANY});
    assert!(request(&server, &token_a, Method::POST, "/declines", Some(decline)).0 < 300);

    assert_eq!(request(&server, OPERATOR_TOKEN, Method::GET, "/declines", None).0, 401);
    assert_eq!(request(&server, &token_a, Method::GET, "/operator/businesses", None).0, 401);
    assert_eq!(request(&server, ADMIN_TOKEN, Method::GET, "/operator/businesses", None).0, 401);
    let default_declines = read(&server, ADMIN_TOKEN, "/declines");
    assert!(!default_declines.to_string().contains(DECLINED_BY_A), "{default_declines}");
    let (status, _) = request(&server, ADMIN_TOKEN, Method::DELETE, "/declines/%2B442079460404", None);
    assert_eq!(status, 404);
    assert!(read(&server, &token_a, "/declines").to_string().contains(A_SECRET_COMPANY));
}
