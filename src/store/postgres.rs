//! The store in PostgreSQL (`[store] url`): the owner's record in plain tables, the call log in a
//! table partitioned by month, both behind the same roles as the embedded store.
//!
//! Every query runs on a small runtime the store owns (see `Worker`), over a pool of connections.
//! Several processes may use one database at once: each owner change is also written to
//! `owner_changes` and announced, and a process that keeps a copy of the record in memory follows
//! the others' changes there (see `follow`).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::Pool;
use futures_util::StreamExt;
use jiff::Timestamp;

use super::{
    Answer, Archive, CallFacts, CallHistory, CallPage, CallQuery, CallSink, Change, Counted, Cursor, HourTally, Keep,
    OwnerRecord, Pruned, Publish, Removed, RepeatCaller, StoreError,
};
use crate::domain::{
    Allow, CallRecord, Decline, FollowUps, ForwardOutcome, LegalHold, OwnerDecision, PhoneNumber, SettingChange,
    SignedIn, Target, TextSession, WebChange,
};

mod call_facts;
mod call_log;
mod call_pages;
mod errors;
mod follow;
mod import;
mod migrations;
mod owner;
mod owner_changes;
mod partitions;
mod prune;
/// For tests, here and in `tests/`: not part of the store.
#[doc(hidden)]
pub mod test_db;
mod tls;
mod values;

use errors::{connecting, pg};

/// Connections kept open at most: the call log's writer, a few pages and owner changes at once.
const POOL_SIZE: usize = 8;

/// How long a query waits for a connection from the pool when all are in use.
const POOL_WAIT: Duration = Duration::from_secs(10);

/// How long opening waits for the server to answer before the store counts as unavailable (and the
/// server starts degraded, forwarding every call), when the url does not say.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a call that a single-use allow would let through waits for the database to spend it.
const SPEND_WAIT: Duration = Duration::from_secs(2);

pub struct PostgresStore {
    worker: Worker,
    shared: Arc<Shared>,
}

/// What the queries share: the pool, and what keeps owner changes in order.
struct Shared {
    pool: Pool,
    /// The id in `owner_changes` of the newest change published here, this process's or another's.
    /// Held from the start of an owner change's transaction until it is published, and while
    /// other processes' changes are taken in, so that changes are published in the order they
    /// were committed, each once.
    changes: tokio::sync::Mutex<i64>,
    /// Told of other processes' changes (see `OwnerRecord::follow`); nowhere until then.
    others: std::sync::Mutex<Publish>,
    /// Told of follow-up counts other processes' logged refusals reach (see
    /// `CallHistory::follow_counts`); nowhere until then.
    counted: std::sync::Mutex<Option<Counted>>,
    /// Whether the task that follows other processes' changes runs.
    following: std::sync::atomic::AtomicBool,
    /// The settings of the connection that listens for other processes' changes.
    listener: tokio_postgres::Config,
    /// How connections are made (plain or over TLS), for that connection.
    connector: tls::Connector,
    /// The database as named in messages.
    shown: String,
    /// The months of the call log known to have a partition.
    months: std::sync::Mutex<std::collections::HashSet<i32>>,
}

/// A runtime of the store's own, with two threads, on which every query runs.
///
/// `CallSink` is synchronous and called from the call log's own thread, and `apply_blocking` from
/// the call path, which must not wait on the runtime the call is answered on; the async roles are
/// called from the server's runtime, or a test's. Running all of them here means each connection
/// (whose I/O task lives on the runtime that opened it) serves every caller, and a synchronous
/// caller can wait for its answer on a plain channel from any thread, inside a runtime or not.
struct Worker {
    runtime: Option<tokio::runtime::Runtime>,
}

impl Worker {
    fn new() -> Result<Self, StoreError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("saidno-postgres")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Backend(format!("the PostgreSQL store's threads: {e}")))?;
        Ok(Self { runtime: Some(runtime) })
    }

    fn handle(&self) -> &tokio::runtime::Handle {
        self.runtime.as_ref().expect("the runtime lives as long as the store").handle()
    }

    /// Runs `work` here and waits for it, blocking the calling thread.
    fn block<T: Send + 'static>(
        &self,
        work: impl Future<Output = Result<T, StoreError>> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (answer, answered) = std::sync::mpsc::sync_channel(1);
        self.handle().spawn(async move {
            let _ = answer.send(work.await);
        });
        answered.recv().map_err(|_| StoreError::Backend("the PostgreSQL store's work was cut short".into()))?
    }

    /// Runs `work` here, for a caller on another runtime to await.
    fn run<T: Send + 'static>(
        &self,
        work: impl Future<Output = Result<T, StoreError>> + Send + 'static,
    ) -> Answer<'static, T> {
        let running = self.handle().spawn(work);
        Box::pin(async move {
            running.await.map_err(|e| StoreError::Backend(format!("the PostgreSQL store's work was cut short: {e}")))?
        })
    }
}

