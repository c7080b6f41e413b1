//! Instants and Swedish local days. Partners send RFC 3339 with an offset; we keep the
//! offset they sent for display and compare as instants.

use chrono::{DateTime, FixedOffset, NaiveDate, SecondsFormat, TimeZone, Utc};
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
    t.with_timezone(&Utc)
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

pub fn sortable_utc(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
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
mod tests {
    use super::*;

    #[test]
    fn offsets_are_required() {
        assert!(parse_rfc3339("2026-03-02T07:00:00+01:00").is_ok());
        assert!(parse_rfc3339("2026-03-02T07:00:00Z").is_ok());
        assert!(parse_rfc3339("2026-03-02T07:00:00").is_err());
        assert!(parse_rfc3339("2026-02-30T07:00:00Z").is_err());
    }

    #[test]
    fn sortable_orders_instants() {
        let a = parse_rfc3339("2026-03-02T07:00:00+01:00").unwrap();
        let b = parse_rfc3339("2026-03-02T06:30:00Z").unwrap();
        assert!(sortable(&a) < sortable(&b));
        assert_eq!(sortable(&a), "2026-03-02T06:00:00.000000Z");
    }

    #[test]
    fn local_days() {
        let t = parse_rfc3339("2026-03-01T23:30:00Z").unwrap();
        assert_eq!(local_date(&t).to_string(), "2026-03-02");
        assert_eq!(local_time_hms(&t), "00:30:00");
        let summer = parse_rfc3339("2026-07-01T22:30:00Z").unwrap();
        assert_eq!(local_time_hms(&summer), "00:30:00");
    }
}
