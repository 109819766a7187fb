//! The call log's writer: calls are recorded off the call path, in batches, on a thread of their
//! own, so a slow disk never delays the answer a caller hears. A batch gathers what arrives within
//! one commit interval, so a busy line costs one commit per interval rather than one per call; a
//! process killed outright loses at most the calls of the interval being gathered.
//!
//! What waits to be written is bounded (`[log] queue`): past the bound an entry is dropped, counted
//! in the metrics and told in the log, so that neither a flood of calls nor a database that cannot
//! be reached for hours grows the server's memory without end. While the database cannot be
//! reached, what is held is tried again every `RETRY` and written once it answers.

mod bound;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use self::bound::Bound;
use crate::domain::{BusinessId, CallRecord, ForwardOutcome};
use crate::live::{LiveCalls, Logged};
use crate::metrics::Metrics;
use crate::store::{CallSink, StoreError};

/// The most calls one batch gathers, and one write takes.
const BATCH: usize = 4096;
/// How long a batch gathers calls before it is written.
pub const COMMIT_INTERVAL: Duration = Duration::from_millis(50);
/// How long the writer waits before trying a database that cannot be reached again.
const RETRY: Duration = Duration::from_secs(1);

#[allow(clippy::large_enum_variant)]
enum Entry {
    // Not boxed, though a call record is several times the size of the other entries: the queue
    // holds its entries in blocks it reuses, and a box would be one more allocation a call, freed
    // on this thread after the request's thread made it.
    Call(CallRecord),
    Outcome {
        business: BusinessId,
        call_id: String,
        outcome: ForwardOutcome,
    },
    /// Answer once everything queued before is written; `durable` also waits for the disk.
    Barrier {
        durable: bool,
        done: oneshot::Sender<()>,
    },
}

/// The writer thread ends when the last `CallLog` clone is dropped, after writing what is queued.
#[derive(Clone)]
pub struct CallLog {
    queue: Sender<Entry>,
    bound: Arc<Bound>,
    /// Set by the writer while the store cannot be reached, so a stop does not wait for it forever.
    unreachable: Arc<AtomicBool>,
    metrics: Arc<Metrics>,
    /// Each call and outcome once it is written, for the pages that show calls live.
    live: LiveCalls,
    /// Whose calls this handle logs: every business of a deployment shares the one writer.
    business: BusinessId,
}

impl CallLog {
    /// The writer over `store`, holding at most `most` calls and outcomes not yet written.
    pub fn start(store: Arc<dyn CallSink>, metrics: Arc<Metrics>, most: usize) -> Self {
        let (queue, entries) = std::sync::mpsc::channel();
        let bound = Arc::new(Bound::new(most));
        let unreachable = Arc::new(AtomicBool::new(false));
        let live = LiveCalls::default();
        let writer = Writer {
            store,
            metrics: metrics.clone(),
            live: live.clone(),
            bound: bound.clone(),
            unreachable: unreachable.clone(),
            batch: Batch::default(),
            flushes: Vec::new(),
            reported: None,
        };
        std::thread::Builder::new()
            .name("call-log".into())
            .spawn(move || {
                give_way();
                writer.run(entries)
            })
            .expect("the call-log thread starts");
        Self { queue, bound, unreachable, metrics, live, business: BusinessId::DEFAULT }
    }

    /// The same log, for `business`'s calls: they share the one writer, and its live pages hear
    /// of its own calls only.
    pub fn for_business(&self, business: BusinessId) -> Self {
        Self { live: self.live.of_business(business), business, ..self.clone() }
    }

    /// The calls and outcomes written from now on, as they are written.
    pub fn live(&self) -> &LiveCalls {
        &self.live
    }

    /// Queues a call for the log without waiting.
    pub fn record(&self, mut call: CallRecord) {
        call.business = self.business;
        self.enqueue(Entry::Call(call));
    }

    /// Queues what the provider reported after a call; it lands after the call itself.
    pub fn attach(&self, call_id: String, outcome: ForwardOutcome) {
        self.enqueue(Entry::Outcome { business: self.business, call_id, outcome });
    }

    /// Waits until everything queued so far is written and on disk.
    pub async fn flush(&self) {
        let (done, reached) = oneshot::channel();
        if self.queue.send(Entry::Barrier { durable: true, done }).is_ok() {
            let _ = reached.await;
        }
    }

    /// Waits until everything queued so far is in the store, so a reader sees the calls just made;
    /// while the store cannot be reached, only until it has been tried.
    pub async fn written(&self) {
        let (done, reached) = oneshot::channel();
        if self.queue.send(Entry::Barrier { durable: false, done }).is_ok() {
            let _ = reached.await;
        }
    }

