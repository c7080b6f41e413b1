//! `present`: who is on site at a full site, as the route answers it (issue 11).

use super::*;
use async_trait::async_trait;
use stamp_domain::ports::{Item, ItemStore, Query, QueryPage, StoreError, WriteOp};
use std::sync::atomic::{AtomicU64, Ordering};

/// Counts the requests that reach a store (get, transaction, query page).
pub(crate) struct CountingStore {
    pub(crate) inner: Arc<dyn ItemStore>,
    pub(crate) requests: AtomicU64,
}

#[async_trait]
impl ItemStore for CountingStore {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.inner.get(pk, sk).await
    }
    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.inner.transact(ops).await
    }
    async fn query(&self, q: Query) -> Result<QueryPage, StoreError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.inner.query(q).await
    }
}

pub async fn present(people: usize, store: Store) {
    use stamp_domain::identity::SiteId;
    use stamp_domain::reads::queries::Queries;
    let dir = tempfile::tempdir().expect("temp dir");
    let (inner, archive) = ports(store, dir.path()).await;
    let counting = Arc::new(CountingStore {
        inner,
        requests: AtomicU64::new(0),
    });
    let ledger = Ledger::new(counting.clone(), PseudonymKey::new(b"bench".to_vec()));
    ready(&ledger, None, PARTNER).await;
    let import = ImportService::new(ledger.clone(), archive, Arc::new(SystemClock));
    let site = "STH2026000001";
    let other = "GBG2026000002";
    // A week of the site: day shift 06–15 and night shift 21–05, 1/8 of the people
    // ending at the other site; on the last day the day shift is still on site at noon.
    let start = chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
    let mut events = Vec::new();
    for p in 0..people {
        for d in 0..7u64 {
            let day = start + chrono::Days::new(d);
            let night = p % 2 == 1;
            let (h_in, h_out, out_day) = if night {
                (21, 5, day + chrono::Days::new(1))
            } else {
                (6, 15, day)
            };
            let at =
                |day: chrono::NaiveDate, h: u32| format!("{day}T{h:02}:{:02}:00+01:00", p % 50);
            let ev = |id: String, site: &str, dir: &str, at: String| {
                json!({
                    "event_id": id, "company_orgnr": ORG, "company_name": "Bänkbygg AB",
                    "site_id": site, "person_id": stamp_testdata::personnummer_nth(p), "person_name": format!("Person {p:05}"),
                    "employer_orgnr": if p % 3 == 0 { json!("5560360793") } else { json!(null) },
                    "direction": dir, "occurred_at": at.clone(), "recorded_at": at,
                })
            };
            events.push(ev(format!("p{p}d{d}i"), site, "in", at(day, h_in)));
            if d == 6 && !night {
                continue;
            }
            let out_site = if p % 8 == 0 { other } else { site };
            events.push(ev(
                format!("p{p}d{d}o"),
                out_site,
                "out",
                at(out_day, h_out),
            ));
        }
    }
    let loading = Instant::now();
    for (i, chunk) in events.chunks(5000).enumerate() {
        let body =
            serde_json::to_vec(&json!({"batch_id": format!("present-{i}"), "events": chunk}))
                .expect("json");
        let answer = import
            .import(
                &stamp_domain::testing::pid(PARTNER),
                stamp_domain::intake::DeliveryFormat::Json,
                &body,
                None,
            )
            .await
            .expect("import");
        assert!(answer.rejected.is_empty(), "rejected events");
    }
    eprintln!(
        "loaded {} events of {people} people in {:.1} s",
        events.len(),
        loading.elapsed().as_secs_f64()
    );
    let queries = Queries::new(ledger.clone(), Arc::new(SystemClock));
    let user = Claims {
        sub: "adm".into(),
        roles: vec!["company_admin".into()],
        companies: vec![ORG.into()],
        ..Default::default()
    };
    let at = stamp_domain::time::parse_rfc3339("2026-03-08T12:00:00+01:00").expect("time");
    let orgnr = Orgnr::parse(ORG).expect("orgnr");
    let site_id = SiteId::parse(site).expect("site");
    for round in 0..3 {
        let before = counting.requests.load(Ordering::Relaxed);
        let started = Instant::now();
        let answer = queries
            .present(&user, &orgnr, &site_id, Some(at), None)
            .await
            .expect("present");
        let took = started.elapsed();
        let requests = counting.requests.load(Ordering::Relaxed) - before;
        println!(
            "present ({store:?}, round {round}): {} of {people} people on site, {requests} store requests, {:.1} ms",
            answer.people.len(),
            took.as_secs_f64() * 1000.0
        );
    }
}
