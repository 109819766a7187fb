use proptest::prelude::*;

use super::*;
use crate::config::Step;
use crate::domain::{DecisionKind, PhoneNumber, Verification};

const CALLER: &str = "+442079460123";
/// A Tuesday afternoon.
const NOW: &str = "2026-11-24T15:00:00Z";

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn now() -> Timestamp {
    at(NOW)
}

fn settings() -> Settings {
    let mut settings = Settings::defaults();
    settings.time_zone = TimeZone::UTC;
    settings
}

fn decline_of(target: Target, company: &str) -> Decline {
    Decline {
        company: Some(company.into()),
        declined_by: Some("Sam".into()),
        ..Decline::new(target, at("2026-11-03T10:00:00Z"))
    }
}

fn number_decline() -> Decline {
    decline_of(Target::Number(PhoneNumber::from_e164(CALLER).unwrap()), "Everest Windows")
}

fn range_decline(prefix: &str) -> Decline {
    decline_of(Target::Prefix(prefix.into()), "Rotating Ltd")
}

fn allow() -> Allow {
    Allow::always(PhoneNumber::from_e164(CALLER).unwrap(), Some("Mum".into()), at("2026-11-01T10:00:00Z"))
}

fn window_allow(from: &str, until: &str) -> Allow {
    Allow { from: Some(at(from)), until: Some(at(until)), ..allow() }
}

fn records(declines: Vec<Decline>, allow: Option<Allow>) -> Records {
    Records { allow, declines: declines.into_iter().map(|d| (d, FollowUps::default())).collect(), paused: false }
}

fn decide_now(call: &IncomingCall, records: &Records, settings: &Settings) -> Decision {
    decide(call, records, now(), settings)
}

fn refusal(decision: &Decision) -> &Refusal {
    match &decision.action {
        Action::Refuse(refusal) => refusal,
        other => panic!("expected a refusal, got {other:?}: {}", decision.reason),
    }
}

fn follow_ups(count: u32) -> FollowUps {
    FollowUps { count, first_at: None, last_at: None }
}

fn open_on_weekdays(settings: &mut Settings) {
    settings.hours.enabled = true;
    settings.hours.tuesday = "09:00-12:00".to_owned().try_into().unwrap();
}

