//! Table-driven tests of spec §6, rule by rule and boundary by boundary.

use super::*;
use crate::identity::{PersonId, SiteId};
use crate::testing::card_event;
use crate::time::parse_rfc3339;

const A: &str = "AAAAAAAAAAAA1";
const B: &str = "BBBBBBBBBBBB2";

fn t(s: &str) -> crate::time::Instant {
    parse_rfc3339(s).unwrap()
}

/// An event at minute offsets from 2026-03-02 07:00Z.
fn ev(id: &str, person: &str, site: &str, dir: Direction, at: &str) -> LedgerEvent {
    let at = t(at);
    card_event(
        id,
        person,
        PersonId::parse("198112189876", None, None).unwrap(),
        person,
        SiteId::parse(site).unwrap(),
        dir,
        at,
    )
}

use Direction::{In, Out};

fn now() -> DateTime<Utc> {
    t("2026-03-10T00:00:00Z").with_timezone(&Utc)
}

/// (kind, flagged event id, related ids), sorted.
fn kinds(events: &[LedgerEvent], a: &Analysis) -> Vec<(String, String, Vec<String>)> {
    let mut v: Vec<_> = a
        .anomalies
        .iter()
        .map(|x| {
            (
                x.kind.as_str().to_string(),
                events[x.event].event_id.clone(),
                x.related
                    .iter()
                    .map(|&r| events[r].event_id.clone())
                    .collect(),
            )
        })
        .collect();
    v.sort();
    v
}

fn sessions(events: &[LedgerEvent], a: &Analysis) -> Vec<(String, String)> {
    let mut v: Vec<_> = a
        .sessions
        .iter()
        .map(|s| {
            (
                events[s.check_in].event_id.clone(),
                events[s.check_out].event_id.clone(),
            )
        })
        .collect();
    v.sort();
    v
}

fn k(kind: &str, id: &str, related: &[&str]) -> (String, String, Vec<String>) {
    (
        kind.into(),
        id.into(),
        related.iter().map(|s| s.to_string()).collect(),
    )
}

#[test]
fn a_plain_day_is_one_session() {
    let e = vec![
        ev("i", "p", A, In, "2026-03-02T07:00:00Z"),
        ev("o", "p", A, Out, "2026-03-02T16:00:00Z"),
    ];
    let a = analyse(&e, now());
    assert_eq!(sessions(&e, &a), vec![("i".into(), "o".into())]);
    assert!(a.anomalies.is_empty());
    assert!(a.unpaired.is_empty());
}

#[test]
fn duplicate_window_is_120_seconds_inclusive() {
    for (gap, dup) in [("07:02:00", true), ("07:02:01", false), ("07:00:00", true)] {
        let e = vec![
            ev("i1", "p", A, In, "2026-03-02T07:00:00Z"),
            ev("i2", "p", A, In, &format!("2026-03-02T{gap}Z")),
            ev("o", "p", A, Out, "2026-03-02T15:00:00Z"),
        ];
        let a = analyse(&e, now());
        let got = kinds(&e, &a);
        if dup {
            assert_eq!(got, vec![k("duplicate", "i2", &["i1"])], "{gap}");
            assert_eq!(sessions(&e, &a), vec![("i1".into(), "o".into())]);
        } else {
            assert_eq!(got, vec![k("missing_check_out", "i1", &[])], "{gap}");
            assert_eq!(sessions(&e, &a), vec![("i2".into(), "o".into())]);
        }
    }
}

#[test]
fn duplicates_compare_with_the_latest_kept_event_not_the_latest_duplicate() {
    // i1 kept; i2 at +100 s duplicate of i1; i3 at +200 s is 200 s after i1 → kept.
    let e = vec![
        ev("i1", "p", A, In, "2026-03-02T07:00:00Z"),
        ev("i2", "p", A, In, "2026-03-02T07:01:40Z"),
        ev("i3", "p", A, In, "2026-03-02T07:03:20Z"),
    ];
    let got = kinds(
        &e,
        &analyse(&e, t("2026-03-02T08:00:00Z").with_timezone(&Utc)),
    );
    assert_eq!(
        got,
        vec![
            k("duplicate", "i2", &["i1"]),
            k("missing_check_out", "i1", &[])
        ]
    );
}

#[test]
fn duplicates_need_same_site_and_direction() {
    let e = vec![
        ev("i1", "p", A, In, "2026-03-02T07:00:00Z"),
        ev("i2", "p", B, In, "2026-03-02T07:00:30Z"),
    ];
    let got = kinds(
        &e,
        &analyse(&e, t("2026-03-02T08:00:00Z").with_timezone(&Utc)),
    );
    assert_eq!(got, vec![k("missing_check_out", "i1", &[])]);
}

