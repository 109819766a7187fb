//! The web page, driven as a browser drives it: sign-in, each page, each action, and the refusals.

use serde_json::json;

use crate::helpers::*;

const PAGES: [&str; 11] = [
    "/",
    "/calls",
    "/companies",
    "/companies/company%3Aeverest%20windows",
    "/companies/company%3Aeverest%20windows/evidence",
    "/allows",
    "/check?number=%2B442079460123",
    "/transfer",
    "/transfer/declines.csv",
    "/settings",
    "/declines/remove?target=%2B442079460123",
];

#[tokio::test]
async fn no_page_opens_without_signing_in() {
    let app = spawn_app().await;
    app.set_password().await;
    let browser = app.browser();
    for path in PAGES {
        let page = browser.get(path).await;
        assert_eq!(page.status, 303, "{path}");
        assert_eq!(page.location.as_deref(), Some("/login"), "{path}");
    }
    let login = browser.get("/login").await;
    assert_eq!(login.status, 200);
    assert_eq!(login.attributes("input[name=password]", "type"), ["password"]);
}

#[tokio::test]
async fn a_form_posted_without_a_session_changes_nothing() {
    let app = spawn_app().await;
    app.set_password().await;
    let browser = app.browser();
    let page = browser.post("/calls/decline", &[("number", PUSHY), ("company", "Everest Windows")]).await;
    assert_eq!(page.location.as_deref(), Some("/login"));
    let page = browser.post("/allows", &[("number", PUSHY), ("name", "Mum")]).await;
    assert_eq!(page.location.as_deref(), Some("/login"));
    let (_, declines) = app.api(reqwest::Method::GET, "/declines", None).await;
    assert_eq!(declines, json!([]));
    let (_, allows) = app.api(reqwest::Method::GET, "/allows", None).await;
    assert_eq!(allows, json!([]));
}

#[tokio::test]
async fn signing_in_sets_a_strict_http_only_secure_cookie() {
    let app = spawn_app().await;
    app.set_password().await;
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(app.url("/login"))
        .form(&[("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/");
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("saidno_session="), "{cookie}");
    for flag in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
        assert!(cookie.contains(flag), "{cookie} lacks {flag}");
    }
}

