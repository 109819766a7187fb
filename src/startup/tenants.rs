//! A business's routes, in a deployment that hosts many: its settings laid over the deployment's,
//! its own store, and the parts every business shares (the call log's writer, metrics, health,
//! the sign-in lock-out, the providers' replay memory).

use std::sync::Arc;

use super::{Lasting, configured};
use crate::config::{Loaded, Settings};
use crate::domain::{Business, BusinessId};
use crate::hosting::digest_of_hex;
use crate::http::AppState;
use crate::http::auth::AdminToken;
use crate::http::dispatch::Routes;
use crate::http::dispatch::{Build, Tenants};
use crate::service::Service;

/// A business's settings: its own laid over the deployment's, or why they cannot be.
pub type SettingsOf = Arc<dyn Fn(&Business) -> Result<Settings, String> + Send + Sync>;

/// Each business's settings laid over the configuration `loaded` holds.
pub fn settings_of(loaded: Arc<Loaded>) -> SettingsOf {
    Arc::new(move |business| loaded.for_business(&business.settings).map_err(|error| error.to_string()))
}

/// The routes for the deployment's state: handing each business's requests to that business's
/// routes when the store may hold many businesses.
pub fn routes(state: AppState, settings_of: Option<SettingsOf>) -> Routes {
    match (state.hosting.clone(), settings_of) {
        (Some(hosting), Some(settings_of)) => {
            let build = builder(state.clone(), settings_of);
            Routes::hosting(state, Arc::new(Tenants::new(hosting, build)))
        }
        _ => Routes::new(state),
    }
}

fn builder(deployment: AppState, settings_of: SettingsOf) -> Build {
    Arc::new(move |business| {
        let (deployment, settings_of) = (deployment.clone(), settings_of.clone());
        Box::pin(async move { build(&deployment, &settings_of, business).await })
    })
}

async fn build(deployment: &AppState, settings_of: &SettingsOf, business: Business) -> Result<Routes, String> {
    // The default business is the deployment's own: one state, one snapshot of its records.
    if business.id == BusinessId::DEFAULT {
        return Ok(Routes::new(deployment.clone()));
    }
    let hosting = deployment.hosting.clone().ok_or("the deployment hosts no businesses")?;
    let mut settings = settings_of(&business)?;
    settings.callbacks_under = format!("/b/{}", business.name);
    let settings = Arc::new(settings);
    let store = hosting.businesses.store_of(business.id).map_err(|error| error.to_string())?;
    let service = Service::open(store.clone(), settings.clone()).map_err(|error| error.to_string())?;
    service.follow_others();
    // A business whose records cannot be read forwards every call, and says why, as at start.
    let _ = service.warm_up().await;
    let admin_token = business
        .token_sha256
        .as_deref()
        .and_then(digest_of_hex)
        .map_or_else(AdminToken::unusable, AdminToken::from_digest);
    let lasting = Lasting {
        store,
        call_log: deployment.call_log.for_business(business.id),
        metrics: deployment.metrics.clone(),
        health: deployment.health.clone(),
        sessions: deployment.sessions.clone(),
        replays: deployment.replays.clone(),
        admin_token,
        hosting: Some(hosting),
        business: Some(business.name),
        // The operator's API is the deployment's, served by the default business's routes.
        operator: None,
    };
    configured(settings, service, lasting).map(Routes::new).map_err(|error| error.to_string())
}
