//! The store in PostgreSQL (`[store] url`): the owner's record in plain tables, the call log in a
//! table partitioned by month, both behind the same roles as the embedded store.
//!
//! One database serves many businesses: `PostgresDatabase` is opened once per process and holds
//! the runtime, the connections and the follower; each business's `PostgresStore` is a cheap
//! handle on it that reads and writes only that business's rows.
//!
//! Every query runs on a small runtime the database owns (see `Worker`), over a pool of connections.
//! Several processes may use one database at once: each owner change is also written to
//! `owner_changes` and announced, and a process that keeps a copy of the record in memory follows
//! the others' changes there (see `follow`).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Weak};
use std::time::Duration;

use deadpool_postgres::Pool;
use futures_util::StreamExt;
use jiff::Timestamp;

use super::{
    Answer, Archive, Businesses, BusinessesChanged, CallFacts, CallHistory, CallPage, CallQuery, CallSink, Change,
    Counted, Cursor, HourTally, Keep, OwnerRecord, Pruned, Publish, Removed, RepeatCaller, StoreError,
};
use crate::domain::{
    Allow, BusinessId, CallRecord, Decline, FollowUps, ForwardOutcome, LegalHold, OwnerDecision, PhoneNumber,
    SettingChange, SignedIn, Target, TextSession, WebChange,
};

mod businesses;
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

/// One business's store in the database: a handle, cheap to make, that shares the database's
/// runtime, connections and follower with every other business's.
pub struct PostgresStore {
    database: PostgresDatabase,
    tenant: Arc<Tenant>,
}

/// The database every business's handle shares: one per process, holding the runtime the queries
/// run on, the pool of connections and the one connection that follows other processes' changes.
/// It is the registry of businesses (`Businesses`) and the call log's writer across them
/// (`CallSink`, each record under `CallRecord::business`).
#[derive(Clone)]
pub struct PostgresDatabase {
    opened: Arc<Opened>,
}

struct Opened {
    worker: Worker,
    shared: Arc<Shared>,
}

/// What the queries of every business share: the pool, and what follows other processes' changes.
struct Shared {
    pool: Pool,
    /// Whether the task that follows other processes' changes runs.
    following: std::sync::atomic::AtomicBool,
    /// The newest id in `owner_changes` the follower has looked past: where a new handle starts
    /// following (an earlier id is always committed before a later one, see `owner_changes`).
    followed: std::sync::atomic::AtomicI64,
    /// The handles of each business that are alive, told of their business's followed changes.
    tenants: std::sync::Mutex<HashMap<BusinessId, Vec<Weak<Tenant>>>>,
    /// Told when another process changes the businesses or their lines.
    businesses_changed: std::sync::Mutex<Option<BusinessesChanged>>,
    /// The settings of the connection that listens for other processes' changes.
    listener: std::sync::Mutex<tokio_postgres::Config>,
    /// How connections are made (plain or over TLS), for that connection.
    connector: tls::Connector,
    /// The database as named in messages.
    shown: String,
    /// The months of the call log known to have a partition.
    months: std::sync::Mutex<std::collections::HashSet<i32>>,
}

/// What one handle keeps of its business: what orders its owner changes, and who is told of
/// the changes and counts other processes make.
struct Tenant {
    shared: Arc<Shared>,
    id: BusinessId,
    /// The id in `owner_changes` of the newest change of this business published here, this
    /// process's or another's. Held from the start of an owner change's transaction until it is
    /// published, and while other processes' changes are taken in, so that changes are published
    /// in the order they were committed, each once.
    changes: tokio::sync::Mutex<i64>,
    /// Told of other processes' changes (see `OwnerRecord::follow`); nowhere until then.
    others: std::sync::Mutex<Publish>,
    /// Told of follow-up counts other processes' logged refusals reach (see
    /// `CallHistory::follow_counts`); nowhere until then.
    counted: std::sync::Mutex<Option<Counted>>,
    /// Whether `counted` was told every count of the business since it was given.
    counts_read: std::sync::atomic::AtomicBool,
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
    /// Connects to the database at `url` and brings its schema up to date: the default
    /// business's store, on a database of its own. Other processes may have it open too. An
    /// unreachable server is `StoreError::Unavailable`. Over TLS, the server's certificate is
    /// checked against the system's trusted authorities.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_with(url, None)
    }

    /// As `open`, with the server's certificate checked against the authorities in `ca_file`
    /// (`[store] ca_file`) when it is given.
    pub fn open_with(url: &str, ca_file: Option<&std::path::Path>) -> Result<Self, StoreError> {
        Ok(PostgresDatabase::open_with(url, ca_file)?.handle(BusinessId::DEFAULT))
    }

    /// The business this store holds the records of.
    pub fn business(&self) -> BusinessId {
        self.tenant.id
    }

    /// Runs `work` with the business's state on the store's runtime, for an async caller.
    fn run<T: Send + 'static, F>(&self, work: impl FnOnce(Arc<Tenant>) -> F) -> Answer<'static, T>
    where
        F: Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        self.database.opened.worker.run(work(self.tenant.clone()))
    }

    /// Runs `work` with the business's state on the store's runtime, blocking the calling thread.
    fn block<T: Send + 'static, F>(&self, work: impl FnOnce(Arc<Tenant>) -> F) -> Result<T, StoreError>
    where
        F: Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        self.database.opened.worker.block(work(self.tenant.clone()))
    }
}

