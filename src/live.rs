//! What the call log writes, as it writes it, for the pages that show calls live. A bounded
//! broadcast: sending never waits, and a reader that falls behind is told how much it missed, so
//! it can catch up from the log rather than hold anything up.

use std::sync::Arc;

use tokio::sync::{broadcast, watch};

use crate::domain::{BusinessId, CallRecord};

/// Enough for a burst of calls between two reads of a page; a reader further behind catches up
/// from the log.
const BACKLOG: usize = 256;

/// One thing just written to the call log.
#[derive(Clone, Debug)]
pub enum Logged {
    /// A call, as written.
    Call(Arc<CallRecord>),
    /// What the provider reported after the call with this id; the log holds the call as it now
    /// stands, the report merged in.
    Outcome(Arc<str>),
}

/// What the writer publishes: one thing written, and the business whose log it is in.
#[derive(Clone, Debug)]
pub struct Written {
    pub business: BusinessId,
    pub logged: Logged,
}

/// A reader of what one business's log has written: it hears nothing of any other business's.
pub struct Listening {
    written: broadcast::Receiver<Written>,
    business: BusinessId,
}

#[derive(Clone)]
pub struct LiveCalls {
    logged: broadcast::Sender<Written>,
    /// Whose calls this handle's readers hear.
    business: BusinessId,
    /// Set when the server stops: open streams end, so they never hold up the shutdown.
    closing: Arc<watch::Sender<bool>>,
}

impl Default for LiveCalls {
    fn default() -> Self {
        Self {
            logged: broadcast::channel(BACKLOG).0,
            business: BusinessId::DEFAULT,
            closing: Arc::new(watch::channel(false).0),
        }
    }
}

impl LiveCalls {
    /// Whether anyone is reading: calls are copied for the pages only then.
    pub fn watched(&self) -> bool {
        self.logged.receiver_count() > 0
    }

    /// The same calls, for the readers of `business`'s.
    pub fn of_business(&self, business: BusinessId) -> Self {
        Self { business, ..self.clone() }
    }

    /// Tells every reader of a call or an outcome just written to `business`'s log; never waits.
    pub fn publish(&self, business: BusinessId, logged: Logged) {
        // An error only says nobody is reading.
        let _ = self.logged.send(Written { business, logged });
    }

    pub fn subscribe(&self) -> Listening {
        Listening { written: self.logged.subscribe(), business: self.business }
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

/// What a reader hears next.
pub enum Heard {
    Logged(Logged),
    /// The reader fell behind and this many were dropped for it: what it shows is to be read
    /// anew from the log.
    Missed(u64),
}

/// The next thing for a reader: `None` once nothing more will come.
pub async fn next_logged(listening: &mut Listening) -> Option<Heard> {
    loop {
        match listening.written.recv().await {
            Ok(written) if written.business == listening.business => return Some(Heard::Logged(written.logged)),
            // Another business's call, in a deployment that hosts many: not this reader's to hear of.
            Ok(_) => {}
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                tracing::debug!(missed, "a live page fell behind; it catches up from the log");
                return Some(Heard::Missed(missed));
            }
            Err(broadcast::error::RecvError::Closed) => return None,
        }
    }
}

/// Takes whatever is waiting without waiting for more, so that a burst is handled once; `None`
/// once nothing more will come.
pub fn drain(listening: &mut Listening) -> Option<()> {
    loop {
        match listening.written.try_recv() {
            Ok(_) | Err(broadcast::error::TryRecvError::Lagged(_)) => {}
            Err(broadcast::error::TryRecvError::Empty) => return Some(()),
            Err(broadcast::error::TryRecvError::Closed) => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(id: &str) -> Logged {
        Logged::Call(Arc::new(CallRecord { call_id: id.into(), ..Default::default() }))
    }

    #[tokio::test]
    async fn a_reader_that_falls_behind_is_told_what_it_missed_and_the_sender_never_waits() {
        let live = LiveCalls::default();
        let mut reader = live.subscribe();
        assert!(live.watched());
        for n in 0..BACKLOG + 10 {
            live.publish(BusinessId::DEFAULT, call(&format!("CA{n}")));
        }
        assert!(matches!(next_logged(&mut reader).await, Some(Heard::Missed(10))));
        let Some(Heard::Logged(Logged::Call(first))) = next_logged(&mut reader).await else { panic!("no call") };
        assert_eq!(first.call_id, "CA10", "the oldest still kept comes next");
        assert_eq!(drain(&mut reader), Some(()));
        live.publish(BusinessId::DEFAULT, Logged::Outcome("CA1".into()));
        assert!(matches!(next_logged(&mut reader).await, Some(Heard::Logged(Logged::Outcome(id))) if &*id == "CA1"));
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
