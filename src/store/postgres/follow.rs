//! Following the changes other processes make to the businesses' owner records on the same
//! database: one connection per process listens for their announcements, and a check every
//! `CHECK_EVERY` covers any announcement missed (while that connection was lost and opened again,
//! say). Each change is published through the hook the service gave each live handle of its
//! business (`OwnerRecord::follow`), in the order the changes were committed, once.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;
use tokio_postgres::AsyncMessage;

use super::super::{Counted, StoreError};
use super::errors::connecting;
use super::owner_changes::{self, Announced, CHANNEL, Row};
use super::{Shared, Tenant, pg};
use super::{call_facts, call_log};
use crate::domain::{BusinessId, FollowUps};

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

/// Takes in `rows` of the handle's business, read after `*followed`: each change published through
/// the handle's hook for other processes' changes, in order, and `followed` moved past it. A row
/// that does not read back is said in the log and passed over whole, so the snapshot never holds
/// part of it.
pub fn take_in(tenant: &Tenant, rows: Vec<Row>, followed: &mut i64) {
    if rows.is_empty() {
        return;
    }
    let publish = tenant.others();
    for (id, change) in rows {
        match change {
            Ok(change) => publish.published(&change),
            Err(error) => tracing::error!(
                id,
                business = %tenant.id,
                %error,
                "another process's change to the owner's record does not read back: it is not honoured here until \
                 saidno restarts and reads the record whole"
            ),
        }
        *followed = id;
    }
}

/// Publishes every change of the handle's business newer than the newest it took in.
pub async fn catch_up(tenant: &Tenant) -> Result<(), StoreError> {
    let mut followed = tenant.changes.lock().await;
    let connection = tenant.connection().await?;
    let rows = owner_changes::after(&connection, tenant.key(), *followed).await?;
    take_in(tenant, rows, &mut followed);
    Ok(())
}

/// Catches up every live handle of the businesses changed since the follower last looked.
async fn check(shared: &Shared) -> Result<(), StoreError> {
    let since = shared.followed.load(Ordering::SeqCst);
    let (changed, newest) = owner_changes::businesses_after(&shared.connection().await?, since).await?;
    for business in changed {
        for tenant in shared.live(BusinessId(business)) {
            catch_up(&tenant).await?;
        }
    }
    shared.followed.fetch_max(newest, Ordering::SeqCst);
    shared.committed.fetch_max(newest, Ordering::SeqCst);
    Ok(())
}

/// Acts on one announcement: a change is taken in by the live handles of its business that have
/// not published it yet; a change to the businesses is told to whoever follows them.
async fn announcement(shared: &Shared, announced: Announced) -> Result<(), StoreError> {
    match announced {
        Announced::Change { business, id } => {
            for tenant in shared.live(BusinessId(business)) {
                // Not one this handle has already published (its own, most often).
                if id > *tenant.changes.lock().await {
                    catch_up(&tenant).await?;
                }
            }
        }
        Announced::Businesses => {
            let changed = shared.businesses_changed.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
            if let Some(changed) = changed {
                tokio::task::block_in_place(|| changed());
            }
        }
    }
    Ok(())
}

/// Follows for as long as the database is open (its runtime ends this task with it).
pub async fn run(shared: Arc<Shared>) {
    let (tell, mut announced) = mpsc::channel(WAITING);
    tokio::spawn(keep_listening(shared.clone(), tell));
    let mut ticks = tokio::time::interval(CHECK_EVERY);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut pruned: Option<Instant> = None;
    let mut failing = false;
    let mut counts_read = false;
    loop {
        let outcome = tokio::select! {
            Some(payload) = announced.recv() => match owner_changes::announced(&payload) {
                Some(told) => announcement(&shared, told).await,
                None => continue,
            },
            _ = ticks.tick() => {
                counts_read = follow_counts(&shared, counts_read).await;
                check(&shared).await
            }
        };
        match outcome {
            Ok(()) if failing => {
                failing = false;
                tracing::info!("other processes' changes to the owner's records are followed again");
            }
            Ok(()) => {}
            Err(error) if !failing => {
                failing = true;
                tracing::error!(%error, "cannot read other processes' changes to the owner's records; trying again");
            }
            Err(_) => {}
        }
        if pruned.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
            pruned = Some(Instant::now());
            if let Err(error) = prune(&shared).await {
                tracing::warn!(%error, "could not prune the old changes to the owner's records");
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

/// Tells each live handle given a hook the follow-up counts of its business changed within
/// `COUNTS_WINDOW`, or every count when the last read failed or a handle has not had them all
/// yet, so that nothing counted meanwhile is missed. Taking in a count already known changes
/// nothing (the highest is kept). One query for every business. Whether this read succeeded.
async fn follow_counts(shared: &Shared, last_read: bool) -> bool {
    let counting: Vec<(Arc<Tenant>, Counted)> = shared
        .every_live()
        .into_iter()
        .filter_map(|tenant| {
            let counted = tenant.counted.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()?;
            Some((tenant, counted))
        })
        .collect();
    if counting.is_empty() {
        return false;
    }
    let whole = !last_read || counting.iter().any(|(tenant, _)| !tenant.counts_read.load(Ordering::SeqCst));
    match call_log::follow_ups_counted(shared, (!whole).then_some(COUNTS_WINDOW)).await {
        Ok(counts) => {
            let mut by_business: HashMap<i64, Vec<(String, FollowUps)>> = HashMap::new();
            for (business, party, count) in counts {
                by_business.entry(business).or_default().push((party, count));
            }
            for (tenant, counted) in counting {
                if let Some(counts) = by_business.get(&tenant.key()) {
                    // The hook takes the lock a call being decided holds while it may wait on this
                    // runtime (spending an allow): this thread is handed over meanwhile.
                    tokio::task::block_in_place(|| counted(counts));
                }
                tenant.counts_read.store(true, Ordering::SeqCst);
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
    let listener = shared.listener.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
    let (client, mut messages) = match shared.connector.connect(&listener).await {
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