impl PostgresDatabase {
    /// Connects to the database at `url` and brings its schema up to date, as `PostgresStore::open`
    /// describes; with `ca_file`, as `PostgresStore::open_with`.
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
            // Read before anything reads a record, so that a change made while it is read is
            // followed too: taking one in again changes nothing (each sets what it names).
            let newest = owner_changes::newest(&get(&pool, &shown).await?).await?;
            let shared = Shared {
                pool,
                following: Default::default(),
                followed: std::sync::atomic::AtomicI64::new(newest),
                tenants: Default::default(),
                businesses_changed: Default::default(),
                listener: std::sync::Mutex::new(listener),
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
        Ok(Self { opened: Arc::new(Opened { worker, shared }) })
    }

    /// The database as the registry of its businesses.
    pub fn registry(&self) -> Arc<dyn Businesses> {
        Arc::new(self.clone())
    }

    /// The store of business `id`: no connection is made, and nothing is checked, until it is used.
    pub fn handle(&self, id: BusinessId) -> PostgresStore {
        let shared = &self.opened.shared;
        let tenant = Arc::new(Tenant {
            shared: shared.clone(),
            id,
            changes: tokio::sync::Mutex::new(shared.followed.load(std::sync::atomic::Ordering::SeqCst)),
            others: std::sync::Mutex::new(Publish::nowhere()),
            counted: Default::default(),
            counts_read: Default::default(),
        });
        let mut tenants = shared.tenants.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let handles = tenants.entry(id).or_default();
        handles.retain(|handle| handle.strong_count() > 0);
        handles.push(Arc::downgrade(&tenant));
        drop(tenants);
        PostgresStore { database: self.clone(), tenant }
    }

    /// Starts the task that follows other processes' changes and counts, once.
    fn start_following(&self) {
        let shared = &self.opened.shared;
        if !shared.following.swap(true, std::sync::atomic::Ordering::SeqCst) {
            self.opened.worker.handle().spawn(follow::run(shared.clone()));
        }
    }

    /// Runs `work` with the shared state on the store's runtime, for an async caller.
    fn run<T: Send + 'static, F>(&self, work: impl FnOnce(Arc<Shared>) -> F) -> Answer<'static, T>
    where
        F: Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        self.opened.worker.run(work(self.opened.shared.clone()))
    }

    /// Runs `work` with the shared state on the store's runtime, blocking the calling thread.
    fn block<T: Send + 'static, F>(&self, work: impl FnOnce(Arc<Shared>) -> F) -> Result<T, StoreError>
    where
        F: Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        self.opened.worker.block(work(self.opened.shared.clone()))
    }
}

impl Shared {
    async fn connection(&self) -> Result<deadpool_postgres::Object, StoreError> {
        get(&self.pool, &self.shown).await
    }

    /// The handles of `business` still alive.
    fn live(&self, business: BusinessId) -> Vec<Arc<Tenant>> {
        let tenants = self.tenants.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        tenants.get(&business).map(|handles| handles.iter().filter_map(Weak::upgrade).collect()).unwrap_or_default()
    }

    /// Every handle still alive, of any business.
    fn every_live(&self) -> Vec<Arc<Tenant>> {
        let tenants = self.tenants.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        tenants.values().flatten().filter_map(Weak::upgrade).collect()
    }
}

impl Tenant {
    async fn connection(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.shared.connection().await
    }

