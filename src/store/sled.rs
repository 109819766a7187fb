//! The sled store: one tree, keys prefixed by kind, values as JSON so new fields can be added.
//!
//! Key layout (the time-ordered keys sort by time, then by a counter for calls in the same microsecond):
//! `decline:<e164>` and `allow:<e164>` hold the records; `rule:<kind>:<text>` holds a decline of
//! a range or pattern; `call:<time><id>` holds one call;
//! `call-sid:<sid>` points at that call's key; `refused:<time><id>` marks a refused call, so the
//! list of refusals is read without walking past forwarded calls. `company:<key>` keeps a company's
//! name as first written; `follow-ups:<party>` counts a declined party's calls since the decline;
//! `text-session:<e164>` keeps what an owner's texts left behind.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{CallQuery, Store, StoreError};
use crate::backup::{self, BackupError};
use crate::domain::{
    Allow, CallRecord, Decline, FollowUps, ForwardOutcome, PhoneNumber, Target, TextSession, company_key,
};

const DECLINE: &[u8] = b"decline:";
const ALLOW: &[u8] = b"allow:";
const CALL: &[u8] = b"call:";
const CALL_SID: &[u8] = b"call-sid:";
const REFUSED: &[u8] = b"refused:";
const COMPANY: &[u8] = b"company:";
const FOLLOW_UPS: &[u8] = b"follow-ups:";
const TEXT_SESSION: &[u8] = b"text-session:";
const RULE: &[u8] = b"rule:";
const SETTING: &[u8] = b"setting:";
const PAUSED: &[u8] = b"setting:paused";
const GENERATION: &[u8] = b"setting:generation";
const PROBE: &[u8] = b"setting:probe";

pub struct SledStore {
    db: sled::Db,
    /// How many owner changes have been acknowledged, kept in the database and mirrored in a
    /// file beside it. sled recovers a damaged file by silently dropping what it cannot read, so a
    /// database that comes back holding fewer changes than were acknowledged is refused, not trusted.
    generation: Mutex<u64>,
    marker: PathBuf,
    /// Writes share it; a backup takes it alone, so the copy is of one moment.
    writes: RwLock<()>,
}