#[tokio::test]
async fn over_plain_http_the_cookie_is_not_marked_secure() {
    let app = spawn_app_with(|s| s.public_url = String::new()).await;
    app.set_password().await;
    let mut browser = app.browser();
    browser.sign_in(PASSWORD).await;
    assert!(browser.cookie.is_some());
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(app.url("/login"))
        .form(&[("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(!response.headers()["set-cookie"].to_str().unwrap().contains("Secure"));
}

#[tokio::test]
async fn a_wrong_password_is_refused_and_gives_no_session() {
    let app = spawn_app().await;
    app.set_password().await;
    let mut browser = app.browser();
    let page = browser.sign_in("not the password").await;
    assert_eq!(page.status, 401);
    assert!(page.text_of("#error").contains("not the password"));
    assert!(browser.cookie.is_none());
    assert_eq!(browser.get("/calls").await.location.as_deref(), Some("/login"));
}

#[tokio::test]
async fn without_a_password_set_nobody_can_sign_in() {
    let app = spawn_app().await;
    let mut browser = app.browser();
    assert!(browser.get("/login").await.text_of(".banner").contains("saidno admin set-password"));
    assert_eq!(browser.sign_in("").await.status, 401);
    assert_eq!(browser.sign_in("anything at all").await.status, 401);
}

#[tokio::test]
async fn repeated_wrong_passwords_lock_the_address_out_for_a_while() {
    let app = spawn_app().await;
    app.set_password().await;
    let mut browser = app.browser();
    for _ in 0..5 {
        assert_eq!(browser.sign_in("guess").await.status, 401);
    }
    let page = browser.sign_in(PASSWORD).await;
    assert_eq!(page.status, 429);
    assert!(browser.cookie.is_none());
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_lock_out_falls_on_the_visitor_not_on_everyone() {
    let app = spawn_app_with(|s| s.http.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]).await;
    app.set_password().await;
    let mut guesser = app.browser();
    guesser.forwarded_for = Some("203.0.113.9".into());
    for _ in 0..5 {
        assert_eq!(guesser.sign_in("guess").await.status, 401);
    }
    assert_eq!(guesser.sign_in(PASSWORD).await.status, 429);
    // The owner, through the same proxy from elsewhere, still gets in.
    let mut owner = app.browser();
    owner.forwarded_for = Some("198.51.100.20".into());
    assert_eq!(owner.sign_in(PASSWORD).await.status, 303);
    // Claiming a fresh address does not get the guesser out of the lock-out: the proxy appends
    // the address it really saw, and that one is counted.
    guesser.forwarded_for = Some("192.0.2.1, 203.0.113.9".into());
    assert_eq!(guesser.sign_in(PASSWORD).await.status, 429);
}

#[tokio::test]
async fn without_trusted_proxies_a_forwarded_for_header_does_not_escape_the_lock_out() {
    let app = spawn_app().await;
    app.set_password().await;
    let mut browser = app.browser();
    for attempt in 0..5 {
        browser.forwarded_for = Some(format!("203.0.113.{attempt}"));
        assert_eq!(browser.sign_in("guess").await.status, 401);
    }
    browser.forwarded_for = Some("198.51.100.20".into());
    assert_eq!(browser.sign_in(PASSWORD).await.status, 429);
}

#[tokio::test]
async fn the_sign_in_page_names_the_business() {
    let app = spawn_app().await;
    let page = app.browser().get("/login").await;
    assert!(page.text_of("#business").contains("Acme Plumbing"), "{}", page.text);
    assert!(page.text_of("title").contains("Acme Plumbing"));
}

#[tokio::test]
async fn a_cross_site_form_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let browser = app.signed_in().await;
    let page = browser
        .post_from("/calls/decline", &[("number", PUSHY), ("company", "Everest Windows")], "https://evil.example")
        .await;
    assert_eq!(page.status, 403);
    let (_, declines) = app.api(reqwest::Method::GET, "/declines", None).await;
    assert_eq!(declines, json!([]));
    // A forged sign-in is refused too.
    let mut stranger = app.browser();
    let response = reqwest::Client::new()
        .post(app.url("/login"))
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .form(&[("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    stranger.cookie = None;
}

#[tokio::test]
async fn while_paused_every_page_says_so_and_resume_puts_blocking_back_where_the_owner_was() {
    let app = spawn_app().await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;
    let browser = app.signed_in().await;
    assert!(browser.get("/calls").await.texts("#paused").is_empty(), "no banner while blocking");
    let (status, _) = app.api(reqwest::Method::POST, "/pause", Some(json!({"paused": true}))).await;
    assert_eq!(status, 200);
    for page in
        ["/", "/calls", "/companies", "/allows", "/check", "/transfer", "/companies/company%3Aeverest%20windows"]
    {
        let shown = browser.get(page).await;
        assert!(shown.text_of("#paused").contains("every call rings through"), "{page}: {}", shown.text);
    }
    assert_eq!(app.call("CA900", PUSHY).await.verbs(), ["Dial"], "the banner tells the truth");

    let resumed = browser.post_on("/calls?decision=forward", "/resume", &[]).await;
    assert_eq!(resumed.location.as_deref(), Some("/calls?decision=forward"));
    assert!(browser.get("/calls").await.texts("#paused").is_empty());
    assert_eq!(app.call("CA901", PUSHY).await.verbs(), ["Say", "Hangup"]);
}

#[tokio::test]
async fn a_refused_customer_is_let_through_from_their_row_and_the_undo_puts_the_refusal_back() {
    let app = spawn_app().await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;
    app.call("CA800", PUSHY).await;
    let browser = app.signed_in().await;
    let calls = browser.get("/calls").await;
    assert_eq!(calls.attributes("tr.call form.allow input[name=number]", "value"), [PUSHY]);

    let allowed = browser.post("/calls/allow", &[("number", PUSHY)]).await;
    let back = allowed.location.unwrap();
    assert_eq!(back, "/calls?allowed=%2B442079460123");
    let page = browser.get(&back).await;
    let banner = page.text_of("#allowed");
    assert!(banner.starts_with("Allowed +442079460123"), "{banner}");
    assert!(page.attributes("tr.call form.allow input[name=number]", "value").is_empty(), "not offered twice");
    assert_eq!(page.text_of("tr.call[data-sid=CA800] .allowed-since"), "now allowed: rings through");
    let next = app.call("CA801", PUSHY).await;
    assert_eq!(next.verbs(), ["Dial"], "the banner's promise holds: {}", next.xml);

    let undone = browser.post_on(&back, "/allows/undo", &[("number", PUSHY)]).await;
    let banner = browser.get(undone.location.as_deref().unwrap()).await.text_of("#undone");
    assert!(banner.starts_with("Undone: +442079460123 is no longer allowed."), "{banner}");
    assert!(banner.contains("Their next call: refused: Everest Windows"), "{banner}");
    assert_eq!(app.call("CA802", PUSHY).await.verbs(), ["Say", "Hangup"]);
    assert!(browser.get("/allows").await.texts("tr.allow").is_empty());
    let calls = browser.get("/calls").await;
    assert_eq!(calls.attributes("tr.call[data-sid=CA800] form.allow input[name=number]", "value"), [PUSHY]);
    let again = browser.post("/allows/undo", &[("number", PUSHY)]).await;
    assert_eq!(again.status, 404, "one Undo per allow");
}

#[tokio::test]
async fn undoing_an_allow_that_replaced_a_spent_one_puts_the_spent_one_back_exactly() {
    let app = spawn_app().await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;
    let (status, _) =
        app.api(reqwest::Method::POST, "/allows", Some(json!({"number": PUSHY, "name": "Dave", "once": true}))).await;
    assert_eq!(status, 201);
    assert_eq!(app.call("CA810", PUSHY).await.verbs(), ["Dial"], "the single use is spent");
    let (_, spent) = app.api(reqwest::Method::GET, "/allows", None).await;
    assert!(spent[0]["used_at"].is_string(), "{spent}");

    let browser = app.signed_in().await;
    let allowed = browser.post("/calls/allow", &[("number", PUSHY)]).await;
    let banner = browser.get(allowed.location.as_deref().unwrap()).await;
    assert!(banner.text_of("#allowed").starts_with("Updated the allow of +442079460123"), "{}", banner.text);
    assert_eq!(
        banner.attributes("#allowed form", "action"),
        ["/allows/undo"],
        "the replaced allow can be brought back"
    );
    assert_eq!(app.call("CA811", PUSHY).await.verbs(), ["Dial"]);

    let undone = browser.post("/allows/undo", &[("number", PUSHY)]).await;
    let banner = browser.get(undone.location.as_deref().unwrap()).await.text_of("#undone");
    assert!(banner.contains("the allow of +442079460123 is back as it was (Dave, always, once (used "), "{banner}");
    let (_, restored) = app.api(reqwest::Method::GET, "/allows", None).await;
    assert_eq!(restored, spent, "the allow is exactly as it was before");
    assert_eq!(app.call("CA812", PUSHY).await.verbs(), ["Say", "Hangup"], "the spent allow lets nothing through");
}

#[tokio::test]
async fn an_allow_undo_never_touches_an_allow_the_page_did_not_make() {
    let app = spawn_app().await;
    let (status, _) = app.api(reqwest::Method::POST, "/allows", Some(json!({"number": PUSHY, "name": "Mum"}))).await;
    assert_eq!(status, 201);
    let browser = app.signed_in().await;
    let undone = browser.post("/allows/undo", &[("number", PUSHY)]).await;
    assert_eq!(undone.status, 404);
    assert!(undone.text_of("#error").contains("no allow of +442079460123 from this page to undo"), "{}", undone.text);
    let (_, allows) = app.api(reqwest::Method::GET, "/allows", None).await;
    assert_eq!(allows[0]["name"], "Mum");
}

#[tokio::test]
async fn a_number_that_has_not_called_yet_is_declined_from_test_a_number_and_from_companies() {
    let app = spawn_app().await;
    let browser = app.signed_in().await;
    let tested = browser.get("/check?number=020+7946+0777").await;
    assert_eq!(tested.text_of("#decision"), "forward");
    assert_eq!(tested.attributes("form#decline input[name=number]", "value"), ["+442079460777"]);
    let declined = browser.post("/calls/decline", &[("number", "+442079460777"), ("company", "Acme Leads")]).await;
    assert_eq!(declined.status, 303);
    let retested = browser.get("/check?number=020+7946+0777").await;
    assert_eq!(retested.text_of("#decision"), "decline");
    assert!(retested.texts("form#decline").is_empty(), "a refused number is not offered again");

    let companies = browser.get("/companies").await;
    assert_eq!(companies.attributes("#decline-new input[name=number]", "required"), [""]);
    assert_eq!(companies.attributes("datalist#company-names option", "value"), ["Acme Leads"]);
    let added = [("number", "020 7946 0778"), ("company", "acme  leads"), ("note", "same script")];
    assert_eq!(browser.post("/calls/decline", &added).await.status, 303);
    let companies = browser.get("/companies").await;
    assert_eq!(companies.texts("tr.company td a"), ["Acme Leads"], "joined under the name first given");
    assert!(companies.text_of("tr.company").contains("+442079460777, +442079460778"));
    assert_eq!(app.call("CA950", "+442079460778").await.verbs(), ["Say", "Hangup"]);
}

#[tokio::test]
async fn the_dashboard_names_unknown_numbers_that_keep_calling_with_a_decline_beside_each() {
    let app = spawn_app().await;
    app.api(reqwest::Method::POST, "/allows", Some(json!({"number": "+442079460600", "name": "Mum"}))).await;
    for i in 0..3 {
        app.call(&format!("CA96{i}"), "+442079460555").await;
        app.call(&format!("CA97{i}"), "+442079460600").await;
    }
    app.call("CA980", "+442079460556").await;
    app.call("CA981", "+442079460556").await;
    let browser = app.signed_in().await;
    let dashboard = browser.get("/").await;
    assert_eq!(
        dashboard.texts("tr.repeat-caller .number"),
        ["020 7946 0555"],
        "a contact and a twice-caller are not named"
    );
    assert_eq!(dashboard.text_of("tr.repeat-caller .summary"), "called 3 times in one day, never declined");
    let form = dashboard.attributes("tr.repeat-caller form.decline input[name=number]", "value");
    assert_eq!(form, ["+442079460555"]);
    assert_eq!(
        browser.post("/calls/decline", &[("number", "+442079460555"), ("company", "Acme Leads")]).await.status,
        303
    );
    assert!(
        browser.get("/").await.text_of("#no-repeats").contains("No unknown number"),
        "declined, so no longer unknown"
    );
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let app = spawn_app().await;
    let browser = app.signed_in().await;
    assert_eq!(browser.get("/calls").await.status, 200);
    assert_eq!(browser.post("/logout", &[]).await.location.as_deref(), Some("/login"));
    assert_eq!(browser.get("/calls").await.location.as_deref(), Some("/login"));
}

#[tokio::test]
async fn a_forwarded_call_is_declined_from_the_log_and_can_be_undone() {
    let app = spawn_app().await;
    app.decline(json!({"number": "+442079460124", "company": "Everest Windows"})).await;
    app.call("CA300", PUSHY).await;
    let browser = app.signed_in().await;

    let calls = browser.get("/calls").await;
    assert_eq!(calls.texts("tr.call .from"), ["020 7946 0123"], "as the owner dials it");
    assert_eq!(calls.attributes("tr.call .from .number", "title"), [PUSHY]);
    assert_eq!(calls.texts("tr.call .forwarded"), ["forwarded"]);
    assert_eq!(calls.attributes("form.decline input[name=number]", "value"), [PUSHY]);
    assert_eq!(calls.attributes("datalist#companies option", "value"), ["Everest Windows"]);

    let done = browser
        .post("/calls/decline", &[("number", PUSHY), ("company", "everest  windows"), ("note", "kitchen upsell")])
        .await;
    assert_eq!(done.status, 303);
    let after = browser.get(done.location.as_deref().unwrap()).await;
    assert!(after.text_of("#declined").contains("Declined +442079460123 (Everest Windows)"));
    let (_, declines) = app.api(reqwest::Method::GET, "/declines", None).await;
    let mine = declines.as_array().unwrap().iter().find(|d| d["number"] == PUSHY).unwrap().clone();
    assert_eq!(mine["company"], "Everest Windows");
    assert_eq!(mine["channel"], "web");
    assert_eq!(mine["note"], "kitchen upsell");
    assert_eq!(app.call("CA301", PUSHY).await.verbs(), ["Say", "Hangup"]);

    let undone = browser.post("/declines/undo", &[("number", PUSHY)]).await;
    assert_eq!(undone.status, 303);
    assert!(browser.get(undone.location.as_deref().unwrap()).await.text_of("#undone").contains(PUSHY));
    assert_eq!(app.call("CA302", PUSHY).await.verbs(), ["Dial"]);
}

/// The decline of `number` as the owner entered it: the admin API's listing without the calls since.
async fn decline_of(app: &TestApp, number: &str) -> Option<serde_json::Value> {
    let mut decline = app.declines().await.into_iter().find(|decline| decline["number"] == number)?;
    decline.as_object_mut()?.remove("follow_ups");
    Some(decline)
}

#[tokio::test]
async fn declining_an_already_declined_number_and_pressing_undo_puts_the_original_back() {
    let app = spawn_app().await;
    app.call("CA310", PUSHY).await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows", "note": "kitchen upsell", "declined_by": "Sam"}))
        .await;
    let original = decline_of(&app, PUSHY).await.unwrap();
    let browser = app.signed_in().await;

    // The old forwarded row offers to edit the decline made since, not to decline afresh.
    let calls = browser.get("/calls").await;
    assert!(calls.text_of("tr.call .declined-since").starts_with("declined since "));
    assert_eq!(calls.texts("tr.call details summary"), ["Edit"]);
    assert_eq!(calls.attributes("form.decline input[name=note]", "value"), ["kitchen upsell"]);

    let done =
        browser.post("/calls/decline", &[("number", PUSHY), ("company", "Rotating Ltd"), ("note", "typo")]).await;
    let after = browser.get(done.location.as_deref().unwrap()).await;
    assert!(
        after.text_of("#declined").starts_with("Updated the decline of +442079460123"),
        "{}",
        after.text_of("#declined")
    );
    assert_eq!(decline_of(&app, PUSHY).await.unwrap()["note"], "typo");

    let undone = browser.post("/declines/undo", &[("number", PUSHY)]).await;
    assert_eq!(undone.status, 303);
    let banner = browser.get(undone.location.as_deref().unwrap()).await.text_of("#undone");
    assert!(banner.contains("the decline of +442079460123 is back as it was"), "{banner}");
    assert!(banner.contains("Their next call: refused: Everest Windows"), "{banner}");
    assert_eq!(decline_of(&app, PUSHY).await.unwrap(), original);
    assert_eq!(app.call("CA311", PUSHY).await.verbs(), ["Say", "Hangup"]);

    // That Undo is spent: pressing it again changes nothing and says so.
    let again = browser.post("/declines/undo", &[("number", PUSHY)]).await;
    assert_eq!(again.status, 404);
    assert!(again.text_of("#error").contains("no decline of +442079460123 from this page to undo"));
    assert_eq!(decline_of(&app, PUSHY).await.unwrap(), original);
}

#[tokio::test]
async fn undo_never_removes_a_decline_the_page_did_not_make() {
    let app = spawn_app().await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;
    let original = decline_of(&app, PUSHY).await.unwrap();
    let browser = app.signed_in().await;
    let undone = browser.post("/declines/undo", &[("number", PUSHY)]).await;
    assert_eq!(undone.status, 404);
    assert_eq!(decline_of(&app, PUSHY).await.unwrap(), original);
}

#[tokio::test]
async fn undo_says_what_the_next_call_does_when_a_range_still_covers_the_number() {
    let app = spawn_app().await;
    app.decline(json!({"number": "+44207946012*", "company": "Rotating Ltd", "force": true})).await;
    let browser = app.signed_in().await;
    browser.post("/calls/decline", &[("number", PUSHY), ("company", "Everest Windows")]).await;
    let undone = browser.post("/declines/undo", &[("number", PUSHY)]).await;
    let banner = browser.get(undone.location.as_deref().unwrap()).await.text_of("#undone");
    assert!(banner.contains("+442079460123 is no longer declined"), "{banner}");
    assert!(banner.contains("Their next call: refused: Rotating Ltd"), "{banner}");
    assert!(decline_of(&app, PUSHY).await.is_none());
    assert_eq!(app.call("CA312", PUSHY).await.verbs(), ["Say", "Hangup"]);
}

#[tokio::test]
async fn declining_an_allowed_number_says_the_allow_still_wins_and_offers_to_remove_it() {
    let app = spawn_app().await;
    let (status, _) = app.api(reqwest::Method::POST, "/allows", Some(json!({"number": PUSHY, "name": "Mum"}))).await;
    assert_eq!(status, 201);
    let browser = app.signed_in().await;
    let done = browser.post("/calls/decline", &[("number", PUSHY), ("company", "Everest Windows")]).await;
    let page = browser.get(done.location.as_deref().unwrap()).await;
    let banner = page.text_of("#declined");
    assert!(!banner.contains("will be refused"), "{banner}");
    assert!(banner.contains("Their next call still rings through: forwarded:"), "{banner}");
    assert!(banner.contains("The allow wins over the decline"), "{banner}");
    assert_eq!(page.attributes("#declined form[action='/allows/remove'] input[name=number]", "value"), [PUSHY]);
    assert_eq!(app.call("CA313", PUSHY).await.verbs(), ["Dial"]);
}

#[tokio::test]
async fn a_decline_with_bad_input_shows_the_field_and_changes_nothing() {
    let app = spawn_app().await;
    let browser = app.signed_in().await;
    let page = browser.post("/calls/decline", &[("number", "banana")]).await;
    assert_eq!(page.status, 400);
    assert!(page.text_of("#error").starts_with("number:"), "{}", page.text_of("#error"));
    let long = "x".repeat(500);
    let page = browser.post("/calls/decline", &[("number", PUSHY), ("company", &long)]).await;
    assert_eq!(page.status, 400);
    assert!(page.text_of("#error").starts_with("company:"));
    let (_, declines) = app.api(reqwest::Method::GET, "/declines", None).await;
    assert_eq!(declines, json!([]));
}

#[tokio::test]
async fn a_log_row_names_the_caller_the_network_named_and_says_when_in_days() {
    let app = spawn_app().await;
    let mut pairs = incoming("CA700", "+442079460555");
    pairs.push(("CallerName", "ACME SALES".into()));
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(name, value)| (*name, value.as_str())).collect();
    assert_eq!(app.post_signed("/twilio/voice", &pairs).await.status(), 200);
    let calls = app.signed_in().await.get("/calls").await;
    assert_eq!(calls.text_of("tr.call .caller-name"), "ACME SALES");
    assert!(calls.text_of("tr.call td.time").starts_with("Today "), "{}", calls.text_of("tr.call td.time"));
    assert!(calls.attributes("tr.call td.time time", "title")[0].ends_with(" UTC"), "the full moment on hover");
}

#[tokio::test]
async fn an_error_page_leads_back_to_the_page_it_came_from() {
    let app = spawn_app().await;
    let browser = app.signed_in().await;
    let refused = browser.post_on("/companies", "/calls/decline", &[("number", "banana")]).await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.attributes("a#back", "href"), ["/companies"]);
    let unknown = browser.get("/companies/company%3Anobody").await;
    assert_eq!(unknown.attributes("a#back", "href"), ["/calls"], "with no page to go back to, the calls");
}

#[tokio::test]
async fn the_calls_page_filters_and_pages_by_cursor() {
    let app = spawn_app().await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;
    for i in 0..3 {
        app.call(&format!("CA31{i}"), PUSHY).await;
    }
    for i in 0..60 {
        app.call(&format!("CA4{i:02}"), "+442079460555").await;
    }
    let browser = app.signed_in().await;
    let first = browser.get("/calls").await;
    assert_eq!(first.texts("tr.call").len(), 50);
    let older = first.attributes("a#older", "href");
    assert_eq!(older.len(), 1);
    let second = browser.get(&older[0]).await;
    assert_eq!(second.texts("tr.call").len(), 13);
    assert!(second.attributes("a#older", "href").is_empty());
    let first_sids = first.attributes("tr.call", "data-sid");
    assert!(second.attributes("tr.call", "data-sid").iter().all(|sid| !first_sids.contains(sid)));

    let refused = browser.get("/calls?decision=decline").await;
    assert_eq!(refused.attributes("tr.call", "data-sid"), ["CA312", "CA311", "CA310"]);
    let by_company = browser.get("/calls?company=EVEREST+windows").await;
    assert_eq!(by_company.texts("tr.call").len(), 3);
    let by_part = browser.get("/calls?company=ever").await;
    assert_eq!(by_part.attributes("tr.call", "data-sid"), ["CA312", "CA311", "CA310"], "part of the name is enough");
    assert!(browser.get("/calls?company=acme").await.texts("tr.call").is_empty());
    let by_number = browser.get("/calls?number=020+7946+0123").await;
    assert_eq!(by_number.texts("tr.call").len(), 3);
    let by_last_digits = browser.get("/calls?number=0123").await;
    assert_eq!(by_last_digits.attributes("tr.call", "data-sid"), ["CA312", "CA311", "CA310"]);
    assert_eq!(browser.get("/calls?number=0555").await.texts("tr.call").len(), 50, "a page of the other caller");
    let searched = browser.get("/calls?q=CA405").await;
    assert_eq!(searched.attributes("tr.call", "data-sid"), ["CA405"]);
    let future = browser.get("/calls?from_date=2099-01-01").await;
    assert!(future.text_of("#no-calls").contains("No calls"));
    assert_eq!(browser.get("/calls?from_date=yesterday").await.status, 400);
    assert_eq!(browser.get("/calls?before=nonsense").await.status, 400);
}

#[tokio::test]
async fn the_company_page_shows_the_decline_then_every_attempt_with_the_count() {
    let app = spawn_app().await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows", "declined_by": "Sam", "note": "kitchen"})).await;
    app.decline(json!({"number": "+442079460124", "company": "everest windows"})).await;
    app.call("CA500", PUSHY).await;
    app.call("CA501", "+442079460124").await;
    let browser = app.signed_in().await;

    let companies = browser.get("/companies").await;
    assert_eq!(companies.texts("tr.company td a"), ["Everest Windows"]);
    assert_eq!(companies.texts("tr.company .follow-ups"), ["2"]);
    assert!(companies.text_of("tr.company").contains("+442079460123, +442079460124"));

    let link = companies.attributes("tr.company td a", "href")[0].clone();
    let company = browser.get(&link).await;
    assert_eq!(company.text_of("#company-name"), "Everest Windows");
    assert_eq!(company.text_of("#follow-ups"), "2");
    assert!(company.text_of("#summary").contains("by Sam"));
    let attempts = company.texts("tr.attempt");
    assert_eq!(attempts.len(), 2);
    assert!(attempts[0].contains("+442079460124") && attempts[0].contains("#2"), "{attempts:?}");
    assert!(attempts[1].contains("Acme Plumbing"), "what the caller heard: {attempts:?}");
    assert_eq!(company.texts("tr.decline").len(), 2);

    let evidence = browser.get(&format!("{link}/evidence")).await;
    assert_eq!(evidence.texts("#attempts tr.attempt").len(), 2);
    assert!(evidence.text_of("#attempts").contains("CA500"));
    let csv = browser.get(&format!("{link}/evidence.csv")).await;
    assert_eq!(csv.status, 200);
    assert!(csv.text.lines().next().unwrap().starts_with("kind,time,number,called"));
    assert_eq!(csv.text.lines().filter(|l| l.starts_with("attempt,")).count(), 2);

    assert_eq!(browser.get("/companies/company%3Anobody").await.status, 404);
}

#[tokio::test]
async fn the_evidence_says_how_and_on_which_call_the_no_was_given_and_where_to_report_the_calls_after_it() {
    let app = spawn_app().await;
    app.call("CA600", PUSHY).await;
    let browser = app.signed_in().await;
    let calls = browser.get("/calls").await;
    let row_call = calls.attributes("tr.call form.decline input[name=call]", "value");
    assert_eq!(row_call, ["CA600"], "the Decline form names the call it is on");
    let declined = [("number", PUSHY), ("company", "Everest Windows"), ("call", "CA600")];
    assert_eq!(browser.post("/calls/decline", &declined).await.status, 303);
    app.call("CA601", PUSHY).await;

    let evidence = browser.get("/companies/company%3Aeverest%20windows/evidence").await;
    let no = evidence.text_of("#declines tr.decline");
    assert!(no.contains("on the web page") && no.contains("CA600"), "{no}");
    let attempt = evidence.text_of("#attempts tr.attempt");
    assert!(attempt.contains("CA601") && attempt.contains(" UTC"), "times carry their zone: {attempt}");
    assert!(evidence.text_of("#zone").contains("UTC"));
    assert!(evidence.text_of("#regulators").contains("https://ico.org.uk/"), "GB's regulators");
    assert_eq!(evidence.attributes("a", "href")[0], "/companies/company%3Aeverest%20windows", "the way back");
    assert_eq!(evidence.attributes("button#print", "type"), ["button"]);
    let script = browser.get(&evidence.attributes("script", "src")[0]).await;
    assert!(script.text.contains("window.print()"));

    let csv = browser.get("/companies/company%3Aeverest%20windows/evidence.csv").await;
    assert!(csv.disposition.unwrap().contains("saidno-evidence-everest-windows.csv"));
    let decline_line = csv.text.lines().find(|line| line.starts_with("decline,")).unwrap();
    assert!(decline_line.contains("CA600"), "{decline_line}");
}

#[tokio::test]
async fn a_number_the_plan_does_not_know_is_kept_in_the_form_with_a_box_to_accept_it_anyway() {
    let app = spawn_app().await;
    let browser = app.signed_in().await;
    // 01632 960xxx is reserved for drama: the right length, but no number in use.
    let refused = browser.post("/allows", &[("number", "01632 960123"), ("name", "New office")]).await;
    assert_eq!(refused.status, 400);
    assert!(refused.text_of("#error").contains("accept it anyway"), "{}", refused.text_of("#error"));
    assert!(!refused.text.contains("--force"), "the page speaks of its own controls");
    assert_eq!(refused.attributes("#add-allow input[name=number]", "value"), ["01632 960123"]);
    assert_eq!(refused.attributes("#add-allow input[name=name]", "value"), ["New office"]);
    assert_eq!(refused.attributes("#add-allow input[type=checkbox]", "name"), ["once", "force"]);
    assert!(browser.get("/allows").await.texts("tr.allow").is_empty(), "nothing was added");

    let accepted = browser.post("/allows", &[("number", "01632 960123"), ("name", "New office"), ("force", "1")]).await;
    assert_eq!(accepted.location.as_deref(), Some("/allows?allowed=%2B441632960123"));
    assert_eq!(browser.get("/allows").await.texts("tr.allow td:first-child"), ["+441632960123"]);
}

#[tokio::test]
async fn allows_are_added_and_removed_from_the_page() {
    let app = spawn_app().await;
    let browser = app.signed_in().await;
    assert_eq!(browser.post("/allows", &[("number", "020 7946 0555"), ("name", "Mum")]).await.status, 303);
    let page = browser.get("/allows").await;
    assert_eq!(page.texts("tr.allow td:first-child"), ["+442079460555"]);
    assert!(page.text_of("tr.allow").contains("Mum"));
    let bad = browser.post("/allows", &[("number", "banana")]).await;
    assert_eq!(bad.status, 400);
    assert_eq!(browser.post("/allows/remove", &[("number", "+442079460555")]).await.status, 303);
    assert!(browser.get("/allows").await.text_of("#no-allows").contains("No allowed"));
}

#[tokio::test]
async fn testing_a_number_gives_the_webhook_decision() {
    let app = spawn_app().await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;
    let browser = app.signed_in().await;
    let page = browser.get("/check?number=020+7946+0123").await;
    assert_eq!(page.text_of("#decision"), "decline");
    assert!(page.text_of("#reason").contains("Everest Windows"));
    assert!(page.text_of("#hears").contains("Acme Plumbing"));
    let other = browser.get("/check?number=020+7946+0999").await;
    assert_eq!(other.text_of("#decision"), "forward");
    let bad = browser.get("/check?number=banana").await;
    assert_eq!(bad.status, 400);
    assert!(bad.text_of("#error").contains("banana"));
}

#[tokio::test]
async fn the_dashboard_counts_calls_and_names_who_calls_after_a_no() {
    let app = spawn_app().await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;
    app.call("CA600", PUSHY).await;
    app.call("CA601", PUSHY).await;
    app.call("CA602", "+442079460555").await;
    let browser = app.signed_in().await;
    let page = browser.get("/").await;
    assert!(page.text_of("#today").contains("3 calls"), "{}", page.text_of("#today"));
    assert!(page.text_of("#today").contains("1 forwarded"));
    assert!(page.text_of("#today").contains("2 refused"));
    assert!(page.text_of("#month").contains("3 calls"));
    assert_eq!(page.texts("#chart rect.bar-refused").len(), 30);
    let heights: Vec<u32> =
        page.attributes("#chart rect.bar-refused", "height").iter().map(|h| h.parse().unwrap()).collect();
    assert!(heights.last().unwrap() > &0, "today's bar shows the refusals");
    assert!(page.text_of("#top-companies").contains("Everest Windows"));
}

#[tokio::test]
async fn declines_export_and_import_through_the_page() {
    let app = spawn_app().await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows", "note": "a, \"quoted\" note"})).await;
    let browser = app.signed_in().await;
    let csv = browser.get("/transfer/declines.csv").await;
    assert_eq!(csv.status, 200);
    let json_export = browser.get("/transfer/declines.json").await;
    let exported: serde_json::Value = serde_json::from_str(&json_export.text).unwrap();
    assert_eq!(exported[0]["number"], PUSHY);

    // Into a fresh saidno, the file comes back exactly.
    let other = spawn_app().await;
    let other_browser = other.signed_in().await;
    let imported = other_browser.upload("/transfer/import", "declines.csv", &csv.text, false).await;
    assert_eq!(imported.status, 200, "{}", imported.text);
    assert!(imported.text_of("#imported").contains("Imported 1"));
    assert_eq!(other_browser.get("/transfer/declines.csv").await.text, csv.text);
}

