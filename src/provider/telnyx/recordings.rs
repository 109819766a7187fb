//! Where a Telnyx account keeps the recordings of its TeXML calls. The `RecordingUrl` a `<Record>`
//! callback names is a download link that expires ten minutes after the call, so the voicemail is
//! kept as the recording's resource in the TeXML API instead,
//! `/v2/texml/Accounts/{AccountSid}/Recordings/{RecordingSid}.json`, read with the API key when
//! the owner plays it: it names a fresh `media_url` to download the audio from.

use super::rest;
use crate::config::Settings;
use crate::provider::recording_address::{Unfetched, identifier};

/// The recording's resource in the TeXML API under `root` (`https://api.telnyx.com`), when both
/// identifiers are plain.
pub fn resource(root: &str, account: &str, recording: &str) -> Option<String> {
    let plain = |id: &str| identifier(id, "", &[]).is_some();
    let root = root.trim().trim_end_matches('/');
    (plain(account) && plain(recording))
        .then(|| format!("{root}/v2/texml/Accounts/{account}/Recordings/{recording}.json"))
}

/// The account's API, as it reads recordings.
pub struct Api(rest::Api);

impl Api {
    /// The API for the configured key, or `None` when none is set.
    pub fn from_settings(settings: &Settings) -> Result<Option<Self>, String> {
        Ok(rest::Api::from_settings(settings)?.map(Self))
    }

    /// The API's root without its version, as a recording's resource is built from it.
    fn root(&self) -> &str {
        let root = self.0.root();
        root.strip_suffix("/v2").unwrap_or(root)
    }

    /// The recording's resource, when `url` is one. The API key reads only its own account's, so
    /// another account's is refused by Telnyx itself.
    pub fn find(&self, url: &str) -> Option<String> {
        let accounts = format!("{}/v2/texml/Accounts/", self.root());
        let (account, _) = url.strip_prefix(accounts.as_str())?.split_once('/')?;
        let recordings = format!("{accounts}{account}/Recordings/");
        let recording = identifier(url, &recordings, &[".json"])?;
        url.ends_with(".json").then(|| resource(self.root(), account, recording)).flatten()
    }

    /// The request for the audio: the resource is read with the key, and its `media_url` is
    /// asked for without it, as it carries its own signature and the key is for Telnyx's API only.
    pub async fn media(&self, resource: &str) -> Result<reqwest::RequestBuilder, Unfetched> {
        let answer = self.0.get(resource).send().await.map_err(Unfetched::Unreachable)?;
        if !answer.status().is_success() {
            return Err(Unfetched::Refused(format!("the recording was not found ({})", answer.status())));
        }
        let recording: serde_json::Value = answer.json().await.map_err(Unfetched::Unreachable)?;
        let media = recording["media_url"].as_str().unwrap_or_default();
        // The link keeps to the API's own scheme: from an `https` API, only an `https` link.
        let scheme = self.root().split_once("://").map_or("https", |(scheme, _)| scheme);
        if !media.strip_prefix(scheme).is_some_and(|rest| rest.starts_with("://")) {
            return Err(Unfetched::Refused("the recording names no audio to download".into()));
        }
        Ok(self.0.get_unsigned(media))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCOUNT: &str = "61bf923e-5e4d-4595-a110-56190ea18a1b";
    const RECORDING: &str = "b08f0fa1-a32c-4218-b3b5-9cf78941ccac";

    fn api() -> Api {
        let mut settings = Settings::defaults();
        settings.telnyx.api_key = "KEY0123".into();
        Api::from_settings(&settings).unwrap().unwrap()
    }

    #[test]
    fn only_a_recording_resource_of_telnyxs_texml_api_is_read() {
        let api = api();
        let own = resource("https://api.telnyx.com", ACCOUNT, RECORDING).unwrap();
        assert_eq!(own, format!("https://api.telnyx.com/v2/texml/Accounts/{ACCOUNT}/Recordings/{RECORDING}.json"));
        assert_eq!(api.find(&own), Some(own.clone()));
        assert_eq!(resource("https://api.telnyx.com", "../x", RECORDING), None);
        assert_eq!(resource("https://api.telnyx.com", ACCOUNT, "a?b"), None);
        for elsewhere in [
            format!("https://api.telnyx.com.evil.example/v2/texml/Accounts/{ACCOUNT}/Recordings/{RECORDING}.json"),
            format!("https://api.telnyx.com@evil.example/v2/texml/Accounts/{ACCOUNT}/Recordings/{RECORDING}.json"),
            format!("http://api.telnyx.com/v2/texml/Accounts/{ACCOUNT}/Recordings/{RECORDING}.json"),
            format!("https://api.telnyx.com/v2/texml/Accounts/{ACCOUNT}/Recordings/{RECORDING}"),
            format!("https://api.telnyx.com/v2/texml/Accounts/{ACCOUNT}/Calls/{RECORDING}.json"),
            format!("https://api.telnyx.com/v2/texml/Accounts/../Recordings/{RECORDING}.json"),
            format!("https://api.telnyx.com/v2/texml/Accounts/{ACCOUNT}/Recordings/{RECORDING}.json?x=1"),
            "https://s3.amazonaws.com/telnyx-recordings/b08f0fa1.mp3?X-Amz-Signature=abc".to_owned(),
        ] {
            assert_eq!(api.find(&elsewhere), None, "{elsewhere}");
        }
    }
}
