//! Where a Vonage application keeps recordings: the `record` event names one as
//! `https://api.nexmo.com/v1/files/{id}`, or at the regional API host the call went through
//! (`api-us.nexmo.com`, `api-eu-3.vonage.com`, ...), and Vonage gives it only to a token the
//! application's private key signed.

use super::jwt::Signer;
use crate::config::Settings;
use crate::provider::api::http_client;
use crate::provider::recording_address::{Unfetched, identifier};

pub struct Application {
    http: reqwest::Client,
    /// The configured API's files, `{applications_base_url}/v1/files/`.
    files: String,
    signer: Signer,
}

impl Application {
    /// The application, or `None` when no application ID is set; an error when its key cannot be
    /// read or cannot sign.
    pub fn from_settings(settings: &Settings) -> Result<Option<Self>, String> {
        if !configured(settings) {
            return Ok(None);
        }
        let vonage = &settings.vonage;
        let (application_id, path) = (vonage.application_id.trim(), vonage.private_key_path.trim());
        let pem =
            std::fs::read(path).map_err(|why| format!("vonage.private_key_path {path:?} cannot be read: {why}"))?;
        let signer =
            Signer::new(application_id, &pem).map_err(|why| format!("vonage.private_key_path {path:?} {why}"))?;
        let root = vonage.applications_base_url.trim().trim_end_matches('/');
        Ok(Some(Self { http: http_client()?, files: format!("{root}/v1/files/"), signer }))
    }

    /// The file's address, when `url` is a file of the configured API or of one of Vonage's
    /// regional API hosts.
    pub fn find(&self, url: &str) -> Option<String> {
        if let Some(id) = identifier(url, &self.files, &[]) {
            return Some(format!("{}{id}", self.files));
        }
        let host = url.strip_prefix("https://")?.split('/').next()?;
        let files = format!("https://{}/v1/files/", regional(host)?);
        identifier(url, &files, &[]).map(|id| format!("{files}{id}"))
    }

    pub fn get(&self, address: &str) -> Result<reqwest::RequestBuilder, Unfetched> {
        let token = self.signer.token(jiff::Timestamp::now().as_second()).map_err(Unfetched::Refused)?;
        Ok(self.http.get(address).bearer_auth(token))
    }
}

/// Whether the application's ID and private key are set, so that its files can be fetched: a key
/// that cannot sign stops the start, so a running saidno configured so can fetch them.
pub fn configured(settings: &Settings) -> bool {
    let vonage = &settings.vonage;
    !vonage.application_id.trim().is_empty() && !vonage.private_key_path.trim().is_empty()
}

/// `host` when it is one of Vonage's API hosts: `api.nexmo.com`, or `api-` and a region's name
/// (letters, digits, `-`) under `nexmo.com` or `vonage.com`.
fn regional(host: &str) -> Option<&str> {
    let region = ["nexmo.com", "vonage.com"]
        .iter()
        .find_map(|domain| host.strip_suffix(domain)?.strip_suffix('.')?.strip_prefix("api-"));
    let named = region.is_some_and(|region| {
        !region.is_empty() && region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    });
    (host == "api.nexmo.com" || named).then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn application() -> Application {
        let mut settings = Settings::defaults();
        settings.vonage.application_id = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab".into();
        settings.vonage.private_key_path =
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/vonage-application-private.pem").into();
        Application::from_settings(&settings).unwrap().unwrap()
    }

    #[test]
    fn only_files_on_vonages_own_api_hosts_are_fetched() {
        let application = application();
        for own in [
            "https://api.nexmo.com/v1/files/aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
            "https://api-us.nexmo.com/v1/files/aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
            "https://api-eu-3.vonage.com/v1/files/aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
        ] {
            assert_eq!(application.find(own).as_deref(), Some(own));
        }
        for elsewhere in [
            "https://api.nexmo.com.evil.example/v1/files/aaaaaaaa",
            "https://api.nexmo.com@evil.example/v1/files/aaaaaaaa",
            "https://api-us.nexmo.com.evil.example/v1/files/aaaaaaaa",
            "https://evilnexmo.com/v1/files/aaaaaaaa",
            "https://api-.nexmo.com/v1/files/aaaaaaaa",
            "https://api-x.evil.nexmo.com/v1/files/aaaaaaaa",
            "https://api-x.nexmo.com:8443/v1/files/aaaaaaaa",
            "https://rest.nexmo.com/v1/files/aaaaaaaa",
            "http://api.nexmo.com/v1/files/aaaaaaaa",
            "https://api.nexmo.com/v1/files/aaaaaaaa/../../applications",
            "https://api.nexmo.com/v1/files/aaaaaaaa?x=1",
            "https://api.nexmo.com/v1/files/",
            "https://api.nexmo.com/v2/applications/aaaaaaaa",
        ] {
            assert_eq!(application.find(elsewhere), None, "{elsewhere}");
        }
    }

    #[test]
    fn a_key_that_cannot_sign_is_refused_at_start_with_the_reason() {
        let mut settings = Settings::defaults();
        settings.vonage.application_id = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab".into();
        settings.vonage.private_key_path = "/nonexistent/private.key".into();
        let error = Application::from_settings(&settings).err().unwrap();
        assert!(error.contains("cannot be read"), "{error}");
        settings.vonage.private_key_path = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml").into();
        let error = Application::from_settings(&settings).err().unwrap();
        assert!(error.contains("is not a private key"), "{error}");
    }
}
