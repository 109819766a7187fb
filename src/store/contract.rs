//! One set of behaviours every store must show, run against each implementation.

use super::*;
use crate::domain::{DecisionKind, SignedIn};

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

pub fn declines_and_allows_are_kept_by_number(store: &dyn Store) {
    store.apply(Change::Decline(&decline("+442079460123", "Everest Windows"))).unwrap();
    store.apply(Change::Decline(&decline("+442079460124", "Everest Windows"))).unwrap();
    store.apply(Change::Allow(&Allow::always(number("+442079460124"), None, Timestamp::UNIX_EPOCH))).unwrap();

    let found = store.decline(&Target::Number(number("+442079460123"))).unwrap();
    assert_eq!(found.unwrap().company.as_deref(), Some("Everest Windows"));
    assert!(store.allow_of(&number("+442079460123")).unwrap().is_none());
    assert!(store.allow_of(&number("+442079460124")).unwrap().is_some());
    assert!(store.decline(&Target::Number(number("+442079460125"))).unwrap().is_none());
    assert_eq!(store.company_name("everest windows").unwrap().as_deref(), Some("Everest Windows"));
    assert_eq!(store.company_name("everest").unwrap(), None);
    assert_eq!(store.declines().unwrap().len(), 2);

    let target = Target::Number(number("+442079460123"));
    assert_eq!(store.apply(Change::RemoveDecline(&target)).unwrap().decline().unwrap().target, target);
    assert!(store.apply(Change::RemoveDecline(&target)).unwrap().decline().is_none());
    assert_eq!(store.declines().unwrap().len(), 1);
    assert!(store.apply(Change::RemoveAllow(&number("+442079460124"))).unwrap().allow().is_some());
    assert!(store.allows().unwrap().is_empty());
}

pub fn ranges_and_patterns_are_rules_apart_from_numbers(store: &dyn Store) {
    store.apply(Change::Decline(&decline("+442079460123", "Everest Windows"))).unwrap();
    let range = Decline { target: Target::Prefix("+4416329601".into()), ..decline("+442079460123", "Rotating Ltd") };
    let pattern = Decline { target: Target::Pattern("\\+23480\\d{8}".into()), ..range.clone() };
    store.apply(Change::Decline(&range)).unwrap();
    store.apply(Change::Decline(&pattern)).unwrap();
    assert_eq!(store.declines().unwrap().len(), 3);
    let mut rules: Vec<Target> = store.rules().unwrap().into_iter().map(|d| d.target).collect();
    rules.sort_by_key(|t| t.key());
    assert_eq!(rules, [pattern.target.clone(), range.target.clone()]);
    assert!(store.apply(Change::RemoveDecline(&range.target)).unwrap().decline().is_some());
    assert_eq!(store.rules().unwrap().len(), 1);
}

pub fn the_pause_switch_is_kept(store: &dyn Store) {
    assert!(!store.paused().unwrap());
    store.apply(Change::Paused(true)).unwrap();
    assert!(store.paused().unwrap());
    store.apply(Change::Paused(false)).unwrap();
    assert!(!store.paused().unwrap());
}

pub fn calls_come_back_newest_first_and_filtered(store: &dyn Store) {
    store
        .append_calls(&[
            call("CA1", "2026-11-01T10:00:00Z", DecisionKind::Forward),
            call("CA2", "2026-11-02T10:00:00Z", DecisionKind::Decline),
            call("CA3", "2026-11-03T10:00:00Z", DecisionKind::Forward),
            call("CA4", "2026-11-03T10:00:00Z", DecisionKind::Decline),
        ])
        .unwrap();
    let sids =
        |query: CallQuery| -> Vec<String> { store.calls(&query).unwrap().into_iter().map(|c| c.call_id).collect() };
    assert_eq!(sids(CallQuery { limit: 10, ..Default::default() }), ["CA4", "CA3", "CA2", "CA1"]);
    assert_eq!(sids(CallQuery { limit: 2, ..Default::default() }), ["CA4", "CA3"]);
    assert_eq!(sids(CallQuery { limit: 10, declined_only: true, ..Default::default() }), ["CA4", "CA2"]);
    let since = Some("2026-11-02T00:00:00Z".parse().unwrap());
    assert_eq!(sids(CallQuery { limit: 10, since, ..Default::default() }), ["CA4", "CA3", "CA2"]);
}

