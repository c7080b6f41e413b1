//! How long the ledger is kept (spec §2.3, SFF 9 kap.): until two years after the end of
//! the calendar year in which the company's fiscal year ends.

use chrono::{Datelike, NaiveDate};

/// A company's fiscal-year end month, 1–12.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct FiscalYearEnd(u32);

impl FiscalYearEnd {
    pub fn new(month: u32) -> Result<Self, String> {
        if (1..=12).contains(&month) {
            Ok(FiscalYearEnd(month))
        } else {
            Err(format!("must be a month 1–12, got {month}"))
        }
    }
    pub fn month(self) -> u32 {
        self.0
    }
}

impl Default for FiscalYearEnd {
    fn default() -> Self {
        FiscalYearEnd(12)
    }
}

impl TryFrom<u32> for FiscalYearEnd {
    type Error = String;
    fn try_from(m: u32) -> Result<Self, String> {
        FiscalYearEnd::new(m)
    }
}

impl From<FiscalYearEnd> for u32 {
    fn from(f: FiscalYearEnd) -> u32 {
        f.0
    }
}

/// `retention_until` for an event on local date `day`: the fiscal year holding `day` ends
/// in calendar year Y; keep until Y+2-12-31.
pub fn retention_until(day: NaiveDate, fiscal_year_end: FiscalYearEnd) -> NaiveDate {
    let fiscal_year_ends_in = if day.month() <= fiscal_year_end.month() {
        day.year()
    } else {
        day.year() + 1
    };
    NaiveDate::from_ymd_opt(fiscal_year_ends_in + 2, 12, 31).expect("Dec 31 exists")
}

#[cfg(test)]
mod tests;
