//! What the PostgreSQL store does beyond the contract every store keeps (`store::contract`).

use super::super::{Keep, Pruned};
use super::test_db::TestDb;
use crate::config::check_url;

/// The migrations this binary carries.
const MIGRATIONS_KNOWN: i64 = 5;
use super::*;

#[test]
fn a_malformed_url_is_refused_without_repeating_it() {
    for url in ["mysql://saidno:hunter2@db/saidno", "postgres://saidno:hunter2@db:notaport/saidno", "postgres:///"] {
        let error = check_url(url).err().unwrap_or_else(|| panic!("{url} taken"));
        assert!(error.contains("postgres://user:password@host:5432/database"), "{error}");
        assert!(!error.contains("hunter2"), "{error}");
    }
    assert!(check_url("postgres://saidno:hunter2@db.example.com:5433/saidno").is_ok());
}

#[test]
fn an_unreachable_server_leaves_the_store_unavailable_and_names_it_without_the_password() {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    let error = PostgresStore::open("postgres://saidno:hunter2@127.0.0.1:1/saidno").err().expect("no server");
    let StoreError::Unavailable(message) = &error else { panic!("{error:?}") };
    assert!(message.contains("postgres://127.0.0.1:1/saidno"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
}

#[tokio::test]
async fn a_database_migrated_by_a_newer_release_is_refused() {
    let Some(database) = TestDb::new() else { return };
    drop(PostgresStore::open(&database.url).expect("a new database opens"));
    database.execute("INSERT INTO schema_migrations (version) VALUES (9999)");
    let error = PostgresStore::open(&database.url).err().expect("refused");
    let StoreError::Unavailable(message) = &error else { panic!("{error:?}") };
    assert!(message.contains("version 9999, newer than this saidno knows (5)"), "{message}");
}

#[tokio::test]
async fn stores_opening_at_once_migrate_the_schema_once() {
    let Some(database) = TestDb::new() else { return };
    let url = database.url.clone();
    let opening: Vec<_> = (0..3)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || PostgresStore::open(&url))
        })
        .collect();
    let opened: Vec<_> = opening.into_iter().map(|thread| thread.join().unwrap()).collect();
    let opened: Vec<PostgresStore> =
        opened.into_iter().map(|store| store.unwrap_or_else(|e| panic!("every one opens: {e}"))).collect();
    let store = &opened[0];
    let versions = store
        .block(|shared| async move {
            let connection = shared.connection().await?;
            Ok(connection.query_one("SELECT count(*) FROM schema_migrations", &[]).await.map_err(pg)?.get::<_, i64>(0))
        })
        .unwrap();
    assert_eq!(versions, MIGRATIONS_KNOWN);
}

#[tokio::test]
async fn calls_land_in_the_partition_of_their_month() {
    let Some((_database, store)) = TestDb::with_store() else { return };
    let call = |id: &str, at: &str| CallRecord { call_id: id.into(), at: at.parse().unwrap(), ..Default::default() };
    store.append_calls(&[call("CA1", "2024-01-31T23:59:59Z"), call("CA2", "2024-02-01T00:00:00Z")]).unwrap();
    let partitions = store
        .block(|shared| async move {
            let connection = shared.connection().await?;
            let rows = connection
                .query("SELECT tableoid::regclass::text, call_id FROM calls ORDER BY at", &[])
                .await
                .map_err(pg)?;
            Ok(rows.iter().map(|row| (row.get::<_, String>(0), row.get::<_, String>(1))).collect::<Vec<_>>())
        })
        .unwrap();
    assert_eq!(partitions, [("calls_2024_01".into(), "CA1".into()), ("calls_2024_02".into(), "CA2".into())]);
}

#[tokio::test]
async fn a_batch_of_declines_that_fails_saves_none_of_them_and_publishes_nothing() {
    let Some((database, store)) = TestDb::with_store() else { return };
    let decline = |number: &str| {
        Decline::new(Target::Number(PhoneNumber::from_e164(number).unwrap()), "2026-11-03T10:00:00Z".parse().unwrap())
    };
    // A rule the database refuses part-way through the batch: its company is written after the
    // declines, into a table that no longer takes it.
    database.execute("ALTER TABLE companies ADD CONSTRAINT no_acme CHECK (key <> 'acme')");
    let batch: crate::domain::DeclineBatch =
        [decline("+442079460123"), Decline { company: Some("Acme".into()), ..decline("+442079460124") }]
            .into_iter()
            .collect();
    let told = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let publish = {
        let told = told.clone();
        Publish::to(move |_| {
            told.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        })
    };
    assert!(store.apply(Change::Declines(Arc::new(batch)), publish).await.is_err());
    assert!(store.declines().await.unwrap().is_empty(), "nothing of the batch is kept");
    assert_eq!(told.load(std::sync::atomic::Ordering::SeqCst), 0);
}

/// Prunes in batches of `budget` until the walk ends, as the background task does.
async fn prune_all(store: &PostgresStore, before: &str, held: &'static str, budget: usize) -> Pruned {
    let mut total = Pruned::default();
    loop {
        let keep: Keep = Box::new(move |call: &CallRecord| call.call_id == held);
        total = total.and(store.prune_calls(before.parse().unwrap(), keep, total.next, budget).await.unwrap());
        if total.next.is_none() {
            return total;
        }
    }
}

