//! The live pages: calls reach an open Calls page and Dashboard as server-sent events, only for a
//! signed-in browser, each carrying the markup the page renders on load.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::json;

use crate::helpers::*;

/// An open event stream, read event by event.
struct Events {
    response: reqwest::Response,
    buffered: String,
    /// The id of the last event that had one, as a browser keeps it to resume with.
    last_id: Option<String>,
}

impl Events {
    async fn open(browser: &Browser, app: &TestApp, path: &str) -> Self {
        Self::open_at(&browser.http, &app.url(path), browser.cookie.as_deref().unwrap()).await
    }

    /// Opens the stream again as a browser does after it dropped: with the last id it was sent.
    async fn resume(browser: &Browser, app: &TestApp, path: &str, last_id: &str) -> Self {
        let request = browser.http.get(app.url(path)).header("last-event-id", last_id);
        Self::opened(request.header("cookie", browser.cookie.as_deref().unwrap()).send().await.unwrap()).await
    }

    async fn open_at(http: &reqwest::Client, url: &str, cookie: &str) -> Self {
        Self::opened(http.get(url).header("cookie", cookie).send().await.unwrap()).await
    }

    async fn opened(response: reqwest::Response) -> Self {
        assert_eq!(response.status(), 200, "{}", response.url());
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Self { response, buffered: String::new(), last_id: None }
    }

    /// The next event's name and data, skipping the keep-alive comments. The bound only keeps a
    /// broken test from hanging forever.
    async fn next(&mut self) -> (String, String) {
        tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                if let Some(end) = self.buffered.find("\n\n") {
                    let block: String = self.buffered.drain(..end + 2).collect();
                    let (mut name, mut data) = (String::new(), Vec::new());
                    for line in block.lines() {
                        if let Some(value) = line.strip_prefix("event:") {
                            name = value.trim().to_owned();
                        } else if let Some(value) = line.strip_prefix("data:") {
                            data.push(value.strip_prefix(' ').unwrap_or(value).to_owned());
                        } else if let Some(value) = line.strip_prefix("id:") {
                            self.last_id = Some(value.trim().to_owned());
                        }
                    }
                    if !name.is_empty() {
                        return (name, data.join("\n"));
                    }
                    continue;
                }
                let chunk = self.response.chunk().await.unwrap().expect("the stream ended");
                self.buffered.push_str(std::str::from_utf8(&chunk).unwrap());
            }
        })
        .await
        .expect("no event arrived")
    }
}

impl Events {
    /// Reads events until the newest one named `name` satisfies `wanted`, keeping the newest of
    /// each name read on the way.
    async fn until(&mut self, name: &str, wanted: impl Fn(&str) -> bool) -> HashMap<String, String> {
        self.until_all(|newest| newest.get(name).is_some_and(|data| wanted(data))).await
    }

    /// Reads events until the newest of each name, together, satisfy `wanted`.
    async fn until_all(&mut self, wanted: impl Fn(&HashMap<String, String>) -> bool) -> HashMap<String, String> {
        let mut newest = HashMap::new();
        loop {
            let (event, data) = self.next().await;
            newest.insert(event, data);
            if wanted(&newest) {
                return newest;
            }
        }
    }

    /// Reads on until the stream ends, which it must without another event.
    async fn ends_without_an_event(mut self) {
        tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(chunk) = self.response.chunk().await.unwrap() {
                self.buffered.push_str(std::str::from_utf8(&chunk).unwrap());
                assert!(!self.buffered.contains("event:"), "an event came after all: {}", self.buffered);
            }
        })
        .await
        .expect("the stream did not end");
    }
}

fn fragment(html: &str) -> scraper::Html {
    scraper::Html::parse_fragment(&format!("<table><tbody>{html}</tbody></table>"))
}

fn text(html: &scraper::Html, selector: &str) -> String {
    let selector = scraper::Selector::parse(selector).unwrap();
    html.select(&selector).map(|e| e.text().collect::<String>()).collect::<Vec<_>>().join(" ")
}

