//! The call log as releases before this one kept it, in sled: `call:<position>` records with
//! index keys beside them, `tally:<hour>` counts and `follow-ups:<party>` counters. Backups hold
//! the log in that layout too. Opening such a database moves the log into SQLite once, in
//! batches that can be taken in again without harm, and only then removes the sled keys.

use super::{CALL, Database, FOLLOW_UPS, TALLY, backend, corrupt_key, decode};
use crate::domain::{CallRecord, FollowUps};
use crate::store::{Cursor, HourTally, StoreError};

/// Every prefix of the old layout: the records, their indexes and the marker of the indexes.
const OLD_KEYS: [&[u8]; 10] = [
    CALL,
    TALLY,
    FOLLOW_UPS,
    b"call-sid:",
    b"refused:",
    b"screened:",
    b"closed:",
    b"by-from:",
    b"by-party:",
    b"meta:call-indexes-v1",
];
/// Calls taken in per transaction.
const BATCH: usize = 10_000;

impl Database {
    /// Moves a call log kept in sled into the call log's own database.
    pub(super) fn move_old_log(&self) -> Result<(), StoreError> {
        if OLD_KEYS.iter().all(|prefix| self.db.scan_prefix(prefix).next().is_none()) {
            return Ok(());
        }
        let mut moved = 0usize;
        let mut calls = Vec::with_capacity(BATCH);
        for entry in self.db.scan_prefix(CALL) {
            let (key, value) = entry.map_err(backend)?;
            let position = Cursor(key[CALL.len()..].try_into().map_err(|_| corrupt_key())?);
            calls.push((position, decode::<CallRecord>(&value)?));
            if calls.len() == BATCH {
                self.calls.take_in(&calls, &[], &[])?;
                moved += calls.len();
                calls.clear();
            }
        }
        let tallies = self
            .db
            .scan_prefix(TALLY)
            .map(|entry| {
                let (key, value) = entry.map_err(backend)?;
                let hour = u64::from_be_bytes(key[TALLY.len()..].try_into().map_err(|_| corrupt_key())?);
                Ok((hour, decode::<HourTally>(&value)?))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let follow_ups = self
            .db
            .scan_prefix(FOLLOW_UPS)
            .map(|entry| {
                let (key, value) = entry.map_err(backend)?;
                let party = std::str::from_utf8(&key[FOLLOW_UPS.len()..]).map_err(|_| corrupt_key())?;
                Ok((party.to_owned(), decode::<FollowUps>(&value)?))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        moved += calls.len();
        self.calls.take_in(&calls, &tallies, &follow_ups)?;
        self.calls.flush()?;
        // Only once the log is safe in its new place.
        for prefix in OLD_KEYS {
            for key in self.db.scan_prefix(prefix).keys() {
                self.db.remove(key.map_err(backend)?).map_err(backend)?;
            }
        }
        self.db.flush().map_err(backend)?;
        tracing::info!(calls = moved, "moved the call log into its own database");
        Ok(())
    }
}
