//! `POST /twilio/sms`: the owner's text commands, sent as Twilio sends them.

use serde_json::json;

use crate::helpers::*;

const CALLER: &str = "+442079460555";
const OTHER_CALLER: &str = "+442079460556";

#[tokio::test]
async fn a_text_from_a_stranger_gets_no_reply_and_changes_nothing() {
    let app = spawn_app().await;
    app.call("CA300", CALLER).await;
    let twiml = app.text("+447700900999", "NO Everest").await;
    assert_eq!(twiml.verbs(), Vec::<String>::new(), "an empty answer sends no reply: {}", twiml.xml);
    assert!(app.declines().await.is_empty());
}

#[tokio::test]
async fn an_unsigned_text_is_refused() {
    let app = spawn_app().await;
    let body = form_body(&[("From", OWNER_MOBILE), ("Body", "NO +442079460123")]);
    assert_eq!(app.post_form("/twilio/sms", body, None).await.status(), 403);
    assert!(app.declines().await.is_empty());
}

#[tokio::test]
async fn no_with_a_company_declines_the_last_caller_who_rang_through() {
    let app = spawn_app().await;
    app.call("CA310", OTHER_CALLER).await;
    app.call("CA311", CALLER).await;

    let reply = app.command("no   everest windows").await;
    assert_eq!(
        reply,
        format!("Declined {CALLER} (everest windows). Their next call hears your refusal. UNDO to revert.")
    );
    let declines = app.declines().await;
    assert_eq!(declines.len(), 1);
    assert_eq!(declines[0]["number"], CALLER);
    assert_eq!(declines[0]["channel"], "text");
    assert_eq!(declines[0]["on_call"], "CA311", "the no was about the call that rang through");
    assert_eq!(app.call("CA312", CALLER).await.verbs(), ["Say", "Hangup"]);
}

#[tokio::test]
async fn no_names_a_number_even_one_the_numbering_plan_does_not_know_yet() {
    let app = spawn_app().await;
    let reply = app.command("NO +441632960123 Everest").await;
    assert!(reply.starts_with("Declined +441632960123 (Everest)."), "{reply}");
    assert_eq!(app.call("CA320", "+441632960123").await.verbs(), ["Say", "Hangup"]);
}

#[tokio::test]
async fn a_company_named_by_text_joins_a_decline_made_by_key() {
    let app = spawn_app().await;
    app.decline(json!({"number": CALLER, "channel": "phone"})).await;
    app.command(&format!("NO {CALLER} Everest Windows")).await;
    let declines = app.declines().await;
    assert_eq!(declines[0]["company"], "Everest Windows");
    assert_eq!(declines[0]["channel"], "phone", "the decline keeps where it was first said");
}

#[tokio::test]
async fn last_lists_five_calls_with_codes_that_no_can_use() {
    let app = spawn_app().await;
    for (index, from) in ["+442079460551", "+442079460552", "+442079460553", "+442079460554", CALLER, OTHER_CALLER]
        .into_iter()
        .enumerate()
    {
        app.call(&format!("CA33{index}"), from).await;
    }
    let listing = app.command("LAST").await;
    let lines: Vec<&str> = listing.lines().collect();
    assert_eq!(lines.len(), 6, "{listing}");
    assert!(lines[0].starts_with("1 ") && lines[0].contains(OTHER_CALLER), "{listing}");
    assert!(lines[1].starts_with("2 ") && lines[1].contains(CALLER), "{listing}");
    assert!(!listing.contains("+442079460551"), "only the last five: {listing}");

    // A new call does not shift the codes: they are those of the listing the owner saw.
    app.call("CA340", "+442079460557").await;
    let reply = app.command("NO 2 Everest").await;
    assert!(reply.starts_with(&format!("Declined {CALLER} (Everest).")), "{reply}");
}

#[tokio::test]
async fn a_code_without_a_listing_is_refused() {
    let app = spawn_app().await;
    app.call("CA350", CALLER).await;
    assert_eq!(app.command("NO 3").await, "No call 3: send LAST first. Nothing changed.");
    assert!(app.declines().await.is_empty());
}

