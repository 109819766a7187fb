//! One deployment serving several businesses on one PostgreSQL database: each call reaches the
//! business whose line it called, each callback the business its address names, each owner their
//! own records; a call to a number that is no line is not in service; and a business or line added
//! at one server routes calls at every other. Waits poll with a generous overall bound, which only
//! stops a broken test.

use std::time::Instant;

use reqwest::Method;
use saidno::provider::twilio::signature::sign;
use saidno::store::test_db::TestDb;
use serde_json::json;

use crate::helpers::hosted::{add_business, api, hosting, logged, set_business_password};
use crate::helpers::*;
use crate::postgres_instances::{GIVE_UP_AFTER, forwarded, refused};

const ACME_LINE: &str = "+442079460100";
const BRAVO_LINE: &str = "+442079460200";
const ACME_PHONE: &str = "+442079460111";

fn post_signed(url: &str, path: &str, pairs: &[(&str, &str)]) -> (u16, String) {
    post_signed_to(url, path, pairs)
}

fn call_line(server: &Server, call_id: &str, from: &str, line: &str) -> String {
    call_line_at(&server.url, call_id, from, line)
}

#[test]
fn each_call_reaches_the_business_whose_line_it_called_and_a_call_to_no_line_is_not_in_service() {
    let Some(database) = TestDb::new() else { return };
    let saidno = hosting(&database);
    let acme = add_business(
        &saidno,
        "acme",
        &format!("business_name = \"Acme Heating\"\n[forward]\nto = [\"{ACME_PHONE}\"]\n"),
        ACME_LINE,
    );
    let bravo = add_business(&saidno, "bravo", "business_name = \"Bravo Bakery\"\n", BRAVO_LINE);
    let server = saidno.serve();

    let (status, saved) =
        api(&server, &acme, Method::POST, "/declines", Some(json!({"number": PUSHY, "company": "Everest"})));
    assert!((200..300).contains(&status), "{status}: {saved}");

    let at_acme = call_line(&server, "CA-acme", PUSHY, ACME_LINE);
    assert!(refused(&at_acme) && at_acme.contains("this is Acme Heating"), "Acme's refusal: {at_acme}");
    // Bravo never said no to Everest: the same caller rings Bravo's phones (the deployment's).
    let at_bravo = call_line(&server, "CA-bravo", PUSHY, BRAVO_LINE);
    assert!(forwarded(&at_bravo) && at_bravo.contains(OWNER_PHONE), "Bravo's forward: {at_bravo}");
    assert!(at_bravo.contains("action=\"/b/bravo/twilio/dial-status\""), "Bravo's callbacks: {at_bravo}");
    let unknown_caller = call_line(&server, "CA-acme-2", "+442079460555", ACME_LINE);
    assert!(unknown_caller.contains(ACME_PHONE) && !unknown_caller.contains(OWNER_PHONE), "{unknown_caller}");
    let no_line = call_line(&server, "CA-nowhere", PUSHY, "+442079460300");
    assert!(no_line.contains("is not in service") && refused(&no_line), "{no_line}");

    assert_eq!(logged(&server, &acme, 2), ["CA-acme-2", "CA-acme"]);
    assert_eq!(logged(&server, &bravo, 1), ["CA-bravo"]);
    // The call to no line is the operator's to see, in the default business's log.
    assert_eq!(logged(&server, ADMIN_TOKEN, 1), ["CA-nowhere"]);
}

