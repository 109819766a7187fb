//! The settings page: the pause switch, and the call policies, hours, texts and announcement,
//! each saved with who changed it and when before the page says so, used from the very next call,
//! kept across a restart and a reload, and undone exactly; and the settings only the
//! configuration file holds, shown with where to change them.

use saidno::config::CallerPolicy;
use serde_json::json;

use crate::cli::signed_in_cookie;
use crate::fake_twilio::FakeTwilio;
use crate::helpers::*;
use crate::openapi::assert_twilio_accepts;

#[tokio::test]
async fn the_pause_switch_is_changed_from_the_settings_page_and_the_change_is_recorded() {
    let app = spawn_app_with(|s| s.policy.withheld = CallerPolicy::Refuse).await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;
    let browser = app.signed_in().await;
    let page = browser.get("/settings").await;
    assert!(page.text_of("#pause-state").contains("never been switched"), "{}", page.text_of("#pause-state"));
    assert_eq!(page.attributes("#pause-switch input[name=paused]", "value"), ["true"]);
    let screen = page.texts("tr.fixed").into_iter().find(|row| row.starts_with("Ask unknown callers")).unwrap();
    assert!(screen.contains("no") && screen.contains("[policy] screen_unknown"), "{screen}");

    let paused = browser.post("/settings/pause", &[("paused", "true")]).await;
    assert_eq!(paused.location.as_deref(), Some("/settings?saved=pause"));
    let (_, state) = app.api(reqwest::Method::GET, "/pause", None).await;
    assert_eq!(state, json!({"paused": true}), "saved before the page said so");
    let page = browser.get("/settings?saved=pause").await;
    let banner = page.text_of("#saved");
    assert!(banner.contains("blocking is paused"), "{banner}");
    assert!(banner.contains("A withheld caller's next call: forwarded"), "worded by the decision: {banner}");
    assert!(page.text_of("#pause-state").contains("Last switched on the web page"), "{}", page.text_of("#pause-state"));
    assert_eq!(app.call("CA950", PUSHY).await.verbs(), ["Dial"]);

    let resumed = browser.post("/settings/pause", &[("paused", "false")]).await;
    assert_eq!(resumed.status, 303);
    assert_eq!(app.call("CA951", PUSHY).await.verbs(), ["Say", "Hangup"]);
    let (_, state) = app.api(reqwest::Method::GET, "/pause", None).await;
    assert_eq!(state, json!({"paused": false}));
}

#[tokio::test]
async fn a_malformed_switch_is_refused_with_a_way_back_and_changes_nothing() {
    let app = spawn_app().await;
    let browser = app.signed_in().await;
    let refused = browser.post_on("/settings", "/settings/pause", &[("paused", "banana")]).await;
    assert_eq!(refused.status, 400);
    assert!(refused.text_of("#error").starts_with("paused:"), "{}", refused.text_of("#error"));
    assert_eq!(refused.attributes("#back", "href"), ["/settings"]);
    let (_, state) = app.api(reqwest::Method::GET, "/pause", None).await;
    assert_eq!(state, json!({"paused": false}));
    assert!(browser.get("/settings").await.text_of("#pause-state").contains("never been switched"));
}

/// Follows a change's redirect to the page it lands on, checking it was saved first.
async fn changed(browser: &Browser, setting: &str, form: &[(&str, &str)]) -> Page {
    let saved = browser.post(&format!("/settings/{setting}"), form).await;
    assert_eq!(saved.status, 303, "{}", saved.text);
    let location = saved.location.unwrap();
    assert!(location.starts_with(&format!("/settings?saved={setting}&change=")), "{location}");
    browser.get(&location).await
}

/// Presses the banner's Undo, and lands where it leads.
async fn undone(browser: &Browser, page: &Page) -> Page {
    let change = page.attributes("#saved form[action='/settings/undo'] input[name=change]", "value");
    assert_eq!(change.len(), 1, "the banner offers an Undo: {}", page.text);
    let undone = browser.post("/settings/undo", &[("change", change[0].as_str())]).await;
    assert_eq!(undone.status, 303, "{}", undone.text);
    browser.get(&undone.location.unwrap()).await
}

