//! Twilio: webhook signatures, form parameters, and TwiML.

pub mod form;
pub mod request;
pub mod rest;
pub mod setup;
pub mod signature;
pub mod twiml;
