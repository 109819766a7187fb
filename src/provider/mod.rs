//! Telephony providers: each turns its own requests into domain types and decisions into its markup.

pub mod twilio;
