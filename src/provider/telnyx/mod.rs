//! Telnyx's TeXML applications: TeXML is Twilio's TwiML and its requests carry Twilio's
//! parameters (with the caller's name and the STIR/SHAKEN result under names of its own), so this
//! provider is Twilio's dialect (`twilio::Compatible`) under `/telnyx`, signed with Ed25519.

mod edge;
pub mod recordings;
pub mod rest;
pub mod signature;

pub use edge::{Telnyx, telnyx};
