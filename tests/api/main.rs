//! The server driven over real HTTP on a random port, as Twilio and the owner's tools drive it.

mod admin_api;
mod backup;
mod callbacks;
mod cli;
mod crash;
mod degraded;
mod fail_open;
mod fake_twilio;
mod helpers;
mod hostile;
mod lifecycle;
mod notify;
mod openapi;
mod operations;
mod pbx;
mod policy;
mod reload;
mod retention;
mod review_api;
mod security;
mod signals;
mod signalwire;
mod texts;
mod voice;
mod web;
mod whisper;
