//! The embedded store: the owner's record in sled, one tree, keys prefixed by kind, values as
//! JSON so new fields can be added; the call log in SQLite beside it (see `call_db`).
//!
//! Key layout: `declines:<number>` holds the declines of single numbers, in groups (see
//! `number_declines`; an older release kept one `decline:<e164>` key each, moved into groups at
//! opening); `allow:<e164>` holds an allow; `rule:<kind>:<text>` holds a
//! decline of a range or pattern; `company:<key>` keeps a company's name as first written;
//! `secret:password` holds the web page's password hash; `text-session:<e164>` keeps what an
//! owner's texts left behind; `legal-hold:<party>` marks a party whose calls are never pruned.
//! The call log's own layout in sled, from before it moved (`call:`, `tally:`, `follow-ups:` and
//! their indexes), is read only to move it (see `old_log`), and is the layout of backups.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use serde::Serialize;
use serde::de::DeserializeOwned;

use jiff::Timestamp;

use super::{
    Answer, Archive, CallFacts, CallHistory, CallPage, CallQuery, CallSink, Change, Cursor, HourTally, Keep,
    NumberVisit, OwnerRecord, Pruned, Publish, Removed, RepeatCaller, StoreError, ready,
};
use crate::backup::{self, BackupError};
use crate::config::OwnerChoices;
use crate::domain::{
    Allow, BusinessId, CallRecord, Decline, DeclineBatch, DeclineTerms, FollowUps, ForwardOutcome, LegalHold,
    PhoneNumber, SettingChange, SignedIn, Target, TextSession, WebChange, company_key,
};

mod call_db;
mod import;
mod number_declines;
mod old_log;

use call_db::CallDb;

const DECLINE: &[u8] = b"decline:";
const ALLOW: &[u8] = b"allow:";
/// The call log's records in a backup, as they were once kept in sled.
const CALL: &[u8] = b"call:";
const COMPANY: &[u8] = b"company:";
const FOLLOW_UPS: &[u8] = b"follow-ups:";
const TEXT_SESSION: &[u8] = b"text-session:";
const WEB_CHANGES: &[u8] = b"web-changes";
const SIGNED_IN: &[u8] = b"signed-in";
const RULE: &[u8] = b"rule:";
const SETTING: &[u8] = b"setting:";
const PAUSED: &[u8] = b"setting:paused";
/// Who last set the pause switch, and when; written in the same batch as the switch.
const PAUSE_CHANGED: &[u8] = b"setting:paused-changed";
/// The settings the owner changed from the web page, as one record.
const OWNER_CHOICES: &[u8] = b"setting:owner-choices";
const TALLY: &[u8] = b"tally:";
const LEGAL_HOLD: &[u8] = b"legal-hold:";
const PASSWORD: &[u8] = b"secret:password";
const GENERATION: &[u8] = b"setting:generation";
const PROBE: &[u8] = b"setting:probe";

/// The embedded store. Its work blocks on the disk, so the async roles run it on tokio's blocking
/// pool, which needs a `'static` handle to it.
pub struct SledStore {
    inner: Arc<Database>,
    /// Owner decisions awaiting their dial callback: only this process answers its calls, and a
    /// decision outlives its call by minutes at most, so memory is where they belong.
    pending: super::PendingDecisions,
}

struct Database {
    db: sled::Db,
    /// How many owner changes have been acknowledged, kept in the database and mirrored in a
    /// file beside it. sled recovers a damaged file by silently dropping what it cannot read, so a
    /// database that comes back holding fewer changes than were acknowledged is refused, not trusted.
    generation: Mutex<u64>,
    marker: PathBuf,
    /// Writes share it; a backup takes it alone, so the copy is of one moment.
    writes: RwLock<()>,
    calls: CallDb,
    /// The pause switch as stored, read on every call without a look-up. Only `set_paused` writes
    /// the switch, and it sets this (holding the generation, so two switches cannot cross) once
    /// the change is on disk.
    paused: AtomicBool,
}

