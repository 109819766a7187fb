//! One set of behaviours every store must show, run against each implementation.

use std::sync::Arc;

use super::*;
use crate::domain::{DecisionKind, OwnerDecision, SignedIn};

fn number(text: &str) -> PhoneNumber {
    PhoneNumber::from_e164(text).unwrap()
}

fn decline(text: &str, company: &str) -> Decline {
    Decline {
        company: Some(company.into()),
        ..Decline::new(Target::Number(number(text)), "2026-11-03T10:00:00Z".parse().unwrap())
    }
}

fn call(sid: &str, at: &str, decision: DecisionKind) -> CallRecord {
    CallRecord {
        call_id: sid.into(),
        from: "+442079460123".into(),
        to: "+442079460999".into(),
        at: at.parse().unwrap(),
        decision,
        reason: "because".into(),
        company: None,
        ..Default::default()
    }
}

pub async fn declines_and_allows_are_kept_by_number(store: &dyn Store) {
    store.apply(Change::Decline(decline("+442079460123", "Everest Windows")), Publish::nowhere()).await.unwrap();
    store.apply(Change::Decline(decline("+442079460124", "Everest Windows")), Publish::nowhere()).await.unwrap();
    store
        .apply(Change::Allow(Allow::always(number("+442079460124"), None, Timestamp::UNIX_EPOCH)), Publish::nowhere())
        .await
        .unwrap();

    let found = store.decline(&Target::Number(number("+442079460123"))).await.unwrap();
    assert_eq!(found.unwrap().company.as_deref(), Some("Everest Windows"));
    assert!(store.allow_of(&number("+442079460123")).await.unwrap().is_none());
    assert!(store.allow_of(&number("+442079460124")).await.unwrap().is_some());
    assert!(store.decline(&Target::Number(number("+442079460125"))).await.unwrap().is_none());
    assert_eq!(store.company_name("everest windows").await.unwrap().as_deref(), Some("Everest Windows"));
    assert_eq!(store.company_name("everest").await.unwrap(), None);
    assert_eq!(store.declines().await.unwrap().len(), 2);

    let target = Target::Number(number("+442079460123"));
    assert_eq!(
        store.apply(Change::RemoveDecline(target.clone()), Publish::nowhere()).await.unwrap().decline().unwrap().target,
        target
    );
    assert!(store.apply(Change::RemoveDecline(target.clone()), Publish::nowhere()).await.unwrap().decline().is_none());
    assert_eq!(store.declines().await.unwrap().len(), 1);
    assert!(
        store.apply(Change::RemoveAllow(number("+442079460124")), Publish::nowhere()).await.unwrap().allow().is_some()
    );
    assert!(store.allows().await.unwrap().is_empty());
}

pub async fn ranges_and_patterns_are_rules_apart_from_numbers(store: &dyn Store) {
    store.apply(Change::Decline(decline("+442079460123", "Everest Windows")), Publish::nowhere()).await.unwrap();
    let range = Decline { target: Target::Prefix("+4416329601".into()), ..decline("+442079460123", "Rotating Ltd") };
    let pattern = Decline { target: Target::Pattern("\\+23480\\d{8}".into()), ..range.clone() };
    store.apply(Change::Decline(range.clone()), Publish::nowhere()).await.unwrap();
    store.apply(Change::Decline(pattern.clone()), Publish::nowhere()).await.unwrap();
    assert_eq!(store.declines().await.unwrap().len(), 3);
    let mut rules: Vec<Target> = store.rules().await.unwrap().into_iter().map(|d| d.target).collect();
    rules.sort_by_key(|t| t.key());
    assert_eq!(rules, [pattern.target.clone(), range.target.clone()]);
    assert!(
        store.apply(Change::RemoveDecline(range.target.clone()), Publish::nowhere()).await.unwrap().decline().is_some()
    );
    assert_eq!(store.rules().await.unwrap().len(), 1);
}

pub async fn the_pause_switch_is_kept(store: &dyn Store) {
    assert!(!store.paused().await.unwrap());
    assert_eq!(store.pause_changed().await.unwrap(), None);
    let changed = SettingChange { by: crate::domain::Channel::Web, at: "2026-11-03T10:00:00Z".parse().unwrap() };
    store.apply(Change::Paused { paused: true, changed }, Publish::nowhere()).await.unwrap();
    assert!(store.paused().await.unwrap());
    assert_eq!(store.pause_changed().await.unwrap(), Some(changed), "who and when are kept with the switch");
    store
        .apply(Change::Paused { paused: true, changed: crate::domain::SettingChange::default() }, Publish::nowhere())
        .await
        .unwrap();
    assert!(store.paused().await.unwrap());
    store
        .apply(Change::Paused { paused: false, changed: crate::domain::SettingChange::default() }, Publish::nowhere())
        .await
        .unwrap();
    assert!(!store.paused().await.unwrap());
}

