//! Hostile input through every door (the webhook, the admin API, the command line): markup,
//! awkward unicode, huge values, repeated and empty parameters, broken encodings and numbers of
//! every wrong shape. Each is refused with a clear reason and changes nothing, or is taken and
//! handled safely: stored as sent, and spoken as text, never as markup.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

/// Text that would become markup, or worse, if it were not escaped.
const MARKUP: [&str; 4] = [
    "<script>alert(1)</script>",
    "Everest\"/><Dial>+447700900666</Dial><Say>",
    "]]> & &amp; &#60; <![CDATA[<Hangup/>]]> <!-- x -->",
    "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>&e;",
];

/// Text that is awkward without being markup.
const UNICODE: [&str; 4] = [
    "\u{202E}swodniW tserevE",
    "Everest \u{200F}Windows\u{200E}",
    "Évèrést Wïndöws 🪟🔨 👩\u{200D}👩\u{200D}👧",
    "E\u{301}verest Z\u{335}\u{30C}\u{33F}algo",
];

/// Shapes a typed number must not take.
const WRONG_NUMBERS: [&str; 19] = [
    " ",
    "+",
    "+44 20 7946 0123 ext 5",
    "020 7946 0123 0123 0123",
    "٠٢٠٧٩٤٦٠١٢٣",
    "０２０ ７９４６ ０１２３",
    "020 7946 0123\u{202E}",
    "1e10",
    "0x1F",
    "*#06#",
    "020 7946 012",
    "+999 1234 5678",
    "+1 800 FLOWERS",
    "0",
    "+4420794601234567890",
    "<script>",
    "020;7946;0123",
    "020 7946 0123 🙂",
    "99999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999",
];

/// An incoming call with extra (or repeated) parameters, signed as Twilio signs it.
async fn call_with(app: &TestApp, call_id: &str, from: &str, extra: &[(&str, &str)]) -> reqwest::Response {
    let base = incoming(call_id, from);
    let mut pairs: Vec<(&str, &str)> = base.iter().map(|(name, value)| (*name, value.as_str())).collect();
    pairs.extend_from_slice(extra);
    app.post_signed("/twilio/voice", &pairs).await
}

#[tokio::test]
async fn markup_and_unicode_in_company_and_note_are_kept_as_typed_and_spoken_as_text() {
    let app = spawn_app().await;
    for (n, name) in MARKUP.iter().chain(&UNICODE).enumerate() {
        let number = format!("+4420794601{n:02}");
        let saved = app.decline(json!({"number": number, "company": name, "note": name})).await;
        assert_eq!(saved["record"]["company"], *name, "the API returns the company as typed");
        assert_eq!(saved["record"]["note"], *name);

        let twiml = app.call(&format!("CA7{n:03}"), &number).await;
        assert_eq!(twiml.verbs(), ["Say", "Hangup"], "nothing from {name:?} became a verb: {}", twiml.xml);
        let said = &twiml.text_of("Say")[0];
        assert!(said.contains(name), "{said:?} should speak {name:?} as written");
    }
    let declines = app.declines().await;
    for name in MARKUP.iter().chain(&UNICODE) {
        assert!(declines.iter().any(|d| d["company"] == *name && d["note"] == *name), "{name:?} is listed intact");
    }
    let refused = app.calls().await;
    assert_eq!(refused.len(), MARKUP.len() + UNICODE.len());
    assert!(refused.iter().all(|call| call["decision"] == "decline"));
}

#[tokio::test]
async fn a_hostile_caller_name_is_logged_intact_and_announced_as_text() {
    let app = spawn_app().await;
    for (n, name) in MARKUP.iter().chain(&UNICODE).enumerate() {
        let from = format!("+4420794605{n:02}");
        let response = call_with(&app, &format!("CA8{n:03}"), &from, &[("CallerName", name)]).await;
        assert_eq!(response.status(), 200);
        let twiml = Twiml::from_response(response).await;
        assert_eq!(twiml.verbs(), ["Dial"], "{}", twiml.xml);

        // Whoever answers hears the name the network sent (once the call is in the log), as words.
        app.calls().await;
        let url = twiml.attribute("Number", "url").unwrap();
        let leg = [("CallSid", "CA99990000000000000000000000000002"), ("From", from.as_str()), ("To", OWNER_PHONE)];
        let response = app.post_signed(&url, &leg).await;
        assert_eq!(response.status(), 200);
        let announcement = Twiml::from_response(response).await;
        assert_eq!(announcement.verbs(), ["Gather"], "{}", announcement.xml);
        let said = &announcement.text_of("Say")[0];
        assert!(said.contains(name), "{said:?} should carry {name:?}");
    }
    let calls = app.calls().await;
    for name in MARKUP.iter().chain(&UNICODE) {
        assert!(calls.iter().any(|call| call["caller_name"] == *name), "{name:?} is in the log intact");
    }
}

