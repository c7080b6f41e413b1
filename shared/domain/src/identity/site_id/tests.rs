use super::*;

#[test]
fn thirteen_upper_alnum() {
    assert!(SiteId::parse("ABC123DEF4567").is_ok());
    assert!(SiteId::parse("ABC123DEF456").is_err());
    assert!(SiteId::parse("ABC123DEF45678").is_err());
    assert!(SiteId::parse("abc123def4567").is_err());
    assert!(SiteId::parse("ABC123DEF456Å").is_err());
    assert!(SiteId::parse("ABC-23DEF4567").is_err());
}
