//! Spec §2.7, "the work a request does grows with the data it reads, never with the
//! calendar span it names": events spread thinly over ten years, read company-wide and
//! purged, with every store request counted.

use crate::auth::Claims;
use crate::governance::admin::{ActivationRequest, Admin, NewPartner};
use crate::governance::audit::{AuditTrail, ItemAuditTrail};
use crate::governance::purge::Purge;
use crate::identity::pseudonym::PseudonymKey;
use crate::identity::Orgnr;
use crate::intake::{DeliveryFormat, ImportService};
use crate::memory::{MemoryArchive, MemoryItemStore};
use crate::ports::{Clock, Item, ItemStore, Query, QueryPage, StoreError, WriteOp};
use crate::table::Ledger;
use crate::time::parse_rfc3339;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

const ORG: &str = "5569999997";

/// Counts every request a store is asked.
#[derive(Default)]
struct Counting {
    inner: MemoryItemStore,
    requests: AtomicUsize,
}

impl Counting {
    fn take(&self) -> usize {
        self.requests.swap(0, Ordering::SeqCst)
    }
}

#[async_trait]
impl ItemStore for Counting {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        self.requests.fetch_add(1, Ordering::SeqCst);
        self.inner.get(pk, sk).await
    }
    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        self.requests.fetch_add(1, Ordering::SeqCst);
        self.inner.transact(ops).await
    }
    async fn query(&self, q: Query) -> Result<QueryPage, StoreError> {
        self.requests.fetch_add(1, Ordering::SeqCst);
        self.inner.query(q).await
    }
}

struct At(Mutex<DateTime<Utc>>);

impl Clock for At {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

#[tokio::test]
async fn reads_and_purge_cost_what_the_data_costs_not_the_calendar_span() {
    let store = Arc::new(Counting::default());
    let clock = Arc::new(At(Mutex::new("2026-11-01T00:00:00Z".parse().unwrap())));
    let ledger = Ledger::new(store.clone(), PseudonymKey::new(b"unit-test-key".to_vec()));
    let archive = Arc::new(MemoryArchive::new());
    let admin = Admin::new(ledger.clone(), clock.clone());
    let import = ImportService::new(ledger.clone(), archive.clone(), clock.clone());
    let op = Claims {
        sub: "op".into(),
        roles: vec!["operator".into()],
        ..Default::default()
    };
    admin
        .accredit_partner(
            &op,
            NewPartner {
                partner_id: Some("ledger-1".into()),
                name: Some("L".into()),
                feed_url: None,
            },
        )
        .await
        .unwrap();
    let company_admin = Claims {
        sub: "adm".into(),
        roles: vec!["company_admin".into()],
        companies: vec![ORG.into()],
        ..Default::default()
    };
    let orgnr = Orgnr::parse(ORG).unwrap();
    admin
        .activate(
            &company_admin,
            &orgnr,
            ActivationRequest {
                terms_version: Some("1".into()),
                company_name: Some("B".into()),
                fiscal_year_end_month: None,
            },
        )
        .await
        .unwrap();
    // Two events a year, 2016–2026: 22 events on 22 days over almost 11 years.
    let events: Vec<_> =
        (2016..=2026)
            .flat_map(|y| {
                ["in", "out"].map(|dir| {
                let at = format!("{y}-03-02T{}:00:00+01:00", if dir == "in" { "07" } else { "16" });
                json!({
                    "event_id": format!("e{y}-{dir}"), "company_orgnr": ORG, "company_name": "B",
                    "site_id": "STH2026000001", "person_id": "198112189876", "person_name": "Åsa",
                    "direction": dir, "occurred_at": at, "recorded_at": at,
                })
            })
            })
            .collect();
    let partner = Claims {
        sub: "p".into(),
        roles: vec!["partner".into()],
        partner_id: Some("ledger-1".into()),
        ..Default::default()
    };
    let body = json!({"batch_id": "spread", "events": events}).to_string();
    let answer = import
        .push(&partner, DeliveryFormat::Json, body.as_bytes(), None)
        .await
        .unwrap();
    assert_eq!(answer.accepted, 22, "{answer:?}");

    let ck = ledger.company_key(&orgnr);
    store.take();
    let t = |s| parse_rfc3339(s).unwrap();
    let read = ledger
        .company_events(&ck, &t("2016-01-01T00:00:00Z"), &t("2027-11-01T00:00:00Z"))
        .await
        .unwrap();
    assert_eq!(read.len(), 22);
    let requests = store.take();
    // One query of the day index, one per day that holds events (11 days: in and out
    // fall on the same local day) — not one per calendar day (~4,300).
    assert!(
        requests <= 1 + 11,
        "{requests} store requests for 11 days of data"
    );

    // The item-by-item comparison of two indexes (the rebuild check) walks the same
    // day index: per index, 4 directory partitions, 1 person and 1 site timeline, 11 day
    // timelines and 22 event partitions — not one day timeline per calendar day.
    let (diffs, compared) =
        crate::intake::rebuild::compare_company_counted(&ledger, &ledger, &orgnr)
            .await
            .unwrap();
    assert!(diffs.is_empty(), "{diffs:?}");
    assert!(compared >= 22 * 2, "{compared} items compared");
    let requests = store.take();
    assert!(
        requests <= 2 * (4 + 2 + 11 + 22),
        "{requests} store requests to compare 11 days of data"
    );

    // In 2036 every event's retention (at most 2028-12-31) has ended. The purge walks the
    // days that hold events, not every day since 2016.
    *clock.0.lock().unwrap() = "2036-06-01T00:00:00Z".parse().unwrap();
    let audit: Arc<dyn AuditTrail> = Arc::new(ItemAuditTrail::new(store.clone(), archive.clone()));
    let purge = Purge::new(ledger.clone(), archive.clone(), audit, clock.clone());
    store.take();
    let summary = purge.run_once().await.unwrap();
    assert_eq!(summary.events_purged, 22);
    let requests = store.take();
    assert!(
        requests < 400,
        "{requests} store requests to purge 22 events on 11 days"
    );
    assert!(ledger.data_days(&ck, None, None).await.unwrap().is_empty());
}
