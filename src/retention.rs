//! Pruning the call log in the background: at start-up and then every hour, in bounded batches,
//! each on a blocking thread of its own, so neither a call nor the owner waits on it for long.

use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use crate::domain::BusinessId;
use crate::hosting::Hosting;
use crate::metrics::Metrics;
use crate::service::Service;
use crate::store::Pruned;

/// How often the log is pruned after the pass at start-up.
const EVERY: Duration = Duration::from_secs(3600);

/// Prunes now, then every hour, until the task is aborted: the log of `service`'s business, and in
/// a deployment that hosts many, every other business's after it, one at a time.
pub fn start(
    service: Service,
    hosting: Option<Arc<Hosting>>,
    retention: SignedDuration,
    metrics: Arc<Metrics>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            prune(&service, retention, &metrics).await;
            if let Some(hosting) = &hosting {
                prune_the_others(&service, hosting, retention, &metrics).await;
            }
            tokio::time::sleep(EVERY).await;
        }
    })
}

/// Each business's log but the default one's (which is `default`'s), each with its own legal holds.
async fn prune_the_others(default: &Service, hosting: &Hosting, retention: SignedDuration, metrics: &Metrics) {
    let others: Vec<BusinessId> = hosting.directory().ids().filter(|id| *id != BusinessId::DEFAULT).collect();
    for id in others {
        let service = hosting.businesses.store_of(id).map(|store| default.over(store));
        match service {
            Ok(service) => {
                prune(&service, retention, metrics).await;
            }
            Err(error) => tracing::error!(business = %id, %error, "could not prune a business's call log"),
        }
    }
}

/// One pass: every call logged more than `retention` ago leaves the log, batch by batch, unless a
/// legal hold covers it. Returns what was done, or `None` if the store failed (said in the log).
pub async fn prune(service: &Service, retention: SignedDuration, metrics: &Metrics) -> Option<Pruned> {
    let before = Timestamp::now().checked_sub(retention).unwrap_or(Timestamp::MIN);
    let mut total = Pruned::default();
    loop {
        let batch = match service.prune_calls(before, total.next).await {
            Ok(batch) => batch,
            Err(error) => {
                metrics.store_error();
                tracing::error!(%error, pruned = total.calls, "could not prune the call log");
                return None;
            }
        };
        metrics.calls_pruned(batch.calls as u64);
        total = total.and(batch);
        if total.next.is_none() {
            break;
        }
        // Between batches, whatever else waits for the store goes first.
        tokio::task::yield_now().await;
    }
    tracing::info!(
        pruned = total.calls,
        kept_under_legal_hold = total.kept,
        hourly_tallies = total.tallies,
        %before,
        "call log pruned"
    );
    Some(total)
}
