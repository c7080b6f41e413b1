//! The aggregation is incremental: a refresh recomputes the days an import touched (and
//! their neighbours), reading those days' events only, whatever the history.

use super::*;
use crate::governance::admin::{ActivationRequest, Admin, NewPartner};
use crate::identity::pseudonym::PseudonymKey;
use crate::intake::{DeliveryFormat, ImportService};
use crate::memory::{MemoryArchive, MemoryItemStore};
use chrono::{DateTime, Utc};
use serde_json::json;

struct Fixed(DateTime<Utc>);

impl Clock for Fixed {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

const ORG: &str = "5569999997";

fn day_events(day: NaiveDate, people: std::ops::Range<u32>, tag: &str) -> Vec<Value> {
    people
        .flat_map(|p| {
            ["in", "out"].into_iter().map(move |dir| {
                let hour = if dir == "in" { 7 } else { 15 };
                json!({
                    "event_id": format!("{tag}-{day}-{p}-{dir}"), "company_orgnr": ORG, "company_name": "B",
                    "site_id": "STH2026000001", "person_id": format!("19900101{:04}", 1000 + p),
                    "person_name": format!("P{p}"), "direction": dir,
                    "occurred_at": format!("{day}T{hour:02}:00:00+01:00"),
                    "recorded_at": format!("{day}T{hour:02}:00:00+01:00"),
                })
            })
        })
        .collect()
}

async fn world() -> (ImportService, Statistics, Ledger) {
    world_on(Arc::new(MemoryItemStore::new())).await
}

async fn world_on(store: Arc<MemoryItemStore>) -> (ImportService, Statistics, Ledger) {
    let clock: Arc<dyn Clock> = Arc::new(Fixed("2026-06-01T12:00:00Z".parse().unwrap()));
    let ledger = Ledger::new(store, PseudonymKey::new(b"k".to_vec()));
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
    admin
        .activate(
            &ca,
            &Orgnr::parse(ORG).unwrap(),
            ActivationRequest {
                terms_version: Some("1".into()),
                company_name: Some("B".into()),
                fiscal_year_end_month: None,
            },
        )
        .await
        .unwrap();
    let archive = Arc::new(MemoryArchive::new());
    (
        ImportService::new(ledger.clone(), archive, clock.clone()),
        Statistics::new(ledger.clone(), clock),
        ledger,
    )
}

async fn push(import: &ImportService, id: &str, events: Vec<Value>) {
    let body = json!({ "batch_id": id, "events": events }).to_string();
    let a = import
        .import(
            &crate::testing::pid("p1"),
            DeliveryFormat::Json,
            body.as_bytes(),
            None,
        )
        .await
        .unwrap();
    assert_eq!(a.rejected, vec![], "{a:?}");
}

#[tokio::test]
async fn a_refresh_reads_only_the_touched_days() {
    let (import, stats, ledger) = world().await;
    let ck = ledger.company_key(&Orgnr::parse(ORG).unwrap());
    // History: 60 days × 10 people.
    let first = NaiveDate::from_ymd_opt(2026, 2, 2).unwrap();
    let mut history = Vec::new();
    for d in 0..60 {
        history.extend(day_events(first + chrono::Duration::days(d), 0..10, "h"));
    }
    for (n, chunk) in history.chunks(2000).enumerate() {
        push(&import, &format!("h{n}"), chunk.to_vec()).await;
    }
    let full = stats.refresh_company(&ck).await.unwrap();
    assert!(full.days >= 60, "{full:?}");
    assert!(full.events_read >= 1200, "{full:?}");
    // Nothing new: only the last two days are looked at again (open check-ins age).
    let idle = stats.refresh_company(&ck).await.unwrap();
    assert_eq!(idle.days, 2, "{idle:?}");
    assert_eq!(idle.events_read, 0, "{idle:?}");

    // One late event on one old day: that day and its neighbours, and nothing else.
    let late_day = first + chrono::Duration::days(30);
    push(&import, "late", day_events(late_day, 10..11, "late")).await;
    let inc = stats.refresh_company(&ck).await.unwrap();
    assert_eq!(inc.days, 3 + 2, "{inc:?}");
    assert!(
        inc.events_read <= 5 * 22,
        "read {} events for one late day",
        inc.events_read
    );

    let rows = ledger.day_stats(&ck, late_day, late_day).await.unwrap();
    let total = rows.iter().find(|(sk, _)| sk.ends_with("#*")).unwrap();
    assert_eq!(total.1["check_ins"], 11);
    assert_eq!(total.1["sessions"], 11);
}

#[tokio::test]
async fn a_read_only_reads_and_includes_a_push_answered_before_it() {
    let store = Arc::new(MemoryItemStore::new());
    let (import, stats, ledger) = world_on(store.clone()).await;
    let orgnr = Orgnr::parse(ORG).unwrap();
    let ck = ledger.company_key(&orgnr);
    // The activating administrator (the company's first grant).
    let reader = Claims {
        sub: "a".into(),
        roles: vec!["company_admin".into()],
        companies: vec![ORG.into()],
        ..Default::default()
    };
    let day = NaiveDate::from_ymd_opt(2026, 5, 4).unwrap();
    let q = StatisticsQuery {
        from: Some("2026-05-04"),
        to: Some("2026-05-05"),
        granularity: Granularity::Day,
        site: None,
        employer: None,
        cursor: None,
        limit: 100,
    };
    let total = |p: &StatisticsPage| {
        let t = p.rows.iter().find(|r| r.site_id.is_none()).unwrap();
        (t.persons, t.check_ins, t.sessions)
    };

    // Before any refresh: computed from the ledger, and nothing says it was stored.
    push(&import, "a", day_events(day, 0..3, "a")).await;
    let before = store.dump();
    let first = stats.query(&reader, &orgnr, &q).await.unwrap();
    assert_eq!(store.dump(), before, "a statistics read wrote to the store");
    assert_eq!(total(&first), (3, 3, 3));
    assert_eq!(first.refreshed_at, None);

    // The job stores the aggregates; a push after it is in the very next read, which
    // still writes nothing and says the stored part is from that refresh.
    stats.refresh_company(&ck).await.unwrap();
    let refreshed = stats.query(&reader, &orgnr, &q).await.unwrap().refreshed_at;
    assert!(refreshed.is_some());
    push(&import, "b", day_events(day, 3..5, "b")).await;
    let before = store.dump();
    let second = stats.query(&reader, &orgnr, &q).await.unwrap();
    assert_eq!(store.dump(), before, "a statistics read wrote to the store");
    assert_eq!(total(&second), (5, 5, 5));
    assert_eq!(second.refreshed_at, refreshed);

    // Once the job has run, the stored rows answer the same.
    stats.refresh_company(&ck).await.unwrap();
    let third = stats.query(&reader, &orgnr, &q).await.unwrap();
    assert_eq!(third.rows, second.rows);
    let rows = ledger.day_stats(&ck, day, day).await.unwrap();
    let stored = rows.iter().find(|(sk, _)| sk.ends_with("#*")).unwrap();
    assert_eq!(stored.1["check_ins"], 5);
}
