//! The call log, in SQLite beside the sled database: calls are appended in batches, one
//! transaction each, and read back along an index for each filter. sled keeps the owner's record;
//! an append-only log with filtered, newest-first pages is what SQLite does well, and it keeps
//! nothing in memory for the pages it has written.
//!
//! Durability: the log runs in WAL mode with `synchronous = NORMAL`, so a committed batch survives
//! the process being killed, and `flush` (at shutdown, and for a durable barrier) checkpoints it
//! into the main file, which survives the machine losing power too.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::super::query::{
    COMPANY, PageFill, decision_code, decision_of, hour_of, hours_before, like_escaped, party_of,
};
use super::super::{CallPage, CallQuery, Cursor, HourTally, Pruned, RepeatCaller, SCAN_BUDGET, StoreError};
use crate::domain::{CallRecord, DecisionKind, FollowUps, ForwardOutcome};

/// The calls from a number are found through `caller_spans`: each number with the spans of 2^26
/// microseconds (about 67 seconds) in which it called. An index of every call by its number
/// would put each new call's entry at a random place in it, so a busy line's every commit
/// rewrote a page of that index per call; a number calling again within its span writes nothing
/// there. A page of one number's calls reads its spans newest first and, in each, the calls of
/// that minute: a few dozen rows on a line answering a call a second. The span is a shift rather
/// than a division so that times before 1970 fall in the right span too.
const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS calls (
        at INTEGER NOT NULL,
        id INTEGER NOT NULL,
        call_id TEXT NOT NULL,
        caller TEXT NOT NULL,
        called TEXT NOT NULL,
        decision INTEGER NOT NULL,
        reason TEXT NOT NULL,
        company TEXT,
        caller_name TEXT,
        verification TEXT,
        outcome TEXT,
        follow_up INTEGER,
        party TEXT,
        flagged INTEGER NOT NULL,
        used_single_allow INTEGER NOT NULL,
        heard TEXT,
        PRIMARY KEY (at, id)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS caller_spans (
        number TEXT NOT NULL,
        span INTEGER NOT NULL,
        PRIMARY KEY (number, span)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS caller_spans_by_span ON caller_spans (span);
    CREATE INDEX IF NOT EXISTS calls_by_party ON calls (party, at, id) WHERE party IS NOT NULL;
    CREATE INDEX IF NOT EXISTS calls_by_decision ON calls (decision, at, id) WHERE decision <> 0;
    CREATE TABLE IF NOT EXISTS tallies (
        hour INTEGER PRIMARY KEY,
        forwarded INTEGER NOT NULL,
        refused INTEGER NOT NULL,
        other INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS follow_ups (
        party TEXT PRIMARY KEY,
        count INTEGER NOT NULL,
        first_at INTEGER,
        last_at INTEGER
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
";

const ENTER_SPAN: &str = "INSERT OR IGNORE INTO caller_spans VALUES (?1, ?2)";

const COLUMNS: &str = "at, id, call_id, caller, called, decision, reason, company, caller_name, verification, outcome, \
                       follow_up, party, flagged, used_single_allow, heard";

pub struct CallDb {
    writer: Mutex<Writer>,
    /// Pages are read on a connection of their own, so they never wait for a batch being written.
    reader: Mutex<Connection>,
    /// Where the most recent calls are, by the provider's id, for the outcomes reported after them.
    recent: Mutex<RecentCalls>,
}

struct Writer {
    connection: Connection,
    next_id: u64,
    cache: CacheSize,
    spans: NewestSpan,
}

/// The numbers entered in `caller_spans` for the newest span, so that a number calling again
/// within its span costs a look-up in memory rather than a statement.
#[derive(Default)]
struct NewestSpan {
    span: i64,
    numbers: HashSet<String>,
}

impl NewestSpan {
    /// Whether `number` may have no entry for `span` yet; once asked, it is taken as entered, so
    /// the caller forgets everything (`clear`) if the entry does not reach the disk.
    fn is_new(&mut self, number: &str, span: i64) -> bool {
        if span > self.span {
            self.span = span;
            self.numbers.clear();
        }
        span < self.span || self.numbers.insert(number.to_owned())
    }

    fn clear(&mut self) {
        self.numbers.clear();
    }
}

/// A call's id and where it landed: its time in microseconds and its arrival number.
type Placed<'a> = (&'a str, (i64, u64));

/// The span (see `SCHEMA`) a moment falls in.
fn span_of(at: Timestamp) -> i64 {
    at.as_microsecond() >> 26
}

/// The writer's page cache, sized by how busy the line is. A commit of many calls looks up each
/// caller's span and lands each refusal in its company's place in the index of parties, so a
/// large cache saves reading those pages back for every commit; a commit of a few calls touches a
/// few pages, and a large cache would only fill, over hours, with pages no commit needs again.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CacheSize {
    /// SQLite's default, 2 MB.
    Quiet,
    /// 16 MB, while commits carry at least `BUSY_COMMIT` calls.
    Busy,
}

/// Calls in one commit from which the line counts as busy: 5,000 calls a second at the call
/// log's 50 ms commit interval.
const BUSY_COMMIT: usize = 250;

fn set_cache(connection: &Connection, size: CacheSize) -> rusqlite::Result<()> {
    // A smaller size frees the pages over it at once.
    let kib = match size {
        CacheSize::Quiet => 2_048,
        CacheSize::Busy => 16_384,
    };
    connection.execute_batch(&format!("PRAGMA cache_size = -{kib};"))
}

impl CallDb {
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let connect = || -> Result<Connection, StoreError> {
            let connection = Connection::open(path).map_err(|e| opening(path, e))?;
            connection
                .execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;")
                .map_err(|e| opening(path, e))?;
            Ok(connection)
        };
        let connection = connect()?;
        // The writer checkpoints every 8,000 pages (32 MB) of log rather than SQLite's 1,000: the
        // pages a busy line rewrites in every batch (the table's end, the indexes' hot pages) are
        // then copied into the main file once per checkpoint instead of eight times over.
        connection.execute_batch("PRAGMA wal_autocheckpoint = 8000;").map_err(|e| opening(path, e))?;
        set_cache(&connection, CacheSize::Quiet).map_err(|e| opening(path, e))?;
        rename_columns(&connection).map_err(|e| opening(path, e))?;
        connection.execute_batch(SCHEMA).map_err(|e| opening(path, e))?;
        index_callers_by_span(&connection).map_err(|e| opening(path, e))?;
        let next_id = connection
            .query_row("SELECT value FROM meta WHERE key = 'next_id'", [], |row| row.get::<_, i64>(0))
            .optional()
            .map_err(sql)?
            .unwrap_or(1) as u64;
        Ok(Self {
            writer: Mutex::new(Writer { connection, next_id, cache: CacheSize::Quiet, spans: NewestSpan::default() }),
            reader: Mutex::new(connect()?),
            recent: Mutex::new(RecentCalls::new()),
        })
    }

    /// Logs a batch of calls in one transaction, with the hourly counts and the follow-up counts
    /// their refusals carry.
    pub fn append(&self, calls: &[CallRecord]) -> Result<(), StoreError> {
        let mut writer = lock(&self.writer);
        let wanted = if calls.len() >= BUSY_COMMIT { CacheSize::Busy } else { CacheSize::Quiet };
        if wanted != writer.cache {
            set_cache(&writer.connection, wanted).map_err(sql)?;
            writer.cache = wanted;
        }
        let first_id = writer.next_id;
        let Writer { connection, spans: known, .. } = &mut *writer;
        let logged = Self::log(connection, known, calls, first_id);
        if logged.is_err() {
            known.clear();
        }
        let positions = logged?;
        writer.next_id = first_id + calls.len() as u64;
        let mut recent = lock(&self.recent);
        for (call_id, position) in positions {
            recent.remember(call_id, position);
        }
        Ok(())
    }

    /// `append`'s transaction: the calls numbered from `first_id`, and each one's position.
    fn log<'a>(
        connection: &mut Connection,
        known: &mut NewestSpan,
        calls: &'a [CallRecord],
        first_id: u64,
    ) -> Result<Vec<Placed<'a>>, StoreError> {
        let transaction = connection.transaction().map_err(sql)?;
        let mut positions = Vec::with_capacity(calls.len());
        {
            let mut insert = transaction.prepare_cached(&insert_call("INSERT")).map_err(sql)?;
            let mut span = transaction.prepare_cached(ENTER_SPAN).map_err(sql)?;
            let mut tallies: HashMap<i64, HourTally> = HashMap::new();
            let mut follow_ups: HashMap<&str, FollowUps> = HashMap::new();
            for (offset, call) in calls.iter().enumerate() {
                let id = first_id + offset as u64;
                insert_with(&mut insert, call, id)?;
                if known.is_new(&call.from, span_of(call.at)) {
                    span.execute(params![call.from, span_of(call.at)]).map_err(sql)?;
                }
                positions.push((call.call_id.as_str(), (call.at.as_microsecond(), id)));
                tallies.entry(hour_of(call.at)).or_default().count(call.decision);
                if let (Some(party), Some(follow_up)) = (&call.party, call.follow_up.filter(|_| call.is_refusal())) {
                    follow_ups.entry(party).or_default().numbered(follow_up, call.at);
                }
            }
            add_tallies(&transaction, tallies)?;
            add_follow_ups(&transaction, follow_ups.iter().map(|(party, counts)| (*party, counts)))?;
            let next_id = (first_id + calls.len() as u64) as i64;
            transaction
                .prepare_cached(
                    "INSERT INTO meta (key, value) VALUES ('next_id', ?1) ON CONFLICT (key) DO UPDATE SET value = ?1",
                )
                .and_then(|mut statement| statement.execute([next_id]))
                .map_err(sql)?;
        }
        transaction.commit().map_err(sql)?;
        Ok(positions)
    }

    /// Takes in calls, hourly counts and follow-up counts from the layout the log had in sled,
    /// keeping their positions. Taking in the same calls again changes nothing, so a move cut
    /// short is simply made again.
    pub fn take_in(
        &self,
        calls: &[(Cursor, CallRecord)],
        tallies: &[(u64, HourTally)],
        follow_ups: &[(String, FollowUps)],
    ) -> Result<(), StoreError> {
        let mut writer = lock(&self.writer);
        let known_next = writer.next_id;
        let transaction = writer.connection.transaction().map_err(sql)?;
        let mut last_id = 0;
        {
            let mut insert = transaction.prepare_cached(&insert_call("INSERT OR IGNORE")).map_err(sql)?;
            let mut span = transaction.prepare_cached(ENTER_SPAN).map_err(sql)?;
            for (position, call) in calls {
                let id = u64::from_be_bytes(position.0[8..].try_into().expect("16 bytes"));
                insert_with(&mut insert, call, id)?;
                span.execute(params![call.from, span_of(call.at)]).map_err(sql)?;
                last_id = last_id.max(id);
            }
            let mut tally =
                transaction.prepare_cached("INSERT OR REPLACE INTO tallies VALUES (?1, ?2, ?3, ?4)").map_err(sql)?;
            for (hour, counts) in tallies {
                tally
                    .execute(params![*hour as i64, counts.forwarded as i64, counts.refused as i64, counts.other as i64])
                    .map_err(sql)?;
            }
            // Merged as the log's own counts are, which taking in again leaves as they are.
            add_follow_ups(&transaction, follow_ups.iter().map(|(party, counts)| (party.as_str(), counts)))?;
        }
        let next_id = known_next.max(last_id + 1);
        transaction
            .execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('next_id', ?1)", [next_id as i64])
            .map_err(sql)?;
        transaction.commit().map_err(sql)?;
        writer.next_id = next_id;
        Ok(())
    }

    /// Adds what the provider reported after each call to the call's entry, in one transaction;
    /// for each, false if the call is not in the log.
    pub fn attach_outcomes(&self, outcomes: &[(String, ForwardOutcome)]) -> Result<Vec<bool>, StoreError> {
        let mut writer = lock(&self.writer);
        let transaction = writer.connection.transaction().map_err(sql)?;
        let attached = outcomes
            .iter()
            .map(|(call_id, outcome)| {
                let remembered = lock(&self.recent).position(call_id);
                attach(&transaction, remembered, call_id, outcome.clone())
            })
            .collect::<Result<Vec<bool>, StoreError>>()?;
        transaction.commit().map_err(sql)?;
        Ok(attached)
    }

    /// One page of the log, newest first. The number, party, decision and time filters are
    /// answered by an index; a search is checked call by call, at most `SCAN_BUDGET` of them.
    pub fn page(&self, query: &CallQuery) -> Result<CallPage, StoreError> {
        let mut filter = Filter::default();
        // A number's calls are read span by span (see `SCHEMA`).
        // Spans do not overlap, so newest span first is newest call first, and SQLite walks them
        // in that order rather than sorting the number's calls.
        let (from, newest_first) = match &query.number {
            Some(number) => {
                filter.and("number = ? AND caller = number", [number.clone().into()]);
                (
                    "caller_spans CROSS JOIN calls ON at >= span << 26 AND at < (span + 1) << 26",
                    "span DESC, at DESC, id DESC",
                )
            }
            None => ("calls", "at DESC, id DESC"),
        };
        if let Some(digits) = &query.number_ending {
            filter.and("caller LIKE ? ESCAPE '\\'", [format!("%{}", like_escaped(digits)).into()]);
        }
        if let Some(party) = &query.party {
            filter.and("party = ?", [party.clone().into()]);
        }
        if let Some(part) = query.company_part() {
            filter.and("party LIKE ? ESCAPE '\\'", [format!("{COMPANY}%{}%", like_escaped(&part)).into()]);
        }
        if let Some(decision) = query.decision() {
            filter.and("decision = ?", [decision_code(decision).into()]);
        }
        if let Some(since) = query.since {
            filter.and("at >= ?", [since.as_microsecond().into()]);
        }
        if let Some(until) = query.until {
            filter.and("at < ?", [until.as_microsecond().into()]);
        }
        if let Some(before) = query.before {
            let (at, id) = before.parts();
            filter.and("(at, id) < (?, ?)", [at.into(), id.into()]);
        }
        let Filter { conditions, values } = filter;
        let text = format!(
            "SELECT {COLUMNS} FROM {from} WHERE {} ORDER BY {newest_first} LIMIT {}",
            if conditions.is_empty() { "1".to_owned() } else { conditions.join(" AND ") },
            SCAN_BUDGET
        );
        let reader = lock(&self.reader);
        let mut statement = reader.prepare_cached(&text).map_err(sql)?;
        let mut rows = statement.query(rusqlite::params_from_iter(values)).map_err(sql)?;
        let mut fill = PageFill::new(query);
        while let Some(row) = rows.next().map_err(sql)? {
            let (position, call) = read_call(row)?;
            if !fill.take(position, &call) {
                break;
            }
        }
        Ok(fill.page())
    }

    /// Calls per hour for the hours that begin in `[since, until)`.
    pub fn tallies(&self, since: Timestamp, until: Timestamp) -> Result<Vec<HourTally>, StoreError> {
        // Every hour that begins before `until`.
        let end = hours_before(until);
        let reader = lock(&self.reader);
        let mut statement = reader
            .prepare_cached(
                "SELECT hour, forwarded, refused, other FROM tallies WHERE hour >= ?1 AND hour < ?2 ORDER BY hour",
            )
            .map_err(sql)?;
        let rows = statement
            .query_map(params![hour_of(since), end], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?, row.get::<_, i64>(2)?, row.get::<_, i64>(3)?))
            })
            .map_err(sql)?;
        rows.map(|row| {
            let (hour, forwarded, refused, other) = row.map_err(sql)?;
            let hour = Timestamp::from_second(hour * 3600).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            Ok(HourTally { hour, forwarded: forwarded as u64, refused: refused as u64, other: other as u64 })
        })
        .collect()
    }

    pub fn follow_ups(&self, party: &str) -> Result<FollowUps, StoreError> {
        let reader = lock(&self.reader);
        let mut statement =
            reader.prepare_cached("SELECT count, first_at, last_at FROM follow_ups WHERE party = ?1").map_err(sql)?;
        Ok(statement.query_row([party], |row| read_follow_ups(row, 0)).optional().map_err(sql)?.unwrap_or_default())
    }

    /// As `CallHistory::calls_after_no` describes it, along the index of decisions.
    pub fn calls_after_no(&self, since: Timestamp, until: Timestamp) -> Result<u64, StoreError> {
        let reader = lock(&self.reader);
        let mut statement = reader
            .prepare_cached(
                "SELECT COUNT(*) FROM calls WHERE decision = ?1 AND at >= ?2 AND at < ?3 \
                 AND party IS NOT NULL AND follow_up IS NOT NULL",
            )
            .map_err(sql)?;
        let refused = decision_code(DecisionKind::Decline);
        let count: i64 = statement
            .query_row(params![refused, since.as_microsecond(), until.as_microsecond()], |row| row.get(0))
            .map_err(sql)?;
        Ok(count as u64)
    }

    pub fn follow_up_counts(&self) -> Result<Vec<(String, FollowUps)>, StoreError> {
        let reader = lock(&self.reader);
        let mut statement =
            reader.prepare_cached("SELECT party, count, first_at, last_at FROM follow_ups").map_err(sql)?;
        let rows = statement
            .query_map([], |row| {
                let party: String = row.get(0)?;
                let counts = read_follow_ups(row, 1)?;
                Ok((party, counts))
            })
            .map_err(sql)?;
        rows.map(|row| row.map_err(sql)).collect()
    }

    /// As `CallHistory::repeat_callers` describes it: the newest calls, grouped by number.
    pub fn repeat_callers(
        &self,
        since: Timestamp,
        min_calls: u32,
        limit: usize,
    ) -> Result<Vec<RepeatCaller>, StoreError> {
        let reader = lock(&self.reader);
        let mut statement = reader
            .prepare_cached(&format!(
                "SELECT caller, COUNT(*), MIN(at), MAX(at) FROM (
                     SELECT caller, at FROM calls WHERE at >= ?1 AND decision <> ?2 AND caller LIKE '+%'
                     ORDER BY at DESC LIMIT {SCAN_BUDGET})
                 GROUP BY caller HAVING COUNT(*) >= ?3 ORDER BY COUNT(*) DESC, MAX(at) DESC LIMIT ?4"
            ))
            .map_err(sql)?;
        let refused = decision_code(DecisionKind::Decline);
        let rows = statement
            .query_map(params![since.as_microsecond(), refused, min_calls, limit as i64], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, u32>(1)?, row.get::<_, i64>(2)?, row.get::<_, i64>(3)?))
            })
            .map_err(sql)?;
        rows.map(|row| {
            let (number, calls, first, last) = row.map_err(sql)?;
            let moment =
                |micros: i64| Timestamp::from_microsecond(micros).map_err(|e| StoreError::Corrupt(e.to_string()));
            Ok(RepeatCaller { number, calls, first_at: moment(first)?, last_at: moment(last)? })
        })
        .collect()
    }

    /// One bounded batch of pruning, as `Store::prune_calls` describes it.
    pub fn prune(
        &self,
        before: Timestamp,
        keep: &dyn Fn(&CallRecord) -> bool,
        after: Option<Cursor>,
        budget: usize,
    ) -> Result<Pruned, StoreError> {
        let mut writer = lock(&self.writer);
        // Spans may go, so none is taken as entered any more.
        writer.spans.clear();
        let transaction = writer.connection.transaction().map_err(sql)?;
        let (after_at, after_id) = after.map_or((i64::MIN, -1), Cursor::parts);
        let mut pruned = Pruned::default();
        // Every call before the walk's end is removed or kept by the end of this batch, so the
        // spans wholly before it are final; one still holding a call (a held company's) stays.
        let mut settled = span_of(before);
        {
            let mut select = transaction
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM calls WHERE (at, id) > (?1, ?2) AND at < ?3 ORDER BY at, id LIMIT ?4"
                ))
                .map_err(sql)?;
            let mut remove = transaction.prepare_cached("DELETE FROM calls WHERE at = ?1 AND id = ?2").map_err(sql)?;
            let mut rows =
                select.query(params![after_at, after_id, before.as_microsecond(), budget as i64]).map_err(sql)?;
            // Read first and removed after, so that no row goes while the walk is on it.
            let mut looked_at = Vec::with_capacity(budget);
            while let Some(row) = rows.next().map_err(sql)? {
                let at: i64 = row.get(0).map_err(sql)?;
                let id: i64 = row.get(1).map_err(sql)?;
                looked_at.push(((at, id), read_call(row)));
            }
            drop(rows);
            if looked_at.len() >= budget {
                let (at, id) = looked_at[looked_at.len() - 1].0;
                settled = settled.min(at >> 26);
                let at = Timestamp::from_microsecond(at).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                pruned.next = Some(Cursor::new(at, id as u64));
            }
            for ((at, id), read) in looked_at {
                match read {
                    // A record that cannot be read may belong to a held party: it stays.
                    Ok((_, call)) if !keep(&call) => {
                        remove.execute(params![at, id]).map_err(sql)?;
                        pruned.calls += 1;
                    }
                    _ => pruned.kept += 1,
                }
            }
        }
        transaction
            .execute(
                "DELETE FROM caller_spans WHERE span < ?1 AND NOT EXISTS \
                 (SELECT 1 FROM calls WHERE at >= span << 26 AND at < (span + 1) << 26 AND caller = number)",
                [settled],
            )
            .map_err(sql)?;
        // Only the hours that ended by `before`: the hour it falls in still counts younger calls.
        pruned.tallies = transaction.execute("DELETE FROM tallies WHERE hour < ?1", [hour_of(before)]).map_err(sql)?;
        transaction.commit().map_err(sql)?;
        Ok(pruned)
    }

    /// Every call, hourly count and follow-up count, in the records of the sled layout the backup
    /// format has always held, from one consistent read.
    pub fn each_record(
        &self,
        mut record: impl FnMut(&[u8], &[u8]) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut reader = lock(&self.reader);
        let transaction = reader.transaction().map_err(sql)?;
        {
            let mut calls =
                transaction.prepare(&format!("SELECT {COLUMNS} FROM calls ORDER BY at, id")).map_err(sql)?;
            let mut rows = calls.query([]).map_err(sql)?;
            while let Some(row) = rows.next().map_err(sql)? {
                let (position, call) = read_call(row)?;
                let value = serde_json::to_vec(&call).map_err(|e| StoreError::Backend(e.to_string()))?;
                record(&[super::CALL, &position.0[..]].concat(), &value)?;
            }
            let mut tallies = transaction
                .prepare("SELECT hour, forwarded, refused, other FROM tallies ORDER BY hour")
                .map_err(sql)?;
            let mut rows = tallies.query([]).map_err(sql)?;
            while let Some(row) = rows.next().map_err(sql)? {
                let hour: i64 = row.get(0).map_err(sql)?;
                let counts = HourTally {
                    hour: Timestamp::UNIX_EPOCH,
                    forwarded: row.get::<_, i64>(1).map_err(sql)? as u64,
                    refused: row.get::<_, i64>(2).map_err(sql)? as u64,
                    other: row.get::<_, i64>(3).map_err(sql)? as u64,
                };
                let value = serde_json::to_vec(&counts).map_err(|e| StoreError::Backend(e.to_string()))?;
                record(&[super::TALLY, &(hour as u64).to_be_bytes()[..]].concat(), &value)?;
            }
            let mut follow_ups = transaction
                .prepare("SELECT party, count, first_at, last_at FROM follow_ups ORDER BY party")
                .map_err(sql)?;
            let mut rows = follow_ups.query([]).map_err(sql)?;
            while let Some(row) = rows.next().map_err(sql)? {
                let party: String = row.get(0).map_err(sql)?;
                let counts = read_follow_ups(row, 1).map_err(sql)?;
                let value = serde_json::to_vec(&counts).map_err(|e| StoreError::Backend(e.to_string()))?;
                record(&[super::FOLLOW_UPS, party.as_bytes()].concat(), &value)?;
            }
        }
        transaction.commit().map_err(sql)
    }

    /// Reads the whole file's structure back, so damage shows now rather than on a later page.
    pub fn verify(&self) -> Result<(), StoreError> {
        let reader = lock(&self.reader);
        let verdict: String = reader.query_row("PRAGMA quick_check", [], |row| row.get(0)).map_err(sql)?;
        if verdict != "ok" {
            return Err(StoreError::Corrupt(format!("the call log is damaged ({verdict}): restore a backup")));
        }
        Ok(())
    }

    /// Moves everything committed into the main file and syncs it.
    pub fn flush(&self) -> Result<(), StoreError> {
        let writer = lock(&self.writer);
        writer.connection.query_row("PRAGMA wal_checkpoint(FULL)", [], |_| Ok(())).map_err(sql)
    }
}