#[tokio::test]
async fn very_long_values_are_refused_with_the_field_named_and_nothing_kept() {
    let app = spawn_app().await;
    for (field, length) in [("company", 121), ("note", 1001), ("declined_by", 121)] {
        let mut body = json!({"number": PUSHY});
        body[field] = json!("é".repeat(length));
        let (status, error) = app.api(Method::POST, "/declines", Some(body)).await;
        assert_eq!(status, 400, "{field}: {error}");
        assert_eq!(error["field"], field, "{error}");
    }
    let (status, error) =
        app.api(Method::POST, "/allows", Some(json!({"number": PUSHY, "name": "x".repeat(121)}))).await;
    assert_eq!((status, &error["field"]), (400, &json!("name")), "{error}");

    // Facts a call can do without are left out when implausibly long; the call is still answered.
    let long = "x".repeat(513);
    for (name, value) in [("CallerName", long.as_str()), ("StirVerstat", long.as_str())] {
        let response = call_with(&app, "CA9001", "+442079460555", &[(name, value)]).await;
        assert_eq!(response.status(), 200, "{name}");
        assert!(response.text().await.unwrap().contains("<Dial"), "{name}: the call is forwarded");
    }
    let response = call_with(&app, "CA9002", &"+4".repeat(300), &[]).await;
    assert_eq!(response.status(), 400);
    let huge = format!("CallSid=CA9003&From=%2B442079460555&CallerName={}", "x".repeat(70 * 1024));
    assert_eq!(app.post_form("/twilio/voice", huge, Some("c2lnbmF0dXJl")).await.status(), 413);

    assert_eq!(app.declines().await, Vec::<Value>::new());
    assert_eq!(app.api(Method::GET, "/allows", None).await.1, json!([]));
    let calls = app.calls().await;
    assert_eq!(calls.len(), 2, "only the two answered calls are logged");
    assert!(calls.iter().all(|call| call["caller_name"].is_null() && call["verstat"].is_null()));
}