pub fn numbered_refusals_keep_their_companys_count(store: &dyn Store) {
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

    let follow_ups = store.follow_ups("company:everest windows").unwrap();
    assert_eq!(follow_ups.count, 2);
    assert_eq!(follow_ups.first_at, Some("2026-11-04T10:00:00Z".parse().unwrap()));
    assert_eq!(follow_ups.last_at, Some("2026-11-05T10:00:00Z".parse().unwrap()));
    assert_eq!(store.follow_up_counts().unwrap(), [("company:everest windows".to_owned(), follow_ups)]);
    let numbered: Vec<Option<u32>> =
        store.calls(&CallQuery { limit: 10, ..Default::default() }).unwrap().iter().map(|c| c.follow_up).collect();
    assert_eq!(numbered, [None, Some(2), Some(1)]);
    assert_eq!(store.follow_ups("company:nobody").unwrap(), FollowUps::default());
}

pub fn outcomes_attach_to_their_call_and_merge(store: &dyn Store) {
    store.append_calls(&[call("CA9", "2026-11-01T10:00:00Z", DecisionKind::Forward)]).unwrap();
    let dialled = ForwardOutcome { status: Some("no-answer".into()), duration_secs: Some(0), ..Default::default() };
    assert!(store.attach_outcomes(&[("CA9".into(), dialled)]).unwrap()[0]);
    let voicemail = ForwardOutcome {
        recording_url: Some("https://media.example.com/rec/RE1".into()),
        recording_secs: Some(12),
        ..Default::default()
    };
    assert!(store.attach_outcomes(&[("CA9".into(), voicemail)]).unwrap()[0]);
    assert!(!store.attach_outcomes(&[("CA-unknown".into(), ForwardOutcome::default())]).unwrap()[0]);

    let outcome = store.calls(&CallQuery { limit: 1, ..Default::default() }).unwrap()[0].outcome.clone().unwrap();
    assert_eq!(outcome.status.as_deref(), Some("no-answer"));
    assert_eq!(outcome.recording_url.as_deref(), Some("https://media.example.com/rec/RE1"));
    assert_eq!(outcome.recording_secs, Some(12));
}

