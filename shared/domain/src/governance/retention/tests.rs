use super::*;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

#[test]
fn examples_of_spec_2_3() {
    assert_eq!(
        retention_until(d("2024-03-10"), FiscalYearEnd::default()),
        d("2026-12-31")
    );
    assert_eq!(
        retention_until(d("2024-06-01"), FiscalYearEnd::new(4).unwrap()),
        d("2027-12-31")
    );
}

#[test]
fn fiscal_year_boundaries() {
    let april = FiscalYearEnd::new(4).unwrap();
    assert_eq!(retention_until(d("2025-04-30"), april), d("2027-12-31"));
    assert_eq!(retention_until(d("2025-05-01"), april), d("2028-12-31"));
    assert_eq!(
        retention_until(d("2024-12-31"), FiscalYearEnd::default()),
        d("2026-12-31")
    );
    assert_eq!(
        retention_until(d("2025-01-01"), FiscalYearEnd::default()),
        d("2027-12-31")
    );
    assert!(FiscalYearEnd::new(0).is_err());
    assert!(FiscalYearEnd::new(13).is_err());
}