#[tokio::test]
async fn the_withheld_policy_is_changed_used_by_the_next_call_and_undone_back_to_the_file() {
    let app = spawn_app().await;
    let browser = app.signed_in().await;
    let page = browser.get("/settings").await;
    assert!(page.text_of("#withheld-now").contains("forward"), "{}", page.text_of("#withheld-now"));
    assert_eq!(
        page.text_of("#withheld-origin"),
        "from the configuration file ([policy] withheld, SAIDNO_POLICY__WITHHELD)"
    );
    assert_eq!(page.attributes("#withheld-policy option[selected]", "value"), ["forward"]);
    assert_eq!(app.call("CA960", "anonymous").await.verbs(), ["Dial"]);

    let page = changed(&browser, "withheld", &[("policy", "refuse"), ("action", "save")]).await;
    let banner = page.text_of("#saved");
    assert!(banner.contains("Saved. Withheld callers: refuse"), "{banner}");
    assert!(banner.contains("A withheld caller's next call: refused"), "worded by the decision: {banner}");
    let (_, check) = app.api(reqwest::Method::POST, "/check", Some(json!({"withheld": true}))).await;
    assert!(banner.contains(check["reason"].as_str().unwrap()), "the same words /check gives: {check} {banner}");
    assert!(page.text_of("#withheld-origin").starts_with("changed on the web page on 20"), "{}", page.text);
    assert_eq!(page.attributes("#withheld-policy option[selected]", "value"), ["refuse"]);
    assert_eq!(app.call("CA961", "anonymous").await.verbs(), ["Say", "Hangup"], "the very next call");

    let page = undone(&browser, &page).await;
    assert!(page.text_of("#undone").contains("Undone. Withheld callers: forward"), "{}", page.text_of("#undone"));
    assert_eq!(
        page.text_of("#withheld-origin"),
        "from the configuration file ([policy] withheld, SAIDNO_POLICY__WITHHELD)",
        "exactly as before: never changed"
    );
    assert_eq!(app.call("CA962", "anonymous").await.verbs(), ["Dial"]);
}

#[tokio::test]
async fn an_undo_from_before_a_later_change_of_the_setting_changes_nothing() {
    let app = spawn_app().await;
    let browser = app.signed_in().await;
    let first = changed(&browser, "withheld", &[("policy", "refuse"), ("action", "save")]).await;
    changed(&browser, "withheld", &[("policy", "screen"), ("action", "save")]).await;
    let change = first.attributes("#saved form[action='/settings/undo'] input[name=change]", "value");
    let stale = browser.post_on("/settings", "/settings/undo", &[("change", change[0].as_str())]).await;
    assert_eq!(stale.status, 404, "{}", stale.text);
    assert!(stale.text_of("#error").contains("changed again since; nothing was undone"), "{}", stale.text);
    let page = browser.get("/settings").await;
    assert_eq!(page.attributes("#withheld-policy option[selected]", "value"), ["screen"], "the later change stays");
    assert_eq!(app.call("CA965", "anonymous").await.verbs(), ["Gather", "Hangup"], "{}", page.text_of("#withheld-now"));
}

#[tokio::test]
async fn a_choice_put_back_to_the_file_value_follows_the_file_and_its_undo_brings_the_choice_back() {
    let app = spawn_app_with(|s| s.policy.unverified = CallerPolicy::Screen).await;
    let browser = app.signed_in().await;
    let app = &app;
    let failed = |sid: &'static str| async move {
        let mut pairs = incoming(sid, "+442079460555");
        pairs.push(("StirVerstat", "TN-Validation-Failed".into()));
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        Twiml::from_response(app.post_signed("/twilio/voice", &pairs).await).await.verbs()
    };
    assert_eq!(failed("CA970").await, ["Gather", "Hangup"], "screened, as the file says");

    let page = changed(&browser, "unverified", &[("policy", "refuse"), ("action", "save")]).await;
    assert!(page.text_of("#saved").contains("whose number failed verification: refused"), "{}", page.text_of("#saved"));
    assert_eq!(failed("CA971").await, ["Say", "Hangup"]);

    let page = changed(&browser, "unverified", &[("policy", "refuse"), ("action", "file")]).await;
    assert!(page.text_of("#unverified-now").contains("screen"), "{}", page.text_of("#unverified-now"));
    let origin = page.text_of("#unverified-origin");
    assert!(origin.starts_with("from the configuration file ([policy] unverified"), "{origin}");
    assert!(origin.contains("put back on the web page"), "{origin}");
    assert_eq!(failed("CA972").await, ["Gather", "Hangup"]);

    let page = undone(&browser, &page).await;
    assert!(page.text_of("#unverified-now").contains("refuse"), "{}", page.text_of("#unverified-now"));
    assert!(page.text_of("#unverified-origin").starts_with("changed on the web page"), "{}", page.text);
    assert_eq!(failed("CA973").await, ["Say", "Hangup"]);
}