#[test]
fn sixteen_hours_pair_and_a_second_more_does_not() {
    let e = vec![
        ev("i", "p", A, In, "2026-03-02T07:00:00Z"),
        ev("o", "p", A, Out, "2026-03-02T23:00:00Z"),
    ];
    let a = analyse(&e, now());
    assert_eq!(sessions(&e, &a), vec![("i".into(), "o".into())]);
    assert_eq!(kinds(&e, &a), vec![k("long_session", "i", &["o"])]);

    let e = vec![
        ev("i", "p", A, In, "2026-03-02T07:00:00Z"),
        ev("o", "p", A, Out, "2026-03-02T23:00:01Z"),
    ];
    let a = analyse(&e, now());
    assert!(a.sessions.is_empty());
    assert_eq!(
        kinds(&e, &a),
        vec![
            k("missing_check_in", "o", &[]),
            k("missing_check_out", "i", &[])
        ]
    );
}

#[test]
fn twelve_hours_is_not_long() {
    let e = vec![
        ev("i", "p", A, In, "2026-03-02T07:00:00Z"),
        ev("o", "p", A, Out, "2026-03-02T19:00:00Z"),
    ];
    assert!(analyse(&e, now()).anomalies.is_empty());
    let e = vec![
        ev("i", "p", A, In, "2026-03-02T07:00:00Z"),
        ev("o", "p", A, Out, "2026-03-02T19:00:01Z"),
    ];
    assert_eq!(
        kinds(&e, &analyse(&e, now())),
        vec![k("long_session", "i", &["o"])]
    );
}

#[test]
fn out_at_another_site_breaks_both() {
    let e = vec![
        ev("i", "p", A, In, "2026-03-02T07:00:00Z"),
        ev("o", "p", B, Out, "2026-03-02T15:00:00Z"),
    ];
    let a = analyse(&e, now());
    assert!(a.sessions.is_empty());
    assert_eq!(
        kinds(&e, &a),
        vec![
            k("missing_check_in", "o", &[]),
            k("missing_check_out", "i", &[])
        ]
    );
}

#[test]
fn in_while_open_flags_the_open_one() {
    let e = vec![
        ev("i1", "p", A, In, "2026-03-02T07:00:00Z"),
        ev("i2", "p", A, In, "2026-03-02T09:00:00Z"),
        ev("o", "p", A, Out, "2026-03-02T15:00:00Z"),
    ];
    let a = analyse(&e, now());
    assert_eq!(sessions(&e, &a), vec![("i2".into(), "o".into())]);
    assert_eq!(kinds(&e, &a), vec![k("missing_check_out", "i1", &[])]);
}

#[test]
fn out_with_nothing_open() {
    let e = vec![ev("o", "p", A, Out, "2026-03-02T15:00:00Z")];
    assert_eq!(
        kinds(&e, &analyse(&e, now())),
        vec![k("missing_check_in", "o", &[])]
    );
}

#[test]
fn an_open_in_is_on_site_until_16_hours_have_passed() {
    let e = vec![ev("i", "p", A, In, "2026-03-02T07:00:00Z")];
    let at = |s: &str| t(s).with_timezone(&Utc);
    let a = analyse(&e, at("2026-03-02T23:00:00Z"));
    assert!(a.anomalies.is_empty());
    assert_eq!(a.unpaired, vec![(0, Unpaired::OnSite)]);
    let a = analyse(&e, at("2026-03-02T23:00:01Z"));
    assert_eq!(kinds(&e, &a), vec![k("missing_check_out", "i", &[])]);
}

#[test]
fn out_closes_before_in_opens_at_the_same_instant() {
    let e = vec![
        ev("i2", "p", A, In, "2026-03-02T12:00:00Z"),
        ev("o1", "p", A, Out, "2026-03-02T12:00:00Z"),
        ev("i1", "p", A, In, "2026-03-02T07:00:00Z"),
        ev("o2", "p", A, Out, "2026-03-02T16:00:00Z"),
    ];
    let a = analyse(&e, now());
    assert_eq!(
        sessions(&e, &a),
        vec![("i1".into(), "o1".into()), ("i2".into(), "o2".into())]
    );
    assert!(a.anomalies.is_empty());
}

