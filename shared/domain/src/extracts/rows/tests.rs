use super::*;
use crate::identity::pseudonym::PersonRef;
use crate::model::Source;
use crate::testing::card_event;
use crate::time::parse_rfc3339;

const ANNA: &str = "198112189876";
const BO: &str = "199001011239";

fn t(s: &str) -> Instant {
    parse_rfc3339(s).unwrap()
}

fn ev(person: &str, name: &str, site: &str, id: &str, dir: Direction, at: &str) -> LedgerEvent {
    let at = t(at);
    card_event(
        id,
        format!("ref-{person}"),
        PersonId::parse(person, None, None).unwrap(),
        name,
        SiteId::parse(site).unwrap(),
        dir,
        at,
    )
}

const S1: &str = "STH2026000001";
const S2: &str = "GBG2026000002";

fn span(from: &str, to: &str) -> Span {
    Span {
        from: t(from),
        to: t(to),
    }
}

fn now() -> DateTime<Utc> {
    "2026-12-01T00:00:00Z".parse().unwrap()
}

fn all(events: Vec<LedgerEvent>) -> Vec<Row> {
    let s = span("2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z");
    build_rows(events, s, s, &RowFilter::default(), now())
}

use Direction::{In, Out};

#[test]
fn sessions_give_one_row_with_local_times_and_whole_minutes_rounded_down() {
    let rows = all(vec![
        ev(ANNA, "Åsa Öberg", S1, "i1", In, "2026-03-02T06:00:00Z"),
        // 8 h 29 min 59 s: 509 whole minutes.
        ev(ANNA, "Åsa Öberg", S1, "o1", Out, "2026-03-02T14:29:59Z"),
    ]);
    assert_eq!(rows.len(), 1);
    let c = rows[0].cells();
    assert_eq!(
        c,
        [
            "5569999997",
            "Bygg AB",
            S1,
            "Åsa Öberg",
            "19811218-9876",
            "2026-03-02",
            "07:00:00",
            "15:29:59",
            "509",
            "card",
            "p1",
            "p1:i1 p1:o1",
            "",
            "",
            ""
        ]
        .map(String::from)
    );
    assert_eq!(rows[0].kind, RowKind::Session);
}

#[test]
fn a_check_out_on_a_later_day_carries_its_date() {
    let rows = all(vec![
        ev(ANNA, "Åsa", S1, "i", In, "2026-03-02T20:00:00+01:00"),
        ev(ANNA, "Åsa", S1, "o", Out, "2026-03-03T04:30:00+01:00"),
    ]);
    let c = rows[0].cells();
    assert_eq!(
        (c[5].as_str(), c[6].as_str(), c[7].as_str(), c[8].as_str()),
        ("2026-03-02", "20:00:00", "2026-03-03 04:30:00", "510")
    );
    // Summer time: local is UTC+2.
    let rows = all(vec![
        ev(ANNA, "Åsa", S1, "i", In, "2026-07-01T21:30:00Z"),
        ev(ANNA, "Åsa", S1, "o", Out, "2026-07-02T05:00:00Z"),
    ]);
    let c = rows[0].cells();
    assert_eq!(
        (c[5].as_str(), c[6].as_str(), c[7].as_str()),
        ("2026-07-01", "23:30:00", "2026-07-02 07:00:00")
    );
}

#[test]
fn a_duplicate_is_listed_in_the_row_of_the_event_it_repeats() {
    let rows = all(vec![
        ev(ANNA, "Åsa", S1, "i1", In, "2026-03-02T07:00:00+01:00"),
        ev(ANNA, "Åsa", S1, "i2", In, "2026-03-02T07:01:00+01:00"),
        ev(ANNA, "Åsa", S1, "o1", Out, "2026-03-02T16:00:00+01:00"),
        ev(ANNA, "Åsa", S1, "o2", Out, "2026-03-02T16:00:30+01:00"),
    ]);
    assert_eq!(rows.len(), 1, "{rows:?}");
    let c = rows[0].cells();
    assert_eq!(c[11], "p1:i1 p1:o1 p1:i2 p1:o2");
    assert_eq!(c[13], "duplicate");
    assert_eq!(rows[0].anomalies.len(), 2);
}