pub fn pages_follow_their_cursor_through_each_filter(store: &dyn Store) {
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
    let all_pages = |query: CallQuery| -> Vec<Vec<String>> {
        let mut query = CallQuery { limit: 4, ..query };
        let mut pages = Vec::new();
        loop {
            let page = store.call_page(&query).unwrap();
            pages.push(page.calls.iter().map(|c| c.call_id.clone()).collect());
            match page.next {
                Some(next) => query.before = Some(next),
                None => return pages,
            }
        }
    };
    let every: Vec<String> = all_pages(CallQuery::default()).concat();
    assert_eq!(every.len(), 30);
    assert_eq!(every.first().map(String::as_str), Some("CA29"));
    assert_eq!(every.last().map(String::as_str), Some("CA00"));
    let refused = all_pages(CallQuery { decision: Some(DecisionKind::Decline), ..Default::default() }).concat();
    assert_eq!(refused, ["CA27", "CA24", "CA21", "CA18", "CA15", "CA12", "CA09", "CA06", "CA03", "CA00"]);
    let forwarded = all_pages(CallQuery { decision: Some(DecisionKind::Forward), ..Default::default() }).concat();
    assert_eq!(forwarded.len(), 20);
    let by_number = all_pages(CallQuery { number: Some("+442079460102".into()), ..Default::default() }).concat();
    assert_eq!(by_number, ["CA27", "CA22", "CA17", "CA12", "CA07", "CA02"]);
    let by_company = all_pages(CallQuery { company: Some("company  1".into()), ..Default::default() }).concat();
    assert_eq!(by_company, ["CA27", "CA21", "CA15", "CA09", "CA03"]);
    let by_ending = all_pages(CallQuery { number_ending: Some("0102".into()), ..Default::default() }).concat();
    assert_eq!(by_ending, by_number);
    let by_part = all_pages(CallQuery { company: Some("ANY  1".into()), ..Default::default() }).concat();
    assert_eq!(by_part, by_company, "a part of the name, in any case and spacing");
    assert!(all_pages(CallQuery { company: Some("%".into()), ..Default::default() }).concat().is_empty());
    let both = CallQuery { number: Some("+442079460102".into()), declined_only: true, ..Default::default() };
    assert_eq!(all_pages(both).concat(), ["CA27", "CA12"]);
    let window = CallQuery {
        since: Some("2026-11-01T10:10:00Z".parse().unwrap()),
        until: Some("2026-11-01T10:13:00Z".parse().unwrap()),
        ..Default::default()
    };
    assert_eq!(all_pages(window).concat(), ["CA12", "CA11", "CA10"]);
    let searched = CallQuery { search: Some("ca1".into()), ..Default::default() };
    assert_eq!(all_pages(searched).concat().len(), 10);
    let backwards = CallQuery {
        since: Some("2026-11-02T00:00:00Z".parse().unwrap()),
        until: Some("2026-11-01T00:00:00Z".parse().unwrap()),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(store.call_page(&backwards).unwrap(), CallPage::default());
}

pub fn hours_are_tallied_and_declines_saved_together(store: &dyn Store) {
    store
        .append_calls(&[
            call("CA1", "2026-11-01T10:05:00Z", DecisionKind::Forward),
            call("CA2", "2026-11-01T10:55:00Z", DecisionKind::Decline),
            call("CA3", "2026-11-01T12:00:00Z", DecisionKind::Forward),
        ])
        .unwrap();
    let tallies =
        store.call_tallies("2026-11-01T00:00:00Z".parse().unwrap(), "2026-11-01T12:30:00Z".parse().unwrap()).unwrap();
    let hours: Vec<(String, u64, u64)> = tallies.iter().map(|t| (t.hour.to_string(), t.forwarded, t.refused)).collect();
    assert_eq!(hours, [("2026-11-01T10:00:00Z".into(), 1, 1), ("2026-11-01T12:00:00Z".into(), 1, 0)]);
    let none = store.call_tallies("2026-11-02T00:00:00Z".parse().unwrap(), "2026-11-03T00:00:00Z".parse().unwrap());
    assert!(none.unwrap().is_empty());

    let both = [decline("+442079460123", "Everest"), decline("+442079460124", "Acme")].into_iter().collect();
    store.apply(Change::Declines(&both)).unwrap();
    assert_eq!(store.declines().unwrap().len(), 2);
    let allows = ["+442079460125", "+442079460126"].map(|n| Allow::always(number(n), None, Timestamp::UNIX_EPOCH));
    store.apply(Change::Allows(&allows)).unwrap();
    assert_eq!(store.allows().unwrap().len(), 2);
    assert_eq!(store.company_name("acme").unwrap().as_deref(), Some("Acme"));
    assert_eq!(store.password_hash().unwrap(), None);
    store.apply(Change::PasswordHash("$argon2id$example")).unwrap();
    assert_eq!(store.password_hash().unwrap().as_deref(), Some("$argon2id$example"));
}

pub fn text_sessions_are_kept_per_owner(store: &dyn Store) {
    let owner = number("+447700900123");
    assert_eq!(store.text_session(&owner).unwrap(), TextSession::default());
    let mut session = TextSession { listed: vec![Some(number("+442079460123")), None], ..Default::default() };
    session.remember(crate::domain::TextChange::Declined { number: number("+442079460123"), before: None });
    store.apply(Change::TextSession { owner: &owner, session: &session }).unwrap();
    assert_eq!(store.text_session(&owner).unwrap(), session);
    assert_eq!(store.text_session(&number("+447700900124")).unwrap(), TextSession::default());
}

pub fn signed_in_browsers_are_kept_until_signed_out_and_ended_ones_are_forgotten(store: &dyn Store) {
    let at = |text: &str| -> Timestamp { text.parse().unwrap() };
    let browser = |digest: &str, until: &str| SignedIn { digest: digest.into(), until: at(until) };
    let (ended, phone, laptop) = (
        browser("old", "2026-11-01T00:00:00Z"),
        browser("phone", "2026-11-02T12:00:00Z"),
        browser("laptop", "2026-11-02T13:00:00Z"),
    );
    store.apply(Change::SignIn { browser: &ended, now: at("2026-10-31T12:00:00Z") }).unwrap();
    store.apply(Change::SignIn { browser: &phone, now: at("2026-11-02T00:00:00Z") }).unwrap();
    store.apply(Change::SignIn { browser: &laptop, now: at("2026-11-02T01:00:00Z") }).unwrap();
    assert_eq!(store.signed_in().unwrap(), [phone.clone(), laptop.clone()], "the ended session is forgotten");
    store.apply(Change::SignOut { digest: Some("phone") }).unwrap();
    assert_eq!(store.signed_in().unwrap(), [laptop]);
    store.apply(Change::SignOut { digest: None }).unwrap();
    assert!(store.signed_in().unwrap().is_empty());
}

pub fn repeat_callers_are_numbers_that_rang_through_again_and_again(store: &dyn Store) {
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
    let repeated = store.repeat_callers(since, 2, 10).unwrap();
    let found: Vec<(&str, u32)> = repeated.iter().map(|seen| (seen.number.as_str(), seen.calls)).collect();
    assert_eq!(found, [("+442079460557", 2), ("+442079460555", 2)], "most calls, then the latest, first");
    assert_eq!(
        repeated[1].first_at,
        "2026-11-01T10:00:00Z".parse::<Timestamp>().unwrap(),
        "the call before since is left out"
    );
    assert_eq!(repeated[1].last_at, "2026-11-03T10:00:00Z".parse::<Timestamp>().unwrap());
    assert_eq!(store.repeat_callers(since, 2, 1).unwrap().len(), 1);
    assert!(store.repeat_callers(since, 3, 10).unwrap().is_empty());
}

/// Prunes in batches of `budget` until the walk ends, as the background task does.
fn prune_all(store: &dyn Store, before: &str, keep: &dyn Fn(&CallRecord) -> bool, budget: usize) -> Pruned {
    let mut total = Pruned::default();
    loop {
        let batch = store.prune_calls(before.parse().unwrap(), keep, total.next, budget).unwrap();
        total = total.and(batch);
        if total.next.is_none() {
            return total;
        }
    }
}

pub fn pruning_removes_old_calls_from_every_listing_and_keeps_held_and_young_ones(store: &dyn Store) {
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

    let pruned = prune_all(store, "2024-06-01T00:00:00Z", &held, 2);
    assert_eq!((pruned.calls, pruned.kept), (3, 1), "{pruned:?}");

    let sids = |query: CallQuery| -> Vec<String> {
        store.calls(&CallQuery { limit: 10, ..query }).unwrap().into_iter().map(|c| c.call_id).collect()
    };
    assert_eq!(sids(CallQuery::default()), ["CA-reused", "CA-young-everest", "CA-old-acme"]);
    let everest = CallQuery { company: Some("everest".into()), ..Default::default() };
    assert_eq!(sids(everest), ["CA-young-everest"]);
    assert_eq!(sids(CallQuery { company: Some("acme".into()), ..Default::default() }), ["CA-old-acme"]);
    let by_number = CallQuery { number: Some("+442079460123".into()), ..Default::default() };
    assert_eq!(sids(by_number), ["CA-reused", "CA-young-everest"]);
    assert_eq!(sids(CallQuery { decision: Some(DecisionKind::Forward), ..Default::default() }), ["CA-reused"]);
    // The pruned call's id now finds only the later call that reused it.
    assert!(!store.attach_outcomes(&[("CA-old-forwarded".into(), ForwardOutcome::default())]).unwrap()[0]);
    assert!(store.attach_outcomes(&[("CA-reused".into(), ForwardOutcome::default())]).unwrap()[0]);

    let tallied = |since: &str, until: &str| -> u64 {
        let tallies = store.call_tallies(since.parse().unwrap(), until.parse().unwrap()).unwrap();
        tallies.iter().map(|t| t.forwarded + t.refused + t.other).sum()
    };
    assert_eq!(tallied("2024-01-02T00:00:00Z", "2024-01-04T00:00:00Z"), 0);
    assert_eq!(tallied("2024-06-01T00:00:00Z", "2024-06-02T00:00:00Z"), 1);
    assert_eq!(tallied("2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z"), 1);

    // A second pass finds nothing more to do, and a hold lifted lets the held call go.
    assert_eq!(prune_all(store, "2024-06-01T00:00:00Z", &held, 2).calls, 0);
    assert_eq!(prune_all(store, "2024-06-01T00:00:00Z", &|_| false, 2).calls, 1);
    assert_eq!(sids(CallQuery::default()), ["CA-reused", "CA-young-everest"]);
}

pub fn legal_holds_are_placed_and_lifted(store: &dyn Store) {
    assert!(store.legal_holds().unwrap().is_empty());
    let since: Timestamp = "2026-11-20T10:00:00Z".parse().unwrap();
    store.apply(Change::LegalHold { party: "company:everest", since: Some(since) }).unwrap();
    store.apply(Change::LegalHold { party: "number:+442079460124", since: Some(since) }).unwrap();
    let mut parties: Vec<String> = store.legal_holds().unwrap().into_iter().map(|h| h.party).collect();
    parties.sort();
    assert_eq!(parties, ["company:everest", "number:+442079460124"]);
    store.apply(Change::LegalHold { party: "company:everest", since: None }).unwrap();
    store.apply(Change::LegalHold { party: "company:nobody", since: None }).unwrap();
    assert_eq!(store.legal_holds().unwrap(), [LegalHold { party: "number:+442079460124".into(), since }]);
}

macro_rules! for_store {
    ($name:ident, $make:expr) => {
        mod $name {
            #[test]
            fn pages_follow_their_cursor_through_each_filter() {
                let (_dir, store) = $make;
                super::pages_follow_their_cursor_through_each_filter(&store);
            }
            #[test]
            fn hours_are_tallied_and_declines_saved_together() {
                let (_dir, store) = $make;
                super::hours_are_tallied_and_declines_saved_together(&store);
            }
            #[test]
            fn declines_and_allows_are_kept_by_number() {
                let (_dir, store) = $make;
                super::declines_and_allows_are_kept_by_number(&store);
            }
            #[test]
            fn ranges_and_patterns_are_rules_apart_from_numbers() {
                let (_dir, store) = $make;
                super::ranges_and_patterns_are_rules_apart_from_numbers(&store);
            }
            #[test]
            fn the_pause_switch_is_kept() {
                let (_dir, store) = $make;
                super::the_pause_switch_is_kept(&store);
            }
            #[test]
            fn calls_come_back_newest_first_and_filtered() {
                let (_dir, store) = $make;
                super::calls_come_back_newest_first_and_filtered(&store);
            }
            #[test]
            fn numbered_refusals_keep_their_companys_count() {
                let (_dir, store) = $make;
                super::numbered_refusals_keep_their_companys_count(&store);
            }
            #[test]
            fn outcomes_attach_to_their_call_and_merge() {
                let (_dir, store) = $make;
                super::outcomes_attach_to_their_call_and_merge(&store);
            }
            #[test]
            fn pruning_removes_old_calls_from_every_listing_and_keeps_held_and_young_ones() {
                let (_dir, store) = $make;
                super::pruning_removes_old_calls_from_every_listing_and_keeps_held_and_young_ones(&store);
            }
            #[test]
            fn legal_holds_are_placed_and_lifted() {
                let (_dir, store) = $make;
                super::legal_holds_are_placed_and_lifted(&store);
            }
            #[test]
            fn signed_in_browsers_are_kept_until_signed_out_and_ended_ones_are_forgotten() {
                let (_dir, store) = $make;
                super::signed_in_browsers_are_kept_until_signed_out_and_ended_ones_are_forgotten(&store);
            }
            #[test]
            fn repeat_callers_are_numbers_that_rang_through_again_and_again() {
                let (_dir, store) = $make;
                super::repeat_callers_are_numbers_that_rang_through_again_and_again(&store);
            }
            #[test]
            fn text_sessions_are_kept_per_owner() {
                let (_dir, store) = $make;
                super::text_sessions_are_kept_per_owner(&store);
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