/// The conditions of a page's query, with the values they are bound to.
#[derive(Default)]
struct Filter {
    conditions: Vec<String>,
    values: Vec<rusqlite::types::Value>,
}

impl Filter {
    /// Adds a condition; each `?` in it takes the next value.
    fn and<const N: usize>(&mut self, condition: &str, values: [rusqlite::types::Value; N]) {
        let mut numbered = String::new();
        for (i, part) in condition.split('?').enumerate() {
            if i > 0 {
                numbered.push_str(&format!("?{}", self.values.len() + i));
            }
            numbered.push_str(part);
        }
        self.conditions.push(numbered);
        self.values.extend(values);
    }
}

/// Merges an outcome into the entry of its call, found where `remembered` says or among the last
/// calls logged.
fn attach(
    connection: &Connection,
    remembered: Option<(i64, i64)>,
    call_id: &str,
    outcome: ForwardOutcome,
) -> Result<bool, StoreError> {
    let outcome_at = |(at, id): (i64, i64)| -> Result<Option<Option<String>>, StoreError> {
        let stored: Option<(String, Option<String>)> = connection
            .prepare_cached("SELECT call_id, outcome FROM calls WHERE at = ?1 AND id = ?2")
            .and_then(|mut statement| {
                statement.query_row(params![at, id], |row| Ok((row.get(0)?, row.get(1)?))).optional()
            })
            .map_err(sql)?;
        Ok(stored.filter(|(sid, _)| sid == call_id).map(|(_, outcome)| outcome))
    };
    let mut found = None;
    if let Some(position) = remembered {
        found = outcome_at(position)?.map(|outcome| (position, outcome));
    }
    if found.is_none() {
        // After a restart: the call is one of the last made.
        let position: Option<(i64, i64)> = connection
            .prepare_cached(
                "SELECT at, id FROM (SELECT at, id, call_id FROM calls ORDER BY at DESC, id DESC LIMIT ?1) \
                     WHERE call_id = ?2 LIMIT 1",
            )
            .and_then(|mut statement| {
                let limit = SCAN_BUDGET as i64;
                statement.query_row(params![limit, call_id], |row| Ok((row.get(0)?, row.get(1)?))).optional()
            })
            .map_err(sql)?;
        if let Some(position) = position {
            found = outcome_at(position)?.map(|outcome| (position, outcome));
        }
    }
    let Some(((at, id), stored_outcome)) = found else { return Ok(false) };
    let mut merged: ForwardOutcome = match stored_outcome {
        Some(text) => serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        None => ForwardOutcome::default(),
    };
    merged.merge(outcome);
    let text = serde_json::to_string(&merged).map_err(|e| StoreError::Backend(e.to_string()))?;
    connection
        .prepare_cached("UPDATE calls SET outcome = ?1 WHERE at = ?2 AND id = ?3")
        .and_then(|mut statement| statement.execute(params![text, at, id]))
        .map_err(sql)?;
    Ok(true)
}

