//! An allow: a contact who always rings through, whatever else is on record.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::PhoneNumber;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allow {
    pub number: PhoneNumber,
    #[serde(default)]
    pub name: Option<String>,
    pub added_at: Timestamp,
}
