//! The HTTP edge: the providers' webhooks, the admin API, the web page and health, over one shared state.

pub mod allow_words;
pub mod allows_page;
pub mod api;
pub mod auth;
pub mod backup;
pub mod banners;
pub mod call_row;
pub mod calls_in_place;
pub mod calls_page;
pub mod came_from;
pub mod client_address;
pub mod company_page;
pub mod complaints;
pub mod dashboard_page;
pub mod decline_fields;
pub mod decline_forms;
pub mod decline_selected;
pub mod dispatch;
pub mod entry;
pub mod error;
pub mod health;
pub mod live_calls;
pub mod live_pages;
pub mod local_time;
pub mod openapi;
pub mod operator;
pub mod pages;
pub mod pbx;
pub mod router;
pub mod security_headers;
pub mod session;
mod setting_forms;
mod setting_words;
pub mod settings_page;
pub mod sms;
pub mod transcript;
pub mod url_part;
pub mod voicemail;
pub mod webhook;
pub mod whisper;

use std::sync::Arc;

use crate::call_log::CallLog;
use crate::config::Settings;
use crate::notify::Notifier;
use crate::remote::Remote;
use crate::service::Service;
use crate::store::Store;

pub use router::router;

/// Everything a request handler may need, built once at start-up.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub settings: Arc<Settings>,
    pub store: Arc<dyn Store>,
    pub service: Service,
    pub call_log: CallLog,
    /// The enabled providers, each with routes under its name.
    pub edges: Vec<Arc<webhook::Edge>>,
    /// The look-up for a business's own PBX, when `[pbx] token` is set.
    pub pbx: Option<crate::provider::pbx::Pbx>,
    pub admin_token: auth::AdminToken,
    pub sessions: Arc<session::Sessions>,
    /// The owner's text commands.
    pub remote: Arc<Remote>,
    /// Texts to the owner, sent in the background.
    pub notifier: Notifier,
    /// Providers' one-time request tokens already seen, kept across reloads.
    pub replays: Arc<crate::provider::replay::SeenOnce>,
    pub health: Arc<health::Health>,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// The accounts whose voicemail recordings the web page can play.
    pub recordings: Arc<crate::provider::recordings::Recordings>,
    /// The businesses of a deployment that may host many (a PostgreSQL store); none for the
    /// embedded store, which serves one.
    pub hosting: Option<Arc<crate::hosting::Hosting>>,
    /// Which of them this state is of, when there may be many.
    pub business: Option<crate::domain::BusinessName>,
    /// The operator's API over the businesses the deployment serves, when it is on.
    pub operator: Option<Arc<operator::OperatorDesk>>,
}

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}
