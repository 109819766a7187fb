//! A stand-in for Twilio's REST API on a real local socket: it keeps every request it receives
//! and answers from a script (201 with a message SID once the script runs out).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc;

/// One request as it arrived.
#[derive(Clone, Debug)]
pub struct Captured {
    pub method: Method,
    pub path: String,
    /// The query string, without its `?`; empty when there is none.
    pub query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Captured {
    pub fn form(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(&self.body).into_owned().collect()
    }

    pub fn field(&self, name: &str) -> Option<String> {
        self.form().into_iter().find(|(key, _)| key == name).map(|(_, value)| value)
    }
}

/// A scripted answer: status, extra headers, body.
pub type Answer = (u16, Vec<(&'static str, &'static str)>, &'static str);

#[derive(Clone)]
struct Shared {
    script: Arc<Mutex<VecDeque<Answer>>>,
    received: mpsc::UnboundedSender<Captured>,
}

pub struct FakeTwilio {
    pub url: String,
    received: mpsc::UnboundedReceiver<Captured>,
}

impl FakeTwilio {
    pub async fn start(script: Vec<Answer>) -> Self {
        let (received, receiver) = mpsc::unbounded_channel();
        let shared = Shared { script: Arc::new(Mutex::new(script.into())), received };
        let app = axum::Router::new().fallback(answer).with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, received: receiver }
    }

    /// The next request saidno sent. The bound only keeps a broken test from hanging forever.
    /// Every request received so far, without waiting.
    pub fn received(&mut self) -> Vec<Captured> {
        std::iter::from_fn(|| self.received.try_recv().ok()).collect()
    }

    pub async fn next_request(&mut self) -> Captured {
        tokio::time::timeout(Duration::from_secs(30), self.received.recv())
            .await
            .expect("saidno sent no request to the Twilio API")
            .expect("the fake API stopped")
    }
}

async fn answer(State(shared): State<Shared>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    let _ = shared.received.send(Captured {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or_default().to_owned(),
        headers: parts.headers,
        body,
    });
    let scripted = shared.script.lock().unwrap().pop_front();
    let (status, headers, body) =
        scripted.unwrap_or((201, vec![], r#"{"sid": "SM0123456789abcdef0123456789abcdef", "status": "queued"}"#));
    let mut response = (StatusCode::from_u16(status).unwrap(), body.to_owned()).into_response();
    response.headers_mut().insert("content-type", "application/json".parse().unwrap());
    for (name, value) in headers {
        response.headers_mut().insert(name, value.parse().unwrap());
    }
    response
}
