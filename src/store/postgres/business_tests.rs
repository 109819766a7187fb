//! Many businesses in one database: each handle reads and writes only its business's records,
//! pruning and removing one leaves the others whole, and followed changes reach only their
//! business's handles. Also the registry of businesses and lines, and the schema's migration.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::test_db::TestDb;
use super::*;
use crate::domain::{Business, BusinessName, DecisionKind, Line, OwnerDecision, SignedIn, TextSession};
use crate::store::{CallQuery, NewBusiness, ONE_BUSINESS, OneBusiness, Store};

fn number(text: &str) -> PhoneNumber {
    PhoneNumber::from_e164(text).unwrap()
}

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn named(name: &str) -> NewBusiness {
    NewBusiness { name: BusinessName::parse(name).unwrap(), settings: String::new(), token_sha256: None }
}

fn refused(call_id: &str, when: &str) -> CallRecord {
    CallRecord {
        call_id: call_id.into(),
        from: "+442079460123".into(),
        at: at(when),
        decision: DecisionKind::Decline,
        party: Some("company:everest windows".into()),
        follow_up: Some(1),
        ..Default::default()
    }
}

/// A database with a store open on it, for these tests; `None` (skipped) without a test server.
fn database() -> Option<(TestDb, PostgresDatabase)> {
    let test_db = TestDb::new()?;
    let database = PostgresDatabase::open_with(&test_db.url, None).expect("the test database opens");
    Some((test_db, database))
}

/// Fills the business of `store` with one of every kind of record, each told apart by `mark`.
async fn fill(store: &PostgresStore, mark: &str) {
    let decline = Decline {
        company: Some(format!("{mark} Windows")),
        ..Decline::new(Target::Number(number("+442079460123")), at("2026-11-03T10:00:00Z"))
    };
    let changes = [
        Change::Decline(decline),
        Change::Allow(Allow::always(number("+442079460124"), Some(mark.into()), at("2026-11-03T10:00:00Z"))),
        Change::LegalHold { party: format!("company:{mark}"), since: Some(at("2026-11-01T00:00:00Z")) },
        Change::TextSession {
            owner: number("+447700900123"),
            session: TextSession { listed: vec![None; mark.len()], ..Default::default() },
        },
        Change::SignIn {
            browser: SignedIn { digest: mark.into(), until: at("2026-11-02T12:00:00Z") },
            now: at("2026-11-02T00:00:00Z"),
        },
        Change::PasswordHash(mark.into()),
    ];
    for change in changes {
        store.apply(change, Publish::nowhere()).await.unwrap();
    }
    store
        .append_calls(&[refused(&format!("CA-{mark}"), "2026-10-05T10:00:00Z"), refused("CA1", "2026-10-06T10:00:00Z")])
        .unwrap();
    store
        .hold_owner_decision(
            "CA1",
            OwnerDecision::Declined(Decline::new(Target::Number(number("+442079460123")), at("2026-11-03T10:00:00Z"))),
        )
        .await
        .unwrap();
    let _ = mark;
}