#[tokio::test]
async fn undo_reverts_the_last_change_by_text_and_then_has_nothing_to_undo() {
    let app = spawn_app().await;
    assert_eq!(app.command("UNDO").await, "Nothing to undo. Nothing changed.");

    app.call("CA360", CALLER).await;
    app.command("NO Everest").await;
    assert_eq!(app.declines().await.len(), 1);
    assert_eq!(app.command("undo").await, format!("Undone: {CALLER} is no longer declined."));
    assert!(app.declines().await.is_empty());
    assert_eq!(app.call("CA361", CALLER).await.verbs(), ["Dial"]);
    assert_eq!(app.command("UNDO").await, "Nothing to undo. Nothing changed.");
}

#[tokio::test]
async fn undo_by_text_puts_back_the_decline_that_a_text_changed() {
    let app = spawn_app().await;
    app.decline(
        json!({"number": CALLER, "company": "Everest Windows", "note": "kitchen upsell", "declined_by": "Sam"}),
    )
    .await;
    let original = app.declines().await;
    app.command(&format!("NO {CALLER} Rotating")).await;
    assert_ne!(app.declines().await, original);
    assert_eq!(app.command("UNDO").await, format!("Undone: {CALLER} is declined as before."));
    assert_eq!(app.declines().await, original);
}

#[tokio::test]
async fn allow_for_a_while_records_a_window_that_ends() {
    let app = spawn_app().await;
    let before = jiff::Timestamp::now();
    let reply = app.command("ALLOW +442079460123 for 2h").await;
    assert!(reply.starts_with("+442079460123 rings through until "), "{reply}");
    let (_, allows) = app.api(reqwest::Method::GET, "/allows", None).await;
    let until: jiff::Timestamp = allows[0]["until"].as_str().unwrap().parse().unwrap();
    let span = until.duration_since(before);
    assert!(span >= jiff::SignedDuration::from_hours(2) && span < jiff::SignedDuration::from_hours(3), "{span:?}");
    assert!(allows[0]["from"].is_null());

    assert_eq!(app.command("UNDO").await, "Undone: +442079460123 is no longer allowed.");
    let (_, allows) = app.api(reqwest::Method::GET, "/allows", None).await;
    assert_eq!(allows, json!([]));
}

#[tokio::test]
async fn a_timed_allow_by_text_lets_a_declined_number_ring_through() {
    let app = spawn_app().await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;
    assert_eq!(app.call("CA380", PUSHY).await.verbs(), ["Say", "Hangup"]);
    app.command(&format!("ALLOW {PUSHY} until tomorrow 23:59")).await;
    assert_eq!(app.call("CA381", PUSHY).await.verbs(), ["Dial"], "the expected callback rings through");
}

#[tokio::test]
async fn a_malformed_command_says_what_is_wrong_and_changes_nothing() {
    let app = spawn_app().await;
    for (text, expected) in [
        ("ALLOW", "ALLOW needs a number"),
        ("ALLOW +442079460123 for ever", "Say how long"),
        ("ALLOW +442079460123 until tomorrow", "Say a time"),
        ("NO 12345 Everest", "neither a phone number nor a code"),
        ("NO 0800 FLOWERS", "neither a phone number nor a code"),
        ("LAST please", "LAST takes nothing after it"),
    ] {
        let reply = app.command(text).await;
        assert!(reply.contains(expected) && reply.contains("Nothing changed"), "{text:?} -> {reply}");
    }
    assert!(app.declines().await.is_empty());
    let (_, allows) = app.api(reqwest::Method::GET, "/allows", None).await;
    assert_eq!(allows, json!([]));
}

#[tokio::test]
async fn an_unknown_command_gets_the_help_text_which_fits_one_segment() {
    let app = spawn_app().await;
    let help = app.command("HELP").await;
    assert!(help.contains("NO") && help.contains("UNDO") && help.contains("ALLOW") && help.contains("STATUS"));
    assert!(help.len() <= 160, "{} characters", help.len());
    assert_eq!(app.command("what is this").await, help);
    assert_eq!(app.command("").await, help);
}

#[tokio::test]
async fn status_counts_today_and_names_the_most_persistent_company() {
    let app = spawn_app().await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;
    app.decline(json!({"number": OTHER_CALLER, "company": "PC Fixers"})).await;
    app.call("CA370", PUSHY).await;
    app.call("CA371", PUSHY).await;
    app.call("CA372", OTHER_CALLER).await;
    app.call("CA373", CALLER).await;
    let status = app.command("status").await;
    assert!(status.starts_with("Today: 4 calls, 3 refused."), "{status}");
    assert!(status.contains("Most persistent: Everest Windows, 2 calls since you said no on"), "{status}");
}
