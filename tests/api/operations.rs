//! What an operator meets: configuration mistakes refused by name and line, `config check`, and
//! `saidno doctor` against a stand-in for the provider's REST API.

use std::process::Output;

use crate::fake_twilio::{Answer, FakeTwilio};
use crate::helpers::*;
use crate::openapi::assert_twilio_accepts;

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";

/// A configuration file of exactly `text`, and saidno run on it.
fn run_with_file(text: &str, args: &[&str]) -> Output {
    let saidno = Binary::new("");
    std::fs::write(saidno.config_path(), text).unwrap();
    saidno.run(args)
}

#[test]
fn a_misspelt_section_stops_saidno_with_its_line_and_the_section_meant() {
    let output = run_with_file("listen = \"127.0.0.1:0\"\n\n[twilo]\nauth_token = \"x\"\n", &["config", "check"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.ends_with("saidno.toml: unknown section `[twilo]` at line 3; did you mean `[twilio]`?"),
        "{message}"
    );
}

#[test]
fn a_misspelt_key_and_a_misspelt_variable_are_named_with_what_was_meant() {
    let output = run_with_file("[forward]\nring_timeout = 30\n", &["config", "check"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output)
            .ends_with("unknown key `ring_timeout` in `[forward]` at line 2; did you mean `ring_timeout_secs`?"),
        "{}",
        stderr(&output)
    );
    let saidno = Binary::new("");
    let output = saidno.command().args(["config", "check"]).env("SAIDNO_TWILO__AUTH_TOKEN", "x").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "saidno: unknown variable SAIDNO_TWILO__AUTH_TOKEN: saidno has no setting `twilo`; did you mean \
         SAIDNO_TWILIO__AUTH_TOKEN?"
    );
}

#[test]
fn a_value_of_the_wrong_type_or_out_of_range_says_which_and_why() {
    let output = run_with_file("[forward]\nring_timeout_secs = \"soon\"\n", &["config", "check"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("forward.ring_timeout_secs at line 2 of ")
            && stderr(&output).ends_with(": expected an integer, found string \"soon\""),
        "{}",
        stderr(&output)
    );
    let output = run_with_file("[forward]\nring_timeout_secs = 700\n", &["config", "check"]);
    assert!(stderr(&output).contains("forward.ring_timeout_secs = 700 at line 2 of "), "{}", stderr(&output));
    assert!(stderr(&output).ends_with(": must be between 5 and 600 seconds"), "{}", stderr(&output));
    let output = run_with_file("[log]\nqueue = 0\n", &["config", "check"]);
    assert!(stderr(&output).contains("log.queue = 0 at line 2 of "), "{}", stderr(&output));
    assert!(stderr(&output).ends_with(": must be between 1 and 1000000 calls"), "{}", stderr(&output));
    let saidno = Binary::new("");
    let output = saidno.command().args(["config", "check"]).env("SAIDNO_WHISPER__WAIT_SECS", "99").output().unwrap();
    assert_eq!(
        stderr(&output),
        "saidno: whisper.wait_secs = 99 (from SAIDNO_WHISPER__WAIT_SECS): must be between 1 and 30 seconds"
    );
}

#[test]
fn a_bad_configuration_stops_serve_before_it_binds() {
    // Were the port bound first, the taken port would be the error; the configuration must come first.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap();
    let output = run_with_file(&format!("listen = \"{address}\"\n[forwad]\nto = []\n"), &["serve"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("unknown section `[forwad]` at line 2; did you mean `[forward]`?"));
    assert!(!stderr(&output).contains("cannot listen"));
}

#[test]
fn config_check_prints_the_configuration_in_effect_with_origins_and_no_secret() {
    let saidno = Binary::new("declined_by = \"Sam\"");
    let output = saidno
        .command()
        .args(["config", "check"])
        .env("SAIDNO_REGION", "US")
        .env("SAIDNO_ADMIN__OPERATOR_TOKEN", OPERATOR_TOKEN)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let report = stdout(&output);
    assert!(report.contains("operator_token = \"(redacted)\"  # SAIDNO_ADMIN__OPERATOR_TOKEN"), "{report}");
    assert!(!report.contains(OPERATOR_TOKEN), "{report}");
    assert!(report.contains("region = \"US\"  # SAIDNO_REGION"), "{report}");
    assert!(report.contains("declined_by = \"Sam\"  # line 6 of "), "{report}");
    assert!(report.contains("ring_timeout_secs = 25  # default"), "{report}");
    assert!(report.contains("auth_token = \"(redacted)\"  # line "), "{report}");
    assert!(!report.contains(AUTH_TOKEN), "{report}");
    // Every key has its line, so what is in effect is what is shown.
    for key in ["listen", "timezone", "[whisper]", "no_key", "[log]", "retention_days", "format"] {
        assert!(report.lines().any(|line| line.starts_with(key)), "{key} missing: {report}");
    }
}

fn account(status: &str) -> Answer {
    let body = match status {
        "active" => {
            r#"{"sid": "AC0123456789abcdef0123456789abcdef", "friendly_name": "Acme Plumbing", "status": "active"}"#
        }
        _ => {
            r#"{"sid": "AC0123456789abcdef0123456789abcdef", "friendly_name": "Acme Plumbing", "status": "suspended"}"#
        }
    };
    (200, vec![], body)
}

/// Runs `saidno doctor` with the account pointed at the stand-in API.
async fn doctor(saidno: &Binary, api: &FakeTwilio) -> Output {
    let mut command = tokio::process::Command::from(saidno.command());
    command
        .arg("doctor")
        .env("SAIDNO_TWILIO__ACCOUNT_SID", ACCOUNT)
        .env("SAIDNO_TWILIO__API_BASE_URL", &api.url)
        .env("SAIDNO_OWNER__NUMBERS", OWNER_MOBILE);
    command.output().await.unwrap()
}

fn line_of<'a>(report: &'a str, check: &str) -> &'a str {
    report.lines().find(|line| line[6..].starts_with(check)).unwrap_or_else(|| panic!("no {check} in {report}"))
}

