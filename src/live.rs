//! Calls as they are logged, for the pages that show them live. A bounded broadcast: sending never
//! waits, and a reader that falls behind skips ahead to the newest calls rather than holding
//! anything up.

use std::sync::Arc;

use tokio::sync::{broadcast, watch};

use crate::domain::CallRecord;

/// Enough for a burst of calls between two reads of a page; a reader further behind skips ahead.
const BACKLOG: usize = 256;

#[derive(Clone)]
pub struct LiveCalls {
    calls: broadcast::Sender<Arc<CallRecord>>,
    /// Set when the server stops: open streams end, so they never hold up the shutdown.
    closing: Arc<watch::Sender<bool>>,
}

impl Default for LiveCalls {
    fn default() -> Self {
        Self { calls: broadcast::channel(BACKLOG).0, closing: Arc::new(watch::channel(false).0) }
    }
}

impl LiveCalls {
    /// Whether anyone is reading: calls are copied for the pages only then.
    pub fn watched(&self) -> bool {
        self.calls.receiver_count() > 0
    }

    /// Tells every reader of a call just written to the log; never waits.
    pub fn publish(&self, call: CallRecord) {
        // An error only says nobody is reading.
        let _ = self.calls.send(Arc::new(call));
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<CallRecord>> {
        self.calls.subscribe()
    }

    /// Ends every stream, now and later.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Completes once the server is stopping.
    pub fn closed(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut closing = self.closing.subscribe();
        async move {
            let _ = closing.wait_for(|closed| *closed).await;
        }
    }
}

/// The next call for a reader: `None` once nothing more will come. A reader that fell behind
/// skips the calls it missed and carries on from the oldest still kept.
pub async fn next_call(calls: &mut broadcast::Receiver<Arc<CallRecord>>) -> Option<Arc<CallRecord>> {
    loop {
        match calls.recv().await {
            Ok(call) => return Some(call),
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                tracing::debug!(missed, "a live page fell behind; it skips the calls it missed");
            }
            Err(broadcast::error::RecvError::Closed) => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_reader_that_falls_behind_skips_ahead_and_the_sender_never_waits() {
        let live = LiveCalls::default();
        let mut reader = live.subscribe();
        assert!(live.watched());
        for n in 0..BACKLOG + 10 {
            live.publish(CallRecord { call_id: format!("CA{n}"), ..Default::default() });
        }
        let first = next_call(&mut reader).await.unwrap();
        assert_eq!(first.call_id, "CA10", "the ten oldest were skipped");
    }

    #[tokio::test]
    async fn closing_ends_every_stream_including_later_ones() {
        let live = LiveCalls::default();
        let before = live.closed();
        live.close();
        before.await;
        live.closed().await;
    }
}