impl Drop for Worker {
    /// Without waiting: the store may be dropped inside an async context, where a runtime may not
    /// block to shut down. Closing the connections' tasks closes their sockets.
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl PostgresStore {
    /// Connects to the database at `url` and brings its schema up to date. Other processes may
    /// have it open too. An unreachable server is `StoreError::Unavailable`. Over TLS, the
    /// server's certificate is checked against the system's trusted authorities.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_with(url, None)
    }

    /// As `open`, with the server's certificate checked against the authorities in `ca_file`
    /// (`[store] ca_file`) when it is given.
    pub fn open_with(url: &str, ca_file: Option<&std::path::Path>) -> Result<Self, StoreError> {
        let crate::config::StoreUrl { mut config, tls } =
            crate::config::check_url(url).map_err(StoreError::Unavailable)?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        // The store's queries each read a few rows along an index. When the planner overestimates
        // the rows a range holds, it prices such a query over the threshold for compiling it to
        // machine code, and the compiling takes longer than the query itself.
        let options = [config.get_options().unwrap_or_default(), "-c jit=off"].join(" ");
        config.options(options.trim());
        let shown = errors::shown(&config);
        let connector = tls::Connector::new(tls, ca_file)?;
        let worker = Worker::new()?;
        let pool = Pool::builder(connector.manager(config.clone()))
            .max_size(POOL_SIZE)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            // A server that stops answering fails what waits on it rather than holding it forever.
            .wait_timeout(Some(POOL_WAIT))
            .create_timeout(Some(config.get_connect_timeout().copied().unwrap_or(CONNECT_TIMEOUT)))
            .recycle_timeout(Some(CONNECT_TIMEOUT))
            .build()
            .map_err(|e| StoreError::Backend(format!("the PostgreSQL pool: {e}")))?;
        let mut listener = config.clone();
        listener.application_name(follow::LISTENER_NAME);
        let shared = worker.block(async move {
            // A connection of its own first, which says plainly when the server cannot be reached.
            let (client, messages) = connector.connect(&config).await.map_err(|e| connecting(&shown, e))?;
            drop(client);
            messages.for_each(|_| async {}).await;
            migrations::apply(&pool, &shown).await?;
            // Read before anything reads the record, so that a change made while it is read is
            // followed too: taking one in again changes nothing (each sets what it names).
            let newest = owner_changes::newest(&get(&pool, &shown).await?).await?;
            let shared = Shared {
                pool,
                changes: tokio::sync::Mutex::new(newest),
                others: std::sync::Mutex::new(Publish::nowhere()),
                counted: Default::default(),
                following: Default::default(),
                listener,
                connector,
                shown,
                months: Default::default(),
            };
            // This month and the next are made now, so that the first calls of a month do not
            // wait for their partition.
            let now = Timestamp::now();
            partitions::ensure(&shared, &[now, now + jiff::SignedDuration::from_hours(24 * 31)]).await?;
            Ok(Arc::new(shared))
        })?;
        Ok(Self { worker, shared })
    }

    /// Starts the task that follows other processes' changes and counts, once.
    fn start_following(&self) {
        if !self.shared.following.swap(true, std::sync::atomic::Ordering::SeqCst) {
            self.worker.handle().spawn(follow::run(self.shared.clone()));
        }
    }

    /// Runs `work` with the shared state on the store's runtime, for an async caller.
    fn run<T: Send + 'static, F>(&self, work: impl FnOnce(Arc<Shared>) -> F) -> Answer<'static, T>
    where
        F: Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        self.worker.run(work(self.shared.clone()))
    }

    /// Runs `work` with the shared state on the store's runtime, blocking the calling thread.
    fn block<T: Send + 'static, F>(&self, work: impl FnOnce(Arc<Shared>) -> F) -> Result<T, StoreError>
    where
        F: Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        self.worker.block(work(self.shared.clone()))
    }
}