#[test]
fn people_are_paired_separately() {
    let e = vec![
        ev("a-i", "anna", A, In, "2026-03-02T07:00:00Z"),
        ev("b-i", "bo", A, In, "2026-03-02T07:00:30Z"),
        ev("a-o", "anna", A, Out, "2026-03-02T15:00:00Z"),
        ev("b-o", "bo", A, Out, "2026-03-02T15:00:00Z"),
    ];
    let a = analyse(&e, now());
    assert_eq!(a.sessions.len(), 2);
    assert!(a.anomalies.is_empty());
}

#[test]
fn future_and_late_entries_judge_the_first_recording() {
    let mut f = ev("f", "p", A, In, "2026-03-02T07:00:00Z");
    f.recorded_at = t("2026-03-02T06:54:59Z");
    f.first_occurred_at = f.occurred_at;
    let mut ok = ev("ok", "q", A, In, "2026-03-02T07:00:00Z");
    ok.recorded_at = t("2026-03-02T06:55:00Z");
    let mut late = ev("late", "r", A, Out, "2026-03-02T15:00:00Z");
    late.recorded_at = t("2026-03-02T16:00:01Z");
    let mut just = ev("just", "s", A, Out, "2026-03-02T15:00:00Z");
    just.recorded_at = t("2026-03-02T16:00:00Z");
    // A correction moved it, but the first recording was timely: not late.
    let mut moved = ev("moved", "u", A, Out, "2026-03-02T10:00:00Z");
    moved.first_occurred_at = t("2026-03-02T15:00:00Z");
    moved.recorded_at = t("2026-03-02T15:00:00Z");
    let e = vec![f, ok, late, just, moved];
    let got: Vec<_> = kinds(
        &e,
        &analyse(&e, t("2026-03-02T17:00:00Z").with_timezone(&Utc)),
    )
    .into_iter()
    .filter(|(kind, ..)| kind == "future_event" || kind == "late_entry")
    .collect();
    assert_eq!(
        got,
        vec![k("future_event", "f", &[]), k("late_entry", "late", &[])]
    );
}

#[test]
fn invalid_person_ids_are_flagged_on_every_event_duplicates_included() {
    let bad = PersonId::parse("198112189877", None, None).unwrap();
    let mut e = vec![
        ev("i1", "p", A, In, "2026-03-02T07:00:00Z"),
        ev("i2", "p", A, In, "2026-03-02T07:00:30Z"),
        ev("o", "p", A, Out, "2026-03-02T15:00:00Z"),
    ];
    for x in &mut e {
        x.person = bad.clone();
    }
    let got = kinds(&e, &analyse(&e, now()));
    assert_eq!(
        got,
        vec![
            k("duplicate", "i2", &["i1"]),
            k("invalid_person_id", "i1", &[]),
            k("invalid_person_id", "i2", &[]),
            k("invalid_person_id", "o", &[]),
        ]
    );
}

#[test]
fn every_kept_event_is_in_a_session_or_unpaired_exactly_once() {
    let e = vec![
        ev("1", "p", A, In, "2026-03-02T07:00:00Z"),
        ev("2", "p", A, In, "2026-03-02T07:01:00Z"),
        ev("3", "p", A, Out, "2026-03-02T12:00:00Z"),
        ev("4", "p", A, Out, "2026-03-02T12:30:00Z"),
        ev("5", "p", B, In, "2026-03-02T13:00:00Z"),
        ev("6", "p", A, Out, "2026-03-02T17:00:00Z"),
        ev("7", "p", A, In, "2026-03-03T07:00:00Z"),
    ];
    let a = analyse(&e, now());
    let mut seen = vec![0; e.len()];
    for s in &a.sessions {
        seen[s.check_in] += 1;
        seen[s.check_out] += 1;
    }
    for (i, _) in &a.unpaired {
        seen[*i] += 1;
    }
    for (d, _) in &a.duplicates {
        seen[*d] += 1;
    }
    assert_eq!(seen, vec![1; e.len()]);
}

#[test]
fn input_order_does_not_matter() {
    let e = vec![
        ev("1", "p", A, In, "2026-03-02T07:00:00Z"),
        ev("2", "p", A, In, "2026-03-02T07:01:00Z"),
        ev("3", "p", A, Out, "2026-03-02T12:00:00Z"),
        ev("4", "q", B, Out, "2026-03-02T12:30:00Z"),
        ev("5", "p", B, In, "2026-03-02T13:00:00Z"),
        ev("6", "p", A, Out, "2026-03-02T17:00:00Z"),
    ];
    let base = kinds(&e, &analyse(&e, now()));
    let mut r = e.clone();
    r.reverse();
    assert_eq!(kinds(&r, &analyse(&r, now())), base);
    r.rotate_left(2);
    assert_eq!(kinds(&r, &analyse(&r, now())), base);
}
