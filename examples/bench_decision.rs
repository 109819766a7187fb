//! Times one decision as the call path pays it: the look-up of everything on record about the
//! caller (`Service::records_for`, on a sled store in a temporary folder) and the decision itself
//! (`policy::decide`), with 1,000 ranges and patterns and 100,000 allows on record, at 10,000,
//! 100,000 and 1,000,000 declined numbers.
//!
//! `cargo run --release --example bench_decision [-- SIZES]`, SIZES a comma-separated list of
//! decline counts (default `10000,100000,1000000`). The callers cycle through five kinds: a
//! declined number, an allowed number, an unknown number, a number in a declined range and a
//! withheld caller. Each size is warmed up, then every decision is timed on its own; the table
//! gives the median and the 99th percentile per decision, overall and per kind of caller.

use std::sync::Arc;
use std::time::Instant;

use jiff::Timestamp;
use saidno::config::Settings;
use saidno::domain::{
    Allow, CallRecord, CallerId, DecisionKind, Decline, IncomingCall, PhoneNumber, Target, Verification,
};
use saidno::policy;
use saidno::service::Service;
use saidno::store::{CallSink, Change, OwnerRecord, Publish, SledStore};
use tokio::runtime::Runtime;

// The server's allocator, so that the figures are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const RANGES: usize = 900;
const PATTERNS: usize = 100;
const ALLOWS: usize = 100_000;
/// Declines are written in batches of this many, each one durable commit.
const BATCH: usize = 100_000;
/// Declined numbers name one of this many companies (every other one names none).
const COMPANIES: usize = 5_000;
const WARM_UP: usize = 50_000;
const SAMPLES: usize = 500_000;
const KINDS: [&str; 5] = ["declined", "allowed", "unknown", "in a range", "withheld"];

fn number(text: String) -> PhoneNumber {
    PhoneNumber::from_e164(&text).expect("a number of E.164 shape")
}

/// Declined numbers are +44113 followed by seven digits; allowed ones +44161..., unknown ones
/// +44121..., declined ranges +44203NNN.
fn declined(i: usize) -> String {
    format!("+44113{i:07}")
}

fn declined_at() -> Timestamp {
    "2026-11-03T10:00:00Z".parse().unwrap()
}

fn decline_of_number(i: usize) -> Decline {
    let mut decline = Decline::new(Target::Number(number(declined(i))), declined_at());
    if i.is_multiple_of(2) {
        decline.company = Some(format!("Company {}", i / 2 % COMPANIES));
    }
    decline
}

fn rules() -> Vec<Decline> {
    let ranges = (0..RANGES).map(|i| Decline {
        company: Some(format!("Rotating {i}")),
        ..Decline::new(Target::Prefix(format!("+44203{i:03}")), declined_at())
    });
    let patterns = (0..PATTERNS).map(|i| Decline::new(Target::Pattern(format!(r"\+1800{i:03}\d{{4}}")), declined_at()));
    ranges.chain(patterns).collect()
}

/// A simple generator, so runs are repeatable without a dependency.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

fn calls(declines: usize, count: usize) -> Vec<(usize, IncomingCall)> {
    let mut random = Lcg(42);
    (0..count)
        .map(|i| {
            let kind = i % KINDS.len();
            let from = match kind {
                0 => CallerId::Number(number(declined(random.below(declines)))),
                1 => CallerId::Number(number(format!("+44161{:07}", random.below(ALLOWS)))),
                2 => CallerId::Number(number(format!("+44121{:07}", random.below(10_000_000)))),
                3 => CallerId::Number(number(format!("+44203{:03}{:04}", random.below(RANGES), random.below(10_000)))),
                _ => CallerId::Withheld,
            };
            let call = IncomingCall {
                call_id: format!("CA{i:032x}"),
                from,
                to: "+442079460000".into(),
                caller_name: None,
                verification: Some(Verification::of_verstat("TN-Validation-Passed-A".into())),
            };
            (kind, call)
        })
        .collect()
}

fn load(runtime: &Runtime, store: &SledStore, from: usize, to: usize) {
    for first in (from..to).step_by(BATCH) {
        let batch: Vec<Decline> = (first..(first + BATCH).min(to)).map(decline_of_number).collect();
        let change = Change::Declines(Arc::new(batch.into_iter().collect()));
        runtime.block_on(store.apply(change, Publish::nowhere())).expect("declines are saved");
    }
}