fn insert_call(verb: &str) -> String {
    format!(
        "{verb} INTO calls ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
    )
}

fn insert_with(statement: &mut rusqlite::CachedStatement<'_>, call: &CallRecord, id: u64) -> Result<(), StoreError> {
    let outcome =
        call.outcome.as_ref().map(serde_json::to_string).transpose().map_err(|e| StoreError::Backend(e.to_string()))?;
    statement
        .execute(params![
            call.at.as_microsecond(),
            id as i64,
            call.call_id,
            call.from,
            call.to,
            decision_code(call.decision),
            call.reason,
            call.company,
            call.caller_name,
            call.verification,
            outcome,
            call.follow_up,
            // Calls logged before the party was kept count toward their company's.
            party_of(call),
            call.flagged,
            call.used_single_allow,
            call.heard,
        ])
        .map_err(sql)?;
    Ok(())
}

fn read_call(row: &Row<'_>) -> Result<(Cursor, CallRecord), StoreError> {
    let at: i64 = row.get(0).map_err(sql)?;
    let id: i64 = row.get(1).map_err(sql)?;
    let outcome: Option<String> = row.get(10).map_err(sql)?;
    let timestamp = Timestamp::from_microsecond(at).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let call = CallRecord {
        call_id: row.get(2).map_err(sql)?,
        from: row.get(3).map_err(sql)?,
        to: row.get(4).map_err(sql)?,
        at: timestamp,
        decision: decision_of(row.get(5).map_err(sql)?)?,
        reason: row.get(6).map_err(sql)?,
        company: row.get(7).map_err(sql)?,
        caller_name: row.get(8).map_err(sql)?,
        verification: row.get(9).map_err(sql)?,
        outcome: outcome
            .map(|text| serde_json::from_str(&text))
            .transpose()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        follow_up: row.get(11).map_err(sql)?,
        party: row.get(12).map_err(sql)?,
        flagged: row.get(13).map_err(sql)?,
        used_single_allow: row.get(14).map_err(sql)?,
        heard: row.get(15).map_err(sql)?,
        ..CallRecord::default()
    };
    Ok((Cursor::new(timestamp, id as u64), call))
}

