//! Managing records afterwards on the web page: editing, adding to and removing declines, allows
//! with a window or a single use, each with a banner and an Undo that puts back exactly what was
//! there; and the refusals, which keep what was typed and change nothing.

use serde_json::json;

use crate::helpers::*;

const EVEREST: &str = "/companies/company%3Aeverest%20windows";

/// The decline of `number` as the owner entered it: the admin API's listing without the calls since.
async fn decline_of(app: &TestApp, number: &str) -> Option<serde_json::Value> {
    let mut decline = app.declines().await.into_iter().find(|decline| decline["number"] == number)?;
    decline.as_object_mut()?.remove("follow_ups");
    Some(decline)
}

#[tokio::test]
async fn a_decline_is_edited_on_its_company_page_and_the_undo_puts_it_back_exactly() {
    let app = spawn_app().await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows", "note": "kitchen upsell", "escape_hatch": true}))
        .await;
    let original = decline_of(&app, PUSHY).await.unwrap();
    let browser = app.signed_in().await;
    let page = browser.get(EVEREST).await;
    assert_eq!(page.attributes("form.edit-decline input[name=note]", "value"), ["kitchen upsell"]);
    assert_eq!(page.attributes("form.edit-decline select[name=escape_hatch] option[selected]", "value"), ["on"]);

    let form = [
        ("target", PUSHY),
        ("company", "Everest Windows"),
        ("note", ""),
        ("mode", "reject"),
        ("not_before", "2099-03-01"),
        ("escape_hatch", ""),
    ];
    let saved = browser.post(&format!("{EVEREST}/declines/edit"), &form).await;
    assert_eq!(saved.status, 303, "{}", saved.text);
    let after = browser.get(saved.location.as_deref().unwrap()).await;
    let banner = after.text_of("#declined");
    assert!(banner.starts_with("Updated the decline of +442079460123 (Everest Windows)"), "{banner}");
    assert!(banner.contains("Their next call will be refused"), "{banner}");
    let edited = decline_of(&app, PUSHY).await.unwrap();
    assert_eq!(edited["mode"], "reject");
    assert_eq!(edited["note"], serde_json::Value::Null, "an emptied note is cleared");
    assert_eq!(edited["escape_hatch"], serde_json::Value::Null);
    assert!(edited["not_before"].as_str().unwrap().starts_with("2099-03-01"), "{edited}");
    assert_eq!(edited["declined_at"], original["declined_at"], "the date of the no stays");
    assert_eq!(app.call("CA900", PUSHY).await.verbs(), ["Reject"]);

    let undone = browser.post("/declines/undo", &[("number", PUSHY), ("back", EVEREST)]).await;
    assert_eq!(undone.location.as_deref(), Some(&*format!("{EVEREST}?undone=%2B442079460123")));
    let banner = browser.get(undone.location.as_deref().unwrap()).await.text_of("#undone");
    assert!(banner.contains("the decline of +442079460123 is back as it was"), "{banner}");
    assert_eq!(decline_of(&app, PUSHY).await.unwrap(), original);
}

#[tokio::test]
async fn an_edit_with_a_bad_date_shows_the_form_again_as_typed_and_changes_nothing() {
    let app = spawn_app().await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows", "note": "kitchen upsell"})).await;
    let original = decline_of(&app, PUSHY).await.unwrap();
    let browser = app.signed_in().await;
    let form = [("target", PUSHY), ("company", "Everest Windows"), ("note", "typed this"), ("not_before", "someday")];
    let refused = browser.post(&format!("{EVEREST}/declines/edit"), &form).await;
    assert_eq!(refused.status, 400);
    assert!(refused.text_of("form.edit-decline .error").starts_with("not_before:"), "{}", refused.text);
    assert_eq!(refused.attributes("details.edit[open] input[name=note]", "value"), ["typed this"]);
    assert_eq!(refused.attributes("details.edit[open] input[name=not_before]", "value"), ["someday"]);
    let past = [("target", PUSHY), ("not_before", "2001-01-01")];
    assert_eq!(browser.post(&format!("{EVEREST}/declines/edit"), &past).await.status, 400);
    let bad_mode = [("target", PUSHY), ("mode", "shout")];
    assert_eq!(browser.post(&format!("{EVEREST}/declines/edit"), &bad_mode).await.status, 400);
    assert_eq!(decline_of(&app, PUSHY).await.unwrap(), original);

    let missing = browser.post(&format!("{EVEREST}/declines/edit"), &[("target", "+442079460999")]).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.attributes("#back", "href").len(), 1, "the error leads back");
    let malformed =
        browser.post_on(EVEREST, &format!("{EVEREST}/declines/edit"), &[("note", "x"), ("note", "y")]).await;
    assert_eq!(malformed.status, 400);
    assert_eq!(malformed.attributes("#back", "href"), [EVEREST]);
    assert_eq!(decline_of(&app, PUSHY).await.unwrap(), original);
}