#[tokio::test]
async fn a_new_call_the_filters_let_through_arrives_as_the_row_the_page_renders() {
    let app = spawn_app().await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;
    let browser = app.signed_in().await;
    let page = browser.get("/calls?decision=forward").await;
    let live = page.attributes("table#calls", "data-live");
    assert_eq!(live, ["/calls/live?decision=forward&"]);
    assert_eq!(page.attributes("script", "src"), ["/live.js", "/in-place.js"]);
    let mut events = Events::open(&browser, &app, &live[0]).await;

    app.call("CA901", PUSHY).await;
    app.call("CA902", "+442079460555").await;
    let (name, row) = events.next().await;
    assert_eq!(name, "call");
    let row = fragment(&row);
    let sid = scraper::Selector::parse("tr.call").unwrap();
    let sids: Vec<_> = row.select(&sid).filter_map(|tr| tr.value().attr("data-sid")).collect();
    assert_eq!(sids, ["CA902"], "the refused call is not one the page's filter shows");

    let loaded = browser.get("/calls?decision=forward").await;
    for part in ["span.number", "td.decision", "td.outcome", "td.actions button"] {
        assert_eq!(text(&row, part), loaded.text_of(&format!("tr.call[data-sid=CA902] {part}")), "{part}");
    }
    assert_eq!(text(&row, "span.number"), "020 7946 0555");
}

#[tokio::test]
async fn an_older_page_of_the_log_is_not_live() {
    let app = spawn_app().await;
    let browser = app.signed_in().await;
    let page = browser.get("/calls?before=00000000000000000000000000000000").await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.attributes("table#calls", "data-live").is_empty());
    assert_eq!(page.attributes("script", "src"), ["/in-place.js"], "no live script, only the one for acting in place");
    let stream = browser.get("/calls/live?before=00000000000000000000000000000000").await;
    assert_eq!(stream.status, 400);
}

#[tokio::test]
async fn the_dashboard_counts_today_anew_after_each_call() {
    let app = spawn_app().await;
    let browser = app.signed_in().await;
    let page = browser.get("/").await;
    assert_eq!(page.attributes("#cards", "data-live"), ["/live/dashboard"]);
    assert_eq!(page.text_of("#today a.all b"), "0");
    let mut events = Events::open(&browser, &app, "/live/dashboard").await;
    app.call("CA910", "+442079460555").await;
    let newest =
        events.until("cards", |cards| text(&scraper::Html::parse_fragment(cards), "#today a.all b") == "1").await;
    let cards = scraper::Html::parse_fragment(&newest["cards"]);
    assert_eq!(text(&cards, "#today a.forwarded"), "1 forwarded");
}

/// The row of call `sid` in an event's markup, with the text of its outcome.
fn outcome_of(row: &str, sid: &str) -> Option<String> {
    let row = fragment(row);
    let selector = scraper::Selector::parse(&format!("tr.call[data-sid={sid}] td.outcome")).unwrap();
    row.select(&selector).next().map(|cell| cell.text().collect())
}