impl Shared {
    async fn connection(&self) -> Result<deadpool_postgres::Object, StoreError> {
        get(&self.pool, &self.shown).await
    }

    /// Where other processes' changes are published.
    fn others(&self) -> Publish {
        self.others.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }
}

/// A connection from the pool. The pool makes a new one for each it finds closed (the server
/// restarted, the network dropped), so a failure here is a server that cannot be reached now.
async fn get(pool: &Pool, shown: &str) -> Result<deadpool_postgres::Object, StoreError> {
    pool.get().await.map_err(|e| match e {
        deadpool_postgres::PoolError::Backend(error) => connecting(shown, error),
        other => StoreError::Unavailable(format!("cannot connect to the PostgreSQL database at {shown}: {other}")),
    })
}

impl OwnerRecord for PostgresStore {
    fn decline(&self, target: &Target) -> Answer<'_, Option<Decline>> {
        let target = target.clone();
        self.run(|shared| async move { owner::decline(&shared, &target).await })
    }

    fn allow_of(&self, number: &PhoneNumber) -> Answer<'_, Option<Allow>> {
        let number = number.clone();
        self.run(|shared| async move { owner::allow_of(&shared, &number).await })
    }

    fn declines(&self) -> Answer<'_, Vec<Decline>> {
        self.run(|shared| async move { owner::declines(&shared, false).await })
    }

    fn rules(&self) -> Answer<'_, Vec<Decline>> {
        self.run(|shared| async move { owner::declines(&shared, true).await })
    }

    fn company_name(&self, key: &str) -> Answer<'_, Option<String>> {
        let key = key.to_owned();
        self.run(|shared| async move { owner::company_name(&shared, &key).await })
    }

    fn allows(&self) -> Answer<'_, Vec<Allow>> {
        self.run(|shared| async move { owner::allows(&shared).await })
    }

    fn paused(&self) -> Answer<'_, bool> {
        self.run(|shared| async move { Ok(owner::setting(&shared, owner::PAUSED).await?.unwrap_or(false)) })
    }

    fn pause_changed(&self) -> Answer<'_, Option<SettingChange>> {
        self.run(|shared| async move { owner::setting(&shared, owner::PAUSE_CHANGED).await })
    }

    fn owner_choices(&self) -> Answer<'_, crate::config::OwnerChoices> {
        self.run(|shared| async move { Ok(owner::setting(&shared, owner::OWNER_CHOICES).await?.unwrap_or_default()) })
    }

    fn legal_holds(&self) -> Answer<'_, Vec<LegalHold>> {
        self.run(|shared| async move { owner::legal_holds(&shared).await })
    }

    fn password_hash(&self) -> Answer<'_, Option<String>> {
        self.run(|shared| async move { owner::setting(&shared, owner::PASSWORD).await })
    }

    fn text_session(&self, owner: &PhoneNumber) -> Answer<'_, TextSession> {
        let owner = owner.clone();
        self.run(|shared| async move { owner::text_session(&shared, &owner).await })
    }

    fn web_changes(&self) -> Answer<'_, Vec<WebChange>> {
        self.run(|shared| async move { Ok(owner::setting(&shared, owner::WEB_CHANGES).await?.unwrap_or_default()) })
    }

    fn signed_in(&self) -> Answer<'_, Vec<SignedIn>> {
        self.run(|shared| async move { Ok(owner::setting(&shared, owner::SIGNED_IN).await?.unwrap_or_default()) })
    }

    fn apply(&self, change: Change, publish: Publish) -> Answer<'_, Removed> {
        self.run(|shared| async move { owner::apply(&shared, &change, &publish).await })
    }

    fn apply_blocking(&self, change: Change, publish: Publish) -> Result<Removed, StoreError> {
        self.block(|shared| async move { owner::apply(&shared, &change, &publish).await })
    }

    /// Waits at most `SPEND_WAIT`: past it the call is forwarded (as on any failure), and the
    /// spend, cut short, is rolled back unless it was already committed.
    fn spend_allow(&self, spent: Allow, publish: Publish) -> Result<bool, StoreError> {
        self.block(|shared| async move {
            tokio::time::timeout(SPEND_WAIT, owner::spend_allow(&shared, spent, &publish)).await.map_err(|_| {
                StoreError::Unavailable(format!("PostgreSQL did not spend the allow within {SPEND_WAIT:?}"))
            })?
        })
    }

    fn probe(&self) -> Answer<'_, ()> {
        self.run(|shared| async move { owner::probe(&shared).await })
    }

    fn follow(&self, publish: Publish) {
        *self.shared.others.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = publish;
        self.start_following();
    }
}