#[tokio::test]
async fn a_number_is_added_to_a_company_and_bad_numbers_or_companies_change_nothing() {
    let app = spawn_app().await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;
    let browser = app.signed_in().await;
    let added =
        browser.post(&format!("{EVEREST}/declines"), &[("target", "020 7946 0124"), ("note", "second line")]).await;
    assert_eq!(added.status, 303, "{}", added.text);
    let page = browser.get(added.location.as_deref().unwrap()).await;
    assert!(page.text_of("#declined").starts_with("Declined +442079460124 (Everest Windows)"), "{}", page.text);
    assert_eq!(page.texts("#declines .target"), ["+442079460123", "+442079460124"]);
    let second = decline_of(&app, "+442079460124").await.unwrap();
    assert_eq!((second["company"].as_str(), second["channel"].as_str()), (Some("Everest Windows"), Some("web")));

    let refused = browser.post(&format!("{EVEREST}/declines"), &[("target", "banana"), ("note", "kept")]).await;
    assert_eq!(refused.status, 400);
    assert!(refused.text_of("#add-error").starts_with("number:"), "{}", refused.text_of("#add-error"));
    assert_eq!(refused.attributes("#add-number[open] input[name=target]", "value"), ["banana"]);
    assert_eq!(refused.attributes("#add-number input[name=note]", "value"), ["kept"]);

    let unknown = browser.post("/companies/company%3Anobody/declines", &[("target", "020 7946 0125")]).await;
    assert_eq!(unknown.status, 404);
    assert!(unknown.text_of("#error").contains("020 7946 0125 was not declined"), "{}", unknown.text_of("#error"));
    assert_eq!(app.declines().await.len(), 2, "nothing else was declined");
}

#[tokio::test]
async fn a_decline_is_removed_after_a_confirmation_and_the_undo_brings_it_back() {
    let app = spawn_app().await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows", "note": "kitchen upsell", "declined_by": "Sam"}))
        .await;
    app.decline(json!({"number": "+442079460124", "company": "Everest Windows"})).await;
    let original = decline_of(&app, PUSHY).await.unwrap();
    let browser = app.signed_in().await;
    let link = browser.get(EVEREST).await.attributes("#declines a.remove", "href")[0].clone();
    let confirm = browser.get(&link).await;
    assert_eq!(confirm.status, 200);
    assert!(confirm.text_of("h1").contains("+442079460123"));
    assert_eq!(decline_of(&app, PUSHY).await.unwrap(), original, "asking removes nothing");

    let removed = browser.post("/declines/remove", &[("target", PUSHY)]).await;
    assert_eq!(removed.location.as_deref(), Some(&*format!("{EVEREST}?removed=%2B442079460123")));
    let page = browser.get(removed.location.as_deref().unwrap()).await;
    let banner = page.text_of("#removed");
    assert!(banner.contains("Their next call: forwarded"), "{banner}");
    assert!(decline_of(&app, PUSHY).await.is_none());
    assert_eq!(app.call("CA910", PUSHY).await.verbs(), ["Dial"]);

    let back = page.attributes("#removed input[name=back]", "value");
    let undone = browser.post("/declines/undo", &[("number", PUSHY), ("back", &back[0])]).await;
    let banner = browser.get(undone.location.as_deref().unwrap()).await.text_of("#undone");
    assert!(banner.contains("is back as it was"), "{banner}");
    assert_eq!(decline_of(&app, PUSHY).await.unwrap(), original);

    let unknown = browser.get("/declines/remove?target=%2B442079460999").await;
    assert_eq!(unknown.status, 404);
}

