//! Where a Plivo account keeps recordings: `https://media.plivo.com/v1/Account/{auth_id}/Recording/
//! {id}.mp3`, the address its `<Record>` callback names in `RecordUrl`, fetched signed in with the
//! Auth ID and Auth Token (which Plivo asks for once recordings are set to need authentication).

use crate::config::Settings;
use crate::provider::api::http_client;
use crate::provider::recording_address::identifier;

pub struct Account {
    http: reqwest::Client,
    /// `{media_base_url}/v1/Account/{auth_id}/Recording/`.
    recordings: String,
    auth_id: String,
    auth_token: String,
}

impl Account {
    /// The account, or `None` when no Auth ID is set.
    pub fn from_settings(settings: &Settings) -> Result<Option<Self>, String> {
        let plivo = &settings.plivo;
        let (auth_id, auth_token) = (plivo.auth_id.trim(), plivo.auth_token.trim());
        if auth_id.is_empty() || auth_token.is_empty() || !auth_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Ok(None);
        }
        let root = plivo.media_base_url.trim().trim_end_matches('/');
        Ok(Some(Self {
            http: http_client()?,
            recordings: format!("{root}/v1/Account/{auth_id}/Recording/"),
            auth_id: auth_id.to_owned(),
            auth_token: auth_token.to_owned(),
        }))
    }

    /// The audio's address, when `url` is one of the account's recordings.
    pub fn find(&self, url: &str) -> Option<String> {
        let id = identifier(url, &self.recordings, &[".mp3", ".wav"])?;
        Some(format!("{}{id}.mp3", self.recordings))
    }

    pub fn get(&self, address: &str) -> reqwest::RequestBuilder {
        self.http.get(address).basic_auth(&self.auth_id, Some(&self.auth_token))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> Account {
        let mut settings = Settings::defaults();
        settings.plivo.auth_id = "MAXXXXXXXXXXXXXXXXXX".into();
        settings.plivo.auth_token = "token".into();
        Account::from_settings(&settings).unwrap().unwrap()
    }

    #[test]
    fn only_the_accounts_own_recordings_on_plivos_media_host_are_fetched() {
        let account = account();
        let own =
            "https://media.plivo.com/v1/Account/MAXXXXXXXXXXXXXXXXXX/Recording/d405c4eb-d562-4399-af32-6ff3c57fa559";
        assert_eq!(account.find(&format!("{own}.mp3")).unwrap(), format!("{own}.mp3"));
        assert_eq!(account.find(&format!("{own}.wav")).unwrap(), format!("{own}.mp3"));
        for elsewhere in [
            "https://media.plivo.com/v1/Account/MAYYYYYYYYYYYYYYYYYY/Recording/d405c4eb.mp3",
            "https://media.plivo.com.evil.example/v1/Account/MAXXXXXXXXXXXXXXXXXX/Recording/d405c4eb.mp3",
            "https://media.plivo.com@evil.example/v1/Account/MAXXXXXXXXXXXXXXXXXX/Recording/d405c4eb.mp3",
            "https://api.plivo.com/v1/Account/MAXXXXXXXXXXXXXXXXXX/Recording/d405c4eb.mp3",
            "http://media.plivo.com/v1/Account/MAXXXXXXXXXXXXXXXXXX/Recording/d405c4eb.mp3",
            "https://media.plivo.com/v1/Account/MAXXXXXXXXXXXXXXXXXX/Recording/../Message/d405c4eb.mp3",
            "https://media.plivo.com/v1/Account/MAXXXXXXXXXXXXXXXXXX/Recording/d405c4eb.mp3?u=https://evil.example",
            "http://s3.amazonaws.com/recordings_2013/c2186400-1c8c-11e4-a664-0026b945b52x.mp3",
        ] {
            assert!(account.find(elsewhere).is_none(), "{elsewhere}");
        }
    }
}
