//! Plivo's REST API, as far as saidno uses it, signed in with the Auth ID and Auth Token: sending
//! a text (`POST /v1/Account/{auth_id}/Message/`, JSON), and, for `saidno connect`, reading a
//! number and its application and changing the application's webhooks.

use serde_json::{Value, json};

use crate::config::Settings;
use crate::domain::PhoneNumber;
use crate::provider::api::{SendError, answered, http_client, unanswered};
use crate::provider::setup::{Change, change, changes, read};

pub struct Api {
    http: reqwest::Client,
    /// `{api_base_url}/v1/Account/{auth_id}`.
    account: String,
    auth_id: String,
    auth_token: String,
}

impl Api {
    /// The client for the configured account, or `None` when no Auth ID is set.
    pub fn from_settings(settings: &Settings) -> Result<Option<Self>, String> {
        let plivo = &settings.plivo;
        let auth_id = plivo.auth_id.trim();
        if auth_id.is_empty() {
            return Ok(None);
        }
        let auth_token = plivo.auth_token.trim();
        if auth_token.is_empty() {
            return Err("texts through Plivo need plivo.auth_token as well as plivo.auth_id".into());
        }
        if !auth_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err("plivo.auth_id must be the Auth ID's letters and digits (MA... or SA...)".into());
        }
        let root = plivo.api_base_url.trim().trim_end_matches('/');
        Ok(Some(Self {
            http: http_client()?,
            account: format!("{root}/v1/Account/{auth_id}"),
            auth_id: auth_id.to_owned(),
            auth_token: auth_token.to_owned(),
        }))
    }

    /// Sends one text; returns the message's UUID.
    pub async fn send_text(&self, to: &PhoneNumber, from: &PhoneNumber, body: &str) -> Result<String, SendError> {
        // Plivo writes numbers as international digits without the `+`.
        let (src, dst) = (from.as_str().trim_start_matches('+'), to.as_str().trim_start_matches('+'));
        let message = json!({"src": src, "dst": dst, "text": body, "type": "sms"});
        let request = self.request(reqwest::Method::POST, "/Message/").json(&message);
        let response = request.send().await.map_err(unanswered)?;
        answered("Plivo", response, |queued| Some(queued["message_uuid"][0].as_str()?.to_owned()), problem).await
    }
}

impl Api {
    fn request(&self, method: reqwest::Method, resource: &str) -> reqwest::RequestBuilder {
        let url = format!("{}{resource}", self.account);
        self.http.request(method, url).basic_auth(&self.auth_id, Some(&self.auth_token))
    }

    /// Points the application that answers `number` at `routes` (and its fallback at
    /// `fallback`, when given), unless `dry_run`; says what changed.
    pub async fn connect(
        &self,
        number: &PhoneNumber,
        routes: &str,
        fallback: Option<&str>,
        dry_run: bool,
    ) -> Result<Vec<Change>, String> {
        let digits = number.as_str().trim_start_matches('+');
        let line = read("Plivo", self.request(reqwest::Method::GET, &format!("/Number/{digits}/")))
            .await
            .map_err(|error| error.or_missing(|| format!("{number} is not a number of this Plivo account")))?;
        // The number names its application by the application's address: `.../Application/{id}/`.
        let application = line["application"].as_str().and_then(|path| path.trim_end_matches('/').rsplit('/').next());
        let Some(application) = application.filter(|id| id.bytes().all(|b| b.is_ascii_digit()) && !id.is_empty())
        else {
            return Err(format!("{number} is on no application: attach it to one in Plivo's console first"));
        };
        let resource = format!("/Application/{application}/");
        let current = read("Plivo", self.request(reqwest::Method::GET, &resource)).await.map_err(|error| {
            error.or_missing(|| format!("the application {application} of {number} could not be found"))
        })?;
        let text = |name: &str| current[name].as_str().unwrap_or_default().to_owned();
        let mut wanted = vec![
            ("answer_url", text("answer_url"), format!("{routes}/voice")),
            ("answer_method", text("answer_method"), "POST".into()),
            ("message_url", text("message_url"), format!("{routes}/sms")),
            ("message_method", text("message_method"), "POST".into()),
        ];
        if let Some(fallback) = fallback {
            wanted.push(("fallback_answer_url", text("fallback_answer_url"), fallback.to_owned()));
            wanted.push(("fallback_method", text("fallback_method"), "POST".into()));
        }
        let changes = changes(wanted);
        if dry_run || changes.is_empty() {
            return Ok(changes);
        }
        // Only what changes is sent: the SDK's defaults would reset the application's other settings.
        let update: serde_json::Map<String, Value> =
            changes.iter().map(|change| (change.setting.to_owned(), Value::String(change.to.clone()))).collect();
        change("Plivo", "the application", self.request(reqwest::Method::POST, &resource).json(&update)).await?;
        Ok(changes)
    }
}

/// Plivo's error body: `{"api_id": "...", "error": "..."}`.
fn problem(body: &Value) -> Option<String> {
    body["error"].as_str().map(str::to_owned)
}