const CLOSED_ALL_WEEK: [(&str, &str); 7] = [
    ("monday", ""),
    ("tuesday", ""),
    ("wednesday", ""),
    ("thursday", ""),
    ("friday", ""),
    ("saturday", ""),
    ("sunday", ""),
];

#[tokio::test]
async fn business_hours_are_changed_and_the_next_call_is_answered_as_closed() {
    let app = spawn_app().await;
    let browser = app.signed_in().await;
    assert_eq!(app.call("CA980", "+442079460555").await.verbs(), ["Dial"]);
    let mut form = vec![("enabled", "yes"), ("closed", "message"), ("action", "save")];
    form.extend(CLOSED_ALL_WEEK);
    let page = changed(&browser, "hours", &form).await;
    let banner = page.text_of("#saved");
    assert!(banner.contains("A call now: closed: outside business hours"), "worded by the decision: {banner}");
    assert!(page.text_of("#hours-now").contains("Mon closed"), "{}", page.text_of("#hours-now"));
    assert_eq!(app.call("CA981", "+442079460555").await.verbs(), ["Say", "Hangup"], "the closed message, no voicemail");

    let mut open = vec![("enabled", "yes"), ("closed", "voicemail"), ("action", "save")];
    open.extend(CLOSED_ALL_WEEK.map(|(day, _)| (day, "00:00-23:59")));
    changed(&browser, "hours", &open).await;
    let page = browser.get("/settings").await;
    assert_eq!(page.attributes("#hours-monday", "value"), ["00:00-23:59"]);
    assert_eq!(page.attributes("#hours-closed option[selected]", "value"), ["voicemail"]);
}

#[tokio::test]
async fn the_announcement_is_changed_and_the_next_forward_follows_it() {
    let app = spawn_app().await;
    let browser = app.signed_in().await;
    let dial = app.call("CA990", "+442079460555").await;
    assert!(dial.attribute("Number", "url").is_some(), "announced, as the file says: {}", dial.xml);

    let page = changed(&browser, "announcement", &[("enabled", "no"), ("wait_secs", "5"), ("no_key", "connect")]).await;
    assert!(page.text_of("#saved").contains("Saved. Announce forwarded calls: off"), "{}", page.text_of("#saved"));
    let dial = app.call("CA991", "+442079460555").await;
    assert_eq!(dial.verbs(), ["Dial"]);
    assert_eq!(dial.attribute("Number", "url"), None, "not announced: {}", dial.xml);

    changed(&browser, "announcement", &[("enabled", "yes"), ("wait_secs", "12"), ("no_key", "voicemail")]).await;
    let url = app.call("CA992", "+442079460555").await.attribute("Number", "url").unwrap();
    let leg = [
        ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
        ("CallSid", "CA99990000000000000000000000000002"),
        ("CallStatus", "in-progress"),
        ("Direction", "outbound-dial"),
        ("From", "+442079460555"),
        ("To", OWNER_PHONE),
    ];
    let announcement = Twiml::from_response(app.post_signed(&url, &leg).await).await;
    assert_eq!(announcement.attribute("Gather", "timeout").as_deref(), Some("12"));
    assert_eq!(announcement.attribute("Gather", "actionOnEmptyResult").as_deref(), Some("true"));
}

