//! Properties of spec §6 over generated ledgers: the answer does not depend on input
//! order; every kept event ends up paired, open or flagged; analysing the kept events
//! again changes nothing.

use super::*;
use crate::identity::{Orgnr, PersonId, SiteId};
use crate::model::Source;
use proptest::prelude::*;
use std::collections::BTreeSet;

const SITES: [&str; 2] = ["AAAAAAAAAAAA1", "BBBBBBBBBBBB2"];

fn base() -> DateTime<Utc> {
    "2026-03-02T05:00:00Z".parse().unwrap()
}

/// (person, site, direction, seconds after the base, recorded delay in seconds)
fn arb_event() -> impl Strategy<Value = (u8, u8, bool, i64, i64)> {
    // Coarse times make collisions (same instant, within 120 s) common.
    (
        0u8..3,
        0u8..2,
        any::<bool>(),
        (0i64..400).prop_map(|m| m * 37),
        -600i64..5000,
    )
}

fn build(raw: &[(u8, u8, bool, i64, i64)]) -> Vec<LedgerEvent> {
    raw.iter()
        .enumerate()
        .map(|(i, &(p, s, inn, secs, delay))| {
            let at = (base() + Duration::seconds(secs)).fixed_offset();
            LedgerEvent {
                partner_id: crate::testing::pid("p"),
                event_id: format!("e{i:04}"),
                company_orgnr: Orgnr::parse("5569999997").unwrap(),
                company_name: "B".into(),
                person_ref: crate::identity::pseudonym::PersonRef::from_stored(format!(
                    "person{p}"
                )),
                person: PersonId::parse("198112189876", None, None).unwrap(),
                person_name: "N".into(),
                site_id: SiteId::parse(SITES[s as usize]).unwrap(),
                direction: if inn { Direction::In } else { Direction::Out },
                occurred_at: at,
                source: Source::Card,
                recorded_by: None,
                card_number: None,
                employer_orgnr: None,
                recorded_at: at + Duration::seconds(delay),
                first_occurred_at: at,
                received_at: at.with_timezone(&Utc),
                withdrawn: false,
                corrections: 0,
            }
        })
        .collect()
}

type Named = (
    BTreeSet<(String, String)>,
    BTreeSet<(String, String, Vec<String>)>,
    BTreeSet<(String, String)>,
);

/// The analysis named by event ids, independent of positions.
fn named(events: &[LedgerEvent], a: &Analysis) -> Named {
    let id = |i: usize| events[i].event_id.clone();
    (
        a.sessions
            .iter()
            .map(|s| (id(s.check_in), id(s.check_out)))
            .collect(),
        a.anomalies
            .iter()
            .map(|x| {
                (
                    x.kind.as_str().to_string(),
                    id(x.event),
                    x.related.iter().map(|&r| id(r)).collect(),
                )
            })
            .collect(),
        a.unpaired
            .iter()
            .map(|(i, u)| (id(*i), format!("{u:?}")))
            .collect(),
    )
}

fn now() -> DateTime<Utc> {
    base() + Duration::days(3)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn order_does_not_matter(raw in prop::collection::vec(arb_event(), 0..40), seed in any::<u64>()) {
        let events = build(&raw);
        let expected = named(&events, &analyse(&events, now()));
        let mut shuffled = events.clone();
        // A deterministic shuffle from the seed.
        let mut x = seed | 1;
        for i in (1..shuffled.len()).rev() {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            shuffled.swap(i, (x % (i as u64 + 1)) as usize);
        }
        prop_assert_eq!(named(&shuffled, &analyse(&shuffled, now())), expected);
    }

    #[test]
    fn every_kept_event_is_paired_open_or_flagged(raw in prop::collection::vec(arb_event(), 0..40)) {
        let events = build(&raw);
        let a = analyse(&events, now());
        let duplicates: BTreeSet<usize> = a.duplicates.iter().map(|d| d.0).collect();
        let mut placed = vec![0u32; events.len()];
        for s in &a.sessions {
            placed[s.check_in] += 1;
            placed[s.check_out] += 1;
            prop_assert_eq!(events[s.check_in].direction, Direction::In);
            prop_assert_eq!(events[s.check_out].direction, Direction::Out);
            prop_assert_eq!(&events[s.check_in].site_id, &events[s.check_out].site_id);
            let len = events[s.check_out].occurred_at - events[s.check_in].occurred_at;
            prop_assert!(len >= Duration::zero() && len <= MAX_SESSION);
        }
        for &(i, why) in &a.unpaired {
            placed[i] += 1;
            let kind = match why {
                Unpaired::MissingCheckIn => Some(AnomalyKind::MissingCheckIn),
                Unpaired::MissingCheckOut => Some(AnomalyKind::MissingCheckOut),
                Unpaired::OnSite => None,
            };
            if let Some(k) = kind {
                prop_assert!(a.anomalies.iter().any(|x| x.kind == k && x.event == i));
            }
        }
        for (i, n) in placed.iter().enumerate() {
            let expected = if duplicates.contains(&i) { 0 } else { 1 };
            prop_assert_eq!(*n, expected, "event {} placed {} times", i, n);
        }
    }

    #[test]
    fn analysing_the_kept_events_again_changes_nothing(raw in prop::collection::vec(arb_event(), 0..40)) {
        let events = build(&raw);
        let a = analyse(&events, now());
        let duplicates: BTreeSet<usize> = a.duplicates.iter().map(|d| d.0).collect();
        let kept: Vec<LedgerEvent> = events.iter().enumerate().filter(|(i, _)| !duplicates.contains(i)).map(|(_, e)| e.clone()).collect();
        let again = analyse(&kept, now());
        prop_assert!(again.duplicates.is_empty());
        let (s1, an1, u1) = named(&events, &a);
        let (s2, an2, u2) = named(&kept, &again);
        prop_assert_eq!(s1, s2);
        prop_assert_eq!(u1, u2);
        let kept_ids: BTreeSet<String> = kept.iter().map(|e| e.event_id.clone()).collect();
        let an1: BTreeSet<_> = an1.into_iter().filter(|(k, id, _)| k != "duplicate" && kept_ids.contains(id)).collect();
        prop_assert_eq!(an1, an2);
    }
}
