//! What an operator watches: the metrics the alerting rules and the dashboard in `contrib/` are
//! built on, and log lines a shipper can parse and tie to a call.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use saidno::provider::twilio::signature::sign;
use saidno::store::{SledStore, UnavailableStore};
use serde_json::Value;

use crate::helpers::*;

const ALERTS: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/contrib/prometheus/saidno-alerts.yml"));
const DASHBOARD: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/contrib/grafana/saidno-dashboard.json"));

/// The metric names a file refers to, as Prometheus stores them (`_total`, `_bucket` and all).
fn referenced(text: &str) -> BTreeSet<String> {
    let name = regex::Regex::new(r"saidno_[a-z_]+").unwrap();
    name.find_iter(text).map(|found| found.as_str().to_owned()).collect()
}

/// The names of the samples in an exposition: what a scrape puts into Prometheus.
fn sample_names(exposition: &str) -> BTreeSet<String> {
    exposition
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| line.split(['{', ' ']).next().unwrap().to_owned())
        .collect()
}

async fn scrape(app: &TestApp) -> String {
    let metrics = app.metrics.expect("metrics are on in the tests");
    app.http.get(format!("http://{metrics}/metrics")).send().await.unwrap().text().await.unwrap()
}

/// A metric renamed or dropped would leave an alert that can never fire and an empty panel, and
/// nothing else would say so.
#[tokio::test]
async fn every_metric_the_alerts_and_the_dashboard_watch_is_exposed() {
    let app = spawn_app().await;
    app.decline(serde_json::json!({"number": PUSHY})).await;
    app.call("CA1", PUSHY).await;
    app.call("CA2", "+442079460555").await;
    let exposed = sample_names(&scrape(&app).await);

    for (file, text) in
        [("contrib/prometheus/saidno-alerts.yml", ALERTS), ("contrib/grafana/saidno-dashboard.json", DASHBOARD)]
    {
        let names = referenced(text);
        for watched in
            ["saidno_fail_open_total", "saidno_degraded", "saidno_calls_total", "saidno_webhook_seconds_bucket"]
        {
            assert!(names.contains(watched), "{file} does not watch {watched}: {names:?}");
        }
        let missing: Vec<_> = names.difference(&exposed).collect();
        assert!(missing.is_empty(), "{file} refers to {missing:?}, which saidno does not expose: {exposed:?}");
    }
}

#[tokio::test]
async fn a_call_put_through_because_the_store_failed_counts_as_a_fail_open_answer() {
    let app = spawn_app_on(Arc::new(UnavailableStore::new("the disk is gone")), |_| {}).await;
    let before = scrape(&app).await;
    assert!(before.contains("saidno_fail_open_total 0"), "{before}");

    let twiml = app.call("CA1", PUSHY).await;
    assert_eq!(twiml.text_of("Number"), [OWNER_PHONE], "the call is put through: {}", twiml.xml);
    let after = scrape(&app).await;
    assert!(after.contains("saidno_fail_open_total 1"), "{after}");
    assert!(!after.contains("saidno_store_errors_total 0"), "the failed look-up is a store error: {after}");
    assert!(after.contains("saidno_degraded 0"), "one failed look-up is not a degraded start: {after}");
}

#[test]
fn a_degraded_start_shows_on_the_metrics_and_every_call_it_forwards_is_fail_open() {
    let saidno = Binary::new("");
    let data = saidno.dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let _held = SledStore::open(&data.join("db"), 8).unwrap();
    let server = saidno.serve();
    let address = metrics_address(&server);
    let scrape = || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let url = format!("http://{address}/metrics");
        runtime.block_on(async { reqwest::get(url).await.unwrap().text().await.unwrap() })
    };

    let degraded = scrape();
    assert!(degraded.contains("saidno_degraded 1"), "{degraded}");
    server.call("CA1", PUSHY);
    server.call("CA2", PUSHY);
    let after = scrape();
    assert!(after.contains("saidno_fail_open_total 2"), "{after}");
}

/// Where the server says its metrics are, once it has said so: that follows where it listens.
fn metrics_address(server: &Server) -> String {
    let waiting = std::time::Instant::now();
    loop {
        let log = server.log();
        if let Some(line) = log.lines().find(|line| line.contains("metrics are served here")) {
            return line.split("address=").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
        }
        assert!(waiting.elapsed() < Duration::from_secs(60), "metrics are on, yet not served:\n{log}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Posts a signed webhook to a server started outside the test's runtime.
fn post_signed(base: &str, path: &str, pairs: &[(&str, &str)]) -> u16 {
    let signature = sign(AUTH_TOKEN, &format!("{PUBLIC_URL}{path}"), &params(pairs));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        saidno::tls::client()
            .post(format!("{base}{path}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-twilio-signature", signature)
            .body(form_body(pairs))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    })
}

/// The server ends with the test, passed or failed.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn with_json_logs_every_line_is_an_object_and_a_line_about_a_call_carries_its_id() {
    const CALL: &str = "CA5f0c2a9e4b7d4e1f8a3c6b9d2e5f8a1c";
    let saidno = Binary::new("");
    saidno.ok(&["decline", "add", PUSHY, "--company", "Everest Windows"]);
    let mut child = Running(
        saidno
            .command()
            .arg("serve")
            .env("SAIDNO_LOG__FORMAT", "json")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let (lines, received) = std::sync::mpsc::channel();
    let stderr = BufReader::new(child.0.stderr.take().unwrap());
    let reader = std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let mut log = Vec::new();
    let address = loop {
        let line = received.recv_timeout(Duration::from_secs(60)).expect("saidno serve says where it listens");
        let parsed: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        log.push(line);
        if parsed["message"] == "saidno is listening" {
            break parsed["address"].as_str().expect("the address is a field of its own").to_owned();
        }
    };
    let base = format!("http://{address}");

    let call = incoming(CALL, PUSHY);
    let mut pairs: Vec<(&str, &str)> = call.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(post_signed(&base, "/twilio/voice", &pairs), 200);
    pairs.push(("Digits", "1"));
    assert_eq!(post_signed(&base, "/twilio/escape", &pairs), 200);
    Command::new("kill").arg("-TERM").arg(child.0.id().to_string()).status().unwrap();
    let stopping = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(stopping.elapsed() < Duration::from_secs(120), "saidno did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{log:#?}");
    reader.join().unwrap();
    log.extend(received.try_iter());

    let lines: Vec<Value> = log
        .iter()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    let escape = lines
        .iter()
        .find(|line| line["message"] == "a refused caller came through the escape hatch")
        .unwrap_or_else(|| panic!("the escape hatch is logged: {log:#?}"));
    assert_eq!(escape["call_id"], CALL, "{escape}");
    assert_eq!(escape["level"], "INFO", "{escape}");
    assert!(lines.iter().any(|line| line["message"] == "saidno stopped"), "{log:#?}");
}
