//! A legal hold: while one is on a declined party, none of its calls leave the log, however old.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// A party (see `domain::party_key`) whose calls the log keeps whatever their age.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LegalHold {
    /// The party's key, as in a company's address: `company:everest windows`.
    pub party: String,
    /// When the hold was placed.
    #[schema(value_type = String, format = DateTime)]
    pub since: Timestamp,
}