/// A party's counts from the row's columns `count, first_at, last_at`, starting at `first`.
fn read_follow_ups(row: &Row<'_>, first: usize) -> rusqlite::Result<FollowUps> {
    Ok(FollowUps {
        count: row.get(first)?,
        first_at: micros(row.get(first + 1)?),
        last_at: micros(row.get(first + 2)?),
    })
}

fn add_tallies(transaction: &rusqlite::Transaction<'_>, tallies: HashMap<i64, HourTally>) -> Result<(), StoreError> {
    let mut statement = transaction
        .prepare_cached(
            "INSERT INTO tallies VALUES (?1, ?2, ?3, ?4) ON CONFLICT (hour) DO UPDATE SET \
             forwarded = forwarded + ?2, refused = refused + ?3, other = other + ?4",
        )
        .map_err(sql)?;
    for (hour, counts) in tallies {
        statement
            .execute(params![hour, counts.forwarded as i64, counts.refused as i64, counts.other as i64])
            .map_err(sql)?;
    }
    Ok(())
}

fn add_follow_ups<'a>(
    transaction: &rusqlite::Transaction<'_>,
    follow_ups: impl Iterator<Item = (&'a str, &'a FollowUps)>,
) -> Result<(), StoreError> {
    let mut statement = transaction
        .prepare_cached(
            "INSERT INTO follow_ups VALUES (?1, ?2, ?3, ?4) ON CONFLICT (party) DO UPDATE SET \
             count = max(count, ?2), first_at = min(coalesce(first_at, ?3), ?3), last_at = max(coalesce(last_at, ?4), ?4)",
        )
        .map_err(sql)?;
    for (party, counts) in follow_ups {
        statement
            .execute(params![
                party,
                counts.count,
                counts.first_at.map(|at| at.as_microsecond()),
                counts.last_at.map(|at| at.as_microsecond())
            ])
            .map_err(sql)?;
    }
    Ok(())
}