/// One row per precedence pair: the facts, and what must come of them.
#[test]
fn every_precedence_pair_decides_as_documented() {
    struct Case {
        name: &'static str,
        records: Records,
        settings: fn(&mut Settings),
        from: &'static str,
        kind: DecisionKind,
        reason_has: &'static str,
    }
    let keep = |_: &mut Settings| {};
    let lapsed = || Decline { not_before: Some(at("2026-11-20T00:00:00Z")), ..number_decline() };
    let cases = vec![
        Case {
            name: "an allow beats a decline",
            records: records(vec![number_decline()], Some(allow())),
            settings: keep,
            from: CALLER,
            kind: DecisionKind::Forward,
            reason_has: "overrides the decline of Everest Windows",
        },
        Case {
            name: "a timed allow inside its window beats a decline",
            records: records(
                vec![number_decline()],
                Some(window_allow("2026-11-24T14:00:00Z", "2026-11-24T16:00:00Z")),
            ),
            settings: keep,
            from: CALLER,
            kind: DecisionKind::Forward,
            reason_has: "until 24 Nov 16:00",
        },
        Case {
            name: "a timed allow before its window does not",
            records: records(
                vec![number_decline()],
                Some(window_allow("2026-11-24T16:00:00Z", "2026-11-24T18:00:00Z")),
            ),
            settings: keep,
            from: CALLER,
            kind: DecisionKind::Decline,
            reason_has: "the allow for +442079460123 (Mum) starts 24 Nov 16:00",
        },
        Case {
            name: "a timed allow after its window does not",
            records: records(
                vec![number_decline()],
                Some(window_allow("2026-11-24T10:00:00Z", "2026-11-24T12:00:00Z")),
            ),
            settings: keep,
            from: CALLER,
            kind: DecisionKind::Decline,
            reason_has: "ended 24 Nov 12:00",
        },
        Case {
            name: "a spent single-use allow does not",
            records: records(
                vec![number_decline()],
                Some(Allow { once: true, used_at: Some(at("2026-11-24T14:10:00Z")), ..allow() }),
            ),
            settings: keep,
            from: CALLER,
            kind: DecisionKind::Decline,
            reason_has: "was used on 24 Nov 14:10",
        },
        Case {
            name: "an exact decline speaks before a range",
            records: records(vec![range_decline("+44207946"), number_decline()], None),
            settings: keep,
            from: CALLER,
            kind: DecisionKind::Decline,
            reason_has: "refused: Everest Windows, declined",
        },
        Case {
            name: "a longer range speaks before a shorter one",
            records: records(
                vec![range_decline("+44"), decline_of(Target::Prefix("+4420794".into()), "Narrow Ltd")],
                None,
            ),
            settings: keep,
            from: CALLER,
            kind: DecisionKind::Decline,
            reason_has: "refused: Narrow Ltd (+4420794*)",
        },
        Case {
            name: "a range refuses a number with no decline of its own",
            records: records(vec![range_decline("+44207946")], None),
            settings: keep,
            from: CALLER,
            kind: DecisionKind::Decline,
            reason_has: "refused: Rotating Ltd (+44207946*)",
        },
        Case {
            name: "a lapsed exact decline gives way to an active range",
            records: records(vec![lapsed(), range_decline("+44207946")], None),
            settings: keep,
            from: CALLER,
            kind: DecisionKind::Decline,
            reason_has: "Rotating Ltd",
        },
        Case {
            name: "a lapsed decline forwards and says it lapsed",
            records: records(vec![lapsed()], None),
            settings: keep,
            from: CALLER,
            kind: DecisionKind::Forward,
            reason_has: "the decline of Everest Windows lapsed on 20 Nov 2026",
        },
        Case {
            name: "a not-before decline refuses until its date",
            records: records(vec![Decline { not_before: Some(at("2027-03-01T00:00:00Z")), ..number_decline() }], None),
            settings: keep,
            from: CALLER,
            kind: DecisionKind::Decline,
            reason_has: "not before 1 Mar 2027",
        },
        Case {
            name: "outside business hours the closed message answers",
            records: records(vec![], None),
            settings: open_on_weekdays,
            from: CALLER,
            kind: DecisionKind::Closed,
            reason_has: "closed: outside business hours",
        },
        Case {
            name: "inside business hours the call rings through",
            records: records(vec![], None),
            settings: |s| {
                open_on_weekdays(s);
                s.hours.tuesday = "09:00-17:30".to_owned().try_into().unwrap();
            },
            from: CALLER,
            kind: DecisionKind::Forward,
            reason_has: "no decline on record",
        },
        Case {
            name: "the pause beats business hours",
            records: Records { paused: true, ..records(vec![], None) },
            settings: open_on_weekdays,
            from: CALLER,
            kind: DecisionKind::Forward,
            reason_has: "paused",
        },
        Case {
            name: "the pause beats a decline",
            records: Records { paused: true, ..records(vec![number_decline()], None) },
            settings: keep,
            from: CALLER,
            kind: DecisionKind::Forward,
            reason_has: "paused",
        },
        Case {
            name: "a decline is refused outside business hours too",
            records: records(vec![number_decline()], None),
            settings: open_on_weekdays,
            from: CALLER,
            kind: DecisionKind::Decline,
            reason_has: "Everest Windows",
        },
        Case {
            name: "an allow rings through outside business hours",
            records: records(vec![], Some(allow())),
            settings: open_on_weekdays,
            from: CALLER,
            kind: DecisionKind::Forward,
            reason_has: "is allowed (Mum)",
        },
        Case {
            name: "withheld callers are forwarded by default",
            records: records(vec![], None),
            settings: keep,
            from: "withheld",
            kind: DecisionKind::Forward,
            reason_has: "withheld",
        },
        Case {
            name: "withheld callers can be screened",
            records: records(vec![], None),
            settings: |s| s.policy.withheld = CallerPolicy::Screen,
            from: "withheld",
            kind: DecisionKind::Screen,
            reason_has: "screened: caller withheld their number",
        },
        Case {
            name: "withheld callers can be refused",
            records: records(vec![], None),
            settings: |s| s.policy.withheld = CallerPolicy::Refuse,
            from: "withheld",
            kind: DecisionKind::Decline,
            reason_has: "refused: caller withheld their number",
        },
        Case {
            name: "unknown callers can be screened, but not declined ones",
            records: records(vec![], None),
            settings: |s| s.policy.screen_unknown = true,
            from: CALLER,
            kind: DecisionKind::Screen,
            reason_has: "asked to press 1",
        },
        Case {
            name: "screening never holds up an allowed caller",
            records: records(vec![], Some(allow())),
            settings: |s| s.policy.screen_unknown = true,
            from: CALLER,
            kind: DecisionKind::Forward,
            reason_has: "allowed",
        },
        Case {
            name: "screening does not soften a decline",
            records: records(vec![number_decline()], None),
            settings: |s| s.policy.screen_unknown = true,
            from: CALLER,
            kind: DecisionKind::Decline,
            reason_has: "Everest Windows",
        },
    ];
    for case in cases {
        let mut settings = settings();
        (case.settings)(&mut settings);
        let decision = decide_now(&IncomingCall::from_caller(case.from), &case.records, &settings);
        assert_eq!(decision.kind(), case.kind, "{}: {}", case.name, decision.reason);
        assert!(
            decision.reason.contains(case.reason_has),
            "{}: {:?} lacks {:?}",
            case.name,
            decision.reason,
            case.reason_has
        );
    }
}

