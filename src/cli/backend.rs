//! Where the command line's changes go: the store itself, or the running server that holds it.

use std::sync::Arc;

use jiff::Timestamp;

use super::CliError;
use super::client::{self, Client};
use crate::config::Settings;
use crate::domain::{Allow, CallRecord, Decline};
use crate::http::api::PauseState;
use crate::runtime;
use crate::service::{CheckRequest, NewAllow, NewDecline, Preview, Saved, Service, ServiceError};
use crate::service::{DeclineEntry, Format, ImportReport, LegalHoldState};
use crate::store::{CallQuery, StoreError, open_store};

pub enum Backend {
    Local(Service),
    Remote(Client),
}

impl Backend {
    /// Opens the store; if a server has the embedded store open (it admits one process), talks to
    /// that server, whose copy of the owner's record in memory then follows every change. A
    /// PostgreSQL database is opened here as by any other process: the servers on it follow the
    /// changes made here as they follow each other's.
    pub fn connect(settings: Arc<Settings>) -> Result<Self, CliError> {
        match open_store(&settings.store, &settings.database_path()) {
            Ok(store) => {
                Service::open(store, settings).map(Self::Local).map_err(|e| CliError::Unavailable(e.to_string()))
            }
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
            Err(error) => Err(unavailable(&error)),
        }
    }

    pub async fn decline(&self, new: NewDecline) -> Result<Saved<Decline>, CliError> {
        match self {
            Self::Local(service) => local(service.decline(new, Timestamp::now()).await),
            Self::Remote(client) => client.post("declines", &new).await,
        }
    }

    pub async fn remove_decline(&self, number: &str) -> Result<Decline, CliError> {
        match self {
            Self::Local(service) => local(service.remove_decline(number).await),
            Self::Remote(client) => client.delete("declines", number).await,
        }
    }

    pub async fn declines(&self) -> Result<Vec<DeclineEntry>, CliError> {
        match self {
            Self::Local(service) => local(service.decline_list().await),
            Self::Remote(client) => client.get("declines", &[]).await,
        }
    }

    pub async fn export_declines(&self, format: Format) -> Result<String, CliError> {
        match self {
            Self::Local(service) => local(service.export_declines(format).await),
            Self::Remote(client) => client.get_text("declines/export", &[("format", format_name(format))]).await,
        }
    }

    pub async fn import_declines(
        &self,
        text: String,
        format: Format,
        skip_bad_rows: bool,
    ) -> Result<ImportReport, CliError> {
        match self {
            Self::Local(service) => local(service.import_declines(text, format, skip_bad_rows).await),
            Self::Remote(client) => {
                let params = [("format", format_name(format)), ("skip_bad_rows", bool_text(skip_bad_rows))];
                client.post_text("declines/import", &params, text).await
            }
        }
    }

    pub async fn export_calls(&self, since: Option<Timestamp>, until: Option<Timestamp>) -> Result<String, CliError> {
        match self {
            Self::Local(service) => local(service.export_calls(since, until).await),
            Self::Remote(client) => {
                let since = since.map(|at| at.to_string());
                let until = until.map(|at| at.to_string());
                let mut params = Vec::new();
                if let Some(since) = &since {
                    params.push(("since", since.as_str()));
                }
                if let Some(until) = &until {
                    params.push(("until", until.as_str()));
                }
                client.get_text("calls/export", &params).await
            }
        }
    }

    /// A company's evidence as CSV, by its name or one of its numbers.
    pub async fn evidence(&self, company_or_number: &str) -> Result<String, CliError> {
        match self {
            Self::Local(service) => {
                let party = local(service.party_for(company_or_number).await)?;
                local(service.evidence_csv(&party).await)
            }
            Self::Remote(client) => {
                let party = remote_party(client, company_or_number).await?;
                client.get_text(&format!("companies/{}/evidence", client::encode(&party)), &[]).await
            }
        }
    }

    /// Places or lifts a company's legal hold, by its name or one of its numbers.
    pub async fn set_legal_hold(&self, company_or_number: &str, held: bool) -> Result<LegalHoldState, CliError> {
        match self {
            Self::Local(service) => {
                let party = local(service.hold_party_for(company_or_number).await)?;
                local(service.set_legal_hold(&party, held, Timestamp::now()).await)
            }
            Self::Remote(client) => {
                let party = match remote_party(client, company_or_number).await {
                    Ok(party) => party,
                    // A company still held after its declines were removed is found among the holds.
                    Err(not_found) => {
                        let by_name = crate::domain::party_key(Some(company_or_number), "");
                        let holds: Vec<LegalHoldState> = client.get("legal-holds", &[]).await?;
                        holds.into_iter().find(|hold| hold.key == by_name).map(|hold| hold.key).ok_or(not_found)?
                    }
                };
                let path = format!("companies/{}/legal-hold", client::encode(&party));
                client.put(&path, &crate::http::api::LegalHoldChange { held }).await
            }
        }
    }