pub async fn the_owners_setting_choices_are_kept_with_who_and_when(store: &dyn Store) {
    use crate::config::{CallerPolicy, Choice, NotifyChoice, NotifyWhen, SettingName, SettingState};
    assert_eq!(store.owner_choices().await.unwrap(), crate::config::OwnerChoices::default());
    let changed = Some(SettingChange { by: crate::domain::Channel::Web, at: "2026-11-03T10:00:00Z".parse().unwrap() });
    let refuse = SettingState { choice: Choice::Withheld(Some(CallerPolicy::Refuse)), changed };
    let told = Arc::new(std::sync::Mutex::new(Vec::new()));
    let publish = {
        let told = told.clone();
        Publish::to(move |change| told.lock().unwrap().push(format!("{change:?}")))
    };
    store.apply(Change::Setting(refuse.clone()), publish.clone()).await.unwrap();
    let notify = NotifyChoice { when: NotifyWhen::Digest, from_follow_up: 3, digest_hour: 7 };
    let digest = SettingState { choice: Choice::Notify(Some(notify)), changed };
    store.apply(Change::Setting(digest.clone()), publish.clone()).await.unwrap();
    let choices = store.owner_choices().await.unwrap();
    assert_eq!(choices.state_of(SettingName::Withheld), refuse, "one setting's change keeps the others");
    assert_eq!(choices.state_of(SettingName::Notify), digest);
    assert_eq!(
        *told.lock().unwrap(),
        [format!("{:?}", Change::Setting(refuse)), format!("{:?}", Change::Setting(digest))]
    );

    // Put back to the file's value: recorded, with who and when.
    let put_back = SettingState { choice: Choice::Withheld(None), changed };
    store.apply(Change::Setting(put_back.clone()), Publish::nowhere()).await.unwrap();
    assert_eq!(store.owner_choices().await.unwrap().state_of(SettingName::Withheld), put_back);
    // Undone to never changed: nothing of it is left.
    let never = SettingState { choice: Choice::Withheld(None), changed: None };
    store.apply(Change::Setting(never.clone()), Publish::nowhere()).await.unwrap();
    let choices = store.owner_choices().await.unwrap();
    assert_eq!(choices.state_of(SettingName::Withheld), never);
    assert_eq!(choices.withheld, None);
    assert!(choices.notify.is_some());
}

pub async fn calls_come_back_newest_first_and_filtered(store: &dyn Store) {
    store
        .append_calls(&[
            call("CA1", "2026-11-01T10:00:00Z", DecisionKind::Forward),
            call("CA2", "2026-11-02T10:00:00Z", DecisionKind::Decline),
            call("CA3", "2026-11-03T10:00:00Z", DecisionKind::Forward),
            call("CA4", "2026-11-03T10:00:00Z", DecisionKind::Decline),
        ])
        .unwrap();
    let sids = async |query: CallQuery| -> Vec<String> {
        store.calls(&query).await.unwrap().into_iter().map(|c| c.call_id).collect()
    };
    assert_eq!(sids(CallQuery { limit: 10, ..Default::default() }).await, ["CA4", "CA3", "CA2", "CA1"]);
    assert_eq!(sids(CallQuery { limit: 2, ..Default::default() }).await, ["CA4", "CA3"]);
    assert_eq!(sids(CallQuery { limit: 10, declined_only: true, ..Default::default() }).await, ["CA4", "CA2"]);
    let since = Some("2026-11-02T00:00:00Z".parse().unwrap());
    assert_eq!(sids(CallQuery { limit: 10, since, ..Default::default() }).await, ["CA4", "CA3", "CA2"]);
}

pub async fn numbered_refusals_keep_their_companys_count(store: &dyn Store) {
    let refused = |sid: &str, at: &str, from: &str, follow_up: u32| CallRecord {
        from: from.into(),
        party: Some("company:everest windows".into()),
        follow_up: Some(follow_up),
        ..call(sid, at, DecisionKind::Decline)
    };
    store
        .append_calls(&[
            refused("CA1", "2026-11-04T10:00:00Z", "+442079460123", 1),
            call("CA3", "2026-11-06T10:00:00Z", DecisionKind::Forward),
        ])
        .unwrap();
    store.append_calls(&[refused("CA2", "2026-11-05T10:00:00Z", "+442079460124", 2)]).unwrap();

    let follow_ups = store.follow_ups("company:everest windows").await.unwrap();
    assert_eq!(follow_ups.count, 2);
    assert_eq!(follow_ups.first_at, Some("2026-11-04T10:00:00Z".parse().unwrap()));
    assert_eq!(follow_ups.last_at, Some("2026-11-05T10:00:00Z".parse().unwrap()));
    assert_eq!(store.follow_up_counts().await.unwrap(), [("company:everest windows".to_owned(), follow_ups)]);
    let numbered: Vec<Option<u32>> = store
        .calls(&CallQuery { limit: 10, ..Default::default() })
        .await
        .unwrap()
        .iter()
        .map(|c| c.follow_up)
        .collect();
    assert_eq!(numbered, [None, Some(2), Some(1)]);
    assert_eq!(store.follow_ups("company:nobody").await.unwrap(), FollowUps::default());
}

