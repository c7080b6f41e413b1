//! `round-trips`: the store requests and the *sequential* round trips of every route
//! (issue 15 item 2, docs/data-model.md "Round trips per route").
//!
//! The app is stamp-local's router over the in-memory store wrapped in a store that
//! waits `--delay-ms` before every call, counts them and records when each started and
//! ended. The round trips one after another are the longest chain of calls in which each
//! started after the one before it ended ([`stamp_testdata::calls::sequential`]; calls
//! made at once overlap and count once). Each route is also timed without the delay and
//! with it.

use super::*;
use async_trait::async_trait;
use axum::body::Body;
use stamp_domain::ports::{Item, ItemStore, Query, QueryPage, StoreError, WriteOp};
use std::sync::atomic::AtomicBool;
use std::time::Duration;
use tower::ServiceExt;

struct DelayStore {
    inner: MemoryItemStore,
    delay: Duration,
    on: AtomicBool,
    calls: AtomicU64,
    /// When each call started and ended (for the round-trip chain).
    spans: std::sync::Mutex<Vec<(Instant, Instant)>>,
}

impl DelayStore {
    /// Runs one store call behind the delay (when on), counted and timed.
    async fn call<T>(&self, call: impl std::future::Future<Output = T>) -> T {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let start = Instant::now();
        if self.on.load(Ordering::Relaxed) {
            tokio::time::sleep(self.delay).await;
        }
        let out = call.await;
        self.spans
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((start, Instant::now()));
        out
    }

    fn take_spans(&self) -> Vec<(Instant, Instant)> {
        std::mem::take(&mut *self.spans.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

#[async_trait]
impl ItemStore for DelayStore {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        self.call(self.inner.get(pk, sk)).await
    }
    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        self.call(self.inner.transact(ops)).await
    }
    async fn query(&self, q: Query) -> Result<QueryPage, StoreError> {
        self.call(self.inner.query(q)).await
    }
}

struct App {
    router: axum::Router,
    store: Arc<DelayStore>,
}

impl App {
    /// One request: status, store calls, time, and the answer.
    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<String>,
    ) -> (u16, u64, Duration, serde_json::Value) {
        self.store.take_spans();
        let mut req = axum::http::Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        let req = req
            .body(body.map_or_else(Body::empty, Body::from))
            .expect("request");
        let before = self.store.calls.load(Ordering::Relaxed);
        let t = Instant::now();
        let res = self.router.clone().oneshot(req).await.expect("infallible");
        let status = res.status().as_u16();
        let bytes = axum::body::to_bytes(res.into_body(), 64 << 20)
            .await
            .unwrap_or_default();
        let took = t.elapsed();
        let calls = self.store.calls.load(Ordering::Relaxed) - before;
        let value = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        (status, calls, took, value)
    }
}

fn mint(key: &[u8], claims: Claims) -> String {
    stamp_local::token::mint(key, &claims, chrono::Duration::hours(1)).expect("token")
}