#[tokio::test]
async fn texts_are_changed_from_the_page_and_the_next_refusal_follows_them() {
    let mut api = FakeTwilio::start(vec![]).await;
    let base = api.url.clone();
    let app = spawn_app_with(move |s| {
        s.twilio.account_sid = "AC0123456789abcdef0123456789abcdef".into();
        s.twilio.api_base_url = base;
        s.notify.when = saidno::config::NotifyWhen::Off;
    })
    .await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;
    let browser = app.signed_in().await;
    let page = changed(&browser, "notify", &[("when", "from"), ("from_follow_up", "2"), ("digest_hour", "18")]).await;
    assert!(page.text_of("#saved").contains("Saved. Texts to you: from the 2nd call after a no on"), "{}", page.text);

    assert_eq!(app.call("CA995", PUSHY).await.verbs(), ["Say", "Hangup"]);
    app.calls().await;
    assert_eq!(app.call("CA996", PUSHY).await.verbs(), ["Say", "Hangup"]);
    let sent = api.next_request().await;
    assert_twilio_accepts(&sent);
    assert!(sent.field("Body").unwrap().contains("2nd time"), "the 1st call is not reported: {:?}", sent.field("Body"));
}

#[tokio::test]
async fn bad_input_is_refused_on_the_page_with_what_was_typed_and_changes_nothing() {
    let app = spawn_app().await;
    let browser = app.signed_in().await;
    let hours = |day: &'static str, typed: &'static str| {
        let mut form = vec![("enabled", "yes"), ("closed", "voicemail")];
        form.extend(CLOSED_ALL_WEEK.map(|(d, _)| (d, if d == day { typed } else { "09:00-17:00" })));
        ("hours", form, format!("hours-{day}"), typed)
    };
    let cases = [
        ("withheld", vec![("policy", "banana")], "withheld-policy".to_owned(), "", "Policy: \"banana\" is not one of"),
        hours_case(hours("monday", "25:00-26:00"), "monday: \"25:00-26:00\" is not opening hours"),
        hours_case(hours("tuesday", "17:00-09:00"), "tuesday: \"17:00-09:00\": the opening time must come before"),
        (
            "notify",
            vec![("when", "digest"), ("from_follow_up", "3"), ("digest_hour", "24")],
            "notify-hour".to_owned(),
            "24",
            "Digest at hour: must be an hour between 0 and 23",
        ),
        (
            "notify",
            vec![("when", "from"), ("from_follow_up", "third"), ("digest_hour", "18")],
            "notify-from".to_owned(),
            "third",
            "From which call after the no: \"third\" is not a whole number",
        ),
        (
            "notify",
            vec![("when", "often"), ("from_follow_up", "3"), ("digest_hour", "18")],
            "notify-when".to_owned(),
            "",
            "Text me: \"often\" is not one of every, from, digest, off",
        ),
        (
            "announcement",
            vec![("enabled", "yes"), ("wait_secs", "0"), ("no_key", "connect")],
            "announcement-wait".to_owned(),
            "0",
            "Seconds to wait for a key: must be between 1 and 30 seconds",
        ),
        (
            "announcement",
            vec![("enabled", "maybe"), ("wait_secs", "5"), ("no_key", "connect")],
            "announcement-enabled".to_owned(),
            "",
            "On or off: \"maybe\" is not yes or no",
        ),
    ];
    for (setting, form, field, typed, message) in cases {
        let refused = browser.post(&format!("/settings/{setting}"), &form).await;
        assert_eq!(refused.status, 400, "{setting} {form:?}");
        let error = refused.text_of("#error");
        assert!(error.starts_with(message), "{error}");
        assert!(error.contains("Nothing was changed"), "{error}");
        if !typed.is_empty() {
            assert_eq!(refused.attributes(&format!("#{field}"), "value"), [typed], "what was typed is kept");
        }
        let page = browser.get("/settings").await;
        assert!(page.text_of(&format!("#{setting}-origin")).starts_with("from the configuration file"), "{setting}");
    }
    assert_eq!(app.call("CA999", "anonymous").await.verbs(), ["Dial"]);
    let unknown = browser.post_on("/settings", "/settings/volume", &[("policy", "refuse")]).await;
    assert_eq!(unknown.status, 400);
    assert!(unknown.text_of("#error").starts_with("setting: \"volume\" is not a setting"), "{}", unknown.text);
    let forged = browser.post_on("/settings", "/settings/undo", &[("change", "{\"before\":1}")]).await;
    assert_eq!(forged.status, 400);
    assert!(forged.text_of("#error").starts_with("change: not a setting change to undo"), "{}", forged.text);
}

