//! SignalWire's Compatibility REST API, which is Twilio's in shape: texts are Twilio's Messages
//! resource under the Space's address, signed in as the project with an API token. Its published
//! description names the resources without Twilio's `.json`.

use crate::config::Settings;
use crate::provider::api::http_client;
use crate::provider::twilio::rest::{Account, RestClient};

/// The client for the configured project, or `None` when no project is configured.
pub fn client(settings: &Settings) -> Result<Option<RestClient>, String> {
    Ok(account(settings)?.map(|account| RestClient::of("SignalWire", account)))
}

/// The configured project as an account of Twilio's API shape, or `None` when none is configured.
pub fn account(settings: &Settings) -> Result<Option<Account>, String> {
    let signalwire = &settings.signalwire;
    let parts = [signalwire.space_url.trim(), signalwire.project.trim(), signalwire.api_token.trim()];
    if parts.iter().all(|part| part.is_empty()) {
        return Ok(None);
    }
    let [space, project, token] = parts;
    if parts.iter().any(|part| part.is_empty()) {
        return Err(
            "texts through SignalWire need signalwire.space_url, signalwire.project and signalwire.api_token".into()
        );
    }
    if !space.starts_with("https://") && !space.starts_with("http://") {
        return Err(format!(
            "signalwire.space_url must be the Space's address, such as https://example.signalwire.com, not {space:?}"
        ));
    }
    let base = format!("{}/api/laml/2010-04-01/Accounts/{project}", space.trim_end_matches('/'));
    let (user, secret) = (project.to_owned(), token.to_owned());
    Ok(Some(Account { http: http_client()?, base, user, secret, suffix: "" }))
}
