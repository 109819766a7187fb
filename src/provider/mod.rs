//! Telephony providers: each turns its own requests into domain types and decisions into its markup.

pub mod setup;
pub mod twilio;

/// Every configured provider account as its own API describes it.
pub async fn inspect_accounts(settings: &crate::config::Settings) -> Vec<setup::AccountSetup> {
    twilio::setup::inspect(settings).await.into_iter().collect()
}
