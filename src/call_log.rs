//! The call log's writer: calls are recorded off the call path, in batches, on a thread of their
//! own, so a slow disk never delays the answer a caller hears.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use tracing::Instrument;

use crate::domain::{CallRecord, ForwardOutcome};
use crate::metrics::Metrics;
use crate::store::Store;

/// Enough for a burst of thousands of calls; past that, senders wait off the call path.
const QUEUE: usize = 8192;
/// How many queued entries go to the store in one batch.
const BATCH: usize = 512;

enum Entry {
    // Boxed: a call record is several times the size of the other entries.
    Call(Box<CallRecord>),
    Outcome {
        call_sid: String,
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
}

impl CallLog {
    pub fn start(store: Arc<dyn Store>, metrics: Arc<Metrics>) -> Self {
        let (queue, entries) = mpsc::channel(QUEUE);
        std::thread::Builder::new()
            .name("call-log".into())
            .spawn(move || write_entries(store, metrics, entries))
            .expect("the call-log thread starts");
        Self { queue }
    }

    /// Queues a call for the log without waiting.
    pub fn record(&self, call: CallRecord) {
        self.enqueue(Entry::Call(Box::new(call)));
    }

    /// Queues what the provider reported after a call; it lands after the call itself.
    pub fn attach(&self, call_sid: String, outcome: ForwardOutcome) {
        self.enqueue(Entry::Outcome { call_sid, outcome });
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

fn write_entries(store: Arc<dyn Store>, metrics: Arc<Metrics>, mut entries: mpsc::Receiver<Entry>) {
    let mut calls = Vec::with_capacity(BATCH);
    while let Some(first) = entries.blocking_recv() {
        let mut next = Some(first);
        while let Some(entry) = next.take() {
            match entry {
                Entry::Call(call) => calls.push(*call),
                Entry::Outcome { call_sid, outcome } => {
                    write_calls(store.as_ref(), &metrics, &mut calls);
                    match store.attach_outcome(&call_sid, outcome) {
                        Ok(true) => {}
                        Ok(false) => {
                            tracing::warn!(call_id = %call_sid, "an outcome arrived for a call not in the log")
                        }
                        Err(error) => {
                            tracing::error!(call_id = %call_sid, %error, "could not record a call's outcome")
                        }
                    }
                }
                Entry::Barrier { durable, done } => {
                    write_calls(store.as_ref(), &metrics, &mut calls);
                    if durable && let Err(error) = store.flush() {
                        tracing::error!(%error, "could not flush the call log");
                    }
                    let _ = done.send(());
                }
            }
            if calls.len() < BATCH {
                next = entries.try_recv().ok();
            }
        }
        write_calls(store.as_ref(), &metrics, &mut calls);
    }
    if let Err(error) = store.flush() {
        tracing::error!(%error, "could not flush the call log");
    }
}

fn write_calls(store: &dyn Store, metrics: &Metrics, calls: &mut Vec<CallRecord>) {
    if calls.is_empty() {
        return;
    }
    if let Err(error) = store.append_calls(calls) {
        metrics.store_error();
        tracing::error!(%error, count = calls.len(), "could not write calls to the log");
    }
    calls.clear();
}