    /// Where other processes' changes are published.
    fn others(&self) -> Publish {
        self.others.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// The business's id as its rows hold it.
    fn key(&self) -> i64 {
        self.id.0
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
        self.run(|tenant| async move { owner::decline(&tenant, &target).await })
    }

    fn allow_of(&self, number: &PhoneNumber) -> Answer<'_, Option<Allow>> {
        let number = number.clone();
        self.run(|tenant| async move { owner::allow_of(&tenant, &number).await })
    }

    fn declines(&self) -> Answer<'_, Vec<Decline>> {
        self.run(|tenant| async move { owner::declines(&tenant, false).await })
    }

    fn rules(&self) -> Answer<'_, Vec<Decline>> {
        self.run(|tenant| async move { owner::declines(&tenant, true).await })
    }

    fn company_name(&self, key: &str) -> Answer<'_, Option<String>> {
        let key = key.to_owned();
        self.run(|tenant| async move { owner::company_name(&tenant, &key).await })
    }

    fn allows(&self) -> Answer<'_, Vec<Allow>> {
        self.run(|tenant| async move { owner::allows(&tenant).await })
    }

    fn paused(&self) -> Answer<'_, bool> {
        self.run(|tenant| async move { Ok(owner::setting(&tenant, owner::PAUSED).await?.unwrap_or(false)) })
    }

    fn pause_changed(&self) -> Answer<'_, Option<SettingChange>> {
        self.run(|tenant| async move { owner::setting(&tenant, owner::PAUSE_CHANGED).await })
    }

    fn owner_choices(&self) -> Answer<'_, crate::config::OwnerChoices> {
        self.run(|tenant| async move { Ok(owner::setting(&tenant, owner::OWNER_CHOICES).await?.unwrap_or_default()) })
    }

    fn legal_holds(&self) -> Answer<'_, Vec<LegalHold>> {
        self.run(|tenant| async move { owner::legal_holds(&tenant).await })
    }

    fn password_hash(&self) -> Answer<'_, Option<String>> {
        self.run(|tenant| async move { owner::setting(&tenant, owner::PASSWORD).await })
    }

    fn text_session(&self, owner: &PhoneNumber) -> Answer<'_, TextSession> {
        let owner = owner.clone();
        self.run(|tenant| async move { owner::text_session(&tenant, &owner).await })
    }

    fn web_changes(&self) -> Answer<'_, Vec<WebChange>> {
        self.run(|tenant| async move { Ok(owner::setting(&tenant, owner::WEB_CHANGES).await?.unwrap_or_default()) })
    }

    fn signed_in(&self) -> Answer<'_, Vec<SignedIn>> {
        self.run(|tenant| async move { Ok(owner::setting(&tenant, owner::SIGNED_IN).await?.unwrap_or_default()) })
    }

    fn apply(&self, change: Change, publish: Publish) -> Answer<'_, Removed> {
        self.run(|tenant| async move { owner::apply(&tenant, &change, &publish).await })
    }

    fn apply_blocking(&self, change: Change, publish: Publish) -> Result<Removed, StoreError> {
        self.block(|tenant| async move { owner::apply(&tenant, &change, &publish).await })
    }

    /// Waits at most `SPEND_WAIT`: past it the call is forwarded (as on any failure), and the
    /// spend, cut short, is rolled back unless it was already committed.
    fn spend_allow(&self, spent: Allow, publish: Publish) -> Result<bool, StoreError> {
        self.block(|tenant| async move {
            tokio::time::timeout(SPEND_WAIT, owner::spend_allow(&tenant, spent, &publish)).await.map_err(|_| {
                StoreError::Unavailable(format!("PostgreSQL did not spend the allow within {SPEND_WAIT:?}"))
            })?
        })
    }

    fn probe(&self) -> Answer<'_, ()> {
        self.run(|tenant| async move { owner::probe(&tenant).await })
    }

    fn follow(&self, publish: Publish) {
        *self.tenant.others.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = publish;
        self.database.start_following();
    }
}

/// Written by the call log's own thread, which waits here while its batch is committed. Every
/// record and outcome is this business's, whatever it names.
impl CallSink for PostgresStore {
    fn append_calls(&self, calls: &[CallRecord]) -> Result<(), StoreError> {
        let calls = calls.to_vec();
        let business = self.tenant.id;
        self.database.block(move |shared| async move { call_log::append(&shared, &calls, Some(business)).await })
    }

