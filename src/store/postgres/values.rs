//! Values as PostgreSQL takes them: times as `timestamptz`, records as `jsonb`.

use std::time::SystemTime;

use jiff::Timestamp;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::super::StoreError;
use super::errors::{decoding, encoding};

/// A time for a `timestamptz` column, which keeps microseconds (as the call log's cursors do).
pub fn time(at: Timestamp) -> SystemTime {
    // Every time jiff holds (years -9999 to 9999) is a `SystemTime` where saidno runs (64-bit seconds).
    SystemTime::try_from(at).expect("a timestamp within the system clock's range")
}

pub fn moment(at: SystemTime) -> Result<Timestamp, StoreError> {
    Timestamp::try_from(at).map_err(|e| decoding("a time", e))
}

pub fn json<T: Serialize>(value: &T) -> Result<serde_json::Value, StoreError> {
    serde_json::to_value(value).map_err(encoding)
}

pub fn from_json<T: DeserializeOwned>(what: &str, value: serde_json::Value) -> Result<T, StoreError> {
    serde_json::from_value(value).map_err(|e| decoding(what, e))
}
