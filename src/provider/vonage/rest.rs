//! Vonage's REST APIs, as far as saidno uses them, signed in with the API key and secret: the SMS
//! API for texts (`POST /sms/json`, a form carrying the key and secret), and, for `saidno
//! connect`, the Numbers API (which application a number is linked to) and the Applications API
//! (that application's voice webhooks). The SMS API answers `200` for every text it read and puts
//! the outcome in the body, one status per message part: `0` sent, `1` throttled, anything else
//! refused.

use serde_json::{Value, json};

use crate::config::Settings;
use crate::domain::PhoneNumber;
use crate::provider::api::{SendError, answer_body, http_client, unanswered, unreadable};
use crate::provider::setup::{Change, change, changes, read};

pub struct Sms {
    http: reqwest::Client,
    url: String,
    api_key: String,
    api_secret: String,
    /// The roots of the Numbers API and the Applications API.
    numbers: String,
    applications: String,
}

impl Sms {
    /// The client for the configured API key, or `None` when none is set.
    pub fn from_settings(settings: &Settings) -> Result<Option<Self>, String> {
        let vonage = &settings.vonage;
        let (api_key, api_secret) = (vonage.api_key.trim(), vonage.api_secret.trim());
        if api_key.is_empty() {
            return Ok(None);
        }
        if api_secret.is_empty() {
            return Err("texts through Vonage need vonage.api_secret as well as vonage.api_key".into());
        }
        let root = vonage.api_base_url.trim().trim_end_matches('/');
        let applications = vonage.applications_base_url.trim().trim_end_matches('/');
        Ok(Some(Self {
            http: http_client()?,
            url: format!("{root}/sms/json"),
            api_key: api_key.to_owned(),
            api_secret: api_secret.to_owned(),
            numbers: root.to_owned(),
            applications: format!("{applications}/v2/applications"),
        }))
    }

    /// Sends one text; returns the first part's message id.
    pub async fn send_text(&self, to: &PhoneNumber, from: &PhoneNumber, body: &str) -> Result<String, SendError> {
        // Vonage writes numbers as international digits without the `+`.
        let (to, from) = (to.as_str().trim_start_matches('+'), from.as_str().trim_start_matches('+'));
        let form = [
            ("api_key", self.api_key.as_str()),
            ("api_secret", &self.api_secret),
            ("from", from),
            ("to", to),
            ("text", body),
        ];
        let response = self.http.post(&self.url).form(&form).send().await.map_err(unanswered)?;
        outcome(&answer_body("Vonage", response, problem).await?)
    }
}

impl Sms {
    /// Points the voice webhooks of the application `number` is linked to at `routes` (and the
    /// fallback at `fallback`, when given), unless `dry_run`; says what changed.
    pub async fn connect(
        &self,
        number: &PhoneNumber,
        routes: &str,
        fallback: Option<&str>,
        dry_run: bool,
    ) -> Result<Vec<Change>, String> {
        let digits = number.as_str().trim_start_matches('+');
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("api_key", &self.api_key)
            .append_pair("api_secret", &self.api_secret)
            .append_pair("pattern", digits)
            .append_pair("search_pattern", "0")
            .finish();
        let request = self.http.get(format!("{}/account/numbers?{query}", self.numbers));
        let owned =
            read("Vonage", request).await.map_err(|error| error.or_missing(|| "Vonage has no numbers".into()))?;
        let line = owned["numbers"].as_array().into_iter().flatten().find(|line| line["msisdn"] == digits);
        let Some(line) = line else {
            return Err(format!("{number} is not a number of this Vonage account"));
        };
        let Some(application) = line["app_id"].as_str().filter(|id| !id.is_empty()) else {
            return Err(format!(
                "{number} is linked to no Voice application: link it to one in Vonage's dashboard first"
            ));
        };
        let url = format!("{}/{application}", self.applications);
        let mut current =
            read("Vonage", self.http.get(&url).basic_auth(&self.api_key, Some(&self.api_secret))).await.map_err(
                |error| error.or_missing(|| format!("the application {application} of {number} could not be found")),
            )?;
        let webhooks = &current["capabilities"]["voice"]["webhooks"];
        let address = |name: &str| webhooks[name]["address"].as_str().unwrap_or_default().to_owned();
        let method = |name: &str| webhooks[name]["http_method"].as_str().unwrap_or_default().to_owned();
        let mut wanted = vec![
            ("answer_url", address("answer_url"), format!("{routes}/answer")),
            ("answer_url http_method", method("answer_url"), "POST".to_owned()),
            ("event_url", address("event_url"), format!("{routes}/event")),
            ("event_url http_method", method("event_url"), "POST".to_owned()),
        ];
        if let Some(fallback) = fallback {
            wanted.push(("fallback_answer_url", address("fallback_answer_url"), fallback.to_owned()));
            wanted.push(("fallback_answer_url http_method", method("fallback_answer_url"), "POST".to_owned()));
        }
        let changes = changes(wanted);
        if dry_run || changes.is_empty() {
            return Ok(changes);
        }
        // The Applications API replaces the application whole: what is sent back is what was
        // read, with the webhooks changed, and with webhooks signed so that saidno can check them.
        for change in &changes {
            let (webhook, field) = change.setting.split_once(' ').unwrap_or((change.setting, "address"));
            current["capabilities"]["voice"]["webhooks"][webhook][field] = Value::String(change.to.clone());
        }
        current["capabilities"]["voice"]["signed_callbacks"] = Value::Bool(true);
        let application = json!({"name": current["name"], "capabilities": current["capabilities"]});
        let request = self.http.put(&url).basic_auth(&self.api_key, Some(&self.api_secret)).json(&application);
        change("Vonage", "the application", request).await?;
        Ok(changes)
    }
}

/// The text's outcome from the statuses of its parts.
fn outcome(sent: &Value) -> Result<String, SendError> {
    let parts = sent["messages"].as_array().filter(|parts| !parts.is_empty()).ok_or_else(|| unreadable("Vonage"))?;
    for part in parts {
        let detail =
            || format!("Vonage did not send the text: {}", part["error-text"].as_str().unwrap_or("no reason given"));
        match part["status"].as_str() {
            Some("0") => {}
            Some("1") => return Err(SendError::Retry { detail: detail(), retry_after: None }),
            _ => return Err(SendError::Refused { detail: detail() }),
        }
    }
    Ok(parts[0]["message-id"].as_str().unwrap_or_default().to_owned())
}

fn problem(body: &Value) -> Option<String> {
    body["error-text"].as_str().or(body["title"].as_str()).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_parts_status_decides_whether_the_text_went_or_is_tried_again() {
        let sent = json!({"message-count": "1", "messages": [{"status": "0", "message-id": "0A000000123ABCD1"}]});
        assert_eq!(outcome(&sent), Ok("0A000000123ABCD1".into()));
        let throttled = json!({"messages": [{"status": "1", "error-text": "Throughput Rate Exceeded"}]});
        assert!(matches!(outcome(&throttled), Err(SendError::Retry { .. })));
        let refused =
            json!({"messages": [{"status": "0", "message-id": "1"}, {"status": "6", "error-text": "Invalid Message"}]});
        assert!(matches!(outcome(&refused), Err(SendError::Refused { detail }) if detail.contains("Invalid Message")));
    }
}