#[tokio::test]
async fn doctor_passes_set_up_lines_and_reads_the_provider_as_its_api_describes() {
    let line = |number: &str, next: &str| -> &'static str {
        Box::leak(
            format!(
                r#"{{"incoming_phone_numbers": [{{"phone_number": "{number}", "voice_url": "{PUBLIC_URL}/twilio/voice",
                   "voice_method": "POST", "voice_fallback_url": "https://handler.twilio.com/twiml/EH0123",
                   "sms_url": "{PUBLIC_URL}/twilio/sms", "voice_application_sid": null}}], "next_page_uri": {next}}}"#
            )
            .into_boxed_str(),
        )
    };
    // Two numbers on two pages: the second page is named by its path, as Twilio names it.
    let next =
        format!("\"/2010-04-01/Accounts/{ACCOUNT}/IncomingPhoneNumbers.json?PageSize=50&Page=1&PageToken=PA0123\"");
    let pages = [(200, vec![], line("+442079460000", &next)), (200, vec![], line("+442079460001", "null"))];
    let mut api = FakeTwilio::start([vec![account("active")], pages.to_vec()].concat()).await;
    let saidno = Binary::new("");
    std::fs::create_dir_all(saidno.dir.path().join("data")).unwrap();
    set_private(&saidno.dir.path().join("data"));
    let output = doctor(&saidno, &api).await;
    let report = stdout(&output);
    assert!(output.status.success(), "{report}{}", stderr(&output));
    for check in ["configuration", "public_url", "data folder", "free disk", "database", "Twilio account", "clock"] {
        assert!(line_of(&report, check).starts_with("ok"), "{check}: {report}");
    }
    assert!(line_of(&report, "Twilio +442079460000 voice webhook").starts_with("ok"), "{report}");
    assert!(line_of(&report, "Twilio +442079460000 fallback").starts_with("ok"), "{report}");
    assert!(line_of(&report, "Twilio +442079460000 messaging webhook").starts_with("ok"), "{report}");
    assert!(line_of(&report, "Twilio +442079460001 voice webhook").starts_with("ok"), "{report}");
    let requests = api.received();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[0].path, format!("/2010-04-01/Accounts/{ACCOUNT}.json"));
    assert_eq!(requests[1].path, format!("/2010-04-01/Accounts/{ACCOUNT}/IncomingPhoneNumbers.json"));
    assert_eq!(requests[2].query, "PageSize=50&Page=1&PageToken=PA0123");
    for request in &requests {
        assert_twilio_accepts(request);
    }
}

#[tokio::test]
async fn doctor_says_what_to_fix_when_a_number_does_not_send_its_calls_to_saidno() {
    let numbers = r#"{"incoming_phone_numbers": [{"phone_number": "+442079460000",
        "voice_url": "https://demo.twilio.com/welcome/voice/", "voice_method": "POST",
        "voice_fallback_url": "", "sms_url": ""}], "next_page_uri": null}"#;
    let api = FakeTwilio::start(vec![account("active"), (200, vec![], numbers)]).await;
    let saidno = Binary::new("");
    let output = doctor(&saidno, &api).await;
    assert_eq!(output.status.code(), Some(1));
    let report = stdout(&output);
    assert_eq!(
        line_of(&report, "Twilio +442079460000 voice webhook")[6..].split_once("  ").map(|(_, rest)| rest.trim()),
        Some(
            "calls go to https://demo.twilio.com/welcome/voice/, not to saidno: set the voice webhook to \
             https://saidno.example.com/twilio/voice (HTTP POST)"
        ),
        "{report}"
    );
    assert!(line_of(&report, "Twilio +442079460000 voice webhook").starts_with("FIX"));
    assert!(line_of(&report, "Twilio +442079460000 fallback").starts_with("warn"), "{report}");
    assert!(line_of(&report, "data folder").starts_with("warn"), "the folder is not made yet: {report}");
    assert!(stderr(&output).ends_with("1 thing to fix"), "{}", stderr(&output));
}

#[tokio::test]
async fn doctor_says_when_the_provider_refuses_the_credentials_or_the_account_is_not_active() {
    let refused: Answer = (401, vec![], r#"{"code": 20003, "message": "Authenticate"}"#);
    let api = FakeTwilio::start(vec![refused]).await;
    let report = stdout(&doctor(&Binary::new(""), &api).await);
    assert!(
        line_of(&report, "Twilio account").contains("Twilio refused the credentials (401 Unauthorized)"),
        "{report}"
    );
    let api = FakeTwilio::start(vec![account("suspended")]).await;
    let report = stdout(&doctor(&Binary::new(""), &api).await);
    assert!(line_of(&report, "Twilio account").contains("the Twilio account is suspended"), "{report}");
}

#[test]
fn doctor_says_a_plain_http_public_url_must_be_https_and_reports_a_bad_configuration() {
    let saidno = Binary::new("");
    let output = saidno.command().arg("doctor").env("SAIDNO_PUBLIC_URL", "http://calls.example.com").output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report = stdout(&output);
    assert!(line_of(&report, "public_url").starts_with("FIX"), "{report}");
    assert!(line_of(&report, "public_url").contains("http://calls.example.com is not https"), "{report}");

    let output = run_with_file("[twilo]\n", &["doctor"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains("unknown section `[twilo]` at line 1; did you mean `[twilio]`?"));
}

#[cfg(unix)]
fn set_private(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)).unwrap();
}