    /// `flush`, for a server that is stopping: it waits as long as the writing goes on, but gives
    /// up once the store has not been reachable for `patience`. Answers how many calls and
    /// outcomes were left unwritten.
    pub async fn flush_before_exit(&self, patience: Duration) -> usize {
        let (done, mut reached) = oneshot::channel();
        if self.queue.send(Entry::Barrier { durable: true, done }).is_err() {
            return 0;
        }
        loop {
            match tokio::time::timeout(patience, &mut reached).await {
                Ok(_) => return 0,
                Err(_) if self.unreachable.load(Ordering::SeqCst) => return self.bound.held(),
                Err(_) => {}
            }
        }
    }

    fn enqueue(&self, entry: Entry) {
        let call = matches!(entry, Entry::Call(_));
        if !self.bound.admit() {
            self.metrics.not_logged(call);
            self.bound.turned_away(call);
            return;
        }
        if self.queue.send(entry).is_err() {
            self.bound.release(1);
            tracing::error!("call log closed; an entry was not recorded");
        }
    }
}

/// Answering calls comes first: when the cores are busy the writer gives way to the request
/// workers, so a commit of thousands of calls does not hold up the answers queued behind it, and
/// catches up as the calls it is given wait in its queue.
fn give_way() {
    const NICER: i32 = 5;
    if let Err(error) = rustix::process::setpriority_process(Some(rustix::thread::gettid()), NICER) {
        tracing::debug!(%error, "the call log's writer keeps the server's priority");
    }
}

struct Writer {
    store: Arc<dyn CallSink>,
    metrics: Arc<Metrics>,
    live: LiveCalls,
    bound: Arc<Bound>,
    unreachable: Arc<AtomicBool>,
    batch: Batch,
    /// Durable barriers met while the store could not be reached: answered once what came before
    /// them is written.
    flushes: Vec<oneshot::Sender<()>>,
    /// When the log last said how many entries were turned away.
    reported: Option<Instant>,
}

impl Writer {
    fn run(mut self, entries: Receiver<Entry>) {
        let mut open = true;
        while open {
            self.bound.report(&mut self.reported, false);
            if self.batch.len() == 0 {
                match entries.recv() {
                    Ok(entry) => self.take(entry),
                    Err(_) => break,
                }
            }
            open = self.gather(&entries);
            self.write();
            if open && self.unreachable() {
                open = self.wait_to_retry(&entries);
            }
        }
        self.write();
        let left = self.batch.len();
        if left > 0 {
            tracing::error!(left, "{left} calls and outcomes were not logged: the database could not be reached");
        }
        self.bound.report(&mut self.reported, true);
        if let Err(error) = self.store.flush() {
            tracing::error!(%error, "could not flush the call log");
        }
    }

    fn unreachable(&self) -> bool {
        self.unreachable.load(Ordering::SeqCst)
    }

    /// Takes in what arrives within one commit interval, up to a batch; false once no `CallLog`
    /// is left to send more.
    fn gather(&mut self, entries: &Receiver<Entry>) -> bool {
        let gathered_until = Instant::now() + COMMIT_INTERVAL;
        loop {
            while self.batch.len() < BATCH {
                match entries.try_recv() {
                    Ok(entry) => self.take(entry),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => return false,
                }
            }
            let now = Instant::now();
            if self.batch.len() == 0 || self.batch.len() >= BATCH || now >= gathered_until || self.unreachable() {
                return true;
            }
            // Wait for more of this interval's calls; a barrier ends it early.
            std::thread::sleep((gathered_until - now).min(Duration::from_millis(5)));
        }
    }

    /// Waits `RETRY` before the store is tried again, taking in what arrives meanwhile; false once
    /// no `CallLog` is left to send more.
    fn wait_to_retry(&mut self, entries: &Receiver<Entry>) -> bool {
        let until = Instant::now() + RETRY;
        loop {
            match entries.recv_timeout(until.saturating_duration_since(Instant::now())) {
                Ok(entry) => self.take(entry),
                Err(RecvTimeoutError::Timeout) => return true,
                Err(RecvTimeoutError::Disconnected) => return false,
            }
        }
    }