pub async fn calls_after_a_no_are_the_numbered_refusals_in_the_range(store: &dyn Store) {
    let refused = |sid: &str, at: &str, follow_up: Option<u32>| CallRecord {
        party: follow_up.map(|_| "company:everest windows".into()),
        follow_up,
        ..call(sid, at, DecisionKind::Decline)
    };
    store
        .append_calls(&[
            refused("CA1", "2026-11-02T10:00:00Z", Some(1)),
            refused("CA2", "2026-11-03T10:00:00Z", Some(2)),
            // A withheld caller refused by policy: refused, but not after anyone's no.
            refused("CA3", "2026-11-03T11:00:00Z", None),
            call("CA4", "2026-11-03T12:00:00Z", DecisionKind::Forward),
            refused("CA5", "2026-11-09T10:00:00Z", Some(3)),
        ])
        .unwrap();
    let count = async |since: &str, until: &str| {
        store.calls_after_no(since.parse().unwrap(), until.parse().unwrap()).await.unwrap()
    };
    assert_eq!(count("2026-11-02T00:00:00Z", "2026-11-09T00:00:00Z").await, 2);
    assert_eq!(count("2026-11-02T10:00:00Z", "2026-11-03T10:00:00Z").await, 1, "since included, until not");
    assert_eq!(count("2026-11-09T00:00:00Z", "2026-11-16T00:00:00Z").await, 1);
    assert_eq!(count("2026-11-16T00:00:00Z", "2026-11-23T00:00:00Z").await, 0);
}

pub async fn outcomes_attach_to_their_call_and_merge(store: &dyn Store) {
    store.append_calls(&[call("CA9", "2026-11-01T10:00:00Z", DecisionKind::Forward)]).unwrap();
    let dialled = ForwardOutcome { status: Some("no-answer".into()), duration_secs: Some(0), ..Default::default() };
    assert!(store.attach_outcomes(&[(BusinessId::DEFAULT, "CA9".into(), dialled)]).unwrap()[0]);
    let voicemail = ForwardOutcome {
        recording_url: Some("https://media.example.com/rec/RE1".into()),
        recording_secs: Some(12),
        ..Default::default()
    };
    assert!(store.attach_outcomes(&[(BusinessId::DEFAULT, "CA9".into(), voicemail)]).unwrap()[0]);
    assert!(
        !store.attach_outcomes(&[(BusinessId::DEFAULT, "CA-unknown".into(), ForwardOutcome::default())]).unwrap()[0]
    );

    let outcome = store.calls(&CallQuery { limit: 1, ..Default::default() }).await.unwrap()[0].outcome.clone().unwrap();
    assert_eq!(outcome.status.as_deref(), Some("no-answer"));
    assert_eq!(outcome.recording_url.as_deref(), Some("https://media.example.com/rec/RE1"));
    assert_eq!(outcome.recording_secs, Some(12));
}

pub async fn a_voicemails_transcript_is_kept_with_it_whatever_comes_after(store: &dyn Store) {
    store.append_calls(&[call("CA7", "2026-11-01T10:00:00Z", DecisionKind::Forward)]).unwrap();
    let voicemail = ForwardOutcome {
        status: Some("no-answer".into()),
        recording_url: Some("https://media.example.com/rec/RE7".into()),
        recording_secs: Some(7),
        ..Default::default()
    };
    let words = "Hi, it's Ana <from> the bakery & co. Call me back: \"today\".\nThanks.";
    let transcript = ForwardOutcome { transcript: Some(words.into()), ..Default::default() };
    let later = ForwardOutcome { recording_secs: Some(8), ..Default::default() };
    for outcome in [voicemail, transcript, later] {
        assert!(store.attach_outcomes(&[(BusinessId::DEFAULT, "CA7".into(), outcome)]).unwrap()[0]);
    }

    let outcome = store.calls(&CallQuery { limit: 1, ..Default::default() }).await.unwrap()[0].outcome.clone().unwrap();
    assert_eq!(outcome.transcript.as_deref(), Some(words), "kept exactly, through a later report");
    assert_eq!(outcome.recording_url.as_deref(), Some("https://media.example.com/rec/RE7"));
    assert_eq!(outcome.recording_secs, Some(8));
}

