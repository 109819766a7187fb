//! Readiness: whether saidno can keep what it is told, as opposed to merely being up (`/healthz`).

use std::sync::{Arc, OnceLock};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::AppState;
use crate::metrics::Metrics;

/// Whether saidno has given up on its database. Once degraded it stays so until restarted: every
/// call is forwarded without consulting records that cannot be trusted.
pub struct Health {
    degraded: OnceLock<String>,
    /// Where the state shows as `saidno_degraded`, for an alert that needs no one to read the log.
    metrics: Arc<Metrics>,
}

impl Health {
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self { degraded: OnceLock::new(), metrics }
    }

    pub fn degrade(&self, reason: String) {
        if self.degraded.set(reason.clone()).is_ok() {
            self.metrics.degraded();
            tracing::error!(
                %reason,
                "DEGRADED: saidno cannot use its database and forwards every call until that is fixed and it is restarted"
            );
        }
    }

    pub fn degraded(&self) -> Option<&str> {
        self.degraded.get().map(String::as_str)
    }
}

/// `GET /readyz`: 200 when the store takes a write and gets it to disk, else 503 with the reason.
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    if let Some(reason) = state.health.degraded() {
        return (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"ready": false, "store": reason})));
    }
    match state.store.probe().await {
        Ok(()) => (StatusCode::OK, Json(json!({"ready": true, "store": "ok"}))),
        Err(error) => {
            state.metrics.store_error();
            tracing::error!(%error, "not ready: the store cannot be written");
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"ready": false, "store": error.to_string()})))
        }
    }
}