/// Some companies have called back since they were told no, so their follow-ups are on record.
fn follow_ups(store: &SledStore) {
    let calls: Vec<CallRecord> = (0..1_000)
        .map(|i| CallRecord {
            call_id: format!("CA-follow-up-{i}"),
            from: declined(i * 2),
            to: "+442079460000".into(),
            at: "2026-11-10T10:00:00Z".parse().unwrap(),
            decision: DecisionKind::Decline,
            reason: "refused".into(),
            company: Some(format!("Company {}", i % COMPANIES)),
            party: Some(format!("company:company {}", i % COMPANIES)),
            ..Default::default()
        })
        .collect();
    store.append_calls(&calls).expect("calls are logged");
    store.flush().expect("the log is flushed");
}

fn percentile(sorted: &[u64], fraction: f64) -> u64 {
    sorted[((sorted.len() - 1) as f64 * fraction).round() as usize]
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "10000,100000,1000000".into())
        .split(',')
        .map(|size| size.trim().replace('_', "").parse().expect("SIZES are numbers"))
        .collect();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let settings = Arc::new(Settings::defaults());
    let cache_mb =
        std::env::var("CACHE_MB").map_or(settings.store.cache_mb, |mb| mb.parse().expect("CACHE_MB is a number"));
    let store = Arc::new(SledStore::open(&dir.path().join("db"), cache_mb).expect("the store opens"));
    // The store's writes and the first read of the records are async; the decisions timed are not.
    let runtime = Runtime::new().expect("a runtime");

    let started = Instant::now();
    let rules = Change::Declines(Arc::new(rules().into_iter().collect()));
    runtime.block_on(store.apply(rules, Publish::nowhere())).expect("rules are saved");
    let allows: Vec<Allow> = (0..ALLOWS)
        .map(|i| Allow::always(number(format!("+44161{i:07}")), Some(format!("Contact {i}")), declined_at()))
        .collect();
    runtime.block_on(store.apply(Change::Allows(allows), Publish::nowhere())).expect("allows are saved");
    follow_ups(&store);
    eprintln!(
        "{RANGES} ranges, {PATTERNS} patterns and {ALLOWS} allows on record ({:.1} s)",
        started.elapsed().as_secs_f64()
    );

    println!("{:>9} {:>10} {:>10}   median ns by caller: {}", "declines", "median ns", "p99 ns", KINDS.join(" / "));
    let mut loaded = 0;
    for size in sizes {
        let started = Instant::now();
        load(&runtime, &store, loaded, size.max(loaded));
        loaded = loaded.max(size);
        eprintln!("{loaded} declined numbers on record ({:.1} s)", started.elapsed().as_secs_f64());

        // Opened afresh, as the server opens it, over the store as it now is.
        let service = Service::open(store.clone(), settings.clone()).expect("the service opens");
        runtime.block_on(service.warm_up()).expect("the records are read");
        let calls = calls(loaded, WARM_UP + SAMPLES);
        let mut expected = [None; KINDS.len()];
        for (kind, call) in &calls[..WARM_UP] {
            let records = service.records_for(call).expect("records are read");
            let decision = policy::decide(call, &records, Timestamp::now(), &settings).kind();
            assert_eq!(*expected[*kind].get_or_insert(decision), decision, "{} callers decide alike", KINDS[*kind]);
        }
        assert_eq!(
            expected,
            [
                DecisionKind::Decline,
                DecisionKind::Forward,
                DecisionKind::Forward,
                DecisionKind::Decline,
                DecisionKind::Forward
            ]
            .map(Some)
        );
        let mut times: Vec<Vec<u64>> = vec![Vec::with_capacity(SAMPLES / KINDS.len() + 1); KINDS.len()];
        for (kind, call) in &calls[WARM_UP..] {
            let started = Instant::now();
            let records = service.records_for(call).expect("records are read");
            let decision = policy::decide(call, &records, Timestamp::now(), &settings);
            let elapsed = started.elapsed().as_nanos() as u64;
            std::hint::black_box(decision);
            times[*kind].push(elapsed);
        }
        let mut all: Vec<u64> = times.concat();
        all.sort_unstable();
        let by_kind: Vec<String> = times
            .iter_mut()
            .map(|kind| {
                kind.sort_unstable();
                percentile(kind, 0.5).to_string()
            })
            .collect();
        println!("{loaded:>9} {:>10} {:>10}   {}", percentile(&all, 0.5), percentile(&all, 0.99), by_kind.join(" / "));
    }
}
