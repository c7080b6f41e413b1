//! The present list, case by case (spec §10 over the §6 pairing).

use super::*;
use crate::identity::PersonId;
use crate::testing::card_event;
use crate::time::parse_rfc3339;

const A: &str = "AAAAAAAAAAAA1";
const B: &str = "BBBBBBBBBBBB2";

fn t(s: &str) -> Instant {
    parse_rfc3339(s).unwrap()
}

fn ev(id: &str, person: &str, site: &str, dir: Direction, at: &str) -> LedgerEvent {
    let at = t(at);
    card_event(
        id,
        format!("ref-{person}"),
        PersonId::parse("198112189876", None, None).unwrap(),
        person,
        SiteId::parse(site).unwrap(),
        dir,
        at,
    )
}

use Direction::{In, Out};

fn names(events: Vec<LedgerEvent>, site: &str, at: &str) -> Vec<String> {
    present_at(events, &SiteId::parse(site).unwrap(), &t(at), None)
        .people
        .into_iter()
        .map(|p| p.person_name)
        .collect()
}

#[test]
fn an_open_check_in_is_present_and_ordered_by_name() {
    let events = vec![
        ev("1", "Östen", A, In, "2026-03-02T07:00:00Z"),
        ev("2", "Anna", A, In, "2026-03-02T07:05:00Z"),
        ev("3", "Bo", A, In, "2026-03-02T06:00:00Z"),
        ev("4", "Bo", A, Out, "2026-03-02T08:00:00Z"),
    ];
    assert_eq!(
        names(events.clone(), A, "2026-03-02T09:00:00Z"),
        ["Anna", "Östen"]
    );
    // Bo was present before he checked out; nobody before anyone came.
    assert_eq!(
        names(events.clone(), A, "2026-03-02T07:30:00Z"),
        ["Anna", "Bo", "Östen"]
    );
    assert!(names(events.clone(), A, "2026-03-02T05:00:00Z").is_empty());
    assert!(names(events, B, "2026-03-02T09:00:00Z").is_empty());
}

#[test]
fn at_is_inclusive_and_16_hours_is_the_limit() {
    let events = vec![ev("1", "Anna", A, In, "2026-03-02T07:00:00Z")];
    assert_eq!(names(events.clone(), A, "2026-03-02T07:00:00Z"), ["Anna"]);
    assert_eq!(names(events.clone(), A, "2026-03-02T23:00:00Z"), ["Anna"]);
    assert!(names(events.clone(), A, "2026-03-02T23:00:01Z").is_empty());
    assert!(names(events, A, "2026-03-02T06:59:59Z").is_empty());
}

#[test]
fn an_out_or_in_at_another_site_ends_presence() {
    let out_elsewhere = vec![
        ev("1", "Anna", A, In, "2026-03-02T07:00:00Z"),
        ev("2", "Anna", B, Out, "2026-03-02T12:00:00Z"),
    ];
    assert!(names(out_elsewhere.clone(), A, "2026-03-02T13:00:00Z").is_empty());
    assert!(names(out_elsewhere, B, "2026-03-02T13:00:00Z").is_empty());
    let moved = vec![
        ev("1", "Anna", A, In, "2026-03-02T07:00:00Z"),
        ev("2", "Anna", B, In, "2026-03-02T12:00:00Z"),
    ];
    assert!(names(moved.clone(), A, "2026-03-02T13:00:00Z").is_empty());
    assert_eq!(names(moved, B, "2026-03-02T13:00:00Z"), ["Anna"]);
}

#[test]
fn a_duplicate_is_not_the_open_check_in() {
    // The kept check-in is 16 h 01 min old; its repeat 60 s later is a duplicate, so it
    // does not make the person present.
    let events = vec![
        ev("1", "Anna", A, In, "2026-03-02T07:00:00Z"),
        ev("2", "Anna", A, In, "2026-03-02T07:01:00Z"),
    ];
    assert!(names(events.clone(), A, "2026-03-02T23:00:30Z").is_empty());
    // A check-out and its duplicate: not present.
    let out_twice = vec![
        ev("1", "Bo", A, In, "2026-03-02T07:00:00Z"),
        ev("2", "Bo", A, Out, "2026-03-02T15:00:00Z"),
        ev("3", "Bo", A, Out, "2026-03-02T15:01:00Z"),
    ];
    assert!(names(out_twice, A, "2026-03-02T16:00:00Z").is_empty());
}

#[test]
fn withdrawn_events_and_events_after_at_do_not_count() {
    let mut withdrawn = ev("1", "Anna", A, In, "2026-03-02T07:00:00Z");
    withdrawn.withdrawn = true;
    assert!(names(vec![withdrawn], A, "2026-03-02T08:00:00Z").is_empty());
    let events = vec![
        ev("1", "Anna", A, In, "2026-03-02T07:00:00Z"),
        ev("2", "Anna", A, Out, "2026-03-02T10:00:00Z"),
    ];
    assert_eq!(names(events, A, "2026-03-02T09:59:59Z"), ["Anna"]);
}

#[test]
fn the_employer_filter_and_fields() {
    let mut e = ev("1", "Anna", A, In, "2026-03-02T07:00:00+01:00");
    let employer = Orgnr::parse("5560360793").unwrap();
    e.employer_orgnr = Some(employer.clone());
    let other = ev("2", "Bo", A, In, "2026-03-02T07:00:00Z");
    let site = SiteId::parse(A).unwrap();
    let at = t("2026-03-02T09:00:00Z");
    let p = present_at(vec![e.clone(), other.clone()], &site, &at, Some(&employer));
    assert_eq!(p.people.len(), 1);
    let anna = &p.people[0];
    assert_eq!(anna.employer_orgnr.as_ref(), Some(&employer));
    assert_eq!(anna.checked_in_at, "2026-03-02T07:00:00+01:00");
    assert_eq!(anna.person_id_masked, "19811218-XXXX");
    assert_eq!(anna.partner_id, "p1");
    assert_eq!(p.at, "2026-03-02T09:00:00Z");
    assert_eq!(present_at(vec![e, other], &site, &at, None).people.len(), 2);
}
