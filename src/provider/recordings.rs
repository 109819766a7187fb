//! Voicemail recordings, fetched from the provider that made them with the account's credentials,
//! for the owner to hear on the web page. Only a recording of a configured account is fetched, and
//! its address is rebuilt from the account's own: a recording URL a webhook named is never
//! requested as given, so nobody can make saidno fetch another address.
//!
//! Each provider says where its account keeps recordings and how it signs in to fetch one; the
//! rule that refuses every other address is here, the same for all of them.

use crate::config::Settings;
pub use crate::provider::recording_address::Unfetched;
use crate::provider::{plivo, telnyx, twilio, vonage};

/// The accounts whose recordings saidno can fetch.
#[derive(Default)]
pub struct Recordings {
    keepers: Vec<Keeper>,
}

/// An account that keeps recordings, as its provider reaches them.
enum Keeper {
    Twilio(twilio::recordings::Account),
    Telnyx(telnyx::recordings::Api),
    Plivo(plivo::recordings::Account),
    Vonage(vonage::recordings::Application),
}

/// One recording, ready to fetch: where to ask for it, built from the account's own address.
pub struct Recording<'a> {
    keeper: &'a Keeper,
    address: String,
}

impl Recordings {
    /// The configured accounts. One whose texts are not fully configured fetches nothing (its
    /// texts report why at start-up); a Vonage key that cannot sign is an error of its own, as
    /// nothing else uses it.
    pub fn from_settings(settings: &Settings) -> Result<Self, String> {
        let twilio = twilio::rest::Account::from_settings(settings).ok().flatten();
        let signalwire = crate::provider::signalwire::rest::account(settings).ok().flatten();
        let twilio_shaped = twilio.into_iter().chain(signalwire).map(|account| Keeper::Twilio(account.into()));
        let telnyx = telnyx::recordings::Api::from_settings(settings).ok().flatten().map(Keeper::Telnyx);
        let plivo = plivo::recordings::Account::from_settings(settings).ok().flatten().map(Keeper::Plivo);
        let vonage = vonage::recordings::Application::from_settings(settings)?.map(Keeper::Vonage);
        Ok(Self { keepers: twilio_shaped.chain(telnyx).chain(plivo).chain(vonage).collect() })
    }

    /// The recording at `url`, when it is one of a configured account's; `None` for any other
    /// address.
    pub fn find(&self, url: &str) -> Option<Recording<'_>> {
        self.keepers.iter().find_map(|keeper| {
            let address = match keeper {
                Keeper::Twilio(account) => account.find(url),
                Keeper::Telnyx(api) => api.find(url),
                Keeper::Plivo(account) => account.find(url),
                Keeper::Vonage(application) => application.find(url),
            }?;
            Some(Recording { keeper, address })
        })
    }
}

/// The file of a voicemail's words a provider keeps for a configured application, ready to fetch.
pub struct TranscriptFile<'a> {
    application: &'a vonage::recordings::Application,
    address: String,
}

impl Recordings {
    /// The file of words at `url`, when it is one of a configured application's; `None` for any
    /// other address, which is not fetched. Only Vonage sends the words as a file.
    pub fn transcript_file(&self, url: &str) -> Option<TranscriptFile<'_>> {
        self.keepers.iter().find_map(|keeper| match keeper {
            Keeper::Vonage(application) => application.find(url).map(|address| TranscriptFile { application, address }),
            _ => None,
        })
    }
}

impl TranscriptFile<'_> {
    /// The words, signed in as the application; none when nothing was said.
    pub async fn words(&self) -> Result<Option<String>, Unfetched> {
        vonage::transcripts::fetch(self.application, &self.address).await
    }
}

impl Recording<'_> {
    /// Asks the provider for the audio, signed in as the account: all of it, or the part of it
    /// `range` names (`bytes=0-1`), as a player seeking in it asks.
    pub async fn fetch(&self, range: Option<&str>) -> Result<reqwest::Response, Unfetched> {
        let address = &self.address;
        let request = match self.keeper {
            Keeper::Twilio(account) => account.get(address),
            Keeper::Plivo(account) => account.get(address),
            Keeper::Vonage(application) => application.get(address)?,
            Keeper::Telnyx(api) => api.media(address).await?,
        };
        let request = match range {
            Some(range) => request.header(reqwest::header::RANGE, range),
            None => request,
        };
        request.send().await.map_err(Unfetched::Unreachable)
    }
}
