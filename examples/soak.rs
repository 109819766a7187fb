//! The soak: a saidno binary driven at a steady rate of signed calls, with the owner's admin reads and writes alongside.
//!
//! `soak BINARY [--seconds 60] [--rate 200]` runs BINARY (a release build) on loopback in a
//! folder of its own, calls it for the time given, samples its resident memory, stops it with
//! SIGTERM, then opens its database and looks for every call that was answered. It prints the
//! figures and exits non-zero on any error, any lost log entry, or memory that did not stay flat.
//! `bench/soak.sh` builds both and runs it.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use saidno::config::Settings;
use saidno::provider::form::Params;
use saidno::provider::twilio::signature::sign;
use saidno::store::{CallHistory, CallQuery, SledStore};
use tokio::sync::Mutex;
use tokio::task::JoinSet;

const AUTH_TOKEN: &str = "soak-auth-token";
const ADMIN_TOKEN: &str = "soak-admin-token";
const PUBLIC_URL: &str = "https://soak.example.com";
const BUSINESS_NUMBER: &str = "+442079460000";
/// One caller in this many is a number on the decline list, so refusals are logged too.
const DECLINED_EVERY: u64 = 10;
const DECLINED_CALLERS: u64 = 20;
/// How often the owner's tools read and write while the calls come in.
const ADMIN_PERIOD: Duration = Duration::from_millis(100);
const MEMORY_PERIOD: Duration = Duration::from_secs(5);
/// Memory counts as flat when the last sample is within this much of the sample taken once the
/// server has warmed up (at minute 2, or a quarter of the way through a shorter run).
const FLAT_TOLERANCE: f64 = 0.10;

struct Options {
    binary: PathBuf,
    seconds: u64,
    rate: u64,
}

fn options() -> Result<Options, String> {
    let mut args = std::env::args().skip(1);
    let binary = args.next().ok_or("usage: soak BINARY [--seconds 60] [--rate 200]")?;
    let mut options = Options { binary: binary.into(), seconds: 60, rate: 200 };
    while let Some(flag) = args.next() {
        let value: u64 = args.next().and_then(|v| v.parse().ok()).ok_or(format!("{flag} needs a number"))?;
        match flag.as_str() {
            "--seconds" if (1..=3600).contains(&value) => options.seconds = value,
            "--rate" if (1..=5000).contains(&value) => options.rate = value,
            _ => return Err(format!("{flag} {value} is not an option soak takes (or is out of range)")),
        }
    }
    Ok(options)
}

/// Everything that went wrong, counted, with the first few described.
#[derive(Default)]
struct Errors {
    count: AtomicU64,
    first: Mutex<Vec<String>>,
}

impl Errors {
    async fn record(&self, what: String) {
        self.count.fetch_add(1, Ordering::Relaxed);
        let mut first = self.first.lock().await;
        if first.len() < 10 {
            first.push(what);
        }
    }
}

struct Server {
    child: Child,
    url: String,
    data_dir: PathBuf,
}

fn start(binary: &Path, folder: &Path) -> Result<Server, String> {
    let data_dir = folder.join("data");
    let config = format!(
        "listen = \"127.0.0.1:0\"\ndata_dir = \"{}\"\npublic_url = \"{PUBLIC_URL}\"\nbusiness_name = \"Soak Ltd\"\n\
         timezone = \"UTC\"\n[forward]\nto = [\"+442079460999\"]\n[twilio]\nauth_token = \"{AUTH_TOKEN}\"\n\
         [admin]\ntoken = \"{ADMIN_TOKEN}\"\n[metrics]\nlisten = \"\"\n",
        data_dir.display()
    );
    let config_path = folder.join("saidno.toml");
    std::fs::write(&config_path, config).map_err(|e| e.to_string())?;
    let log = std::fs::File::create(folder.join("server.log")).map_err(|e| e.to_string())?;
    let child = Command::new(binary)
        .arg("--config")
        .arg(&config_path)
        .arg("serve")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("{}: {e}", binary.display()))?;
    // The server writes its address here once it listens.
    let server_file = data_dir.join("server.json");
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        if let Ok(text) = std::fs::read_to_string(&server_file)
            && let Ok(found) = serde_json::from_str::<serde_json::Value>(&text)
            && let Some(url) = found["url"].as_str()
        {
            return Ok(Server { child, url: url.to_owned(), data_dir });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err("the server did not start within a minute".into())
}

fn resident_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn incoming(call_id: &str, from: &str) -> Vec<(String, String)> {
    [
        ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
        ("ApiVersion", "2010-04-01"),
        ("CallSid", call_id),
        ("CallStatus", "ringing"),
        ("Direction", "inbound"),
        ("From", from),
        ("To", BUSINESS_NUMBER),
    ]
    .iter()
    .map(|(name, value)| (name.to_string(), value.to_string()))
    .collect()
}

