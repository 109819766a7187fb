//! A voicemail plays on the web page through saidno, which fetches it from the provider with the
//! account's credentials: the browser sees neither, and only the account's own recordings are
//! fetched.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use tokio::sync::mpsc;

use crate::fake_twilio::Captured;
use crate::helpers::*;
use crate::openapi::twilio;

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const RECORDING: &str = "RE0123456789abcdef0123456789abcdef";

/// A message's audio: more than one chunk of bytes that are not text.
pub(crate) fn audio() -> Vec<u8> {
    (0..200_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect()
}

/// A stand-in for Twilio's recordings on a local socket: the account's recording's `.mp3`, and
/// only to the account's SID and auth token.
struct FakeRecordings {
    url: String,
    received: mpsc::UnboundedReceiver<Captured>,
}

impl FakeRecordings {
    async fn start() -> Self {
        let (sender, received) = mpsc::unbounded_channel();
        let app = axum::Router::new().fallback(serve_recording).with_state(sender);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, received }
    }

    /// Where the provider says the voicemail is, as its webhook names it.
    fn recording_url(&self) -> String {
        format!("{}/2010-04-01/Accounts/{ACCOUNT}/Recordings/{RECORDING}", self.url)
    }

    fn received(&mut self) -> Vec<Captured> {
        std::iter::from_fn(|| self.received.try_recv().ok()).collect()
    }
}

async fn serve_recording(State(sender): State<mpsc::UnboundedSender<Captured>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    let authorization = parts.headers.get("authorization").map(|v| v.to_str().unwrap().to_owned());
    let path = parts.uri.path().to_owned();
    let range = parts.headers.get("range").map(|v| v.to_str().unwrap().to_owned());
    let _ = sender.send(Captured {
        method: parts.method,
        path: path.clone(),
        query: parts.uri.query().unwrap_or_default().to_owned(),
        headers: parts.headers,
        body,
    });
    let expected = format!("Basic {}", BASE64.encode(format!("{ACCOUNT}:{AUTH_TOKEN}")));
    if authorization.as_deref() != Some(expected.as_str()) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    if path != format!("/2010-04-01/Accounts/{ACCOUNT}/Recordings/{RECORDING}.mp3") {
        return StatusCode::NOT_FOUND.into_response();
    }
    audio_answer(range.as_deref())
}

/// The message's audio as a provider serves it: whole, or the part a range asks for.
pub(crate) fn audio_answer(range: Option<&str>) -> Response {
    let audio = audio();
    // A part, as `bytes=first-last` asks for it, the way players seek.
    let part = range.and_then(|range| range.strip_prefix("bytes=")?.split_once('-'));
    if let Some((first, last)) = part {
        let (first, last): (usize, usize) = (first.parse().unwrap(), last.parse().unwrap());
        let whole = format!("bytes {first}-{last}/{}", audio.len());
        let headers = [("content-type", "audio/mpeg".to_owned()), ("content-range", whole)];
        return (StatusCode::PARTIAL_CONTENT, headers, audio[first..=last].to_vec()).into_response();
    }
    ([("content-type", "audio/mpeg"), ("accept-ranges", "bytes")], audio).into_response()
}

/// A forwarded call nobody answered, on which the caller left a 42-second message at `url`.
async fn leave_voicemail(app: &TestApp, call_id: &str, url: &str) {
    app.call(call_id, "+442079460555").await;
    let ended = [("CallSid", call_id), ("DialCallStatus", "no-answer"), ("DialCallDuration", "0")];
    assert_eq!(app.post_signed("/twilio/dial-status", &ended).await.status(), 200);
    let left = [("CallSid", call_id), ("RecordingUrl", url), ("RecordingDuration", "42")];
    assert_eq!(app.post_signed("/twilio/voicemail", &left).await.status(), 200);
}

async fn app_on(fake: &FakeRecordings, configure: impl FnOnce(&mut saidno::config::Settings)) -> TestApp {
    let base = fake.url.clone();
    spawn_app_with(move |settings| {
        settings.twilio.account_sid = ACCOUNT.into();
        settings.twilio.api_base_url = base;
        configure(settings);
    })
    .await
}

pub(crate) async fn get(browser: &Browser, path: &str, signed_in: bool) -> reqwest::Response {
    let mut request = browser.http.get(browser.url(path));
    if signed_in {
        request = request.header("cookie", browser.cookie.clone().unwrap());
    }
    tokio::time::timeout(Duration::from_secs(30), request.send()).await.unwrap().unwrap()
}