#[tokio::test]
async fn a_bad_csv_is_refused_with_its_line_numbers_and_imports_nothing() {
    let app = spawn_app().await;
    let browser = app.signed_in().await;
    let csv = "number,company,note,declined_at,declined_by,channel,mode\n\
               +442079460123,Everest Windows,,2026-11-03T10:00:00Z,Sam,web,\n\
               banana,Acme,,2026-11-03T10:00:00Z,,web,\n\
               +442079460124,Acme,,not a date,,web,\n";
    let page = browser.upload("/transfer/import", "declines.csv", csv, false).await;
    assert_eq!(page.status, 400);
    let rows = page.texts("#bad-rows tbody tr");
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows[0].starts_with("3 2 number"), "{rows:?}");
    assert!(rows[1].starts_with("4 3 declined_at"), "{rows:?}");
    let (_, declines) = app.api(reqwest::Method::GET, "/declines", None).await;
    assert_eq!(declines, json!([]));

    let page = browser.upload("/transfer/import", "declines.csv", csv, true).await;
    assert_eq!(page.status, 200);
    assert!(page.text_of("#imported").contains("Imported 1"));
    assert_eq!(page.texts("#skipped tr").len(), 2);
}

#[tokio::test]
async fn the_call_log_downloads_for_a_date_range() {
    let app = spawn_app().await;
    app.call("CA700", PUSHY).await;
    let browser = app.signed_in().await;
    let today = jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::UTC).date().to_string();
    let page = browser.get(&format!("/transfer/calls.csv?from_date={today}&to_date={today}")).await;
    assert_eq!(page.status, 200);
    assert!(page.text.lines().nth(1).unwrap().contains("CA700"));
    let empty = browser.get("/transfer/calls.csv?from_date=2099-01-01&to_date=2099-01-02").await;
    assert_eq!(empty.text, "");
    let backwards = browser.get("/transfer/calls.csv?from_date=2026-11-05&to_date=2026-11-01").await;
    assert_eq!(backwards.status, 400);
}
