//! A voicemail left through Telnyx, Plivo or Vonage plays on the page through saidno, which
//! fetches it from a stand-in for the provider on a local socket, signed in as each provider asks:
//! the browser sees neither the credentials nor the provider's address.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD as BASE64, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::fake_twilio::Captured;
use crate::helpers::*;
use crate::openapi::{Description, plivo_accepts, vonage_recording_accepts};
use crate::voicemail_playback::{audio, audio_answer, get};

/// What a provider answers to a request before it serves the audio: `Some` for anything else
/// (a refusal, or the resource that names the audio), `None` to serve it.
pub(crate) type Gate = fn(&Captured, &str) -> Option<Response>;

pub(crate) struct StandIn {
    pub(crate) url: String,
    received: mpsc::UnboundedReceiver<Captured>,
}

type Shared = (mpsc::UnboundedSender<Captured>, Gate, Arc<String>);

impl StandIn {
    pub(crate) async fn start(gate: Gate) -> Self {
        let (sender, received) = mpsc::unbounded_channel();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state: Shared = (sender, gate, Arc::new(url.clone()));
        let app = axum::Router::new().fallback(serve).with_state(state);
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, received }
    }

    pub(crate) fn received(&mut self) -> Vec<Captured> {
        std::iter::from_fn(|| self.received.try_recv().ok()).collect()
    }
}

async fn serve(State((sender, gate, url)): State<Shared>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let captured = Captured {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or_default().to_owned(),
        headers: parts.headers,
        body: axum::body::to_bytes(body, 1 << 20).await.unwrap(),
    };
    let _ = sender.send(captured.clone());
    if let Some(answer) = gate(&captured, &url) {
        return answer;
    }
    audio_answer(captured.headers.get("range").map(|v| v.to_str().unwrap()))
}

/// Waits, with a generous bound, until the log holds the voicemail left on `call_id`: the
/// callback is answered before the log has it.
async fn logged(app: &TestApp, call_id: &str) {
    for _ in 0..200 {
        let calls = app.calls().await;
        let call = calls.iter().find(|call| call["call_sid"] == call_id);
        if call.is_some_and(|call| call["outcome"]["recording_secs"] == 42) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the voicemail on {call_id} was never logged");
}

fn authorization(sent: &Captured) -> &str {
    sent.headers.get("authorization").map_or("", |v| v.to_str().unwrap())
}

/// The page shows the message's length and a player that asks saidno, not the provider.
async fn assert_plays(app: &TestApp, call_id: &str, secs: &str, provider: &str) -> Browser {
    let browser = app.signed_in().await;
    let page = browser.get("/calls").await;
    let row = format!("tr.call[data-sid=\"{call_id}\"]");
    assert!(page.text_of(&format!("{row} td.outcome")).contains(&format!("voicemail, {secs}")), "{provider}");
    assert_eq!(page.attributes(&format!("{row} audio"), "src"), [format!("/calls/{call_id}/voicemail")]);
    assert!(!page.text.contains("127.0.0.1"), "the provider's address stays with saidno");
    let response = get(&browser, &format!("/calls/{call_id}/voicemail"), true).await;
    assert_eq!(response.status(), 200, "{provider}");
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.bytes().await.unwrap().to_vec(), audio(), "{provider}");
    browser
}

async fn get_part(browser: &Browser, path: &str) -> reqwest::Response {
    let request = browser.http.get(browser.url(path)).header("cookie", browser.cookie.clone().unwrap());
    request.header("range", "bytes=100-199").send().await.unwrap()
}

async fn assert_part(browser: &Browser, path: &str) {
    let response = get_part(browser, path).await;
    assert_eq!(response.status(), 206);
    assert_eq!(response.headers()["content-range"], format!("bytes 100-199/{}", audio().len()));
    assert_eq!(response.bytes().await.unwrap().to_vec(), audio()[100..200].to_vec());
}

// Plivo: the recording on its media host, with the Auth ID and Auth Token.

const AUTH_ID: &str = "MAXXXXXXXXXXXXXXXXXX";
const PLIVO_RECORDING: &str = "d405c4eb-d562-4399-af32-6ff3c57fa559";

fn plivo_gate(sent: &Captured, _: &str) -> Option<Response> {
    let expected = format!("Basic {}", BASE64.encode(format!("{AUTH_ID}:{}", crate::plivo::PLIVO_TOKEN)));
    if authorization(sent) != expected {
        return Some(StatusCode::UNAUTHORIZED.into_response());
    }
    (sent.path != format!("/v1/Account/{AUTH_ID}/Recording/{PLIVO_RECORDING}.mp3"))
        .then(|| StatusCode::NOT_FOUND.into_response())
}