impl SledStore {
    pub fn open(path: &Path, cache_mb: u64) -> Result<Self, StoreError> {
        Ok(Self { inner: Arc::new(Database::open(path, cache_mb)?), pending: Default::default() })
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

    /// Replaces the database at `path` with the records of a backup. The database must not be
    /// open; the one it replaces is kept beside it, and its path returned with the count.
    pub fn restore(path: &Path, input: &mut dyn std::io::Read) -> Result<(u64, PathBuf), StoreError> {
        Database::restore(path, input)
    }

    /// Runs `work` on tokio's blocking pool, so that no async worker waits on the disk.
    fn off_runtime<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Database) -> Result<T, StoreError> + Send + 'static,
    ) -> Answer<'static, T> {
        let inner = self.inner.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || work(&inner))
                .await
                .map_err(|error| StoreError::Backend(format!("the store's work was cut short: {error}")))?
        })
    }
}

impl Database {
    fn open(path: &Path, cache_mb: u64) -> Result<Self, StoreError> {
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
            calls: CallDb::open(&call_log_path(path))?,
            paused: AtomicBool::new(paused),
        };
        let undone = store.settle_interrupted_import()?;
        if undone > 0 {
            tracing::warn!(records = undone, "an import was cut short; what it had written is undone");
        }
        store.move_old_log()?;
        store.group_single_declines()?;
        Ok(store)
    }

    /// Applies an owner change and makes it durable before returning: the database is flushed,
    /// then the marker file records the new generation. The caller holds the generation, and so
    /// every other owner change.
    fn commit_holding(&self, generation: &mut MutexGuard<'_, u64>, mut batch: sled::Batch) -> Result<(), StoreError> {
        let next = **generation + 1;
        batch.insert(GENERATION, &next.to_be_bytes());
        self.write_batch(batch)?;
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

    fn write_batch(&self, batch: sled::Batch) -> Result<(), StoreError> {
        let _writing = self.writes.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        self.db.apply_batch(batch).map_err(backend)
    }

    fn restore(path: &Path, input: &mut dyn std::io::Read) -> Result<(u64, PathBuf), StoreError> {
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
        // The call log goes with the database it belonged to; the restored one's calls are moved
        // into a new log when it is opened.
        for (from, to) in call_log_files(path).into_iter().zip(call_log_files(&kept)) {
            if from.exists() {
                std::fs::rename(from, to).map_err(moved)?;
            }
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

    /// Declines of numbers written one key each, by an older release or in an older backup, move
    /// into groups once.
    fn group_single_declines(&self) -> Result<(), StoreError> {
        let mut generation = self.generation.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let moved = number_declines::take_in_single_keys(&self.db, DECLINE, &mut |batch| {
            self.commit_holding(&mut generation, batch)
        })?;
        if moved > 0 {
            tracing::info!(declines = moved, "declines moved into groups");
        }
        Ok(())
    }

    /// Adds to `batch` the declines' numbers (their groups rewritten), each rule under its own
    /// key, and the companies named for the first time.
    fn add_declines(&self, batch: &mut sled::Batch, declines: &DeclineBatch) -> Result<(), StoreError> {
        let mut new_companies = HashMap::new();
        let companies = declines.terms().iter().filter_map(|terms| terms.company.as_ref());
        for company in companies.chain(declines.rules().iter().filter_map(|rule| rule.company.as_ref())) {
            // The first naming of a company decides whether it is new.
            if let Entry::Vacant(entry) = new_companies.entry(key(COMPANY, company_key(company).as_bytes())) {
                let known = self.db.contains_key(entry.key()).map_err(backend)?;
                entry.insert((!known).then(|| company.clone()));
            }
        }
        for rule in declines.rules() {
            batch.insert(rule_key(&rule.target), encode(rule)?);
        }
        let changes: Vec<(u64, Option<&DeclineTerms>)> =
            declines.numbers().map(|(key, terms)| (key, Some(terms))).collect();
        number_declines::change(&self.db, batch, changes)?;
        for (company_key, company) in new_companies {
            if let Some(company) = company {
                batch.insert(company_key, encode(&company)?);
            }
        }
        Ok(())
    }

    /// The pause switch is read on every call without a look-up, from `paused`, which is set
    /// here once the change is on disk.
    fn set_paused(
        &self,
        generation: &mut MutexGuard<'_, u64>,
        paused: bool,
        changed: &SettingChange,
    ) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        batch.insert(PAUSED, encode(&paused)?);
        batch.insert(PAUSE_CHANGED, encode(changed)?);
        let written = self.commit_holding(generation, batch);
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

    fn all<T: DeserializeOwned>(&self, prefix: &[u8]) -> Result<Vec<T>, StoreError> {
        self.db.scan_prefix(prefix).values().map(|value| decode(&value.map_err(backend)?)).collect()
    }
}

/// The SQLite file of the call log that belongs to the sled database at `path`.
fn call_log_path(path: &Path) -> PathBuf {
    path.with_extension("calls.sqlite")
}

/// The call log's file and the two SQLite keeps beside it in WAL mode.
fn call_log_files(path: &Path) -> [PathBuf; 3] {
    let main = call_log_path(path);
    let beside = |suffix: &str| PathBuf::from(format!("{}{suffix}", main.display()));
    [beside("-wal"), beside("-shm"), main]
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

/// A decline of a range or pattern; declines of numbers are kept in groups.
fn allow_key(number: &PhoneNumber) -> Vec<u8> {
    key(ALLOW, number.as_str().as_bytes())
}

fn rule_key(rule: &Target) -> Vec<u8> {
    key(RULE, rule.key().as_bytes())
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

/// The roles' work, done where it may block.
impl Database {
    fn decline(&self, target: &Target) -> Result<Option<Decline>, StoreError> {
        match target {
            Target::Number(number) => number_declines::get(&self.db, number),
            rule => self.get(&rule_key(rule)),
        }
    }

    fn allow_of(&self, number: &PhoneNumber) -> Result<Option<Allow>, StoreError> {
        self.get(&allow_key(number))
    }

    fn declines(&self) -> Result<Vec<Decline>, StoreError> {
        let mut declines = Vec::new();
        number_declines::each(&self.db, &mut |decline| declines.push(decline))?;
        // In the order of their text, as the numbers were listed before they were kept in groups.
        declines.sort_by(|a, b| match (&a.target, &b.target) {
            (Target::Number(a), Target::Number(b)) => a.as_str().cmp(b.as_str()),
            _ => std::cmp::Ordering::Equal,
        });
        declines.extend(self.rules()?);
        Ok(declines)
    }

    fn rules(&self) -> Result<Vec<Decline>, StoreError> {
        self.all(RULE)
    }

    fn company_name(&self, company: &str) -> Result<Option<String>, StoreError> {
        self.get(&key(COMPANY, company.as_bytes()))
    }

    fn allows(&self) -> Result<Vec<Allow>, StoreError> {
        self.all(ALLOW)
    }

    fn paused(&self) -> Result<bool, StoreError> {
        Ok(self.paused.load(Ordering::Acquire))
    }

    fn pause_changed(&self) -> Result<Option<SettingChange>, StoreError> {
        self.get(PAUSE_CHANGED)
    }

    fn owner_choices(&self) -> Result<OwnerChoices, StoreError> {
        Ok(self.get(OWNER_CHOICES)?.unwrap_or_default())
    }

    fn legal_holds(&self) -> Result<Vec<LegalHold>, StoreError> {
        self.all(LEGAL_HOLD)
    }

    fn password_hash(&self) -> Result<Option<String>, StoreError> {
        self.get(PASSWORD)
    }

    fn text_session(&self, owner: &PhoneNumber) -> Result<TextSession, StoreError> {
        Ok(self.get(&key(TEXT_SESSION, owner.as_str().as_bytes()))?.unwrap_or_default())
    }

    fn web_changes(&self) -> Result<Vec<WebChange>, StoreError> {
        Ok(self.get(WEB_CHANGES)?.unwrap_or_default())
    }

    fn signed_in(&self) -> Result<Vec<SignedIn>, StoreError> {
        Ok(self.get(SIGNED_IN)?.unwrap_or_default())
    }

    /// Every change is one sled batch, read and written while holding the generation (and so
    /// every other owner change), then flushed and counted in the marker, and published while the
    /// generation is still held, before it returns: the one place the owner's record changes.
    fn apply(&self, change: &Change, publish: &Publish) -> Result<Removed, StoreError> {
        Ok(self.make(change, publish, false)?.unwrap_or_default())
    }

    /// `apply`; with `only_unspent`, an allow is saved only over one still unspent (`None` when it
    /// is not), read and written holding the generation so that no other change comes between.
    fn make(&self, change: &Change, publish: &Publish, only_unspent: bool) -> Result<Option<Removed>, StoreError> {
        let mut generation = self.generation.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut batch = sled::Batch::default();
        let mut removed = Removed::Nothing;
        match change {
            Change::Decline(decline) => self.add_declines(&mut batch, &DeclineBatch::from_iter([decline.clone()]))?,
            Change::Declines(declines) => self.add_declines(&mut batch, declines)?,
            Change::RemoveDecline(Target::Number(number)) => {
                let Some(decline) = number_declines::get(&self.db, number)? else { return Ok(Some(removed)) };
                number_declines::change(&self.db, &mut batch, vec![(number.key(), None)])?;
                removed = Removed::Decline(decline);
            }
            Change::RemoveDecline(rule) => {
                let Some(decline) = self.get(&rule_key(rule))? else { return Ok(Some(removed)) };
                batch.remove(rule_key(rule));
                removed = Removed::Decline(decline);
            }
            Change::Allow(allow) => {
                if only_unspent && self.allow_of(&allow.number)?.is_none_or(|kept| kept.used_at.is_some()) {
                    return Ok(None);
                }
                batch.insert(allow_key(&allow.number), encode(allow)?);
            }
            Change::Allows(allows) => {
                for allow in allows {
                    batch.insert(allow_key(&allow.number), encode(allow)?);
                }
            }
            Change::RemoveAllow(number) => {
                let Some(allow) = self.get(&allow_key(number))? else { return Ok(Some(removed)) };
                batch.remove(allow_key(number));
                removed = Removed::Allow(allow);
            }
            Change::Paused { paused, changed } => {
                self.set_paused(&mut generation, *paused, changed)?;
                publish.published(change);
                return Ok(Some(removed));
            }
            Change::Setting(state) => {
                // Read and written holding the generation, so no other change comes between.
                let mut choices = self.owner_choices()?;
                choices.put(state);
                batch.insert(OWNER_CHOICES, encode(&choices)?);
            }
            Change::LegalHold { party, since } => {
                let hold_key = key(LEGAL_HOLD, party.as_bytes());
                match *since {
                    Some(since) => batch.insert(hold_key, encode(&LegalHold { party: party.clone(), since })?),
                    None => batch.remove(hold_key),
                }
            }
            Change::PasswordHash(hash) => batch.insert(PASSWORD, encode(&hash)?),
            Change::TextSession { owner, session } => {
                batch.insert(key(TEXT_SESSION, owner.as_str().as_bytes()), encode(session)?);
            }
            Change::WebChanges(changes) => batch.insert(WEB_CHANGES, encode(&changes)?),
            Change::SignIn { .. } | Change::SignOut { .. } => {
                let browsers = change.signed_in_after(self.signed_in()?).unwrap_or_default();
                batch.insert(SIGNED_IN, encode(&browsers)?);
            }
        }
        self.commit_holding(&mut generation, batch)?;
        publish.published(change);
        Ok(Some(removed))
    }

    fn probe(&self) -> Result<(), StoreError> {
        let now = jiff::Timestamp::now().as_microsecond().to_be_bytes();
        self.put(PROBE, &now)?;
        self.db.flush().map(drop).map_err(backend)
    }

    /// Gets every logged call and every owner change written so far to disk.
    fn flush(&self) -> Result<(), StoreError> {
        self.calls.flush()?;
        self.db.flush().map(drop).map_err(backend)
    }
}

impl OwnerRecord for SledStore {
    fn decline(&self, target: &Target) -> Answer<'_, Option<Decline>> {
        let target = target.clone();
        self.off_runtime(move |db| db.decline(&target))
    }

    fn allow_of(&self, number: &PhoneNumber) -> Answer<'_, Option<Allow>> {
        let number = number.clone();
        self.off_runtime(move |db| db.allow_of(&number))
    }

    fn declines(&self) -> Answer<'_, Vec<Decline>> {
        self.off_runtime(Database::declines)
    }

    fn each_number_decline(&self, mut visit: NumberVisit) -> Answer<'_, ()> {
        self.off_runtime(move |db| number_declines::each_shared(&db.db, &mut visit))
    }

    fn rules(&self) -> Answer<'_, Vec<Decline>> {
        self.off_runtime(Database::rules)
    }

    fn company_name(&self, company: &str) -> Answer<'_, Option<String>> {
        let company = company.to_owned();
        self.off_runtime(move |db| db.company_name(&company))
    }

    fn allows(&self) -> Answer<'_, Vec<Allow>> {
        self.off_runtime(Database::allows)
    }

    /// Kept in memory, so read without the blocking pool.
    fn paused(&self) -> Answer<'_, bool> {
        ready(self.inner.paused())
    }

    fn pause_changed(&self) -> Answer<'_, Option<SettingChange>> {
        self.off_runtime(Database::pause_changed)
    }

    fn owner_choices(&self) -> Answer<'_, OwnerChoices> {
        self.off_runtime(Database::owner_choices)
    }

    fn legal_holds(&self) -> Answer<'_, Vec<LegalHold>> {
        self.off_runtime(Database::legal_holds)
    }

    fn password_hash(&self) -> Answer<'_, Option<String>> {
        self.off_runtime(Database::password_hash)
    }

    fn text_session(&self, owner: &PhoneNumber) -> Answer<'_, TextSession> {
        let owner = owner.clone();
        self.off_runtime(move |db| db.text_session(&owner))
    }

    fn web_changes(&self) -> Answer<'_, Vec<WebChange>> {
        self.off_runtime(Database::web_changes)
    }

    fn signed_in(&self) -> Answer<'_, Vec<SignedIn>> {
        self.off_runtime(Database::signed_in)
    }

    fn apply(&self, change: Change, publish: Publish) -> Answer<'_, Removed> {
        self.off_runtime(move |db| db.apply(&change, &publish))
    }

    fn apply_blocking(&self, change: Change, publish: Publish) -> Result<Removed, StoreError> {
        self.inner.apply(&change, &publish)
    }

    fn spend_allow(&self, spent: Allow, publish: Publish) -> Result<bool, StoreError> {
        Ok(self.inner.make(&Change::Allow(spent), &publish, true)?.is_some())
    }

    fn probe(&self) -> Answer<'_, ()> {
        self.off_runtime(Database::probe)
    }
}

