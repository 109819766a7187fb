//! The call log's two candidate designs, measured side by side on the same calls:
//!
//! - **SQLite** (what saidno ships): one row per call in a table ordered by time, with an index
//!   per filter (calling number, company, decision), written by `SledStore`'s call sink.
//! - **sled, grouped**: one sled value per commit group holding that group's calls, and beside it
//!   a compact summary of the group (the decisions, calling numbers and companies it holds) that
//!   a filtered page reads first, opening only the groups whose summary matches.
//!
//! `cargo run --release --example log_designs -- [CALLS] [GROUP...]` (default 1,000,000 calls;
//! groups of 20, the most that keeps a sled value under its 8 KB sweet spot, and of 2,000, what
//! one 50 ms commit gathers at the webhook benchmark's rate). Each design is filled in a fresh
//! temporary folder, one call a second, every tenth refused (2,000 calling numbers, 200
//! companies), with the wording a real refusal and forward carry. Printed per design: CPU time per
//! logged call, bytes on disk per call, resident memory once filled and queried, and the time of
//! the calls page's queries (newest 50, refused only, one number, one company, 5 runs each).

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Instant;

use jiff::{Timestamp, ToSpan};
use saidno::domain::{CallRecord, DecisionKind};
use saidno::store::{CallHistory, CallQuery, CallSink, SledStore};
use serde::{Deserialize, Serialize};

// The server's allocator, so that the figures are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const START: &str = "2026-01-01T00:00:00Z";
const PAGE: usize = 50;
const NUMBER: &str = "+442079400007";
const COMPANY: &str = "Company 70";

fn call(i: usize, start: Timestamp) -> CallRecord {
    let refused = i.is_multiple_of(10);
    let from = format!("+4420794{:05}", i % 2_000);
    let company = format!("Company {}", i % 200);
    CallRecord {
        call_id: format!("CA{i:032x}"),
        at: start + (i as i64).seconds(),
        decision: if refused { DecisionKind::Decline } else { DecisionKind::Forward },
        reason: if refused {
            format!("refused: {company}, declined 3 Nov 2025; {}th call since", i / 2_000 + 4)
        } else {
            format!("forwarded: no decline on record for {from}")
        },
        heard: Some(if refused {
            format!(
                "This is Acme Plumbing. On 3 November 2025 we asked {company} to remove this number from your \
                 calling list. Please do so now. Goodbye."
            )
        } else {
            "the phones ringing".into()
        }),
        party: refused.then(|| format!("company:{}", company.to_lowercase())),
        company: refused.then_some(company),
        from,
        to: "+442079460000".into(),
        verification: Some("TN-Validation-Passed-A".into()),
        ..Default::default()
    }
}

/// The CPU time this process has used, user and system, in seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields 14 and 15 (utime, stime) in clock ticks, counted after the command's closing parenthesis.
    let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn resident_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status.lines().find_map(|line| line.strip_prefix("VmRSS:")).and_then(|v| v.split_whitespace().next());
    kb.and_then(|kb| kb.parse::<f64>().ok()).unwrap_or(0.0) / 1024.0
}

