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
    fn sortable_is_fixed_width_and_monotonic_at_the_extremes() {
        let far = parse_rfc3339("9999-12-31T23:00:00-05:00").unwrap(); // year 10000 in UTC
        let near = parse_rfc3339("9999-12-30T00:00:00Z").unwrap();
        let early = parse_rfc3339("0000-01-01T00:30:00+01:00").unwrap(); // year -1 in UTC
        for t in [&far, &near, &early] {
            assert_eq!(sortable(t).len(), 27, "{}", sortable(t));
        }
        assert!(sortable(&near) < sortable(&far));
        assert!(sortable(&early) < sortable(&near));
    }

    #[test]
    fn event_times_are_bounded() {
        let received = parse_rfc3339("2026-03-02T07:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let t = |s| parse_rfc3339(s).unwrap();
        assert!(check_event_time(&t("2016-01-01T00:00:00Z"), received).is_ok());
        assert!(check_event_time(&t("2015-12-31T23:59:59Z"), received).is_err());
        assert!(check_event_time(&t("2016-01-01T00:30:00+01:00"), received).is_err());
        assert!(check_event_time(&t("2026-03-31T06:59:59Z"), received).is_ok());
        assert!(check_event_time(&t("2026-04-01T07:00:00Z"), received).is_err());
        assert!(check_event_time(&t("9999-12-31T00:00:00Z"), received).is_err());
    }

    #[test]
    fn query_ranges_are_bounded_and_ordered() {
        let now = Utc.with_ymd_and_hms(2026, 3, 2, 7, 0, 0).unwrap();
        let t = |s: &str| Some(parse_rfc3339(s).unwrap().with_timezone(&Utc));
        assert_eq!(query_range(None, None, now).unwrap().0, ledger_start());
        assert!(
            query_range(t("2027-01-01T00:00:00Z"), t("2026-01-01T00:00:00Z"), now)
                .is_err_and(|e| e.0 == "to")
        );
        assert!(query_range(None, t("9999-12-31T23:00:00Z"), now).is_err_and(|e| e.0 == "to"));
        assert!(query_range(t("1970-01-01T00:00:00Z"), None, now).is_err_and(|e| e.0 == "from"));
        assert!(query_range(t("2026-01-01T00:00:00Z"), t("2026-01-01T00:00:00Z"), now).is_err());
        assert!(query_range(t("2026-01-01T00:00:00Z"), t("2027-03-02T07:00:00Z"), now).is_ok());
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