async fn plivo_voicemail(app: &TestApp, call_id: &str, url: &str) {
    use crate::plivo::{call_params, signed};
    signed(app, "/plivo/voice", &call_params(call_id, "442079460777")).await;
    let mut status = call_params(call_id, "442079460777");
    status.push(("DialStatus", "timeout".into()));
    signed(app, "/plivo/dial-status", &status).await;
    let mut left = call_params(call_id, "442079460777");
    left.push(("RecordUrl", url.to_owned()));
    left.push(("RecordingDuration", "42".into()));
    signed(app, "/plivo/voicemail", &left).await;
    logged(app, call_id).await;
}

async fn plivo_app(stand_in: &StandIn, token: &str) -> TestApp {
    let (media, token) = (stand_in.url.clone(), token.to_owned());
    crate::plivo::plivo_app_with(move |s| {
        s.plivo.auth_id = AUTH_ID.into();
        s.plivo.media_base_url = media;
        if !token.is_empty() {
            s.plivo.auth_token = token;
        }
    })
    .await
}

#[tokio::test]
async fn a_plivo_voicemail_plays_fetched_with_the_auth_id_and_token_and_a_player_can_seek() {
    let mut media = StandIn::start(plivo_gate).await;
    let app = plivo_app(&media, "").await;
    let url = format!("{}/v1/Account/{AUTH_ID}/Recording/{PLIVO_RECORDING}.mp3", media.url);
    plivo_voicemail(&app, "pv1", &url).await;
    let browser = assert_plays(&app, "pv1", "42 s", "Plivo").await;
    assert_part(&browser, "/calls/pv1/voicemail").await;
    let sent = media.received();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].headers["range"], "bytes=100-199");
    for sent in &sent {
        plivo_accepts(sent, "download_recording");
    }
}

#[tokio::test]
async fn a_plivo_recording_of_another_account_or_host_is_refused_and_a_refusing_plivo_is_a_bad_gateway() {
    let mut media = StandIn::start(plivo_gate).await;
    let app = plivo_app(&media, "").await;
    let other = format!("{}/v1/Account/MAYYYYYYYYYYYYYYYYYY/Recording/{PLIVO_RECORDING}.mp3", media.url);
    plivo_voicemail(&app, "pv2", &other).await;
    let browser = app.signed_in().await;
    assert_eq!(get(&browser, "/calls/pv2/voicemail", true).await.status(), 403);
    assert!(media.received().is_empty(), "nothing was fetched");

    let mut refusing = StandIn::start(|_, _| Some(StatusCode::INTERNAL_SERVER_ERROR.into_response())).await;
    let app = plivo_app(&refusing, "").await;
    let url = format!("{}/v1/Account/{AUTH_ID}/Recording/{PLIVO_RECORDING}.mp3", refusing.url);
    plivo_voicemail(&app, "pv3", &url).await;
    let browser = app.signed_in().await;
    assert_eq!(get(&browser, "/calls/pv3/voicemail", true).await.status(), 502);
    assert_eq!(refusing.received().len(), 1);
}

// Telnyx: the TeXML recording resource read with the API key, then the audio its `media_url`
// names, without the key.

const TELNYX_KEY: &str = "KEY0123456789ABCDEF";
const TELNYX_ACCOUNT: &str = "b7e3c6a2-0000-4000-8000-000000000002";
const TELNYX_RECORDING: &str = "6a09cdc3-8948-47f0-aa62-74ac943d6c58";

fn telnyx_gate(sent: &Captured, url: &str) -> Option<Response> {
    if sent.path == format!("/media/{TELNYX_RECORDING}.mp3") {
        // A signed link: the API key is not for it.
        let signed = sent.query == "X-Amz-Signature=abc" && sent.headers.get("authorization").is_none();
        return (!signed).then(|| StatusCode::FORBIDDEN.into_response());
    }
    if authorization(sent) != format!("Bearer {TELNYX_KEY}") {
        return Some(StatusCode::UNAUTHORIZED.into_response());
    }
    if sent.path != format!("/v2/texml/Accounts/{TELNYX_ACCOUNT}/Recordings/{TELNYX_RECORDING}.json") {
        return Some(StatusCode::NOT_FOUND.into_response());
    }
    let media = format!("{url}/media/{TELNYX_RECORDING}.mp3?X-Amz-Signature=abc");
    Some(
        axum::Json(json!({"sid": TELNYX_RECORDING, "account_sid": TELNYX_ACCOUNT, "media_url": media})).into_response(),
    )
}