#[tokio::test]
async fn a_voicemail_plays_on_the_page_through_saidno_with_the_accounts_credentials() {
    let mut fake = FakeRecordings::start().await;
    let app = app_on(&fake, |_| {}).await;
    leave_voicemail(&app, "CA800", &fake.recording_url()).await;
    let browser = app.signed_in().await;

    let page = browser.get("/calls").await;
    assert!(page.text_of("tr.call[data-sid=CA800] td.outcome").contains("no answer; voicemail, 42 s"));
    assert_eq!(page.attributes("tr.call[data-sid=CA800] audio", "src"), ["/calls/CA800/voicemail"]);
    assert!(!page.text.contains(&fake.url), "the provider's address stays with saidno");
    assert!(!page.text.contains(AUTH_TOKEN) && !page.text.contains(ACCOUNT));

    let response = get(&browser, "/calls/CA800/voicemail", true).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "audio/mpeg");
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["accept-ranges"], "bytes");
    assert_eq!(response.bytes().await.unwrap().to_vec(), audio());

    let sent = fake.received();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let sent = &sent[0];
    assert_eq!(sent.path, format!("/2010-04-01/Accounts/{ACCOUNT}/Recordings/{RECORDING}.mp3"));
    // The description names the Recording resource with Twilio's `.json`; its audio is the same
    // resource with `.mp3`, under the same parameters and authentication.
    let mut as_described = sent.clone();
    as_described.path = sent.path.replace(".mp3", ".json");
    twilio().assert_accepts(&as_described);
}

#[tokio::test]
async fn a_player_seeking_in_the_message_gets_the_part_it_asks_for() {
    let mut fake = FakeRecordings::start().await;
    let app = app_on(&fake, |_| {}).await;
    leave_voicemail(&app, "CA804", &fake.recording_url()).await;
    let browser = app.signed_in().await;
    let response = browser
        .http
        .get(app.url("/calls/CA804/voicemail"))
        .header("cookie", browser.cookie.clone().unwrap())
        .header("range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 206);
    assert_eq!(response.headers()["content-range"], format!("bytes 100-199/{}", audio().len()));
    assert_eq!(response.bytes().await.unwrap().to_vec(), audio()[100..200].to_vec());
    let sent = fake.received();
    assert_eq!(sent[0].headers["range"], "bytes=100-199");
}

#[tokio::test]
async fn the_provider_gives_nothing_to_other_credentials_and_the_page_says_so() {
    let mut fake = FakeRecordings::start().await;
    let app = app_on(&fake, |settings| {
        settings.twilio.api_key_sid = format!("SK{}", "a".repeat(32));
        settings.twilio.api_key_secret = "not-the-accounts-secret".into();
    })
    .await;
    leave_voicemail(&app, "CA801", &fake.recording_url()).await;
    let browser = app.signed_in().await;
    let response = get(&browser, "/calls/CA801/voicemail", true).await;
    assert_eq!(response.status(), 502);
    assert!(!response.text().await.unwrap().contains("not-the-accounts-secret"));
    let sent = fake.received();
    assert_eq!(sent.len(), 1);
    twilio().assert_accepts(&Captured { path: sent[0].path.replace(".mp3", ".json"), ..sent[0].clone() });
}

#[tokio::test]
async fn no_voicemail_plays_without_signing_in_and_nothing_is_fetched() {
    let mut fake = FakeRecordings::start().await;
    let app = app_on(&fake, |_| {}).await;
    leave_voicemail(&app, "CA802", &fake.recording_url()).await;
    app.set_password().await;
    let browser = app.browser();
    let response = browser.http.get(app.url("/calls/CA802/voicemail")).send().await.unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/login");
    assert!(fake.received().is_empty());
}

#[tokio::test]
async fn a_recording_on_another_host_is_refused_and_never_fetched() {
    let mut fake = FakeRecordings::start().await;
    // The same path and the same credentials would be served here: only the host differs.
    let mut elsewhere = FakeRecordings::start().await;
    let app = app_on(&fake, |_| {}).await;
    leave_voicemail(&app, "CA803", &elsewhere.recording_url()).await;
    let browser = app.signed_in().await;

    let page = browser.get("/calls").await;
    assert!(page.text_of("tr.call[data-sid=CA803] td.outcome").contains("voicemail, 42 s"));
    assert!(page.attributes("tr.call[data-sid=CA803] audio", "src").is_empty(), "no player for it");
    let response = get(&browser, "/calls/CA803/voicemail", true).await;
    assert_eq!(response.status(), 403);
    let missing = get(&browser, "/calls/CA999/voicemail", true).await;
    assert_eq!(missing.status(), 404);
    assert!(elsewhere.received().is_empty(), "the other host was asked for nothing");
    assert!(fake.received().is_empty());
}
