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