#[tokio::test]
async fn an_outcome_reported_later_replaces_its_row_on_every_view_that_shows_it() {
    let app = spawn_app().await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;
    let browser = app.signed_in().await;
    let page = browser.get("/calls").await;
    let mut all = Events::open(&browser, &app, &page.attributes("table#calls", "data-live")[0]).await;
    let mut forwarded = Events::open(&browser, &app, "/calls/live?decision=forward").await;
    let mut refused = Events::open(&browser, &app, "/calls/live?decision=decline").await;

    app.call("CA940", "+442079460555").await;
    for events in [&mut all, &mut forwarded] {
        let (name, row) = events.next().await;
        assert_eq!((name.as_str(), outcome_of(&row, "CA940").as_deref()), ("call", Some("")));
    }
    let response = app
        .post_signed(
            "/twilio/dial-status",
            &[("CallSid", "CA940"), ("DialCallStatus", "completed"), ("DialCallDuration", "65")],
        )
        .await;
    assert_eq!(response.status(), 200);
    let loaded = browser.get("/calls").await;
    assert_eq!(loaded.text_of("tr.call[data-sid=CA940] td.outcome"), "answered, 1 min 05 s");
    for events in [&mut all, &mut forwarded] {
        let (name, row) = events.next().await;
        assert_eq!(name, "outcome", "an update of a row, not a new call");
        assert_eq!(outcome_of(&row, "CA940").as_deref(), Some("answered, 1 min 05 s"));
        for part in ["span.number", "td.decision", "td.reason", "td.actions button"] {
            assert_eq!(
                text(&fragment(&row), part),
                loaded.text_of(&format!("tr.call[data-sid=CA940] {part}")),
                "{part}"
            );
        }
    }
    // The refused calls' view never showed the call, so it hears nothing of it: its next event is
    // the next refused call, which the broadcast carries after the outcome.
    app.call("CA941", PUSHY).await;
    let (name, row) = refused.next().await;
    assert_eq!(name, "call");
    assert_eq!(outcome_of(&row, "CA941").as_deref(), Some("spoken refusal"));
    // Voicemail, later still, replaces the row again with its length.
    app.call("CA942", "+442079460556").await;
    app.post_signed("/twilio/dial-status", &[("CallSid", "CA942"), ("DialCallStatus", "no-answer")]).await;
    let recording = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE942";
    app.post_signed(
        "/twilio/voicemail",
        &[("CallSid", "CA942"), ("RecordingUrl", recording), ("RecordingDuration", "14")],
    )
    .await;
    let newest =
        all.until("outcome", |row| outcome_of(row, "CA942").as_deref() == Some("no answer; voicemail, 14 s")).await;
    assert!(newest["outcome"].contains(r#"data-sid="CA942""#));
}

#[tokio::test]
async fn a_call_logged_after_the_page_was_read_arrives_when_the_stream_opens() {
    let app = spawn_app().await;
    app.call("CA950", "+442079460555").await;
    let browser = app.signed_in().await;
    let page = browser.get("/calls").await;
    let live = page.attributes("table#calls", "data-live");
    assert_eq!(live, ["/calls/live?after=CA950"], "the page says where it left off");
    app.call("CA951", "+442079460556").await;
    // Read again, so the call is surely in the log before the stream opens.
    assert_eq!(browser.get("/calls").await.attributes("tr.call", "data-sid"), ["CA951", "CA950"]);

    let mut events = Events::open(&browser, &app, &live[0]).await;
    let (name, row) = events.next().await;
    assert_eq!(name, "call");
    assert!(row.contains(r#"data-sid="CA951""#), "the call made before the stream opened comes first: {row}");
    assert_eq!(events.last_id.as_deref(), Some("CA951"));
    app.call("CA952", "+442079460557").await;
    let (name, row) = events.next().await;
    assert_eq!(name, "call");
    assert!(row.contains(r#"data-sid="CA952""#), "then the next, without CA951 again or CA950: {row}");
}

#[tokio::test]
async fn an_outcome_reported_after_the_page_was_read_arrives_when_the_stream_opens() {
    let app = spawn_app().await;
    app.call("CA955", "+442079460555").await;
    let browser = app.signed_in().await;
    let page = browser.get("/calls").await;
    assert_eq!(page.text_of("tr.call[data-sid=CA955] td.outcome"), "");
    let response = app
        .post_signed(
            "/twilio/dial-status",
            &[("CallSid", "CA955"), ("DialCallStatus", "completed"), ("DialCallDuration", "65")],
        )
        .await;
    assert_eq!(response.status(), 200);
    // Read again, so the outcome is surely in the log before the stream opens.
    let loaded = browser.get("/calls").await;
    assert_eq!(loaded.text_of("tr.call[data-sid=CA955] td.outcome"), "answered, 1 min 05 s");

    let mut events = Events::open(&browser, &app, &page.attributes("table#calls", "data-live")[0]).await;
    let (name, row) = events.next().await;
    assert_eq!(name, "outcome", "the row the page shows, as it now stands");
    assert_eq!(outcome_of(&row, "CA955").as_deref(), Some("answered, 1 min 05 s"));
    app.call("CA956", "+442079460556").await;
    let (name, row) = events.next().await;
    assert_eq!(name, "call");
    assert!(row.contains(r#"data-sid="CA956""#), "then the next call, and nothing else first: {row}");
}

#[tokio::test]
async fn a_browser_reconnecting_resumes_after_the_last_call_it_was_sent_without_duplicates() {
    let app = spawn_app().await;
    let browser = app.signed_in().await;
    let mut events = Events::open(&browser, &app, "/calls/live").await;
    app.call("CA960", "+442079460555").await;
    events.next().await;
    let last_id = events.last_id.clone().unwrap();
    assert_eq!(last_id, "CA960");
    drop(events);

    app.call("CA961", "+442079460556").await;
    app.call("CA962", "+442079460557").await;
    assert_eq!(browser.get("/calls").await.attributes("tr.call", "data-sid").len(), 3, "all in the log");
    // The page's own link still names where the page began; the browser's id is newer.
    let mut events = Events::resume(&browser, &app, "/calls/live?after=CA000", &last_id).await;
    app.call("CA963", "+442079460558").await;
    let mut sent = Vec::new();
    while sent.len() < 3 {
        let (name, row) = events.next().await;
        let id = events.last_id.clone().unwrap();
        assert_eq!(name, "call");
        assert!(row.contains(&format!(r#"data-sid="{id}""#)), "{row}");
        sent.push(id);
    }
    assert_eq!(sent, ["CA961", "CA962", "CA963"], "the calls missed, oldest first, then the next, each once");
}

#[tokio::test]
async fn a_resume_point_that_is_not_a_call_id_is_refused() {
    let app = spawn_app().await;
    let browser = app.signed_in().await;
    let long = format!("/calls/live?after={}", "A".repeat(200));
    for path in [long.as_str(), "/calls/live?after=CA1%0Adata:%20x"] {
        let page = browser.get(path).await;
        assert_eq!(page.status, 400, "{path}");
        assert!(page.text.contains("after: is not the id of a call"), "{}", page.text);
    }
    let response = browser
        .http
        .get(app.url("/calls/live"))
        .header("cookie", browser.cookie.as_deref().unwrap())
        .header("last-event-id", "CA1\tx\t")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("Last-Event-ID: is not the id of a call"));
}

#[tokio::test]
async fn the_dashboard_chart_the_calls_after_a_no_and_the_repeat_callers_are_counted_anew() {
    let app = spawn_app().await;
    app.decline(json!({"number": PUSHY, "company": "Everest Windows"})).await;
    let browser = app.signed_in().await;
    let page = browser.get("/").await;
    for part in ["cards", "after-no", "chart", "top", "repeats"] {
        assert_eq!(page.attributes(&format!("[data-part={part}]"), "data-part"), [part]);
    }
    assert!(page.text_of("#no-repeats").contains("No unknown number"));
    let mut events = Events::open(&browser, &app, "/live/dashboard").await;

    app.call("CA970", PUSHY).await;
    for n in 1..=3 {
        app.call(&format!("CA97{n}"), "+442079460555").await;
    }
    // Each part is read from the log on its own, so one counted mid-burst is counted again after.
    let today = "#chart a.bar:last-of-type title";
    let newest = events
        .until_all(|newest| {
            let chart = newest.get("chart").map(|chart| text(&scraper::Html::parse_fragment(chart), today));
            chart.is_some_and(|title| title.ends_with(": 3 forwarded, 0 screened or after hours, 1 refused"))
                && newest.get("repeats").is_some_and(|repeats| repeats.contains("called 3 times in one day"))
        })
        .await;
    let loaded = browser.get("/").await;
    let parse = |name: &str| scraper::Html::parse_fragment(&newest[name]);
    assert_eq!(text(&parse("chart"), today), loaded.text_of(today));
    assert!(
        loaded.text_of(today).ends_with(": 3 forwarded, 0 screened or after hours, 1 refused"),
        "{}",
        loaded.text_of(today)
    );
    assert_eq!(text(&parse("chart"), "#chart-title"), loaded.text_of("#chart-title"));
    assert_eq!(text(&parse("after-no"), "#after-no tr.week:last-child b.calls"), "1", "this week's call after a no");
    assert_eq!(text(&parse("top"), "#top-companies td"), loaded.text_of("#top-companies td"));
    assert_eq!(text(&parse("repeats"), "tr.repeat-caller span.number"), "020 7946 0555");
    assert_eq!(text(&parse("repeats"), "tr.repeat-caller .summary"), "called 3 times in one day, never declined");
}

#[tokio::test]
async fn signing_out_ends_the_stream_before_the_next_call_is_sent() {
    let app = spawn_app().await;
    let browser = app.signed_in().await;
    let events = Events::open(&browser, &app, "/calls/live").await;
    let mut other = Events::open(&browser, &app, "/live/dashboard").await;
    // The Dashboard's parts as the stream opened, which it may send before the sign-out is read.
    let parts = ["cards", "after-no", "chart", "top", "repeats"];
    other.until_all(|newest| parts.iter().all(|part| newest.contains_key(*part))).await;
    assert_eq!(browser.post("/logout", &[]).await.location.as_deref(), Some("/login"));
    app.call("CA930", "+442079460555").await;
    events.ends_without_an_event().await;
    other.ends_without_an_event().await;
}

#[tokio::test]
async fn no_stream_opens_without_signing_in() {
    let app = spawn_app().await;
    app.set_password().await;
    let browser = app.browser();
    for path in ["/calls/live", "/live/dashboard"] {
        let response = browser.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 303, "{path}");
        assert_eq!(response.headers()["location"], "/login", "{path}");
        assert_ne!(response.headers().get("content-type").map(|v| v.to_str().unwrap()), Some("text/event-stream"));
    }
}

#[tokio::test]
async fn the_script_is_served_by_saidno_within_its_policy() {
    let app = spawn_app().await;
    let response = app.http.get(app.url("/live.js")).send().await.unwrap();
    assert_eq!(response.headers()["content-type"], "text/javascript");
    assert!(response.headers()["content-security-policy"].to_str().unwrap().contains("script-src 'self'"));
    assert!(response.text().await.unwrap().contains("EventSource"));
}

#[test]
fn the_real_server_streams_a_call_and_an_open_stream_does_not_hold_up_its_stop() {
    let binary = Binary::new("");
    let mut setting = binary
        .command()
        .args(["admin", "set-password"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::io::Write::write_all(setting.stdin.as_mut().unwrap(), format!("{PASSWORD}\n").as_bytes()).unwrap();
    assert!(setting.wait().unwrap().success());
    let mut server = binary.serve();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (_open, row) = runtime.block_on(async {
        let http = saidno::tls::client_builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let signed_in = http
            .post(format!("{}/login", server.url))
            .header("origin", &server.url)
            .form(&[("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(signed_in.status(), 303);
        let cookie = signed_in.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
        let mut events = Events::open_at(&http, &format!("{}/calls/live", server.url), &cookie).await;
        let url = server.url.clone();
        tokio::task::spawn_blocking(move || call_at(&url, "CA920", "+442079460555")).await.unwrap();
        let (name, row) = events.next().await;
        assert_eq!(name, "call");
        (events, row)
    });
    assert!(row.contains(r#"data-sid="CA920""#), "{row}");
    // The stream is still open: stopping ends it rather than waiting for it.
    assert!(server.terminate().success());
    assert!(!server.log().contains("still open"), "{}", server.log());
}