impl SledStore {
    pub fn open(path: &Path, cache_mb: u64) -> Result<Self, StoreError> {
        let db =
            sled::Config::new().path(path).cache_capacity(cache_mb.max(1) * 1024 * 1024).open().map_err(
                |e| match e {
                    // sled reports a held lock only as text; it is the one error the command line acts on.
                    sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
                        StoreError::Locked(path.display().to_string())
                    }
                    corrupted @ sled::Error::Corruption { .. } => StoreError::Corrupt(format!(
                        "the database at {} is damaged ({corrupted}): restore a backup",
                        path.display()
                    )),
                    other => backend(other),
                },
            )?;
        let marker = path.with_extension("generation");
        let stored = match db.get(GENERATION).map_err(backend)? {
            Some(bytes) => u64::from_be_bytes(bytes.as_ref().try_into().map_err(|_| corrupt("the generation"))?),
            None => 0,
        };
        let acknowledged = std::fs::read_to_string(&marker).ok().and_then(|text| text.trim().parse::<u64>().ok());
        if let Some(acknowledged) = acknowledged.filter(|acknowledged| stored < *acknowledged) {
            return Err(StoreError::Corrupt(format!(
                "the database at {} holds {stored} of the {acknowledged} changes acknowledged to the owner; \
                 it is damaged: restore a backup",
                path.display()
            )));
        }
        Ok(Self { db, generation: Mutex::new(stored), marker, writes: RwLock::new(()) })
    }

    /// Applies an owner change and makes it durable before returning: the database is flushed,
    /// then the marker file records the new generation.
    fn commit(&self, mut batch: sled::Batch) -> Result<(), StoreError> {
        let mut generation = self.generation.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let next = *generation + 1;
        batch.insert(GENERATION, &next.to_be_bytes());
        self.apply(batch)?;
        self.flush()?;
        *generation = next;
        write_marker(&self.marker, next).map_err(|e| StoreError::Backend(format!("the generation marker: {e}")))
    }

    fn get<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, StoreError> {
        self.db.get(key).map_err(backend)?.map(|bytes| decode(&bytes)).transpose()
    }

    fn apply(&self, batch: sled::Batch) -> Result<(), StoreError> {
        let _writing = self.writes.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        self.db.apply_batch(batch).map_err(backend)
    }

    /// Replaces the database at `path` with the records of a backup. The database must not be
    /// open; the one it replaces is kept beside it, and its path returned with the count.
    pub fn restore(path: &Path, input: &mut dyn std::io::Read) -> Result<(u64, PathBuf), StoreError> {
        // The current database must not be in use (taking its lock proves it); a damaged one may
        // be replaced, which is what a restore is for.
        match Self::open(path, 1) {
            Ok(_) | Err(StoreError::Corrupt(_)) => {}
            Err(other) => return Err(other),
        }
        let incoming = path.with_extension("restoring");
        let _ = std::fs::remove_dir_all(&incoming);
        let restored = Self::restore_into(&incoming, input);
        let (count, generation) = match restored {
            Ok(done) => done,
            Err(error) => {
                let _ = std::fs::remove_dir_all(&incoming);
                return Err(error);
            }
        };
        let stamp = jiff::Timestamp::now().strftime("%Y%m%dT%H%M%SZ").to_string();
        let kept = path.with_extension(format!("replaced-{stamp}"));
        let moved = |e: std::io::Error| StoreError::Backend(format!("moving the databases: {e}"));
        if path.exists() {
            std::fs::rename(path, &kept).map_err(moved)?;
        }
        std::fs::rename(&incoming, path).map_err(moved)?;
        write_marker(&path.with_extension("generation"), generation).map_err(moved)?;
        Ok((count, kept))
    }

    fn restore_into(path: &Path, input: &mut dyn std::io::Read) -> Result<(u64, u64), StoreError> {
        let db = sled::Config::new().path(path).open().map_err(backend)?;
        let mut batch = sled::Batch::default();
        let mut pending = 0;
        let mut generation = 0;
        let count = backup::read(input, |key, value| {
            if key == GENERATION {
                generation = u64::from_be_bytes(value.try_into().map_err(|_| corrupt("the generation"))?);
            }
            batch.insert(key, value);
            pending += 1;
            if pending == 10_000 {
                db.apply_batch(std::mem::take(&mut batch)).map_err(backend)?;
                pending = 0;
            }
            Ok::<_, StoreError>(())
        })?;
        db.apply_batch(batch).map_err(backend)?;
        db.flush().map_err(backend)?;
        Ok((count, generation))
    }

    fn put_durably<T: Serialize>(&self, key: Vec<u8>, value: &T) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        batch.insert(key, encode(value)?);
        self.commit(batch)
    }

    fn remove_durably<T: DeserializeOwned>(&self, key: Vec<u8>) -> Result<Option<T>, StoreError> {
        let Some(removed) = self.db.get(&key).map_err(backend)? else { return Ok(None) };
        let mut batch = sled::Batch::default();
        batch.remove(key);
        self.commit(batch)?;
        decode(&removed).map(Some)
    }

    fn all<T: DeserializeOwned>(&self, prefix: &[u8]) -> Result<Vec<T>, StoreError> {
        self.db.scan_prefix(prefix).values().map(|value| decode(&value.map_err(backend)?)).collect()
    }

    fn call_key(&self, call: &CallRecord) -> Result<[u8; 16], StoreError> {
        let mut key = [0u8; 16];
        // Offset so calls before 1970 (only in imported data) still sort first.
        let at = (call.at.as_microsecond() as u64) ^ (1 << 63);
        key[..8].copy_from_slice(&at.to_be_bytes());
        key[8..].copy_from_slice(&self.db.generate_id().map_err(backend)?.to_be_bytes());
        Ok(key)
    }
}

fn write_marker(path: &Path, generation: u64) -> std::io::Result<()> {
    let temporary = path.with_extension("generation.tmp");
    let mut file = std::fs::File::create(&temporary)?;
    std::io::Write::write_all(&mut file, generation.to_string().as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)
}

impl From<BackupError> for StoreError {
    fn from(error: BackupError) -> Self {
        StoreError::Corrupt(error.to_string())
    }
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} could not be read"))
}

fn decline_key(target: &Target) -> Vec<u8> {
    match target {
        Target::Number(number) => key(DECLINE, number.as_str().as_bytes()),
        other => key(RULE, other.key().as_bytes()),
    }
}

fn key(prefix: &[u8], rest: &[u8]) -> Vec<u8> {
    [prefix, rest].concat()
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| StoreError::Backend(e.to_string()))
}

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn backend(error: sled::Error) -> StoreError {
    match error {
        sled::Error::Corruption { .. } => {
            StoreError::Corrupt(format!("the database is damaged ({error}): restore a backup"))
        }
        other => StoreError::Backend(other.to_string()),
    }
}

