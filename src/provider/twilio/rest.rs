//! Twilio's REST API, as far as saidno uses it: sending a text through the Messages resource.

use std::time::Duration;

use jiff::Timestamp;
use reqwest::StatusCode;
use reqwest::header::RETRY_AFTER;
use serde::Deserialize;

use crate::config::{Settings, is_sid};
use crate::domain::PhoneNumber;

/// Twilio answers in well under a second; past this, try again later.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// The configured account: where its REST API answers, and the credentials to sign in with.
pub struct Account {
    pub http: reqwest::Client,
    /// `{api_base_url}/2010-04-01/Accounts/{AccountSid}`.
    pub base: String,
    pub user: String,
    pub secret: String,
}

impl Account {
    /// The account, or `None` when none is configured. With an API key it signs in as the key;
    /// otherwise as the account with its auth token.
    pub fn from_settings(settings: &Settings) -> Result<Option<Self>, String> {
        let twilio = &settings.twilio;
        let account = twilio.account_sid.trim();
        if account.is_empty() {
            return Ok(None);
        }
        let (user, secret) = match (twilio.api_key_sid.trim(), twilio.api_key_secret.trim()) {
            ("", _) => (account, twilio.auth_token.trim()),
            (key, secret) if is_sid(key, "SK") && !secret.is_empty() => (key, secret),
            _ => return Err("twilio.api_key_sid must be SK followed by 32 hexadecimal digits, with its secret".into()),
        };
        if secret.is_empty() {
            return Err("the REST API needs twilio.auth_token, or an API key (api_key_sid and api_key_secret)".into());
        }
        let http = crate::tls::client_builder()
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("saidno/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| format!("the HTTP client could not start: {}", error.without_url()))?;
        let root = twilio.api_base_url.trim().trim_end_matches('/');
        Ok(Some(Self {
            http,
            base: format!("{root}/2010-04-01/Accounts/{account}"),
            user: user.to_owned(),
            secret: secret.to_owned(),
        }))
    }

    /// A resource of the account: `url(".json")` is the account itself.
    pub fn url(&self, resource: &str) -> String {
        format!("{}{resource}", self.base)
    }

    /// A GET signed in as the account.
    pub fn get(&self, url: &str) -> reqwest::RequestBuilder {
        self.http.get(url).basic_auth(&self.user, Some(&self.secret))
    }
}

/// Sends texts as the account. Keeps its secret to itself: neither `Debug` nor errors show it.
pub struct RestClient {
    http: reqwest::Client,
    messages_url: String,
    user: String,
    secret: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth trying again: Twilio was busy (5xx), asked to slow down (429), or could not be reached.
    #[error("{detail}")]
    Retry { detail: String, retry_after: Option<Duration> },
    /// Twilio refused the text as written (a 4xx other than 429); trying again would not help.
    #[error("{detail}")]
    Refused { detail: String },
}

#[derive(Deserialize)]
struct Created {
    sid: String,
}

/// The error body Twilio sends: `{"code": 21211, "message": "The 'To' number ... is not valid."}`.
#[derive(Deserialize)]
struct Problem {
    #[serde(default)]
    code: Option<u64>,
    #[serde(default)]
    message: Option<String>,
}

impl RestClient {
    /// The client for the configured account, or `None` when no account is configured. With an
    /// API key it signs in as the key; otherwise as the account with its auth token.
    pub fn from_settings(settings: &Settings) -> Result<Option<Self>, String> {
        let Some(account) = Account::from_settings(settings)? else { return Ok(None) };
        Ok(Some(Self {
            messages_url: account.url("/Messages.json"),
            http: account.http,
            user: account.user,
            secret: account.secret,
        }))
    }

    /// Sends one text; returns the message's SID.
    pub async fn send_text(&self, to: &PhoneNumber, from: &PhoneNumber, body: &str) -> Result<String, SendError> {
        let form = [("To", to.as_str()), ("From", from.as_str()), ("Body", body)];
        let response = self
            .http
            .post(&self.messages_url)
            .basic_auth(&self.user, Some(&self.secret))
            .form(&form)
            .send()
            .await
            .map_err(|error| SendError::Retry { detail: error.without_url().to_string(), retry_after: None })?;
        let status = response.status();
        if status.is_success() {
            let created: Created = response.json().await.map_err(|error| SendError::Retry {
                detail: format!("the answer to a sent text could not be read: {}", error.without_url()),
                retry_after: None,
            })?;
            return Ok(created.sid);
        }
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| retry_after(value, Timestamp::now()));
        let problem: Option<Problem> = response.json().await.ok();
        let detail = describe(status, problem);
        if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            Err(SendError::Retry { detail, retry_after })
        } else {
            Err(SendError::Refused { detail })
        }
    }
}

fn describe(status: StatusCode, problem: Option<Problem>) -> String {
    let mut detail = format!("Twilio answered {status}");
    if let Some(problem) = problem {
        if let Some(code) = problem.code {
            detail.push_str(&format!(", error {code}"));
        }
        if let Some(message) = problem.message {
            detail.push_str(&format!(": {message}"));
        }
    }
    detail
}

/// `Retry-After` as seconds or as an HTTP date.
pub fn retry_after(value: &str, now: Timestamp) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    Some(Duration::try_from(at.duration_since(now)).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now: Timestamp = "2026-11-25T14:00:00Z".parse().unwrap();
        assert_eq!(retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(retry_after("Wed, 25 Nov 2026 14:00:30 GMT", now), Some(Duration::from_secs(30)));
        assert_eq!(retry_after("Wed, 25 Nov 2026 13:00:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(retry_after("soon", now), None);
    }

    #[tokio::test]
    async fn an_unreachable_api_is_worth_retrying_and_the_error_shows_no_secret() {
        let mut settings = Settings::defaults();
        settings.twilio.account_sid = format!("AC{}", "0".repeat(32));
        settings.twilio.auth_token = "token-very-secret".into();
        settings.twilio.api_base_url = "http://127.0.0.1:9".into();
        let client = RestClient::from_settings(&settings).unwrap().unwrap();
        let number = PhoneNumber::from_e164("+447700900123").unwrap();
        let error = client.send_text(&number, &number, "hello").await.unwrap_err();
        assert!(matches!(error, SendError::Retry { .. }), "{error:?}");
        assert!(!error.to_string().contains("very-secret"), "{error}");
    }

    #[test]
    fn an_api_key_needs_its_secret_and_the_right_shape() {
        let mut settings = Settings::defaults();
        assert!(RestClient::from_settings(&settings).unwrap().is_none());
        settings.twilio.account_sid = format!("AC{}", "0".repeat(32));
        assert!(RestClient::from_settings(&settings).is_err(), "no auth token and no key");
        settings.twilio.api_key_sid = "SK123".into();
        settings.twilio.api_key_secret = "secret-value".into();
        let error = RestClient::from_settings(&settings).err().unwrap();
        assert!(!error.contains("secret-value"), "{error}");
        settings.twilio.api_key_sid = format!("SK{}", "a".repeat(32));
        assert!(RestClient::from_settings(&settings).unwrap().is_some());
    }
}
