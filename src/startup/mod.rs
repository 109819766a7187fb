//! Building the application: open the store, bind the listener, serve until told to stop.

mod digests;
mod reload;
mod tenants;

pub use digests::Digests;
pub use tenants::{SettingsOf, settings_of};

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use arc_swap::ArcSwap;
use tokio::net::TcpListener;

use crate::call_log::CallLog;
use crate::config::{Loaded, Settings};
use crate::domain::{BusinessId, BusinessName, phone};
use crate::hosting::{Hosting, KeptBusinesses, kept_under};
use crate::http::auth::AdminToken;
use crate::http::entry::Entry;
use crate::http::health::Health;
use crate::http::operator::OperatorDesk;
use crate::http::session::Sessions;
use crate::http::webhook::Edge;
use crate::http::{AppState, Shared};
use crate::metrics::Metrics;
use crate::notify::Notifier;
use crate::provider;
use crate::provider::pbx::Pbx;
use crate::provider::recordings::Recordings;
use crate::provider::replay::SeenOnce;
use crate::remote::Remote;
use crate::runtime;
use crate::service::{Operator, Service};
use crate::store::{Businesses, CallSink, OneBusiness, Store, StoreError, UnavailableStore, open_businesses};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(
        "refusing to listen on {0}: without a provider's key ({keys}) anyone could post fake calls; set one, or \
         listen on 127.0.0.1 to try saidno locally",
        keys = provider::SECRETS.join(", ")
    )]
    UnsignedBeyondLoopback(SocketAddr),
    #[error("cannot listen on {address}: {error}")]
    Bind { address: SocketAddr, error: std::io::Error },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("configuration: {0}")]
    Config(String),
}

/// How long requests in flight may take to finish once saidno is asked to stop.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// How long a stop waits for a database that cannot be reached to take the calls still waiting
/// to be logged; a database that answers is waited for as long as the writing goes on.
const UNREACHABLE_AT_EXIT: std::time::Duration = std::time::Duration::from_secs(5);

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

pub struct Application {
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    state: AppState,
    /// Where a SIGHUP reads the configuration again, when the server reloads on one.
    reload_from: Option<Option<PathBuf>>,
    /// How each business's settings are made, when the deployment may host many.
    business_settings: Option<tenants::SettingsOf>,
}

/// What outlives a reload: the store, and the state kept between requests.
struct Lasting {
    store: Arc<dyn Store>,
    call_log: CallLog,
    metrics: Arc<Metrics>,
    health: Arc<Health>,
    sessions: Arc<Sessions>,
    replays: Arc<SeenOnce>,
    admin_token: AdminToken,
    /// The businesses, when the deployment may host many, and which of them this state is of.
    hosting: Option<Arc<Hosting>>,
    business: Option<BusinessName>,
    /// The operator's service, when the deployment's businesses are served (see `with_operator`).
    operator: Option<Operator>,
}

impl Lasting {
    fn of(state: &AppState) -> Self {
        Self {
            store: state.store.clone(),
            call_log: state.call_log.clone(),
            metrics: state.metrics.clone(),
            health: state.health.clone(),
            sessions: state.sessions.clone(),
            replays: state.replays.clone(),
            admin_token: state.admin_token.clone(),
            hosting: state.hosting.clone(),
            business: state.business.clone(),
            operator: state.operator.as_ref().map(|desk| desk.operator.clone()),
        }
    }
}

/// The state for `settings` over what lasts: everything the settings shape is made here, so a
/// reload makes it the same way the start did.
fn configured(settings: Arc<Settings>, service: Service, lasting: Lasting) -> Result<AppState, StartupError> {
    let providers = provider::enabled(&settings, &lasting.replays).map_err(StartupError::Config)?;
    let edges = providers
        .into_iter()
        .map(|provider| Edge::new(provider, &settings).map(Arc::new))
        .collect::<Result<_, _>>()
        .map_err(|e| StartupError::Config(e.to_string()))?;
    let Lasting { store, call_log, metrics, health, sessions, replays, admin_token, hosting, business, operator } =
        lasting;
    // The operator's API is on while its token is set: a reload may turn it on or off.
    let operator = operator.map(|operator| Arc::new(OperatorDesk::new(operator, settings.admin.operator_token())));
    Ok(AppState::new(Shared {
        remote: Arc::new(Remote::new(service.clone(), store.clone(), settings.clone())),
        notifier: notifier(&settings, &service, &store, business.as_ref(), &metrics),
        replays,
        service,
        call_log,
        metrics,
        store,
        edges,
        pbx: Some(settings.pbx.token.trim()).filter(|token| !token.is_empty()).map(Pbx::new),
        admin_token,
        sessions,
        health,
        recordings: Arc::new(Recordings::from_settings(&settings).map_err(StartupError::Config)?),
        operator,
        settings,
        hosting,
        business,
    }))
}

