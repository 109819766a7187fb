//! What keeps others out and secrets in: headers, metrics kept on loopback, no secret in any log,
//! and a shutdown that no client can hold up.

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    for path in ["/healthz", "/api/v1/declines", "/nowhere"] {
        let response = app.http.get(app.url(path)).send().await.unwrap();
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert!(headers["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"), "{path}");
        // A page's address goes to saidno itself, never to another site.
        assert_eq!(headers["referrer-policy"], "same-origin", "{path}");
    }
}

#[tokio::test]
async fn metrics_count_calls_by_decision_on_their_own_loopback_listener() {
    let app = spawn_app().await;
    app.decline(json!({"number": PUSHY})).await;
    app.call("CA1", PUSHY).await;
    app.call("CA2", "+442079460555").await;
    app.call("CA3", "+442079460556").await;

    let metrics = app.metrics.expect("metrics are on in the tests");
    assert!(metrics.ip().is_loopback());
    let text = app.http.get(format!("http://{metrics}/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(text.contains(r#"saidno_calls_total{decision="decline"} 1"#), "{text}");
    assert!(text.contains(r#"saidno_calls_total{decision="forward"} 2"#), "{text}");
    assert!(text.contains("saidno_webhook_seconds_count 3"), "{text}");

    let public = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(public.status(), 404, "metrics are not on the public listener");
}

#[tokio::test]
async fn metrics_will_not_listen_beyond_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(dir.path());
    settings.metrics.listen = "0.0.0.0:0".into();
    let result = saidno::startup::Application::build_with_store(settings, memory_store(), ADMIN_TOKEN).await;
    let error = result.err().expect("refused").to_string();
    assert!(error.contains("not a loopback address"), "{error}");
}

#[test]
fn no_secret_appears_in_any_log_or_error_message() {
    const SIGNING_KEY: &str = "shared-key-secret-5e1f";
    let saidno = Binary::new(&format!(
        "[admin]\ntoken = \"admin-secret-9d2c\"\n[twilio.signing_keys]\nKS01 = \"{SIGNING_KEY}\"\n"
    ));
    let mut server = saidno.serve_with(|command| {
        command.env("RUST_LOG", "debug");
    });
    let mut said = String::new();
    // A real call, a forged one, an unsigned one, and the command line with the right and wrong tokens.
    server.call("CA1", PUSHY);
    let checked = saidno.run(&["check", PUSHY]);
    said += &String::from_utf8_lossy(&checked.stderr);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let client = reqwest::Client::new();
        for signature in [Some("bm90IGEgc2lnbmF0dXJl"), None] {
            let mut request = client
                .post(format!("{}/twilio/voice", server.url))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form_body(&[("CallSid", "CA2"), ("From", PUSHY)]));
            if let Some(signature) = signature {
                request = request.header("x-twilio-signature", signature);
            }
            said += &request.send().await.unwrap().text().await.unwrap();
        }
        let refused = client.get(format!("{}/api/v1/declines", server.url)).bearer_auth("wrong").send().await.unwrap();
        said += &refused.text().await.unwrap();
    });
    let wrong = saidno.command().env("SAIDNO_ADMIN__TOKEN", "guess").args(["decline", "list"]).output().unwrap();
    said += &String::from_utf8_lossy(&wrong.stderr);
    let bad_config = saidno.command().env("SAIDNO_LISTEN", "nonsense").args(["decline", "list"]).output().unwrap();
    said += &String::from_utf8_lossy(&bad_config.stderr);
    server.terminate();

    let log = server.log();
    assert!(log.contains("call answered"), "the log was captured at debug level: {log}");
    for secret in [AUTH_TOKEN, "admin-secret-9d2c", SIGNING_KEY] {
        assert!(!log.contains(secret), "{secret} is in the server's log");
        assert!(!said.contains(secret), "{secret} was said to a client: {said}");
    }
}

#[test]
fn sigterm_stops_the_server_even_while_a_client_holds_a_request_open() {
    let saidno = Binary::new("");
    let mut server = saidno.serve();
    server.call("CA1", "+442079460555");
    let address = server.url.trim_start_matches("http://").to_owned();
    let mut stalled = TcpStream::connect(&address).unwrap();
    // Headers and half a body, then nothing: a request that would never finish by itself.
    stalled
        .write_all(b"POST /twilio/voice HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nCallSid=CA")
        .unwrap();
    let asked = Instant::now();
    let status = server.terminate_within(Duration::from_secs(60));
    assert!(status.success(), "{status:?}");
    eprintln!("stopped {:?} after SIGTERM", asked.elapsed());
    let log = saidno.json(&["log", "--json"]);
    assert_eq!(log[0]["call_sid"], "CA1", "the call log was written before exiting");
}