    fn attach_outcomes(&self, outcomes: &[(BusinessId, String, ForwardOutcome)]) -> Result<Vec<bool>, StoreError> {
        let business = self.tenant.id;
        let outcomes: Vec<_> =
            outcomes.iter().map(|(_, call_id, outcome)| (business, call_id.clone(), outcome.clone())).collect();
        self.database.block(|shared| async move { call_log::attach_outcomes(&shared, &outcomes).await })
    }

    /// Each batch is on disk once committed (PostgreSQL's commit waits for its log to be synced).
    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// The call log of every business at once, for an instance's one writer: each record under
/// `CallRecord::business`, each outcome under its business, a batch in one transaction.
impl CallSink for PostgresDatabase {
    fn append_calls(&self, calls: &[CallRecord]) -> Result<(), StoreError> {
        let calls = calls.to_vec();
        self.block(|shared| async move { call_log::append(&shared, &calls, None).await })
    }

    fn attach_outcomes(&self, outcomes: &[(BusinessId, String, ForwardOutcome)]) -> Result<Vec<bool>, StoreError> {
        let outcomes = outcomes.to_vec();
        self.block(|shared| async move { call_log::attach_outcomes(&shared, &outcomes).await })
    }

    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

impl CallHistory for PostgresStore {
    fn call_page(&self, query: &CallQuery) -> Answer<'_, CallPage> {
        let query = query.clone();
        self.run(|tenant| async move { call_pages::page(&tenant, &query).await })
    }

    fn call_tallies(&self, since: Timestamp, until: Timestamp) -> Answer<'_, Vec<HourTally>> {
        self.run(|tenant| async move { call_log::tallies(&tenant, since, until).await })
    }

    fn follow_ups(&self, party: &str) -> Answer<'_, FollowUps> {
        let party = party.to_owned();
        self.run(|tenant| async move {
            let counts = call_log::follow_ups(&tenant, Some(&party)).await?;
            Ok(counts.into_iter().next().map(|(_, counts)| counts).unwrap_or_default())
        })
    }

    fn calls_after_no(&self, since: Timestamp, until: Timestamp) -> Answer<'_, u64> {
        self.run(move |tenant| async move { call_log::calls_after_no(&tenant, since, until).await })
    }

    fn follow_up_counts(&self) -> Answer<'_, Vec<(String, FollowUps)>> {
        self.run(|tenant| async move { call_log::follow_ups(&tenant, None).await })
    }

    fn repeat_callers(&self, since: Timestamp, min_calls: u32, limit: usize) -> Answer<'_, Vec<RepeatCaller>> {
        self.run(|tenant| async move { call_pages::repeat_callers(&tenant, since, min_calls, limit).await })
    }

    fn prune_calls(&self, before: Timestamp, keep: Keep, after: Option<Cursor>, budget: usize) -> Answer<'_, Pruned> {
        self.run(|tenant| async move { prune::batch(&tenant, before, &keep, after, budget).await })
    }

    fn follow_counts(&self, counted: Counted) {
        *self.tenant.counted.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(counted);
        self.tenant.counts_read.store(false, std::sync::atomic::Ordering::SeqCst);
        self.database.start_following();
    }
}

/// In tables, so that the next request about a call finds them at whichever process it reaches.
impl CallFacts for PostgresStore {
    fn hold_owner_decision(&self, call_id: &str, decision: OwnerDecision) -> Answer<'_, ()> {
        let call_id = call_id.to_owned();
        self.run(|tenant| async move { call_facts::hold(&tenant, &call_id, &decision).await })
    }

    fn take_owner_decision(&self, call_id: &str) -> Answer<'_, Option<OwnerDecision>> {
        let call_id = call_id.to_owned();
        self.run(|tenant| async move { call_facts::take(&tenant, &call_id).await })
    }

    fn first_seen(&self, scope: &str, token: &str, within: Duration) -> Result<bool, StoreError> {
        let (scope, token) = (scope.to_owned(), token.to_owned());
        self.block(|tenant| async move { call_facts::first_seen(&tenant, &scope, &token, within).await })
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
        self.database.block(|shared| async move { migrations::check(&shared.pool, &shared.shown).await })
    }
}

#[cfg(test)]
pub(crate) mod business_tests;
#[cfg(test)]
mod follow_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tls_tests;