    pub async fn legal_holds(&self) -> Result<Vec<LegalHoldState>, CliError> {
        match self {
            Self::Local(service) => local(service.legal_holds().await),
            Self::Remote(client) => client.get("legal-holds", &[]).await,
        }
    }

    pub async fn set_password(&self, password: String) -> Result<(), CliError> {
        match self {
            Self::Local(service) => local(service.set_password(&password).await),
            Self::Remote(client) => {
                client.put_empty("admin/password", &serde_json::json!({ "password": password })).await
            }
        }
    }

    pub async fn allow(&self, new: NewAllow) -> Result<Saved<Allow>, CliError> {
        match self {
            Self::Local(service) => local(service.allow(new, Timestamp::now()).await),
            Self::Remote(client) => client.post("allows", &new).await,
        }
    }

    pub async fn remove_allow(&self, number: &str) -> Result<Allow, CliError> {
        match self {
            Self::Local(service) => local(service.remove_allow(number).await),
            Self::Remote(client) => client.delete("allows", number).await,
        }
    }

    pub async fn allows(&self) -> Result<Vec<Allow>, CliError> {
        match self {
            Self::Local(service) => local(service.allows().await),
            Self::Remote(client) => client.get("allows", &[]).await,
        }
    }

    pub async fn calls(&self, query: CallQuery) -> Result<Vec<CallRecord>, CliError> {
        match self {
            Self::Local(service) => local(service.calls(query).await),
            Self::Remote(client) => {
                // The command line asks for the newest calls, optionally refused only, since a time.
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
            Self::Local(service) => local(service.check(request, Timestamp::now()).await),
            Self::Remote(client) => client.post("check", &request).await,
        }
    }

    /// Writes a backup of the whole database into `out`.
    pub async fn backup(&self, out: &mut impl std::io::Write) -> Result<(), CliError> {
        match self {
            // Blocks while it reads the store; the command line has nothing else to run meanwhile.
            Self::Local(service) => local(service.backup(out).map(drop)),
            Self::Remote(client) => client.download("backup", out).await,
        }
    }

    pub async fn set_paused(&self, paused: bool) -> Result<bool, CliError> {
        match self {
            Self::Local(service) => {
                local(service.set_paused(paused, crate::domain::Channel::CommandLine, Timestamp::now()).await)
            }
            Self::Remote(client) => {
                let state: PauseState = client.post("pause", &PauseState { paused }).await?;
                Ok(state.paused)
            }
        }
    }
}

/// A declined party's key, found among the server's companies by name or by one of its numbers.
async fn remote_party(client: &Client, company_or_number: &str) -> Result<String, CliError> {
    let companies: Vec<crate::service::CompanySummary> = client.get("companies", &[]).await?;
    let wanted = crate::domain::company_key(company_or_number);
    companies
        .iter()
        .find(|c| crate::domain::company_key(&c.name) == wanted || c.numbers.iter().any(|n| n == company_or_number))
        .map(|c| c.key.clone())
        .ok_or_else(|| CliError::NotFound(format!("no declined company called {company_or_number:?}")))
}

fn format_name(format: Format) -> &'static str {
    match format {
        Format::Csv => "csv",
        Format::Json => "json",
    }
}

fn bool_text(value: bool) -> &'static str {
    if value { "true" } else { "false" }
}

pub(super) fn local<T>(result: Result<T, ServiceError>) -> Result<T, CliError> {
    result.map_err(|error| match error {
        ServiceError::Invalid { .. } => CliError::Invalid(error.to_string()),
        ServiceError::Rejected(rows) => CliError::Invalid(super::output::rejected_rows(&rows)),
        ServiceError::NotFound(message) => CliError::NotFound(message),
        ServiceError::Store(error) => unavailable(&error),
    })
}

/// The command line is run by whoever runs the server: it says why the database failed as well.
pub(super) fn unavailable(error: &StoreError) -> CliError {
    CliError::Unavailable(match error.unreachable_refusal() {
        Some(refusal) => format!("{refusal} ({error})"),
        None => error.to_string(),
    })
}