#[test]
fn a_withdrawn_event_keeps_a_row_of_its_own() {
    let mut voided = ev(ANNA, "Åsa", S1, "o0", Out, "2026-03-02T12:00:00+01:00");
    voided.withdrawn = true;
    voided.corrections = 1;
    let mut rows = all(vec![
        ev(ANNA, "Åsa", S1, "i1", In, "2026-03-02T07:00:00+01:00"),
        voided,
        ev(ANNA, "Åsa", S1, "o1", Out, "2026-03-02T16:00:00+01:00"),
    ]);
    assert_eq!(rows.len(), 2);
    // Sorted by time within the person and day.
    assert_eq!(rows[0].kind, RowKind::Session);
    assert_eq!(rows[1].kind, RowKind::Withdrawn);
    let keys = corrected_events(&rows);
    assert_eq!(
        keys,
        vec![EventKey {
            partner_id: crate::testing::pid("p1"),
            event_id: "o0".into()
        }]
    );
    let entry = CorrectionEntry {
        seq: 1,
        partner_id: crate::testing::pid("p1"),
        event_id: "o0-void".into(),
        corrects: "o0".into(),
        received_at: "2026-03-02T12:10:05Z".parse().unwrap(),
        recorded_at: t("2026-03-02T13:10:00+01:00"),
        recorded_by: Some("Kalle Änglund".into()),
        source: Source::Manual,
        void: true,
        batch_id: "b2".into(),
        changes: json!({"withdrawn": {"from": false, "to": true}})
            .as_object()
            .unwrap()
            .clone(),
    };
    attach_corrections(&mut rows, &HashMap::from([(keys[0].clone(), vec![entry])]));
    let c = rows[1].cells();
    assert_eq!(
        (c[6].as_str(), c[7].as_str(), c[8].as_str()),
        ("", "12:00:00", "")
    );
    assert_eq!(c[11], "p1:o0");
    assert_eq!(c[12], "p1:o0 återkallad 2026-03-02 13:10:00 av Kalle Änglund genom p1:o0-void, mottagen 2026-03-02 13:10:05");
    assert_eq!(rows[1].to_json()["corrections"][0]["action"], "withdrawal");
    assert_eq!(rows[0].cells()[12], "");
}

#[test]
fn corrections_say_what_who_and_when() {
    let k = EventKey {
        partner_id: crate::testing::pid("p1"),
        event_id: "i1".into(),
    };
    let c = CorrectionEntry {
        seq: 1,
        partner_id: crate::testing::pid("p1"),
        event_id: "i1-fix".into(),
        corrects: "i1".into(),
        received_at: "2026-03-02T08:00:00Z".parse().unwrap(),
        recorded_at: t("2026-03-02T09:00:00+01:00"),
        recorded_by: None,
        source: Source::Manual,
        void: false,
        batch_id: "b".into(),
        changes: json!({"occurred_at": {"from": "2026-03-02T07:00:00+01:00", "to": "2026-03-02T06:55:00+01:00"}, "person_ref": {"from": "a", "to": "b"}})
            .as_object()
            .unwrap()
            .clone(),
    };
    assert_eq!(
        correction_text(&k, &c),
        "p1:i1 rättad 2026-03-02 09:00:00 av systemet p1 genom p1:i1-fix, mottagen 2026-03-02 09:00:00: occurred_at 2026-03-02 07:00:00 → 2026-03-02 06:55:00"
    );
}

#[test]
fn rows_sort_by_date_name_id_then_time() {
    let rows = all(vec![
        ev(BO, "Bo Ek", S1, "b1", In, "2026-03-02T06:00:00+01:00"),
        ev(BO, "Bo Ek", S1, "b2", Out, "2026-03-02T15:00:00+01:00"),
        ev(ANNA, "Åsa Öberg", S2, "a3", In, "2026-03-03T05:00:00+01:00"),
        ev(
            ANNA,
            "Åsa Öberg",
            S2,
            "a4",
            Out,
            "2026-03-03T09:00:00+01:00",
        ),
        ev(ANNA, "Åsa Öberg", S1, "a1", In, "2026-03-02T07:00:00+01:00"),
        ev(
            ANNA,
            "Åsa Öberg",
            S1,
            "a2",
            Out,
            "2026-03-02T09:00:00+01:00",
        ),
        ev(
            ANNA,
            "Åsa Öberg",
            S1,
            "a5",
            Out,
            "2026-03-02T12:00:00+01:00",
        ),
        ev(ANNA, "Anna Berg", S1, "x1", In, "2026-03-02T08:00:00+01:00")
            .with_person("199003011232"),
    ]);
    let order: Vec<String> = rows.iter().map(|r| r.event_ids().join(" ")).collect();
    // 2026-03-02: Anna Berg, Bo Ek, then Åsa Öberg (by time: session, then the lone out);
    // 2026-03-03: Åsa Öberg.
    assert_eq!(
        order,
        vec![
            "p1:x1",
            "p1:b1 p1:b2",
            "p1:a1 p1:a2",
            "p1:a5",
            "p1:a3 p1:a4"
        ]
    );
    assert_eq!(rows[3].kind, RowKind::MissingCheckIn);
    assert_eq!(rows[3].cells()[13], "missing_check_in");
}

impl LedgerEvent {
    fn with_person(mut self, id: &str) -> Self {
        self.person = PersonId::parse(id, None, None).unwrap();
        self.person_ref = PersonRef::from_stored(format!("ref-{id}"));
        self
    }
}