#[tokio::test]
async fn repeated_parameters_decide_on_the_first_and_empty_ones_are_read_safely() {
    let app = spawn_app().await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;

    // The first From decides and is the one logged; the signature covers both.
    let refused = call_with(&app, "CA9101", PUSHY, &[("From", "+442079460555")]).await;
    assert_eq!(Twiml::from_response(refused).await.verbs(), ["Say", "Hangup"]);
    let forwarded = call_with(&app, "CA9102", "+442079460555", &[("From", PUSHY), ("CallSid", "CA9199")]).await;
    assert_eq!(Twiml::from_response(forwarded).await.verbs(), ["Dial"]);

    // An empty From is a withheld caller; an empty caller name is no caller name.
    let withheld = call_with(&app, "CA9103", "", &[("CallerName", ""), ("StirVerstat", "")]).await;
    assert_eq!(withheld.status(), 200);
    assert_eq!(Twiml::from_response(withheld).await.verbs(), ["Dial"]);

    let calls = app.calls().await;
    let summary: Vec<(&str, &str)> =
        calls.iter().map(|c| (c["call_sid"].as_str().unwrap(), c["from"].as_str().unwrap())).collect();
    assert_eq!(summary, [("CA9103", "withheld"), ("CA9102", "+442079460555"), ("CA9101", PUSHY)]);
    assert!(calls[0]["caller_name"].is_null(), "{}", calls[0]);

    // Requests that cannot name their call are refused and leave no trace.
    for body in [
        form_body(&[("CallSid", ""), ("From", PUSHY)]),
        form_body(&[("From", PUSHY)]),
        "=CA9104&From=%2B442079460123".to_owned(),
        String::new(),
    ] {
        let pairs: Vec<(String, String)> =
            form_urlencoded::parse(body.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        let signature = saidno::provider::twilio::signature::sign(
            AUTH_TOKEN,
            &format!("{PUBLIC_URL}/twilio/voice"),
            &saidno::provider::form::Params::from_pairs(pairs),
        );
        let response = app.post_form("/twilio/voice", body.clone(), Some(&signature)).await;
        assert_eq!(response.status(), 400, "{body:?}");
        assert!(!response.text().await.unwrap().is_empty(), "{body:?} got a reason");
    }
    assert_eq!(app.calls().await.len(), 3);
}

#[tokio::test]
async fn invalid_utf8_is_refused_and_nul_bytes_are_carried_safely() {
    let app = spawn_app().await;
    for body in [&b"CallSid=CA9201&From=%2B442079460555&CallerName=%FF%FE"[..], b"CallSid=CA9202&From=\xff\xfe"] {
        let response = app.post_form("/twilio/voice", body.to_vec(), Some("c2lnbmF0dXJl")).await;
        assert_eq!(response.status(), 400);
        assert!(response.text().await.unwrap().contains("UTF-8"));
    }
    // Bytes that are not UTF-8, and an escape for half a surrogate pair, which no string can hold.
    for body in [&b"{\"number\": \"+442079460123\", \"company\": \"\xff\xfe\"}"[..], br#"{"number": "\ud800"}"#] {
        let response = app
            .http
            .post(app.url("/api/v1/declines"))
            .bearer_auth(ADMIN_TOKEN)
            .header("content-type", "application/json")
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{}", String::from_utf8_lossy(body));
    }
    assert_eq!(app.declines().await, Vec::<Value>::new());

    // NUL in a caller name: the call is answered, the log keeps it, the markup stays well formed.
    let response = call_with(&app, "CA9203", "+442079460555", &[("CallerName", "\0Everest\0<b>")]).await;
    assert_eq!(response.status(), 200);
    assert_eq!(Twiml::from_response(response).await.verbs(), ["Dial"]);
    assert_eq!(app.calls().await[0]["caller_name"], "\0Everest\0<b>");

    // NUL in a company: folded away like any other control character, and refused callers hear
    // the rest.
    let saved = app.decline(json!({"number": PUSHY, "company": "Ever\u{0}est\u{0}"})).await;
    assert_eq!(saved["record"]["company"], "Ever est");
    assert!(app.call("CA9204", PUSHY).await.text_of("Say")[0].contains("Ever est"));
}

#[tokio::test]
async fn numbers_of_every_wrong_shape_are_refused_by_the_api_and_forwarded_by_the_webhook() {
    let app = spawn_app().await;
    for (n, wrong) in WRONG_NUMBERS.iter().chain(&[""]).enumerate() {
        for path in ["/declines", "/allows"] {
            let (status, error) = app.api(Method::POST, path, Some(json!({"number": wrong}))).await;
            assert_eq!(status, 400, "{path} {wrong:?}: {error}");
            assert!(error["error"].as_str().is_some_and(|e| !e.is_empty()), "{wrong:?}: {error}");
        }
        let encoded: String = form_urlencoded::byte_serialize(wrong.as_bytes()).collect();
        // A preview takes any number of a possible length (as `--force` does), and nothing else.
        let (status, preview) = app.api(Method::GET, &format!("/check?number={encoded}"), None).await;
        assert!(status == 400 || (status == 200 && preview["decision"] == "forward"), "check {wrong:?}: {preview}");
        let (status, _) = app.api(Method::DELETE, &format!("/declines/{}", encoded.replace('+', "%20")), None).await;
        assert!(status == 400 || status == 404 || status == 405, "removing {wrong:?} gave {status}");

        // A provider never sends such a From; if one came, the call still rings through.
        let response = call_with(&app, &format!("CA93{n:02}"), wrong, &[]).await;
        assert_eq!(response.status(), 200, "{wrong:?}");
        assert_eq!(Twiml::from_response(response).await.verbs(), ["Dial"], "{wrong:?}");
    }
    assert_eq!(app.declines().await, Vec::<Value>::new());
    assert_eq!(app.api(Method::GET, "/allows", None).await.1, json!([]));
    assert_eq!(app.calls().await.len(), WRONG_NUMBERS.len() + 1);
}

#[tokio::test]
async fn forgiving_shapes_of_a_real_number_are_read_as_that_number() {
    let app = spawn_app().await;
    for typed in ["++442079460123", "+44 (0) 20 7946 0123", "(020) 7946-0123", "00 44 20 7946 0123", " 020.7946.0123 "]
    {
        let saved = app.decline(json!({"number": typed})).await;
        assert_eq!(saved["record"]["number"], PUSHY, "{typed:?}");
    }
    assert_eq!(app.declines().await.len(), 1, "one number, declined five times over");
}

#[test]
fn the_command_line_refuses_wrong_numbers_and_broken_text_and_changes_nothing() {
    use std::os::unix::ffi::OsStrExt;

    let saidno = Binary::new("");
    for wrong in WRONG_NUMBERS.iter().chain(&[""]) {
        for command in [["decline", "add"], ["allow", "add"]] {
            let output = saidno.command().args(command).arg("--").arg(wrong).output().unwrap();
            assert_eq!(output.status.code(), Some(2), "{command:?} {wrong:?}");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(stderr.trim().lines().count(), 1, "{command:?} {wrong:?}: {stderr}");
        }
    }
    let not_utf8 = std::ffi::OsStr::from_bytes(b"Everest \xff\xfe");
    let output =
        saidno.command().args(["decline", "add", "020 7946 0123", "--company"]).arg(not_utf8).output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", String::from_utf8_lossy(&output.stderr));

    assert_eq!(saidno.json(&["decline", "list", "--json"]), json!([]));
    assert_eq!(saidno.json(&["allow", "list", "--json"]), json!([]));
}
