//! `saidno connect PROVIDER NUMBER`: one number's webhooks pointed at saidno through the
//! provider's REST API, for the providers whose API can do it.

use crate::config::Settings;
use crate::domain::PhoneNumber;
use crate::provider::setup::Change;
use crate::provider::{plivo, signalwire, telnyx, twilio, vonage};

/// The providers a number can be connected for.
pub const PROVIDERS: [&str; 5] = ["twilio", "signalwire", "telnyx", "plivo", "vonage"];

/// Points `number` at saidno (unless `dry_run`) and says what changed, or would.
pub async fn connect(
    settings: &Settings,
    provider: &str,
    number: &PhoneNumber,
    fallback: Option<&str>,
    dry_run: bool,
) -> Result<Vec<Change>, String> {
    let Some(public_url) = settings.public_url() else {
        return Err("set public_url first: the number's webhooks are public_url and the provider's routes".into());
    };
    if !public_url.starts_with("https://") {
        return Err(format!("public_url must be https for a provider to call it, not {public_url}"));
    }
    let routes = format!("{public_url}/{provider}");
    if provider == "telnyx" {
        let api = telnyx::rest::Api::from_settings(settings)?.ok_or("set [telnyx] api_key first")?;
        return api.connect(number, &routes, fallback, dry_run).await;
    }
    if provider == "vonage" {
        let api = vonage::rest::Sms::from_settings(settings)?.ok_or("set [vonage] api_key and api_secret first")?;
        return api.connect(number, &routes, fallback, dry_run).await;
    }
    if provider == "plivo" {
        let api = plivo::rest::Api::from_settings(settings)?.ok_or("set [plivo] auth_id and auth_token first")?;
        return api.connect(number, &routes, fallback, dry_run).await;
    }
    let target = twilio::connect::Target { routes: &routes, fallback };
    let (name, account) = match provider {
        "twilio" => (
            "Twilio",
            twilio::rest::Account::from_settings(settings)?
                .ok_or("set [twilio] account_sid and auth_token (or an API key) first")?,
        ),
        "signalwire" => (
            "SignalWire",
            signalwire::rest::account(settings)?.ok_or("set [signalwire] space_url, project and api_token first")?,
        ),
        other => return Err(format!("saidno cannot set up {other} numbers; see the README for the console steps")),
    };
    twilio::connect::connect(&account, name, number, &target, dry_run).await
}