fn hours_case(
    (setting, form, field, typed): (&'static str, Vec<(&'static str, &'static str)>, String, &'static str),
    message: &'static str,
) -> (&'static str, Vec<(&'static str, &'static str)>, String, &'static str, &'static str) {
    (setting, form, field, typed, message)
}

/// A form posted to the server at `url` with the session `cookie`: the status and the redirect.
pub fn post_with(url: &str, path: &str, cookie: &str, form: &[(&str, &str)]) -> (u16, Option<String>) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let http = saidno::tls::client_builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let response =
            http.post(format!("{url}{path}")).header("origin", url).header("cookie", cookie).form(form).send().await;
        let response = response.unwrap();
        let location = response.headers().get("location").map(|value| value.to_str().unwrap().to_owned());
        (response.status().as_u16(), location)
    })
}

fn page_with(url: &str, path: &str, cookie: &str) -> scraper::Html {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let http = saidno::tls::client_builder().build().unwrap();
        let response = http.get(format!("{url}{path}")).header("cookie", cookie).send().await.unwrap();
        assert_eq!(response.status(), 200);
        scraper::Html::parse_document(&response.text().await.unwrap())
    })
}

fn text_in(html: &scraper::Html, selector: &str) -> String {
    let selector = scraper::Selector::parse(selector).unwrap();
    html.select(&selector).flat_map(|e| e.text()).collect::<Vec<_>>().join(" ")
}

#[test]
fn changes_from_the_page_are_kept_across_a_reload_and_a_restart() {
    let saidno = Binary::new("");
    assert!(saidno.with_input(&["admin", "set-password"], &format!("{PASSWORD}\n")).status.success());
    let mut server = saidno.serve();
    let cookie = signed_in_cookie(&server.url);
    let mut hours = vec![("enabled", "yes"), ("closed", "message")];
    hours.extend(CLOSED_ALL_WEEK);
    let changes: [(&str, Vec<(&str, &str)>); 5] = [
        ("withheld", vec![("policy", "refuse")]),
        ("unverified", vec![("policy", "screen")]),
        ("hours", hours),
        ("notify", vec![("when", "digest"), ("from_follow_up", "3"), ("digest_hour", "7")]),
        ("announcement", vec![("enabled", "no"), ("wait_secs", "9"), ("no_key", "voicemail")]),
    ];
    for (setting, form) in &changes {
        let (status, location) = post_with(&server.url, &format!("/settings/{setting}"), &cookie, form);
        assert_eq!(status, 303, "{setting}");
        assert!(location.unwrap().starts_with(&format!("/settings?saved={setting}")));
    }
    assert!(server.call("CA0001", "anonymous").contains("<Hangup"), "refused, as the page chose");

    server.signal("HUP");
    server.wait_for_log("configuration reloaded", 1);
    assert!(server.call("CA0002", "anonymous").contains("<Hangup"), "still refused after a reload");
    assert!(server.terminate().success());

    let server = saidno.serve();
    let page = page_with(&server.url, "/settings", &cookie);
    for (setting, now) in [
        ("withheld", "refuse"),
        ("unverified", "screen"),
        ("hours", "Mon closed"),
        ("notify", "one digest a day at 07:00"),
        ("announcement", "off"),
    ] {
        assert!(text_in(&page, &format!("#{setting}-now")).contains(now), "{setting}: {}", text_in(&page, "main"));
        let origin = text_in(&page, &format!("#{setting}-origin"));
        assert!(origin.starts_with("changed on the web page on 20"), "{setting}: {origin}");
    }
    let answer = server.call("CA0003", "+442079460555");
    assert!(answer.contains("<Say") && answer.contains("<Hangup") && !answer.contains("<Record"), "closed: {answer}");
}
