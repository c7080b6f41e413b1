//! Spec §7 incremental statistics: the cost of refreshing after 1,000 new events must
//! not grow with the history. Prints the refresh time and events read at a history of
//! 10,000 and of 1,000,000 events, both at the same daily volume (about 2,740 events a
//! day: 1,000,000 is one year of it, 10,000 under four days). What a refresh reads is the
//! touched days and their neighbours, whatever lies before or after. Asserts nothing.
//!
//!     cargo bench -p stamp-domain --bench statistics

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::json;
use stamp_domain::auth::Claims;
use stamp_domain::governance::admin::{ActivationRequest, Admin, NewPartner};
use stamp_domain::identity::pseudonym::PseudonymKey;
use stamp_domain::identity::{Orgnr, PersonId, SiteId};
use stamp_domain::intake::{DeliveryFormat, ImportService};
use stamp_domain::memory::{MemoryArchive, MemoryItemStore};
use stamp_domain::model::{Direction, LedgerEvent, Source};
use stamp_domain::ports::{Clock, ItemStore, WriteOp};
use stamp_domain::reads::statistics::Statistics;
use stamp_domain::table::Ledger;
use std::sync::Arc;
use std::time::Instant;

struct Fixed(DateTime<Utc>);
impl Clock for Fixed {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

const ORG: &str = "5569999997";

async fn run(history: usize) {
    let clock: Arc<dyn Clock> =
        Arc::new(Fixed(Utc.with_ymd_and_hms(2027, 1, 10, 12, 0, 0).unwrap()));
    let store = Arc::new(MemoryItemStore::new());
    let ledger = Ledger::new(store.clone(), PseudonymKey::new(b"bench".to_vec()));
    let admin = Admin::new(ledger.clone(), clock.clone());
    let op = Claims {
        sub: "op".into(),
        roles: vec!["operator".into()],
        ..Default::default()
    };
    admin
        .accredit_partner(
            &op,
            NewPartner {
                partner_id: Some("p1".into()),
                name: Some("P".into()),
                feed_url: None,
            },
        )
        .await
        .unwrap();
    let ca = Claims {
        sub: "a".into(),
        roles: vec!["company_admin".into()],
        companies: vec![ORG.into()],
        ..Default::default()
    };
    let orgnr = Orgnr::parse(ORG).unwrap();
    admin
        .activate(
            &ca,
            &orgnr,
            ActivationRequest {
                terms_version: Some("1".into()),
                company_name: Some("B".into()),
                fiscal_year_end_month: None,
            },
        )
        .await
        .unwrap();

    // The history, written straight into the index (the refresh reads day partitions).
    let person = PersonId::parse("198112189876", None, None).unwrap();
    let site = SiteId::parse("STH2026000001").unwrap();
    let start = Utc.with_ymd_and_hms(2026, 1, 1, 6, 0, 0).unwrap();
    let per_day = 2740;
    let mut written = 0;
    let mut ops = Vec::new();
    let mut edge = Vec::new();
    'days: for d in 0..366 {
        for k in 0..per_day {
            if written == history {
                break 'days;
            }
            let at = (start + Duration::days(d) + Duration::minutes((k % 2 * 480) as i64))
                .fixed_offset();
            let e = LedgerEvent {
                partner_id: stamp_domain::testing::pid("p1"),
                event_id: format!("h{d}-{k}"),
                company_orgnr: orgnr.clone(),
                company_name: "B".into(),
                person_ref: stamp_domain::identity::pseudonym::PersonRef::from_stored(format!(
                    "p{}",
                    k / 2
                )),
                person: person.clone(),
                person_name: "N".into(),
                site_id: site.clone(),
                direction: if k % 2 == 0 {
                    Direction::In
                } else {
                    Direction::Out
                },
                occurred_at: at,
                source: Source::Card,
                recorded_by: None,
                card_number: None,
                employer_orgnr: None,
                recorded_at: at,
                first_occurred_at: at,
                received_at: at.with_timezone(&Utc),
                withdrawn: false,
                corrections: 0,
            };
            if written == 0 {
                edge.push(e.clone());
            }
            let record = stamp_domain::model::EventRecord {
                partner_id: stamp_domain::testing::pid("p1"),
                fields: serde_json::from_value(json!({
                    "event_id": e.event_id, "company_orgnr": ORG, "company_name": "B", "site_id": "STH2026000001",
                    "person": person, "person_name": "N", "direction": e.direction, "occurred_at": at, "source": "card"
                }))
                .unwrap(),
                received_at: at.with_timezone(&Utc),
                batch_id: "h".into(),
                archive_key: "h".into(),
            };
            for op in ledger.new_events_ops(&[(record, e.clone())]).unwrap().0 {
                if let WriteOp::Put { item, .. } = &op {
                    if item.pk.contains("#D#") {
                        ops.push(op);
                    }
                }
            }
            if ops.len() >= 100 {
                store.transact(std::mem::take(&mut ops)).await.unwrap();
            }
            written += 1;
        }
    }
    store.transact(ops).await.unwrap();
    ledger.note_in_directories(&edge).await.unwrap();

    let stats = Statistics::new(ledger.clone(), clock.clone());
    let ck = ledger.company_key(&orgnr);
    // 1,000 new events on one day in the middle of the history.
    let import = ImportService::new(ledger.clone(), Arc::new(MemoryArchive::new()), clock);
    let days_of_history = (history / per_day).max(1) as i64;
    let day = (start + Duration::days(days_of_history / 2)).date_naive();
    let events: Vec<_> = (0..1000)
        .map(|i| {
            let dir = if i % 2 == 0 { "in" } else { "out" };
            let hour = if i % 2 == 0 { 7 } else { 15 };
            json!({
                "event_id": format!("new-{i}"), "company_orgnr": ORG, "company_name": "B", "site_id": "STH2026000001",
                "person_id": format!("1990010{:05}", i / 2), "person_name": "Ny", "direction": dir,
                "occurred_at": format!("{day}T{hour:02}:00:00+01:00"), "recorded_at": format!("{day}T{hour:02}:00:00+01:00"),
            })
        })
        .collect();
    let body = json!({ "batch_id": "new", "events": events }).to_string();
    import
        .import(
            &stamp_domain::testing::pid("p1"),
            DeliveryFormat::Json,
            body.as_bytes(),
            None,
        )
        .await
        .unwrap();
    let t = Instant::now();
    let s = stats.refresh_company(&ck).await.unwrap();
    println!(
        "statistics: history {:>9} events, refresh after 1,000 new events: {:>7.1} ms, {} days recomputed, {} events read",
        written,
        t.elapsed().as_secs_f64() * 1000.0,
        s.days,
        s.events_read
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    run(10_000).await;
    run(1_000_000).await;
}