#[test]
fn ranges_and_chunks_list_every_event_exactly_once() {
    // A session 23:00–07:00 across a chunk boundary, and a duplicate of its check-out
    // right after midnight of the next chunk; a duplicate whose kept event lies before
    // the range.
    let events = vec![
        ev(ANNA, "Åsa", S1, "k", In, "2026-03-01T23:59:30+01:00"),
        ev(ANNA, "Åsa", S1, "kd", In, "2026-03-02T00:00:30+01:00"),
        ev(ANNA, "Åsa", S1, "i", In, "2026-03-02T23:00:00+01:00"),
        ev(ANNA, "Åsa", S1, "o", Out, "2026-03-03T07:00:00+01:00"),
        ev(ANNA, "Åsa", S1, "od", Out, "2026-03-03T07:01:00+01:00"),
    ];
    let range = span("2026-03-02T00:00:00+01:00", "2026-03-10T00:00:00+01:00");
    let whole = build_rows(events.clone(), range, range, &RowFilter::default(), now());
    let ids: Vec<String> = whole.iter().map(|r| r.event_ids().join(" ")).collect();
    // `k` is before the range, so its duplicate `kd` gets a row of its own.
    assert_eq!(ids, vec!["p1:kd", "p1:i p1:o p1:od"]);
    assert_eq!(whole[0].kind, RowKind::Duplicate);
    assert_eq!(whole[0].cells()[13], "duplicate");
    // Chunked at 2026-03-03 00:00: the session's row (and its duplicate) once, in the first chunk.
    let c1 = span("2026-03-02T00:00:00+01:00", "2026-03-03T00:00:00+01:00");
    let c2 = span("2026-03-03T00:00:00+01:00", "2026-03-10T00:00:00+01:00");
    let mut chunked: Vec<String> = Vec::new();
    for c in [c1, c2] {
        chunked.extend(
            build_rows(events.clone(), c, range, &RowFilter::default(), now())
                .iter()
                .map(|r| r.event_ids().join(" ")),
        );
    }
    assert_eq!(chunked, ids);
    // The range before: only `k` (its duplicate belongs to the next range).
    let before = span("2026-03-01T00:00:00+01:00", "2026-03-02T00:00:00+01:00");
    let b = build_rows(events, before, before, &RowFilter::default(), now());
    assert_eq!(
        b.iter()
            .map(|r| r.event_ids().join(" "))
            .collect::<Vec<_>>(),
        vec!["p1:k"]
    );
}

#[test]
fn filters_keep_one_site_or_one_person() {
    let events = vec![
        ev(ANNA, "Åsa", S1, "a1", In, "2026-03-02T07:00:00+01:00"),
        ev(ANNA, "Åsa", S1, "a2", Out, "2026-03-02T15:00:00+01:00"),
        ev(BO, "Bo", S2, "b1", In, "2026-03-02T07:00:00+01:00"),
        ev(BO, "Bo", S2, "b2", Out, "2026-03-02T15:00:00+01:00"),
    ];
    let s = span("2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z");
    let site = RowFilter {
        site: Some(SiteId::parse(S2).unwrap()),
        ..Default::default()
    };
    let rows = build_rows(events.clone(), s, s, &site, now());
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].cells()[3], "Bo");
    let person = RowFilter {
        person_ref: Some(PersonRef::from_stored(format!("ref-{ANNA}"))),
        ..Default::default()
    };
    let rows = build_rows(events.clone(), s, s, &person, now());
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].cells()[3], "Åsa");

    // employer=: only Bo's events name the employer; the last column carries it.
    let employer = crate::identity::Orgnr::parse("5560360793").unwrap();
    let events: Vec<LedgerEvent> = events
        .into_iter()
        .map(|mut e| {
            if e.person_name == "Bo" {
                e.employer_orgnr = Some(employer.clone());
            }
            e
        })
        .collect();
    let by_employer = RowFilter {
        employer: Some(employer.clone()),
        ..Default::default()
    };
    let rows = build_rows(events.clone(), s, s, &by_employer, now());
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].cells()[3], "Bo");
    assert_eq!(rows[0].cells()[14], "5560360793");
    assert_eq!(rows[0].to_json()["employer_orgnr"], "5560360793");
    let all = build_rows(events, s, s, &RowFilter::default(), now());
    let asa = all.iter().find(|r| r.cells()[3] == "Åsa").unwrap();
    assert_eq!(asa.cells()[14], "");
    assert!(asa.to_json()["employer_orgnr"].is_null());
}

#[test]
fn sources_and_partners_of_a_session_across_systems_are_both_named() {
    let mut o = ev(ANNA, "Åsa", S1, "o", Out, "2026-03-02T15:00:00+01:00");
    o.partner_id = crate::testing::pid("p2");
    o.source = Source::Manual;
    let rows = all(vec![
        ev(ANNA, "Åsa", S1, "i", In, "2026-03-02T07:00:00+01:00"),
        o,
    ]);
    let c = rows[0].cells();
    assert_eq!(
        (c[9].as_str(), c[10].as_str(), c[11].as_str()),
        ("card/manual", "p1/p2", "p1:i p2:o")
    );
}

#[test]
fn foreign_ids_are_shown_with_their_country() {
    let p = PersonId::parse("X1234567", Some("foreign"), Some("PL")).unwrap();
    assert_eq!(person_id_full(&p), "X1234567 (PL)");
}
