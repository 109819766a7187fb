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
use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{CallQuery, Store, StoreError};
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
const PAUSED: &[u8] = b"setting:paused";

pub struct SledStore {
    db: sled::Db,
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
                    other => backend(other),
                },
            )?;
        Ok(Self { db })
    }

    fn get<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, StoreError> {
        self.db.get(key).map_err(backend)?.map(|bytes| decode(&bytes)).transpose()
    }

    fn put_durably<T: Serialize>(&self, key: Vec<u8>, value: &T) -> Result<(), StoreError> {
        self.db.insert(key, encode(value)?).map_err(backend)?;
        self.flush()
    }

    fn remove_durably<T: DeserializeOwned>(&self, key: Vec<u8>) -> Result<Option<T>, StoreError> {
        let removed = self.db.remove(key).map_err(backend)?;
        self.flush()?;
        removed.map(|bytes| decode(&bytes)).transpose()
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
    StoreError::Backend(error.to_string())
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
        self.db.apply_batch(batch).map_err(backend)?;
        self.flush()
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
        self.db.apply_batch(batch).map_err(backend)
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
        self.db.insert(call_key, encode(&call)?).map_err(backend)?;
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

    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map(drop).map_err(backend)
    }
}