#[tokio::test]
async fn allows_take_a_window_and_a_single_use_as_the_command_line_does() {
    let app = spawn_app().await;
    let browser = app.signed_in().await;
    let form = [
        ("number", "020 7946 0555"),
        ("name", "Kitchen callback"),
        ("from", "2099-01-08 14:00"),
        ("until", "2099-01-08 16:00"),
        ("once", "1"),
    ];
    let added = browser.post("/allows", &form).await;
    assert_eq!(added.location.as_deref(), Some("/allows?allowed=%2B442079460555"));
    let page = browser.get(added.location.as_deref().unwrap()).await;
    assert!(page.text_of("#allowed").contains("Their next call: forwarded"), "{}", page.text_of("#allowed"));
    assert_eq!(page.texts("tr.allow .window"), ["2099-01-08 14:00 to 2099-01-08 16:00, once"]);
    let (_, allows) = app.api(reqwest::Method::GET, "/allows", None).await;
    assert_eq!(allows[0]["from"], "2099-01-08T14:00:00Z");
    assert_eq!(allows[0]["until"], "2099-01-08T16:00:00Z");
    assert_eq!(allows[0]["once"], true);

    for (from, until) in [("2099-01-08 14:00", "teatime"), ("", "2001-01-01"), ("2099-01-09", "2099-01-08 14:00")] {
        let form = [("number", "020 7946 0556"), ("name", "Typed"), ("from", from), ("until", until)];
        let refused = browser.post("/allows", &form).await;
        assert_eq!(refused.status, 400, "{from} {until}");
        let error = refused.text_of("#error");
        assert!(error.starts_with("until"), "{error}");
        assert_eq!(refused.attributes("#add-allow input[name=name]", "value"), ["Typed"]);
        assert_eq!(refused.attributes("#add-allow input[name=from]", "value"), [from]);
        assert_eq!(refused.attributes("#add-allow input[name=until]", "value"), [until]);
    }
    let (_, allows) = app.api(reqwest::Method::GET, "/allows", None).await;
    assert_eq!(allows.as_array().unwrap().len(), 1, "nothing refused was added");
}

#[tokio::test]
async fn removing_an_allow_offers_an_undo_that_puts_it_back_exactly() {
    let app = spawn_app().await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;
    let (status, _) = app
        .api(
            reqwest::Method::POST,
            "/allows",
            Some(json!({"number": PUSHY, "name": "Dave", "until": "2099-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(status, 201);
    let (_, before) = app.api(reqwest::Method::GET, "/allows", None).await;
    let browser = app.signed_in().await;
    let removed = browser.post_on("/allows", "/allows/remove", &[("number", PUSHY)]).await;
    assert_eq!(removed.location.as_deref(), Some("/allows?unallowed=%2B442079460123"));
    let page = browser.get(removed.location.as_deref().unwrap()).await;
    let banner = page.text_of("#unallowed");
    assert!(banner.contains("Their next call: refused: Everest Windows"), "{banner}");
    assert_eq!(app.call("CA920", PUSHY).await.verbs(), ["Say", "Hangup"]);

    let undone = browser.post("/allows/undo", &[("number", PUSHY), ("back", "/allows")]).await;
    assert_eq!(undone.location.as_deref(), Some("/allows?undone_allow=%2B442079460123"));
    let (_, after) = app.api(reqwest::Method::GET, "/allows", None).await;
    assert_eq!(after, before, "the allow is exactly as it was");
    assert_eq!(app.call("CA921", PUSHY).await.verbs(), ["Dial"]);
}

#[tokio::test]
async fn the_undo_of_an_edit_puts_back_the_decline_as_it_was_just_before_the_edit() {
    let app = spawn_app().await;
    let browser = app.signed_in().await;
    browser.post("/calls/decline", &[("number", PUSHY), ("company", "Everest Windows"), ("note", "first")]).await;
    let before_edit = decline_of(&app, PUSHY).await.unwrap();
    let form = [("target", PUSHY), ("company", "Everest Windows"), ("note", "second")];
    assert_eq!(browser.post(&format!("{EVEREST}/declines/edit"), &form).await.status, 303);
    let undone = browser.post("/declines/undo", &[("number", PUSHY), ("back", EVEREST)]).await;
    assert_eq!(undone.status, 303);
    assert_eq!(decline_of(&app, PUSHY).await.unwrap(), before_edit, "not the state before the first decline");
    let again = browser.post("/declines/undo", &[("number", PUSHY), ("back", EVEREST)]).await;
    assert_eq!(again.status, 404, "that Undo is spent, and the older one with it");
    assert_eq!(decline_of(&app, PUSHY).await.unwrap(), before_edit);
}
