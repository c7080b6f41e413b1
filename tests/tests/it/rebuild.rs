//! Rebuilding a company's index from the archive (spec §5: the archive is the system of
//! record): after pushes (JSON and CSV, corrections, a replay, an unreadable one), an
//! upload and a pull, a fresh store rebuilt from the archive answers every query exactly
//! as the live one, and the item-by-item check finds no difference.

use crate::on_every_store;
use crate::server::*;
use partner_sim::{SimConfig, SimHandle};
use reqwest::Method;
use serde_json::{json, Map, Value};
use stamp_domain::identity::Orgnr;
use stamp_domain::intake::pull::PullSettings;
use std::time::Duration;

/// Every page of a list answer.
async fn pages(s: &TestServer, token: &str, path: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = match &cursor {
            Some(c) => format!("{path}{sep}cursor={c}"),
            None => path.to_string(),
        };
        let body = s.get(&url, token).await.expect(200);
        cursor = body["next_cursor"].as_str().map(str::to_string);
        out.push(body);
        if cursor.is_none() {
            return out;
        }
    }
}

/// Every answer a company_user can get about the company: people, sites, each person's
/// and each site's registrations with history, anomalies, statistics by day, week and
/// month.
pub async fn snapshot(s: &TestServer, user: &str, orgnr: &str) -> Value {
    let base = format!("/v1/companies/{orgnr}");
    let people = pages(s, user, &format!("{base}/people?limit=1000")).await;
    let sites = pages(s, user, &format!("{base}/sites?limit=1000")).await;
    let mut by_person = Map::new();
    for p in people
        .iter()
        .flat_map(|p| p["people"].as_array().cloned().unwrap_or_default())
    {
        let r = p["person_ref"].as_str().unwrap().to_string();
        by_person.insert(
            r.clone(),
            json!(
                pages(
                    s,
                    user,
                    &format!("{base}/people/{r}/registrations?history=true&limit=300")
                )
                .await
            ),
        );
    }
    let mut by_site = Map::new();
    for site in sites
        .iter()
        .flat_map(|p| p["sites"].as_array().cloned().unwrap_or_default())
    {
        let id = site["site_id"].as_str().unwrap().to_string();
        by_site.insert(
            id.clone(),
            json!(
                pages(
                    s,
                    user,
                    &format!("{base}/sites/{id}/registrations?history=true&limit=300")
                )
                .await
            ),
        );
    }
    let mut stats = Map::new();
    for g in ["day", "week", "month"] {
        stats.insert(
            g.into(),
            json!(
                pages(
                    s,
                    user,
                    &format!("{base}/statistics?granularity={g}&limit=1000")
                )
                .await
            ),
        );
    }
    json!({
        "people": people,
        "sites": sites,
        "person_registrations": by_person,
        "site_registrations": by_site,
        "anomalies": pages(s, user, &format!("{base}/anomalies?limit=1000")).await,
        "statistics": stats,
    })
}

/// The first difference between two JSON documents, by path.
pub fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys()) {
                if let Some(d) = first_difference(
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                    &format!("{path}.{k}"),
                ) {
                    return Some(d);
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) => {
            if x.len() != y.len() {
                return Some(format!("{path}: {} vs {} elements", x.len(), y.len()));
            }
            x.iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (p, q))| first_difference(p, q, &format!("{path}[{i}]")))
        }
        _ if a == b => None,
        _ => Some(format!("{path}: {a} vs {b}")),
    }
}

pub fn sim(orgnr: &str, prefix: &str, seed: u64, people: usize, days: u32) -> SimConfig {
    SimConfig {
        seed,
        companies: vec![(orgnr.into(), "Bygg AB".into())],
        people,
        sites: 2,
        days,
        prefix: prefix.into(),
        ..Default::default()
    }
}

pub fn fast_pull(page_limit: usize) -> PullSettings {
    PullSettings {
        page_limit,
        backoff: Duration::from_millis(20),
        ..Default::default()
    }
}

