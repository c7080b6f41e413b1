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