    fn take(&mut self, entry: Entry) {
        match entry {
            Entry::Call(call) => self.batch.calls.push(call),
            // Written after the calls before it, one of which may be the call it is about.
            Entry::Outcome { business, call_id, outcome } => self.batch.outcomes.push((business, call_id, outcome)),
            // While the store cannot be reached, a reader is not held up: what it would see is
            // what the store already has.
            Entry::Barrier { durable: false, done } if self.unreachable() => {
                let _ = done.send(());
            }
            Entry::Barrier { durable, done } => {
                self.write();
                if self.unreachable() {
                    if durable {
                        self.flushes.push(done);
                    } else {
                        let _ = done.send(());
                    }
                    return;
                }
                if durable && let Err(error) = self.store.flush() {
                    tracing::error!(%error, "could not flush the call log");
                }
                let _ = done.send(());
            }
        }
    }

    /// Writes what is gathered; what cannot be written because the store cannot be reached stays
    /// for the next try.
    fn write(&mut self) {
        let before = self.batch.len();
        if before == 0 {
            return;
        }
        let written = self.batch.write(self.store.as_ref(), &self.metrics, &self.live);
        self.bound.release(before - self.batch.len());
        match written {
            Ok(()) => {
                if self.unreachable.swap(false, Ordering::SeqCst) {
                    tracing::info!("the call log can be written again: the calls that waited are in it");
                }
                if !self.flushes.is_empty() {
                    if let Err(error) = self.store.flush() {
                        tracing::error!(%error, "could not flush the call log");
                    }
                    for done in self.flushes.drain(..) {
                        let _ = done.send(());
                    }
                }
            }
            Err(reason) => {
                if !self.unreachable.swap(true, Ordering::SeqCst) {
                    tracing::warn!(
                        %reason,
                        waiting = self.batch.len(),
                        "the call log cannot be written now: calls wait in memory, at most {} ([log] queue), and \
                         are written as soon as it can be",
                        self.bound.most()
                    );
                }
            }
        }
    }
}

/// What is gathered and not yet written: calls, then the outcomes reported after calls.
#[derive(Default)]
struct Batch {
    calls: Vec<CallRecord>,
    outcomes: Vec<(BusinessId, String, ForwardOutcome)>,
}

impl Batch {
    fn len(&self) -> usize {
        self.calls.len() + self.outcomes.len()
    }

