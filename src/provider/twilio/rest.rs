//! Twilio's REST API, as far as saidno uses it: sending a text through the Messages resource.

use crate::config::{Settings, is_sid};
use crate::domain::PhoneNumber;
use crate::provider::api::{SendError, answered, http_client, unanswered};

/// The configured account: where its REST API answers, and the credentials to sign in with.
pub struct Account {
    pub http: reqwest::Client,
    /// `{api_base_url}/2010-04-01/Accounts/{AccountSid}`.
    pub base: String,
    pub user: String,
    pub secret: String,
    /// What ends a resource's path: Twilio's are `.json`; SignalWire's description has none.
    pub suffix: &'static str,
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
        let http = http_client()?;
        let root = twilio.api_base_url.trim().trim_end_matches('/');
        Ok(Some(Self {
            http,
            base: format!("{root}/2010-04-01/Accounts/{account}"),
            user: user.to_owned(),
            secret: secret.to_owned(),
            suffix: ".json",
        }))
    }

    /// A resource of the account: `url(".json")` is the account itself.
    pub fn url(&self, resource: &str) -> String {
        format!("{}{resource}", self.base)
    }

    /// A resource of the account by its name (`/Messages`), with the path's ending.
    pub fn resource(&self, name: &str) -> String {
        format!("{}{name}{}", self.base, self.suffix)
    }

    /// A GET signed in as the account.
    pub fn get(&self, url: &str) -> reqwest::RequestBuilder {
        self.http.get(url).basic_auth(&self.user, Some(&self.secret))
    }

    /// A POST signed in as the account.
    pub fn post(&self, url: &str) -> reqwest::RequestBuilder {
        self.http.post(url).basic_auth(&self.user, Some(&self.secret))
    }
}

/// Sends texts as the account. Keeps its secret to itself: neither `Debug` nor errors show it.
pub struct RestClient {
    provider: &'static str,
    http: reqwest::Client,
    messages_url: String,
    user: String,
    secret: String,
}

impl RestClient {
    /// The client for the configured account, or `None` when no account is configured. With an
    /// API key it signs in as the key; otherwise as the account with its auth token.
    pub fn from_settings(settings: &Settings) -> Result<Option<Self>, String> {
        let Some(account) = Account::from_settings(settings)? else { return Ok(None) };
        Ok(Some(Self::of("Twilio", account)))
    }

    /// A client for an account of Twilio's API shape.
    pub fn of(provider: &'static str, account: Account) -> Self {
        let messages_url = account.resource("/Messages");
        let Account { http, user, secret, .. } = account;
        Self { provider, http, messages_url, user, secret }
    }

    /// Sends one text; returns the message's SID.
    pub async fn send_text(&self, to: &PhoneNumber, from: &PhoneNumber, body: &str) -> Result<String, SendError> {
        let form = [("To", to.as_str()), ("From", from.as_str()), ("Body", body)];
        let request = self.http.post(&self.messages_url).basic_auth(&self.user, Some(&self.secret)).form(&form);
        let response = request.send().await.map_err(unanswered)?;
        answered(self.provider, response, |created| Some(created["sid"].as_str()?.to_owned()), problem).await
    }
}

/// The error body Twilio sends: `{"code": 21211, "message": "The 'To' number ... is not valid."}`.
fn problem(body: &serde_json::Value) -> Option<String> {
    let message = body["message"].as_str()?;
    Some(match body["code"].as_u64() {
        Some(code) => format!("error {code}: {message}"),
        None => message.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
