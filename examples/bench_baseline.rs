//! The benchmark's yardstick: the least an axum server can do for a provider's voice webhook
//! (`/twilio/voice`, `/signalwire/voice`, `/telnyx/voice`, `/plivo/voice`, `/vonage/answer`),
//! namely read the form (or Vonage's JSON) and answer fixed markup. saidno's throughput is reported as a share of this one's,
//! measured in the same run, because absolute figures drift on a shared machine.

use axum::Router;
use axum::body::Bytes;
use axum::http::header;
use axum::routing::post;

const ANSWER: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Response><Dial timeout="25" answerOnBridge="true" action="/twilio/dial-status" method="POST"><Number>+442079460999</Number></Dial></Response>"#;

const NCCO: &str = r#"[{"action":"connect","from":"442079460123","timeout":25,"eventType":"synchronous","eventUrl":["https://calls.example.com/vonage/dial-status"],"endpoint":[{"type":"phone","number":"442079460999"}]}]"#;

#[tokio::main]
async fn main() {
    let address = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:18081".into());
    let app = Router::new()
        .route(
            "/{provider}/voice",
            post(|body: Bytes| async move {
                // Read the form as saidno must, so the comparison is of what happens after.
                let fields = form_urlencoded::parse(&body).count();
                std::hint::black_box(fields);
                ([(header::CONTENT_TYPE, "text/xml")], ANSWER)
            }),
        )
        .route(
            "/{provider}/answer",
            post(|body: Bytes| async move {
                let call: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                std::hint::black_box(call);
                ([(header::CONTENT_TYPE, "application/json")], NCCO)
            }),
        );
    let listener = tokio::net::TcpListener::bind(&address).await.expect("the baseline's port is free");
    eprintln!("baseline listening address={}", listener.local_addr().unwrap());
    axum::serve(listener, app).await.unwrap();
}
