//! The rows of spec §8: one per work session or unpaired event, a duplicate listed with
//! the event it repeats, a withdrawn event in a row of its own. Sessions, duplicates and
//! anomalies come from `analysis::analyse` — the one place that holds the rules.
//!
//! Which rows belong to a range `[from, to)`: a session or unpaired event by the time of
//! its first event (as in every view); a withdrawn event by its own time; a duplicate by
//! its own time, listed in the row of the event it repeats when that row is in the
//! extract, else in a row of its own. So adjacent ranges list every event exactly once.
//! A long range is built chunk by chunk (rows are sorted by date first, so chunks of
//! whole days come out in order): each chunk is analysed on a window widened by the
//! views' LOOKBACK/LOOKAHEAD, and a duplicate whose row was emitted by an earlier chunk
//! is not emitted again.

use crate::identity::pseudonym::PersonRef;
use crate::identity::{Orgnr, PartnerId, PersonId, PersonIdKind, SiteId};
use crate::model::{Direction, EventKey, LedgerEvent};
use crate::reads::analysis::{analyse, AnomalyKind, Unpaired};
use crate::table::CorrectionEntry;
use crate::time::{local_date, Instant};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Europe::Stockholm;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};

mod corrections;
pub use corrections::{correction_json, correction_text};

/// The columns of an authority extract, in order (spec §8).
pub const COLUMNS: [&str; 15] = [
    "company_orgnr",
    "company_name",
    "site_id",
    "person_name",
    "person_id",
    "date",
    "check_in",
    "check_out",
    "duration_minutes",
    "source",
    "partner_id",
    "event_ids",
    "corrections",
    "anomalies",
    "employer_orgnr",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowKind {
    Session,
    MissingCheckIn,
    MissingCheckOut,
    /// An open check-in less than 16 h old at the time of rendering.
    OnSite,
    /// A duplicate whose kept event's row is not in the extract.
    Duplicate,
    /// An event withdrawn by a `void` correction.
    Withdrawn,
}

impl RowKind {
    /// How the register extract names it.
    pub fn label_sv(self) -> &'static str {
        match self {
            RowKind::Session => "arbetspass",
            RowKind::MissingCheckIn => "utpassering utan inpassering",
            RowKind::MissingCheckOut => "inpassering utan utpassering",
            RowKind::OnSite => "på plats (ej utpasserad än)",
            RowKind::Duplicate => "dubbelregistrering",
            RowKind::Withdrawn => "återkallad registrering",
        }
    }
}

/// One row. `check_in`/`check_out` hold the row's own events; `duplicates` the repeats
/// listed with it.
#[derive(Debug, Clone)]
pub struct Row {
    pub kind: RowKind,
    pub check_in: Option<LedgerEvent>,
    pub check_out: Option<LedgerEvent>,
    pub duplicates: Vec<LedgerEvent>,
    /// Each anomaly flagged on an event of the row: kind and the flagged event.
    pub anomalies: Vec<(AnomalyKind, EventKey)>,
    /// The correction history of each event of the row that has one, in order.
    pub corrections: Vec<(EventKey, CorrectionEntry)>,
}

/// Which rows an extract wants besides the range.
#[derive(Debug, Clone, Default)]
pub struct RowFilter {
    pub site: Option<SiteId>,
    pub person_ref: Option<PersonRef>,
    /// Only rows whose event names this employer (spec §4 `employer=`).
    pub employer: Option<Orgnr>,
}

impl RowFilter {
    fn accepts(&self, e: &LedgerEvent) -> bool {
        self.site.as_ref().is_none_or(|s| &e.site_id == s)
            && self.person_ref.as_ref().is_none_or(|p| &e.person_ref == p)
            && self
                .employer
                .as_ref()
                .is_none_or(|o| e.employer_orgnr.as_ref() == Some(o))
    }
}

/// `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub from: Instant,
    pub to: Instant,
}

impl Span {
    pub fn contains(&self, t: &Instant) -> bool {
        *t >= self.from && *t < self.to
    }
}