pub fn csv_of(events: &[Value]) -> Vec<u8> {
    const COLUMNS: [&str; 13] = [
        "event_id",
        "company_orgnr",
        "company_name",
        "site_id",
        "person_id",
        "person_name",
        "direction",
        "occurred_at",
        "recorded_at",
        "source",
        "recorded_by",
        "corrects",
        "void",
    ];
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(COLUMNS).unwrap();
    for e in events {
        w.write_record(COLUMNS.iter().map(|c| match &e[*c] {
            Value::String(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            _ => String::new(),
        }))
        .unwrap();
    }
    w.into_inner().unwrap()
}

async fn a_rebuilt_index_answers_every_query_as_before(s: &TestServer) {
    let t = setup(s, ORG_A, "ledger-1").await;
    let mut events = stamp_testdata::generate(&sim(ORG_A, "push", 11, 8, 20), ORG_A, "Bygg AB");
    // Without recorded_at the receipt time applies: a rebuild must reproduce it.
    for e in events.iter_mut().step_by(3) {
        e.as_object_mut().unwrap().remove("recorded_at");
    }
    let third = events.len() / 3;
    let (first, rest) = events.split_at(third);
    let (second, last) = rest.split_at(third);
    let b1 = batch("b1", first.to_vec());
    s.post_json("/partner/v1/batches", &t.partner, &b1)
        .await
        .expect(200);
    s.post_json("/partner/v1/batches", &t.partner, &b1)
        .await
        .expect(200);
    // An upload, corrections of the first push among its events.
    let mut uploaded = second.to_vec();
    let mut fix = first[4].clone();
    fix["event_id"] = json!("fix-1");
    fix["corrects"] = first[4]["event_id"].clone();
    fix["occurred_at"] = json!("2026-03-10T07:45:00+01:00");
    fix["source"] = json!("manual");
    fix["recorded_by"] = json!("platschef");
    uploaded.push(fix);
    let created = s
        .post_json(
            "/partner/v1/uploads",
            &t.partner,
            &json!({ "batch_id": "up-1" }),
        )
        .await
        .expect(201);
    s.complete_upload(
        &created,
        batch("up-1", uploaded).to_string().into_bytes(),
        &t.partner,
    )
    .await
    .expect(200);
    // A CSV push, with a void.
    let mut csv_events = last.to_vec();
    let mut void = first[6].clone();
    void["event_id"] = json!("void-1");
    void["corrects"] = first[6]["event_id"].clone();
    void["void"] = json!(true);
    csv_events.push(void);
    let csv = csv_of(&csv_events);
    s.call(
        Method::POST,
        "/partner/v1/batches?batch_id=csv-1",
        Some(&t.partner),
        Some(("text/csv", csv)),
    )
    .await
    .expect(200);
    s.call(
        Method::POST,
        "/partner/v1/batches",
        Some(&t.partner),
        Some(("application/json", b"{broken".to_vec())),
    )
    .await
    .problem(400, "invalid_field");
    // A pull.
    let feed = SimHandle::start(&sim(ORG_A, "pull", 12, 5, 20))
        .await
        .unwrap();
    s.post_json(
        "/v1/partners",
        &t.operator,
        &json!({ "partner_id": "feed-1", "name": "Feed AB", "feed_url": feed.url }),
    )
    .await
    .expect(201);
    let pulled = s
        .state
        .puller()
        .unwrap()
        .with_settings(fast_pull(40))
        .run_once()
        .await
        .unwrap();
    assert!(pulled.pages >= 2 && pulled.pairs_failed == 0, "{pulled:?}");

    let before = snapshot(s, &t.user, ORG_A).await;
    assert!(
        before["people"][0]["people"].as_array().unwrap().len() >= 10,
        "{}",
        before["people"]
    );

    // A new, empty store on the same archive: administration copied, then the rebuild.
    let r = s.with_fresh_store().await;
    let orgnr = Orgnr::parse(ORG_A).unwrap();
    stamp_domain::intake::rebuild::copy_administration(&s.state.ledger, &r.state.ledger, &orgnr)
        .await
        .unwrap();
    let summary = stamp_domain::intake::rebuild::rebuild_company(&r.state.import, &orgnr)
        .await
        .unwrap();
    // b1 once (its replay is no new delivery), the upload, the CSV push, each pulled page;
    // the unreadable push has no receipt.
    assert_eq!(summary.replayed, 3 + pulled.pages, "{summary:?}");
    let diffs =
        stamp_domain::intake::rebuild::compare_company(&s.state.ledger, &r.state.ledger, &orgnr)
            .await
            .unwrap();
    assert!(diffs.is_empty(), "{diffs:#?}");
    let after = snapshot(&r, &t.user, ORG_A).await;
    if let Some(d) = first_difference(&before, &after, "") {
        panic!("the rebuilt index answers differently: {d}");
    }
}

on_every_store!(a_rebuilt_index_answers_every_query_as_before);