/// Written by the call log's own thread, which waits here while its batch is committed.
impl CallSink for PostgresStore {
    fn append_calls(&self, calls: &[CallRecord]) -> Result<(), StoreError> {
        let calls = calls.to_vec();
        self.block(|shared| async move { call_log::append(&shared, &calls).await })
    }

    fn attach_outcomes(&self, outcomes: &[(String, ForwardOutcome)]) -> Result<Vec<bool>, StoreError> {
        let outcomes = outcomes.to_vec();
        self.block(|shared| async move { call_log::attach_outcomes(&shared, &outcomes).await })
    }

    /// Each batch is on disk once committed (PostgreSQL's commit waits for its log to be synced).
    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

impl CallHistory for PostgresStore {
    fn call_page(&self, query: &CallQuery) -> Answer<'_, CallPage> {
        let query = query.clone();
        self.run(|shared| async move { call_pages::page(&shared, &query).await })
    }

    fn call_tallies(&self, since: Timestamp, until: Timestamp) -> Answer<'_, Vec<HourTally>> {
        self.run(|shared| async move { call_log::tallies(&shared, since, until).await })
    }

    fn follow_ups(&self, party: &str) -> Answer<'_, FollowUps> {
        let party = party.to_owned();
        self.run(|shared| async move {
            let counts = call_log::follow_ups(&shared, Some(&party)).await?;
            Ok(counts.into_iter().next().map(|(_, counts)| counts).unwrap_or_default())
        })
    }

    fn calls_after_no(&self, since: Timestamp, until: Timestamp) -> Answer<'_, u64> {
        self.run(move |shared| async move { call_log::calls_after_no(&shared, since, until).await })
    }

    fn follow_up_counts(&self) -> Answer<'_, Vec<(String, FollowUps)>> {
        self.run(|shared| async move { call_log::follow_ups(&shared, None).await })
    }

    fn repeat_callers(&self, since: Timestamp, min_calls: u32, limit: usize) -> Answer<'_, Vec<RepeatCaller>> {
        self.run(|shared| async move { call_pages::repeat_callers(&shared, since, min_calls, limit).await })
    }

    fn prune_calls(&self, before: Timestamp, keep: Keep, after: Option<Cursor>, budget: usize) -> Answer<'_, Pruned> {
        self.run(|shared| async move { prune::batch(&shared, before, &keep, after, budget).await })
    }

    fn follow_counts(&self, counted: Counted) {
        *self.shared.counted.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(counted);
        self.start_following();
    }
}

/// In tables, so that the next request about a call finds them at whichever process it reaches.
impl CallFacts for PostgresStore {
    fn hold_owner_decision(&self, call_id: &str, decision: OwnerDecision) -> Answer<'_, ()> {
        let call_id = call_id.to_owned();
        self.run(|shared| async move { call_facts::hold(&shared, &call_id, &decision).await })
    }

    fn take_owner_decision(&self, call_id: &str) -> Answer<'_, Option<OwnerDecision>> {
        let call_id = call_id.to_owned();
        self.run(|shared| async move { call_facts::take(&shared, &call_id).await })
    }

    fn first_seen(&self, scope: &str, token: &str, within: Duration) -> Result<bool, StoreError> {
        let (scope, token) = (scope.to_owned(), token.to_owned());
        self.block(|shared| async move { call_facts::first_seen(&shared, &scope, &token, within).await })
    }
}

/// A PostgreSQL database is backed up with PostgreSQL's own tools, which copy it consistently while
/// it is in use; saidno's backup format is for the embedded store.
impl Archive for PostgresStore {
    fn backup(&self, _out: &mut dyn std::io::Write) -> Result<u64, StoreError> {
        Err(StoreError::Unavailable(
            "a PostgreSQL store is backed up with pg_dump (and restored with pg_restore), not saidno backup".into(),
        ))
    }

    /// PostgreSQL checks its own pages; what saidno can add is that the schema is the one it knows.
    fn verify(&self) -> Result<(), StoreError> {
        self.block(|shared| async move { migrations::check(&shared.pool, &shared.shown).await })
    }
}

#[cfg(test)]
mod follow_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tls_tests;
