use super::*;

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}
fn days(list: &[&str]) -> BTreeSet<NaiveDate> {
    list.iter().map(|d| d.parse().unwrap()).collect()
}

// 2026-11-23 is a Monday.
const MON_TO_FRI: [&str; 5] = [
    "2026-11-23",
    "2026-11-24",
    "2026-11-25",
    "2026-11-26",
    "2026-11-27",
];

#[test]
fn a_whole_weekday_without_delivery_is_silence() {
    let last = t("2026-11-25T15:00:00Z"); // Wednesday
    let d = days(&MON_TO_FRI[..3]);
    // Thursday during the day: Thursday has not ended yet.
    assert_eq!(silent_since(&d, last, t("2026-11-26T20:00:00Z")), None);
    // Friday morning: Thursday passed without a delivery.
    assert_eq!(
        silent_since(&d, last, t("2026-11-27T05:00:00Z")),
        Some(last)
    );
}

#[test]
fn weekends_do_not_count() {
    let last = t("2026-11-27T15:00:00Z"); // Friday
    let d = days(&MON_TO_FRI);
    // Saturday, Sunday and Monday during the day: not silent.
    for now in [
        "2026-11-28T12:00:00Z",
        "2026-11-29T22:00:00Z",
        "2026-11-30T15:00:00Z",
    ] {
        assert_eq!(silent_since(&d, last, t(now)), None, "{now}");
    }
    // Tuesday: Monday passed with nothing.
    assert_eq!(
        silent_since(&d, last, t("2026-12-01T05:00:00Z")),
        Some(last)
    );
}

#[test]
fn a_rare_partner_is_never_silent() {
    let last = t("2026-11-25T15:00:00Z");
    let d = days(&["2026-11-16", "2026-11-25"]); // 2 of its last 10 weekdays
    assert_eq!(silent_since(&d, last, t("2026-12-10T05:00:00Z")), None);
    let d = days(&["2026-11-11", "2026-11-16", "2026-11-25"]); // 3, one outside
    assert_eq!(silent_since(&d, last, t("2026-12-10T05:00:00Z")), None);
    let d = days(&["2026-11-12", "2026-11-16", "2026-11-25"]); // 3 within 10 weekdays
    assert_eq!(
        silent_since(&d, last, t("2026-12-10T05:00:00Z")),
        Some(last)
    );
}

#[test]
fn local_days_decide() {
    // 23:30 UTC on Wednesday is Thursday 00:30 in Stockholm: Thursday is the last day.
    let last = t("2026-11-25T23:30:00Z");
    let d = days(&["2026-11-24", "2026-11-25", "2026-11-26"]);
    assert_eq!(silent_since(&d, last, t("2026-11-27T12:00:00Z")), None);
    assert_eq!(
        silent_since(&d, last, t("2026-11-27T23:30:00Z")),
        Some(last)
    );
}

#[test]
fn kept_days_are_bounded() {
    let mut d = BTreeSet::new();
    let start: NaiveDate = "2026-01-01".parse().unwrap();
    for i in 0..40 {
        remember_day(&mut d, start + chrono::Duration::days(i));
    }
    assert_eq!(d.len(), KEPT_DELIVERY_DAYS);
    assert_eq!(
        *d.iter().next().unwrap(),
        start + chrono::Duration::days(20)
    );
}
