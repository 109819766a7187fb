//! Plivo: Plivo XML answers on `/plivo/*`, each request signed with the account's Auth Token.

mod edge;
pub mod recordings;
pub mod request;
pub mod rest;
pub mod signature;
mod xml;

pub use edge::{Plivo, plivo};
