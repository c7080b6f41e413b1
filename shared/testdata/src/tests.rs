use super::*;
use std::collections::BTreeSet;

#[test]
fn generation_is_deterministic_and_realistic() {
    let cfg = SimConfig::default();
    let a = generate(&cfg, "5569999997", "A");
    assert_eq!(a, generate(&cfg, "5569999997", "A"));
    assert_ne!(a, generate(&cfg, "5599000006", "A"));
    assert!(a.len() > 100, "{}", a.len());
    assert!(a.iter().any(|e| e.get("corrects").is_some()));
    let ids: BTreeSet<&str> = a.iter().map(|e| e["event_id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), a.len(), "event ids are unique");
    for e in &a {
        assert_eq!(e["site_id"].as_str().unwrap().len(), 13);
    }
}

#[test]
fn personnummer_pass_luhn() {
    let id = personnummer(NaiveDate::from_ymd_opt(1981, 12, 18).unwrap(), 987);
    assert_eq!(id, "198112189876");
}

#[test]
fn sequential_calls_count_what_waits_for_what() {
    use crate::calls::sequential;
    assert_eq!(sequential::<u32>(&[]), 0);
    // Three at once, then one after all of them, then two at once after that.
    assert_eq!(
        sequential(&[(0, 10), (1, 11), (2, 9), (12, 20), (21, 30), (22, 31)]),
        3
    );
    // A long call beside a chain of short ones: the chain decides.
    assert_eq!(sequential(&[(0, 100), (1, 10), (11, 20), (21, 30)]), 3);
    // Touching ends count as one after another; overlapping ones do not.
    assert_eq!(sequential(&[(0, 10), (10, 20)]), 2);
    assert_eq!(sequential(&[(0, 10), (9, 20)]), 1);
    // Calls that took no time, one after another.
    assert_eq!(sequential(&[(5, 5), (6, 6), (7, 7)]), 3);
}