async fn telnyx_voicemail(app: &TestApp, call_id: &str, recording: &str) {
    use crate::telnyx::{call_params, signed};
    signed(app, "/telnyx/voice", &call_params(call_id, "+442079460777")).await;
    let mut status = call_params(call_id, "+442079460777");
    status.push(("DialCallStatus", "no-answer".into()));
    signed(app, "/telnyx/dial-status", &status).await;
    let mut left = call_params(call_id, "+442079460777");
    // A link that expires ten minutes after the call.
    left.push(("RecordingUrl", "https://s3.amazonaws.com/telnyx-recordings/expiring.mp3?X-Amz-Expires=600".into()));
    left.push(("RecordingSid", recording.to_owned()));
    left.push(("RecordingDuration", "42".into()));
    signed(app, "/telnyx/voicemail", &left).await;
    logged(app, call_id).await;
}

async fn telnyx_app(stand_in: &StandIn) -> TestApp {
    let api = stand_in.url.clone();
    crate::telnyx::telnyx_app_with(move |s| {
        s.telnyx.api_key = TELNYX_KEY.into();
        s.telnyx.api_base_url = api;
    })
    .await
}

#[tokio::test]
async fn a_telnyx_voicemail_plays_from_the_link_its_recording_names_read_with_the_api_key() {
    let mut telnyx = StandIn::start(telnyx_gate).await;
    let app = telnyx_app(&telnyx).await;
    telnyx_voicemail(&app, "v3c0ffee21", TELNYX_RECORDING).await;
    let browser = assert_plays(&app, "v3c0ffee21", "42 s", "Telnyx").await;
    assert_part(&browser, "/calls/v3c0ffee21/voicemail").await;
    let sent = telnyx.received();
    assert_eq!(sent.len(), 4, "the resource, then its audio, each time");
    let description = Description::load("Telnyx", "telnyx-openapi.json");
    description.assert_accepts(&sent[0]);
    description.assert_accepts(&sent[2]);
    assert_eq!(sent[3].headers["range"], "bytes=100-199");
    assert!(sent[3].headers.get("authorization").is_none());
}

#[tokio::test]
async fn a_recording_telnyx_does_not_give_is_a_bad_gateway_and_a_malformed_one_is_refused() {
    let mut telnyx = StandIn::start(telnyx_gate).await;
    let app = telnyx_app(&telnyx).await;
    telnyx_voicemail(&app, "v3c0ffee22", "0a09cdc3-8948-47f0-aa62-74ac943d6c58").await;
    let browser = app.signed_in().await;
    assert_eq!(get(&browser, "/calls/v3c0ffee22/voicemail", true).await.status(), 502);
    assert_eq!(telnyx.received().len(), 1, "only the resource was asked for");

    // Without a plain recording id, the expiring link on another host is all there is.
    telnyx_voicemail(&app, "v3c0ffee23", "../../numbers").await;
    assert_eq!(get(&browser, "/calls/v3c0ffee23/voicemail", true).await.status(), 403);
    assert!(telnyx.received().is_empty());
}

#[tokio::test]
async fn a_download_link_that_leaves_the_apis_scheme_is_not_followed() {
    let mut telnyx = StandIn::start(|sent, _| {
        let link = json!({"media_url": "ftp://recordings.example/audio.mp3"});
        sent.path.ends_with(".json").then(|| axum::Json(link).into_response())
    })
    .await;
    let app = telnyx_app(&telnyx).await;
    telnyx_voicemail(&app, "v3c0ffee24", TELNYX_RECORDING).await;
    let browser = app.signed_in().await;
    assert_eq!(get(&browser, "/calls/v3c0ffee24/voicemail", true).await.status(), 502);
    assert_eq!(telnyx.received().len(), 1, "only the resource was asked for");
}

// Vonage: the file on Vonage's API, with a token the application's private key signed.

pub(crate) const APPLICATION_ID: &str = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab";
const VONAGE_FILE: &str = "bbbbbbbb-cccc-dddd-eeee-0123456789ab";

fn vonage_gate(sent: &Captured, _: &str) -> Option<Response> {
    vonage_token_refused(sent).or_else(|| {
        (sent.path != format!("/v1/files/{VONAGE_FILE}") || !sent.body.is_empty())
            .then(|| StatusCode::NOT_FOUND.into_response())
    })
}

