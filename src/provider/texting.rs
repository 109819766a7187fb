//! Texts to the owner through a provider's REST API. The notifier sends through one account:
//! the first configured of Twilio, SignalWire, Telnyx, Plivo and Vonage, in that order.

use crate::config::Settings;
use crate::domain::PhoneNumber;
use crate::provider::{plivo, signalwire, telnyx, twilio, vonage};

pub use crate::provider::api::SendError;

/// One account that sends texts. Each keeps its secret to itself: neither `Debug` nor errors
/// show it.
pub enum Texter {
    /// Twilio, and SignalWire through its Twilio-compatible API.
    Twilio(twilio::rest::RestClient),
    Telnyx(telnyx::rest::Api),
    Plivo(plivo::rest::Api),
    Vonage(vonage::rest::Sms),
}

impl Texter {
    /// The first account configured to send texts, or `None` when there is none.
    pub fn from_settings(settings: &Settings) -> Result<Option<Self>, String> {
        if let Some(client) = twilio::rest::RestClient::from_settings(settings)? {
            return Ok(Some(Self::Twilio(client)));
        }
        if let Some(client) = signalwire::rest::client(settings)? {
            return Ok(Some(Self::Twilio(client)));
        }
        if let Some(messages) = telnyx::rest::Api::from_settings(settings)? {
            return Ok(Some(Self::Telnyx(messages)));
        }
        if let Some(api) = plivo::rest::Api::from_settings(settings)? {
            return Ok(Some(Self::Plivo(api)));
        }
        Ok(vonage::rest::Sms::from_settings(settings)?.map(Self::Vonage))
    }

    /// Sends one text; returns the provider's id for the message.
    pub async fn send_text(&self, to: &PhoneNumber, from: &PhoneNumber, body: &str) -> Result<String, SendError> {
        match self {
            Self::Twilio(client) => client.send_text(to, from, body).await,
            Self::Telnyx(messages) => messages.send_text(to, from, body).await,
            Self::Plivo(messages) => messages.send_text(to, from, body).await,
            Self::Vonage(sms) => sms.send_text(to, from, body).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_no_account_there_is_no_texter() {
        assert!(Texter::from_settings(&Settings::defaults()).unwrap().is_none());
    }
}