fn micros(value: Option<i64>) -> Option<Timestamp> {
    value.and_then(|micros| Timestamp::from_microsecond(micros).ok())
}

fn sql(error: rusqlite::Error) -> StoreError {
    match error {
        rusqlite::Error::SqliteFailure(failure, _)
            if matches!(failure.code, rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase) =>
        {
            StoreError::Corrupt(format!("the call log is damaged ({error}): restore a backup"))
        }
        other => StoreError::Backend(format!("call log: {other}")),
    }
}

fn opening(path: &Path, error: rusqlite::Error) -> StoreError {
    match sql(error) {
        StoreError::Backend(message) => StoreError::Backend(format!("{message} (opening {})", path.display())),
        corrupt => corrupt,
    }
}

/// A log written with an index of every call by its number (by an earlier release, or opened by
/// one since) has its numbers' spans filled in from its calls, once, and that index dropped.
fn index_callers_by_span(connection: &Connection) -> rusqlite::Result<()> {
    let indexed: bool =
        connection
            .query_row("SELECT count(*) > 0 FROM sqlite_schema WHERE name = 'calls_by_caller'", [], |row| row.get(0))?;
    if indexed {
        connection.execute_batch(
            "BEGIN;
             INSERT OR IGNORE INTO caller_spans SELECT DISTINCT caller, at >> 26 FROM calls;
             DROP INDEX calls_by_caller;
             COMMIT;",
        )?;
    }
    Ok(())
}