impl Store for SledStore {
    fn decline(&self, target: &Target) -> Result<Option<Decline>, StoreError> {
        self.get(&decline_key(target))
    }

    fn allow_of(&self, number: &PhoneNumber) -> Result<Option<Allow>, StoreError> {
        self.get(&key(ALLOW, number.as_str().as_bytes()))
    }

    fn save_decline(&self, decline: &Decline) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        if let Some(company) = &decline.company {
            let company_key = key(COMPANY, company_key(company).as_bytes());
            if !self.db.contains_key(&company_key).map_err(backend)? {
                batch.insert(company_key, encode(company)?);
            }
        }
        batch.insert(decline_key(&decline.target), encode(decline)?);
        self.commit(batch)
    }

    fn remove_decline(&self, target: &Target) -> Result<Option<Decline>, StoreError> {
        self.remove_durably(decline_key(target))
    }

    fn declines(&self) -> Result<Vec<Decline>, StoreError> {
        let mut declines = self.all(DECLINE)?;
        declines.extend(self.rules()?);
        Ok(declines)
    }

    fn rules(&self) -> Result<Vec<Decline>, StoreError> {
        self.all(RULE)
    }

    fn company_name(&self, company: &str) -> Result<Option<String>, StoreError> {
        self.get(&key(COMPANY, company.as_bytes()))
    }

    fn follow_ups(&self, party: &str) -> Result<FollowUps, StoreError> {
        Ok(self.get(&key(FOLLOW_UPS, party.as_bytes()))?.unwrap_or_default())
    }

    fn save_allow(&self, allow: &Allow) -> Result<(), StoreError> {
        self.put_durably(key(ALLOW, allow.number.as_str().as_bytes()), allow)
    }

    fn remove_allow(&self, number: &PhoneNumber) -> Result<Option<Allow>, StoreError> {
        self.remove_durably(key(ALLOW, number.as_str().as_bytes()))
    }

    fn allows(&self) -> Result<Vec<Allow>, StoreError> {
        self.all(ALLOW)
    }

    fn paused(&self) -> Result<bool, StoreError> {
        Ok(self.get(PAUSED)?.unwrap_or(false))
    }

    fn set_paused(&self, paused: bool) -> Result<(), StoreError> {
        self.put_durably(PAUSED.to_vec(), &paused)
    }

    fn append_calls(&self, calls: &[CallRecord]) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        // Counters touched by this batch, so that two refusals in one batch both count.
        let mut counted: HashMap<String, FollowUps> = HashMap::new();
        for call in calls {
            let mut call = call.clone();
            if let Some(party) = call.party.clone().filter(|_| call.is_refusal()) {
                let follow_ups = match counted.entry(party) {
                    Entry::Occupied(entry) => entry.into_mut(),
                    Entry::Vacant(entry) => {
                        let current = self.follow_ups(entry.key())?;
                        entry.insert(current)
                    }
                };
                follow_ups.record(call.at);
                call.follow_up = Some(follow_ups.count);
            }
            if call.used_single_allow
                && let Some(number) = PhoneNumber::from_e164(&call.from)
                && let Some(mut allow) = self.allow_of(&number)?
            {
                allow.used_at.get_or_insert(call.at);
                batch.insert(key(ALLOW, number.as_str().as_bytes()), encode(&allow)?);
            }
            let call_key = self.call_key(&call)?;
            batch.insert(key(CALL, &call_key), encode(&call)?);
            batch.insert(key(CALL_SID, call.call_sid.as_bytes()), &call_key[..]);
            if call.is_refusal() {
                batch.insert(key(REFUSED, &call_key), &[][..]);
            }
        }
        for (party, follow_ups) in counted {
            batch.insert(key(FOLLOW_UPS, party.as_bytes()), encode(&follow_ups)?);
        }
        self.apply(batch)
    }

    fn attach_outcome(&self, call_sid: &str, outcome: ForwardOutcome) -> Result<bool, StoreError> {
        let Some(call_key) = self.db.get(key(CALL_SID, call_sid.as_bytes())).map_err(backend)? else {
            return Ok(false);
        };
        let call_key = key(CALL, &call_key);
        let Some(mut call) = self.get::<CallRecord>(&call_key)? else {
            return Ok(false);
        };
        call.outcome.get_or_insert_with(ForwardOutcome::default).merge(outcome);
        let mut batch = sled::Batch::default();
        batch.insert(call_key, encode(&call)?);
        self.apply(batch)?;
        Ok(true)
    }

    fn calls(&self, query: &CallQuery) -> Result<Vec<CallRecord>, StoreError> {
        let prefix = if query.declined_only { REFUSED } else { CALL };
        let mut calls = Vec::with_capacity(query.limit.min(1000));
        for entry in self.db.scan_prefix(prefix).rev() {
            if calls.len() >= query.limit {
                break;
            }
            let (entry_key, value) = entry.map_err(backend)?;
            let call: CallRecord = if query.declined_only {
                match self.get(&key(CALL, &entry_key[prefix.len()..]))? {
                    Some(call) => call,
                    None => continue,
                }
            } else {
                decode(&value)?
            };
            if query.since.is_some_and(|since| call.at < since) {
                break;
            }
            calls.push(call);
        }
        Ok(calls)
    }

    fn text_session(&self, owner: &PhoneNumber) -> Result<TextSession, StoreError> {
        Ok(self.get(&key(TEXT_SESSION, owner.as_str().as_bytes()))?.unwrap_or_default())
    }

    fn save_text_session(&self, owner: &PhoneNumber, session: &TextSession) -> Result<(), StoreError> {
        self.put_durably(key(TEXT_SESSION, owner.as_str().as_bytes()), session)
    }

    /// Reads every record the owner entered, so damage shows now rather than on some later call.
    fn verify(&self) -> Result<(), StoreError> {
        for prefix in [SETTING, RULE, COMPANY, ALLOW, DECLINE, TEXT_SESSION] {
            for entry in self.db.scan_prefix(prefix) {
                let (key, value) = entry.map_err(backend)?;
                if prefix != SETTING {
                    serde_json::from_slice::<serde::de::IgnoredAny>(&value).map_err(|e| {
                        StoreError::Corrupt(format!(
                            "the database is damaged ({} does not read back: {e}): restore a backup",
                            String::from_utf8_lossy(&key)
                        ))
                    })?;
                }
            }
        }
        Ok(())
    }

    fn probe(&self) -> Result<(), StoreError> {
        let now = jiff::Timestamp::now().as_microsecond().to_be_bytes();
        let mut batch = sled::Batch::default();
        batch.insert(PROBE, &now);
        self.apply(batch)?;
        self.flush()
    }

    /// Writes a consistent copy of every record: writes wait while it is taken, calls do not.
    fn backup(&self, out: &mut dyn std::io::Write) -> Result<u64, StoreError> {
        let _alone = self.writes.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        let failed = |e: std::io::Error| StoreError::Backend(format!("writing the backup: {e}"));
        let mut writer = backup::Writer::new(out).map_err(failed)?;
        for entry in self.db.iter() {
            let (key, value) = entry.map_err(backend)?;
            if key.as_ref() != PROBE {
                writer.record(&key, &value).map_err(failed)?;
            }
        }
        writer.finish().map_err(failed)
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map(drop).map_err(backend)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Channel;

    fn decline(number: &str) -> Decline {
        Decline {
            target: Target::Number(PhoneNumber::from_e164(number).unwrap()),
            company: None,
            note: None,
            declined_at: jiff::Timestamp::UNIX_EPOCH,
            declined_by: None,
            channel: Channel::Web,
            mode: None,
            not_before: None,
            escape_hatch: None,
        }
    }

    #[test]
    fn a_database_holding_fewer_changes_than_were_acknowledged_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        {
            let store = SledStore::open(&path, 8).unwrap();
            store.save_decline(&decline("+442079460123")).unwrap();
            store.save_decline(&decline("+442079460124")).unwrap();
            store.remove_decline(&Target::Number(PhoneNumber::from_e164("+442079460124").unwrap())).unwrap();
        }
        assert_eq!(std::fs::read_to_string(dir.path().join("db.generation")).unwrap(), "3");
        assert!(SledStore::open(&path, 8).is_ok(), "a database that kept every change opens");

        // As if the file had lost the last changes while the marker kept counting.
        std::fs::write(dir.path().join("db.generation"), "7").unwrap();
        let error = SledStore::open(&path, 8).err().expect("refused");
        assert!(matches!(&error, StoreError::Corrupt(message) if message.contains("3 of the 7")), "{error}");
    }

    #[test]
    fn a_second_process_is_told_the_database_is_in_use() {
        let dir = tempfile::tempdir().unwrap();
        let _first = SledStore::open(&dir.path().join("db"), 8).unwrap();
        assert!(matches!(SledStore::open(&dir.path().join("db"), 8), Err(StoreError::Locked(_))));
    }
}
