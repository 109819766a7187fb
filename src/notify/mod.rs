//! Texts to the owner when a declined company calls again, sent in the background through the
//! provider's REST API: the call path only drops a note in a bounded queue and never waits.

pub mod retry;
pub mod wording;

use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp, ToSpan};
use tokio::sync::mpsc;
use tracing::Instrument;

use crate::config::{Notify, NotifyWhen, Settings};
use crate::domain::{BusinessId, PhoneNumber};
use crate::metrics::Metrics;
use crate::provider::texting::{SendError, Texter};
use crate::store::{CallHistory, CallQuery, Store};
use crate::telemetry::call_span;

/// The settings in effect when asked: the file's with the owner's choices from the settings page
/// (`Service::settings`), which may change while the notifier runs.
pub type CurrentSettings = Arc<dyn Fn() -> Arc<Settings> + Send + Sync>;

/// A refused call, as the notifier needs it.
#[derive(Clone, Debug)]
pub struct Refused {
    /// The provider's id for the call, so the log of the text names the call it is about.
    pub call_id: String,
    pub company: Option<String>,
    pub number: PhoneNumber,
    /// Which call this is since the decline (1 for the first).
    pub follow_up: u32,
    pub declined_at: Timestamp,
    /// The business number that was called: texts come from it unless `[notify] from` is set.
    pub called: String,
}

/// One text waiting to be sent.
#[derive(Clone, Debug)]
struct Text {
    to: PhoneNumber,
    from: PhoneNumber,
    body: String,
    /// The call the text is about; none for the digest.
    call_id: Option<String>,
}

/// The handle the call path holds. Cloning is cheap; without an account it does nothing.
#[derive(Clone)]
pub struct Notifier {
    queue: Option<mpsc::Sender<Text>>,
    settings: Arc<Settings>,
    current: CurrentSettings,
    metrics: Arc<Metrics>,
    /// The daily digest's task: ended by a reload before the next notifier starts its own, and
    /// when the last clone of this notifier is dropped (a business no longer kept in memory).
    digest: Option<Arc<DigestTask>>,
}

/// Ends the daily digest's task when dropped. The task holds a notifier without it, so that
/// the notifiers in use alone keep it running.
struct DigestTask(tokio::task::AbortHandle);

impl Drop for DigestTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// How long a database shared by several processes is given to say whether one of them has sent a
/// digest; past it the digest is sent, as a second text is better than none.
const CLAIM_WAIT: Duration = Duration::from_secs(10);

impl Notifier {
    /// Starts the sender and the daily digest of `business` when texts can be sent. When to text
    /// (`[notify] when`, which the settings page can change) is read from `current` each time, so
    /// both run even while texts are off.
    pub fn start(
        settings: Arc<Settings>,
        current: CurrentSettings,
        store: Arc<dyn Store>,
        business: BusinessId,
        metrics: Arc<Metrics>,
    ) -> Self {
        let mut notifier = Self::sender(settings, current, metrics);
        if notifier.queue.is_some() {
            let task = tokio::spawn(daily_digest(notifier.clone(), store, business));
            notifier.digest = Some(Arc::new(DigestTask(task.abort_handle())));
        }
        notifier
    }

    /// Starts the sender alone, when texts can be sent: the digest is sent by whoever calls
    /// `digest_once` (for a deployment's many businesses, one task for them all).
    pub fn sender(settings: Arc<Settings>, current: CurrentSettings, metrics: Arc<Metrics>) -> Self {
        let disabled = Self {
            queue: None,
            settings: settings.clone(),
            current: current.clone(),
            metrics: metrics.clone(),
            digest: None,
        };
        if settings.owner.numbers.is_empty() {
            return disabled;
        }
        let client = match Texter::from_settings(&settings) {
            Ok(Some(client)) => client,
            Ok(None) => {
                tracing::info!("no provider account to send texts through: the owner is not sent texts");
                return disabled;
            }
            Err(error) => {
                tracing::error!(%error, "texts to the owner are off");
                return disabled;
            }
        };
        let (queue, texts) = mpsc::channel(settings.notify.queue);
        tokio::spawn(send_texts(client, texts, settings.clone(), metrics.clone()));
        Self { queue: Some(queue), settings, current, metrics, digest: None }
    }

