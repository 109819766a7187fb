//! Vonage's Voice API: a Voice application's answer webhook (`POST`, JSON) asks what to do with
//! a call it has already answered, and every webhook carries a JWT signed with the account's
//! signature secret. The answer is an NCCO, a JSON list of actions.

mod edge;
pub mod jwt;
pub mod ncco;
pub mod recordings;
pub mod request;
pub mod rest;
pub mod signature;
pub mod transcripts;

pub use edge::{Vonage, vonage};
