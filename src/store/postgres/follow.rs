//! Following the changes other processes make to the owner's record on the same database: a
//! connection of its own listens for their announcements, and a check every `CHECK_EVERY` covers
//! any announcement missed (while that connection was lost and opened again, say). Each change is
//! published through the hook the service gave (`OwnerRecord::follow`), in the order the changes
//! were committed, once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;
use tokio_postgres::AsyncMessage;

use super::super::StoreError;
use super::errors::connecting;
use super::owner_changes::{self, CHANNEL, Row, notified_id};
use super::{Shared, pg};
use super::{call_facts, call_log};

/// How often the changes are checked for without an announcement. This, and the moment a check
/// takes, is what bounds how late another process's change is honoured here when an announcement
/// is lost: within a second. An announcement usually brings it within milliseconds.
pub const CHECK_EVERY: Duration = Duration::from_millis(500);

/// How often changes past the window are pruned; every process does it, and it is cheap.
const PRUNE_EVERY: Duration = Duration::from_secs(60 * 60);

/// Announcements waiting to be acted on. Any one of them brings every change in, so when this
/// many wait, more are dropped rather than kept.
const WAITING: usize = 64;

/// How the listening connection names itself to the server (in `pg_stat_activity`).
pub const LISTENER_NAME: &str = "saidno follower";

/// Takes in `rows`, read after `*followed`: each change published through the hook for other
/// processes' changes, in order, and `followed` moved past it. A row that does not read back is
/// said in the log and passed over whole, so the snapshot never holds part of it.
pub fn take_in(shared: &Shared, rows: Vec<Row>, followed: &mut i64) {
    if rows.is_empty() {
        return;
    }
    let publish = shared.others();
    for (id, change) in rows {
        match change {
            Ok(change) => publish.published(&change),
            Err(error) => tracing::error!(
                id,
                %error,
                "another process's change to the owner's record does not read back: it is not honoured here until \
                 saidno restarts and reads the record whole"
            ),
        }
        *followed = id;
    }
}

/// Publishes every change newer than the newest taken in.
pub async fn catch_up(shared: &Shared) -> Result<(), StoreError> {
    let mut followed = shared.changes.lock().await;
    let connection = shared.connection().await?;
    let rows = owner_changes::after(&connection, *followed).await?;
    take_in(shared, rows, &mut followed);
    Ok(())
}

/// Follows for as long as the store is open (its runtime ends this task with it).
pub async fn run(shared: Arc<Shared>) {
    let (tell, mut announced) = mpsc::channel(WAITING);
    tokio::spawn(keep_listening(shared.clone(), tell));
    let mut check = tokio::time::interval(CHECK_EVERY);
    check.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut pruned: Option<Instant> = None;
    let mut failing = false;
    let mut counts_read = false;
    loop {
        let (due, ticked) = tokio::select! {
            Some(payload) = announced.recv() => match notified_id(&payload) {
                // Not one this process has already published (its own, most often).
                Some(id) => (id > *shared.changes.lock().await, false),
                None => (false, false),
            },
            _ = check.tick() => (true, true),
        };
        if ticked {
            counts_read = follow_counts(&shared, counts_read).await;
        }
        if !due {
            continue;
        }
        match catch_up(&shared).await {
            Ok(()) if failing => {
                failing = false;
                tracing::info!("other processes' changes to the owner's record are followed again");
            }
            Ok(()) => {}
            Err(error) if !failing => {
                failing = true;
                tracing::error!(%error, "cannot read other processes' changes to the owner's record; trying again");
            }
            Err(_) => {}
        }
        if pruned.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
            pruned = Some(Instant::now());
            if let Err(error) = prune(&shared).await {
                tracing::warn!(%error, "could not prune the old changes to the owner's record");
            }
        }
    }
}

async fn prune(shared: &Shared) -> Result<(), StoreError> {
    let connection = shared.connection().await?;
    owner_changes::prune(&connection).await?;
    call_facts::prune(&connection).await
}

/// Counts changed this recently are read at each check: far more than a check's period, so that a
/// call log batch committed a while after its transaction began (whose time the row carries) is
/// still read.
const COUNTS_WINDOW: Duration = Duration::from_secs(30);

/// Tells the hook (when one was given) of the follow-up counts changed within `COUNTS_WINDOW`,
/// or of every count when the last read failed or there was none, so that nothing counted
/// meanwhile is missed. Taking in a count already known changes nothing (the highest is kept).
/// Whether this read succeeded.
async fn follow_counts(shared: &Shared, last_read: bool) -> bool {
    let Some(counted) = shared.counted.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone() else {
        return false;
    };
    let within = last_read.then_some(COUNTS_WINDOW);
    match call_log::follow_ups_counted(shared, within).await {
        Ok(counts) => {
            if !counts.is_empty() {
                // The hook takes the lock a call being decided holds while it may wait on this
                // runtime (spending an allow): this thread is handed over meanwhile.
                tokio::task::block_in_place(|| counted(&counts));
            }
            if !last_read {
                tracing::debug!("other processes' follow-up counts are followed");
            }
            true
        }
        Err(error) => {
            if last_read {
                tracing::error!(%error, "cannot read other processes' follow-up counts; trying again");
            }
            false
        }
    }
}

/// Listens on a connection of its own, opening it again (after `CHECK_EVERY`) whenever it is lost;
/// meanwhile the checks alone bring the changes in.
async fn keep_listening(shared: Arc<Shared>, tell: mpsc::Sender<String>) {
    let mut lost = false;
    loop {
        let error = listen(&shared, &tell, &mut lost).await;
        if !lost {
            lost = true;
            tracing::warn!(%error, "the connection that listens for other processes' changes was lost; it is opened again");
        }
        tokio::time::sleep(CHECK_EVERY).await;
    }
}

/// Listens until the connection is lost; why it was.
async fn listen(shared: &Shared, tell: &mpsc::Sender<String>, lost: &mut bool) -> StoreError {
    let (client, mut messages) = match shared.connector.connect(&shared.listener).await {
        Ok(connected) => connected,
        Err(error) => return connecting(&shared.shown, error),
    };
    let tell = tell.clone();
    // The connection does its work (the LISTEN's answer included) only while polled.
    let driven = tokio::spawn(async move {
        while let Some(message) = messages.next().await {
            match message {
                // Dropped when full: any waiting announcement brings every change in.
                Ok(AsyncMessage::Notification(note)) => drop(tell.try_send(note.payload().to_owned())),
                Ok(_) => {}
                Err(error) => return pg(error),
            }
        }
        StoreError::Unavailable("PostgreSQL closed the connection".into())
    });
    if let Err(error) = client.batch_execute(&format!("LISTEN {CHANNEL}")).await {
        return pg(error);
    }
    if std::mem::take(lost) {
        tracing::info!("listening for other processes' changes again");
    }
    let error = driven.await.unwrap_or_else(|e| StoreError::Backend(e.to_string()));
    drop(client);
    error
}