/// Each partition's table, and the calls in it, oldest first.
fn partitions(store: &PostgresStore) -> Vec<(u32, String, Vec<String>)> {
    store
        .block(|shared| async move {
            let connection = shared.connection().await?;
            let rows = connection
                .query(
                    "SELECT child.oid, child.relname::text, \
                     coalesce((SELECT array_agg(call_id ORDER BY at, id) FROM calls WHERE tableoid = child.oid), '{}') \
                     FROM pg_inherits JOIN pg_class child ON child.oid = pg_inherits.inhrelid \
                     WHERE pg_inherits.inhparent = 'calls'::regclass ORDER BY child.relname",
                    &[],
                )
                .await
                .map_err(pg)?;
            Ok(rows.iter().map(|row| (row.get::<_, u32>(0), row.get(1), row.get(2))).collect())
        })
        .unwrap()
}

fn calls_at(times: &[(&str, &str)]) -> Vec<CallRecord> {
    times
        .iter()
        .map(|(id, at)| CallRecord { call_id: (*id).into(), at: at.parse().unwrap(), ..Default::default() })
        .collect()
}

#[tokio::test]
async fn a_month_past_retention_is_replaced_whole_with_only_its_held_calls() {
    let Some((_database, store)) = TestDb::with_store() else { return };
    store
        .append_calls(&calls_at(&[
            ("CA-jan-1", "2024-01-03T10:00:00Z"),
            ("CA-jan-held", "2024-01-10T10:00:00Z"),
            ("CA-jan-3", "2024-01-20T10:00:00Z"),
            ("CA-feb-1", "2024-02-03T10:00:00Z"),
            ("CA-mar-1", "2024-03-31T23:59:59Z"),
            ("CA-apr-young", "2024-04-01T00:00:01Z"),
        ]))
        .unwrap();
    let before = partitions(&store);
    let pruned = prune_all(&store, "2024-04-01T00:00:00Z", "CA-jan-held", 2).await;
    assert_eq!((pruned.calls, pruned.kept), (4, 1), "{pruned:?}");
    let after = partitions(&store);
    let contents = |listed: &[(u32, String, Vec<String>)]| -> Vec<(String, Vec<String>)> {
        listed.iter().map(|(_, name, calls)| (name.clone(), calls.clone())).collect()
    };
    let starting_now =
        contents(&after).into_iter().filter(|(name, _)| name.as_str() < "calls_2024_05").collect::<Vec<_>>();
    assert_eq!(
        starting_now,
        [
            ("calls_2024_01".to_owned(), vec!["CA-jan-held".to_owned()]),
            ("calls_2024_02".to_owned(), vec![]),
            ("calls_2024_03".to_owned(), vec![]),
            ("calls_2024_04".to_owned(), vec!["CA-apr-young".to_owned()]),
        ]
    );
    let oid = |listed: &[(u32, String, Vec<String>)], name: &str| listed.iter().find(|(_, n, _)| n == name).unwrap().0;
    for month in ["calls_2024_01", "calls_2024_02", "calls_2024_03"] {
        assert_ne!(oid(&before, month), oid(&after, month), "{month} is a new table");
    }
    assert_eq!(oid(&before, "calls_2024_04"), oid(&after, "calls_2024_04"), "the month the period ends in stays");
    let listed = store.calls(&CallQuery { limit: 10, ..Default::default() }).await.unwrap();
    assert_eq!(listed.iter().map(|call| call.call_id.as_str()).collect::<Vec<_>>(), ["CA-apr-young", "CA-jan-held"]);
}

#[tokio::test]
async fn a_call_logged_behind_the_walk_keeps_its_month_from_being_dropped_until_the_next_pass() {
    let Some((_database, store)) = TestDb::with_store() else { return };
    store
        .append_calls(&calls_at(&[
            ("CA-1", "2024-01-10T10:00:00Z"),
            ("CA-2", "2024-01-20T10:00:00Z"),
            ("CA-3", "2024-01-25T10:00:00Z"),
        ]))
        .unwrap();
    let before: Timestamp = "2024-03-01T00:00:00Z".parse().unwrap();
    let nothing_kept = || -> Keep { Box::new(|_: &CallRecord| false) };
    let first = store.prune_calls(before, nothing_kept(), None, 2).await.unwrap();
    assert!(first.next.is_some());
    // Logged into the month behind where the walk has got to: the walk never judges it.
    store.append_calls(&calls_at(&[("CA-late", "2024-01-05T10:00:00Z")])).unwrap();
    let mut total = first;
    while let Some(next) = total.next {
        total = total.and(store.prune_calls(before, nothing_kept(), Some(next), 2).await.unwrap());
    }
    let january =
        |store: &PostgresStore| partitions(store).into_iter().find(|(_, name, _)| name == "calls_2024_01").unwrap().2;
    assert_eq!(january(&store), ["CA-late", "CA-1", "CA-2", "CA-3"], "nothing unjudged is dropped");
    assert_eq!(prune_all(&store, "2024-03-01T00:00:00Z", "none", 2).await.calls, 4, "the next pass judges it all");
    assert!(january(&store).is_empty());
}