/// Written by the call log's own thread, which may block.
impl CallSink for SledStore {
    fn append_calls(&self, calls: &[CallRecord]) -> Result<(), StoreError> {
        self.inner.calls.append(calls)
    }

    fn attach_outcomes(&self, outcomes: &[(BusinessId, String, ForwardOutcome)]) -> Result<Vec<bool>, StoreError> {
        // One business's log: the business each outcome names is this one.
        let outcomes: Vec<(String, ForwardOutcome)> =
            outcomes.iter().map(|(_, call_id, outcome)| (call_id.clone(), outcome.clone())).collect();
        self.inner.calls.attach_outcomes(&outcomes)
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.inner.flush()
    }
}

impl CallHistory for SledStore {
    fn call_page(&self, query: &CallQuery) -> Answer<'_, CallPage> {
        let query = query.clone();
        self.off_runtime(move |db| db.calls.page(&query))
    }

    fn call_tallies(&self, since: Timestamp, until: Timestamp) -> Answer<'_, Vec<HourTally>> {
        self.off_runtime(move |db| db.calls.tallies(since, until))
    }

    fn follow_ups(&self, party: &str) -> Answer<'_, FollowUps> {
        let party = party.to_owned();
        self.off_runtime(move |db| db.calls.follow_ups(&party))
    }

    fn follow_up_counts(&self) -> Answer<'_, Vec<(String, FollowUps)>> {
        self.off_runtime(|db| db.calls.follow_up_counts())
    }

    fn calls_after_no(&self, since: Timestamp, until: Timestamp) -> Answer<'_, u64> {
        self.off_runtime(move |db| db.calls.calls_after_no(since, until))
    }

    fn repeat_callers(&self, since: Timestamp, min_calls: u32, limit: usize) -> Answer<'_, Vec<RepeatCaller>> {
        self.off_runtime(move |db| db.calls.repeat_callers(since, min_calls, limit))
    }

    fn prune_calls(&self, before: Timestamp, keep: Keep, after: Option<Cursor>, budget: usize) -> Answer<'_, Pruned> {
        self.off_runtime(move |db| db.calls.prune(before, &keep, after, budget))
    }
}

