//! Acting on the Calls page in place: the answer the page's script asks for (the banner and every
//! row of the numbers changed), and declining several selected numbers at once with one Undo that
//! puts back exactly what was there; and the refusals, which change nothing.

use serde_json::json;

use crate::helpers::*;

const ROTATING: [&str; 3] = ["+442079460124", "+442079460125", "+442079460126"];

/// Every decline on record, as the admin API lists them without the calls since.
async fn declines(app: &TestApp) -> Vec<serde_json::Value> {
    let mut declines = app.declines().await;
    for decline in &mut declines {
        decline.as_object_mut().unwrap().remove("follow_ups");
    }
    declines
}

#[tokio::test]
async fn the_calls_page_offers_decline_as_a_button_and_a_box_on_each_row_for_decline_selected() {
    let app = spawn_app().await;
    app.call("CA100", PUSHY).await;
    app.call("CA101", ROTATING[0]).await;
    let browser = app.signed_in().await;
    let page = browser.get("/calls").await;
    assert_eq!(page.texts("tr.call details.act > summary.button"), ["Decline", "Decline"]);
    assert_eq!(page.attributes("tr.call input[type=checkbox][form=bulk-decline]", "value"), [ROTATING[0], PUSHY]);
    assert_eq!(page.attributes("form#bulk-decline", "action"), ["/calls/decline-selected"]);
    assert_eq!(page.texts("form#bulk-decline button"), ["Decline selected"]);
    assert_eq!(page.attributes("script[src]", "src"), ["/live.js", "/in-place.js"]);
    let script = reqwest::get(app.url("/in-place.js")).await.unwrap();
    assert_eq!(script.headers()["content-type"], "text/javascript");
    assert!(script.text().await.unwrap().contains("'X-Saidno-Fragment'"), "the script asks for the fragment");
}

#[tokio::test]
async fn a_decline_taken_in_place_answers_its_banner_and_every_row_of_the_number_and_so_does_its_undo() {
    let app = spawn_app().await;
    app.call("CA200", PUSHY).await;
    app.call("CA201", ROTATING[0]).await;
    app.call("CA202", PUSHY).await;
    let browser = app.signed_in().await;

    let declined = browser.post("/calls/decline", &[("number", PUSHY), ("company", "Everest Windows")]).await;
    assert_eq!(declined.status, 303, "{}", declined.text);
    let answer = browser.get_in_place(declined.location.as_deref().unwrap()).await;
    assert_eq!(answer.status, 200);
    assert!(answer.texts("header, h1, #bulk-decline").is_empty(), "a fragment, not the page: {}", answer.text);
    let banner = answer.text_of("#banners #declined");
    assert!(
        banner.starts_with("Declined +442079460123 (Everest Windows). Their next call will be refused."),
        "{banner}"
    );
    assert_eq!(answer.attributes("#changed-rows tr.call", "data-sid"), ["CA202", "CA200"], "both rows, no other");
    assert_eq!(answer.texts("#changed-rows summary.button"), ["Edit", "Edit"]);
    assert_eq!(answer.texts("#changed-rows .declined-since").len(), 2);
    assert_eq!(app.call("CA203", PUSHY).await.verbs(), ["Say", "Hangup"]);

    let undo = answer.attributes("#declined form[action='/declines/undo'] input[name=back]", "value");
    assert_eq!(undo, ["/calls"]);
    let undone = browser.post("/declines/undo", &[("number", PUSHY), ("back", "/calls")]).await;
    let answer = browser.get_in_place(undone.location.as_deref().unwrap()).await;
    assert!(answer.text_of("#banners #undone").starts_with("Undone: +442079460123 is no longer declined."));
    assert_eq!(answer.texts("#changed-rows tr[data-sid=CA200] summary.button"), ["Decline"]);
    assert!(answer.texts("#changed-rows .declined-since").is_empty());
    assert!(declines(&app).await.is_empty());
}

#[tokio::test]
async fn this_was_a_customer_taken_in_place_answers_the_allow_s_banner_and_rows() {
    let app = spawn_app().await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;
    app.call("CA300", PUSHY).await;
    let browser = app.signed_in().await;
    let allowed = browser.post("/calls/allow", &[("number", PUSHY)]).await;
    let answer = browser.get_in_place(allowed.location.as_deref().unwrap()).await;
    assert!(answer.text_of("#banners #allowed").starts_with("Allowed +442079460123"), "{}", answer.text);
    assert_eq!(answer.attributes("#changed-rows tr.call", "data-sid"), ["CA300"]);
    assert_eq!(answer.attributes("#banners #allowed form", "action"), ["/allows/undo"]);
}