/// The business's texts to its owner. The default business's daily digest runs with its
/// notifier; every other business's is sent by the deployment's one task for them all
/// (`digests`), so that a business not in memory gets its digest too.
fn notifier(
    settings: &Arc<Settings>,
    service: &Service,
    store: &Arc<dyn Store>,
    business: Option<&BusinessName>,
    metrics: &Arc<Metrics>,
) -> Notifier {
    let current = current_settings(service);
    match business {
        Some(name) if name.as_str() != BusinessName::DEFAULT => {
            Notifier::sender(settings.clone(), current, metrics.clone())
        }
        _ => Notifier::start(settings.clone(), current, store.clone(), BusinessId::DEFAULT, metrics.clone()),
    }
}

/// What the notifier reads the settings in effect from.
fn current_settings(service: &Service) -> crate::notify::CurrentSettings {
    let service = service.clone();
    Arc::new(move || service.settings())
}

impl Application {
    /// The application on its database: PostgreSQL at `[store] url`, or sled under `data_dir`. If
    /// the database cannot be used (held by another process, a folder that cannot be written, a
    /// full disk, a damaged file, a PostgreSQL server that does not answer), saidno
    /// starts all the same in a degraded mode that forwards every call, says so loudly in its log,
    /// and reports it at `/readyz`: a dead phone line would be worse.
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        check_listen(&settings)?;
        match open_database(&settings).await {
            Ok((businesses, token)) => {
                let store = businesses.store_of(BusinessId::DEFAULT)?;
                let calls = businesses.call_sink()?;
                let application = Self::build_on(settings.clone(), store, calls, &token).await?;
                match settings.store.url() {
                    Some(_) => application.hosting(businesses, Some(kept_under(&settings.data_dir))).await,
                    None => Ok(application),
                }
            }
            Err(reason) => {
                let token = runtime::admin_token(&settings).unwrap_or_else(|_| runtime::unguessable_token());
                let store = Arc::new(UnavailableStore::new(reason.clone()));
                // A deployment that hosted businesses when it last read them routes each call to its
                // business's phones, from the copy it kept.
                let kept = settings.store.url().and_then(|_| {
                    KeptBusinesses::read(&kept_under(&settings.data_dir), &reason)
                        .map(|kept| Arc::new(kept) as Arc<dyn Businesses>)
                });
                let mut application = Self::build_with_store(settings, store, &token).await?;
                if let Some(kept) = kept {
                    application = application.hosting(kept, None).await?;
                }
                application.state.health.degrade(reason);
                Ok(application)
            }
        }
    }

    /// The application on any store: tests use this to put a failing store behind a real server.
    pub async fn build_with_store(
        settings: Settings,
        store: Arc<dyn Store>,
        admin_token: &str,
    ) -> Result<Self, StartupError> {
        let calls = store.clone();
        Self::build_on(settings, store, calls, admin_token).await
    }

    /// The application on `store`, logging calls into `calls`: the store's own call log, or in a
    /// deployment that hosts many businesses, the log of all of them.
    async fn build_on(
        settings: Settings,
        store: Arc<dyn Store>,
        calls: Arc<dyn CallSink>,
        admin_token: &str,
    ) -> Result<Self, StartupError> {
        check_listen(&settings)?;
        // The numbering metadata loads on the other core while the records are read below.
        let numbering = std::thread::spawn(phone::warm_up);
        let listener = TcpListener::bind(settings.listen)
            .await
            .map_err(|error| StartupError::Bind { address: settings.listen, error })?;
        let metrics_listener = match settings.metrics_address().map_err(StartupError::Config)? {
            // Calls matter more than metrics: without the port, saidno runs without them.
            Some(address) => TcpListener::bind(address)
                .await
                .inspect_err(|error| tracing::error!(%address, %error, "metrics are off: cannot listen"))
                .ok(),
            None => None,
        };
        let metrics = Arc::new(Metrics::default());
        let settings = Arc::new(settings);
        let service =
            Service::open(store.clone(), settings.clone()).map_err(|e| StartupError::Config(e.to_string()))?;
        service.follow_others();
        // Before the first call, which is decided from them. When the records cannot be read (or
        // reading them panics), every call rings through, and says why.
        let _ = service.warm_up().await;
        // A panic there would be met again by the first number parsed, which falls back safely.
        let _ = numbering.join();
        let lasting = Lasting {
            call_log: CallLog::start(calls, metrics.clone(), settings.log.queue),
            replays: Arc::new(SeenOnce::shared_by(store.clone())),
            store,
            health: Arc::new(Health::new(metrics.clone())),
            metrics,
            sessions: Arc::default(),
            admin_token: AdminToken::new(admin_token),
            hosting: None,
            business: None,
            operator: None,
        };
        let state = configured(settings, service, lasting)?;
        Ok(Self { listener, metrics_listener, state, reload_from: None, business_settings: None })
    }

    /// Serves the businesses `businesses` holds besides the default one (whose store this
    /// application already serves): each call, callback, API request and page goes to the business
    /// it is for once more than one business, or any line, is added (see `http::dispatch`).
    async fn hosting(
        mut self,
        businesses: Arc<dyn Businesses>,
        keep_at: Option<PathBuf>,
    ) -> Result<Self, StartupError> {
        let hosting = Hosting::open(businesses, keep_at).await?;
        let state = &self.state;
        let lasting = Lasting {
            hosting: Some(hosting),
            business: Some(BusinessName::parse(BusinessName::DEFAULT).expect("the default name is a name")),
            ..Lasting::of(state)
        };
        self.state = configured(state.settings.clone(), state.service.clone(), lasting)?;
        Ok(self)
    }

    /// The configuration the server was started with: each business it hosts has its own settings
    /// laid over it (without it, only the default business is served), and the operator's API
    /// (`/api/v1/operator`) is served over the businesses while `[admin] operator_token` is set.
    pub fn with_configuration(mut self, loaded: Loaded) -> Result<Self, StartupError> {
        let loaded = Arc::new(loaded);
        if self.state.hosting.is_some() {
            self.business_settings = Some(tenants::settings_of(loaded.clone()));
        }
        // Made whether or not the token is set now: a reload may set it.
        let businesses: Arc<dyn Businesses> = match &self.state.hosting {
            Some(hosting) => hosting.businesses.clone(),
            None => Arc::new(OneBusiness::new(self.state.store.clone())),
        };
        self.with_operator(businesses, loaded)
    }

    /// Serves the operator's API (`/api/v1/operator`) over `businesses`, checking each business's
    /// settings against `configuration`, while `[admin] operator_token` is set.
    pub fn with_operator(
        mut self,
        businesses: Arc<dyn Businesses>,
        configuration: Arc<Loaded>,
    ) -> Result<Self, StartupError> {
        let operator = Operator::new(businesses, configuration).map_err(|e| StartupError::Config(e.to_string()))?;
        let mut lasting = Lasting::of(&self.state);
        lasting.operator = Some(operator);
        self.state = configured(self.state.settings.clone(), self.state.service.clone(), lasting)?;
        Ok(self)
    }

    /// Reloads the configuration from `path` (as `--config` gave it) on each SIGHUP, without
    /// closing the listener: calls in flight finish on the old settings, new ones get the new.
    pub fn reloading_from(self, path: Option<PathBuf>) -> Self {
        Self { reload_from: Some(path), ..self }
    }

    pub fn address(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// Where `/metrics` answers, when metrics are on.
    pub fn metrics_address(&self) -> Option<SocketAddr> {
        self.metrics_listener.as_ref().map(|listener| listener.local_addr().expect("a bound listener has an address"))
    }

    /// Serves until `shutdown` completes, lets requests in flight finish, then writes the call log
    /// and flushes the store.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let state = self.state.clone();
        if let Some(listener) = self.metrics_listener {
            let metrics = state.metrics.clone();
            let router = axum::Router::new().route(
                "/metrics",
                axum::routing::get(move || async move {
                    ([(axum::http::header::CONTENT_TYPE, OPENMETRICS)], metrics.render())
                }),
            );
            tracing::info!(address = %listener.local_addr()?, "metrics are served here");
            tokio::spawn(async move { axum::serve(listener, router).await });
        }
        // Damage found now is damage no caller meets: read everything back while serving.
        let verifying = state.clone();
        tokio::task::spawn_blocking(move || {
            if let Err(error) = verifying.store.verify() {
                verifying.health.degrade(error.to_string());
            }
        });
        // Calls past the retention period leave the log off the call path, now and every hour.
        let pruning = Arc::new(reload::Pruning::start(&state));
        let reloading = self.reload_from.and_then(|path| Some((path, reload::hangups()?)));
        // Every hosted business's daily digest, whether or not its routes are in memory.
        let digests = state.hosting.clone().zip(self.business_settings.clone()).map(|(hosting, settings_of)| {
            let digests = Arc::new(digests::Digests::new(hosting, settings_of, state.metrics.clone()));
            digests.clone().start();
            digests
        });
        let current = Arc::new(ArcSwap::from_pointee(tenants::routes(self.state, self.business_settings)));
        if let Some((path, hangups)) = reloading {
            let reloaded = reload::Reloaded { current: current.clone(), pruning: pruning.clone(), digests };
            tokio::spawn(reload::on_hangup(hangups, path, state.clone(), reloaded));
        }
        // Requests in flight when the signal comes get SHUTDOWN_GRACE to finish; then saidno stops
        // waiting, so a stuck client cannot keep it from exiting.
        let stopping = Arc::new(tokio::sync::Notify::new());
        let signalled = stopping.clone();
        // Live pages hold their streams open; they end first, so they never count as requests in flight.
        let live = state.call_log.live().clone();
        let serving = axum::serve(self.listener, Entry(current)).with_graceful_shutdown(async move {
            shutdown.await;
            live.close();
            signalled.notify_one();
        });
        tokio::select! {
            served = serving => served?,
            () = async {
                stopping.notified().await;
                tokio::time::sleep(SHUTDOWN_GRACE).await;
            } => tracing::warn!("requests still open after {SHUTDOWN_GRACE:?}; stopping without them"),
        }
        pruning.stop();
        let left = state.call_log.flush_before_exit(UNREACHABLE_AT_EXIT).await;
        if left > 0 {
            tracing::error!(
                left,
                "stopping with {left} calls and outcomes not logged: the database could not be reached"
            );
        }
        state.store.flush().map_err(std::io::Error::other)
    }

    /// Serves until SIGINT or SIGTERM, telling the command line where to find the server meanwhile.
    pub async fn run(self) -> std::io::Result<()> {
        let settings = self.state.settings.clone();
        if let Err(error) = runtime::write_server_file(&settings, self.address()) {
            tracing::warn!(%error, "the command line will not find this server: its address could not be written");
        }
        tracing::info!(address = %self.address(), "saidno is listening");
        let result = self.run_until(shutdown_signal()).await;
        runtime::remove_server_file(&settings);
        tracing::info!("saidno stopped");
        result
    }
}

/// The database, its default business's store proven writable, and the admin token; or why not.
async fn open_database(settings: &Settings) -> Result<(Arc<dyn Businesses>, String), String> {
    let folder = |error: std::io::Error| format!("data folder {}: {error}", settings.data_dir.display());
    std::fs::create_dir_all(&settings.data_dir).map_err(folder)?;
    let token = runtime::admin_token(settings).map_err(folder)?;
    let businesses = open_businesses(&settings.store, &settings.database_path()).map_err(|error| error.to_string())?;
    let store = businesses.store_of(BusinessId::DEFAULT).map_err(|error| error.to_string())?;
    store.probe().await.map_err(|error| format!("the database cannot be written: {error}"))?;
    Ok((businesses, token))
}

fn check_listen(settings: &Settings) -> Result<(), StartupError> {
    if settings.takes_unsigned_calls() && !settings.listen.ip().is_loopback() {
        return Err(StartupError::UnsignedBeyondLoopback(settings.listen));
    }
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM can be handled");
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}
