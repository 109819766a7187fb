//! Times the calls page's queries on a sled store filled with millions of log entries.
//!
//! `cargo run --release --example log_pages -- [ENTRIES] [DIR]` (default 5,000,000 in a temporary
//! folder). The fill is done once per folder; later runs on the same folder only time the queries.

use std::time::Instant;

use jiff::{Timestamp, ToSpan};
use saidno::domain::{CallRecord, DecisionKind};
use saidno::store::{CallHistory, CallQuery, CallSink, SledStore};

// As in the server: sled frees across threads, which glibc's allocator handles poorly.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BATCH: usize = 10_000;
/// Calls written by one filler process.
const CHUNK: usize = 500_000;
const START: &str = "2026-01-01T00:00:00Z";

fn call(i: usize, start: Timestamp) -> CallRecord {
    // One call a second; every tenth refused, spread over 200 companies and 2,000 numbers.
    let refused = i.is_multiple_of(10);
    CallRecord {
        call_id: format!("CA{i:032x}"),
        from: format!("+4420794{:05}", i % 2_000),
        to: "+442079460000".into(),
        at: start + (i as i64).seconds(),
        decision: if refused { DecisionKind::Decline } else { DecisionKind::Forward },
        reason: if refused { "refused: declined".into() } else { "forwarded: no decline on record".into() },
        company: refused.then(|| format!("Company {}", i % 200)),
        party: refused.then(|| format!("company:company {}", i % 200)),
        verification: Some("TN-Validation-Passed-A".into()),
        ..Default::default()
    }
}

fn time<T>(label: &str, work: impl Fn() -> T) -> T {
    let _ = work(); // warm the cache as a page viewed twice would
    let runs = 5;
    let started = Instant::now();
    let mut result = None;
    for _ in 0..runs {
        result = Some(work());
    }
    println!("{label:<48} {:>8.2} ms", started.elapsed().as_secs_f64() * 1000.0 / runs as f64);
    result.expect("ran")
}

/// Logs calls `first..last` into the store in `dir`, in batches as the call log writes them.
fn fill(first: usize, last: usize, dir: &std::path::Path) {
    let store = SledStore::open(&dir.join("db"), 256).expect("the store opens");
    let start: Timestamp = START.parse().unwrap();
    for batch in (first..last).step_by(BATCH) {
        let calls: Vec<CallRecord> = (batch..(batch + BATCH).min(last)).map(|i| call(i, start)).collect();
        store.append_calls(&calls).expect("calls are logged");
    }
    store.flush().unwrap();
}

fn main() {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("--fill") {
        let numbers: Vec<String> = args.skip(1).collect();
        let [first, last, dir] = numbers.as_slice() else { panic!("--fill FIRST LAST DIR") };
        return fill(first.parse().unwrap(), last.parse().unwrap(), std::path::Path::new(dir));
    }
    let entries: usize = args.next().map_or(5_000_000, |n| n.parse().expect("ENTRIES is a number"));
    let temporary = tempfile::tempdir().expect("a temporary folder");
    let dir = args.next().map_or_else(|| temporary.path().to_owned(), Into::into);
    let store = SledStore::open(&dir.join("db"), 256).expect("the store opens");
    let start: Timestamp = START.parse().unwrap();
    // The log is read as the server reads it: through the async role, on tokio's blocking pool.
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let runtime = &runtime;

    let logged = runtime.block_on(store.call_page(&CallQuery { limit: 1, ..Default::default() })).unwrap().calls;
    // One process at a time may hold the database.
    drop(store);
    if logged.is_empty() {
        // sled keeps a record of every page it has written in memory until the process ends (about
        // 650 bytes per call here), so the log is written by one child process per chunk.
        let started = Instant::now();
        for first in (0..entries).step_by(CHUNK) {
            let last = (first + CHUNK).min(entries);
            let status = std::process::Command::new(std::env::current_exe().expect("this program"))
                .args(["--fill", &first.to_string(), &last.to_string(), dir.to_str().expect("a UTF-8 path")])
                .status()
                .expect("the filler runs");
            assert!(status.success(), "filling {first}..{last} failed");
            println!("logged {last} calls ({:.0} s)", started.elapsed().as_secs_f64());
        }
        println!("filled {entries} entries in {:.1} s", started.elapsed().as_secs_f64());
    }
    let store = SledStore::open(&dir.join("db"), 256).expect("the store opens");
    let store = &store;
    let page = |query: CallQuery| {
        move || runtime.block_on(store.call_page(&CallQuery { limit: 50, ..query.clone() })).unwrap()
    };
    let first = time("first page (newest 50)", page(CallQuery::default()));
    assert_eq!(first.calls.len(), 50);
    let refused = time("filtered: refused only", page(CallQuery { declined_only: true, ..Default::default() }));
    assert!(refused.calls.iter().all(|c| c.is_refusal()));
    let forwarded = time(
        "filtered: forwarded only",
        page(CallQuery { decision: Some(DecisionKind::Forward), ..Default::default() }),
    );
    assert!(forwarded.calls.iter().all(|c| c.decision == DecisionKind::Forward));
    let number =
        time("filtered: one number", page(CallQuery { number: Some("+442079400007".into()), ..Default::default() }));
    assert_eq!(number.calls.len(), 50);
    let company =
        time("filtered: one company", page(CallQuery { company: Some("company 70".into()), ..Default::default() }));
    assert_eq!(company.calls.len(), 50);
    let middle = start + (entries as i64 / 2).seconds();
    let deep = time(
        "deep page (cursor halfway back)",
        page(CallQuery { before: Some(saidno::store::Cursor::at(middle)), ..Default::default() }),
    );
    assert_eq!(deep.calls.len(), 50);
    let range = time(
        "date range (one day, halfway back)",
        page(CallQuery { since: Some(middle - 24.hours()), until: Some(middle), ..Default::default() }),
    );
    assert_eq!(range.calls.len(), 50);
    let deep_company = time(
        "deep page of one company (halfway back)",
        page(CallQuery {
            company: Some("company 70".into()),
            before: Some(saidno::store::Cursor::at(middle)),
            ..Default::default()
        }),
    );
    assert_eq!(deep_company.calls.len(), 50);
    time(
        "search (budget-bounded)",
        page(CallQuery { search: Some("CA00000000000000000000000000000064".into()), ..Default::default() }),
    );
    let end = start + (entries as i64).seconds();
    time("dashboard tallies (30 days)", || runtime.block_on(store.call_tallies(end - (30 * 24).hours(), end)).unwrap());
}
