//! Where the command line's changes go: the store itself, or the running server that holds it.

use std::sync::Arc;

use jiff::Timestamp;

use super::CliError;
use super::client::Client;
use crate::config::Settings;
use crate::domain::{Allow, CallRecord, Decline};
use crate::http::api::PauseState;
use crate::runtime;
use crate::service::{CheckRequest, NewAllow, NewDecline, Preview, Saved, Service, ServiceError};
use crate::store::{CallQuery, SledStore, StoreError};

pub enum Backend {
    Local(Service),
    Remote(Client),
}

impl Backend {
    /// Opens the store; if a server has it open (sled admits one process), talks to that server.
    pub fn connect(settings: Arc<Settings>) -> Result<Self, CliError> {
        match SledStore::open(&settings.database_path(), settings.store.cache_mb) {
            Ok(store) => Service::open(Arc::new(store), settings)
                .map(Self::Local)
                .map_err(|e| CliError::Unavailable(e.to_string())),
            Err(StoreError::Locked(path)) => {
                let server = runtime::read_server_file(&settings).ok_or_else(|| {
                    CliError::Unavailable(format!(
                        "the database at {path} is in use, but no running saidno server was found in {}",
                        settings.data_dir.display()
                    ))
                })?;
                let token = runtime::read_admin_token(&settings).ok_or_else(|| {
                    CliError::Unavailable("no admin token: set [admin] token or run saidno serve once".into())
                })?;
                Client::new(server.url, token).map(Self::Remote)
            }
            Err(error) => Err(CliError::Unavailable(error.to_string())),
        }
    }

    pub async fn decline(&self, new: NewDecline) -> Result<Saved<Decline>, CliError> {
        match self {
            Self::Local(service) => local(service.decline(new, Timestamp::now())),
            Self::Remote(client) => client.post("declines", &new).await,
        }
    }

    pub async fn remove_decline(&self, number: &str) -> Result<Decline, CliError> {
        match self {
            Self::Local(service) => local(service.remove_decline(number)),
            Self::Remote(client) => client.delete("declines", number).await,
        }
    }

    pub async fn declines(&self) -> Result<Vec<Decline>, CliError> {
        match self {
            Self::Local(service) => local(service.declines()),
            Self::Remote(client) => client.get("declines", &[]).await,
        }
    }

    pub async fn allow(&self, new: NewAllow) -> Result<Saved<Allow>, CliError> {
        match self {
            Self::Local(service) => local(service.allow(new, Timestamp::now())),
            Self::Remote(client) => client.post("allows", &new).await,
        }
    }

    pub async fn remove_allow(&self, number: &str) -> Result<Allow, CliError> {
        match self {
            Self::Local(service) => local(service.remove_allow(number)),
            Self::Remote(client) => client.delete("allows", number).await,
        }
    }

    pub async fn allows(&self) -> Result<Vec<Allow>, CliError> {
        match self {
            Self::Local(service) => local(service.allows()),
            Self::Remote(client) => client.get("allows", &[]).await,
        }
    }

    pub async fn calls(&self, query: CallQuery) -> Result<Vec<CallRecord>, CliError> {
        match self {
            Self::Local(service) => local(service.calls(query)),
            Self::Remote(client) => {
                let limit = query.limit.to_string();
                let since = query.since.map(|since| since.to_string());
                let mut params = vec![("limit", limit.as_str()), ("declined", bool_text(query.declined_only))];
                if let Some(since) = &since {
                    params.push(("since", since));
                }
                client.get("calls", &params).await
            }
        }
    }

    pub async fn check(&self, request: CheckRequest) -> Result<Preview, CliError> {
        match self {
            Self::Local(service) => local(service.check(request, Timestamp::now())),
            Self::Remote(client) => client.post("check", &request).await,
        }
    }

    /// Writes a backup of the whole database into `out`.
    pub async fn backup(&self, out: &mut impl std::io::Write) -> Result<(), CliError> {
        match self {
            Self::Local(service) => local(service.backup(out).map(drop)),
            Self::Remote(client) => client.download("backup", out).await,
        }
    }

    pub async fn set_paused(&self, paused: bool) -> Result<bool, CliError> {
        match self {
            Self::Local(service) => local(service.set_paused(paused)),
            Self::Remote(client) => {
                let state: PauseState = client.post("pause", &PauseState { paused }).await?;
                Ok(state.paused)
            }
        }
    }
}

fn bool_text(value: bool) -> &'static str {
    if value { "true" } else { "false" }
}

fn local<T>(result: Result<T, ServiceError>) -> Result<T, CliError> {
    result.map_err(|error| match error {
        ServiceError::Invalid { .. } => CliError::Invalid(error.to_string()),
        ServiceError::NotFound(message) => CliError::NotFound(message),
        ServiceError::Store(error) => CliError::Unavailable(error.to_string()),
    })
}
