//! Voicemail recordings, fetched from the provider that made them with the account's credentials,
//! for the owner to hear on the web page. Only a recording of a configured account is fetched, and
//! its address is rebuilt from the account's own: a recording URL a webhook named is never
//! requested as given, so nobody can make saidno fetch another address.
//!
//! Twilio and SignalWire (Twilio's shape) are covered: a recording is a resource of the account,
//! `{account}/Recordings/{Sid}`, and its audio is that resource with `.mp3`.

use crate::config::Settings;
use crate::provider::twilio::rest::Account;

/// The accounts whose recordings saidno can fetch.
#[derive(Default)]
pub struct Recordings {
    accounts: Vec<Account>,
}

/// One recording, ready to fetch: the audio's address, built from the account's own.
pub struct Recording<'a> {
    account: &'a Account,
    audio: String,
}

impl Recordings {
    /// The configured accounts; one that is not fully configured fetches nothing (its texts report
    /// why at start-up).
    pub fn from_settings(settings: &Settings) -> Self {
        let twilio = Account::from_settings(settings).ok().flatten();
        let signalwire = crate::provider::signalwire::rest::account(settings).ok().flatten();
        Self { accounts: twilio.into_iter().chain(signalwire).collect() }
    }

    /// The recording at `url`, when it is one of a configured account's; `None` for any other
    /// address.
    pub fn find(&self, url: &str) -> Option<Recording<'_>> {
        self.accounts.iter().find_map(|account| {
            let recordings = account.url("/Recordings/");
            let name = url.strip_prefix(recordings.as_str())?;
            // Twilio names the recording without an ending; one with `.mp3` or `.wav` is the same.
            let sid = name.strip_suffix(".mp3").or_else(|| name.strip_suffix(".wav")).unwrap_or(name);
            let plain =
                !sid.is_empty() && sid.len() <= 64 && sid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
            plain.then(|| Recording { account, audio: format!("{recordings}{sid}.mp3") })
        })
    }
}

impl Recording<'_> {
    /// Asks the provider for the audio, signed in as the account: all of it, or the part of it
    /// `range` names (`bytes=0-1`), as a player seeking in it asks.
    pub async fn fetch(&self, range: Option<&str>) -> Result<reqwest::Response, reqwest::Error> {
        let mut request = self.account.get(&self.audio);
        if let Some(range) = range {
            request = request.header(reqwest::header::RANGE, range);
        }
        request.send().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";

    fn recordings() -> Recordings {
        let mut settings = Settings::defaults();
        settings.twilio.account_sid = ACCOUNT.into();
        settings.twilio.auth_token = "token".into();
        settings.signalwire.space_url = "https://example.signalwire.com".into();
        settings.signalwire.project = "b9a0f0e2-7a1c-4e55-9d7e-2c6b1f1f0a11".into();
        settings.signalwire.api_token = "PTsecret".into();
        Recordings::from_settings(&settings)
    }

    #[test]
    fn only_the_accounts_own_recordings_are_fetched_and_at_an_address_saidno_builds() {
        let recordings = recordings();
        let twilio = format!(
            "https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/RE0123456789abcdef0123456789abcdef"
        );
        assert_eq!(recordings.find(&twilio).unwrap().audio, format!("{twilio}.mp3"));
        assert_eq!(recordings.find(&format!("{twilio}.wav")).unwrap().audio, format!("{twilio}.mp3"));
        let signalwire = "https://example.signalwire.com/api/laml/2010-04-01/Accounts/b9a0f0e2-7a1c-4e55-9d7e-2c6b1f1f0a11/Recordings/4b6f0d9e-1f43-4b8c-a1c2-0f4e9a1d2c3b";
        assert_eq!(recordings.find(signalwire).unwrap().audio, format!("{signalwire}.mp3"));
        for elsewhere in [
            "https://evil.example/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Recordings/RE1",
            "https://api.twilio.com.evil.example/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Recordings/RE1",
            "https://api.twilio.com@evil.example/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Recordings/RE1",
            "https://api.twilio.com/2010-04-01/Accounts/AC99999999999999999999999999999999/Recordings/RE1",
            "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Recordings/RE1/../../Calls",
            "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Recordings/RE1?x=https://evil.example",
            "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Recordings/",
            "http://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Recordings/RE1",
        ] {
            assert!(recordings.find(elsewhere).is_none(), "{elsewhere}");
        }
        assert!(Recordings::default().find(&twilio).is_none(), "no account, nothing fetched");
    }
}
