//! A browser signed in to the web page, as kept: the SHA-256 of its session cookie (never the
//! cookie itself) and when the session ends.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedIn {
    /// The SHA-256 of the cookie's value, in unpadded URL-safe base64.
    pub digest: String,
    pub until: Timestamp,
}
