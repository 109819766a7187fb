//! Telnyx's API v2, as far as saidno uses it, signed in with an API key: sending a text
//! (`POST /v2/messages`) from a number on a messaging profile, and, for `saidno connect`,
//! reading a number and its TeXML application and changing the application's webhooks.

use serde_json::{Value, json};

use crate::config::Settings;
use crate::domain::PhoneNumber;
use crate::provider::api::{SendError, answered, http_client, unanswered};
use crate::provider::setup::{Change, ReadError, change, changes, read};

/// The account's API: its root (`https://api.telnyx.com/v2`) and the key.
pub struct Api {
    http: reqwest::Client,
    root: String,
    api_key: String,
}

impl Api {
    /// The API for the configured key, or `None` when none is set.
    pub fn from_settings(settings: &Settings) -> Result<Option<Self>, String> {
        let api_key = settings.telnyx.api_key.trim();
        if api_key.is_empty() {
            return Ok(None);
        }
        let root = format!("{}/v2", settings.telnyx.api_base_url.trim().trim_end_matches('/'));
        Ok(Some(Self { http: http_client()?, root, api_key: api_key.to_owned() }))
    }

    /// The API's root, `https://api.telnyx.com/v2`.
    pub(super) fn root(&self) -> &str {
        &self.root
    }

    /// A `GET` of an address of the API's, signed in with the key.
    pub(super) fn get(&self, url: &str) -> reqwest::RequestBuilder {
        self.http.get(url).bearer_auth(&self.api_key)
    }

    /// A `GET` of an address outside the API, such as a signed download link: without the key,
    /// which is for Telnyx's API alone.
    pub(super) fn get_unsigned(&self, url: &str) -> reqwest::RequestBuilder {
        self.http.get(url)
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, format!("{}{path}", self.root)).bearer_auth(&self.api_key)
    }

    /// Sends one text; returns the message's id.
    pub async fn send_text(&self, to: &PhoneNumber, from: &PhoneNumber, body: &str) -> Result<String, SendError> {
        let message = json!({"from": from.as_str(), "to": to.as_str(), "text": body});
        let response =
            self.request(reqwest::Method::POST, "/messages").json(&message).send().await.map_err(unanswered)?;
        answered("Telnyx", response, |sent| Some(sent["data"]["id"].as_str()?.to_owned()), problem).await
    }

    /// Points the TeXML application that answers `number` at `routes` (and its fallback at
    /// `fallback`, when given), unless `dry_run`; says what changed.
    pub async fn connect(
        &self,
        number: &PhoneNumber,
        routes: &str,
        fallback: Option<&str>,
        dry_run: bool,
    ) -> Result<Vec<Change>, String> {
        let path = format!("/phone_numbers?filter[phone_number]={}", encoded(number.as_str()));
        let found = self.read(&path).await.map_err(|error| error.or_missing(|| "Telnyx has no numbers".into()))?;
        let Some(line) = found["data"].as_array().and_then(|numbers| numbers.first()) else {
            return Err(format!("{number} is not a number of this Telnyx account"));
        };
        let Some(application) = line["connection_id"].as_str().filter(|id| !id.is_empty()) else {
            return Err(format!("{number} is on no TeXML application: assign it to one in Mission Control first"));
        };
        let current = self.read(&format!("/texml_applications/{application}")).await.map_err(|error| {
            error.or_missing(|| {
                format!("{number} is answered by connection {application}, which is not a TeXML application")
            })
        })?;
        let current = &current["data"];
        let text = |name: &str| current[name].as_str().unwrap_or_default().to_owned();
        let mut wanted = vec![
            ("voice_url", text("voice_url"), format!("{routes}/voice")),
            ("voice_method", text("voice_method"), "post".into()),
        ];
        if let Some(fallback) = fallback {
            wanted.push(("voice_fallback_url", text("voice_fallback_url"), fallback.to_owned()));
        }
        let changes = changes(wanted);
        if dry_run || changes.is_empty() {
            return Ok(changes);
        }
        // The name is required on every change, so it is sent as it is.
        let mut update = json!({"friendly_name": text("friendly_name")});
        for change in &changes {
            update[change.setting] = Value::String(change.to.clone());
        }
        let path = format!("/texml_applications/{application}");
        change("Telnyx", "the application", self.request(reqwest::Method::PATCH, &path).json(&update)).await?;
        Ok(changes)
    }

    async fn read(&self, path: &str) -> Result<Value, ReadError> {
        read("Telnyx", self.request(reqwest::Method::GET, path)).await
    }
}

fn encoded(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Telnyx's error body: `{"errors": [{"code": "40310", "title": "...", "detail": "..."}]}`.
fn problem(body: &Value) -> Option<String> {
    let error = &body["errors"][0];
    let title = error["title"].as_str()?;
    Some(match (error["code"].as_str(), error["detail"].as_str()) {
        (Some(code), Some(detail)) => format!("error {code}: {title}: {detail}"),
        (Some(code), None) => format!("error {code}: {title}"),
        (None, _) => title.to_owned(),
    })
}
