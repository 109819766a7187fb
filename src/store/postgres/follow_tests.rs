//! Two stores on one database, as two processes would hold them: each sees the other's owner
//! changes through the hook given to `follow`, once each and in the order they were committed.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::test_db::TestDb;
use super::*;

/// The changes a hook was told of, as JSON (a `Change` has no equality of its own).
#[derive(Clone, Default)]
struct Told(Arc<Mutex<Vec<Value>>>);

impl Told {
    fn publish(&self) -> Publish {
        let told = self.0.clone();
        Publish::to(move |change| told.lock().unwrap().push(serde_json::to_value(change).unwrap()))
    }

    fn all(&self) -> Vec<Value> {
        self.0.lock().unwrap().clone()
    }

    /// Waits until `count` changes were told. The bound only stops a broken test from hanging.
    fn wait_for(&self, count: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.all().len() < count {
            assert!(Instant::now() < deadline, "only {:?} was told, not {count} changes", self.all());
            std::thread::sleep(Duration::from_millis(10));
        }
        self.all()
    }
}

fn json(change: &Change) -> Value {
    serde_json::to_value(change).unwrap()
}

fn decline(number: &str) -> Change {
    let number = PhoneNumber::from_e164(number).unwrap();
    Change::Decline(Decline::new(Target::Number(number), "2026-11-03T10:00:00Z".parse().unwrap()))
}

fn allow(number: &str) -> Change {
    let number = PhoneNumber::from_e164(number).unwrap();
    Change::Allow(Allow::always(number, None, "2026-11-03T10:00:00Z".parse().unwrap()))
}

