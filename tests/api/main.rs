//! The server driven over real HTTP on a random port, as Twilio and the owner's tools drive it.

mod admin_api;
mod callbacks;
mod cli;
mod degraded;
mod fail_open;
mod helpers;
mod lifecycle;
mod policy;
mod security;
mod voice;
