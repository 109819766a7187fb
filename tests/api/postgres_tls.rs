//! The real binary on PostgreSQL over TLS (`sslmode` in `[store] url`, `[store] ca_file`).
//! Skipped without `SAIDNO_TEST_DATABASE_TLS_URL` and `SAIDNO_TEST_DATABASE_CA_FILE` (and failed
//! without them in CI), which `.ci/run` sets for its throw-away server.

use std::path::Path;

use saidno::store::test_db::TestDb;
use serde_json::json;

use crate::degraded::assert_degraded;
use crate::helpers::*;
use crate::postgres::admin;

fn over_tls(url: &str, ca_file: &Path) -> Binary {
    Binary::new(&format!(
        "[admin]\ntoken = \"{ADMIN_TOKEN}\"\n[store]\nurl = \"{url}\"\nca_file = \"{}\"\n",
        ca_file.display()
    ))
}

#[test]
fn a_server_on_postgres_over_verified_tls_refuses_a_declined_number_and_logs_the_call() {
    let Some((database, tls)) = TestDb::with_tls() else { return };
    let saidno = over_tls(&database.url_over(&tls), &tls.ca_file);
    let server = saidno.serve();
    assert_eq!(server.get("/readyz").0, 200, "{}", server.log());
    let (status, saved) =
        admin(&server, reqwest::Method::POST, "/declines", Some(json!({"number": PUSHY, "company": "Everest"})));
    assert!(status == 200 || status == 201, "{status}: {saved}");
    let twiml = server.call("CA1", PUSHY);
    assert!(twiml.contains("<Hangup") && !twiml.contains("<Dial"), "refused: {twiml}");
    // The log is written a moment after the call; the bound only stops a broken test.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let (status, calls) = admin(&server, reqwest::Method::GET, "/calls?limit=10", None);
        assert_eq!(status, 200, "{calls}");
        if calls.as_array().unwrap().len() == 1 {
            assert_eq!(calls[0]["call_sid"], "CA1");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the call was not logged: {calls}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn a_database_whose_certificate_the_ca_file_did_not_sign_degrades_to_forwarding() {
    let Some((database, tls)) = TestDb::with_tls() else { return };
    let unrelated = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/unrelated-ca.pem"));
    let saidno = over_tls(&database.url_over(&tls), unrelated);
    let server = saidno.serve();
    assert_degraded(&server, "its certificate is not trusted");
    assert!(server.log().contains("[store] ca_file must name the authority that signed it"), "{}", server.log());
}

#[test]
fn a_ca_file_that_cannot_be_read_is_refused_by_name_when_the_configuration_is_read() {
    let saidno = Binary::new("");
    let missing = saidno.dir.path().join("no-such-ca.pem");
    let output = saidno
        .command()
        .env("SAIDNO_STORE__URL", "postgres://saidno:hunter2@db.example.com/saidno?sslmode=verify-full")
        .env("SAIDNO_STORE__CA_FILE", &missing)
        .args(["config", "check"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let said = stderr(&output);
    assert!(said.contains("store.ca_file") && said.contains(&format!("cannot read {}", missing.display())), "{said}");
    assert!(!said.contains("hunter2"), "{said}");

    let not_pem = saidno.dir.path().join("ca.pem");
    std::fs::write(&not_pem, "not a certificate\n").unwrap();
    let output = saidno.command().env("SAIDNO_STORE__CA_FILE", &not_pem).args(["config", "check"]).output().unwrap();
    assert!(!output.status.success());
    assert!(stderr(&output).contains("holds no certificate"), "{}", stderr(&output));
}

#[test]
fn an_sslmode_saidno_does_not_know_is_refused_by_name() {
    let saidno = Binary::new("");
    let output = saidno
        .command()
        .env("SAIDNO_STORE__URL", "postgres://saidno:hunter2@db.example.com/saidno?sslmode=allow")
        .args(["config", "check"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let said = stderr(&output);
    assert!(
        said.contains("store.url") && said.contains("disable, prefer, require, verify-ca or verify-full"),
        "{said}"
    );
    assert!(!said.contains("hunter2"), "{said}");
}
