//! Spec §6 analysis of one company's year: 1,000,000 events, 2,000 people, 40 sites.
//! Target: ≤ 1 s on one core. Prints figures; asserts nothing.
//!
//!     cargo bench -p stamp-domain --bench analysis

use chrono::{Duration, TimeZone, Utc};
use stamp_domain::identity::{PersonId, SiteId};
use stamp_domain::model::{Direction, LedgerEvent};
use stamp_domain::reads::analysis::analyse;
use stamp_domain::testing::card_event;
use std::time::Instant;

fn ledger(people: usize, sites: usize, events: usize) -> Vec<LedgerEvent> {
    let person = PersonId::parse("198112189876", None, None).unwrap();
    let site_ids: Vec<SiteId> = (0..sites)
        .map(|s| SiteId::parse(&format!("SITE{s:09}")).unwrap())
        .collect();
    let start = Utc.with_ymd_and_hms(2026, 1, 1, 6, 0, 0).unwrap();
    let days = events / (people * 2);
    let mut out = Vec::with_capacity(events);
    let mut seed = 0x2545F4914F6CDD1Du64;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for p in 0..people {
        let site = &site_ids[p % sites];
        for d in 0..days {
            let inn = start + Duration::days(d as i64) + Duration::minutes((rnd() % 90) as i64);
            let out_at = inn + Duration::minutes(420 + (rnd() % 180) as i64);
            for (k, (dir, at)) in [(Direction::In, inn), (Direction::Out, out_at)]
                .into_iter()
                .enumerate()
            {
                // About one event in 200 is a repeat or lost, so the rules have work to do.
                if rnd() % 400 == 0 {
                    continue;
                }
                out.push(card_event(
                    format!("{p}-{d}-{k}"),
                    format!("p{p:05}"),
                    person.clone(),
                    "N",
                    site.clone(),
                    dir,
                    at.fixed_offset(),
                ));
            }
        }
    }
    out
}

fn main() {
    let events = ledger(2_000, 40, 1_000_000);
    let now = Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap();
    let mut best = f64::MAX;
    let mut result = None;
    for _ in 0..3 {
        let t = Instant::now();
        let a = analyse(&events, now);
        best = best.min(t.elapsed().as_secs_f64());
        result = Some(a);
    }
    let a = result.unwrap();
    println!(
        "analysis: {} events, 2000 people, 40 sites, one year: {:.3} s (best of 3, one thread); {} sessions, {} anomalies",
        events.len(),
        best,
        a.sessions.len(),
        a.anomalies.len()
    );
}