impl CallFacts for SledStore {
    fn hold_owner_decision(&self, call_id: &str, decision: crate::domain::OwnerDecision) -> Answer<'_, ()> {
        self.pending.put(call_id, decision);
        ready(Ok(()))
    }

    fn take_owner_decision(&self, call_id: &str) -> Answer<'_, Option<crate::domain::OwnerDecision>> {
        ready(Ok(self.pending.take(call_id)))
    }
}

impl Archive for SledStore {
    fn verify(&self) -> Result<(), StoreError> {
        self.inner.verify()
    }

    fn backup(&self, out: &mut dyn std::io::Write) -> Result<u64, StoreError> {
        self.inner.backup(out)
    }
}

impl Database {
    /// Reads every record the owner entered, and the call log's structure, so damage shows now
    /// rather than on some later call.
    fn verify(&self) -> Result<(), StoreError> {
        self.calls.verify()?;
        // Every group of declines is read whole, with each of its numbers.
        number_declines::each(&self.db, &mut drop)?;
        for prefix in [SETTING, RULE, COMPANY, ALLOW, TEXT_SESSION, WEB_CHANGES, SIGNED_IN, LEGAL_HOLD] {
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
        self.calls.each_record(|key, value| writer.record(key, value).map_err(failed))?;
        writer.finish().map_err(failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::DecisionKind;

    fn decline(number: &str) -> Decline {
        Decline::new(Target::Number(PhoneNumber::from_e164(number).unwrap()), jiff::Timestamp::UNIX_EPOCH)
    }

    #[tokio::test]
    async fn a_database_holding_fewer_changes_than_were_acknowledged_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        {
            let store = SledStore::reopen(&path).unwrap();
            store.apply(Change::Decline(decline("+442079460123")), Publish::nowhere()).await.unwrap();
            store.apply(Change::Decline(decline("+442079460124")), Publish::nowhere()).await.unwrap();
            let second = Target::Number(PhoneNumber::from_e164("+442079460124").unwrap());
            store.apply(Change::RemoveDecline(second), Publish::nowhere()).await.unwrap();
        }
        assert_eq!(std::fs::read_to_string(dir.path().join("db.generation")).unwrap(), "3");
        assert!(SledStore::reopen(&path).is_ok(), "a database that kept every change opens");

        // As if the file had lost the last changes while the marker kept counting.
        std::fs::write(dir.path().join("db.generation"), "7").unwrap();
        let error = SledStore::reopen(&path).err().expect("refused");
        assert!(matches!(&error, StoreError::Corrupt(message) if message.contains("3 of the 7")), "{error}");
    }

    #[tokio::test]
    async fn the_pause_switch_is_read_back_when_the_database_is_opened_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        {
            let store = SledStore::reopen(&path).unwrap();
            store
                .apply(
                    Change::Paused { paused: true, changed: crate::domain::SettingChange::default() },
                    Publish::nowhere(),
                )
                .await
                .unwrap();
        }
        let store = SledStore::reopen(&path).unwrap();
        assert!(store.paused().await.unwrap());
        store
            .apply(
                Change::Paused { paused: false, changed: crate::domain::SettingChange::default() },
                Publish::nowhere(),
            )
            .await
            .unwrap();
        drop(store);
        assert!(!SledStore::reopen(&path).unwrap().paused().await.unwrap());
    }

    #[tokio::test]
    async fn a_second_process_is_told_the_database_is_in_use() {
        let dir = tempfile::tempdir().unwrap();
        let _first = SledStore::open(&dir.path().join("db"), 8).unwrap();
        assert!(matches!(SledStore::open(&dir.path().join("db"), 8), Err(StoreError::Locked(_))));
    }

    /// A database as the release before wrote it: the call log in sled, with its indexes.
    fn write_old_layout(path: &Path) {
        let db = sled::open(path).unwrap();
        let refused = CallRecord {
            call_id: "CA1".into(),
            from: "+442079460123".into(),
            to: "+442079460000".into(),
            at: "2026-11-01T10:00:00Z".parse().unwrap(),
            decision: DecisionKind::Decline,
            reason: "refused: Everest, declined 3 Nov 2026; 1st call since".into(),
            company: Some("Everest".into()),
            party: Some("company:everest".into()),
            follow_up: Some(1),
            heard: Some("We said no".into()),
            ..Default::default()
        };
        let forwarded = CallRecord {
            call_id: "CA2".into(),
            at: "2026-11-01T11:00:00Z".parse().unwrap(),
            decision: DecisionKind::Forward,
            reason: "forwarded: no decline on record for +442079460123".into(),
            company: None,
            party: None,
            follow_up: None,
            outcome: Some(ForwardOutcome { status: Some("no-answer".into()), ..Default::default() }),
            ..refused.clone()
        };
        for (id, call) in [(7u64, &refused), (9, &forwarded)] {
            let position = Cursor::new(call.at, id).0;
            db.insert(key(CALL, &position), encode(call).unwrap()).unwrap();
            db.insert([&b"by-from:"[..], call.from.as_bytes(), b"\0", &position].concat(), &[][..]).unwrap();
        }
        let refused_at = Cursor::new(refused.at, 7).0;
        db.insert(key(b"refused:", &refused_at), &[][..]).unwrap();
        db.insert([&b"by-party:company:everest\0"[..], &refused_at].concat(), &[][..]).unwrap();
        db.insert(key(b"call-sid:", b"CA1"), &refused_at[..]).unwrap();
        let hour = (refused.at.as_second() / 3600) as u64;
        let tally = HourTally { forwarded: 1, refused: 1, ..Default::default() };
        db.insert(key(TALLY, &hour.to_be_bytes()), encode(&tally).unwrap()).unwrap();
        let follow_ups = FollowUps { count: 1, first_at: Some(refused.at), last_at: Some(refused.at) };
        db.insert(key(FOLLOW_UPS, b"company:everest"), encode(&follow_ups).unwrap()).unwrap();
        db.insert(b"meta:call-indexes-v1", &[][..]).unwrap();
        db.insert(key(DECLINE, b"+442079460123"), encode(&decline("+442079460123")).unwrap()).unwrap();
        let allow = Allow::always(PhoneNumber::from_e164("+442079460124").unwrap(), None, refused.at);
        db.insert(key(ALLOW, b"+442079460124"), encode(&allow).unwrap()).unwrap();
        let hold = LegalHold { party: "company:everest".into(), since: refused.at };
        db.insert(key(LEGAL_HOLD, b"company:everest"), encode(&hold).unwrap()).unwrap();
        db.insert(PASSWORD, encode(&"$argon2id$old").unwrap()).unwrap();
        db.flush().unwrap();
    }

    #[tokio::test]
    async fn a_call_log_in_the_old_layout_moves_once_with_nothing_lost() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        write_old_layout(&path);
        for opening in ["first", "second"] {
            let store = SledStore::reopen(&path).unwrap();
            let sids = async |query: CallQuery| -> Vec<String> {
                let page = store.call_page(&CallQuery { limit: 10, ..query }).await.unwrap();
                page.calls.into_iter().map(|c| c.call_id).collect()
            };
            // The second time, with the call logged after the move.
            let expected: &[&str] = if opening == "first" { &["CA2", "CA1"] } else { &["CA3", "CA2", "CA1"] };
            assert_eq!(sids(CallQuery::default()).await, expected, "{opening} opening");
            assert_eq!(
                sids(CallQuery { number: Some("+442079460123".into()), ..Default::default() }).await,
                ["CA2", "CA1"]
            );
            assert_eq!(sids(CallQuery { company: Some("everest".into()), ..Default::default() }).await, ["CA1"]);
            assert_eq!(sids(CallQuery { decision: Some(DecisionKind::Decline), ..Default::default() }).await, ["CA1"]);
            let calls =
                store.call_page(&CallQuery { number: Some("+442079460123".into()), limit: 10, ..Default::default() });
            let calls = calls.await.unwrap().calls;
            assert_eq!(calls[0].outcome.as_ref().and_then(|o| o.status.as_deref()), Some("no-answer"));
            assert_eq!((calls[1].follow_up, calls[1].heard.as_deref()), (Some(1), Some("We said no")));
            let day =
                store.call_tallies("2026-11-01T00:00:00Z".parse().unwrap(), "2026-11-02T00:00:00Z".parse().unwrap());
            assert_eq!(day.await.unwrap().iter().map(|t| (t.forwarded, t.refused)).collect::<Vec<_>>(), [(1, 1)]);
            assert_eq!(store.follow_ups("company:everest").await.unwrap().count, 1);
            assert_eq!(store.declines().await.unwrap(), [decline("+442079460123")], "the owner's record stays in sled");
            assert_eq!(store.allows().await.unwrap().len(), 1);
            assert_eq!(store.legal_holds().await.unwrap().len(), 1);
            assert_eq!(store.password_hash().await.unwrap().as_deref(), Some("$argon2id$old"));
            for prefix in [CALL, TALLY, FOLLOW_UPS, DECLINE, b"by-from:", b"refused:", b"by-party:", b"call-sid:"] {
                assert!(
                    store.inner.db.scan_prefix(prefix).next().is_none(),
                    "{} left in sled",
                    String::from_utf8_lossy(prefix)
                );
            }
            // A new call numbers on after the moved ones.
            if opening == "first" {
                let new = CallRecord {
                    call_id: "CA3".into(),
                    at: "2026-11-05T10:00:00Z".parse().unwrap(),
                    ..Default::default()
                };
                store.append_calls(&[new]).unwrap();
            }
        }
    }

