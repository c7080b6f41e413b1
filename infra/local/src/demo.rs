//! `serve --demo`: a generated company with three sites, two partners and a few months
//! of check-ins and check-outs — including the kinds of mistakes Stamp finds — loaded
//! through the same import path as any delivery. Loaded once per data directory.

use chrono::{Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Europe::Stockholm;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use stamp_api::AppState;
use stamp_domain::auth::Claims;
use stamp_domain::governance::admin::{ActivationRequest, NewPartner};
use stamp_domain::identity::{Orgnr, PartnerId};
use stamp_domain::intake::DeliveryFormat;

use crate::LocalError;
use partner_sim::{SimConfig, SimHandle};
use stamp_testdata::personnummer;

pub const DEMO_ORGNR: &str = "5569999997";
pub const DEMO_COMPANY: &str = "Demobygg Sverige AB";
pub const DEMO_PARTNERS: [&str; 2] = ["demo-ledger", "demo-app"];
/// The demo's pulling partner: a simulated ledger system served from this process.
pub const DEMO_FEED_PARTNER: &str = "demo-feed";
/// Users granted access to the demo company. The `local-*` subs are what
/// `stamp-local token` uses when no `--sub` is given.
pub const DEMO_ADMINS: [&str; 2] = ["demo-admin", "local-company_admin"];
pub const DEMO_USERS: [&str; 2] = ["demo-user", "local-company_user"];
const SITES: [&str; 3] = ["STH2026000001", "GBG2026000002", "MLM2026000003"];
const FIRST: [&str; 12] = [
    "Åsa", "Björn", "Märta", "Örjan", "Linnea", "Karim", "Elin", "Jonas", "Sofia", "Ali", "Ingrid",
    "Mateusz",
];
const LAST: [&str; 10] = [
    "Öberg",
    "Lindqvist",
    "Åkesson",
    "Nilsson",
    "Hassan",
    "Ek",
    "Kowalski",
    "Strand",
    "Berg",
    "Söderström",
];

/// The demo person the portal's local employee identity speaks for (the first of
/// [`generate`]'s people, Åsa Öberg).
pub fn demo_employee_id() -> String {
    personnummer(NaiveDate::from_ymd_opt(1965, 1, 1).unwrap_or_default(), 100)
}

/// The portal's local sign-in: one demo identity per role (spec §13), each with the
/// claims a token of that role would carry; the demo company has granted the company
/// ones.
pub fn portal_identities() -> Vec<stamp_portal::LocalIdentity> {
    let id = |label, claims| stamp_portal::LocalIdentity { label, claims };
    vec![
        id(
            "login.company_admin",
            claims(DEMO_ADMINS[0], "company_admin"),
        ),
        id("login.company_user", claims(DEMO_USERS[0], "company_user")),
        id(
            "login.employee",
            Claims {
                sub: "demo-employee".into(),
                roles: vec!["employee".into()],
                person_id: Some(demo_employee_id()),
                ..Default::default()
            },
        ),
        id(
            "login.operator",
            Claims {
                sub: "local-operator".into(),
                roles: vec!["operator".into()],
                ..Default::default()
            },
        ),
    ]
}

fn claims(sub: &str, role: &str) -> Claims {
    Claims {
        sub: sub.into(),
        roles: vec![role.into()],
        companies: vec![DEMO_ORGNR.into()],
        ..Default::default()
    }
}

pub async fn load(state: &AppState) -> Result<String, LocalError> {
    let err = |e: stamp_domain::DomainError| LocalError::Demo(e.to_string());
    let orgnr = Orgnr::parse(DEMO_ORGNR).map_err(|e| LocalError::Demo(e.to_string()))?;
    if state
        .ledger
        .activation(&orgnr)
        .await
        .map_err(err)?
        .is_some()
    {
        return Ok(format!("demo: company {DEMO_ORGNR} already loaded"));
    }
    let operator = Claims {
        sub: "demo-operator".into(),
        roles: vec!["operator".into()],
        ..Default::default()
    };
    for p in DEMO_PARTNERS {
        if state
            .ledger
            .partner(&demo_partner(p)?)
            .await
            .map_err(err)?
            .is_none()
        {
            state
                .admin
                .accredit_partner(
                    &operator,
                    NewPartner {
                        partner_id: Some(p.into()),
                        name: Some(format!("Demo {p}")),
                        feed_url: None,
                    },
                )
                .await
                .map_err(err)?;
        }
    }
    let admin = claims(DEMO_ADMINS[0], "company_admin");
    state
        .admin
        .activate(
            &admin,
            &orgnr,
            ActivationRequest {
                terms_version: Some("2026-01".into()),
                company_name: Some(DEMO_COMPANY.into()),
                fiscal_year_end_month: Some(12),
            },
        )
        .await
        .map_err(err)?;
    for sub in DEMO_ADMINS.iter().skip(1) {
        state
            .admin
            .put_user(
                &admin,
                &orgnr,
                sub,
                Some(vec!["company_admin".into(), "company_user".into()]),
            )
            .await
            .map_err(err)?;
    }
    for sub in DEMO_USERS {
        state
            .admin
            .put_user(&admin, &orgnr, sub, Some(vec!["company_user".into()]))
            .await
            .map_err(err)?;
    }

    let (events, corrections) = generate(Utc::now().date_naive(), 90);
    let mut total = 0;
    let partner = demo_partner(DEMO_PARTNERS[0])?;
    for (n, chunk) in events.chunks(5000).enumerate() {
        let body = json!({ "batch_id": format!("demo-{n}"), "events": chunk }).to_string();
        let answer = state
            .import
            .import(&partner, DeliveryFormat::Json, body.as_bytes(), None)
            .await
            .map_err(err)?;
        total += answer.accepted;
    }
    let body = json!({ "batch_id": "demo-corrections", "events": corrections }).to_string();
    state
        .import
        .import(&partner, DeliveryFormat::Json, body.as_bytes(), None)
        .await
        .map_err(err)?;
    Ok(format!(
        "demo: company {DEMO_ORGNR} ({DEMO_COMPANY}) with {total} events at {} sites; users {:?} (company_admin) and {:?} (company_user); partners {:?}",
        SITES.len(),
        DEMO_ADMINS,
        DEMO_USERS,
        DEMO_PARTNERS
    ))
}

/// One of the demo's partner ids, parsed as any other.
fn demo_partner(id: &str) -> Result<PartnerId, LocalError> {
    PartnerId::parse(id).map_err(|e| LocalError::Demo(format!("partner id {id:?}: {e}")))
}

/// Starts the demo's pulling partner — a simulated ledger system in this process with
/// four weeks of a fourth site — and points its accreditation's `feed_url` at it (the
/// port is new on every start). The scheduled pull job, which runs at once on start,
/// then brings its events in. Its history ends on the day it was first accredited, so
/// the feed is the same on every start with the same data directory.
pub async fn start_feed(state: &AppState) -> Result<SimHandle, LocalError> {
    let err = |e: stamp_domain::DomainError| LocalError::Demo(e.to_string());
    let existing = state
        .ledger
        .partner(&demo_partner(DEMO_FEED_PARTNER)?)
        .await
        .map_err(err)?;
    let end = existing
        .as_ref()
        .map(|p| p.accredited_at)
        .unwrap_or_else(Utc::now)
        .date_naive();
    let cfg = SimConfig {
        seed: 2026,
        companies: vec![(DEMO_ORGNR.into(), DEMO_COMPANY.into())],
        people: 6,
        sites: 1,
        days: 28,
        end,
        corrections: true,
        prefix: "feed".into(),
    };
    let sim = SimHandle::start(&cfg)
        .await
        .map_err(|e| LocalError::Demo(format!("demo feed: {e}")))?;
    match existing {
        Some(mut p) => {
            p.feed_url = Some(sim.url.clone());
            state.ledger.save_partner(&p).await.map_err(err)?;
        }
        None => {
            let operator = Claims {
                sub: "demo-operator".into(),
                roles: vec!["operator".into()],
                ..Default::default()
            };
            let req = NewPartner {
                partner_id: Some(DEMO_FEED_PARTNER.into()),
                name: Some("Demo feed (simulated)".into()),
                feed_url: Some(sim.url.clone()),
            };
            state
                .admin
                .accredit_partner(&operator, req)
                .await
                .map_err(err)?;
        }
    }
    Ok(sim)
}

/// Deterministic for a given end day: weekdays of `days` days before `today`.
pub fn generate(today: NaiveDate, days: i64) -> (Vec<Value>, Vec<Value>) {
    let mut rng = StdRng::seed_from_u64(2026);
    let people: Vec<(String, String, &str)> = (0..24u32)
        .map(|i| {
            let born =
                NaiveDate::from_ymd_opt(1965 + (i as i32 * 7) % 35, 1 + i % 12, 1 + (i * 5) % 28)
                    .unwrap_or_default();
            let mut id = personnummer(born, 100 + i * 13);
            if i == 23 {
                // One id with a wrong check digit: kept, and flagged invalid_person_id.
                let last = (id.as_bytes()[11] - b'0' + 1) % 10;
                id.replace_range(11..12, &last.to_string());
            }
            (
                id,
                format!(
                    "{} {}",
                    FIRST[i as usize % FIRST.len()],
                    LAST[i as usize % LAST.len()]
                ),
                SITES[i as usize % SITES.len()],
            )
        })
        .collect();
    let mut events = Vec::new();
    let mut corrections = Vec::new();
    let mut n = 0u32;
    for d in (1..=days).rev() {
        let day = today - Duration::days(d);
        if matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            continue;
        }
        for (pid, name, site) in &people {
            if rng.random_ratio(1, 12) {
                continue; // away that day
            }
            let start = Stockholm
                .with_ymd_and_hms(day.year(), day.month(), day.day(), 6, 30, 0)
                .earliest()
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_default()
                + Duration::minutes(rng.random_range(0..60));
            let end = start + Duration::minutes(rng.random_range(7 * 60..9 * 60 + 30));
            let ev = |id: String, dir: &str, at: chrono::DateTime<Utc>, extra: Value| {
                let mut e = json!({
                    "event_id": id, "company_orgnr": DEMO_ORGNR, "company_name": DEMO_COMPANY,
                    "site_id": site, "person_id": pid, "person_name": name, "direction": dir,
                    "occurred_at": at.with_timezone(&Stockholm).to_rfc3339(),
                    "recorded_at": at.with_timezone(&Stockholm).to_rfc3339(),
                    "card_number": format!("ID06-{}", &pid[2..8]),
                });
                if let (Value::Object(m), Value::Object(x)) = (&mut e, extra) {
                    m.extend(x);
                }
                e
            };
            n += 1;
            events.push(ev(format!("ev-{n}-in"), "in", start, json!({})));
            if n.is_multiple_of(50) {
                events.push(ev(
                    format!("ev-{n}-in-again"),
                    "in",
                    start + Duration::seconds(40),
                    json!({}),
                ));
            }
            if n.is_multiple_of(37) {
                continue; // forgot to check out
            }
            if n.is_multiple_of(29) {
                let late = end + Duration::hours(3);
                events.push(ev(
                    format!("ev-{n}-out"),
                    "out",
                    end,
                    json!({
                        "source": "manual", "recorded_by": "arbetsledare",
                        "recorded_at": late.with_timezone(&Stockholm).to_rfc3339(),
                    }),
                ));
                continue;
            }
            events.push(ev(format!("ev-{n}-out"), "out", end, json!({})));
            if n.is_multiple_of(61) {
                let fixed = end + Duration::minutes(45);
                corrections.push(ev(format!("ev-{n}-out-fix"), "out", fixed, json!({
                    "corrects": format!("ev-{n}-out"), "source": "manual", "recorded_by": "arbetsledare",
                    "recorded_at": (end + Duration::days(1)).with_timezone(&Stockholm).to_rfc3339(),
                })));
            }
        }
    }
    (events, corrections)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_employee_is_in_the_demo_data() {
        let (events, _) = generate(NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(), 30);
        let id = demo_employee_id();
        assert!(events.iter().any(|e| e["person_id"] == id.as_str()));
    }

    #[test]
    fn demo_personnummer_are_valid() {
        let born = NaiveDate::from_ymd_opt(1981, 12, 18).unwrap();
        let id = personnummer(born, 987);
        let p = stamp_domain::identity::PersonId::parse(&id, None, None).unwrap();
        assert!(p.valid(), "{id}");
    }

    #[test]
    fn generation_is_deterministic_and_has_mistakes() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        let (a, ca) = generate(today, 60);
        let (b, _) = generate(today, 60);
        assert_eq!(a, b);
        assert!(a.len() > 1000);
        assert!(!ca.is_empty());
        assert!(a.iter().any(|e| e["source"] == "manual"));
    }
}