#[test]
fn the_ladder_escalates_step_by_step() {
    let mut settings = settings();
    settings.policy.escalation.steps = vec![
        Step { from_call: 5, mode: None, flag: true },
        Step { from_call: 3, mode: Some(RefusalMode::Reject), flag: false },
    ];
    let expectations = [
        (0, RefusalMode::Message, false, "1st call since"),
        (1, RefusalMode::Message, false, "2nd call since"),
        (2, RefusalMode::Reject, false, "3rd call since; escalated to silent reject"),
        (3, RefusalMode::Reject, false, "4th call since; escalated to silent reject"),
        (4, RefusalMode::Reject, true, "5th call since; escalated to silent reject; flagged for a complaint"),
        (9, RefusalMode::Reject, true, "10th call since"),
    ];
    for (before, mode, flagged, reason) in expectations {
        let records = Records { declines: vec![(number_decline(), follow_ups(before))], ..Default::default() };
        let decision = decide_now(&IncomingCall::from_caller(CALLER), &records, &settings);
        let refusal = refusal(&decision);
        assert_eq!(refusal.mode, mode, "after {before} calls");
        assert_eq!(decision.flagged(), flagged, "after {before} calls");
        assert!(decision.reason.contains(reason), "{}", decision.reason);
    }
}

#[test]
fn the_escape_hatch_is_offered_as_configured_both_ways() {
    let records = records(vec![number_decline()], None);
    let mut listed = settings();
    listed.policy.escape_hatch_companies = vec!["everest  WINDOWS".into()];
    assert!(refusal(&decide_now(&IncomingCall::from_caller(CALLER), &records, &listed)).escape_hatch);

    let plain = settings();
    assert!(!refusal(&decide_now(&IncomingCall::from_caller(CALLER), &records, &plain)).escape_hatch);

    let mut everyone = settings();
    everyone.policy.escape_hatch = true;
    let opted_out = self::records(vec![Decline { escape_hatch: Some(false), ..number_decline() }], None);
    assert!(!refusal(&decide_now(&IncomingCall::from_caller(CALLER), &opted_out, &everyone)).escape_hatch);
    let decision = decide_now(&IncomingCall::from_caller(CALLER), &records, &everyone);
    assert!(refusal(&decision).escape_hatch);
    assert!(decision.reason.contains("offered the escape hatch"));

    // A silent reject is never answered, so there is nobody to offer it to.
    let silent = self::records(vec![Decline { mode: Some(RefusalMode::Reject), ..number_decline() }], None);
    assert!(!refusal(&decide_now(&IncomingCall::from_caller(CALLER), &silent, &everyone)).escape_hatch);
}

#[test]
fn failed_verification_follows_its_policy_and_passed_verification_does_not() {
    let mut settings = settings();
    settings.policy.unverified = CallerPolicy::Refuse;
    for (verstat, kind) in [
        ("TN-Validation-Failed-A", DecisionKind::Decline),
        ("TN-Validation-Failed-Diverted", DecisionKind::Decline),
        ("No-TN-Validation", DecisionKind::Decline),
        ("TN-Validation-Passed-A", DecisionKind::Forward),
        ("TN-Validation-Passed-B-Passthrough", DecisionKind::Forward),
    ] {
        let call = IncomingCall {
            verification: Some(Verification::of_verstat(verstat.into())),
            ..IncomingCall::from_caller(CALLER)
        };
        let decision = decide_now(&call, &Records::default(), &settings);
        assert_eq!(decision.kind(), kind, "{verstat}: {}", decision.reason);
    }
    settings.policy.unverified = CallerPolicy::Screen;
    let call = IncomingCall {
        verification: Some(Verification::of_verstat("No-TN-Validation".into())),
        ..IncomingCall::from_caller(CALLER)
    };
    assert_eq!(decide_now(&call, &Records::default(), &settings).kind(), DecisionKind::Screen);
}