    #[tokio::test]
    async fn a_backup_holds_the_call_log_and_restores_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        write_old_layout(&path);
        let mut copy = Vec::new();
        {
            let store = SledStore::reopen(&path).unwrap();
            let escaped = ForwardOutcome { via_escape_hatch: true, ..Default::default() };
            assert_eq!(store.attach_outcomes(&[(BusinessId::DEFAULT, "CA1".into(), escaped)]).unwrap(), [true]);
            store.backup(&mut copy).unwrap();
        }
        let (_, kept) = SledStore::restore(&path, &mut copy.as_slice()).unwrap();
        assert!(call_log_path(&kept).exists(), "the replaced call log is kept with its database");
        let store = SledStore::reopen(&path).unwrap();
        let calls = store.call_page(&CallQuery { limit: 10, ..Default::default() }).await.unwrap().calls;
        assert_eq!(calls.iter().map(|c| c.call_id.as_str()).collect::<Vec<_>>(), ["CA2", "CA1"]);
        assert!(calls[1].outcome.as_ref().is_some_and(|o| o.via_escape_hatch));
        assert_eq!(store.follow_ups("company:everest").await.unwrap().count, 1);
    }

    #[tokio::test]
    async fn an_outcome_reported_after_a_restart_still_finds_its_call() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let call = |sid: &str| CallRecord {
            call_id: sid.into(),
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
        assert!(store.attach_outcomes(&[(BusinessId::DEFAULT, "CA2".into(), answered)]).unwrap()[0]);
        assert!(!store.attach_outcomes(&[(BusinessId::DEFAULT, "CA4".into(), ForwardOutcome::default())]).unwrap()[0]);
        let calls = store.call_page(&CallQuery { limit: 10, ..Default::default() }).await.unwrap().calls;
        let outcome = |sid: &str| calls.iter().find(|c| c.call_id == sid).unwrap().outcome.clone();
        assert_eq!(outcome("CA2").and_then(|o| o.status).as_deref(), Some("answered"));
        assert_eq!(outcome("CA1"), None);
        assert_eq!(outcome("CA3"), None);
    }
}
