//! The sled store: one tree, keys prefixed by kind, values as JSON so new fields can be added.
//!
//! Key layout (the time-ordered keys sort by time, then by a counter for calls in the same microsecond):
//! `decline:<e164>` and `allow:<e164>` hold the records; `rule:<kind>:<text>` holds a decline of
//! a range or pattern; `call:<time><id>` holds one call. `refused:<time><id>` marks a refused call,
//! so the list of refusals is read without walking past forwarded calls; `screened:` and `closed:`
//! do the same for the other rare decisions (forwarded calls, most calls, are read along `call:`),
//! and `by-from:<number>\0<time><id>` and `by-party:<party>\0<time><id>` index one caller's calls
//! and one declined party's calls, so every filtered page is read along its own index.
//! `tally:<hour>` counts calls per hour for the dashboard. `company:<key>` keeps a company's name
//! as first written; `follow-ups:<party>` counts a declined party's calls since the decline;
//! `secret:password` holds the web page's password hash; `text-session:<e164>` keeps what an
//! owner's texts left behind; `legal-hold:<party>` marks a party whose calls are never pruned.
//!
//! Every key written is a page of sled's kept in memory and work for each call under load, so a
//! call's provider id has no key: the outcome reported after a call finds the call through a map
//! of recent calls, or else by looking back along `call:` (databases written before had
//! `call-sid:<sid>`, still read).
//!
//! A call's index entries come from `index_keys` alone: writing a call and pruning it both read
//! that one list, so an index added there is also removed with its call.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, RwLock};

use serde::Serialize;
use serde::de::DeserializeOwned;

use jiff::Timestamp;

use super::query::party_of;
use super::{CallPage, CallQuery, Cursor, HourTally, Pruned, SCAN_BUDGET, Store, StoreError};
use crate::backup::{self, BackupError};
use crate::domain::{
    Allow, CallRecord, DecisionKind, Decline, FollowUps, ForwardOutcome, LegalHold, PhoneNumber, Target, TextSession,
    WebChange, company_key,
};

mod import;

const DECLINE: &[u8] = b"decline:";
const ALLOW: &[u8] = b"allow:";
const CALL: &[u8] = b"call:";
const CALL_SID: &[u8] = b"call-sid:";
const REFUSED: &[u8] = b"refused:";
const COMPANY: &[u8] = b"company:";
const FOLLOW_UPS: &[u8] = b"follow-ups:";
const TEXT_SESSION: &[u8] = b"text-session:";
const WEB_CHANGES: &[u8] = b"web-changes";
const RULE: &[u8] = b"rule:";
const SETTING: &[u8] = b"setting:";
const PAUSED: &[u8] = b"setting:paused";
const SCREENED: &[u8] = b"screened:";
const CLOSED: &[u8] = b"closed:";
const BY_FROM: &[u8] = b"by-from:";
const BY_PARTY: &[u8] = b"by-party:";
const TALLY: &[u8] = b"tally:";
const LEGAL_HOLD: &[u8] = b"legal-hold:";
const PASSWORD: &[u8] = b"secret:password";
/// Set once the indexes cover every call, so a database from before they existed is indexed once.
const INDEXED: &[u8] = b"meta:call-indexes-v1";
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
    /// Where the most recent calls are, by the provider's id, for the outcomes reported after them.
    recent: Mutex<RecentCalls>,
    /// The pause switch as stored, read on every call without a look-up. Only `set_paused` writes
    /// the switch, and it sets this (holding `pausing`, so two switches cannot cross) once the
    /// change is on disk.
    paused: AtomicBool,
    pausing: Mutex<()>,
}

/// The positions of the last `RECENT_CALLS` calls logged, by a hash of the call id (a few bytes a
/// call rather than the id itself; the record found is checked against the id).
#[derive(Default)]
struct RecentCalls {
    positions: HashMap<u64, [u8; 16]>,
    order: std::collections::VecDeque<u64>,
}

/// Outcomes come within minutes of their call; this covers days of a busy line for a few megabytes.
const RECENT_CALLS: usize = 100_000;

