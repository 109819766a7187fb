//! What every call saidno makes to a provider's REST API shares: the HTTP client, and how an
//! answer to a sent text becomes its id or the reason it was not sent.

use std::time::Duration;

use jiff::Timestamp;
use reqwest::StatusCode;
use reqwest::header::RETRY_AFTER;

/// Providers answer in well under a second; past this, try again later.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth trying again: the provider was busy (5xx), asked to slow down (429), or could not
    /// be reached.
    #[error("{detail}")]
    Retry { detail: String, retry_after: Option<Duration> },
    /// The provider refused the text as written (a 4xx other than 429); trying again would not help.
    #[error("{detail}")]
    Refused { detail: String },
}

/// The HTTP client every provider's REST API is called with.
pub fn http_client() -> Result<reqwest::Client, String> {
    crate::tls::client_builder()
        .timeout(REQUEST_TIMEOUT)
        .user_agent(concat!("saidno/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|error| format!("the HTTP client could not start: {}", error.without_url()))
}

/// A request that never got an answer: worth trying again.
pub fn unanswered(error: reqwest::Error) -> SendError {
    SendError::Retry { detail: error.without_url().to_string(), retry_after: None }
}

/// The message's id from a successful answer, or why the text was not sent. `id` reads the
/// provider's answer; `problem` its error body, in words for the log.
pub async fn answered(
    provider: &str,
    response: reqwest::Response,
    id: impl FnOnce(&serde_json::Value) -> Option<String>,
    problem: impl FnOnce(&serde_json::Value) -> Option<String>,
) -> Result<String, SendError> {
    let body = answer_body(provider, response, problem).await?;
    id(&body).ok_or_else(|| unreadable(provider))
}

/// The body of a successful answer, or why the text was not sent.
pub async fn answer_body(
    provider: &str,
    response: reqwest::Response,
    problem: impl FnOnce(&serde_json::Value) -> Option<String>,
) -> Result<serde_json::Value, SendError> {
    let status = response.status();
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| retry_after(value, Timestamp::now()));
    let body: Option<serde_json::Value> = response.json().await.ok();
    if status.is_success() {
        return body.ok_or_else(|| unreadable(provider));
    }
    let mut detail = format!("{provider} answered {status}");
    if let Some(problem) = body.as_ref().and_then(problem) {
        detail.push_str(&format!(": {problem}"));
    }
    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        Err(SendError::Retry { detail, retry_after })
    } else {
        Err(SendError::Refused { detail })
    }
}

/// A successful answer that does not say what was sent: the text may not have gone.
pub fn unreadable(provider: &str) -> SendError {
    SendError::Retry { detail: format!("{provider}'s answer to a sent text could not be read"), retry_after: None }
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
}
