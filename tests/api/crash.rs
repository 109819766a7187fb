//! Power cuts: the real binary killed with SIGKILL while clients change its records. Every change
//! the admin API acknowledged must be there after a restart, and the database must open clean;
//! a bulk import cut short by the kill is there whole or not at all.

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use saidno::store::{OwnerRecord, SledStore};

use crate::helpers::*;

const ROUNDS: u64 = 22;
const CLIENTS: u64 = 4;
/// The kill lands this long after the round's first acknowledged change, chosen afresh each round.
const KILL_AFTER_MS: std::ops::Range<u64> = 0..250;

/// What one client learnt: which numbers the server said it declined, which it said it removed,
/// and which were in flight when the server died (either outcome is then correct, so they are
/// not checked).
#[derive(Default)]
struct Acknowledged {
    declined: BTreeSet<String>,
    removed: BTreeSet<String>,
    unknown: BTreeSet<String>,
}

impl Acknowledged {
    fn absorb(&mut self, other: Acknowledged) {
        self.declined.extend(other.declined);
        self.removed.extend(other.removed);
        self.unknown.extend(other.unknown);
    }
}

fn random_below(range: &std::ops::Range<u64>, seed: u64) -> u64 {
    range.start + RandomState::new().hash_one(seed) % (range.end - range.start)
}

/// Adds declines one after another; every fourth one it removes again once acknowledged.
async fn client(url: String, next_id: Arc<AtomicU64>, acks: Arc<AtomicU64>, stop: Arc<AtomicBool>) -> Acknowledged {
    let http = saidno::tls::client();
    let mut seen = Acknowledged::default();
    while !stop.load(Ordering::Relaxed) {
        let id = next_id.fetch_add(1, Ordering::Relaxed);
        let number = format!("+4420{:08}", 70_000_000 + id);
        let added = http
            .post(format!("{url}/api/v1/declines"))
            .bearer_auth(ADMIN_TOKEN)
            .json(&json!({"number": number, "company": format!("Crash Test {}", id % 7), "force": true}))
            .send()
            .await;
        match added {
            Ok(response) if response.status().is_success() => {
                acks.fetch_add(1, Ordering::Relaxed);
            }
            Ok(response) => panic!("the server refused a decline of {number}: {}", response.status()),
            Err(_) => {
                seen.unknown.insert(number);
                break;
            }
        }
        if !id.is_multiple_of(4) {
            seen.declined.insert(number);
            continue;
        }
        let removed = http
            .delete(format!("{url}/api/v1/declines/{}", number.replace('+', "%2B")))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await;
        match removed {
            Ok(response) if response.status() == StatusCode::OK => {
                acks.fetch_add(1, Ordering::Relaxed);
                seen.removed.insert(number);
            }
            Ok(response) => panic!("the server refused to remove {number}: {}", response.status()),
            Err(_) => {
                seen.unknown.insert(number);
                break;
            }
        }
    }
    seen
}

fn declined_numbers(server: &Server) -> BTreeSet<String> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let declines: Value = runtime.block_on(async {
        let response = saidno::tls::client()
            .get(format!("{}/api/v1/declines", server.url))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    });
    declines.as_array().unwrap().iter().map(|decline| decline["number"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn every_acknowledged_change_survives_sigkill_at_random_moments() {
    let saidno = Binary::new(&format!("[admin]\ntoken = \"{ADMIN_TOKEN}\"\n[store]\ncache_mb = 8\n"));
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let next_id = Arc::new(AtomicU64::new(0));
    let acks = Arc::new(AtomicU64::new(0));
    let mut acknowledged = Acknowledged::default();
    let mut lost = Vec::new();
    let mut server = saidno.serve();

    for round in 0..ROUNDS {
        let stop = Arc::new(AtomicBool::new(false));
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| runtime.spawn(client(server.url.clone(), next_id.clone(), acks.clone(), stop.clone())))
            .collect();
        // On a busy machine the first change can take a while; a kill before it would prove nothing.
        let before = acks.load(Ordering::Relaxed);
        let waiting = std::time::Instant::now();
        while acks.load(Ordering::Relaxed) == before {
            assert!(waiting.elapsed() < Duration::from_secs(60), "round {round}: no change was acknowledged");
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(random_below(&KILL_AFTER_MS, round)));
        server.kill();
        stop.store(true, Ordering::Relaxed);
        for finished in clients {
            acknowledged.absorb(runtime.block_on(finished).unwrap());
        }

        server = saidno.serve();
        let (status, readiness) = server.get("/readyz");
        assert_eq!(status, 200, "round {round}: the database did not open cleanly: {readiness}\n{}", server.log());
        let on_record = declined_numbers(&server);
        for number in &acknowledged.declined {
            if !on_record.contains(number) {
                lost.push(format!("round {round}: the acknowledged decline of {number} is gone"));
            }
        }
        for number in &acknowledged.removed {
            if on_record.contains(number) {
                lost.push(format!("round {round}: the acknowledged removal of {number} was undone"));
            }
        }
        // A change in flight at the kill may or may not have landed; either is correct.
        acknowledged.unknown.clear();
    }
    server.terminate();

    let changes = acknowledged.declined.len() + acknowledged.removed.len();
    eprintln!("{ROUNDS} kills, {changes} acknowledged changes checked, {} lost", lost.len());
    assert!(changes >= ROUNDS as usize, "too few changes were made to prove anything: {changes}");
    assert!(lost.is_empty(), "{} of {changes} acknowledged changes were lost:\n{}", lost.len(), lost.join("\n"));
}

const IMPORT_ROUNDS: u64 = 20;
/// More than one batch of an import (`IMPORT_BATCH`), so a kill can land between two batches.
const IMPORT_ROWS: usize = 25_000;

/// Every round imports the same numbers, each row naming the round in its company and note: a file
/// applied in part would leave the numbers split between two rounds.
fn import_file(round: u64) -> String {
    let mut csv = String::from("number,company,note,declined_at\n");
    for row in 0..IMPORT_ROWS {
        let number = 80_000_000 + row;
        csv.push_str(&format!("+4420{number},Import Round {round},row {row} of round {round},2026-11-03T10:00:00Z\n"));
    }
    csv
}

async fn import(url: String, file: String) -> Result<StatusCode, reqwest::Error> {
    let response = saidno::tls::client()
        .post(format!("{url}/api/v1/declines/import?format=csv"))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "text/csv")
        .body(file)
        .send()
        .await?;
    let status = response.status();
    response.bytes().await?;
    Ok(status)
}

