use super::*;
use crate::time::parse_rfc3339;

#[test]
fn formula_cells_are_escaped() {
    for (raw, want) in [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("+46", "'+46"),
        ("-1", "'-1"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("Åsa", "Åsa"),
        ("a=b", "a=b"),
        ("", ""),
    ] {
        assert_eq!(escape_formula(raw), want);
    }
}

#[test]
fn periods_in_words() {
    let t = |s| parse_rfc3339(s).unwrap();
    assert_eq!(
        period_text(
            &t("2026-03-01T00:00:00+01:00"),
            &t("2026-04-01T00:00:00+02:00")
        ),
        "2026-03-01 – 2026-03-31"
    );
    assert!(period_text(
        &t("2026-03-01T06:00:00+01:00"),
        &t("2026-03-01T18:00:00+01:00")
    )
    .starts_with("2026-03-01 06:00:00 – 2026-03-01 18:00:00"));
}