pub async fn pages_follow_their_cursor_through_each_filter(store: &dyn Store) {
    let mut calls = Vec::new();
    for i in 0..30 {
        let decision = if i % 3 == 0 { DecisionKind::Decline } else { DecisionKind::Forward };
        let mut call = call(&format!("CA{i:02}"), &format!("2026-11-01T10:{i:02}:00Z"), decision);
        call.from = format!("+4420794601{:02}", i % 5);
        call.company = (decision == DecisionKind::Decline).then(|| format!("Company {}", i % 2));
        call.party = call.company.as_deref().map(|company| crate::domain::party_key(Some(company), ""));
        calls.push(call);
    }
    store.append_calls(&calls).unwrap();
    let all_pages = async |query: CallQuery| -> Vec<Vec<String>> {
        let mut query = CallQuery { limit: 4, ..query };
        let mut pages = Vec::new();
        loop {
            let page = store.call_page(&query).await.unwrap();
            pages.push(page.calls.iter().map(|c| c.call_id.clone()).collect());
            match page.next {
                Some(next) => query.before = Some(next),
                None => return pages,
            }
        }
    };
    let every: Vec<String> = all_pages(CallQuery::default()).await.concat();
    assert_eq!(every.len(), 30);
    assert_eq!(every.first().map(String::as_str), Some("CA29"));
    assert_eq!(every.last().map(String::as_str), Some("CA00"));
    let refused = all_pages(CallQuery { decision: Some(DecisionKind::Decline), ..Default::default() }).await.concat();
    assert_eq!(refused, ["CA27", "CA24", "CA21", "CA18", "CA15", "CA12", "CA09", "CA06", "CA03", "CA00"]);
    let forwarded = all_pages(CallQuery { decision: Some(DecisionKind::Forward), ..Default::default() }).await.concat();
    assert_eq!(forwarded.len(), 20);
    let by_number = all_pages(CallQuery { number: Some("+442079460102".into()), ..Default::default() }).await.concat();
    assert_eq!(by_number, ["CA27", "CA22", "CA17", "CA12", "CA07", "CA02"]);
    let by_company = all_pages(CallQuery { company: Some("company  1".into()), ..Default::default() }).await.concat();
    assert_eq!(by_company, ["CA27", "CA21", "CA15", "CA09", "CA03"]);
    let by_ending = all_pages(CallQuery { number_ending: Some("0102".into()), ..Default::default() }).await.concat();
    assert_eq!(by_ending, by_number);
    let by_part = all_pages(CallQuery { company: Some("ANY  1".into()), ..Default::default() }).await.concat();
    assert_eq!(by_part, by_company, "a part of the name, in any case and spacing");
    assert!(all_pages(CallQuery { company: Some("%".into()), ..Default::default() }).await.concat().is_empty());
    let both = CallQuery { number: Some("+442079460102".into()), declined_only: true, ..Default::default() };
    assert_eq!(all_pages(both).await.concat(), ["CA27", "CA12"]);
    let window = CallQuery {
        since: Some("2026-11-01T10:10:00Z".parse().unwrap()),
        until: Some("2026-11-01T10:13:00Z".parse().unwrap()),
        ..Default::default()
    };
    assert_eq!(all_pages(window).await.concat(), ["CA12", "CA11", "CA10"]);
    let searched = CallQuery { search: Some("ca1".into()), ..Default::default() };
    assert_eq!(all_pages(searched).await.concat().len(), 10);
    let backwards = CallQuery {
        since: Some("2026-11-02T00:00:00Z".parse().unwrap()),
        until: Some("2026-11-01T00:00:00Z".parse().unwrap()),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(store.call_page(&backwards).await.unwrap(), CallPage::default());
}

pub async fn hours_are_tallied_and_declines_saved_together(store: &dyn Store) {
    store
        .append_calls(&[
            call("CA1", "2026-11-01T10:05:00Z", DecisionKind::Forward),
            call("CA2", "2026-11-01T10:55:00Z", DecisionKind::Decline),
            call("CA3", "2026-11-01T12:00:00Z", DecisionKind::Forward),
        ])
        .unwrap();
    let tallies = store
        .call_tallies("2026-11-01T00:00:00Z".parse().unwrap(), "2026-11-01T12:30:00Z".parse().unwrap())
        .await
        .unwrap();
    let hours: Vec<(String, u64, u64)> = tallies.iter().map(|t| (t.hour.to_string(), t.forwarded, t.refused)).collect();
    assert_eq!(hours, [("2026-11-01T10:00:00Z".into(), 1, 1), ("2026-11-01T12:00:00Z".into(), 1, 0)]);
    let none = store.call_tallies("2026-11-02T00:00:00Z".parse().unwrap(), "2026-11-03T00:00:00Z".parse().unwrap());
    assert!(none.await.unwrap().is_empty());

    let both = [decline("+442079460123", "Everest"), decline("+442079460124", "Acme")].into_iter().collect();
    store.apply(Change::Declines(Arc::new(both)), Publish::nowhere()).await.unwrap();
    assert_eq!(store.declines().await.unwrap().len(), 2);
    let allows = ["+442079460125", "+442079460126"].map(|n| Allow::always(number(n), None, Timestamp::UNIX_EPOCH));
    store.apply(Change::Allows(allows.to_vec()), Publish::nowhere()).await.unwrap();
    assert_eq!(store.allows().await.unwrap().len(), 2);
    assert_eq!(store.company_name("acme").await.unwrap().as_deref(), Some("Acme"));
    assert_eq!(store.password_hash().await.unwrap(), None);
    store.apply(Change::PasswordHash("$argon2id$example".into()), Publish::nowhere()).await.unwrap();
    assert_eq!(store.password_hash().await.unwrap().as_deref(), Some("$argon2id$example"));
}

pub async fn text_sessions_are_kept_per_owner(store: &dyn Store) {
    let owner = number("+447700900123");
    assert_eq!(store.text_session(&owner).await.unwrap(), TextSession::default());
    let mut session = TextSession { listed: vec![Some(number("+442079460123")), None], ..Default::default() };
    session.remember(crate::domain::TextChange::Declined { number: number("+442079460123"), before: None });
    store
        .apply(Change::TextSession { owner: owner.clone(), session: session.clone() }, Publish::nowhere())
        .await
        .unwrap();
    assert_eq!(store.text_session(&owner).await.unwrap(), session);
    assert_eq!(store.text_session(&number("+447700900124")).await.unwrap(), TextSession::default());
}

pub async fn signed_in_browsers_are_kept_until_signed_out_and_ended_ones_are_forgotten(store: &dyn Store) {
    let at = |text: &str| -> Timestamp { text.parse().unwrap() };
    let browser = |digest: &str, until: &str| SignedIn { digest: digest.into(), until: at(until) };
    let (ended, phone, laptop) = (
        browser("old", "2026-11-01T00:00:00Z"),
        browser("phone", "2026-11-02T12:00:00Z"),
        browser("laptop", "2026-11-02T13:00:00Z"),
    );
    store
        .apply(Change::SignIn { browser: ended.clone(), now: at("2026-10-31T12:00:00Z") }, Publish::nowhere())
        .await
        .unwrap();
    store
        .apply(Change::SignIn { browser: phone.clone(), now: at("2026-11-02T00:00:00Z") }, Publish::nowhere())
        .await
        .unwrap();
    store
        .apply(Change::SignIn { browser: laptop.clone(), now: at("2026-11-02T01:00:00Z") }, Publish::nowhere())
        .await
        .unwrap();
    assert_eq!(store.signed_in().await.unwrap(), [phone.clone(), laptop.clone()], "the ended session is forgotten");
    store.apply(Change::SignOut { digest: Some("phone".into()) }, Publish::nowhere()).await.unwrap();
    assert_eq!(store.signed_in().await.unwrap(), [laptop]);
    store.apply(Change::SignOut { digest: None }, Publish::nowhere()).await.unwrap();
    assert!(store.signed_in().await.unwrap().is_empty());
}

pub async fn repeat_callers_are_numbers_that_rang_through_again_and_again(store: &dyn Store) {
    let from =
        |sid: &str, at: &str, number: &str, decision| CallRecord { from: number.into(), ..call(sid, at, decision) };
    store
        .append_calls(&[
            from("CA1", "2026-10-01T10:00:00Z", "+442079460555", DecisionKind::Forward),
            from("CA2", "2026-11-01T10:00:00Z", "+442079460555", DecisionKind::Forward),
            from("CA3", "2026-11-02T10:00:00Z", "+442079460557", DecisionKind::Screen),
            from("CA4", "2026-11-03T10:00:00Z", "+442079460555", DecisionKind::Forward),
            from("CA5", "2026-11-04T10:00:00Z", "+442079460123", DecisionKind::Decline),
            from("CA6", "2026-11-05T10:00:00Z", "+442079460123", DecisionKind::Decline),
            from("CA7", "2026-11-06T10:00:00Z", "withheld", DecisionKind::Forward),
            from("CA8", "2026-11-07T10:00:00Z", "withheld", DecisionKind::Forward),
            from("CA9", "2026-11-08T10:00:00Z", "+442079460557", DecisionKind::Closed),
            from("CA10", "2026-11-09T10:00:00Z", "+442079460556", DecisionKind::Forward),
        ])
        .unwrap();
    let since: Timestamp = "2026-10-15T00:00:00Z".parse().unwrap();
    let repeated = store.repeat_callers(since, 2, 10).await.unwrap();
    let found: Vec<(&str, u32)> = repeated.iter().map(|seen| (seen.number.as_str(), seen.calls)).collect();
    assert_eq!(found, [("+442079460557", 2), ("+442079460555", 2)], "most calls, then the latest, first");
    assert_eq!(
        repeated[1].first_at,
        "2026-11-01T10:00:00Z".parse::<Timestamp>().unwrap(),
        "the call before since is left out"
    );
    assert_eq!(repeated[1].last_at, "2026-11-03T10:00:00Z".parse::<Timestamp>().unwrap());
    assert_eq!(store.repeat_callers(since, 2, 1).await.unwrap().len(), 1);
    assert!(store.repeat_callers(since, 3, 10).await.unwrap().is_empty());
}

/// Prunes in batches of `budget` until the walk ends, as the background task does.
async fn prune_all(store: &dyn Store, before: &str, keep: fn(&CallRecord) -> bool, budget: usize) -> Pruned {
    let mut total = Pruned::default();
    loop {
        let batch = store.prune_calls(before.parse().unwrap(), Box::new(keep), total.next, budget).await.unwrap();
        total = total.and(batch);
        if total.next.is_none() {
            return total;
        }
    }
}

pub async fn pruning_removes_old_calls_from_every_listing_and_keeps_held_and_young_ones(store: &dyn Store) {
    let refused = |sid: &str, at: &str, from: &str, company: &str| CallRecord {
        from: from.into(),
        company: Some(company.into()),
        party: Some(crate::domain::party_key(Some(company), "")),
        ..call(sid, at, DecisionKind::Decline)
    };
    store
        .append_calls(&[
            refused("CA-old-everest", "2024-01-01T10:00:00Z", "+442079460123", "Everest"),
            refused("CA-old-acme", "2024-01-01T11:00:00Z", "+442079460124", "Acme"),
            call("CA-old-forwarded", "2024-01-02T10:00:00Z", DecisionKind::Forward),
            call("CA-reused", "2024-01-03T10:00:00Z", DecisionKind::Forward),
            refused("CA-young-everest", "2024-06-01T00:00:01Z", "+442079460123", "Everest"),
            call("CA-reused", "2026-11-01T10:00:00Z", DecisionKind::Forward),
        ])
        .unwrap();
    let held = |call: &CallRecord| party_of(call).as_deref() == Some("company:acme");

    let pruned = prune_all(store, "2024-06-01T00:00:00Z", held, 2).await;
    assert_eq!((pruned.calls, pruned.kept), (3, 1), "{pruned:?}");

    let sids = async |query: CallQuery| -> Vec<String> {
        store.calls(&CallQuery { limit: 10, ..query }).await.unwrap().into_iter().map(|c| c.call_id).collect()
    };
    assert_eq!(sids(CallQuery::default()).await, ["CA-reused", "CA-young-everest", "CA-old-acme"]);
    let everest = CallQuery { company: Some("everest".into()), ..Default::default() };
    assert_eq!(sids(everest).await, ["CA-young-everest"]);
    assert_eq!(sids(CallQuery { company: Some("acme".into()), ..Default::default() }).await, ["CA-old-acme"]);
    let by_number = CallQuery { number: Some("+442079460123".into()), ..Default::default() };
    assert_eq!(sids(by_number).await, ["CA-reused", "CA-young-everest"]);
    assert_eq!(sids(CallQuery { decision: Some(DecisionKind::Forward), ..Default::default() }).await, ["CA-reused"]);
    // The pruned call's id now finds only the later call that reused it.
    assert!(
        !store.attach_outcomes(&[(BusinessId::DEFAULT, "CA-old-forwarded".into(), ForwardOutcome::default())]).unwrap()
            [0]
    );
    assert!(store.attach_outcomes(&[(BusinessId::DEFAULT, "CA-reused".into(), ForwardOutcome::default())]).unwrap()[0]);

    let tallied = async |since: &str, until: &str| -> u64 {
        let tallies = store.call_tallies(since.parse().unwrap(), until.parse().unwrap()).await.unwrap();
        tallies.iter().map(|t| t.forwarded + t.refused + t.other).sum()
    };
    assert_eq!(tallied("2024-01-02T00:00:00Z", "2024-01-04T00:00:00Z").await, 0);
    assert_eq!(tallied("2024-06-01T00:00:00Z", "2024-06-02T00:00:00Z").await, 1);
    assert_eq!(tallied("2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z").await, 1);

    // A second pass finds nothing more to do, and a hold lifted lets the held call go.
    assert_eq!(prune_all(store, "2024-06-01T00:00:00Z", held, 2).await.calls, 0);
    assert_eq!(prune_all(store, "2024-06-01T00:00:00Z", |_| false, 2).await.calls, 1);
    assert_eq!(sids(CallQuery::default()).await, ["CA-reused", "CA-young-everest"]);
}

pub async fn legal_holds_are_placed_and_lifted(store: &dyn Store) {
    assert!(store.legal_holds().await.unwrap().is_empty());
    let since: Timestamp = "2026-11-20T10:00:00Z".parse().unwrap();
    store
        .apply(Change::LegalHold { party: "company:everest".into(), since: Some(since) }, Publish::nowhere())
        .await
        .unwrap();
    store
        .apply(Change::LegalHold { party: "number:+442079460124".into(), since: Some(since) }, Publish::nowhere())
        .await
        .unwrap();
    let mut parties: Vec<String> = store.legal_holds().await.unwrap().into_iter().map(|h| h.party).collect();
    parties.sort();
    assert_eq!(parties, ["company:everest", "number:+442079460124"]);
    store.apply(Change::LegalHold { party: "company:everest".into(), since: None }, Publish::nowhere()).await.unwrap();
    store.apply(Change::LegalHold { party: "company:nobody".into(), since: None }, Publish::nowhere()).await.unwrap();
    assert_eq!(store.legal_holds().await.unwrap(), [LegalHold { party: "number:+442079460124".into(), since }]);
}

pub async fn changes_are_published_in_order_once_made_and_only_when_they_change_something(store: &dyn Store) {
    let told = Arc::new(std::sync::Mutex::new(Vec::new()));
    let publish = {
        let told = told.clone();
        Publish::to(move |change| told.lock().unwrap().push(format!("{change:?}")))
    };
    let everest = decline("+442079460123", "Everest Windows");
    store.apply(Change::Decline(everest.clone()), publish.clone()).await.unwrap();
    store
        .apply(Change::Paused { paused: true, changed: crate::domain::SettingChange::default() }, publish.clone())
        .await
        .unwrap();
    let never_declined = Target::Number(number("+442079460199"));
    store.apply(Change::RemoveDecline(never_declined), publish.clone()).await.unwrap();
    let removed = store.apply_blocking(Change::RemoveDecline(everest.target.clone()), publish).unwrap();
    assert_eq!(removed.decline(), Some(everest.clone()));
    let expected = [
        format!("{:?}", Change::Decline(everest.clone())),
        format!("{:?}", Change::Paused { paused: true, changed: crate::domain::SettingChange::default() }),
        format!("{:?}", Change::RemoveDecline(everest.target)),
    ];
    assert_eq!(*told.lock().unwrap(), expected);
}

pub async fn a_decision_made_during_a_call_is_taken_once_by_its_call(store: &dyn Store) {
    let declined = OwnerDecision::Declined(decline("+442079460123", "Everest Windows"));
    store.hold_owner_decision("CA1", OwnerDecision::ToVoicemail).await.unwrap();
    // Kept again for the same call: the newer decision is the one acted on.
    store.hold_owner_decision("CA1", declined.clone()).await.unwrap();
    store.hold_owner_decision("CA2", OwnerDecision::ToVoicemail).await.unwrap();
    assert_eq!(store.take_owner_decision("CA1").await.unwrap(), Some(declined));
    assert_eq!(store.take_owner_decision("CA1").await.unwrap(), None, "taken once");
    assert_eq!(store.take_owner_decision("CA3").await.unwrap(), None, "a call nobody decided on");
    assert_eq!(store.take_owner_decision("CA2").await.unwrap(), Some(OwnerDecision::ToVoicemail));
}

pub async fn a_single_use_allow_is_spent_once(store: &dyn Store) {
    let once = Allow { once: true, ..Allow::always(number("+442079460123"), None, Timestamp::UNIX_EPOCH) };
    store.apply(Change::Allow(once.clone()), Publish::nowhere()).await.unwrap();
    let published = Arc::new(std::sync::Mutex::new(Vec::new()));
    let into = published.clone();
    let publish = Publish::to(move |change| into.lock().unwrap().push(serde_json::to_value(change).unwrap()));
    let first = Allow { used_at: Some("2026-11-03T10:00:00Z".parse().unwrap()), ..once.clone() };
    let second = Allow { used_at: Some("2026-11-03T10:00:01Z".parse().unwrap()), ..once.clone() };
    // Blocking, as the call path calls it.
    let spend = |spent: Allow, publish: Publish| store.spend_allow(spent, publish);
    assert!(spend(first.clone(), publish.clone()).unwrap());
    assert!(!spend(second, publish.clone()).unwrap(), "already spent");
    assert_eq!(store.allow_of(&number("+442079460123")).await.unwrap(), Some(first.clone()));
    assert_eq!(*published.lock().unwrap(), [serde_json::to_value(Change::Allow(first)).unwrap()], "the spend alone");
    // No allow left to spend once it is removed.
    store.apply(Change::RemoveAllow(number("+442079460123")), Publish::nowhere()).await.unwrap();
    assert!(!spend(once, publish).unwrap());
    assert_eq!(store.allow_of(&number("+442079460123")).await.unwrap(), None);
}

macro_rules! for_store {
    ($name:ident, $make:expr) => {
        mod $name {
            #[tokio::test]
            async fn pages_follow_their_cursor_through_each_filter() {
                let (_dir, store) = $make;
                super::pages_follow_their_cursor_through_each_filter(&store).await;
            }
            #[tokio::test]
            async fn hours_are_tallied_and_declines_saved_together() {
                let (_dir, store) = $make;
                super::hours_are_tallied_and_declines_saved_together(&store).await;
            }
            #[tokio::test]
            async fn declines_and_allows_are_kept_by_number() {
                let (_dir, store) = $make;
                super::declines_and_allows_are_kept_by_number(&store).await;
            }
            #[tokio::test]
            async fn ranges_and_patterns_are_rules_apart_from_numbers() {
                let (_dir, store) = $make;
                super::ranges_and_patterns_are_rules_apart_from_numbers(&store).await;
            }
            #[tokio::test]
            async fn the_pause_switch_is_kept() {
                let (_dir, store) = $make;
                super::the_pause_switch_is_kept(&store).await;
            }
            #[tokio::test]
            async fn the_owners_setting_choices_are_kept_with_who_and_when() {
                let (_dir, store) = $make;
                super::the_owners_setting_choices_are_kept_with_who_and_when(&store).await;
            }
            #[tokio::test]
            async fn calls_come_back_newest_first_and_filtered() {
                let (_dir, store) = $make;
                super::calls_come_back_newest_first_and_filtered(&store).await;
            }
            #[tokio::test]
            async fn numbered_refusals_keep_their_companys_count() {
                let (_dir, store) = $make;
                super::numbered_refusals_keep_their_companys_count(&store).await;
            }
            #[tokio::test]
            async fn calls_after_a_no_are_the_numbered_refusals_in_the_range() {
                let (_dir, store) = $make;
                super::calls_after_a_no_are_the_numbered_refusals_in_the_range(&store).await;
            }
            #[tokio::test]
            async fn outcomes_attach_to_their_call_and_merge() {
                let (_dir, store) = $make;
                super::outcomes_attach_to_their_call_and_merge(&store).await;
            }
            #[tokio::test]
            async fn a_voicemails_transcript_is_kept_with_it_whatever_comes_after() {
                let (_dir, store) = $make;
                super::a_voicemails_transcript_is_kept_with_it_whatever_comes_after(&store).await;
            }
            #[tokio::test]
            async fn pruning_removes_old_calls_from_every_listing_and_keeps_held_and_young_ones() {
                let (_dir, store) = $make;
                super::pruning_removes_old_calls_from_every_listing_and_keeps_held_and_young_ones(&store).await;
            }
            #[tokio::test]
            async fn legal_holds_are_placed_and_lifted() {
                let (_dir, store) = $make;
                super::legal_holds_are_placed_and_lifted(&store).await;
            }
            #[tokio::test]
            async fn signed_in_browsers_are_kept_until_signed_out_and_ended_ones_are_forgotten() {
                let (_dir, store) = $make;
                super::signed_in_browsers_are_kept_until_signed_out_and_ended_ones_are_forgotten(&store).await;
            }
            #[tokio::test]
            async fn repeat_callers_are_numbers_that_rang_through_again_and_again() {
                let (_dir, store) = $make;
                super::repeat_callers_are_numbers_that_rang_through_again_and_again(&store).await;
            }
            #[tokio::test]
            async fn changes_are_published_in_order_once_made_and_only_when_they_change_something() {
                let (_dir, store) = $make;
                super::changes_are_published_in_order_once_made_and_only_when_they_change_something(&store).await;
            }
            #[tokio::test]
            async fn a_decision_made_during_a_call_is_taken_once_by_its_call() {
                let (_dir, store) = $make;
                super::a_decision_made_during_a_call_is_taken_once_by_its_call(&store).await;
            }
            #[tokio::test]
            async fn a_single_use_allow_is_spent_once() {
                let (_dir, store) = $make;
                super::a_single_use_allow_is_spent_once(&store).await;
            }
            #[tokio::test]
            async fn text_sessions_are_kept_per_owner() {
                let (_dir, store) = $make;
                super::text_sessions_are_kept_per_owner(&store).await;
            }
        }
    };
}

for_store!(memory, ((), crate::store::MemoryStore::default()));
for_store!(sled, {
    let dir = tempfile::tempdir().unwrap();
    let store = crate::store::SledStore::open(&dir.path().join("db"), 8).unwrap();
    (dir, store)
});
for_store!(postgres, {
    // Skipped, with a note, without a server to test on (see `postgres::test_db`).
    match crate::store::test_db::TestDb::with_store() {
        Some(opened) => opened,
        None => return,
    }
});
for_store!(postgres_business, {
    // A business beside the default one, which holds records under the same keys: the suite
    // passing on it shows a business sees nothing of another's.
    let Some(test_db) = crate::store::test_db::TestDb::new() else { return };
    let database = crate::store::PostgresDatabase::open_with(&test_db.url, None).unwrap();
    let store = crate::store::postgres::business_tests::a_business_beside_a_busy_one(&database).await;
    ((test_db, database), store)
});
