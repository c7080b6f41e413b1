//! Spec §6–7 over HTTP on both storage stacks: a generated ledger with injected mistakes
//! gives back exactly those anomalies, and statistics add up day by day, across the
//! daylight-saving changes, and roll up to weeks and months.

use crate::on_every_store;
use crate::server::*;

/// A valid personnummer born 1980, distinct for each `n` below 900.
fn personnummer(n: u32) -> String {
    let born = NaiveDate::from_ymd_opt(1980, 1 + n % 9, 1 + n % 28).expect("a date");
    stamp_testdata::personnummer(born, 100 + n)
}
use chrono::{Duration, NaiveDate, TimeZone};
use chrono_tz::Europe::Stockholm;
use serde_json::{json, Value};
use std::collections::BTreeSet;

fn local(day: NaiveDate, h: u32, m: u32) -> chrono::DateTime<chrono::FixedOffset> {
    Stockholm
        .from_local_datetime(&day.and_hms_opt(h, m, 0).unwrap())
        .earliest()
        .unwrap()
        .fixed_offset()
}

type Expected = BTreeSet<(String, String)>;

/// People × weekdays with one injected mistake per (person + day) % 11 slot; person 0's
/// personnummer has a wrong check digit. Returns the events and the anomalies they must
/// produce, worked out by construction.
fn generated_ledger(people: u32, weekdays: u32) -> (Vec<Value>, Expected) {
    let mut events = Vec::new();
    let mut expected = Expected::new();
    let mut days = Vec::new();
    let mut d = NaiveDate::from_ymd_opt(2026, 2, 2).unwrap();
    while days.len() < weekdays as usize {
        if chrono::Datelike::weekday(&d).num_days_from_monday() < 5 {
            days.push(d);
        }
        d = d.succ_opt().unwrap();
    }
    for p in 0..people {
        let mut pid = personnummer(p);
        if p == 0 {
            let last = (pid.as_bytes()[11] - b'0' + 1) % 10;
            pid.replace_range(11..12, &last.to_string());
        }
        let site = if p % 2 == 0 { SITE_1 } else { SITE_2 };
        let name = format!("Person {p}");
        for (di, day) in days.iter().enumerate() {
            let slot = (p + di as u32) % 11;
            let id = |s: &str| format!("p{p}d{di}{s}");
            let at = |h, m| local(*day, h, m);
            let mut push =
                |id: String,
                 dir: &str,
                 occurred: chrono::DateTime<chrono::FixedOffset>,
                 recorded: chrono::DateTime<chrono::FixedOffset>| {
                    let mut e = event(&id, ORG_A, site, &pid, &name, dir, &occurred.to_rfc3339());
                    e["recorded_at"] = json!(recorded.to_rfc3339());
                    events.push(e);
                };
            let (i, o) = (at(7, 0), if slot == 3 { at(20, 0) } else { at(15, 30) });
            if slot != 2 {
                let rec = if slot == 5 {
                    i - Duration::minutes(10)
                } else {
                    i
                };
                push(id("i"), "in", i, rec);
                if slot == 5 {
                    expected.insert(("future_event".into(), id("i")));
                }
            } else {
                expected.insert(("missing_check_in".into(), id("o")));
            }
            if slot == 0 {
                push(
                    id("i2"),
                    "in",
                    i + Duration::seconds(60),
                    i + Duration::seconds(60),
                );
                expected.insert(("duplicate".into(), id("i2")));
            }
            if slot != 1 {
                let rec = if slot == 4 { o + Duration::hours(2) } else { o };
                push(id("o"), "out", o, rec);
                if slot == 4 {
                    expected.insert(("late_entry".into(), id("o")));
                }
            } else {
                expected.insert(("missing_check_out".into(), id("i")));
            }
            if slot == 3 {
                expected.insert(("long_session".into(), id("i")));
            }
        }
    }
    for e in &events {
        let id = e["event_id"].as_str().unwrap();
        if id.starts_with("p0d") {
            expected.insert(("invalid_person_id".into(), id.to_string()));
        }
    }
    (events, expected)
}