/// Checks the token as Vonage does: RS256, signed by the application's key (checked with its
/// public key), for the application, fresh, and not long-lived; the refusal, or `None`.
pub(crate) fn vonage_token_refused(sent: &Captured) -> Option<Response> {
    let refused = || Some(StatusCode::UNAUTHORIZED.into_response());
    let Some(token) = authorization(sent).strip_prefix("Bearer ") else { return refused() };
    let parts: Vec<&str> = token.split('.').collect();
    let [header, claims, signature] = parts[..] else { return refused() };
    let public = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/vonage-application-public.der"));
    let key = ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, public.unwrap());
    let signature = URL_SAFE_NO_PAD.decode(signature).unwrap_or_default();
    if key.verify(format!("{header}.{claims}").as_bytes(), &signature).is_err() {
        return refused();
    }
    let read = |part: &str| serde_json::from_slice::<Value>(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap();
    let (header, claims) = (read(header), read(claims));
    let now = jiff::Timestamp::now().as_second();
    let (iat, exp) = (claims["iat"].as_i64().unwrap_or(0), claims["exp"].as_i64().unwrap_or(0));
    let fresh = (now - 60..=now + 60).contains(&iat) && exp > now && exp - iat <= 15 * 60;
    if header["alg"] != "RS256"
        || claims["application_id"] != APPLICATION_ID
        || !fresh
        || claims["jti"].as_str().is_none_or(str::is_empty)
    {
        return refused();
    }
    None
}

pub(crate) async fn vonage_voicemail(app: &TestApp, conversation: &str, url: &str) {
    use crate::vonage::{answer, forwarded_leg, signed};
    signed(app, "/vonage/answer", &answer(conversation, Some("442079460777"))).await;
    signed(app, "/vonage/dial-status", &forwarded_leg(conversation, "timeout")).await;
    let recording = json!({
        "start_time": "2026-01-01T12:00:30Z",
        "end_time": "2026-01-01T12:01:12Z",
        "recording_url": url,
        "recording_uuid": VONAGE_FILE,
        "conversation_uuid": conversation,
    });
    signed(app, "/vonage/voicemail", &recording).await;
    logged(app, conversation).await;
}

pub(crate) async fn vonage_app(stand_in: &StandIn, application: &str) -> TestApp {
    let (api, application) = (stand_in.url.clone(), application.to_owned());
    crate::vonage::vonage_app_with(move |s| {
        s.vonage.applications_base_url = api;
        s.vonage.application_id = application;
        s.vonage.private_key_path =
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/vonage-application-private.pem").into();
    })
    .await
}

#[tokio::test]
async fn a_vonage_voicemail_plays_fetched_with_a_token_the_applications_key_signed() {
    let mut vonage = StandIn::start(vonage_gate).await;
    let app = vonage_app(&vonage, APPLICATION_ID).await;
    vonage_voicemail(&app, "CONvm1", &format!("{}/v1/files/{VONAGE_FILE}", vonage.url)).await;
    let browser = assert_plays(&app, "CONvm1", "42 s", "Vonage").await;
    assert_part(&browser, "/calls/CONvm1/voicemail").await;
    let sent = vonage.received();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].headers["range"], "bytes=100-199");
    // Each request has its own token.
    assert_ne!(authorization(&sent[0]), authorization(&sent[1]));
    for sent in &sent {
        vonage_recording_accepts(sent);
    }
}

#[tokio::test]
async fn a_vonage_file_elsewhere_is_refused_and_a_token_vonage_refuses_is_a_bad_gateway() {
    let mut vonage = StandIn::start(vonage_gate).await;
    let mut elsewhere = StandIn::start(vonage_gate).await;
    let app = vonage_app(&vonage, APPLICATION_ID).await;
    vonage_voicemail(&app, "CONvm2", &format!("{}/v1/files/{VONAGE_FILE}", elsewhere.url)).await;
    let browser = app.signed_in().await;
    assert_eq!(get(&browser, "/calls/CONvm2/voicemail", true).await.status(), 403);
    assert!(elsewhere.received().is_empty() && vonage.received().is_empty());

    // Tokens for another application are refused by Vonage.
    let app = vonage_app(&vonage, "cccccccc-bbbb-cccc-dddd-0123456789ab").await;
    vonage_voicemail(&app, "CONvm3", &format!("{}/v1/files/{VONAGE_FILE}", vonage.url)).await;
    let browser = app.signed_in().await;
    assert_eq!(get(&browser, "/calls/CONvm3/voicemail", true).await.status(), 502);
    assert_eq!(vonage.received().len(), 1);
}

#[tokio::test]
async fn a_vonage_key_that_cannot_be_read_or_cannot_sign_stops_the_start_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_key = dir.path().join("not-a-key.pem");
    std::fs::write(&not_a_key, "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n").unwrap();
    for (path, reason) in
        [(dir.path().join("missing.pem"), "cannot be read"), (not_a_key, "is not an RSA private key that can sign")]
    {
        let mut settings = test_settings(dir.path());
        settings.vonage.application_id = APPLICATION_ID.into();
        settings.vonage.private_key_path = path.to_str().unwrap().into();
        let started = saidno::startup::Application::build_with_store(settings, memory_store(), ADMIN_TOKEN).await;
        let error = started.err().expect("a key that cannot sign is refused").to_string();
        assert!(error.contains("vonage.private_key_path") && error.contains(reason), "{error}");
    }
}