    /// Ends the daily digest; texts already queued are still sent once the last clone is gone.
    pub fn stop(&self) {
        if let Some(digest) = &self.digest {
            digest.0.abort();
        }
    }

    /// Whether texts can be sent at all: an owner number and a provider account to send through.
    pub fn can_text(&self) -> bool {
        self.queue.is_some()
    }

    /// A declined company called again: text the owner if `notify` (the settings in effect)
    /// says so. Never waits.
    pub fn refused(&self, notify: &Notify, refused: &Refused) {
        let wanted = match notify.when {
            NotifyWhen::Every => true,
            NotifyWhen::From => refused.follow_up >= notify.from_follow_up,
            NotifyWhen::Digest | NotifyWhen::Off => false,
        };
        if wanted {
            let body = wording::called_again(refused, &self.settings.time_zone);
            self.send(&refused.called, Some(&refused.call_id), body);
        }
    }

    /// Queues `body` for every owner number, sent from `[notify] from` or else from `called`.
    fn send(&self, called: &str, call_id: Option<&str>, body: String) {
        let Some(queue) = &self.queue else { return };
        let configured = PhoneNumber::from_e164(self.settings.notify.from.trim());
        let Some(from) = configured.or_else(|| PhoneNumber::from_e164(called)) else {
            tracing::warn!(call_id = call_id, called, "no number to send the owner a text from; set [notify] from");
            return;
        };
        for owner in &self.settings.owner.numbers {
            let text =
                Text { to: owner.clone(), from: from.clone(), body: body.clone(), call_id: call_id.map(str::to_owned) };
            if let Err(error) = queue.try_send(text) {
                let why = match error {
                    mpsc::error::TrySendError::Full(_) => "the queue is full",
                    mpsc::error::TrySendError::Closed(_) => "the sender has stopped",
                };
                self.metrics.notification_failed();
                tracing::warn!(call_id = call_id, to = %owner, why, "a text to the owner was dropped");
            }
        }
    }
}

/// Sends the queued texts one after another, each with its retries.
async fn send_texts(client: Texter, mut texts: mpsc::Receiver<Text>, settings: Arc<Settings>, metrics: Arc<Metrics>) {
    let attempts = settings.notify.max_attempts;
    let base = Duration::from_millis(settings.notify.retry_base_ms);
    while let Some(text) = texts.recv().await {
        // The attempts are logged with the call that prompted the text, though the call has ended.
        let span = text.call_id.as_deref().map_or_else(tracing::Span::none, call_span);
        if !deliver(&client, &text, attempts, base).instrument(span).await {
            metrics.notification_failed();
        }
    }
}

/// Whether the text was sent.
async fn deliver(client: &Texter, text: &Text, attempts: u32, base: Duration) -> bool {
    for attempt in 1..=attempts {
        match client.send_text(&text.to, &text.from, &text.body).await {
            Ok(sid) => {
                tracing::info!(to = %text.to, %sid, attempt, "texted the owner");
                return true;
            }
            Err(SendError::Refused { detail }) => {
                tracing::error!(to = %text.to, %detail, "the provider refused a text to the owner; not retried");
                return false;
            }
            Err(SendError::Retry { detail, retry_after }) if attempt < attempts => {
                let pause = retry::pause(attempt, base, retry_after);
                tracing::warn!(to = %text.to, %detail, attempt, pause_ms = pause.as_millis() as u64, "text not sent; will retry");
                tokio::time::sleep(pause).await;
            }
            Err(SendError::Retry { detail, .. }) => {
                tracing::error!(to = %text.to, %detail, attempts, "gave up texting the owner");
            }
        }
    }
    false
}

