//! SignalWire's compatibility API: cXML is Twilio's TwiML and its requests carry Twilio's
//! parameters, so this provider is Twilio's dialect (`twilio::Compatible`) under routes and a
//! signature of its own.

mod edge;
pub mod rest;
pub mod signature;

pub use edge::{SignalWire, signalwire};