#[test]
fn a_callback_under_a_business_address_completes_that_business_call() {
    let Some(database) = TestDb::new() else { return };
    let saidno = hosting(&database);
    let bravo = add_business(&saidno, "bravo", "", BRAVO_LINE);
    let server = saidno.serve();
    assert!(forwarded(&call_line(&server, "CA-1", PUSHY, BRAVO_LINE)));
    logged(&server, &bravo, 1);

    let path = "/b/bravo/twilio/dial-status";
    let ended = [("CallSid", "CA-1"), ("DialCallStatus", "completed"), ("DialCallDuration", "42")];
    let (status, answer) = post_signed(&server.url, path, &ended);
    assert_eq!(status, 200, "{answer}");
    let deadline = Instant::now() + GIVE_UP_AFTER;
    loop {
        let (_, calls) = api(&server, &bravo, Method::GET, "/calls", None);
        if calls[0]["outcome"]["duration_secs"] == 42 {
            break;
        }
        assert!(Instant::now() < deadline, "the outcome never reached Bravo's log: {calls}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // An address naming no business is not served, and one signed for another address is refused.
    assert_eq!(post_signed(&server.url, "/b/nobody/twilio/dial-status", &ended).0, 404);
    let signature = sign(AUTH_TOKEN, &format!("{PUBLIC_URL}/twilio/dial-status"), &params(&ended));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let status = runtime.block_on(async {
        saidno::tls::client()
            .post(format!("{}{path}", server.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-twilio-signature", signature)
            .body(form_body(&ended))
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 403);
}

#[test]
fn a_business_and_its_line_added_at_one_server_route_calls_at_the_other() {
    let Some(database) = TestDb::new() else { return };
    let (first, second) = (hosting(&database), hosting(&database));
    let (a, b) = (first.serve(), second.serve());

    let (status, added) = api(
        &a,
        OPERATOR_TOKEN,
        Method::POST,
        "/operator/businesses",
        Some(json!({"name": "acme", "settings": format!("[forward]\nto = [\"{ACME_PHONE}\"]\n")})),
    );
    assert!((200..300).contains(&status), "{status}: {added}");
    let acme = added["token"].as_str().unwrap().to_owned();
    let (status, line) = api(
        &a,
        OPERATOR_TOKEN,
        Method::POST,
        "/operator/lines",
        Some(json!({"number": ACME_LINE, "business": "acme"})),
    );
    assert!((200..300).contains(&status), "{status}: {line}");
    // The server that acknowledged it routes the next call at once.
    assert!(call_line(&a, "CA-a", "+442079460555", ACME_LINE).contains(ACME_PHONE));

    let deadline = Instant::now() + GIVE_UP_AFTER;
    while !call_line(&b, "CA-b", "+442079460555", ACME_LINE).contains(ACME_PHONE) {
        assert!(Instant::now() < deadline, "the other server never routed the new line");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // A decline through the business's own token at one server refuses its next call at the other.
    let (status, _) = api(&a, &acme, Method::POST, "/declines", Some(json!({"number": PUSHY})));
    assert!((200..300).contains(&status));
    let deadline = Instant::now() + GIVE_UP_AFTER;
    while !refused(&call_line(&b, "CA-b2", PUSHY, ACME_LINE)) {
        assert!(Instant::now() < deadline, "the decline never reached the other server");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // Removing the line at the other server leaves the number not in service at the first.
    let (status, _) = api(&b, OPERATOR_TOKEN, Method::DELETE, &format!("/operator/lines/{ACME_LINE}"), None);
    assert_eq!(status, 200);
    let deadline = Instant::now() + GIVE_UP_AFTER;
    while !call_line(&a, "CA-a2", PUSHY, ACME_LINE).contains("is not in service") {
        assert!(Instant::now() < deadline, "the removed line still routes at the first server");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn an_owner_signs_in_naming_their_business_and_sees_only_its_calls() {
    let Some(database) = TestDb::new() else { return };
    let saidno = hosting(&database);
    add_business(&saidno, "acme", "", ACME_LINE);
    add_business(&saidno, "bravo", "", BRAVO_LINE);
    set_business_password(&saidno, "acme", PASSWORD);
    let server = saidno.serve();
    call_line(&server, "CA-for-acme", PUSHY, ACME_LINE);
    call_line(&server, "CA-for-bravo", PUSHY, BRAVO_LINE);

    let (status, page) = server.get("/login");
    assert_eq!(status, 200);
    assert!(page.contains("name=\"business\""), "the sign-in asks which business: {page}");

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let sign_in = |business: &'static str| {
            http.post(format!("{}/login", server.url)).form(&[("business", business), ("password", PASSWORD)]).send()
        };
        assert_eq!(sign_in("bravo").await.unwrap().status(), 401, "Acme's password is not Bravo's");
        let signed_in = sign_in("acme").await.unwrap();
        assert_eq!(signed_in.status(), 303);
        let cookies: Vec<String> = signed_in
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|value| value.to_str().unwrap().split(';').next().unwrap().to_owned())
            .collect();
        let cookie = cookies.join("; ");
        assert!(cookie.contains("saidno_business=acme"), "{cookie}");
        let deadline = Instant::now() + GIVE_UP_AFTER;
        let calls = loop {
            let page = http.get(format!("{}/calls", server.url)).header("cookie", &cookie).send().await.unwrap();
            assert_eq!(page.status(), 200);
            let page = page.text().await.unwrap();
            if page.contains("CA-for-acme") || Instant::now() > deadline {
                break page;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        };
        assert!(calls.contains("CA-for-acme") && !calls.contains("CA-for-bravo"), "{calls}");
        // The same session presented as Bravo's is no session of Bravo's.
        let swapped = cookie.replace("saidno_business=acme", "saidno_business=bravo");
        let page = http.get(format!("{}/calls", server.url)).header("cookie", swapped).send().await.unwrap();
        assert_eq!(page.status(), 303);
    });
}

#[test]
fn a_server_started_without_its_database_forwards_each_call_to_its_business_phones_from_the_kept_copy() {
    let Some(database) = TestDb::new() else { return };
    let saidno = hosting(&database);
    add_business(&saidno, "acme", &format!("[forward]\nto = [\"{ACME_PHONE}\"]\n"), ACME_LINE);
    let mut server = saidno.serve();
    assert_eq!(server.get("/readyz").0, 200);
    server.terminate();

    // The same server, its database now out of reach (nothing listens on port 1).
    let config = std::fs::read_to_string(saidno.config_path()).unwrap();
    std::fs::write(saidno.config_path(), config.replace(&database.url, "postgres://postgres@127.0.0.1:1/gone"))
        .unwrap();
    let server = saidno.serve();
    assert_eq!(server.get("/readyz").0, 503);
    let at_acme = call_line(&server, "CA-1", PUSHY, ACME_LINE);
    assert!(forwarded(&at_acme) && at_acme.contains(ACME_PHONE) && !at_acme.contains(OWNER_PHONE), "{at_acme}");
    let no_line = call_line(&server, "CA-2", PUSHY, "+442079460300");
    assert!(no_line.contains("is not in service"), "{no_line}");
}