fn caller(n: u64) -> String {
    if n.is_multiple_of(DECLINED_EVERY) {
        format!("+44207946{:04}", n / DECLINED_EVERY % DECLINED_CALLERS)
    } else {
        format!("+44207947{:04}", n % 10_000)
    }
}

async fn call(http: &reqwest::Client, url: &str, call_id: &str, from: &str) -> Result<Duration, String> {
    let pairs = incoming(call_id, from);
    let signature = sign(AUTH_TOKEN, &format!("{PUBLIC_URL}/twilio/voice"), &Params::from_pairs(pairs.clone()));
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(&pairs).finish();
    let started = Instant::now();
    let response = http
        .post(format!("{url}/twilio/voice"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", signature)
        .body(body)
        .send()
        .await
        .map_err(|e| format!("call {call_id}: {e}"))?;
    let status = response.status();
    let text = response.text().await.map_err(|e| format!("call {call_id}: {e}"))?;
    if status != 200 || !text.contains("<Response>") {
        return Err(format!("call {call_id}: {status} {text}"));
    }
    Ok(started.elapsed())
}

/// The owner at work meanwhile: a decline added and removed, the declines and the log read.
async fn admin(http: reqwest::Client, url: String, until: Instant, errors: Arc<Errors>) -> u64 {
    let mut requests = 0;
    let mut tick = tokio::time::interval(ADMIN_PERIOD);
    let api = format!("{url}/api/v1");
    for n in 0u64.. {
        tick.tick().await;
        if Instant::now() >= until {
            break;
        }
        let number = format!("+44207948{:04}", n % 10_000);
        let steps = [
            http.post(format!("{api}/declines")).json(&serde_json::json!({"number": number, "company": "Soak Admin"})),
            http.get(format!("{api}/declines")),
            http.get(format!("{api}/calls?limit=50")),
            http.delete(format!("{api}/declines/%2B{}", &number[1..])),
        ];
        for request in steps {
            requests += 1;
            match request.bearer_auth(ADMIN_TOKEN).send().await {
                Ok(response) if response.status().is_success() => {}
                Ok(response) => errors.record(format!("admin: {}", response.status())).await,
                Err(error) => errors.record(format!("admin: {error}")).await,
            }
        }
    }
    requests
}

fn stop(server: &mut Server) -> Result<(), String> {
    Command::new("kill").arg("-TERM").arg(server.child.id().to_string()).status().map_err(|e| e.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Some(status) = server.child.try_wait().map_err(|e| e.to_string())? {
            return if status.success() { Ok(()) } else { Err(format!("the server exited with {status}")) };
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err("the server did not stop within a minute of SIGTERM".into())
}

/// The answered calls that are not in the server's own log, read from its database.
fn missing_from_log(data_dir: &Path, answered: &HashSet<String>) -> Result<(usize, usize), String> {
    let mut settings = Settings::defaults();
    settings.data_dir = data_dir.to_owned();
    let store = SledStore::open(&settings.database_path(), 64).map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    // Page by page, as the calls page reads it: one query looks at a bounded number of entries.
    let mut logged = HashSet::new();
    let mut query = CallQuery { limit: 1000, ..Default::default() };
    loop {
        let page = runtime.block_on(store.call_page(&query)).map_err(|e| e.to_string())?;
        logged.extend(page.calls.into_iter().map(|call| call.call_id));
        match page.next {
            Some(next) => query.before = Some(next),
            None => break,
        }
    }
    Ok((answered.difference(&logged).count(), logged.len()))
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    sorted.get(((sorted.len() as f64 - 1.0) * fraction) as usize).copied().unwrap_or_default()
}

async fn soak(
    options: &Options,
    server: &Server,
    errors: Arc<Errors>,
) -> (HashSet<String>, Vec<Duration>, u64, Vec<u64>) {
    let http = saidno::tls::client_builder().pool_max_idle_per_host(64).build().expect("a client builds");
    let until = Instant::now() + Duration::from_secs(options.seconds);

    for n in 0..DECLINED_CALLERS {
        let number = format!("+44207946{n:04}");
        let saved = http
            .post(format!("{}/api/v1/declines", server.url))
            .bearer_auth(ADMIN_TOKEN)
            .json(&serde_json::json!({"number": number, "company": format!("Pushy {}", n % 4)}))
            .send()
            .await;
        if !saved.is_ok_and(|response| response.status().is_success()) {
            errors.record(format!("declining {number} before the run")).await;
        }
    }

    let admin = tokio::spawn(admin(http.clone(), server.url.clone(), until, errors.clone()));
    let pid = server.child.id();
    let memory = tokio::spawn(async move {
        let mut samples = Vec::new();
        let mut tick = tokio::time::interval(MEMORY_PERIOD);
        while Instant::now() < until {
            tick.tick().await;
            samples.extend(resident_kb(pid));
        }
        samples
    });

    let mut calls = JoinSet::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1) / options.rate as u32);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    for n in 0..options.seconds * options.rate {
        tick.tick().await;
        let (http, url, errors) = (http.clone(), server.url.clone(), errors.clone());
        calls.spawn(async move {
            let call_id = format!("CA{n:032}");
            match call(&http, &url, &call_id, &caller(n)).await {
                Ok(took) => Some((call_id, took)),
                Err(error) => {
                    errors.record(error).await;
                    None
                }
            }
        });
    }
    let mut answered = HashSet::new();
    let mut latencies = Vec::new();
    while let Some(done) = calls.join_next().await {
        if let Some((call_id, took)) = done.expect("a call task finishes") {
            answered.insert(call_id);
            latencies.push(took);
        }
    }
    let admin_requests = admin.await.expect("the admin task finishes");
    let mut samples = memory.await.expect("the memory task finishes");
    samples.extend(resident_kb(pid));
    (answered, latencies, admin_requests, samples)
}

fn main() -> std::process::ExitCode {
    let options = match options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("soak: {message}");
            return std::process::ExitCode::from(2);
        }
    };
    let folder = tempfile::tempdir().expect("a temporary folder");
    let mut server = match start(&options.binary, folder.path()) {
        Ok(server) => server,
        Err(message) => {
            eprintln!("soak: {message}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    let errors = Arc::new(Errors::default());
    let started = Instant::now();
    let (answered, mut latencies, admin_requests, samples) = runtime.block_on(soak(&options, &server, errors.clone()));
    let elapsed = started.elapsed();
    let stopped = stop(&mut server);
    let sent = options.seconds * options.rate;
    let errors_seen = errors.count.load(Ordering::Relaxed);
    let first_errors = runtime.block_on(async { errors.first.lock().await.clone() });
    let server_errors = std::fs::read_to_string(folder.path().join("server.log"))
        .map(|log| log.lines().filter(|line| line.contains("ERROR")).count())
        .unwrap_or(0);
    let log_check = missing_from_log(&server.data_dir, &answered);
    latencies.sort();

    println!(
        "calls sent:        {sent} in {:.1} s ({:.0}/s)",
        elapsed.as_secs_f64(),
        sent as f64 / elapsed.as_secs_f64()
    );
    println!("calls answered:    {}", answered.len());
    println!("admin requests:    {admin_requests}");
    println!("errors:            {errors_seen}");
    for error in &first_errors {
        println!("  {error}");
    }
    println!("server log errors: {server_errors}");
    println!(
        "latency:           p50 {:?}  p99 {:?}  max {:?}",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or_default()
    );
    let lost = match &log_check {
        Ok((missing, logged)) => {
            println!("call log:          {logged} entries; {missing} answered calls missing");
            *missing
        }
        Err(error) => {
            println!("call log:          could not be read: {error}");
            usize::MAX
        }
    };
    let samples_mb: Vec<String> = samples.iter().map(|kb| format!("{:.1}", *kb as f64 / 1024.0)).collect();
    println!("resident MB:       {} (every {:?})", samples_mb.join(" "), MEMORY_PERIOD);
    let per_minute = (Duration::from_secs(60).as_secs() / MEMORY_PERIOD.as_secs()) as usize;
    let minutes: Vec<String> =
        samples.iter().step_by(per_minute).skip(1).map(|kb| format!("{:.1}", *kb as f64 / 1024.0)).collect();
    println!("resident MB/min:   {}", minutes.join(" "));
    // From minute 2 on a run of three minutes or more: the first minutes fill caches and queues.
    let warmed_at = if samples.len() > 3 * per_minute { 2 * per_minute } else { samples.len() / 4 };
    let warmed = samples.get(warmed_at).copied().unwrap_or_default() as f64;
    let last = samples.last().copied().unwrap_or_default() as f64;
    let flat = warmed > 0.0 && last <= warmed * (1.0 + FLAT_TOLERANCE);
    println!(
        "memory flat:       {flat} ({:+.1}% from the warmed-up sample to the last)",
        (last / warmed - 1.0) * 100.0
    );
    if let Err(error) = &stopped {
        println!("shutdown:          {error}");
    }

    let passed = errors_seen == 0 && server_errors == 0 && lost == 0 && flat && stopped.is_ok();
    println!("{}", if passed { "PASS" } else { "FAIL" });
    if passed { std::process::ExitCode::SUCCESS } else { std::process::ExitCode::FAILURE }
}