#[test]
fn a_caller_name_rule_refuses_even_a_withheld_caller() {
    let rule = decline_of(Target::CallerName(r"V\d{15}".into()), "Robocaller");
    let call = IncomingCall { caller_name: Some("V123456789012345".into()), ..IncomingCall::from_caller("withheld") };
    let decision = decide_now(&call, &records(vec![rule], None), &settings());
    assert!(decision.reason.contains(r"Robocaller (caller name /V\d{15}/)"), "{}", decision.reason);
}

#[test]
fn a_single_use_allow_is_spent_by_the_call_it_lets_through() {
    let once = Allow { once: true, ..allow() };
    let decision = decide_now(&IncomingCall::from_caller(CALLER), &records(vec![], Some(once)), &settings());
    assert!(decision.uses_single_allow);
    assert!(decision.reason.contains(", once"));
    assert!(
        !decide_now(&IncomingCall::from_caller(CALLER), &records(vec![], Some(allow())), &settings()).uses_single_allow
    );
}

#[test]
fn ordinals_read_as_english() {
    let read: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111].into_iter().map(ordinal).collect();
    assert_eq!(read, ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th"]);
}

#[test]
fn dates_are_given_in_the_business_time_zone() {
    // 23:30 UTC on 3 Nov is already 4 Nov in Auckland.
    let moment = at("2026-11-03T23:30:00Z");
    assert_eq!(short_date(moment, &TimeZone::get("Pacific/Auckland").unwrap()), "4 Nov 2026");
    assert_eq!(spoken_date(moment, &TimeZone::UTC), "3 November 2026");
}

// Properties over arbitrary facts.

fn hours_from_now(offset: i64) -> Timestamp {
    now().checked_add(jiff::SignedDuration::from_hours(offset)).unwrap()
}

fn any_target() -> impl Strategy<Value = Target> {
    prop_oneof![
        Just(Target::Number(PhoneNumber::from_e164(CALLER).unwrap())),
        Just(Target::Prefix("+44".into())),
        Just(Target::Prefix("+4420794".into())),
        Just(Target::Pattern(r"\+44.*".into())),
        Just(Target::CallerName(".*".into())),
    ]
}

fn any_mode() -> impl Strategy<Value = Option<RefusalMode>> {
    prop::option::of(prop_oneof![Just(RefusalMode::Message), Just(RefusalMode::Reject)])
}

fn any_decline() -> impl Strategy<Value = (Decline, FollowUps)> {
    (
        any_target(),
        any::<bool>(),
        any_mode(),
        prop::option::of(-2000i64..2000),
        prop::option::of(any::<bool>()),
        0u32..12,
    )
        .prop_map(|(target, named, mode, not_before, escape_hatch, count)| {
            let decline = Decline {
                company: named.then(|| "Everest Windows".into()),
                mode,
                not_before: not_before.map(hours_from_now),
                escape_hatch,
                ..decline_of(target, "x")
            };
            (decline, follow_ups(count))
        })
}

fn any_allow() -> impl Strategy<Value = Option<Allow>> {
    prop::option::of(
        (prop::option::of(-50i64..50), prop::option::of(-50i64..50), any::<bool>(), any::<bool>()).prop_map(
            |(from, until, once, used)| Allow {
                from: from.map(hours_from_now),
                until: until.map(hours_from_now),
                once,
                used_at: used.then(now),
                ..allow()
            },
        ),
    )
}

fn any_call() -> impl Strategy<Value = IncomingCall> {
    let from = prop_oneof![Just(CALLER), Just("+2348012345678"), Just("withheld"), Just(""), Just("sip:a@b.example")];
    let verstat = prop::option::of(prop_oneof![
        Just("TN-Validation-Passed-A"),
        Just("TN-Validation-Failed-B"),
        Just("No-TN-Validation")
    ]);
    (from, verstat, prop::option::of("[A-Z0-9 ]{0,20}")).prop_map(|(from, verstat, caller_name)| IncomingCall {
        verification: verstat.map(|report| Verification::of_verstat(report.to_owned())),
        caller_name,
        ..IncomingCall::from_caller(from)
    })
}

