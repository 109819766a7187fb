//! The call log's writer: calls are recorded off the call path, in batches, on a thread of their
//! own, so a slow disk never delays the answer a caller hears. A batch gathers what arrives within
//! one commit interval, so a busy line costs one commit per interval rather than one per call; a
//! process killed outright loses at most the calls of the interval being gathered.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};
use tracing::Instrument;

use crate::domain::{CallRecord, ForwardOutcome};
use crate::live::{LiveCalls, Logged};
use crate::metrics::Metrics;
use crate::store::CallSink;

/// Enough for a burst of thousands of calls; past that, senders wait off the call path.
const QUEUE: usize = 8192;
/// The most calls one batch gathers.
const BATCH: usize = 4096;
/// How long a batch gathers calls before it is written.
pub const COMMIT_INTERVAL: Duration = Duration::from_millis(50);

enum Entry {
    // Boxed: a call record is several times the size of the other entries.
    Call(Box<CallRecord>),
    Outcome {
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
    queue: mpsc::Sender<Entry>,
    /// Each call and outcome once it is written, for the pages that show calls live.
    live: LiveCalls,
}

impl CallLog {
    pub fn start(store: Arc<dyn CallSink>, metrics: Arc<Metrics>) -> Self {
        let (queue, entries) = mpsc::channel(QUEUE);
        let live = LiveCalls::default();
        let published = live.clone();
        std::thread::Builder::new()
            .name("call-log".into())
            .spawn(move || {
                give_way();
                write_entries(store, metrics, published, entries)
            })
            .expect("the call-log thread starts");
        Self { queue, live }
    }

    /// The calls and outcomes written from now on, as they are written.
    pub fn live(&self) -> &LiveCalls {
        &self.live
    }

    /// Queues a call for the log without waiting.
    pub fn record(&self, call: CallRecord) {
        self.enqueue(Entry::Call(Box::new(call)));
    }

    /// Queues what the provider reported after a call; it lands after the call itself.
    pub fn attach(&self, call_id: String, outcome: ForwardOutcome) {
        self.enqueue(Entry::Outcome { call_id, outcome });
    }

    /// Waits until everything queued so far is written and on disk.
    pub async fn flush(&self) {
        self.barrier(true).await;
    }

    /// Waits until everything queued so far is in the store, so a reader sees the calls just made.
    pub async fn written(&self) {
        self.barrier(false).await;
    }

    async fn barrier(&self, durable: bool) {
        let (done, reached) = oneshot::channel();
        if self.queue.send(Entry::Barrier { durable, done }).await.is_ok() {
            let _ = reached.await;
        }
    }

    fn enqueue(&self, entry: Entry) {
        match self.queue.try_send(entry) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(entry)) => {
                // Never block a caller and never drop an entry: hand the wait to a task.
                let queue = self.queue.clone();
                // In the caller's span, so that a lost entry is logged with the call it was about.
                let waiting = async move {
                    if queue.send(entry).await.is_err() {
                        tracing::error!("call log closed; an entry was not recorded");
                    }
                };
                tokio::spawn(waiting.instrument(tracing::Span::current()));
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                tracing::error!("call log closed; an entry was not recorded")
            }
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

fn write_entries(store: Arc<dyn CallSink>, metrics: Arc<Metrics>, live: LiveCalls, mut entries: mpsc::Receiver<Entry>) {
    let mut batch = Batch::default();
    while let Some(first) = entries.blocking_recv() {
        let gathered_until = Instant::now() + COMMIT_INTERVAL;
        let mut next = Some(first);
        loop {
            while let Some(entry) = next.take() {
                match entry {
                    Entry::Call(call) => batch.calls.push(*call),
                    // Written after the calls before it, one of which may be the call it is about.
                    Entry::Outcome { call_id, outcome } => batch.outcomes.push((call_id, outcome)),
                    Entry::Barrier { durable, done } => {
                        batch.write(store.as_ref(), &metrics, &live);
                        if durable && let Err(error) = store.flush() {
                            tracing::error!(%error, "could not flush the call log");
                        }
                        let _ = done.send(());
                    }
                }
                if batch.len() < BATCH {
                    next = entries.try_recv().ok();
                }
            }
            let now = Instant::now();
            if batch.len() == 0 || batch.len() >= BATCH || now >= gathered_until {
                break;
            }
            // Wait for more of this interval's calls; a barrier ends it early.
            std::thread::sleep((gathered_until - now).min(Duration::from_millis(5)));
            next = entries.try_recv().ok();
        }
        batch.write(store.as_ref(), &metrics, &live);
    }
    if let Err(error) = store.flush() {
        tracing::error!(%error, "could not flush the call log");
    }
}

/// What one commit interval gathered: calls, then the outcomes reported after calls.
#[derive(Default)]
struct Batch {
    calls: Vec<CallRecord>,
    outcomes: Vec<(String, ForwardOutcome)>,
}

impl Batch {
    fn len(&self) -> usize {
        self.calls.len() + self.outcomes.len()
    }

    fn write(&mut self, store: &dyn CallSink, metrics: &Metrics, live: &LiveCalls) {
        if !self.calls.is_empty() {
            match store.append_calls(&self.calls) {
                // Only calls in the log are shown live: a page reloaded shows the same calls.
                Ok(()) if live.watched() => {
                    self.calls.drain(..).for_each(|call| live.publish(Logged::Call(Arc::new(call))))
                }
                Ok(()) => {}
                Err(error) => {
                    metrics.store_error();
                    tracing::error!(%error, count = self.calls.len(), "could not write calls to the log");
                }
            }
            self.calls.clear();
        }
        if self.outcomes.is_empty() {
            return;
        }
        match store.attach_outcomes(&self.outcomes) {
            Ok(attached) => {
                for ((call_id, _), found) in self.outcomes.iter().zip(attached) {
                    if !found {
                        tracing::warn!(call_id = %call_id, "an outcome arrived for a call not in the log");
                    } else if live.watched() {
                        // Only once written: the pages read the call back as the log now holds it.
                        live.publish(Logged::Outcome(call_id.as_str().into()));
                    }
                }
            }
            Err(error) => {
                metrics.store_error();
                tracing::error!(%error, count = self.outcomes.len(), "could not record calls' outcomes");
            }
        }
        self.outcomes.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

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
        let log = CallLog::start(Arc::new(MemoryStore::default()), Arc::new(Metrics::default()));
        log.written().await;
        assert_eq!(niceness_of("call-log"), Some(5));
    }
}
