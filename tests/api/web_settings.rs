//! The settings page: the pause switch, saved with who changed it and when before the page says
//! so, and the settings the configuration file holds, shown with where to change them.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn the_pause_switch_is_changed_from_the_settings_page_and_the_change_is_recorded() {
    let app = spawn_app_with(|s| s.policy.withheld = saidno::config::CallerPolicy::Refuse).await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;
    let browser = app.signed_in().await;
    let page = browser.get("/settings").await;
    assert!(page.text_of("#pause-state").contains("never been switched"), "{}", page.text_of("#pause-state"));
    assert_eq!(page.attributes("#pause-switch input[name=paused]", "value"), ["true"]);
    let withheld = page.texts("tr.fixed").into_iter().find(|row| row.starts_with("Withheld callers")).unwrap();
    assert!(withheld.contains("refuse") && withheld.contains("[policy] withheld"), "{withheld}");

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
