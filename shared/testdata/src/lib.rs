//! Test data, generated once for everyone: tests, benchmarks, the demo (`stamp-local serve
//! --demo`) and the partner simulator take their personnummer and their ledgers from here.
//!
//! - [`personnummer`]: a valid personnummer (Luhn check digit) for a birth date and serial;
//!   [`personnummer_nth`]: a distinct valid one for each number.
//! - [`generate`]: one company's ledger as a partner's feed, the same for the same
//!   [`SimConfig`] (seeded): people, sites, weekdays of check-ins and check-outs, and the
//!   mistakes a real ledger has (forgotten check-outs, double check-ins, corrections
//!   entered the next day).

pub mod calls;

use chrono::{Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Europe::Stockholm;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

/// What the simulated partner holds.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub seed: u64,
    /// `(orgnr, company name)` of each company whose ledger it keeps.
    pub companies: Vec<(String, String)>,
    pub people: usize,
    pub sites: usize,
    /// Calendar days of history before `end` (weekends are quiet).
    pub days: u32,
    pub end: NaiveDate,
    /// Whether some check-outs are corrected (the next day, manually).
    pub corrections: bool,
    /// Starts every event id: two partners with different prefixes never share ids.
    pub prefix: String,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 7,
            companies: vec![("5569999997".into(), "Demobygg Sverige AB".into())],
            people: 10,
            sites: 2,
            days: 21,
            end: NaiveDate::from_ymd_opt(2026, 3, 31).unwrap_or_default(),
            corrections: true,
            prefix: "sim".into(),
        }
    }
}

/// The Luhn (mod 10) check digit of the nine digits `YYMMDDNNN`.
pub fn luhn_digit(nine: &str) -> u32 {
    let sum: u32 = nine
        .bytes()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    (10 - sum % 10) % 10
}

/// A valid personnummer for a birth date and serial.
pub fn personnummer(born: NaiveDate, serial: u32) -> String {
    let nine = format!("{}{:03}", born.format("%y%m%d"), serial % 1000);
    format!(
        "{}{}{}",
        born.format("%Y%m%d"),
        &nine[6..],
        luhn_digit(&nine)
    )
}

const FIRST: [&str; 10] = [
    "Anders", "Britt", "Cecilia", "Dragan", "Eva", "Fredrik", "Greta", "Hamid", "Iris", "Jukka",
];
const LAST: [&str; 8] = [
    "Holm", "Ågren", "Ström", "Vik", "Lund", "Yilmaz", "Sandberg", "Öst",
];

/// A valid personnummer, distinct for each `n` below 400,000: born 1960–1999 on a day
/// and month that cycle with `n`, serial `n % 1000`.
pub fn personnummer_nth(n: usize) -> String {
    let born = NaiveDate::from_ymd_opt(
        1960 + (n % 40) as i32,
        1 + (n % 12) as u32,
        1 + (n % 28) as u32,
    )
    .unwrap_or_default();
    personnummer(born, (n % 1000) as u32)
}

/// The feed of one company, in feed order (what was recorded, in the order it was).
pub fn generate(cfg: &SimConfig, orgnr: &str, company_name: &str) -> Vec<Value> {
    let salt: u64 = orgnr.bytes().fold(cfg.seed, |h, b| {
        h.wrapping_mul(31).wrapping_add(u64::from(b))
    });
    let mut rng = StdRng::seed_from_u64(salt);
    let sites: Vec<String> = (0..cfg.sites.max(1))
        .map(|i| format!("SIM{:04}{:06}", salt % 10_000, i))
        .collect();
    let people: Vec<(String, String, usize)> = (0..cfg.people)
        .map(|i| {
            let born = NaiveDate::from_ymd_opt(
                1960 + rng.random_range(0..40),
                rng.random_range(1..=12),
                rng.random_range(1..=28),
            )
            .unwrap_or_default();
            let name = format!(
                "{} {}",
                FIRST[rng.random_range(0..FIRST.len())],
                LAST[rng.random_range(0..LAST.len())]
            );
            (
                personnummer(born, 200 + i as u32 * 7),
                name,
                i % sites.len(),
            )
        })
        .collect();
    let mut feed = Vec::new();
    let mut pending_corrections: Vec<Value> = Vec::new();
    let mut n = 0u32;
    for d in (1..=i64::from(cfg.days)).rev() {
        let day = cfg.end - Duration::days(d);
        feed.append(&mut pending_corrections);
        if matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            continue;
        }
        let mut today: Vec<(chrono::DateTime<Utc>, Value)> = Vec::new();
        for (pid, name, site) in &people {
            if rng.random_ratio(1, 10) {
                continue;
            }
            n += 1;
            let start = Stockholm
                .with_ymd_and_hms(day.year(), day.month(), day.day(), 6, 30, 0)
                .earliest()
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_default()
                + Duration::minutes(rng.random_range(0..60));
            let end = start + Duration::minutes(rng.random_range(7 * 60..9 * 60 + 30));
            let ev = |id: String,
                      dir: &str,
                      at: chrono::DateTime<Utc>,
                      recorded: chrono::DateTime<Utc>| {
                json!({
                    "event_id": id, "company_orgnr": orgnr, "company_name": company_name,
                    "site_id": sites[*site], "person_id": pid, "person_name": name, "direction": dir,
                    "occurred_at": at.with_timezone(&Stockholm).to_rfc3339(),
                    "recorded_at": recorded.with_timezone(&Stockholm).to_rfc3339(),
                    "source": "card",
                })
            };
            let id =
                |suffix: &str| format!("{}-{}-{n}-{suffix}", cfg.prefix, &orgnr[orgnr.len() - 4..]);
            today.push((
                start,
                ev(
                    id("in"),
                    "in",
                    start,
                    start + Duration::seconds(rng.random_range(0..20)),
                ),
            ));
            if n.is_multiple_of(55) {
                let again = start + Duration::seconds(30);
                today.push((again, ev(id("in-again"), "in", again, again)));
            }
            if n.is_multiple_of(40) {
                continue; // forgot to check out
            }
            today.push((
                end,
                ev(
                    id("out"),
                    "out",
                    end,
                    end + Duration::seconds(rng.random_range(0..20)),
                ),
            ));
            if cfg.corrections && n.is_multiple_of(45) {
                let fixed = end + Duration::minutes(30);
                let mut c = ev(id("out-fix"), "out", fixed, end + Duration::days(1));
                c["corrects"] = json!(id("out"));
                c["source"] = json!("manual");
                c["recorded_by"] = json!("platschef");
                pending_corrections.push(c);
            }
        }
        today.sort_by_key(|a| a.0);
        feed.extend(today.into_iter().map(|(_, v)| v));
    }
    feed.append(&mut pending_corrections);
    feed
}

#[cfg(test)]
mod tests;