    /// Writes the calls, a batch at a time, then the outcomes. What fails for good is said and
    /// dropped; what fails because the store cannot be reached is kept, and the reason answered.
    fn write(&mut self, store: &dyn CallSink, metrics: &Metrics, live: &LiveCalls) -> Result<(), String> {
        while !self.calls.is_empty() {
            let count = self.calls.len().min(BATCH);
            match store.append_calls(&self.calls[..count]) {
                // Only calls in the log are shown live: a page reloaded shows the same calls.
                Ok(()) if live.watched() => {
                    self.calls.drain(..count).for_each(|call| live.publish(call.business, Logged::Call(Arc::new(call))))
                }
                Ok(()) => drop(self.calls.drain(..count)),
                Err(StoreError::Unavailable(reason)) => {
                    metrics.store_error();
                    return Err(reason);
                }
                Err(error) => {
                    metrics.store_error();
                    tracing::error!(%error, count, "could not write calls to the log");
                    self.calls.drain(..count);
                }
            }
        }
        if self.outcomes.is_empty() {
            return Ok(());
        }
        match store.attach_outcomes(&self.outcomes) {
            Ok(attached) => {
                for ((business, call_id, _), found) in self.outcomes.iter().zip(attached) {
                    if !found {
                        tracing::warn!(call_id = %call_id, "an outcome arrived for a call not in the log");
                    } else if live.watched() {
                        // Only once written: the pages read the call back as the log now holds it.
                        live.publish(*business, Logged::Outcome(call_id.as_str().into()));
                    }
                }
            }
            Err(StoreError::Unavailable(reason)) => {
                metrics.store_error();
                return Err(reason);
            }
            Err(error) => {
                metrics.store_error();
                tracing::error!(%error, count = self.outcomes.len(), "could not record calls' outcomes");
            }
        }
        self.outcomes.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{CallHistory, CallQuery, MemoryStore};

    /// The memory store behind a switch that cuts it off, as a database that cannot be reached is.
    #[derive(Default)]
    struct CutOff {
        store: MemoryStore,
        cut: AtomicBool,
    }

    impl CutOff {
        fn reached(&self) -> Result<(), StoreError> {
            match self.cut.load(Ordering::SeqCst) {
                true => Err(StoreError::Unavailable("the database does not answer".into())),
                false => Ok(()),
            }
        }

        async fn logged(&self) -> Vec<(String, Option<ForwardOutcome>)> {
            let calls = self.store.calls(&CallQuery { limit: 100, ..Default::default() }).await.unwrap();
            let mut calls: Vec<_> = calls.into_iter().map(|call| (call.call_id, call.outcome)).collect();
            calls.sort_by(|a, b| a.0.cmp(&b.0));
            calls
        }
    }

    impl CallSink for CutOff {
        fn append_calls(&self, calls: &[CallRecord]) -> Result<(), StoreError> {
            self.reached()?;
            self.store.append_calls(calls)
        }
        fn attach_outcomes(&self, outcomes: &[(BusinessId, String, ForwardOutcome)]) -> Result<Vec<bool>, StoreError> {
            self.reached()?;
            self.store.attach_outcomes(outcomes)
        }
        fn flush(&self) -> Result<(), StoreError> {
            self.store.flush()
        }
    }

    fn call(id: &str) -> CallRecord {
        CallRecord { call_id: id.into(), from: "+442079460123".into(), ..Default::default() }
    }

    fn answered() -> ForwardOutcome {
        ForwardOutcome { status: Some("completed".into()), ..Default::default() }
    }

    /// Waits for `flush`; the bound only stops a broken test from hanging.
    async fn flushed(log: &CallLog) {
        tokio::time::timeout(Duration::from_secs(60), log.flush()).await.expect("the held calls are written");
    }

    #[tokio::test]
    async fn calls_made_while_the_store_cannot_be_reached_are_written_once_it_answers() {
        let store = Arc::new(CutOff::default());
        store.cut.store(true, Ordering::SeqCst);
        let metrics = Arc::new(Metrics::default());
        let log = CallLog::start(store.clone(), metrics.clone(), 16);
        log.record(call("CA1"));
        log.record(call("CA2"));
        log.attach("CA1".into(), answered());
        // A reader is not held up meanwhile: it reads what the store has.
        log.written().await;
        assert!(store.logged().await.is_empty());

        store.cut.store(false, Ordering::SeqCst);
        flushed(&log).await;
        assert_eq!(store.logged().await, [("CA1".into(), Some(answered())), ("CA2".into(), None)]);
        assert!(metrics.render().contains("saidno_calls_not_logged_total 0"));
    }

    #[tokio::test]
    async fn past_the_bound_calls_are_left_out_and_counted_and_the_rest_are_written() {
        let store = Arc::new(CutOff::default());
        store.cut.store(true, Ordering::SeqCst);
        let metrics = Arc::new(Metrics::default());
        let log = CallLog::start(store.clone(), metrics.clone(), 3);
        for id in ["CA1", "CA2", "CA3", "CA4", "CA5"] {
            log.record(call(id));
        }
        log.attach("CA1".into(), answered());
        let text = metrics.render();
        assert!(text.contains("saidno_calls_not_logged_total 2"), "{text}");
        assert!(text.contains("saidno_outcomes_not_logged_total 1"), "{text}");

        store.cut.store(false, Ordering::SeqCst);
        flushed(&log).await;
        let kept = ["CA1", "CA2", "CA3"].map(|id| (id.to_owned(), None));
        assert_eq!(store.logged().await, kept);
        // Written calls make room again.
        log.record(call("CA6"));
        flushed(&log).await;
        assert_eq!(store.logged().await.len(), 4);
    }

    #[tokio::test]
    async fn a_stop_gives_up_on_a_store_that_cannot_be_reached_and_says_how_much_is_left() {
        let store = Arc::new(CutOff::default());
        store.cut.store(true, Ordering::SeqCst);
        let log = CallLog::start(store.clone(), Arc::new(Metrics::default()), 16);
        log.record(call("CA1"));
        log.record(call("CA2"));
        assert_eq!(log.flush_before_exit(Duration::from_millis(100)).await, 2);
    }

    /// The niceness of this process's thread named `name`, from `/proc`.
    fn niceness_of(name: &str) -> Option<i32> {
        std::fs::read_dir("/proc/self/task").ok()?.flatten().find_map(|task| {
            let comm = std::fs::read_to_string(task.path().join("comm")).ok()?;
            if comm.trim() != name {
                return None;
            }
            let stat = std::fs::read_to_string(task.path().join("stat")).ok()?;
            // The fields after the command's closing parenthesis; niceness is the 19th field.
            stat.rsplit_once(')')?.1.split_whitespace().nth(16)?.parse().ok()
        })
    }

    #[tokio::test]
    async fn the_writer_gives_way_to_the_request_workers() {
        let log = CallLog::start(Arc::new(MemoryStore::default()), Arc::new(Metrics::default()), 16);
        log.written().await;
        assert_eq!(niceness_of("call-log"), Some(5));
    }
}
