//! The admin API's client, for the command line while the server runs.

use std::time::Duration;

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::{RequestBuilder, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::CliError;

pub struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

#[derive(serde::Deserialize)]
struct ErrorBody {
    error: String,
    #[serde(default)]
    rows: Vec<crate::service::RowProblem>,
}

impl Client {
    pub fn new(server_url: String, token: String) -> Result<Self, CliError> {
        let http = crate::tls::client_builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| CliError::Unavailable(e.to_string()))?;
        Ok(Self { http, base: format!("{}/api/v1", server_url.trim_end_matches('/')), token })
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str, params: &[(&str, &str)]) -> Result<T, CliError> {
        let query: Vec<String> = params.iter().map(|(name, value)| format!("{name}={}", encode(value))).collect();
        let url = format!("{}/{path}?{}", self.base, query.join("&"));
        self.send(self.http.get(url)).await
    }

    pub async fn post<T: DeserializeOwned>(&self, path: &str, body: &impl Serialize) -> Result<T, CliError> {
        self.send(self.http.post(format!("{}/{path}", self.base)).json(body)).await
    }

    pub async fn delete<T: DeserializeOwned>(&self, path: &str, item: &str) -> Result<T, CliError> {
        self.send(self.http.delete(format!("{}/{path}/{}", self.base, encode(item)))).await
    }

    pub async fn get_text(&self, path: &str, params: &[(&str, &str)]) -> Result<String, CliError> {
        let query: Vec<String> = params.iter().map(|(name, value)| format!("{name}={}", encode(value))).collect();
        let response = self.answered(self.http.get(format!("{}/{path}?{}", self.base, query.join("&")))).await?;
        response.text().await.map_err(|e| CliError::Unavailable(format!("the server's answer could not be read: {e}")))
    }

    pub async fn post_text<T: DeserializeOwned>(
        &self,
        path: &str,
        params: &[(&str, &str)],
        body: String,
    ) -> Result<T, CliError> {
        let query: Vec<String> = params.iter().map(|(name, value)| format!("{name}={}", encode(value))).collect();
        let request = self.http.post(format!("{}/{path}?{}", self.base, query.join("&"))).body(body);
        self.send(request).await
    }

    pub async fn put<T: DeserializeOwned>(&self, path: &str, body: &impl Serialize) -> Result<T, CliError> {
        self.send(self.http.put(format!("{}/{path}", self.base)).json(body)).await
    }

    pub async fn put_empty(&self, path: &str, body: &impl Serialize) -> Result<(), CliError> {
        self.answered(self.http.put(format!("{}/{path}", self.base)).json(body)).await.map(drop)
    }

    /// Streams a download into `out`.
    pub async fn download(&self, path: &str, out: &mut impl std::io::Write) -> Result<(), CliError> {
        let mut response = self.answered(self.http.get(format!("{}/{path}", self.base))).await?;
        let broken = |e: &dyn std::fmt::Display| CliError::Unavailable(format!("the download broke off: {e}"));
        while let Some(chunk) = response.chunk().await.map_err(|e| broken(&e))? {
            out.write_all(&chunk).map_err(|e| broken(&e))?;
        }
        Ok(())
    }

    async fn send<T: DeserializeOwned>(&self, request: RequestBuilder) -> Result<T, CliError> {
        self.answered(request)
            .await?
            .json()
            .await
            .map_err(|e| CliError::Unavailable(format!("the server's answer could not be read: {e}")))
    }

    /// Sends with the token; a response that is not a success becomes the error it names.
    async fn answered(&self, request: RequestBuilder) -> Result<reqwest::Response, CliError> {
        let response =
            request.bearer_auth(&self.token).send().await.map_err(|e| {
                CliError::Unavailable(format!("the saidno server at {} did not answer: {e}", self.base))
            })?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let message = match response.json::<ErrorBody>().await {
            Ok(body) if !body.rows.is_empty() => super::output::rejected_rows(&body.rows),
            Ok(body) => body.error,
            Err(_) => format!("the server answered {status}"),
        };
        Err(match status {
            StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => CliError::Invalid(message),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => CliError::Unauthorized(message),
            StatusCode::NOT_FOUND => CliError::NotFound(message),
            _ => CliError::Unavailable(message),
        })
    }
}

pub fn encode(value: &str) -> String {
    utf8_percent_encode(value, NON_ALPHANUMERIC).to_string()
}
