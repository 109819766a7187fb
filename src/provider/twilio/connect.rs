//! `saidno connect` for an account of Twilio's API shape (Twilio's own, and SignalWire's
//! Compatibility API): points one number's voice and messaging webhooks, and its fallback, at
//! saidno through the IncomingPhoneNumbers resource.

use serde::Deserialize;

use super::rest::Account;
use crate::domain::PhoneNumber;
use crate::provider::setup::{Change, change, changes, read};

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    incoming_phone_numbers: Vec<Number>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Number {
    sid: String,
    voice_url: Option<String>,
    voice_method: Option<String>,
    voice_fallback_url: Option<String>,
    voice_fallback_method: Option<String>,
    sms_url: Option<String>,
    sms_method: Option<String>,
    voice_application_sid: Option<String>,
}

/// Where the number should send its calls and texts: `routes` is `public_url` and the
/// provider's routes' first part (`https://calls.example.com/twilio`).
pub struct Target<'a> {
    pub routes: &'a str,
    /// The fallback to set, when one is given: it must answer without saidno (a TwiML Bin).
    pub fallback: Option<&'a str>,
}

/// The changes the number needs, made unless `dry_run`.
pub async fn connect(
    account: &Account,
    provider: &str,
    number: &PhoneNumber,
    target: &Target<'_>,
    dry_run: bool,
) -> Result<Vec<Change>, String> {
    let query = form_urlencoded::Serializer::new(String::new()).append_pair("PhoneNumber", number.as_str()).finish();
    let request = account.get(&format!("{}?{query}", account.resource("/IncomingPhoneNumbers")));
    let page =
        read(provider, request).await.map_err(|error| error.or_missing(|| format!("{provider} has no numbers")))?;
    let page: Page =
        serde_json::from_value(page).map_err(|_| format!("{provider}'s list of numbers could not be read"))?;
    let Some(current) = page.incoming_phone_numbers.into_iter().next() else {
        return Err(format!("{number} is not a number of this {provider} account"));
    };
    let text = |value: Option<String>| value.unwrap_or_default();
    let mut wanted = vec![
        ("VoiceUrl", text(current.voice_url), format!("{}/voice", target.routes)),
        ("VoiceMethod", text(current.voice_method), "POST".to_owned()),
        ("SmsUrl", text(current.sms_url), format!("{}/sms", target.routes)),
        ("SmsMethod", text(current.sms_method), "POST".to_owned()),
    ];
    if let Some(fallback) = target.fallback {
        wanted.push(("VoiceFallbackUrl", text(current.voice_fallback_url), fallback.to_owned()));
        wanted.push(("VoiceFallbackMethod", text(current.voice_fallback_method), "POST".to_owned()));
    }
    // An application set on the number takes its calls instead of the number's own webhook.
    wanted.push(("VoiceApplicationSid", text(current.voice_application_sid), String::new()));
    let changes = changes(wanted);
    if dry_run || changes.is_empty() {
        return Ok(changes);
    }
    let form: Vec<(&str, &str)> = changes.iter().map(|change| (change.setting, change.to.as_str())).collect();
    let url = account.resource(&format!("/IncomingPhoneNumbers/{}", current.sid));
    change(provider, &number.to_string(), account.post(&url).form(&form)).await?;
    Ok(changes)
}