/// A log written before the call id and the verification had provider-neutral names kept them
/// in `call_sid` and `verstat`; the columns are renamed once, in place, with every row kept.
fn rename_columns(connection: &Connection) -> rusqlite::Result<()> {
    for (old, new) in [("call_sid", "call_id"), ("verstat", "verification")] {
        let present: bool = connection.query_row(
            "SELECT count(*) > 0 FROM pragma_table_info('calls') WHERE name = ?1",
            [old],
            |row| row.get(0),
        )?;
        if present {
            connection.execute_batch(&format!("ALTER TABLE calls RENAME COLUMN {old} TO {new}"))?;
        }
    }
    Ok(())
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The positions of the last `RECENT_CALLS` calls logged, by a hash of the call id (a few bytes a
/// call rather than the id itself; the record found is checked against the id).
struct RecentCalls {
    positions: foldhash::HashMap<u64, (i64, u64)>,
    order: VecDeque<u64>,
}

/// Outcomes come within minutes of their call; this covers days of a busy line for a few megabytes.
const RECENT_CALLS: usize = 100_000;

impl RecentCalls {
    /// Allocated whole at once, a few megabytes: the calls land all over the table, so its pages
    /// are in use after the first few thousand calls, and a server's memory stops growing then
    /// rather than after the table's last doubling, hours later on a quiet line.
    fn new() -> Self {
        // One over: a call is remembered before the oldest is forgotten.
        Self {
            positions: foldhash::HashMap::with_capacity_and_hasher(RECENT_CALLS + 1, Default::default()),
            order: VecDeque::with_capacity(RECENT_CALLS + 1),
        }
    }

    fn hash(call_id: &str) -> u64 {
        // A fixed seed: the same id must hash the same way for the life of the process.
        std::hash::BuildHasher::hash_one(&foldhash::fast::FixedState::with_seed(0), call_id)
    }

    fn remember(&mut self, call_id: &str, position: (i64, u64)) {
        let hash = Self::hash(call_id);
        if self.positions.insert(hash, position).is_none() {
            self.order.push_back(hash);
        }
        while self.order.len() > RECENT_CALLS {
            if let Some(oldest) = self.order.pop_front() {
                self.positions.remove(&oldest);
            }
        }
    }

    fn position(&self, call_id: &str) -> Option<(i64, i64)> {
        self.positions.get(&Self::hash(call_id)).map(|&(at, id)| (at, id as i64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_with_the_columns_named_as_before_opens_with_every_call_and_outcome() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("calls.sqlite");
        let call = CallRecord {
            call_id: "CA77".into(),
            from: "+442079460123".into(),
            verification: Some("TN-Validation-Passed-A".into()),
            ..CallRecord::default()
        };
        {
            let db = CallDb::open(&path).unwrap();
            db.append(std::slice::from_ref(&call)).unwrap();
            db.flush().unwrap();
        }
        // The layout a log had before the column was renamed.
        Connection::open(&path)
            .unwrap()
            .execute_batch(
                "ALTER TABLE calls RENAME COLUMN call_id TO call_sid; \
                 ALTER TABLE calls RENAME COLUMN verification TO verstat;",
            )
            .unwrap();

        let db = CallDb::open(&path).unwrap();
        let page = db.page(&CallQuery { limit: 10, ..CallQuery::default() }).unwrap();
        assert_eq!(page.calls, vec![call]);
        let outcome = ForwardOutcome { status: Some("answered".into()), ..ForwardOutcome::default() };
        assert_eq!(db.attach_outcomes(&[("CA77".into(), outcome.clone())]).unwrap(), vec![true]);
        let page = db.page(&CallQuery { limit: 10, ..CallQuery::default() }).unwrap();
        assert_eq!(page.calls[0].outcome, Some(outcome));
    }

    /// The outcome is kept as JSON in one column, so a log written before transcripts were kept
    /// needs no new column: its outcomes read as before, and a transcript joins one in place.
    #[test]
    fn a_voicemail_logged_before_transcripts_were_kept_takes_its_transcript() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("calls.sqlite");
        {
            let db = CallDb::open(&path).unwrap();
            db.append(&[CallRecord { call_id: "CA78".into(), ..CallRecord::default() }]).unwrap();
            db.flush().unwrap();
        }
        // An outcome as an earlier release wrote it, with no `transcript` field.
        let written_before = r#"{"status":"no-answer","duration_secs":0,"recording_url":"https://api.example/RE1","recording_secs":7,"via_escape_hatch":false,"screening":null}"#;
        Connection::open(&path).unwrap().execute("UPDATE calls SET outcome = ?1", [written_before]).unwrap();

        let db = CallDb::open(&path).unwrap();
        let transcript = ForwardOutcome { transcript: Some("Call me back.".into()), ..ForwardOutcome::default() };
        assert_eq!(db.attach_outcomes(&[("CA78".into(), transcript)]).unwrap(), vec![true]);
        let page = db.page(&CallQuery { limit: 10, ..CallQuery::default() }).unwrap();
        let outcome = page.calls[0].outcome.clone().unwrap();
        assert_eq!(outcome.recording_secs, Some(7));
        assert_eq!(outcome.transcript.as_deref(), Some("Call me back."));
    }

    fn call(id: &str, from: &str, at: Timestamp) -> CallRecord {
        CallRecord { call_id: id.into(), from: from.into(), at, ..CallRecord::default() }
    }

    fn from_number(db: &CallDb, number: &str) -> Vec<String> {
        let query = CallQuery { number: Some(number.into()), limit: 100, ..CallQuery::default() };
        db.page(&query).unwrap().calls.into_iter().map(|call| call.call_id).collect()
    }

    #[test]
    fn a_number_s_calls_are_found_newest_first_across_spans_and_pages() {
        let folder = tempfile::tempdir().unwrap();
        let db = CallDb::open(&folder.path().join("calls.sqlite")).unwrap();
        let start = Timestamp::from_second(1_790_000_000).unwrap();
        // Five calls a day apart from one number, each in a span of its own, among others'.
        let calls: Vec<CallRecord> = (0..5)
            .flat_map(|day| {
                let at = start + jiff::SignedDuration::from_hours(24 * day);
                [call(&format!("CA{day}"), "+442079460123", at), call(&format!("CB{day}"), "+442079460999", at)]
            })
            .collect();
        db.append(&calls).unwrap();
        assert_eq!(from_number(&db, "+442079460123"), ["CA4", "CA3", "CA2", "CA1", "CA0"]);

        let first =
            db.page(&CallQuery { number: Some("+442079460123".into()), limit: 2, ..CallQuery::default() }).unwrap();
        let rest =
            CallQuery { number: Some("+442079460123".into()), before: first.next, limit: 10, ..CallQuery::default() };
        let ids: Vec<String> = db.page(&rest).unwrap().calls.into_iter().map(|call| call.call_id).collect();
        assert_eq!(ids, ["CA2", "CA1", "CA0"]);
    }

    #[test]
    fn a_log_indexed_call_by_call_finds_its_numbers_calls_once_reopened() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("calls.sqlite");
        let at = Timestamp::from_second(1_790_000_000).unwrap();
        {
            let db = CallDb::open(&path).unwrap();
            db.append(&[call("CA1", "+442079460123", at)]).unwrap();
            db.flush().unwrap();
        }
        // As an earlier release left it: an index of every call by number, and no spans.
        Connection::open(&path)
            .unwrap()
            .execute_batch(
                "DELETE FROM caller_spans; \
                 CREATE INDEX calls_by_caller ON calls (caller, at, id);",
            )
            .unwrap();

        let db = CallDb::open(&path).unwrap();
        assert_eq!(from_number(&db, "+442079460123"), ["CA1"]);
        db.append(&[call("CA2", "+442079460123", at + jiff::SignedDuration::from_hours(24))]).unwrap();
        assert_eq!(from_number(&db, "+442079460123"), ["CA2", "CA1"]);
        let index: bool = lock(&db.reader)
            .query_row("SELECT count(*) > 0 FROM sqlite_schema WHERE name = 'calls_by_caller'", [], |row| row.get(0))
            .unwrap();
        assert!(!index, "the index of every call by number is dropped");
    }

    #[test]
    fn pruning_forgets_a_number_s_old_spans_but_not_one_holding_a_kept_call() {
        let folder = tempfile::tempdir().unwrap();
        let db = CallDb::open(&folder.path().join("calls.sqlite")).unwrap();
        let old = Timestamp::from_second(1_700_000_000).unwrap();
        let new = Timestamp::from_second(1_790_000_000).unwrap();
        db.append(&[
            call("CA-old", "+442079460123", old),
            call("CA-held", "+442079460999", old),
            call("CA-new", "+442079460123", new),
        ])
        .unwrap();

        let keep = |call: &CallRecord| call.call_id == "CA-held";
        // One call a batch, so that the spans are settled across batches.
        let mut after = None;
        loop {
            let pruned = db.prune(new, &keep, after, 1).unwrap();
            match pruned.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }

        assert_eq!(from_number(&db, "+442079460123"), ["CA-new"]);
        assert_eq!(from_number(&db, "+442079460999"), ["CA-held"]);
        let spans: Vec<String> = lock(&db.reader)
            .prepare("SELECT number FROM caller_spans ORDER BY number")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(spans, ["+442079460123", "+442079460999"], "the pruned call's span is gone, the held one's stays");
    }

    #[test]
    fn a_number_is_entered_once_a_span_and_again_after_a_clear() {
        let mut known = NewestSpan::default();
        assert!(known.is_new("+442079460123", 10));
        assert!(!known.is_new("+442079460123", 10));
        assert!(known.is_new("+442079460999", 10));
        // An older span is never taken as known; a newer one starts afresh.
        assert!(known.is_new("+442079460123", 9));
        assert!(known.is_new("+442079460123", 11));
        assert!(!known.is_new("+442079460123", 11));
        known.clear();
        assert!(known.is_new("+442079460123", 11));
    }
}