fn disk_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|entry| match entry.metadata() {
                    Ok(meta) if meta.is_dir() => disk_bytes(&entry.path()),
                    Ok(meta) => meta.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// Milliseconds per run of `query`, over 5 runs after one that warms the cache.
fn time_query(query: impl Fn() -> usize) -> (f64, usize) {
    let found = query();
    let started = Instant::now();
    for _ in 0..5 {
        query();
    }
    (started.elapsed().as_secs_f64() * 1000.0 / 5.0, found)
}

/// What one design answers; each returns how many calls the page held.
trait Design {
    fn append(&mut self, group: &[CallRecord]);
    fn newest(&self) -> usize;
    fn refused(&self) -> usize;
    fn calls_from(&self, number: &str) -> usize;
    fn of_company(&self, company: &str) -> usize;
}

/// The shipped store, whose queries are async (they run on tokio's blocking pool).
struct Sqlite(SledStore, tokio::runtime::Runtime);

impl Sqlite {
    fn page(&self, query: CallQuery) -> usize {
        let query = CallQuery { limit: PAGE, ..query };
        self.1.block_on(self.0.call_page(&query)).expect("a page").calls.len()
    }
}

impl Design for Sqlite {
    fn append(&mut self, group: &[CallRecord]) {
        self.0.append_calls(group).expect("calls are logged");
    }
    fn newest(&self) -> usize {
        self.page(CallQuery::default())
    }
    fn refused(&self) -> usize {
        self.page(CallQuery { declined_only: true, ..Default::default() })
    }
    fn calls_from(&self, number: &str) -> usize {
        self.page(CallQuery { number: Some(number.into()), ..Default::default() })
    }
    fn of_company(&self, company: &str) -> usize {
        self.page(CallQuery { company: Some(company.into()), ..Default::default() })
    }
}

/// One group's summary: enough to tell, without opening the group, whether it holds a call a
/// filter wants.
#[derive(Serialize, Deserialize)]
struct Summary {
    refused: bool,
    /// The calling numbers' digits, sorted, for a binary search.
    callers: Vec<u64>,
    companies: Vec<String>,
}

struct SledGrouped {
    db: sled::Db,
    groups: sled::Tree,
    summaries: sled::Tree,
    next: u64,
}

impl SledGrouped {
    fn open(dir: &Path) -> Self {
        let db = sled::Config::new().path(dir.join("grouped")).cache_capacity(8 << 20).open().expect("sled opens");
        let groups = db.open_tree("groups").expect("a tree");
        let summaries = db.open_tree("summaries").expect("a tree");
        Self { db, groups, summaries, next: 0 }
    }

    /// The newest `PAGE` calls of the groups whose summary `wanted` accepts, that `keep` keeps.
    fn page(&self, wanted: impl Fn(&Summary) -> bool, keep: impl Fn(&CallRecord) -> bool) -> usize {
        let mut found = 0;
        for entry in self.summaries.iter().rev() {
            let (key, summary) = entry.expect("a summary");
            let summary: Summary = serde_json::from_slice(&summary).expect("a summary reads");
            if !wanted(&summary) {
                continue;
            }
            let group = self.groups.get(&key).expect("a group").expect("every summary has its group");
            let calls: Vec<CallRecord> = serde_json::from_slice(&group).expect("a group reads");
            found += calls.iter().rev().filter(|call| keep(call)).take(PAGE - found).count();
            if found == PAGE {
                break;
            }
        }
        found
    }
}

fn digits(number: &str) -> u64 {
    number.trim_start_matches('+').parse().unwrap_or(0)
}

impl Design for SledGrouped {
    fn append(&mut self, group: &[CallRecord]) {
        let callers: BTreeSet<u64> = group.iter().map(|call| digits(&call.from)).collect();
        let companies: BTreeSet<String> =
            group.iter().filter_map(|call| call.company.as_deref().map(str::to_lowercase)).collect();
        let summary = Summary {
            refused: group.iter().any(CallRecord::is_refusal),
            callers: callers.into_iter().collect(),
            companies: companies.into_iter().collect(),
        };
        // Keys sort as the log does: the group's first call's time, then its number.
        let mut key = [0u8; 16];
        key[..8].copy_from_slice(&(group[0].at.as_microsecond() as u64).to_be_bytes());
        key[8..].copy_from_slice(&self.next.to_be_bytes());
        self.next += 1;
        let mut batch = sled::Batch::default();
        batch.insert(&key, serde_json::to_vec(group).expect("calls serialise"));
        let mut summaries = sled::Batch::default();
        summaries.insert(&key, serde_json::to_vec(&summary).expect("a summary serialises"));
        self.groups.apply_batch(batch).expect("a group is written");
        self.summaries.apply_batch(summaries).expect("a summary is written");
    }
    fn newest(&self) -> usize {
        self.page(|_| true, |_| true)
    }
    fn refused(&self) -> usize {
        self.page(|summary| summary.refused, CallRecord::is_refusal)
    }
    fn calls_from(&self, number: &str) -> usize {
        let key = digits(number);
        self.page(|summary| summary.callers.binary_search(&key).is_ok(), |call| call.from == number)
    }
    fn of_company(&self, company: &str) -> usize {
        let company = company.to_lowercase();
        self.page(
            |summary| summary.companies.binary_search(&company).is_ok(),
            |call| call.company.as_deref().is_some_and(|name| name.to_lowercase() == company),
        )
    }
}

fn measure(name: &str, mut design: impl Design, dir: &Path, calls: usize, group: usize, flush: impl Fn(&dyn Design)) {
    let start: Timestamp = START.parse().unwrap();
    let mut cpu = 0.0;
    let filling = Instant::now();
    for first in (0..calls).step_by(group) {
        let batch: Vec<CallRecord> = (first..(first + group).min(calls)).map(|i| call(i, start)).collect();
        // Only the writing is counted, not the making of the calls.
        let before = cpu_seconds();
        design.append(&batch);
        cpu += cpu_seconds() - before;
    }
    flush(&design);
    let wall = filling.elapsed().as_secs_f64();
    let newest = time_query(|| design.newest());
    let refused = time_query(|| design.refused());
    let number = time_query(|| design.calls_from(NUMBER));
    let company = time_query(|| design.of_company(COMPANY));
    for (label, (_, found)) in [("newest", newest), ("refused", refused), ("number", number), ("company", company)] {
        assert_eq!(found, PAGE, "{name}: the {label} page holds {found} calls");
    }
    println!(
        "{name:<14} {group:>6} {:>10.2} {:>8.1} {:>10.0} {:>8.0} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
        cpu * 1e6 / calls as f64,
        wall,
        disk_bytes(dir) as f64 / calls as f64,
        resident_mb(),
        newest.0,
        refused.0,
        number.0,
        company.0,
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let calls: usize = args.next().map_or(1_000_000, |n| n.parse().expect("CALLS is a number"));
    let groups: Vec<usize> = args.map(|n| n.parse().expect("GROUP is a number")).collect();
    let groups = if groups.is_empty() { vec![20, 2_000] } else { groups };
    // Each design in a process of its own, so that resident memory is that design's alone.
    if let Ok(which) = std::env::var("LOG_DESIGN") {
        let group: usize = std::env::var("LOG_GROUP").ok().and_then(|g| g.parse().ok()).expect("LOG_GROUP");
        let dir = tempfile::tempdir().expect("a temporary folder");
        match which.as_str() {
            "sqlite" => {
                let store = SledStore::open(&dir.path().join("db"), 8).expect("the store opens");
                let runtime = tokio::runtime::Runtime::new().expect("a runtime");
                measure("sqlite", Sqlite(store, runtime), dir.path(), calls, group, |_| {});
            }
            _ => {
                let design = SledGrouped::open(dir.path());
                let db = design.db.clone();
                measure("sled grouped", design, dir.path(), calls, group, move |_| {
                    db.flush().expect("sled flushes");
                });
            }
        }
        return;
    }
    println!("{calls} calls, one a second; times in ms for a page of {PAGE}");
    println!(
        "{:<14} {:>6} {:>10} {:>8} {:>10} {:>8} {:>9} {:>9} {:>9} {:>9}",
        "design", "group", "cpu us/call", "fill s", "disk B/call", "rss MB", "newest", "refused", "number", "company"
    );
    for group in groups {
        for design in ["sqlite", "sled"] {
            let status = std::process::Command::new(std::env::current_exe().expect("this program"))
                .arg(calls.to_string())
                .env("LOG_DESIGN", design)
                .env("LOG_GROUP", group.to_string())
                .status()
                .expect("the measurement runs");
            assert!(status.success(), "{design} with groups of {group} failed");
        }
    }
}
