//! Reloading the configuration on SIGHUP. The listener stays open throughout: requests in flight
//! finish on the settings they started with, new ones get the new settings, and the store, the
//! call log and signed-in sessions carry over. A configuration that does not load changes nothing.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::task::JoinHandle;

use super::digests::Digests;
use super::{Lasting, configured, tenants};
use crate::config::Loaded;
use crate::http::AppState;
use crate::http::dispatch::Routes;

/// The background pruning of old calls, restarted when the settings it runs under change.
pub struct Pruning(Mutex<Option<JoinHandle<()>>>);

impl Pruning {
    pub fn start(state: &AppState) -> Self {
        Self(Mutex::new(Self::spawn(state)))
    }

    fn spawn(state: &AppState) -> Option<JoinHandle<()>> {
        let retention = state.settings.log.retention()?;
        Some(crate::retention::start(state.service.clone(), state.hosting.clone(), retention, state.metrics.clone()))
    }

    fn restart(&self, state: &AppState) {
        let mut running = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(old) = running.take() {
            old.abort();
        }
        *running = Self::spawn(state);
    }

    pub fn stop(&self) {
        if let Some(running) = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take() {
            running.abort();
        }
    }
}

/// Taken now, so that a SIGHUP that comes before the first reload cannot end the process.
pub fn hangups() -> Option<Signal> {
    signal(SignalKind::hangup())
        .inspect_err(|error| tracing::warn!(%error, "SIGHUP cannot be handled: the configuration cannot be reloaded"))
        .ok()
}

/// What a reload puts the next configuration into.
pub struct Reloaded {
    pub current: Arc<ArcSwap<Routes>>,
    pub pruning: Arc<Pruning>,
    /// The hosted businesses' digests, when the deployment hosts many.
    pub digests: Option<Arc<Digests>>,
}

/// On each SIGHUP, reads the configuration from `path` and puts it in effect.
pub async fn on_hangup(mut hangups: Signal, path: Option<PathBuf>, mut state: AppState, reloaded: Reloaded) {
    let Reloaded { current, pruning, digests } = reloaded;
    while hangups.recv().await.is_some() {
        match next_state(path.as_deref(), &state) {
            Ok((next, loaded)) => {
                state.notifier.stop();
                let business_settings = next.hosting.is_some().then(|| tenants::settings_of(loaded));
                if let (Some(digests), Some(settings_of)) = (&digests, &business_settings) {
                    digests.reconfigure(settings_of.clone());
                }
                current.store(Arc::new(tenants::routes(next.clone(), business_settings)));
                pruning.restart(&next);
                state = next;
                tracing::info!("configuration reloaded");
            }
            Err(error) => {
                tracing::error!(%error, "the configuration was not reloaded: the running one stays in effect");
            }
        }
    }
}

fn next_state(path: Option<&Path>, state: &AppState) -> Result<(AppState, Arc<Loaded>), String> {
    let loaded = Arc::new(Loaded::read(path).map_err(|error| error.to_string())?);
    let settings = loaded.settings().map_err(|error| error.to_string())?;
    let running = &state.settings;
    if settings.takes_unsigned_calls() && !running.listen.ip().is_loopback() {
        return Err(format!(
            "without a provider's key ({}) anyone could post fake calls to {}, where saidno listens",
            crate::provider::SECRETS.join(", "),
            running.listen
        ));
    }
    let needs_restart = [
        ("listen", settings.listen != running.listen),
        ("data_dir", settings.data_dir != running.data_dir),
        ("store.cache_mb", settings.store.cache_mb != running.store.cache_mb),
        ("store.url", settings.store.url != running.store.url),
        ("store.ca_file", settings.store.ca_file != running.store.ca_file),
        ("metrics.listen", settings.metrics.listen != running.metrics.listen),
        ("log.format", settings.log.format != running.log.format),
        ("log.queue", settings.log.queue != running.log.queue),
    ];
    for (key, _) in needs_restart.iter().filter(|(_, changed)| *changed) {
        tracing::warn!(key, "changed: this one takes effect at the next restart");
    }
    let settings = Arc::new(settings);
    let mut lasting = Lasting::of(state);
    // The operator's changes to a business's settings are checked against the configuration
    // they will be laid over.
    lasting.operator = match lasting.operator {
        Some(operator) => Some(operator.reconfigured(loaded.clone()).map_err(|error| error.to_string())?),
        None => None,
    };
    let next = configured(settings.clone(), state.service.with_settings(settings), lasting)
        .map_err(|error| error.to_string())?;
    Ok((next, loaded))
}
