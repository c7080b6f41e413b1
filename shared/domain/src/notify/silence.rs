//! Partner silence (spec §11): a partner that delivered events for the company on at
//! least 3 of its last 10 weekdays, and then delivered nothing for it during a whole
//! weekday (Mon–Fri, Swedish local time), is silent from its last delivery until it
//! delivers again.
//!
//! Computed from the delivery days Stamp records per partner and company at import
//! (the partner-health item), never from the ledger.

use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};
use std::collections::BTreeSet;

/// How many local delivery days a partner-health item keeps (enough for 10 weekdays).
pub const KEPT_DELIVERY_DAYS: usize = 20;
/// The window: the partner's last 10 weekdays up to and including its last delivery.
pub const WINDOW_WEEKDAYS: usize = 10;
/// Days with deliveries the window must hold for a gap to count as silence.
pub const MIN_ACTIVE_DAYS: usize = 3;

pub fn is_weekday(d: NaiveDate) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

pub fn local_day(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&chrono_tz::Europe::Stockholm).date_naive()
}

/// When the partner fell silent (its last delivery), or `None` while it is not silent.
pub fn silent_since(
    delivery_days: &BTreeSet<NaiveDate>,
    last_delivery: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let last_day = local_day(last_delivery);
    let today = local_day(now);
    // A whole weekday without a delivery: a weekday after the last delivery's day that
    // has ended (before today). Weekends never count.
    let mut d = last_day.succ_opt()?;
    let mut whole_weekday_gap = false;
    while d < today {
        if is_weekday(d) {
            whole_weekday_gap = true;
            break;
        }
        d = d.succ_opt()?;
    }
    if !whole_weekday_gap {
        return None;
    }
    // Its last 10 weekdays, ending with the day of its last delivery.
    let mut window = Vec::with_capacity(WINDOW_WEEKDAYS);
    let mut d = last_day;
    while window.len() < WINDOW_WEEKDAYS {
        if is_weekday(d) {
            window.push(d);
        }
        d = d.pred_opt()?;
    }
    let active = window.iter().filter(|d| delivery_days.contains(d)).count();
    (active >= MIN_ACTIVE_DAYS).then_some(last_delivery)
}

/// Adds a day to the kept delivery days, dropping the oldest beyond the limit.
pub fn remember_day(days: &mut BTreeSet<NaiveDate>, day: NaiveDate) {
    days.insert(day);
    while days.len() > KEPT_DELIVERY_DAYS {
        let first = *days.iter().next().expect("non-empty");
        days.remove(&first);
    }
}

#[cfg(test)]
mod tests;
