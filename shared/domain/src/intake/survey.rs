//! The envelope-level survey of a whole delivery before any of it is stored: which
//! companies it names and the days their valid events fall on, enough to lock the
//! archived copy for as long as the events need. Streams and pushes both take it.

use super::parse::RawEvent;
use super::validate::{validate_event, within_bounds};
use crate::identity::Orgnr;
use crate::time::local_date;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};

pub(crate) fn raw_orgnr(raw: &RawEvent) -> Option<Orgnr> {
    raw.as_ref()
        .ok()
        .and_then(|m| m.get("company_orgnr"))
        .and_then(Value::as_str)
        .and_then(|o| Orgnr::parse(o).ok())
}

/// What the envelope-level reading of a whole delivery found out, before any of it is
/// stored: enough to lock its archived copy for as long as its events need.
#[derive(Debug, Default, Clone)]
pub(crate) struct Survey {
    /// When the delivery was received: events outside the ledger's time bounds from it
    /// are rejected, so they lock nothing.
    pub received: Option<DateTime<Utc>>,
    /// The latest local day of a valid event, per company.
    pub latest_day: HashMap<Orgnr, NaiveDate>,
    /// The earliest local day of a valid event, per company.
    pub earliest_day: HashMap<Orgnr, NaiveDate>,
    /// Every company a readable event names.
    pub companies: BTreeSet<Orgnr>,
}

impl Survey {
    pub(crate) fn add(&mut self, raw: &RawEvent) {
        if let Some(o) = raw_orgnr(raw) {
            self.companies.insert(o);
        }
        if let Ok(m) = raw {
            let checked = validate_event(m).and_then(|f| match self.received {
                Some(at) => within_bounds(f, at),
                None => Ok(f),
            });
            if let Ok(f) = checked {
                let day = local_date(&f.occurred_at);
                let first = self
                    .earliest_day
                    .entry(f.company_orgnr.clone())
                    .or_insert(day);
                *first = (*first).min(day);
                let slot = self.latest_day.entry(f.company_orgnr).or_insert(day);
                *slot = (*slot).max(day);
            }
        }
    }
}