pub async fn round_trips(delay_ms: u64, people: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(DelayStore {
        inner: MemoryItemStore::new(),
        delay: Duration::from_millis(delay_ms),
        on: AtomicBool::new(false),
        calls: AtomicU64::new(0),
        spans: Default::default(),
    });
    let state = stamp_api::AppState::new(
        store.clone(),
        Arc::new(stamp_adapters::FolderArchive::new(
            dir.path().join("archive"),
        )),
        PseudonymKey::new(b"round-trips".to_vec()),
        Arc::new(SystemClock),
    );
    let key = Arc::new(b"round-trips-signing-key-0123456789".to_vec());
    let app = App {
        router: stamp_local::http_app(state.clone(), key.clone()),
        store: store.clone(),
    };
    let claims = |sub: &str, role: &str| Claims {
        sub: sub.into(),
        roles: vec![role.into()],
        ..Claims::default()
    };
    let op = mint(&key, claims("rt-operator", "operator"));
    let admin = mint(
        &key,
        Claims {
            companies: vec![ORG.into()],
            ..claims("rt-admin", "company_admin")
        },
    );
    let partner = mint(
        &key,
        Claims {
            partner_id: Some(PARTNER.into()),
            ..claims("rt-partner", "partner")
        },
    );
    let born = chrono::NaiveDate::from_ymd_opt(1980, 5, 17).expect("date");
    let employee = mint(
        &key,
        Claims {
            person_id: Some(stamp_testdata::personnummer(born, 214)),
            ..claims("rt-employee", "employee")
        },
    );
    // Set-up: the partner, the company, a month of `people` people at two sites.
    let setup: [(&str, String, &str, serde_json::Value); 3] = [
        (
            "POST",
            "/v1/partners".into(),
            &op,
            json!({"partner_id": PARTNER, "name": "Round trips"}),
        ),
        (
            "PUT",
            format!("/v1/companies/{ORG}/activation"),
            &admin,
            json!({"terms_version": "2026-01", "company_name": "Bänkbygg AB", "fiscal_year_end_month": 12}),
        ),
        (
            "PUT",
            format!("/v1/companies/{ORG}/users/rt-user"),
            &admin,
            json!({"roles": ["company_user"]}),
        ),
    ];
    for (m, p, t, b) in setup {
        let (s, ..) = app.call(m, &p, Some(t), Some(b.to_string())).await;
        assert!((200..300).contains(&s), "{m} {p}: {s}");
    }
    let cfg = stamp_testdata::SimConfig {
        seed: 7,
        companies: vec![(ORG.into(), "Bänkbygg AB".into())],
        people,
        sites: 2,
        days: 30,
        end: chrono::Utc::now().date_naive(),
        corrections: true,
        prefix: "rt".into(),
    };
    let events = stamp_testdata::generate(&cfg, ORG, "Bänkbygg AB");
    let total = events.len();
    let (fill, last) = events.split_at(total.saturating_sub(100));
    for (i, chunk) in fill.chunks(2000).enumerate() {
        let body = json!({"batch_id": format!("fill-{i}"), "events": chunk}).to_string();
        let (s, ..) = app
            .call("POST", "/partner/v1/batches", Some(&partner), Some(body))
            .await;
        assert_eq!(s, 200, "fill push");
    }
    let (_, _, _, people_page) = app
        .call(
            "GET",
            &format!("/v1/companies/{ORG}/people?limit=1"),
            Some(&admin),
            None,
        )
        .await;
    let person_ref = people_page["items"][0]["person_ref"]
        .as_str()
        .or_else(|| people_page["people"][0]["person_ref"].as_str())
        .unwrap_or("unknown")
        .to_string();
    let (_, _, _, sites) = app
        .call(
            "GET",
            &format!("/v1/companies/{ORG}/sites"),
            Some(&admin),
            None,
        )
        .await;
    let site = sites["items"][0]["site_id"]
        .as_str()
        .or_else(|| sites["sites"][0]["site_id"].as_str())
        .unwrap_or("unknown")
        .to_string();
    println!(
        "round trips: memory store, {delay_ms} ms added to every store call; {total} events of {people} people at 2 sites over 30 days"
    );
    let co = format!("/v1/companies/{ORG}");
    let search = json!({"person_id": stamp_testdata::personnummer(born, 214)}).to_string();
    let routes: Vec<(&str, String, Option<&str>, Option<String>)> = vec![
        ("GET", format!("{co}/sites"), Some(&admin), None),
        ("GET", format!("{co}/people?limit=50"), Some(&admin), None),
        (
            "GET",
            format!("{co}/people?q=a&limit=50"),
            Some(&admin),
            None,
        ),
        (
            "POST",
            format!("{co}/people/search"),
            Some(&admin),
            Some(search),
        ),
        (
            "GET",
            format!("{co}/people/{person_ref}/registrations"),
            Some(&admin),
            None,
        ),
        (
            "GET",
            format!("{co}/people/{person_ref}/registrations?history=true"),
            Some(&admin),
            None,
        ),
        (
            "GET",
            format!("{co}/sites/{site}/registrations"),
            Some(&admin),
            None,
        ),
        (
            "GET",
            format!("{co}/sites/{site}/present"),
            Some(&admin),
            None,
        ),
        ("GET", format!("{co}/anomalies"), Some(&admin), None),
        ("GET", format!("{co}/statistics"), Some(&admin), None),
        ("GET", format!("{co}/audit"), Some(&admin), None),
        ("GET", format!("{co}/users"), Some(&admin), None),
        ("GET", format!("{co}/activation"), Some(&admin), None),
        ("GET", format!("{co}/notifications"), Some(&admin), None),
        ("GET", format!("{co}/legal-holds"), Some(&admin), None),
        ("GET", format!("{co}/verification"), Some(&admin), None),
        ("GET", format!("{co}/inspections"), Some(&admin), None),
        ("GET", "/v1/partners".into(), Some(&op), None),
        ("GET", "/v1/me/registrations".into(), Some(&employee), None),
        ("GET", "/v1/announcements".into(), None, None),
        ("GET", "/v1/privacy".into(), None, None),
        (
            "GET",
            "/partner/v1/batches/fill-0".into(),
            Some(&partner),
            None,
        ),
    ];
    println!(
        "\n| route | status | store calls | sequential round trips | time without / with the delay |"
    );
    println!("|---|---|---|---|---|");
    let row =
        |m: &str, p: &str, s: u16, calls: u64, trips: usize, quick: Duration, slow: Duration| {
            println!(
                "| `{m} {p}` | {s} | {calls} | {trips} | {:.1} / {:.1} ms |",
                quick.as_secs_f64() * 1000.0,
                slow.as_secs_f64() * 1000.0,
            );
        };
    for (m, p, t, b) in &routes {
        // Without the delay (the first call warms what a route caches), then with it;
        // the fastest of three each, as the machine is shared.
        app.call(m, p, *t, b.clone()).await;
        let mut quick = Duration::MAX;
        for _ in 0..3 {
            quick = quick.min(app.call(m, p, *t, b.clone()).await.2);
        }
        store.on.store(true, Ordering::Relaxed);
        let mut slow = Duration::MAX;
        let (mut s, mut calls, mut trips) = (0, 0, 0);
        for _ in 0..3 {
            let (st, c, took, _) = app.call(m, p, *t, b.clone()).await;
            let chain = stamp_testdata::calls::sequential(&store.take_spans());
            (s, calls, slow, trips) = (st, c, slow.min(took), chain);
        }
        store.on.store(false, Ordering::Relaxed);
        let shown = p.replace(&person_ref, "{ref}").replace(&site, "{site}");
        row(m, &shown, s, calls, trips, quick, slow);
    }
    // A push of 100 new events (the last of the generated month), each way.
    for (n, delayed) in [(0, false), (1, true)] {
        let part = &last[n * last.len() / 2..(n + 1) * last.len() / 2];
        let body = json!({"batch_id": format!("last-{n}"), "events": part}).to_string();
        store.on.store(delayed, Ordering::Relaxed);
        let (s, calls, took, _) = app
            .call("POST", "/partner/v1/batches", Some(&partner), Some(body))
            .await;
        let trips = stamp_testdata::calls::sequential(&store.take_spans());
        store.on.store(false, Ordering::Relaxed);
        println!(
            "push of {} new events, delay {}: {s}, {calls} store calls, {trips} sequential round trips, {:.1} ms",
            part.len(),
            if delayed { "on" } else { "off" },
            took.as_secs_f64() * 1000.0,
        );
    }
}