fn second_store(database: &TestDb) -> PostgresStore {
    PostgresStore::open(&database.url).unwrap_or_else(|e| panic!("a second store opens on the database: {e}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn two_stores_on_one_database_see_each_others_changes_once_and_in_order() {
    let Some((database, first)) = TestDb::with_store() else { return };
    let second = second_store(&database);
    let (at_first, at_second) = (Told::default(), Told::default());
    first.follow(at_first.publish());
    second.follow(at_second.publish());

    let declined = decline("+442079460123");
    first.apply(declined.clone(), at_first.publish()).await.unwrap();
    assert_eq!(at_second.wait_for(1), [json(&declined)]);
    let allowed = allow("+442079460124");
    second.apply(allowed.clone(), at_second.publish()).await.unwrap();
    assert_eq!(at_first.wait_for(2), [json(&declined), json(&allowed)], "each once, in the database's order");

    let removed = Change::RemoveDecline(Target::Number(PhoneNumber::from_e164("+442079460123").unwrap()));
    first.apply(removed.clone(), at_first.publish()).await.unwrap();
    assert_eq!(at_second.wait_for(3), [json(&declined), json(&allowed), json(&removed)]);
    // Another round through both, so that a change told twice would have shown by now.
    second.apply(allow("+442079460125"), at_second.publish()).await.unwrap();
    assert_eq!(at_first.wait_for(4).len(), 4);
    assert_eq!(at_second.all().len(), 4);
    assert_eq!(at_first.all(), at_second.all());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_store_opened_later_follows_from_the_newest_change_and_not_before() {
    let Some((database, first)) = TestDb::with_store() else { return };
    first.apply(decline("+442079460123"), Publish::nowhere()).await.unwrap();
    let second = second_store(&database);
    let at_second = Told::default();
    second.follow(at_second.publish());
    let allowed = allow("+442079460124");
    first.apply(allowed.clone(), Publish::nowhere()).await.unwrap();
    assert_eq!(at_second.wait_for(1), [json(&allowed)], "what was there when it opened, it reads whole");
}

#[tokio::test(flavor = "multi_thread")]
async fn changes_are_followed_after_the_listening_connection_is_dropped() {
    let Some((database, first)) = TestDb::with_store() else { return };
    let second = second_store(&database);
    let at_second = Told::default();
    second.follow(at_second.publish());
    let declined = decline("+442079460123");
    first.apply(declined.clone(), Publish::nowhere()).await.unwrap();
    at_second.wait_for(1);

    database.execute(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = '{}' AND datname = current_database()",
        follow::LISTENER_NAME
    ));
    let allowed = allow("+442079460124");
    first.apply(allowed.clone(), Publish::nowhere()).await.unwrap();
    assert_eq!(at_second.wait_for(2), [json(&declined), json(&allowed)]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_that_does_not_read_back_and_a_malformed_announcement_are_passed_over() {
    let Some((database, first)) = TestDb::with_store() else { return };
    let second = second_store(&database);
    let at_second = Told::default();
    second.follow(at_second.publish());

    database.execute(
        "INSERT INTO owner_changes (change) VALUES ('{\"kind\": \"no_such_change\"}'); \
         NOTIFY saidno_owner_changes, 'not an id'",
    );
    let declined = decline("+442079460123");
    first.apply(declined.clone(), Publish::nowhere()).await.unwrap();
    assert_eq!(at_second.wait_for(1), [json(&declined)], "only the change that reads back is told");
    // What the log says of the row that does not read back: which row, and why.
    let rows =
        first.block(|shared| async move { owner_changes::after(&shared.connection().await?, 1, 0).await }).unwrap();
    let Some((id, Err(error))) = rows.into_iter().next() else { panic!("the first row does not read back") };
    let said = error.to_string();
    assert!(said.contains(&format!("owner change {id}")) && said.contains("no_such_change"), "{said}");
    // The store goes on working, and so does its own publishing.
    let allowed = allow("+442079460124");
    second.apply(allowed.clone(), at_second.publish()).await.unwrap();
    assert_eq!(at_second.all(), [json(&declined), json(&allowed)]);
}

#[tokio::test]
async fn changes_older_than_a_day_are_pruned() {
    let Some((database, store)) = TestDb::with_store() else { return };
    store.apply(decline("+442079460123"), Publish::nowhere()).await.unwrap();
    database.execute("UPDATE owner_changes SET at = now() - interval '25 hours'");
    store.apply(decline("+442079460124"), Publish::nowhere()).await.unwrap();
    let (pruned, left) = store
        .block(|shared| async move {
            let connection = shared.connection().await?;
            let pruned = owner_changes::prune(&connection).await?;
            let left: i64 = connection.query_one("SELECT count(*) FROM owner_changes", &[]).await.map_err(pg)?.get(0);
            Ok((pruned, left))
        })
        .unwrap();
    assert_eq!((pruned, left), (1, 1));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_made_after_opening_and_before_following_is_still_told() {
    let Some((database, first)) = TestDb::with_store() else { return };
    // Opened, then its record read (by the service, in a server), then followed: a change made
    // in between is in what was read or is told, never neither.
    let second = second_store(&database);
    let declined = decline("+442079460123");
    first.apply(declined.clone(), Publish::nowhere()).await.unwrap();
    let at_second = Told::default();
    second.follow(at_second.publish());
    assert_eq!(at_second.wait_for(1), [json(&declined)]);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_periodic_check_alone_brings_changes_in_when_no_announcement_arrives() {
    let Some((database, first)) = TestDb::with_store() else { return };
    let second = second_store(&database);
    // A listener that can never connect (nothing listens on port 1), so nothing is announced.
    *second.database.opened.shared.listener.lock().unwrap() =
        "postgres://postgres@127.0.0.1:1/nowhere".parse().unwrap();
    let at_second = Told::default();
    second.follow(at_second.publish());
    let declined = decline("+442079460123");
    first.apply(declined.clone(), Publish::nowhere()).await.unwrap();
    let allowed = allow("+442079460124");
    first.apply(allowed.clone(), Publish::nowhere()).await.unwrap();
    assert_eq!(at_second.wait_for(2), [json(&declined), json(&allowed)]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_setting_chosen_at_one_store_is_told_to_the_other_and_read_there() {
    use crate::config::{CallerPolicy, Choice, SettingName, SettingState};
    let Some((database, first)) = TestDb::with_store() else { return };
    let second = second_store(&database);
    let at_second = Told::default();
    second.follow(at_second.publish());
    let chosen = SettingState {
        choice: Choice::Withheld(Some(CallerPolicy::Refuse)),
        changed: Some(crate::domain::SettingChange::default()),
    };
    first.apply(Change::Setting(chosen.clone()), Publish::nowhere()).await.unwrap();
    assert_eq!(at_second.wait_for(1), [json(&Change::Setting(chosen.clone()))]);
    assert_eq!(second.owner_choices().await.unwrap().state_of(SettingName::Withheld), chosen);
}
