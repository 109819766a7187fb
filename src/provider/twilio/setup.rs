//! Reads the account and its phone numbers' webhooks through Twilio's REST API, for `saidno doctor`.

use serde::Deserialize;

use super::rest::Account as Credentials;
use crate::config::Settings;
use crate::provider::setup::{AccountSetup, LineSetup};

/// Webhooks checked with the auth token, but no account to read the numbers with.
pub const MISSING_ACCOUNT: &str = "webhooks are checked, but no account is set to read the numbers' set-up with: set \
     [twilio] account_sid so doctor can check where your numbers send their calls";

/// Past this many pages of numbers the rest are not read: a business has a handful.
const MAX_PAGES: usize = 20;

#[derive(Deserialize)]
struct Account {
    #[serde(default)]
    friendly_name: Option<String>,
    #[serde(default)]
    status: Option<String>,
}

#[derive(Deserialize)]
struct NumberPage {
    #[serde(default)]
    incoming_phone_numbers: Vec<IncomingNumber>,
    #[serde(default)]
    next_page_uri: Option<String>,
}

#[derive(Deserialize)]
struct IncomingNumber {
    #[serde(default)]
    phone_number: Option<String>,
    #[serde(default)]
    voice_url: Option<String>,
    #[serde(default)]
    voice_method: Option<String>,
    #[serde(default)]
    voice_fallback_url: Option<String>,
    #[serde(default)]
    sms_url: Option<String>,
    #[serde(default)]
    voice_application_sid: Option<String>,
}

/// The account as Twilio's API describes it, or `None` when no account is configured.
pub async fn inspect(settings: &Settings) -> Option<AccountSetup> {
    let account_sid = settings.twilio.account_sid.trim();
    let mut setup = AccountSetup {
        provider: "Twilio",
        account: Err(String::new()),
        clock: None,
        lines: Vec::new(),
        voice_path: "/twilio/voice",
        sms_path: "/twilio/sms",
    };
    let account = match Credentials::from_settings(settings) {
        Ok(Some(account)) => account,
        Ok(None) => return None,
        Err(problem) => {
            setup.account = Err(problem);
            return Some(setup);
        }
    };
    let root = settings.twilio.api_base_url.trim().trim_end_matches('/');
    let response = match account.get(&account.url(".json")).send().await {
        Ok(response) => response,
        Err(error) => {
            setup.account = Err(format!("Twilio's API at {root} could not be reached: {}", error.without_url()));
            return Some(setup);
        }
    };
    setup.clock = response
        .headers()
        .get(reqwest::header::DATE)
        .and_then(|date| date.to_str().ok())
        .and_then(|date| jiff::fmt::rfc2822::parse(date).ok())
        .map(|zoned| zoned.timestamp());
    let status = response.status();
    if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
        setup.account = Err(format!(
            "Twilio refused the credentials ({status}): check [twilio] account_sid and auth_token (or the API key)"
        ));
        return Some(setup);
    }
    if !status.is_success() {
        setup.account = Err(format!("Twilio answered {status} when asked for account {account_sid}"));
        return Some(setup);
    }
    setup.account = match response.json::<Account>().await {
        Ok(Account { status: Some(state), .. }) if state != "active" => {
            Err(format!("the Twilio account is {state}, not active: calls will not reach saidno"))
        }
        Ok(account) => Ok(account.friendly_name.unwrap_or_else(|| account_sid.to_owned())),
        Err(error) => Err(format!("Twilio's answer about the account could not be read: {}", error.without_url())),
    };
    if setup.account.is_err() {
        return Some(setup);
    }

    // Later pages are named by their path from the API's root, as Twilio gives them.
    let mut next = Some(account.url("/IncomingPhoneNumbers.json?PageSize=50"));
    for _ in 0..MAX_PAGES {
        let Some(url) = next.take() else { break };
        let page = match account.get(&url).send().await {
            Ok(response) if response.status().is_success() => response.json::<NumberPage>().await,
            Ok(response) => {
                setup.account = Err(format!("Twilio answered {} when asked for the numbers", response.status()));
                break;
            }
            Err(error) => {
                setup.account = Err(format!("the numbers could not be read: {}", error.without_url()));
                break;
            }
        };
        let Ok(page) = page else {
            setup.account = Err("Twilio's list of numbers could not be read".into());
            break;
        };
        setup.lines.extend(page.incoming_phone_numbers.into_iter().map(|number| LineSetup {
            number: number.phone_number.unwrap_or_default(),
            voice_url: number.voice_url.unwrap_or_default(),
            voice_method: number.voice_method.unwrap_or_default(),
            fallback_url: number.voice_fallback_url.unwrap_or_default(),
            sms_url: number.sms_url.unwrap_or_default(),
            application: number.voice_application_sid.filter(|sid| !sid.is_empty()),
        }));
        next = page.next_page_uri.filter(|uri| !uri.is_empty()).map(|path| format!("{root}{path}"));
    }
    Some(setup)
}
