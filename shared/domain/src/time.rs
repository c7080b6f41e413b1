//! Instants and Swedish local days. Partners send RFC 3339 with an offset; we keep the
//! offset they sent for display and compare as instants.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, SecondsFormat, TimeZone, Utc};
use chrono_tz::Europe::Stockholm;

pub type Instant = DateTime<FixedOffset>;

/// RFC 3339 with a mandatory offset (`Z` or `±HH:MM`).
pub fn parse_rfc3339(raw: &str) -> Result<Instant, String> {
    DateTime::parse_from_rfc3339(raw).map_err(|e| {
        format!("must be an RFC 3339 time with offset (e.g. 2026-03-02T07:00:00+01:00): {e}")
    })
}

/// RFC 3339 as we answer it: the offset as sent, seconds or finer as needed.
pub fn format_rfc3339(t: &Instant) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// A fixed-width UTC form that sorts as the instants do; used inside storage keys.
pub fn sortable(t: &Instant) -> String {
    sortable_utc(&t.with_timezone(&Utc))
}

/// Always 27 characters: an instant outside years 0000–9999 (which chrono would write
/// as `+10000-…` or `-0001-…`, sorting out of order) is written as the nearest end of
/// that span. The ledger's own bounds ([`check_event_time`], [`check_query_time`]) keep
/// every stored time far inside it; this only makes the key form total and monotonic.
pub fn sortable_utc(t: &DateTime<Utc>) -> String {
    let year = t.year();
    if year < 0 {
        return "0000-01-01T00:00:00.000000Z".into();
    }
    if year > 9999 {
        return "9999-12-31T23:59:59.999999Z".into();
    }
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Electronic staff ledgers became mandatory on 2016-01-01 (spec §2.7): no event or
/// query reaches before it.
pub fn ledger_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2016, 1, 1, 0, 0, 0)
        .single()
        .expect("a fixed, valid instant")
}

/// How far after its receipt an event may lie (spec §2.7: `[2016-01-01, received + 30 days)`).
pub const EVENT_HORIZON_DAYS: i64 = 30;

/// Whether an event's `occurred_at`/`recorded_at` lies in the ledger's domain:
/// `[2016-01-01T00:00:00Z, received + 30 days)`.
pub fn check_event_time(t: &Instant, received: DateTime<Utc>) -> Result<(), String> {
    let t = t.with_timezone(&Utc);
    if t < ledger_start() {
        return Err(
            "must not be before 2016-01-01T00:00:00Z (electronic staff ledgers began then)".into(),
        );
    }
    if t >= received + chrono::Duration::days(EVENT_HORIZON_DAYS) {
        return Err(format!(
            "must be less than {EVENT_HORIZON_DAYS} days after the delivery was received"
        ));
    }
    Ok(())
}

/// The latest instant a query may name: now + 1 year (spec §2.7).
pub fn query_horizon(now: DateTime<Utc>) -> DateTime<Utc> {
    now.checked_add_months(chrono::Months::new(12))
        .unwrap_or(now)
}

/// Whether a query's `from`/`to` lies in `[2016-01-01, now + 1 year]`.
pub fn check_query_time(t: &DateTime<Utc>, now: DateTime<Utc>) -> Result<(), String> {
    if *t < ledger_start() {
        return Err("must not be before 2016-01-01T00:00:00Z".into());
    }
    if *t > query_horizon(now) {
        return Err("must not be more than one year from now".into());
    }
    Ok(())
}

/// `[from, to)` in UTC.
pub type Span = (DateTime<Utc>, DateTime<Utc>);

/// A query's `[from, to)` in the ledger's domain: both ends in `[2016-01-01, now + 1
/// year]` and `from < to`; an absent end is the end of that domain. Errors name the field.
pub fn query_range(
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Span, (&'static str, String)> {
    let from = from.unwrap_or_else(ledger_start);
    let to = to.unwrap_or_else(|| query_horizon(now));
    check_query_time(&from, now).map_err(|e| ("from", e))?;
    check_query_time(&to, now).map_err(|e| ("to", e))?;
    if to <= from {
        return Err(("to", "must be after from".into()));
    }
    Ok((from, to))
}

/// The local date in Europe/Stockholm.
pub fn local_date(t: &Instant) -> NaiveDate {
    t.with_timezone(&Stockholm).date_naive()
}

/// Local `HH:MM:SS` in Europe/Stockholm.
pub fn local_time_hms(t: &Instant) -> String {
    t.with_timezone(&Stockholm).format("%H:%M:%S").to_string()
}

pub fn to_fixed(t: DateTime<Utc>) -> Instant {
    t.with_timezone(&FixedOffset::east_opt(0).expect("zero offset"))
}

/// The start of a local day as an instant (handles 23- and 25-hour days).
pub fn local_day_start(d: NaiveDate) -> Instant {
    let naive = d.and_hms_opt(0, 0, 0).expect("midnight");
    let t = Stockholm
        .from_local_datetime(&naive)
        .earliest()
        .expect("midnight exists in Stockholm");
    t.fixed_offset()
}

#[cfg(test)]
mod tests;