/// How many of the imported numbers each round's file left declined, read from the database
/// itself while no server runs (which also proves it opens).
fn rows_by_round(saidno: &Binary) -> BTreeMap<String, usize> {
    let store = SledStore::open(&saidno.dir.path().join("data").join("db"), 8)
        .unwrap_or_else(|error| panic!("the database does not open after the kill: {error}"));
    let mut rounds = BTreeMap::new();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    for decline in runtime.block_on(store.declines()).unwrap() {
        let company = decline.company.unwrap_or_default();
        // The note is written with the company in the same row, so the two must agree.
        let round = company.trim_start_matches("Import Round ");
        assert!(decline.note.unwrap_or_default().ends_with(&format!("of round {round}")), "{company}");
        *rounds.entry(company).or_insert(0) += 1;
    }
    rounds
}

fn whole_file_of(round: u64) -> BTreeMap<String, usize> {
    BTreeMap::from([(format!("Import Round {round}"), IMPORT_ROWS)])
}

#[test]
fn a_bulk_import_killed_at_random_moments_is_there_whole_or_not_at_all() {
    let saidno = Binary::new(&format!("[admin]\ntoken = \"{ADMIN_TOKEN}\"\n[store]\ncache_mb = 8\n"));
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mut server = saidno.serve();

    // Two imports left to finish: the second, on a server just started over the first file's rows
    // as every later round is, shows how long an import takes on this machine. Each kill then lands
    // at a random moment around an aim that moves later after a round that left nothing and
    // earlier after one that landed, so the kills gather around the moment the file is committed
    // however busy the machine is.
    assert_eq!(runtime.block_on(import(server.url.clone(), import_file(0))).unwrap(), StatusCode::OK);
    server.terminate();
    assert_eq!(rows_by_round(&saidno), whole_file_of(0));
    server = saidno.serve();
    let started = Instant::now();
    assert_eq!(runtime.block_on(import(server.url.clone(), import_file(0))).unwrap(), StatusCode::OK);
    let took = started.elapsed().as_millis() as u64;
    let mut aim = took as f64;

    let mut landed = 0;
    let (mut acknowledged, mut whole, mut nothing) = (0, 0, 0);
    for round in 1..=IMPORT_ROUNDS {
        let sending = runtime.spawn(import(server.url.clone(), import_file(round)));
        let spread = random_below(&(600..1400), round) as f64 / 1000.0;
        std::thread::sleep(Duration::from_millis((aim * spread) as u64));
        server.kill();
        let answered = runtime.block_on(sending).unwrap();

        let rounds = rows_by_round(&saidno);
        if rounds == whole_file_of(round) {
            whole += 1;
            landed = round;
            aim *= 0.85;
        } else {
            assert_eq!(rounds, whole_file_of(landed), "round {round}: the file was imported in part");
            nothing += 1;
            aim *= 1.15;
        }
        if let Ok(status) = answered {
            assert_eq!(status, StatusCode::OK, "round {round}: the import was refused");
            acknowledged += 1;
            assert_eq!(landed, round, "round {round}: an acknowledged import is gone");
        }
        server = saidno.serve();
        let (status, readiness) = server.get("/readyz");
        assert_eq!(status, 200, "round {round}: the database did not open cleanly: {readiness}\n{}", server.log());
    }
    server.terminate();
    eprintln!(
        "{IMPORT_ROUNDS} kills during imports of {IMPORT_ROWS} rows (one takes {took} ms): {whole} landed whole \
         ({acknowledged} of them acknowledged), {nothing} left nothing, none in part"
    );
}
