//! The daily digest of every business a deployment hosts, on a real PostgreSQL, texted through a
//! local stand-in for Twilio's API: each business that chose the digest (in its settings or on
//! its settings page) gets it at its hour, whether or not its routes were ever in memory, and
//! only once however many servers share the database.

use std::sync::Arc;

use jiff::Timestamp;
use saidno::config::{Choice, Loaded, NotifyChoice, NotifyWhen};
use saidno::domain::{BusinessId, BusinessName, CallRecord, DecisionKind};
use saidno::hosting::Hosting;
use saidno::service::Service;
use saidno::startup::{Digests, settings_of};
use saidno::store::test_db::TestDb;
use saidno::store::{Businesses, NewBusiness, PostgresDatabase};

use crate::fake_twilio::FakeTwilio;
use crate::helpers::*;
use crate::openapi::assert_twilio_accepts;

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const BRAVO_OWNER: &str = "+447700900222";
const CHARLIE_OWNER: &str = "+447700900333";
const DELTA_OWNER: &str = "+447700900444";

async fn add(businesses: &Arc<dyn Businesses>, name: &str, owner: &str, notify: &str) -> BusinessId {
    let settings = format!("business_name = \"{name}\"\n[owner]\nnumbers = [\"{owner}\"]\n[notify]\n{notify}\n");
    let new = NewBusiness { name: BusinessName::parse(name).unwrap(), settings, token_sha256: None };
    let business = businesses.add_business(new).await.unwrap();
    let refused = |call_id: &str, at: &str| CallRecord {
        call_id: format!("{call_id}-{name}"),
        from: PUSHY.into(),
        to: BUSINESS_NUMBER.into(),
        at: at.parse().unwrap(),
        decision: DecisionKind::Decline,
        reason: "refused".into(),
        company: Some("Everest Windows".into()),
        ..Default::default()
    };
    let calls = [refused("CA1", "2026-12-07T09:30:00Z"), refused("CA2", "2026-12-07T16:45:00Z")];
    businesses.store_of(business.id).unwrap().append_calls(&calls).unwrap();
    business.id
}

async fn digests(url: &str, loaded: &Arc<Loaded>) -> Digests {
    let businesses = PostgresDatabase::open_with(url, None).unwrap().registry();
    Digests::new(Hosting::open(businesses, None).await.unwrap(), settings_of(loaded.clone()), Default::default())
}

#[tokio::test(flavor = "multi_thread")]
async fn each_business_that_chose_the_digest_is_texted_it_at_its_hour_once_across_servers() {
    let Some(database) = TestDb::new() else { return };
    let mut api = FakeTwilio::start(vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("saidno.toml");
    let deployment = format!(
        "timezone = \"Europe/London\"\n[twilio]\naccount_sid = \"{ACCOUNT}\"\nauth_token = \"{AUTH_TOKEN}\"\napi_base_url = \"{}\"\n",
        api.url
    );
    std::fs::write(&config, deployment).unwrap();
    let loaded = Arc::new(Loaded::read(Some(&config)).unwrap());
    let businesses = PostgresDatabase::open_with(&database.url, None).unwrap().registry();

    add(&businesses, "bravo", BRAVO_OWNER, "when = \"digest\"\ndigest_hour = 18").await;
    // Charlie's settings text every time; its owner chose the digest on the settings page.
    let charlie = add(&businesses, "charlie", CHARLIE_OWNER, "when = \"every\"").await;
    let settings = Arc::new(loaded.for_business(&format!("[owner]\nnumbers = [\"{CHARLIE_OWNER}\"]")).unwrap());
    let service = Service::open(businesses.store_of(charlie).unwrap(), settings).unwrap();
    let chosen = NotifyChoice { when: NotifyWhen::Digest, from_follow_up: 3, digest_hour: 18 };
    service.choose_setting(Choice::Notify(Some(chosen)), Timestamp::now()).await.unwrap();
    // Delta wants a text for every call, so no digest.
    add(&businesses, "delta", DELTA_OWNER, "when = \"every\"").await;

    let (before, six, after) = (
        "2026-12-07T17:59:45Z".parse().unwrap(),
        "2026-12-07T18:00:15Z".parse().unwrap(),
        "2026-12-07T18:00:45Z".parse().unwrap(),
    );
    let first = digests(&database.url, &loaded).await;
    assert_eq!(first.send_due(before, six).await, 2, "Bravo's and Charlie's, not Delta's");
    let second = digests(&database.url, &loaded).await;
    assert_eq!(second.send_due(before, six).await, 0, "another server sharing the database sends neither again");
    assert_eq!(first.send_due(six, after).await, 0, "the hour's digests are sent");

    let mut sent = [api.next_request().await, api.next_request().await];
    sent.sort_by_key(|text| text.field("To"));
    for (text, owner) in sent.iter().zip([BRAVO_OWNER, CHARLIE_OWNER]) {
        assert_twilio_accepts(text);
        assert_eq!(text.field("To").as_deref(), Some(owner));
        assert_eq!(text.field("Body").as_deref(), Some("Refused today: Everest Windows 2. Reply LAST for details."));
    }
}