impl RecentCalls {
    fn hash(call_sid: &str) -> u64 {
        // Fixed keys: the same id must hash the same way for the life of the process.
        std::hash::BuildHasher::hash_one(
            &std::hash::BuildHasherDefault::<std::hash::DefaultHasher>::default(),
            call_sid,
        )
    }

    fn remember(&mut self, call_sid: &str, position: [u8; 16]) {
        let hash = Self::hash(call_sid);
        if self.positions.insert(hash, position).is_none() {
            self.order.push_back(hash);
        }
        while self.order.len() > RECENT_CALLS {
            if let Some(oldest) = self.order.pop_front() {
                self.positions.remove(&oldest);
            }
        }
    }
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
        let paused = db.get(PAUSED).map_err(backend)?.map(|bytes| decode(&bytes)).transpose()?.unwrap_or(false);
        let store = Self {
            db,
            generation: Mutex::new(stored),
            marker,
            writes: RwLock::new(()),
            recent: Mutex::new(RecentCalls::default()),
            paused: AtomicBool::new(paused),
            pausing: Mutex::new(()),
        };
        let undone = store.settle_interrupted_import()?;
        if undone > 0 {
            tracing::warn!(records = undone, "an import was cut short; what it had written is undone");
        }
        store.index_old_calls()?;
        Ok(store)
    }

    /// Opens, for a test, a database this process has just closed: sled lets go of its lock from
    /// a background thread, a moment after the last handle is dropped.
    #[cfg(test)]
    pub(crate) fn reopen(path: &Path) -> Result<Self, StoreError> {
        for _ in 0..200 {
            match Self::open(path, 8) {
                Err(StoreError::Locked(_)) => std::thread::sleep(std::time::Duration::from_millis(25)),
                opened => return opened,
            }
        }
        Self::open(path, 8)
    }

    /// Builds the call indexes for calls logged before the indexes existed.
    fn index_old_calls(&self) -> Result<(), StoreError> {
        if self.db.contains_key(INDEXED).map_err(backend)? {
            return Ok(());
        }
        let mut batch = sled::Batch::default();
        let mut tallies: HashMap<u64, HourTally> = HashMap::new();
        for (pending, entry) in self.db.scan_prefix(CALL).enumerate() {
            let (entry_key, value) = entry.map_err(backend)?;
            let call: CallRecord = decode(&value)?;
            for index_key in index_keys(&entry_key[CALL.len()..], &call) {
                batch.insert(index_key, &[][..]);
            }
            tally(&mut tallies, &call);
            if pending % 10_000 == 9_999 {
                self.db.apply_batch(std::mem::take(&mut batch)).map_err(backend)?;
            }
        }
        self.write_tallies(&mut batch, tallies)?;
        batch.insert(INDEXED, &[][..]);
        self.db.apply_batch(batch).map_err(backend)?;
        self.flush()
    }

    /// Adds this batch's counts to the stored ones.
    fn write_tallies(&self, batch: &mut sled::Batch, tallies: HashMap<u64, HourTally>) -> Result<(), StoreError> {
        for (tally_key, tally) in self.added_tallies(tallies)? {
            batch.insert(tally_key, encode(&tally)?);
        }
        Ok(())
    }

    /// The stored hourly counts with these added, by key.
    fn added_tallies(&self, tallies: HashMap<u64, HourTally>) -> Result<Vec<(Vec<u8>, HourTally)>, StoreError> {
        tallies
            .into_iter()
            .map(|(hour, add)| {
                let tally_key = key(TALLY, &hour.to_be_bytes());
                let mut stored: HourTally = self.get(&tally_key)?.unwrap_or_default();
                stored.forwarded += add.forwarded;
                stored.refused += add.refused;
                stored.other += add.other;
                Ok((tally_key, stored))
            })
            .collect()
    }

    /// Walks one index newest first between the query's bounds, keeping the calls that match.
    fn walk(&self, index: &[u8], query: &CallQuery) -> Result<CallPage, StoreError> {
        let lower = key(index, &query.since.map_or([0u8; 16], |since| Cursor::at(since).0));
        let mut upper = query.until.map_or([0xffu8; 16], |until| Cursor::at(until).0);
        if let Some(before) = query.before {
            upper = upper.min(before.0);
        }
        let upper = key(index, &upper);
        if lower >= upper {
            return Ok(CallPage::default());
        }
        let reads_records = index != CALL;
        let mut page = CallPage::default();
        let mut looked_at = 0;
        for entry in self.db.range(lower..upper).rev() {
            let (entry_key, value) = entry.map_err(backend)?;
            let position: [u8; 16] = entry_key[index.len()..].try_into().map_err(|_| corrupt_key())?;
            let call: CallRecord = if reads_records {
                match self.get(&key(CALL, &position))? {
                    Some(call) => call,
                    None => continue,
                }
            } else {
                decode(&value)?
            };
            looked_at += 1;
            if query.matches(&call) {
                page.calls.push(call);
            }
            if page.calls.len() >= query.limit || looked_at >= SCAN_BUDGET {
                page.next = Some(Cursor(position));
                break;
            }
        }
        Ok(page)
    }

    /// Applies an owner change and makes it durable before returning: the database is flushed,
    /// then the marker file records the new generation.
    fn commit(&self, batch: sled::Batch) -> Result<(), StoreError> {
        let mut generation = self.generation.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        self.commit_holding(&mut generation, batch)
    }

    /// `commit`, for a caller that holds the generation (and so every other owner change) already.
    fn commit_holding(&self, generation: &mut MutexGuard<'_, u64>, mut batch: sled::Batch) -> Result<(), StoreError> {
        let next = **generation + 1;
        batch.insert(GENERATION, &next.to_be_bytes());
        self.apply(batch)?;
        self.flush()?;
        **generation = next;
        write_marker(&self.marker, next).map_err(|e| StoreError::Backend(format!("the generation marker: {e}")))
    }

    fn get<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, StoreError> {
        self.db.get(key).map_err(backend)?.map(|bytes| decode(&bytes)).transpose()
    }

    /// One write that needs no batch, so it does not hold readers back.
    fn put(&self, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        let _writing = self.writes.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        self.db.insert(key, value).map_err(backend).map(drop)
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

    /// Where the call with this provider id is in the log: a recent call from memory, an older
    /// one from the key databases written before kept, else by looking back along the log.
    fn position_of(&self, call_sid: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let remembered = self
            .recent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .positions
            .get(&RecentCalls::hash(call_sid))
            .copied();
        if let Some(position) = remembered
            && self.get::<CallRecord>(&key(CALL, &position))?.is_some_and(|call| call.call_sid == call_sid)
        {
            return Ok(Some(position.to_vec()));
        }
        if let Some(position) = self.db.get(key(CALL_SID, call_sid.as_bytes())).map_err(backend)? {
            return Ok(Some(position.to_vec()));
        }
        // After a restart: the call is one of the last made. Its id is in its record's text.
        let quoted = format!("\"{call_sid}\"");
        for entry in self.db.scan_prefix(CALL).rev().take(SCAN_BUDGET) {
            let (entry_key, value) = entry.map_err(backend)?;
            if value.windows(quoted.len()).any(|window| window == quoted.as_bytes())
                && decode::<CallRecord>(&value)?.call_sid == call_sid
            {
                return Ok(Some(entry_key[CALL.len()..].to_vec()));
            }
        }
        Ok(None)
    }

    fn call_key(&self, call: &CallRecord) -> Result<[u8; 16], StoreError> {
        Ok(Cursor::new(call.at, self.db.generate_id().map_err(backend)?).0)
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

/// The index entries (empty values) that find the call stored at `position`. Writing a call and
/// pruning it both use this list, so no index outlives its call.
fn index_keys(position: &[u8], call: &CallRecord) -> Vec<Vec<u8>> {
    let mut keys = vec![[BY_FROM, call.from.as_bytes(), b"\0", position].concat()];
    if let Some(index) = decision_index(call.decision) {
        keys.push(key(index, position));
    }
    if let Some(party) = party_of(call) {
        keys.push([BY_PARTY, party.as_bytes(), b"\0", position].concat());
    }
    keys
}

/// The index of one decision's calls. Forwarded calls have none: they are most calls, so walking
/// the whole log finds them as fast, and one write fewer per call is worth more under load.
fn decision_index(decision: DecisionKind) -> Option<&'static [u8]> {
    match decision {
        DecisionKind::Forward => None,
        DecisionKind::Decline => Some(REFUSED),
        DecisionKind::Screen => Some(SCREENED),
        DecisionKind::Closed => Some(CLOSED),
    }
}

fn hour_of(at: Timestamp) -> u64 {
    (at.as_second().max(0) / 3600) as u64
}

fn tally(tallies: &mut HashMap<u64, HourTally>, call: &CallRecord) {
    tallies.entry(hour_of(call.at)).or_default().count(call.decision);
}

fn corrupt_key() -> StoreError {
    StoreError::Corrupt("an index entry has a malformed key".into())
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

    fn save_declines(&self, declines: &[Decline]) -> Result<(), StoreError> {
        if declines.len() > import::BATCH_ROWS {
            return self.save_declines_in_batches(declines);
        }
        let mut batch = sled::Batch::default();
        let mut new_companies = HashMap::new();
        for decline in declines {
            if let Some(company) = &decline.company {
                // The first row of a company decides whether it is new.
                if let Entry::Vacant(entry) = new_companies.entry(key(COMPANY, company_key(company).as_bytes())) {
                    let known = self.db.contains_key(entry.key()).map_err(backend)?;
                    entry.insert((!known).then(|| company.clone()));
                }
            }
            batch.insert(decline_key(&decline.target), encode(decline)?);
        }
        for (company_key, company) in new_companies {
            if let Some(company) = company {
                batch.insert(company_key, encode(&company)?);
            }
        }
        self.commit(batch)
    }

    fn company_name(&self, company: &str) -> Result<Option<String>, StoreError> {
        self.get(&key(COMPANY, company.as_bytes()))
    }

    fn follow_ups(&self, party: &str) -> Result<FollowUps, StoreError> {
        Ok(self.get(&key(FOLLOW_UPS, party.as_bytes()))?.unwrap_or_default())
    }

    fn follow_up_counts(&self) -> Result<Vec<(String, FollowUps)>, StoreError> {
        self.db
            .scan_prefix(FOLLOW_UPS)
            .map(|entry| {
                let (entry_key, value) = entry.map_err(backend)?;
                let party = std::str::from_utf8(&entry_key[FOLLOW_UPS.len()..]).map_err(|_| corrupt_key())?;
                Ok((party.to_owned(), decode(&value)?))
            })
            .collect()
    }

    fn save_allow(&self, allow: &Allow) -> Result<(), StoreError> {
        self.put_durably(key(ALLOW, allow.number.as_str().as_bytes()), allow)
    }

    fn save_allows(&self, allows: &[Allow]) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for allow in allows {
            batch.insert(key(ALLOW, allow.number.as_str().as_bytes()), encode(allow)?);
        }
        self.commit(batch)
    }

    fn remove_allow(&self, number: &PhoneNumber) -> Result<Option<Allow>, StoreError> {
        self.remove_durably(key(ALLOW, number.as_str().as_bytes()))
    }

    fn allows(&self) -> Result<Vec<Allow>, StoreError> {
        self.all(ALLOW)
    }

    fn paused(&self) -> Result<bool, StoreError> {
        Ok(self.paused.load(Ordering::Acquire))
    }

    fn set_paused(&self, paused: bool) -> Result<(), StoreError> {
        let _alone = self.pausing.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let written = self.put_durably(PAUSED.to_vec(), &paused);
        // A failed write may or may not have reached the database: keep what it holds now.
        let now = match &written {
            Ok(()) => paused,
            Err(_) => {
                self.get::<bool>(PAUSED).map_or_else(|_| self.paused.load(Ordering::Acquire), Option::unwrap_or_default)
            }
        };
        self.paused.store(now, Ordering::Release);
        written
    }

    fn append_calls(&self, calls: &[CallRecord]) -> Result<(), StoreError> {
        // Not one sled batch: a batch holds sled's lock against every reader while it is applied,
        // and the readers are calls waiting for their answer. Plain inserts, in an order that leaves
        // a crash half-way with nothing worse than a call missing from an index or a count.
        let _writing = self.writes.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut writes: Vec<(Vec<u8>, Vec<u8>)> = Vec::with_capacity(calls.len() * 5);
        let mut positions = Vec::with_capacity(calls.len());
        // Counters touched by this batch, so that two refusals in one batch both count.
        let mut counted: HashMap<String, FollowUps> = HashMap::new();
        let mut tallies: HashMap<u64, HourTally> = HashMap::new();
        for call in calls {
            if let (Some(party), Some(follow_up)) = (&call.party, call.follow_up.filter(|_| call.is_refusal())) {
                let follow_ups = match counted.entry(party.clone()) {
                    Entry::Occupied(entry) => entry.into_mut(),
                    Entry::Vacant(entry) => {
                        let current = self.follow_ups(entry.key())?;
                        entry.insert(current)
                    }
                };
                follow_ups.numbered(follow_up, call.at);
            }
            let call_key = self.call_key(call)?;
            writes.push((key(CALL, &call_key), encode(call)?));
            positions.push((call.call_sid.clone(), call_key));
            writes.extend(index_keys(&call_key, call).into_iter().map(|index_key| (index_key, Vec::new())));
            tally(&mut tallies, call);
        }
        for (party, follow_ups) in counted {
            writes.push((key(FOLLOW_UPS, party.as_bytes()), encode(&follow_ups)?));
        }
        for (tally_key, tally) in self.added_tallies(tallies)? {
            writes.push((tally_key, encode(&tally)?));
        }
        for (write_key, value) in writes {
            self.db.insert(write_key, value).map_err(backend)?;
        }
        let mut recent = self.recent.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        for (call_sid, position) in positions {
            recent.remember(&call_sid, position);
        }
        Ok(())
    }

    fn attach_outcome(&self, call_sid: &str, outcome: ForwardOutcome) -> Result<bool, StoreError> {
        let Some(position) = self.position_of(call_sid)? else {
            return Ok(false);
        };
        let call_key = key(CALL, &position);
        let Some(mut call) = self.get::<CallRecord>(&call_key)? else {
            return Ok(false);
        };
        call.outcome.get_or_insert_with(ForwardOutcome::default).merge(outcome);
        self.put(&call_key, &encode(&call)?)?;
        Ok(true)
    }

    fn call_page(&self, query: &CallQuery) -> Result<CallPage, StoreError> {
        // The narrowest index that answers one of the filters; the rest are checked per call.
        let index = if let Some(number) = &query.number {
            [BY_FROM, number.as_bytes(), b"\0"].concat()
        } else if let Some(party) = query.party() {
            [BY_PARTY, party.as_bytes(), b"\0"].concat()
        } else {
            query.decision().and_then(decision_index).unwrap_or(CALL).to_vec()
        };
        self.walk(&index, query)
    }

    fn call_tallies(&self, since: Timestamp, until: Timestamp) -> Result<Vec<HourTally>, StoreError> {
        // Every hour that begins before `until`.
        let end = hour_of(until) + u64::from(until.as_second() % 3600 != 0 || until.subsec_nanosecond() != 0);
        let start = hour_of(since);
        if start >= end {
            return Ok(Vec::new());
        }
        let range = key(TALLY, &start.to_be_bytes())..key(TALLY, &end.to_be_bytes());
        self.db
            .range(range)
            .map(|entry| {
                let (entry_key, value) = entry.map_err(backend)?;
                let hour = u64::from_be_bytes(entry_key[TALLY.len()..].try_into().map_err(|_| corrupt_key())?);
                let tally: HourTally = decode(&value)?;
                let hour =
                    Timestamp::from_second(hour as i64 * 3600).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                Ok(HourTally { hour, ..tally })
            })
            .collect()
    }

    fn legal_holds(&self) -> Result<Vec<LegalHold>, StoreError> {
        self.all(LEGAL_HOLD)
    }

    fn set_legal_hold(&self, party: &str, since: Option<Timestamp>) -> Result<(), StoreError> {
        let hold_key = key(LEGAL_HOLD, party.as_bytes());
        let mut batch = sled::Batch::default();
        match since {
            Some(since) => batch.insert(hold_key, encode(&LegalHold { party: party.to_owned(), since })?),
            None => batch.remove(hold_key),
        }
        self.commit(batch)
    }

    fn prune_calls(
        &self,
        before: Timestamp,
        keep: &dyn Fn(&CallRecord) -> bool,
        after: Option<Cursor>,
        budget: usize,
    ) -> Result<Pruned, StoreError> {
        let lower = match after {
            Some(after) => Bound::Excluded(key(CALL, &after.0)),
            None => Bound::Included(key(CALL, &[0u8; 16])),
        };
        let upper = Bound::Excluded(key(CALL, &Cursor::at(before).0));
        // Plain removes, not a sled batch, which would hold every reader (calls waiting for their
        // answer) back while it is applied. A call's index entries go before its record, so a
        // crash half-way leaves at worst a record the next pass prunes again, never an entry
        // pointing at nothing that no pass would find.
        let _writing = self.writes.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        let remove = |entry_key: &[u8]| self.db.remove(entry_key).map(drop).map_err(backend);
        let mut pruned = Pruned::default();
        for (looked_at, entry) in self.db.range((lower, upper)).enumerate() {
            let (entry_key, value) = entry.map_err(backend)?;
            let position: [u8; 16] = entry_key[CALL.len()..].try_into().map_err(|_| corrupt_key())?;
            // A record that cannot be read may belong to a held party: it stays.
            match decode::<CallRecord>(&value) {
                Ok(call) if !keep(&call) => {
                    for index_key in index_keys(&position, &call) {
                        remove(&index_key)?;
                    }
                    // Databases written before calls went unkeyed by id point at them from
                    // `call-sid:`, unless a later call with the same id took the key over.
                    let sid_key = key(CALL_SID, call.call_sid.as_bytes());
                    if self.db.get(&sid_key).map_err(backend)?.is_some_and(|at| at == position[..]) {
                        remove(&sid_key)?;
                    }
                    remove(&entry_key)?;
                    pruned.calls += 1;
                }
                _ => pruned.kept += 1,
            }
            if looked_at + 1 >= budget {
                pruned.next = Some(Cursor(position));
                break;
            }
        }
        // Only the hours that ended by `before`: the hour it falls in still counts younger calls.
        let hours = key(TALLY, &0u64.to_be_bytes())..key(TALLY, &hour_of(before).to_be_bytes());
        let old_hours: Vec<sled::IVec> =
            self.db.range(hours).keys().take(budget).collect::<Result<_, _>>().map_err(backend)?;
        for hour in old_hours {
            remove(&hour)?;
            pruned.tallies += 1;
        }
        Ok(pruned)
    }

    fn password_hash(&self) -> Result<Option<String>, StoreError> {
        self.get(PASSWORD)
    }

    fn save_password_hash(&self, hash: &str) -> Result<(), StoreError> {
        self.put_durably(PASSWORD.to_vec(), &hash)
    }

    fn text_session(&self, owner: &PhoneNumber) -> Result<TextSession, StoreError> {
        Ok(self.get(&key(TEXT_SESSION, owner.as_str().as_bytes()))?.unwrap_or_default())
    }

    fn save_text_session(&self, owner: &PhoneNumber, session: &TextSession) -> Result<(), StoreError> {
        self.put_durably(key(TEXT_SESSION, owner.as_str().as_bytes()), session)
    }

    fn web_changes(&self) -> Result<Vec<WebChange>, StoreError> {
        Ok(self.get(WEB_CHANGES)?.unwrap_or_default())
    }

    fn save_web_changes(&self, changes: &[WebChange]) -> Result<(), StoreError> {
        self.put_durably(WEB_CHANGES.to_vec(), &changes)
    }

    /// Reads every record the owner entered, so damage shows now rather than on some later call.
    fn verify(&self) -> Result<(), StoreError> {
        for prefix in [SETTING, RULE, COMPANY, ALLOW, DECLINE, TEXT_SESSION, WEB_CHANGES, LEGAL_HOLD] {
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
        self.put(PROBE, &now)?;
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
    use crate::domain::DecisionKind;

    fn decline(number: &str) -> Decline {
        Decline::new(Target::Number(PhoneNumber::from_e164(number).unwrap()), jiff::Timestamp::UNIX_EPOCH)
    }

    #[test]
    fn a_database_holding_fewer_changes_than_were_acknowledged_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        {
            let store = SledStore::reopen(&path).unwrap();
            store.save_decline(&decline("+442079460123")).unwrap();
            store.save_decline(&decline("+442079460124")).unwrap();
            store.remove_decline(&Target::Number(PhoneNumber::from_e164("+442079460124").unwrap())).unwrap();
        }
        assert_eq!(std::fs::read_to_string(dir.path().join("db.generation")).unwrap(), "3");
        assert!(SledStore::reopen(&path).is_ok(), "a database that kept every change opens");

        // As if the file had lost the last changes while the marker kept counting.
        std::fs::write(dir.path().join("db.generation"), "7").unwrap();
        let error = SledStore::reopen(&path).err().expect("refused");
        assert!(matches!(&error, StoreError::Corrupt(message) if message.contains("3 of the 7")), "{error}");
    }

    #[test]
    fn the_pause_switch_is_read_back_when_the_database_is_opened_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        {
            let store = SledStore::reopen(&path).unwrap();
            store.set_paused(true).unwrap();
        }
        let store = SledStore::reopen(&path).unwrap();
        assert!(store.paused().unwrap());
        store.set_paused(false).unwrap();
        drop(store);
        assert!(!SledStore::reopen(&path).unwrap().paused().unwrap());
    }

    #[test]
    fn a_second_process_is_told_the_database_is_in_use() {
        let dir = tempfile::tempdir().unwrap();
        let _first = SledStore::open(&dir.path().join("db"), 8).unwrap();
        assert!(matches!(SledStore::open(&dir.path().join("db"), 8), Err(StoreError::Locked(_))));
    }

    #[test]
    fn pruning_a_call_leaves_no_key_that_points_at_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(&dir.path().join("db"), 8).unwrap();
        let old = CallRecord {
            call_sid: "CA-old".into(),
            from: "+442079460123".into(),
            at: "2024-01-01T10:00:00Z".parse().unwrap(),
            decision: DecisionKind::Decline,
            company: Some("Everest".into()),
            party: Some("company:everest".into()),
            ..Default::default()
        };
        let young =
            CallRecord { call_sid: "CA-young".into(), at: "2026-11-01T10:00:00Z".parse().unwrap(), ..old.clone() };
        store.append_calls(&[old, young]).unwrap();
        let position_of = |sid: &str| -> Vec<u8> {
            let mut calls = store.db.scan_prefix(CALL).map(|entry| entry.unwrap());
            let (call_key, _) = calls.find(|(_, value)| decode::<CallRecord>(value).unwrap().call_sid == sid).unwrap();
            call_key[CALL.len()..].to_vec()
        };
        let (old_position, young_position) = (position_of("CA-old"), position_of("CA-young"));
        // As a database written when calls were also keyed by their id.
        store.db.insert(key(CALL_SID, b"CA-old"), &old_position[..]).unwrap();
        store.db.insert(key(CALL_SID, b"CA-young"), &young_position[..]).unwrap();
        let keys_before: Vec<Vec<u8>> = store.db.iter().keys().map(|k| k.unwrap().to_vec()).collect();

        let pruned = store.prune_calls("2025-01-01T00:00:00Z".parse().unwrap(), &|_| false, None, 100).unwrap();
        assert_eq!((pruned.calls, pruned.tallies, pruned.next), (1, 1, None));

        // Gone: every key at the old call's position, its id's pointer and its hour's count; the
        // young call keeps every key it had. Which indexes a call has is the writer's business.
        let keys_after: Vec<Vec<u8>> = store.db.iter().keys().map(|k| k.unwrap().to_vec()).collect();
        let old_hour = key(TALLY, &hour_of("2024-01-01T10:00:00Z".parse().unwrap()).to_be_bytes());
        let mut expected_gone: Vec<&Vec<u8>> = keys_before.iter().filter(|k| k.ends_with(&old_position)).collect();
        assert!(expected_gone.len() >= 3, "the call, and at least its by-from and by-party entries");
        let sid_key = key(CALL_SID, b"CA-old");
        expected_gone.extend([&sid_key, &old_hour]);
        expected_gone.sort();
        let gone: Vec<&Vec<u8>> = keys_before.iter().filter(|k| !keys_after.contains(k)).collect();
        assert_eq!(gone, expected_gone);
        for entry in store.db.iter() {
            let (entry_key, value) = entry.unwrap();
            assert!(
                !entry_key.ends_with(&old_position) && value.as_ref() != old_position,
                "{entry_key:?} still points at the pruned call"
            );
        }
        assert!(keys_after.contains(&key(CALL_SID, b"CA-young")));
        assert_eq!(keys_after.iter().filter(|k| k.ends_with(&young_position)).count(), gone.len() - 2);
    }

    #[test]
    fn a_log_written_before_the_indexes_existed_is_indexed_when_opened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        {
            let store = SledStore::reopen(&path).unwrap();
            let mut refused = CallRecord {
                call_sid: "CA1".into(),
                from: "+442079460123".into(),
                to: "+442079460000".into(),
                at: "2026-11-01T10:00:00Z".parse().unwrap(),
                decision: DecisionKind::Decline,
                reason: "refused".into(),
                company: Some("Everest".into()),
                party: Some("company:everest".into()),
                ..Default::default()
            };
            store.append_calls(std::slice::from_ref(&refused)).unwrap();
            refused.call_sid = "CA2".into();
            refused.decision = DecisionKind::Forward;
            refused.company = None;
            refused.party = None;
            store.append_calls(&[refused]).unwrap();
            // Take the database back to how an older saidno left it: calls without indexes.
            for prefix in [REFUSED, BY_FROM, BY_PARTY, TALLY, INDEXED] {
                for entry in store.db.scan_prefix(prefix).keys() {
                    store.db.remove(entry.unwrap()).unwrap();
                }
            }
            store.flush().unwrap();
        }
        let store = SledStore::reopen(&path).unwrap();
        let sids = |query: CallQuery| -> Vec<String> {
            store.call_page(&CallQuery { limit: 10, ..query }).unwrap().calls.into_iter().map(|c| c.call_sid).collect()
        };
        assert_eq!(sids(CallQuery { number: Some("+442079460123".into()), ..Default::default() }), ["CA2", "CA1"]);
        assert_eq!(sids(CallQuery { company: Some("everest".into()), ..Default::default() }), ["CA1"]);
        assert_eq!(sids(CallQuery { decision: Some(DecisionKind::Forward), ..Default::default() }), ["CA2"]);
        let day = store.call_tallies("2026-11-01T00:00:00Z".parse().unwrap(), "2026-11-02T00:00:00Z".parse().unwrap());
        assert_eq!(day.unwrap().iter().map(|t| t.forwarded + t.refused).sum::<u64>(), 2);
    }

    #[test]
    fn an_outcome_reported_after_a_restart_still_finds_its_call() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let call = |sid: &str| CallRecord {
            call_sid: sid.into(),
            from: "+442079460123".into(),
            to: "+442079460000".into(),
            at: "2026-11-01T10:00:00Z".parse().unwrap(),
            reason: "forwarded".into(),
            ..Default::default()
        };
        {
            let store = SledStore::reopen(&path).unwrap();
            store.append_calls(&[call("CA1"), call("CA2"), call("CA3")]).unwrap();
            store.flush().unwrap();
        }
        let store = SledStore::reopen(&path).unwrap();
        let answered = ForwardOutcome { status: Some("answered".into()), ..Default::default() };
        assert!(store.attach_outcome("CA2", answered).unwrap());
        assert!(!store.attach_outcome("CA4", ForwardOutcome::default()).unwrap());
        let calls = store.call_page(&CallQuery { limit: 10, ..Default::default() }).unwrap().calls;
        let outcome = |sid: &str| calls.iter().find(|c| c.call_sid == sid).unwrap().outcome.clone();
        assert_eq!(outcome("CA2").and_then(|o| o.status).as_deref(), Some("answered"));
        assert_eq!(outcome("CA1"), None);
        assert_eq!(outcome("CA3"), None);
    }
}