/// What a store holds, as its owner would see it: that each business sees only its own.
async fn seen(store: &PostgresStore) -> Vec<String> {
    let declines = store.declines().await.unwrap();
    let allows = store.allows().await.unwrap();
    let calls = store.calls(&CallQuery { limit: 10, ..Default::default() }).await.unwrap();
    vec![
        format!("declines {:?}", declines.iter().map(|d| d.company.clone()).collect::<Vec<_>>()),
        format!("allows {:?}", allows.iter().map(|a| a.name.clone()).collect::<Vec<_>>()),
        format!("holds {:?}", store.legal_holds().await.unwrap().iter().map(|h| h.party.clone()).collect::<Vec<_>>()),
        format!("text {}", store.text_session(&number("+447700900123")).await.unwrap().listed.len()),
        format!(
            "signed in {:?}",
            store.signed_in().await.unwrap().iter().map(|s| s.digest.clone()).collect::<Vec<_>>()
        ),
        format!("password {:?}", store.password_hash().await.unwrap()),
        format!("calls {:?}", calls.iter().map(|c| (c.call_id.clone(), c.business)).collect::<Vec<_>>()),
        format!("follow-ups {:?}", store.follow_up_counts().await.unwrap()),
        format!(
            "tallies {}",
            store.call_tallies(at("2026-10-01T00:00:00Z"), at("2026-11-01T00:00:00Z")).await.unwrap().len()
        ),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn each_business_sees_only_its_own_records_and_pruning_or_removing_one_leaves_the_other_whole() {
    let Some((test_db, database)) = database() else { return };
    let first = database.add_business(named("first")).await.unwrap();
    let second = database.add_business(named("second")).await.unwrap();
    let (a, b) = (database.handle(first.id), database.handle(second.id));
    assert!(seen(&a).await.iter().any(|line| line == "calls []"), "a new business has no records");
    fill(&a, "Alpha").await;
    fill(&b, "Beta").await;

    let in_a = seen(&a).await;
    assert_eq!(in_a[0], r#"declines [Some("Alpha Windows")]"#);
    assert_eq!(in_a[1], r#"allows [Some("Alpha")]"#);
    assert_eq!(in_a[2], r#"holds ["company:Alpha"]"#);
    assert_eq!(in_a[3], "text 5");
    assert_eq!(in_a[4], r#"signed in ["Alpha"]"#);
    assert_eq!(in_a[5], r#"password Some("Alpha")"#);
    assert_eq!(in_a[6], format!(r#"calls [("CA1", BusinessId({0})), ("CA-Alpha", BusinessId({0}))]"#, first.id));
    let in_b = seen(&b).await;
    assert_eq!(in_b[0], r#"declines [Some("Beta Windows")]"#);
    assert_eq!(in_b[5], r#"password Some("Beta")"#);
    assert_eq!(in_b[6], format!(r#"calls [("CA1", BusinessId({0})), ("CA-Beta", BusinessId({0}))]"#, second.id));
    assert!(seen(&database.handle(BusinessId::DEFAULT)).await.contains(&"calls []".to_owned()));

    // A decision held for a call is taken only by the business whose call it is.
    assert!(b.take_owner_decision("CA1").await.unwrap().is_some());
    assert_eq!(b.take_owner_decision("CA1").await.unwrap(), None);
    assert!(a.take_owner_decision("CA1").await.unwrap().is_some(), "the other business's decision is still there");

    // An outcome reported for a call id both businesses have reaches only the business it names.
    let answered = ForwardOutcome { status: Some("completed".into()), ..Default::default() };
    assert_eq!(database.attach_outcomes(&[(second.id, "CA1".into(), answered.clone())]).unwrap(), [true]);
    let outcome_of = async |store: &PostgresStore| {
        let calls = store.calls(&CallQuery { limit: 10, ..Default::default() }).await.unwrap();
        calls.into_iter().find(|call| call.call_id == "CA1").unwrap().outcome
    };
    assert_eq!(outcome_of(&b).await, Some(answered));
    assert_eq!(outcome_of(&a).await, None);

    // Pruning every call of one business leaves the other's calls and tallies.
    let before_b = seen(&b).await;
    let pruned = a.prune_calls(at("2027-01-01T00:00:00Z"), Box::new(|_| false), None, 100).await.unwrap();
    assert_eq!(pruned.calls, 2);
    assert_eq!(seen(&a).await[6], "calls []");
    assert_eq!(seen(&b).await, before_b);

    // Removing one business removes every record it had, and nothing of the other's.
    database.add_line(Line { number: number("+442079460999"), business: first.id }).await.unwrap();
    let removed = database.remove_business(first.id).await.unwrap().expect("it was there");
    assert_eq!(removed.name.as_str(), "first");
    assert_eq!(seen(&b).await, before_b);
    assert!(database.lines().await.unwrap().is_empty(), "its line went with it");
    let left = rows_of(&test_db, first.id);
    assert_eq!(left, 0, "rows of the removed business are left");
    assert!(rows_of(&test_db, second.id) > 0);
}

/// How many rows of `business` every table of records holds together.
fn rows_of(test_db: &TestDb, business: BusinessId) -> i64 {
    let database = PostgresDatabase::open_with(&test_db.url, None).unwrap();
    database
        .block(move |shared| async move {
            let connection = shared.connection().await?;
            let mut total = 0;
            for table in businesses::RECORDS {
                let row = connection
                    .query_one(&format!("SELECT count(*) FROM {table} WHERE business_id = $1"), &[&business.0])
                    .await
                    .map_err(pg)?;
                total += row.get::<_, i64>(0);
            }
            Ok(total)
        })
        .unwrap()
}

/// The changes a hook was told of, in their debug form.
#[derive(Clone, Default)]
struct Told(Arc<Mutex<Vec<String>>>);

impl Told {
    fn publish(&self) -> Publish {
        let told = self.0.clone();
        Publish::to(move |change| told.lock().unwrap().push(format!("{change:?}")))
    }

    fn all(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }

    /// Waits until `count` changes were told. The bound only stops a broken test from hanging.
    fn wait_for(&self, count: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.all().len() < count {
            assert!(Instant::now() < deadline, "only {:?} was told, not {count} changes", self.all());
            std::thread::sleep(Duration::from_millis(10));
        }
        self.all()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_followed_change_of_one_business_is_told_only_to_that_businesss_handles() {
    let Some((test_db, here)) = database() else { return };
    let there = PostgresDatabase::open_with(&test_db.url, None).unwrap();
    let first = here.add_business(named("first")).await.unwrap();
    let second = here.add_business(named("second")).await.unwrap();
    let (at_a, at_a_again, at_b) = (Told::default(), Told::default(), Told::default());
    let (a, a_again, b) = (here.handle(first.id), here.handle(first.id), here.handle(second.id));
    a.follow(at_a.publish());
    a_again.follow(at_a_again.publish());
    b.follow(at_b.publish());
    // A handle dropped is simply not told.
    let dropped = here.handle(first.id);
    dropped.follow(Told::default().publish());
    drop(dropped);

    let paused = Change::Paused { paused: true, changed: Default::default() };
    there.handle(first.id).apply(paused.clone(), Publish::nowhere()).await.unwrap();
    assert_eq!(at_a.wait_for(1), [format!("{paused:?}")]);
    assert_eq!(at_a_again.wait_for(1), [format!("{paused:?}")]);
    let hash = Change::PasswordHash("other".into());
    there.handle(second.id).apply(hash.clone(), Publish::nowhere()).await.unwrap();
    assert_eq!(at_b.wait_for(1), [format!("{hash:?}")]);
    assert_eq!(at_a.all(), [format!("{paused:?}")], "the other business's change is not told here");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_call_log_of_an_instance_files_each_call_under_its_business_in_one_batch() {
    let Some((_test_db, database)) = database() else { return };
    let other = database.add_business(named("other")).await.unwrap();
    let of = |business: BusinessId, call_id: &str| CallRecord { business, ..refused(call_id, "2026-10-05T10:00:00Z") };
    database.append_calls(&[of(other.id, "CA1"), of(BusinessId::DEFAULT, "CA2"), of(other.id, "CA3")]).unwrap();
    let ids = async |business: BusinessId| {
        let calls = database.handle(business).calls(&CallQuery { limit: 10, ..Default::default() }).await.unwrap();
        calls.into_iter().map(|call| call.call_id).collect::<Vec<_>>()
    };
    assert_eq!(ids(other.id).await, ["CA3", "CA1"]);
    assert_eq!(ids(BusinessId::DEFAULT).await, ["CA2"]);
    // A handle files what it is given under its own business, whatever the record says.
    database.handle(other.id).append_calls(&[of(BusinessId::DEFAULT, "CA4")]).unwrap();
    assert_eq!(ids(other.id).await, ["CA4", "CA3", "CA1"]);
    assert_eq!(database.handle(other.id).follow_ups("company:everest windows").await.unwrap().count, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn businesses_are_added_listed_changed_and_removed_with_their_lines() {
    let Some((_test_db, database)) = database() else { return };
    let listed =
        async || database.businesses().await.unwrap().into_iter().map(|b| b.name.to_string()).collect::<Vec<_>>();
    assert_eq!(listed().await, ["default"]);
    let zeta = database.add_business(named("zeta")).await.unwrap();
    let acme = database.add_business(named("acme")).await.unwrap();
    assert_eq!(listed().await, ["default", "acme", "zeta"], "the default first, then by name");
    let taken = database.add_business(named("acme")).await.unwrap_err();
    assert!(matches!(&taken, StoreError::Conflict(why) if why.contains("acme")), "{taken:?}");
    assert_eq!(listed().await, ["default", "acme", "zeta"], "a refused add changes nothing");

    let changed = Business { settings: "name = \"Acme\"".into(), token_sha256: Some("ab".into()), ..acme.clone() };
    database.update_business(changed.clone()).await.unwrap();
    assert_eq!(database.business(acme.id).await.unwrap(), Some(changed.clone()));
    assert_eq!(database.business_named(&acme.name).await.unwrap(), Some(changed));
    let missing = Business { id: BusinessId(999), ..acme.clone() };
    assert!(matches!(database.update_business(missing).await, Err(StoreError::Conflict(_))));

    let line = Line { number: number("+442079460999"), business: acme.id };
    database.add_line(line.clone()).await.unwrap();
    database.add_line(line.clone()).await.unwrap();
    let elsewhere = database.add_line(Line { business: zeta.id, ..line.clone() }).await.unwrap_err();
    assert!(matches!(&elsewhere, StoreError::Conflict(why) if why.contains("+442079460999")), "{elsewhere:?}");
    let nobody = Line { number: number("+442079460998"), business: BusinessId(999) };
    assert!(matches!(database.add_line(nobody).await, Err(StoreError::Conflict(_))));
    assert_eq!(database.lines().await.unwrap(), std::slice::from_ref(&line));

    let default = database.remove_business(BusinessId::DEFAULT).await.unwrap_err();
    assert!(matches!(&default, StoreError::Conflict(why) if why.contains("default")), "{default:?}");
    assert_eq!(database.remove_business(BusinessId(999)).await.unwrap(), None);
    assert_eq!(database.remove_business(zeta.id).await.unwrap().map(|b| b.id), Some(zeta.id));
    assert_eq!(database.remove_line(&line.number).await.unwrap(), Some(line.clone()));
    assert_eq!(database.remove_line(&line.number).await.unwrap(), None);
    database.add_line(line).await.unwrap();
    database.remove_business(acme.id).await.unwrap();
    assert!(database.lines().await.unwrap().is_empty(), "a business's lines go with it");
    assert_eq!(listed().await, ["default"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn another_process_adding_a_business_is_told_to_whoever_follows_them() {
    let Some((test_db, here)) = database() else { return };
    let there = PostgresDatabase::open_with(&test_db.url, None).unwrap();
    let told = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = told.clone();
    here.follow_businesses(Arc::new(move || {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }));
    // The follower listens once it has started; a check is what shows it has.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        there.add_line(Line { number: number("+442079460999"), business: BusinessId::DEFAULT }).await.unwrap();
        there.remove_line(&number("+442079460999")).await.unwrap();
        if told.load(std::sync::atomic::Ordering::SeqCst) > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "no change to the businesses was told");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_embedded_store_holds_one_business_and_refuses_to_host_another() {
    let store: Arc<dyn Store> = Arc::new(crate::store::MemoryStore::default());
    let one = OneBusiness::new(store.clone());
    let businesses = one.businesses().await.unwrap();
    assert_eq!(businesses.len(), 1);
    assert_eq!(
        (businesses[0].id, businesses[0].name.as_str(), businesses[0].settings.as_str()),
        (BusinessId::DEFAULT, "default", "")
    );
    assert!(one.lines().await.unwrap().is_empty());
    let refused = one.add_business(named("acme")).await.unwrap_err();
    assert!(matches!(&refused, StoreError::Conflict(why) if why == ONE_BUSINESS), "{refused:?}");
    assert_eq!(ONE_BUSINESS, "hosting more than one business needs a PostgreSQL store ([store] url)");
    let line = Line { number: number("+442079460999"), business: BusinessId::DEFAULT };
    assert!(matches!(one.add_line(line).await, Err(StoreError::Conflict(why)) if why == ONE_BUSINESS));
    assert!(one.lines().await.unwrap().is_empty(), "a refused add changes nothing");
    assert!(Arc::ptr_eq(&one.store_of(BusinessId::DEFAULT).unwrap(), &store));
    assert!(one.store_of(BusinessId(2)).is_err());
    assert!(matches!(one.remove_business(BusinessId::DEFAULT).await, Err(StoreError::Conflict(_))));
}

/// A business beside the default one, with the default business holding records of every kind
/// under the same keys the contract suite uses: the suite, run on it, proves they are not seen.
pub async fn a_business_beside_a_busy_one(database: &PostgresDatabase) -> PostgresStore {
    let default = database.handle(BusinessId::DEFAULT);
    fill(&default, "Everest").await;
    default.apply(Change::Paused { paused: true, changed: Default::default() }, Publish::nowhere()).await.unwrap();
    default.append_calls(&[refused("CA9", "2026-11-01T10:00:00Z"), refused("CA7", "2026-11-04T10:00:00Z")]).unwrap();
    let other = database.add_business(named("beside")).await.unwrap();
    database.handle(other.id)
}

#[tokio::test]
async fn a_database_written_by_the_single_business_release_migrates_with_everything_the_default_businesss() {
    let Some(test_db) = TestDb::new() else { return };
    for (version, sql) in migrations::MIGRATIONS.iter().filter(|(version, _)| *version <= 4) {
        test_db.execute(&format!("{sql}; CREATE TABLE IF NOT EXISTS schema_migrations (version bigint PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now()); INSERT INTO schema_migrations (version) VALUES ({version})"));
    }
    let decline = Decline::new(Target::Number(number("+442079460123")), at("2026-11-03T10:00:00Z"));
    let allow = Allow::always(number("+442079460124"), None, at("2026-11-03T10:00:00Z"));
    let quoted = |value: String| value.replace('\'', "''");
    test_db.execute(&format!(
        "CREATE TABLE calls_2026_10 PARTITION OF calls
             FOR VALUES FROM ('2026-10-01 00:00:00+00') TO ('2026-11-01 00:00:00+00');
         INSERT INTO calls (at, id, call_id, caller, called, decision, reason, flagged, used_single_allow, party,
             follow_up) VALUES ('2026-10-05 10:00:00+00', nextval('call_ids'), 'CA-old', '+442079460123',
             '+442079460999', 1, 'declined', false, false, 'company:everest windows', 1);
         INSERT INTO tallies VALUES (493000, 0, 1, 0);
         INSERT INTO follow_ups (party, count) VALUES ('company:everest windows', 1);
         INSERT INTO declines VALUES ('{}', 442079460123, '{}');
         INSERT INTO allows VALUES ('+442079460124', '{}');
         INSERT INTO settings VALUES ('password', '\"old-hash\"');
         INSERT INTO legal_holds VALUES ('company:everest windows', '2026-10-01 00:00:00+00');
         INSERT INTO owner_changes (change) VALUES ('{{}}');",
        decline.target.key(),
        quoted(serde_json::to_string(&decline).unwrap()),
        quoted(serde_json::to_string(&allow).unwrap()),
    ));
    let store = PostgresStore::open(&test_db.url).expect("the old database opens and migrates");
    assert_eq!(store.declines().await.unwrap(), [decline]);
    assert_eq!(store.allows().await.unwrap(), [allow]);
    assert_eq!(store.password_hash().await.unwrap().as_deref(), Some("old-hash"));
    assert_eq!(store.legal_holds().await.unwrap().len(), 1);
    assert_eq!(store.follow_ups("company:everest windows").await.unwrap().count, 1);
    let calls = store.calls(&CallQuery { limit: 10, ..Default::default() }).await.unwrap();
    assert_eq!(calls.iter().map(|call| call.call_id.as_str()).collect::<Vec<_>>(), ["CA-old"]);
    assert_eq!(rows_of(&test_db, BusinessId::DEFAULT), 8, "every old row is the default business's");
    let database = PostgresDatabase::open_with(&test_db.url, None).unwrap();
    let other = database.add_business(named("new")).await.unwrap();
    assert_eq!(other.id, BusinessId(2), "new businesses are numbered after the default one");
    assert_eq!(rows_of(&test_db, other.id), 0);
}