#[tokio::test]
async fn several_numbers_are_declined_at_once_and_one_undo_puts_each_back_exactly() {
    let app = spawn_app().await;
    app.decline(json!({"number": ROTATING[0], "company": "Old Leads", "note": "first no"})).await;
    let (status, _) =
        app.api(reqwest::Method::POST, "/allows", Some(json!({"number": ROTATING[2], "name": "Dave"}))).await;
    assert_eq!(status, 201);
    for (call, number) in
        ["CA400", "CA401", "CA402", "CA403"].into_iter().zip([PUSHY, ROTATING[0], ROTATING[1], ROTATING[2]])
    {
        app.call(call, number).await;
    }
    let before = declines(&app).await;
    let browser = app.signed_in().await;

    let form = [
        ("company", "Rotating Ltd"),
        ("note", "same script"),
        ("number", PUSHY),
        ("number", ROTATING[0]),
        ("number", ROTATING[1]),
        ("number", ROTATING[2]),
        ("number", PUSHY),
    ];
    let declined = browser.post("/calls/decline-selected", &form).await;
    assert_eq!(declined.status, 303, "{}", declined.text);
    let page = browser.get(declined.location.as_deref().unwrap()).await;
    let banner = page.text_of("#declined-batch");
    assert!(
        banner.starts_with("Declined 4 numbers for Rotating Ltd (1 declined already: its decline is updated)."),
        "{banner}"
    );
    assert!(
        banner.contains(
            "The next call from +442079460126 still rings through: forwarded: +442079460126 is allowed (Dave)"
        ),
        "{banner}"
    );
    assert!(banner.contains("The next calls from the others will be refused."), "{banner}");
    assert_eq!(app.call("CA410", ROTATING[1]).await.verbs(), ["Say", "Hangup"], "the banner's promise holds");
    assert_eq!(app.call("CA411", ROTATING[2]).await.verbs(), ["Dial"]);
    let kept = declines(&app).await;
    assert_eq!(kept.len(), 4);
    let updated = kept.iter().find(|d| d["number"] == ROTATING[0]).unwrap();
    assert_eq!((&updated["company"], &updated["note"]), (&json!("Rotating Ltd"), &json!("same script")));
    assert_eq!(updated["declined_at"], before[0]["declined_at"], "the date of the first no stays");

    let batch = page.attributes("#declined-batch form[action='/declines/undo-selected'] input[name=batch]", "value");
    let in_place = browser.get_in_place(declined.location.as_deref().unwrap()).await;
    let mut sids = in_place.attributes("#changed-rows tr.call", "data-sid");
    sids.sort();
    assert_eq!(sids, ["CA400", "CA401", "CA402", "CA403", "CA410", "CA411"], "every call of the four numbers");
    let undone = browser.post("/declines/undo-selected", &[("batch", &batch[0]), ("back", "/calls")]).await;
    assert_eq!(undone.status, 303, "{}", undone.text);
    let answer = browser.get_in_place(undone.location.as_deref().unwrap()).await;
    let banner = answer.text_of("#banners #undone-batch");
    assert!(banner.starts_with("Undone: the 4 numbers are as they were before."), "{banner}");
    assert!(banner.contains("the decline of +442079460124 is back as it was"), "{banner}");
    assert!(banner.contains("+442079460125 is no longer declined"), "{banner}");
    assert_eq!(answer.texts("#changed-rows tr[data-sid=CA402] summary.button"), ["Decline"]);
    assert_eq!(declines(&app).await, before, "exactly the state before");
    let again = browser.post("/declines/undo-selected", &[("batch", &batch[0])]).await;
    assert_eq!(again.status, 404, "one Undo per action");
    assert_eq!(declines(&app).await, before);
}

/// A form's fields, in order, each name as often as it is sent.
type Form<'a> = Vec<(&'a str, &'a str)>;

#[tokio::test]
async fn decline_selected_refuses_bad_input_whole_and_changes_nothing() {
    let app = spawn_app().await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;
    let before = declines(&app).await;
    let browser = app.signed_in().await;
    let too_many: Vec<String> = (0..51).map(|n| format!("+4420794601{n:02}")).collect();
    let mut many_form = vec![("company", "Rotating Ltd")];
    many_form.extend(too_many.iter().map(|number| ("number", number.as_str())));
    let refusals: [(&str, Form, &str); 5] = [
        ("no rows selected", vec![("company", "Rotating Ltd")], "select at least one call"),
        ("a tampered number", vec![("number", ROTATING[0]), ("number", "+44207946*")], "is not a number from the log"),
        ("a word for a number", vec![("number", "everyone")], "is not a number from the log"),
        ("too many numbers", many_form, "at most 50 numbers at once, not 51"),
        (
            "a field twice",
            vec![("number", ROTATING[0]), ("company", "A"), ("company", "B")],
            "company is given more than once",
        ),
    ];
    for (what, form, why) in refusals {
        let refused = browser.post("/calls/decline-selected", &form).await;
        assert_eq!(refused.status, 400, "{what}: {}", refused.text);
        assert!(refused.text_of("#error").contains(why), "{what}: {}", refused.text_of("#error"));
        assert_eq!(refused.attributes("#back", "href").len(), 1, "{what}: the error leads back");
        assert_eq!(declines(&app).await, before, "{what} changed nothing");
    }
    let unknown = browser.post("/calls/decline-selected", &[("number", ROTATING[0]), ("everyone", "1")]).await;
    assert_eq!(unknown.status, 400);
    assert!(unknown.text_of("#error").contains("\"everyone\" is not a field of this form"));
    let not_text = browser.post_raw("/calls/decline-selected", b"number=%2B442079460124&note=\xff\xfe".to_vec()).await;
    assert_eq!(not_text.status, 400);
    assert!(not_text.text_of("#error").contains("not UTF-8"), "{}", not_text.text);
    let no_batch = browser.post("/declines/undo-selected", &[("batch", "123")]).await;
    assert_eq!(no_batch.status, 404);
    let malformed_undo = browser.post("/declines/undo-selected", &[("back", "/calls")]).await;
    assert_eq!(malformed_undo.status, 400);
    assert_eq!(declines(&app).await, before);
}
