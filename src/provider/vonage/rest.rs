//! Vonage's SMS API, as far as saidno uses it: sending a text (`POST /sms/json`, a form carrying
//! the API key and secret). Vonage answers `200` for every text it read and puts the outcome in
//! the body, one status per message part: `0` sent, `1` throttled, anything else refused.

use serde_json::Value;

use crate::config::Settings;
use crate::domain::PhoneNumber;
use crate::provider::texting::{SendError, answer_body, http_client, unanswered, unreadable};

pub struct Sms {
    http: reqwest::Client,
    url: String,
    api_key: String,
    api_secret: String,
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
        let (api_key, api_secret) = (api_key.to_owned(), api_secret.to_owned());
        Ok(Some(Self { http: http_client()?, url: format!("{root}/sms/json"), api_key, api_secret }))
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