/// Once a day at `digest_hour`, one text summing up the day's refused calls, while the digest is
/// chosen. Wakes at least once a minute, so that a digest chosen (or its hour changed) on the
/// settings page is followed from then on.
async fn daily_digest(notifier: Notifier, store: Arc<dyn Store>, business: BusinessId) {
    let time_zone = notifier.settings.time_zone.clone();
    loop {
        let hour = (notifier.current)().notify.digest_hour;
        let now = Timestamp::now();
        let Some(next) = next_digest(now, hour, &time_zone) else {
            tracing::error!("the digest hour cannot be placed in the time zone; no digest");
            return;
        };
        let wait = Duration::try_from(next.duration_since(now)).unwrap_or(Duration::ZERO);
        tokio::time::sleep(wait.min(Duration::from_secs(60))).await;
        let notify = (notifier.current)().notify.clone();
        if Timestamp::now() >= next && notify.when == NotifyWhen::Digest && notify.digest_hour == hour {
            notifier.digest_once(&store, business, next).await;
            // Past the hour, so the next turn waits for tomorrow's.
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

impl Notifier {
    /// Queues `business`'s digest due at `until`, unless another process sharing its database
    /// already has: each process keeps its own clock, and the owner wants one text a day. Whether
    /// this process queued it.
    pub async fn digest_once(&self, store: &Arc<dyn Store>, business: BusinessId, until: Timestamp) -> bool {
        let token = format!("{business}@{until}");
        let claimer = store.clone();
        let claimed = tokio::task::spawn_blocking(move || claimer.first_seen("digest", &token, CLAIM_WAIT)).await;
        let history: Arc<dyn CallHistory> = store.clone();
        match claimed {
            Ok(Ok(true)) => self.digest(&history, until).await,
            Ok(Ok(false)) => false,
            Ok(Err(error)) => {
                tracing::warn!(%error, %business, "could not tell whether another process sent the digest; sending it");
                self.digest(&history, until).await
            }
            Err(error) => {
                tracing::error!(%error, %business, "the digest's claim was cut short");
                false
            }
        }
    }

    /// Queues the digest of the calls refused in the 24 hours up to `until`; nothing when none
    /// were. Whether it queued one.
    pub async fn digest(&self, store: &Arc<dyn CallHistory>, until: Timestamp) -> bool {
        let since = until.checked_sub(SignedDuration::from_hours(24)).ok();
        let query = CallQuery { declined_only: true, since, limit: 10_000, ..Default::default() };
        let refused = match store.calls(&query).await {
            Ok(calls) => calls.into_iter().filter(|call| call.at <= until).collect::<Vec<_>>(),
            Err(error) => {
                tracing::error!(%error, "could not read the day's refusals for the digest");
                return false;
            }
        };
        let (Some(body), Some(latest)) = (wording::digest(&refused), refused.first()) else { return false };
        self.send(&latest.to, None, body);
        true
    }
}

/// The next time the clock shows `hour`:00 in the business's time zone, after `now`.
pub fn next_digest(now: Timestamp, hour: u8, time_zone: &jiff::tz::TimeZone) -> Option<Timestamp> {
    let zoned = now.to_zoned_datetime(time_zone.clone());
    let today = zoned.date().at(i8::try_from(hour).ok()?, 0, 0, 0).to_zoned_datetime(time_zone.clone()).ok()?;
    if today.timestamp() > now {
        return Some(today.timestamp());
    }
    let tomorrow = today.date().checked_add(1.day()).ok()?;
    Some(tomorrow.at(i8::try_from(hour).ok()?, 0, 0, 0).to_zoned_datetime(time_zone.clone()).ok()?.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::tz::TimeZone;

    #[test]
    fn the_digest_comes_at_the_next_digest_hour_in_the_business_time_zone() {
        let london = TimeZone::get("Europe/London").unwrap();
        let before: Timestamp = "2026-11-25T09:00:00Z".parse().unwrap();
        assert_eq!(next_digest(before, 18, &london), Some("2026-11-25T18:00:00Z".parse().unwrap()));
        let after: Timestamp = "2026-11-25T18:00:00Z".parse().unwrap();
        assert_eq!(next_digest(after, 18, &london), Some("2026-11-26T18:00:00Z".parse().unwrap()));
        // In summer London is an hour ahead of UTC.
        let summer: Timestamp = "2026-07-01T09:00:00Z".parse().unwrap();
        assert_eq!(next_digest(summer, 18, &london), Some("2026-07-01T17:00:00Z".parse().unwrap()));
    }
}
