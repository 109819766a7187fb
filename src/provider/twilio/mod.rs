//! Twilio: webhook signatures, its parameters, and TwiML.

pub mod connect;
mod edge;
pub mod recordings;
pub mod request;
pub mod rest;
pub mod setup;
pub mod signature;
pub mod twiml;

pub use edge::{Compatible, Flavour, Twilio, twilio};