async fn all_anomalies(s: &TestServer, user: &str, query: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let c = cursor
            .as_ref()
            .map(|c| format!("&cursor={c}"))
            .unwrap_or_default();
        let page = s
            .get(
                &format!("/v1/companies/{ORG_A}/anomalies?limit=37{query}{c}"),
                user,
            )
            .await
            .expect(200);
        out.extend(page["anomalies"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
    }
}

fn as_set(found: &[Value]) -> Expected {
    found
        .iter()
        .map(|a| {
            (
                a["kind"].as_str().unwrap().to_string(),
                a["event"]["event_id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn injected_anomalies_come_back_exactly(s: &TestServer) {
    let t = setup(s, ORG_A, "ledger-1").await;
    let (events, expected) = generated_ledger(12, 20);
    for (n, chunk) in events.chunks(200).enumerate() {
        let a = s
            .post_json(
                "/partner/v1/batches",
                &t.partner,
                &batch(&format!("gen-{n}"), chunk.to_vec()),
            )
            .await
            .expect(200);
        assert_eq!(a["rejected"], json!([]), "{a}");
    }
    let found = all_anomalies(s, &t.user, "").await;
    assert_eq!(found.len(), expected.len(), "no anomaly twice");
    assert_eq!(as_set(&found), expected);
    for a in &found {
        for f in ["person_ref", "site_id", "occurred_at", "detail"] {
            assert!(a[f].is_string(), "{f} in {a}");
        }
        assert!(a["related"].is_array());
        if a["kind"] == "duplicate" || a["kind"] == "long_session" {
            assert_eq!(a["related"].as_array().unwrap().len(), 1, "{a}");
        }
    }
    // Filters: kind, site, and the half-open range of the flagged event's time.
    let dups = all_anomalies(s, &t.user, "&kind=duplicate").await;
    assert_eq!(
        as_set(&dups),
        expected
            .iter()
            .filter(|(k, _)| k == "duplicate")
            .cloned()
            .collect()
    );
    let site2 = all_anomalies(s, &t.user, &format!("&site_id={SITE_2}")).await;
    assert!(!site2.is_empty() && site2.iter().all(|a| a["site_id"] == SITE_2));
    let week = all_anomalies(
        s,
        &t.user,
        "&from=2026-02-09T00:00:00%2B01:00&to=2026-02-16T00:00:00%2B01:00",
    )
    .await;
    let in_week: Expected = expected
        .iter()
        .filter(|(_, id)| {
            (5..10).any(|d| {
                id.contains(&format!("d{d}"))
                    && !id.contains(&format!("d{d}0"))
                    && !id.contains(&format!("d1{d}"))
            })
        })
        .cloned()
        .collect();
    assert_eq!(as_set(&week), in_week);
    s.get(
        &format!("/v1/companies/{ORG_A}/anomalies?kind=bogus"),
        &t.user,
    )
    .await
    .problem(400, "invalid_field");
}

/// Rows of a statistics answer by (period, site).
fn row<'a>(stats: &'a Value, period: &str, site: Option<&str>) -> &'a Value {
    stats["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["period"] == period && r["site_id"] == json!(site))
        .unwrap_or_else(|| panic!("no row {period} {site:?} in {stats}"))
}

async fn statistics_add_up_across_daylight_saving(s: &TestServer) {
    let t = setup(s, ORG_A, "ledger-1").await;
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    let e =
        |id: &str, site: &str, who: &str, dir: &str, at: chrono::DateTime<chrono::FixedOffset>| {
            let name = if who == ANNA { "Anna" } else { "Bo" };
            event(id, ORG_A, site, who, name, dir, &at.to_rfc3339())
        };
    let events = vec![
        // Friday 2026-03-27: both at site 1, Anna 9 h, Bo 8 h; Bo repeats his check-in.
        e("a1", SITE_1, ANNA, "in", local(d(2026, 3, 27), 7, 0)),
        e("a2", SITE_1, ANNA, "out", local(d(2026, 3, 27), 16, 0)),
        e("b1", SITE_1, BO, "in", local(d(2026, 3, 27), 8, 0)),
        e("b1x", SITE_1, BO, "in", local(d(2026, 3, 27), 8, 1)),
        e("b2", SITE_1, BO, "out", local(d(2026, 3, 27), 16, 0)),
        // Sunday 2026-03-29, the 23-hour day: Anna 22:00 → Monday 06:00 at site 2 = 8 h, counted on Sunday.
        e("a3", SITE_2, ANNA, "in", local(d(2026, 3, 29), 22, 0)),
        e("a4", SITE_2, ANNA, "out", local(d(2026, 3, 30), 6, 0)),
        // Sunday 2026-10-25, the 25-hour day: Bo 00:30 (summer time) → 05:00 (winter time) = 5.5 h.
        e("b3", SITE_1, BO, "in", local(d(2026, 10, 25), 0, 30)),
        e("b4", SITE_1, BO, "out", local(d(2026, 10, 25), 5, 0)),
        // Monday 2026-10-26: an out with nothing open.
        e("b5", SITE_1, BO, "out", local(d(2026, 10, 26), 9, 0)),
    ];
    s.post_json("/partner/v1/batches", &t.partner, &batch("stats", events))
        .await
        .expect(200);

    let daily = s
        .get(
            &format!("/v1/companies/{ORG_A}/statistics?from=2026-03-27&to=2026-03-31"),
            &t.user,
        )
        .await
        .expect(200);
    let fri = row(&daily, "2026-03-27", None);
    assert_eq!(
        (
            fri["persons"].clone(),
            fri["sessions"].clone(),
            fri["hours"].clone()
        ),
        (json!(2), json!(2), json!(17.0))
    );
    assert_eq!(
        (fri["check_ins"].clone(), fri["check_outs"].clone()),
        (json!(2), json!(2)),
        "the repeat is not counted"
    );
    assert_eq!(fri["anomalies"]["duplicate"], 1);
    assert_eq!(fri["anomalies"]["long_session"], 0);
    assert_eq!(row(&daily, "2026-03-27", Some(SITE_1))["persons"], 2);
    let sun = row(&daily, "2026-03-29", None);
    assert_eq!(
        (
            sun["sessions"].clone(),
            sun["hours"].clone(),
            sun["check_ins"].clone(),
            sun["check_outs"].clone()
        ),
        (json!(1), json!(8.0), json!(1), json!(0))
    );
    let mon = row(&daily, "2026-03-30", None);
    assert_eq!(
        (
            mon["sessions"].clone(),
            mon["check_outs"].clone(),
            mon["persons"].clone()
        ),
        (json!(0), json!(1), json!(1))
    );
    assert!(
        daily["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["period"] != "2026-03-31"),
        "to is exclusive"
    );

    let autumn = s
        .get(
            &format!("/v1/companies/{ORG_A}/statistics?from=2026-10-25&to=2026-10-27"),
            &t.user,
        )
        .await
        .expect(200);
    let sun = row(&autumn, "2026-10-25", None);
    assert_eq!(
        (sun["sessions"].clone(), sun["hours"].clone()),
        (json!(1), json!(5.5))
    );
    assert_eq!(
        row(&autumn, "2026-10-26", None)["anomalies"]["missing_check_in"],
        1
    );

    // Weeks and months count distinct people, not a sum of days.
    let weekly = s
        .get(
            &format!(
                "/v1/companies/{ORG_A}/statistics?from=2026-03-23&to=2026-04-06&granularity=week"
            ),
            &t.user,
        )
        .await
        .expect(200);
    let w13 = row(&weekly, "2026-W13", None);
    assert_eq!(
        (
            w13["persons"].clone(),
            w13["sessions"].clone(),
            w13["hours"].clone()
        ),
        (json!(2), json!(3), json!(25.0))
    );
    assert_eq!(row(&weekly, "2026-W14", None)["check_outs"], 1);
    let monthly = s
        .get(
            &format!("/v1/companies/{ORG_A}/statistics?granularity=month"),
            &t.user,
        )
        .await
        .expect(200);
    let march = row(&monthly, "2026-03", None);
    assert_eq!(
        (
            march["persons"].clone(),
            march["sessions"].clone(),
            march["hours"].clone()
        ),
        (json!(2), json!(3), json!(25.0))
    );
    assert_eq!(row(&monthly, "2026-10", Some(SITE_1))["hours"], 5.5);
    let only = s
        .get(
            &format!("/v1/companies/{ORG_A}/statistics?granularity=month&site_id={SITE_2}"),
            &t.user,
        )
        .await
        .expect(200);
    assert!(only["rows"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["site_id"] == SITE_2));
    let partners = only["partners"].as_array().unwrap();
    assert_eq!(
        (
            partners[0]["partner_id"].clone(),
            partners[0]["events_received"].clone()
        ),
        (json!("ledger-1"), json!(10))
    );
    s.get(
        &format!("/v1/companies/{ORG_A}/statistics?granularity=year"),
        &t.user,
    )
    .await
    .problem(400, "invalid_field");

    // A late correction changes the days it touches: Friday's Anna now leaves at 17:00.
    let mut fix = e("a2fix", SITE_1, ANNA, "out", local(d(2026, 3, 27), 17, 0));
    fix["corrects"] = json!("a2");
    s.post_json("/partner/v1/batches", &t.partner, &batch("fix", vec![fix]))
        .await
        .expect(200);
    let again = s
        .get(
            &format!("/v1/companies/{ORG_A}/statistics?from=2026-03-27&to=2026-03-31"),
            &t.user,
        )
        .await
        .expect(200);
    assert_eq!(row(&again, "2026-03-27", None)["hours"], 18.0);
    assert_eq!(
        row(&again, "2026-03-29", None),
        row(&daily, "2026-03-29", None)
    );
}

on_every_store!(
    injected_anomalies_come_back_exactly,
    statistics_add_up_across_daylight_saving
);
