//! The daily digest of every business a deployment hosts, from one task for them all: a business
//! is sent its digest whether or not its routes are in memory (most are not, in a deployment of
//! thousands), and only the first process sharing the database to claim it sends it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::tenants::SettingsOf;
use crate::config::{NotifyWhen, Settings};
use crate::domain::{Business, BusinessId};
use crate::hosting::Hosting;
use crate::metrics::Metrics;
use crate::notify::Notifier;

/// How often the task looks for digests due: well inside the hour they are due in.
const LOOK_EVERY: Duration = Duration::from_secs(30);

/// What is needed to send any business's digest.
pub struct Digests {
    hosting: Arc<Hosting>,
    /// Replaced by a reload of the configuration.
    settings_of: Mutex<SettingsOf>,
    metrics: Arc<Metrics>,
    /// Each business's file settings, worked out again only when its record changes: a deployment
    /// of thousands would otherwise read every business's settings twice a minute.
    laid: Mutex<HashMap<BusinessId, Laid>>,
}

/// A business's record, and its settings worked out from it (none when they do not hold).
type Laid = (Business, Option<Arc<Settings>>);

impl Digests {
    pub fn new(hosting: Arc<Hosting>, settings_of: SettingsOf, metrics: Arc<Metrics>) -> Self {
        Self { hosting, settings_of: Mutex::new(settings_of), metrics, laid: Mutex::default() }
    }

    /// Lays each business's settings over a reloaded configuration from now on.
    pub fn reconfigure(&self, settings_of: SettingsOf) {
        *lock(&self.settings_of) = settings_of;
        lock(&self.laid).clear();
    }

    /// Looks for digests due from now on, for as long as the deployment runs.
    pub fn start(self: Arc<Self>) {
        tokio::spawn(async move {
            let mut since = Timestamp::now();
            loop {
                tokio::time::sleep(LOOK_EVERY).await;
                let now = Timestamp::now();
                self.send_due(since, now).await;
                since = now;
            }
        });
    }

    /// Sends the digest of each business (but the default, whose notifier sends its own) whose
    /// chosen digest hour began after `since` and by `now`, in the business's time zone. How many
    /// this process sent.
    pub async fn send_due(&self, since: Timestamp, now: Timestamp) -> usize {
        let mut sent = 0;
        let directory = self.hosting.directory().clone();
        for id in directory.ids().filter(|id| *id != BusinessId::DEFAULT) {
            let Some(business) = directory.business(id) else { continue };
            let Some(file) = self.file_settings(business) else { continue };
            // Whether the digest is chosen, and for which hour, may be the owner's choice on the
            // settings page, and reading that costs a query: it is read only at the top of one of
            // the business's hours, and only when the business has someone to text.
            if file.owner.numbers.is_empty() {
                continue;
            }
            let Some(hour) = hour_began(&file.time_zone, since, now) else { continue };
            sent += usize::from(self.send_if_chosen(business, &file, hour).await);
        }
        sent
    }

    async fn send_if_chosen(&self, business: &Business, file: &Settings, hour: Timestamp) -> bool {
        let store = match self.hosting.businesses.store_of(business.id) {
            Ok(store) => store,
            Err(error) => {
                tracing::warn!(%error, business = %business.name, "no digest: the records cannot be opened");
                return false;
            }
        };
        let choices = match store.owner_choices().await {
            Ok(choices) => choices,
            Err(error) => {
                tracing::warn!(%error, business = %business.name, "no digest: the settings cannot be read");
                return false;
            }
        };
        let settings = Arc::new(choices.effective(file));
        let chosen_hour = hour.to_zoned_datetime(settings.time_zone.clone()).hour();
        if settings.notify.when != NotifyWhen::Digest || i8::try_from(settings.notify.digest_hour) != Ok(chosen_hour) {
            return false;
        }
        let current = settings.clone();
        let notifier = Notifier::sender(settings, Arc::new(move || current.clone()), self.metrics.clone());
        notifier.can_text() && notifier.digest_once(&store, business.id, hour).await
    }

    fn file_settings(&self, business: &Business) -> Option<Arc<Settings>> {
        let mut laid = lock(&self.laid);
        if let Some((record, settings)) = laid.get(&business.id)
            && record == business
        {
            return settings.clone();
        }
        let settings_of = lock(&self.settings_of).clone();
        let settings = match settings_of(business) {
            Ok(settings) => Some(Arc::new(settings)),
            Err(error) => {
                tracing::error!(%error, business = %business.name, "no digest: the business's settings do not hold");
                None
            }
        };
        laid.insert(business.id, (business.clone(), settings.clone()));
        settings
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The start of the hour, in `time_zone`, that began after `since` and by `now`, if one did.
fn hour_began(time_zone: &TimeZone, since: Timestamp, now: Timestamp) -> Option<Timestamp> {
    let zoned = now.to_zoned_datetime(time_zone.clone());
    let began = zoned.with().minute(0).second(0).subsec_nanosecond(0).build().ok()?.timestamp();
    (began > since && began <= now).then_some(began)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn an_hour_begins_once_between_two_looks_that_straddle_it() {
        let utc = TimeZone::UTC;
        assert_eq!(
            hour_began(&utc, at("2026-12-07T17:59:40Z"), at("2026-12-07T18:00:10Z")),
            Some(at("2026-12-07T18:00:00Z"))
        );
        assert_eq!(hour_began(&utc, at("2026-12-07T18:00:10Z"), at("2026-12-07T18:00:40Z")), None);
        assert_eq!(hour_began(&utc, at("2026-12-07T18:00:00Z"), at("2026-12-07T18:00:30Z")), None, "already sent");
    }

    #[test]
    fn a_half_hour_time_zone_begins_its_hours_at_half_past_utc() {
        let kolkata = TimeZone::get("Asia/Kolkata").unwrap();
        assert_eq!(hour_began(&kolkata, at("2026-12-07T12:00:00Z"), at("2026-12-07T12:20:00Z")), None);
        assert_eq!(
            hour_began(&kolkata, at("2026-12-07T12:20:00Z"), at("2026-12-07T12:40:00Z")),
            Some(at("2026-12-07T12:30:00Z"))
        );
    }
}
