//! Starting, stopping and crashing: what the owner entered survives, and so does the call log.

use crate::helpers::*;

#[test]
fn a_decline_acknowledged_by_the_server_survives_a_crash() {
    let saidno = Binary::new("");
    let server = saidno.serve();
    saidno.ok(&["decline", "add", "020 7946 0123", "--company", "Everest Windows"]);
    saidno.ok(&["allow", "add", "020 7946 0555", "--name", "Mum"]);
    server.kill();

    let declines = saidno.json(&["decline", "list", "--json"]);
    assert_eq!(declines[0]["number"], "+442079460123");
    assert_eq!(saidno.json(&["allow", "list", "--json"])[0]["number"], "+442079460555");
}

#[test]
fn sigterm_writes_the_call_log_before_exiting() {
    let saidno = Binary::new("");
    let mut server = saidno.serve();
    for n in 0..20 {
        server.call(&format!("CA{n:04}"), "+442079460555");
    }
    let status = server.terminate();
    assert!(status.success(), "{status:?}");
    let log = saidno.json(&["log", "--json", "--limit", "100"]);
    assert_eq!(log.as_array().unwrap().len(), 20);
    assert!(!saidno.dir.path().join("data/server.json").exists(), "the server file is removed on exit");
}

#[test]
fn without_an_auth_token_the_server_refuses_to_listen_beyond_loopback() {
    let saidno = Binary::new("");
    let output = saidno
        .command()
        .env("SAIDNO_TWILIO__AUTH_TOKEN", "")
        .env("SAIDNO_LISTEN", "0.0.0.0:0")
        .arg("serve")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("auth_token") && stderr.contains("127.0.0.1"), "{stderr}");
}

#[tokio::test]
async fn without_an_auth_token_on_loopback_unsigned_calls_are_answered() {
    let app = spawn_app_with(|s| s.twilio.auth_token.clear()).await;
    let response = app.post_form("/twilio/voice", form_body(&[("CallSid", "CA1"), ("From", PUSHY)]), None).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn the_server_will_not_start_unsigned_on_a_public_address() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(dir.path());
    settings.twilio.auth_token.clear();
    settings.listen = "0.0.0.0:0".parse().unwrap();
    let result = saidno::startup::Application::build_with_store(settings, memory_store(), ADMIN_TOKEN).await;
    assert!(matches!(result, Err(saidno::startup::StartupError::UnsignedBeyondLoopback(_))));
}
