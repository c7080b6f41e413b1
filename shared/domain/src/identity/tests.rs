use super::*;

#[test]
fn luhn_known_values() {
    assert!(luhn_ok("5560360793")); // a real-format orgnr
    assert!(luhn_ok("8112189876"));
    assert!(!luhn_ok("8112189877"));
}
