//! The live pages: calls reach an open Calls page and Dashboard as server-sent events, only for a
//! signed-in browser, each carrying the markup the page renders on load.

use std::time::Duration;

use serde_json::json;

use crate::helpers::*;

/// An open event stream, read event by event.
struct Events {
    response: reqwest::Response,
    buffered: String,
}

impl Events {
    async fn open(browser: &Browser<'_>, app: &TestApp, path: &str) -> Self {
        Self::open_at(&browser.http, &app.url(path), browser.cookie.as_deref().unwrap()).await
    }

    async fn open_at(http: &reqwest::Client, url: &str, cookie: &str) -> Self {
        let response = http.get(url).header("cookie", cookie).send().await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Self { response, buffered: String::new() }
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
    let (name, cards) = events.next().await;
    assert_eq!(name, "cards");
    let cards = scraper::Html::parse_fragment(&cards);
    assert_eq!(text(&cards, "#today a.all b"), "1");
    assert_eq!(text(&cards, "#today a.forwarded"), "1 forwarded");
}

#[tokio::test]
async fn signing_out_ends_the_stream_before_the_next_call_is_sent() {
    let app = spawn_app().await;
    let browser = app.signed_in().await;
    let events = Events::open(&browser, &app, "/calls/live").await;
    let other = Events::open(&browser, &app, "/live/dashboard").await;
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