fn any_policy() -> impl Strategy<Value = CallerPolicy> {
    prop_oneof![Just(CallerPolicy::Forward), Just(CallerPolicy::Screen), Just(CallerPolicy::Refuse)]
}

fn any_settings() -> impl Strategy<Value = Settings> {
    (
        any_policy(),
        any_policy(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec((2u32..8, any_mode(), any::<bool>()), 0..3),
    )
        .prop_map(|(withheld, unverified, screen_unknown, hours, hatch, steps)| {
            let mut settings = settings();
            settings.policy.withheld = withheld;
            settings.policy.unverified = unverified;
            settings.policy.screen_unknown = screen_unknown;
            settings.policy.escape_hatch = hatch;
            if hours {
                open_on_weekdays(&mut settings);
            }
            settings.policy.escalation.steps =
                steps.into_iter().map(|(from_call, mode, flag)| Step { from_call, mode, flag }).collect();
            settings
        })
}

fn any_records() -> impl Strategy<Value = Records> {
    (any_allow(), prop::collection::vec(any_decline(), 0..4), any::<bool>())
        .prop_map(|(allow, declines, paused)| Records { allow, declines, paused })
}

proptest! {
    #[test]
    fn deciding_never_panics_and_always_gives_a_reason(
        call in any_call(), records in any_records(), settings in any_settings(), offset in -10_000i64..10_000,
    ) {
        let decision = decide(&call, &records, hours_from_now(offset), &settings);
        prop_assert!(!decision.reason.is_empty());
    }

    #[test]
    fn an_active_allow_always_wins(call in any_call(), records in any_records(), settings in any_settings()) {
        if records.allow.as_ref().is_some_and(|allow| allow.is_active(now())) {
            prop_assert_eq!(decide_now(&call, &records, &settings).action, Action::Forward);
        }
    }

    #[test]
    fn a_lapsed_decline_never_refuses(
        call in any_call(), records in any_records(), mut settings in any_settings(),
    ) {
        // With the policies for records-less callers neutral, only a decline could refuse.
        settings.policy.withheld = CallerPolicy::Forward;
        settings.policy.unverified = CallerPolicy::Forward;
        let lapsed: Vec<_> = records.declines.into_iter().filter(|(decline, _)| !decline.is_active(now())).collect();
        let records = Records { declines: lapsed, ..records };
        prop_assert!(!matches!(decide_now(&call, &records, &settings).action, Action::Refuse(_)));
    }

    #[test]
    fn adding_a_decline_never_turns_a_refusal_into_a_forward(
        call in any_call(), records in any_records(), settings in any_settings(), added in any_decline(),
    ) {
        let before = decide_now(&call, &records, &settings);
        let mut more = records.clone();
        more.declines.push(added);
        let after = decide_now(&call, &more, &settings);
        if matches!(before.action, Action::Refuse(_)) {
            prop_assert!(matches!(after.action, Action::Refuse(_)), "{} became {}", before.reason, after.reason);
        }
    }
}

fn zone() -> impl Strategy<Value = TimeZone> {
    prop_oneof![
        Just(TimeZone::UTC),
        Just(TimeZone::get("Europe/London").unwrap()),
        Just(TimeZone::get("America/New_York").unwrap()),
        Just(TimeZone::get("Pacific/Chatham").unwrap()),
        Just(TimeZone::get("Asia/Kolkata").unwrap()),
        Just(TimeZone::fixed(jiff::tz::offset(-11))),
    ]
}

/// Any moment jiff can hold, with the years of four digits and the recent ones most often.
fn moment() -> impl Strategy<Value = Timestamp> {
    let min = Timestamp::MIN.as_second() + 2 * 86_400;
    let max = Timestamp::MAX.as_second() - 2 * 86_400;
    prop_oneof![
        1 => min..max,
        1 => -30_610_224_000i64..253_402_300_799,
        4 => 1_700_000_000i64..1_900_000_000,
    ]
    .prop_map(|second| Timestamp::from_second(second).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    // The reasons' dates are written without strftime, which is slow on a path every refusal
    // takes; they must read exactly as strftime would write them, in any zone and year.
    #[test]
    fn dates_and_times_read_as_strftime_writes_them(at in moment(), zone in zone()) {
        let local = at.to_zoned_datetime(zone.clone());
        prop_assert_eq!(short_date(at, &zone), local.strftime("%-d %b %Y").to_string());
        prop_assert_eq!(short_time(at, &zone), local.strftime("%-d %b %H:%M").to_string());
    }
}
