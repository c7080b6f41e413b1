//! One day's figures (spec §7): persons, sessions, hours, check-ins and -outs and anomalies
//! by kind, computed from the analysis per site and in total, and added up over periods.

use super::StatisticsRow;
use crate::model::LedgerEvent;
use crate::reads::analysis::{analyse, AnomalyKind};
use crate::time::local_date;
use chrono::NaiveDate;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// One day's (or period's) figures for one site or the company total.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    pub persons: BTreeSet<String>,
    pub sessions: u64,
    pub seconds: i64,
    pub check_ins: u64,
    pub check_outs: u64,
    pub anomalies: BTreeMap<&'static str, u64>,
}

impl Figures {
    pub(super) fn add(&mut self, other: &Figures) {
        self.persons.extend(other.persons.iter().cloned());
        self.sessions += other.sessions;
        self.seconds += other.seconds;
        self.check_ins += other.check_ins;
        self.check_outs += other.check_outs;
        for (k, n) in &other.anomalies {
            *self.anomalies.entry(k).or_default() += n;
        }
    }

    pub(super) fn to_stored(&self) -> Value {
        json!({
            "persons": self.persons.iter().collect::<Vec<_>>(),
            "sessions": self.sessions,
            "seconds": self.seconds,
            "check_ins": self.check_ins,
            "check_outs": self.check_outs,
            "anomalies": self.anomalies,
        })
    }

    pub(super) fn from_stored(v: &Value) -> Figures {
        let n = |k: &str| v[k].as_u64().unwrap_or(0);
        Figures {
            persons: v["persons"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|p| p.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            sessions: n("sessions"),
            seconds: v["seconds"].as_i64().unwrap_or(0),
            check_ins: n("check_ins"),
            check_outs: n("check_outs"),
            anomalies: AnomalyKind::ALL
                .iter()
                .filter_map(|k| v["anomalies"][k.as_str()].as_u64().map(|c| (k.as_str(), c)))
                .collect(),
        }
    }

    /// A row of `GET …/statistics` (spec §4): `hours` rounded to two decimals, every
    /// anomaly kind present.
    pub fn to_row(&self, period: &str, site: Option<&str>) -> StatisticsRow {
        StatisticsRow {
            period: period.to_string(),
            site_id: site.map(str::to_string),
            persons: self.persons.len() as u64,
            sessions: self.sessions,
            hours: (self.seconds as f64 / 36.0).round() / 100.0,
            check_ins: self.check_ins,
            check_outs: self.check_outs,
            anomalies: AnomalyKind::ALL
                .iter()
                .map(|k| {
                    (
                        k.as_str().to_string(),
                        self.anomalies.get(k.as_str()).copied().unwrap_or(0),
                    )
                })
                .collect(),
        }
    }
}

/// Daily figures by (day, site) and by day in total, from an analysed window; only days
/// in `days` are kept (the rest of the window is context).
pub fn daily_figures(
    events: &[LedgerEvent],
    now: chrono::DateTime<chrono::Utc>,
    days: &BTreeSet<NaiveDate>,
) -> BTreeMap<NaiveDate, BTreeMap<Option<String>, Figures>> {
    let effective: Vec<LedgerEvent> = events.iter().filter(|e| !e.withdrawn).cloned().collect();
    let a = analyse(&effective, now);
    let duplicate: BTreeSet<usize> = a.duplicates.iter().map(|(d, _)| *d).collect();
    let mut out: BTreeMap<NaiveDate, BTreeMap<Option<String>, Figures>> = BTreeMap::new();
    let mut touch = |e: &LedgerEvent, f: &mut dyn FnMut(&mut Figures)| {
        let day = local_date(&e.occurred_at);
        if days.contains(&day) {
            let by_site = out.entry(day).or_default();
            f(by_site.entry(Some(e.site_id.to_string())).or_default());
            f(by_site.entry(None).or_default());
            // The same figures per employer, in the same pass (spec §4 `employer=`).
            if let Some(o) = &e.employer_orgnr {
                let o = o.to_string();
                f(by_site
                    .entry(Some(employer_slot(&o, Some(e.site_id.as_str()))))
                    .or_default());
                f(by_site.entry(Some(employer_slot(&o, None))).or_default());
            }
        }
    };
    for (i, e) in effective.iter().enumerate() {
        if duplicate.contains(&i) {
            continue;
        }
        touch(e, &mut |f| {
            f.persons.insert(e.person_ref.to_string());
            match e.direction {
                crate::model::Direction::In => f.check_ins += 1,
                crate::model::Direction::Out => f.check_outs += 1,
            }
        });
    }
    for s in &a.sessions {
        let (i, o) = (&effective[s.check_in], &effective[s.check_out]);
        let secs = (o.occurred_at - i.occurred_at).num_seconds();
        touch(i, &mut |f| {
            f.sessions += 1;
            f.seconds += secs;
        });
    }
    for x in &a.anomalies {
        touch(&effective[x.event], &mut |f| {
            *f.anomalies.entry(x.kind.as_str()).or_default() += 1
        });
    }
    // Days without any activity still get an (empty) total, so stale rows are replaced.
    for d in days {
        out.entry(*d).or_default();
    }
    out
}

/// The stored row slot of an employer's figures (per site, or `*` for its total): in
/// the same day partition as the company's rows, after them (`~`), never a site ID.
pub fn employer_slot(employer: &str, site: Option<&str>) -> String {
    format!("~E{employer}#{}", site.unwrap_or("*"))
}