/// Swedish local `YYYY-MM-DD HH:MM:SS`.
pub fn local_datetime(t: &Instant) -> String {
    t.with_timezone(&Stockholm)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

pub fn local_datetime_utc(t: &DateTime<Utc>) -> String {
    t.with_timezone(&Stockholm)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

fn local_hms(t: &Instant) -> String {
    t.with_timezone(&Stockholm).format("%H:%M:%S").to_string()
}

/// A person's id in full, as extracts show it (spec §2.6): `YYYYMMDD-NNNN`, or a foreign
/// id with its country.
pub fn person_id_full(p: &PersonId) -> String {
    match p.kind() {
        PersonIdKind::Foreign => format!("{} ({})", p.value(), p.country().unwrap_or("??")),
        _ => format!("{}-{}", &p.value()[..8], &p.value()[8..]),
    }
}

fn event_ref(k: &EventKey) -> String {
    format!("{}:{}", k.partner_id, k.event_id)
}

impl Row {
    /// The row's first event: its check-in, or its only event.
    pub fn primary(&self) -> &LedgerEvent {
        match (&self.check_in, &self.check_out) {
            (Some(e), _) | (None, Some(e)) => e,
            (None, None) => unreachable!("a row always holds an event"),
        }
    }

    /// The time the row is sorted and ranged by.
    pub fn anchor(&self) -> Instant {
        self.primary().occurred_at
    }

    pub fn date(&self) -> NaiveDate {
        local_date(&self.anchor())
    }

    /// Its own events, then the duplicates listed with it.
    pub fn events(&self) -> impl Iterator<Item = &LedgerEvent> {
        self.check_in
            .iter()
            .chain(self.check_out.iter())
            .chain(self.duplicates.iter())
    }

    /// Whole minutes of a work session, rounded down.
    pub fn duration_minutes(&self) -> Option<i64> {
        match (self.kind, &self.check_in, &self.check_out) {
            (RowKind::Session, Some(i), Some(o)) => {
                Some((o.occurred_at - i.occurred_at).num_seconds().div_euclid(60))
            }
            _ => None,
        }
    }

    pub fn seconds(&self) -> i64 {
        match (self.kind, &self.check_in, &self.check_out) {
            (RowKind::Session, Some(i), Some(o)) => (o.occurred_at - i.occurred_at).num_seconds(),
            _ => 0,
        }
    }

    pub fn anomaly_kinds(&self) -> BTreeSet<AnomalyKind> {
        self.anomalies.iter().map(|(k, _)| *k).collect()
    }

    /// The sort order of spec §8: date, person_name, person_id, then time.
    fn sort_key(&self) -> (NaiveDate, String, String, Instant, PartnerId, String) {
        let p = self.primary();
        (
            self.date(),
            p.person_name.clone(),
            person_id_full(&p.person),
            p.occurred_at,
            p.partner_id.clone(),
            p.event_id.clone(),
        )
    }

    fn own_values(&self, f: impl Fn(&LedgerEvent) -> &str) -> String {
        let mut seen: Vec<&str> = Vec::new();
        for e in self.check_in.iter().chain(self.check_out.iter()) {
            let v = f(e);
            if !seen.contains(&v) {
                seen.push(v);
            }
        }
        seen.join("/")
    }

    pub fn check_in_text(&self) -> String {
        self.check_in
            .as_ref()
            .map(|e| local_hms(&e.occurred_at))
            .unwrap_or_default()
    }

    /// `HH:MM:SS`, or `YYYY-MM-DD HH:MM:SS` on a later day than the row's date.
    pub fn check_out_text(&self) -> String {
        self.check_out
            .as_ref()
            .map(|e| {
                if local_date(&e.occurred_at) != self.date() {
                    local_datetime(&e.occurred_at)
                } else {
                    local_hms(&e.occurred_at)
                }
            })
            .unwrap_or_default()
    }

    pub fn source_text(&self) -> String {
        self.own_values(|e| e.source.as_str())
    }

    pub fn partner_text(&self) -> String {
        self.own_values(|e| e.partner_id.as_str())
    }

    pub fn event_ids(&self) -> Vec<String> {
        self.events().map(|e| event_ref(&e.key())).collect()
    }

    pub fn corrections_text(&self) -> String {
        self.corrections
            .iter()
            .map(|(k, c)| correction_text(k, c))
            .collect::<Vec<_>>()
            .join(" | ")
    }

    pub fn anomalies_text(&self) -> String {
        self.anomaly_kinds()
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The 15 cells of [`COLUMNS`], as CSV and PDF write them.
    pub fn cells(&self) -> [String; 15] {
        let p = self.primary();
        [
            p.company_orgnr.to_string(),
            p.company_name.clone(),
            p.site_id.to_string(),
            p.person_name.clone(),
            person_id_full(&p.person),
            self.date().to_string(),
            self.check_in_text(),
            self.check_out_text(),
            self.duration_minutes()
                .map(|m| m.to_string())
                .unwrap_or_default(),
            self.source_text(),
            self.partner_text(),
            self.event_ids().join(" "),
            self.corrections_text(),
            self.anomalies_text(),
            p.employer_orgnr
                .as_ref()
                .map(|o| o.to_string())
                .unwrap_or_default(),
        ]
    }

    /// The row as JSON: the same columns and formats, lists as arrays and each correction
    /// in full.
    pub fn to_json(&self) -> Value {
        let p = self.primary();
        let text = |s: String| if s.is_empty() { Value::Null } else { json!(s) };
        json!({
            "company_orgnr": p.company_orgnr,
            "company_name": p.company_name,
            "site_id": p.site_id,
            "person_name": p.person_name,
            "person_id": person_id_full(&p.person),
            "date": self.date().to_string(),
            "check_in": text(self.check_in_text()),
            "check_out": text(self.check_out_text()),
            "duration_minutes": self.duration_minutes(),
            "source": self.source_text(),
            "partner_id": self.partner_text(),
            "event_ids": self.event_ids(),
            "corrections": self.corrections.iter().map(|(k, c)| correction_json(k, c)).collect::<Vec<_>>(),
            "anomalies": self.anomaly_kinds().iter().map(|k| k.as_str()).collect::<Vec<_>>(),
            "employer_orgnr": p.employer_orgnr,
            "row_kind": self.kind,
        })
    }
}

/// The rows whose first event lies in `chunk` (a part of the extract's `range`), from a
/// window of events around it (`chunk` widened by LOOKBACK/LOOKAHEAD; withdrawn events
/// included), analysed at `now`. Corrections are attached afterwards
/// ([`attach_corrections`]). Sorted as spec §8 says.
pub fn build_rows(
    events: Vec<LedgerEvent>,
    chunk: Span,
    range: Span,
    filter: &RowFilter,
    now: DateTime<Utc>,
) -> Vec<Row> {
    let (withdrawn, effective): (Vec<LedgerEvent>, Vec<LedgerEvent>) =
        events.into_iter().partition(|e| e.withdrawn);
    let a = analyse(&effective, now);
    let n = effective.len();
    // The row each event is listed in, and the first-event time of the row each kept
    // event belongs to (whether or not that row is in this chunk).
    let mut row_of: Vec<Option<usize>> = vec![None; n];
    let mut anchor_of: Vec<Option<Instant>> = vec![None; n];
    let mut rows: Vec<Row> = Vec::new();
    let new_row = |kind, check_in: Option<&LedgerEvent>, check_out: Option<&LedgerEvent>| Row {
        kind,
        check_in: check_in.cloned(),
        check_out: check_out.cloned(),
        duplicates: Vec::new(),
        anomalies: Vec::new(),
        corrections: Vec::new(),
    };
    let wanted = |e: &LedgerEvent| chunk.contains(&e.occurred_at) && filter.accepts(e);

    for s in &a.sessions {
        let (i, o) = (&effective[s.check_in], &effective[s.check_out]);
        anchor_of[s.check_in] = Some(i.occurred_at);
        anchor_of[s.check_out] = Some(i.occurred_at);
        if wanted(i) {
            row_of[s.check_in] = Some(rows.len());
            row_of[s.check_out] = Some(rows.len());
            rows.push(new_row(RowKind::Session, Some(i), Some(o)));
        }
    }
    for &(i, reason) in &a.unpaired {
        let e = &effective[i];
        anchor_of[i] = Some(e.occurred_at);
        if wanted(e) {
            let kind = match reason {
                Unpaired::MissingCheckIn => RowKind::MissingCheckIn,
                Unpaired::MissingCheckOut => RowKind::MissingCheckOut,
                Unpaired::OnSite => RowKind::OnSite,
            };
            row_of[i] = Some(rows.len());
            rows.push(match e.direction {
                Direction::In => new_row(kind, Some(e), None),
                Direction::Out => new_row(kind, None, Some(e)),
            });
        }
    }
    // Duplicates come in order of time, so one repeating a repeat finds its row set.
    for &(d, k) in &a.duplicates {
        let dup = &effective[d];
        if !range.contains(&dup.occurred_at) {
            continue;
        }
        match anchor_of[k] {
            // The repeated event's row is in the extract: list the duplicate there — if
            // this chunk holds that row (an earlier chunk listed it otherwise).
            Some(anchor) if range.contains(&anchor) => {
                if let (true, Some(r)) = (chunk.contains(&anchor), row_of[k]) {
                    row_of[d] = Some(r);
                    rows[r].duplicates.push(dup.clone());
                }
            }
            _ => {
                if wanted(dup) {
                    row_of[d] = Some(rows.len());
                    rows.push(match dup.direction {
                        Direction::In => new_row(RowKind::Duplicate, Some(dup), None),
                        Direction::Out => new_row(RowKind::Duplicate, None, Some(dup)),
                    });
                }
            }
        }
    }
    for x in &a.anomalies {
        if let Some(r) = row_of[x.event] {
            rows[r].anomalies.push((x.kind, effective[x.event].key()));
        }
    }
    for e in withdrawn.iter().filter(|e| wanted(e)) {
        rows.push(match e.direction {
            Direction::In => new_row(RowKind::Withdrawn, Some(e), None),
            Direction::Out => new_row(RowKind::Withdrawn, None, Some(e)),
        });
    }
    sort_rows(&mut rows);
    rows
}

pub fn sort_rows(rows: &mut [Row]) {
    rows.sort_by_cached_key(Row::sort_key);
}

/// The events of the rows whose correction history must be read.
pub fn corrected_events(rows: &[Row]) -> Vec<EventKey> {
    rows.iter()
        .flat_map(|r| r.events())
        .filter(|e| e.corrections > 0)
        .map(LedgerEvent::key)
        .collect()
}

/// Attaches each event's correction history (read per corrected event) to its row.
pub fn attach_corrections(rows: &mut [Row], history: &HashMap<EventKey, Vec<CorrectionEntry>>) {
    for r in rows {
        let keys: Vec<EventKey> = r
            .events()
            .filter(|e| e.corrections > 0)
            .map(LedgerEvent::key)
            .collect();
        for k in keys {
            for c in history.get(&k).into_iter().flatten() {
                r.corrections.push((k.clone(), c.clone()));
            }
        }
    }
}

#[cfg(test)]
mod tests;
