//! Where a Twilio account keeps recordings (SignalWire's project keeps them the same way): each is
//! a resource of the account, `{account}/Recordings/{Sid}`, and its audio is that resource with
//! `.mp3`, fetched signed in as the account.

use crate::provider::recording_address::identifier;
use crate::provider::twilio::rest;

pub struct Account(rest::Account);

impl From<rest::Account> for Account {
    fn from(account: rest::Account) -> Self {
        Self(account)
    }
}

impl Account {
    /// The audio's address, when `url` is one of the account's recordings. Twilio names the
    /// recording without an ending; one with `.mp3` or `.wav` is the same recording.
    pub fn find(&self, url: &str) -> Option<String> {
        let recordings = self.0.url("/Recordings/");
        let sid = identifier(url, &recordings, &[".mp3", ".wav"])?;
        Some(format!("{recordings}{sid}.mp3"))
    }

    pub fn get(&self, address: &str) -> reqwest::RequestBuilder {
        self.0.get(address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use crate::provider::recordings::Recordings;

    const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";

    fn twilio() -> Settings {
        let mut settings = Settings::defaults();
        settings.twilio.account_sid = ACCOUNT.into();
        settings.twilio.auth_token = "token".into();
        settings
    }

    fn recordings() -> Recordings {
        let mut settings = twilio();
        settings.signalwire.space_url = "https://example.signalwire.com".into();
        settings.signalwire.project = "b9a0f0e2-7a1c-4e55-9d7e-2c6b1f1f0a11".into();
        settings.signalwire.api_token = "PTsecret".into();
        Recordings::from_settings(&settings).unwrap()
    }

    #[test]
    fn only_the_accounts_own_recordings_are_fetched_and_at_an_address_saidno_builds() {
        let recordings = recordings();
        let twilio = format!(
            "https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/RE0123456789abcdef0123456789abcdef"
        );
        assert!(recordings.find(&twilio).is_some());
        assert!(recordings.find(&format!("{twilio}.wav")).is_some());
        let signalwire = "https://example.signalwire.com/api/laml/2010-04-01/Accounts/b9a0f0e2-7a1c-4e55-9d7e-2c6b1f1f0a11/Recordings/4b6f0d9e-1f43-4b8c-a1c2-0f4e9a1d2c3b";
        assert!(recordings.find(signalwire).is_some());
        let account = Account(
            rest::Account::from_settings(&{
                let mut settings = Settings::defaults();
                settings.twilio.account_sid = ACCOUNT.into();
                settings.twilio.auth_token = "token".into();
                settings
            })
            .unwrap()
            .unwrap(),
        );
        assert_eq!(account.find(&format!("{twilio}.wav")).unwrap(), format!("{twilio}.mp3"));
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
