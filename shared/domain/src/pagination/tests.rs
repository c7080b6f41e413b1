use super::*;

#[test]
fn cursors_round_trip_and_reject_garbage() {
    let c = Cursor::after("2026-01-01T00:00:00Z#p#e");
    assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
    assert!(Cursor::decode("not a cursor!").is_err());
    assert!(Cursor::decode("aGVsbG8").is_err());
    let huge = Cursor::after("k".repeat(100_000)).encode();
    assert!(
        matches!(Cursor::decode(&huge), Err(DomainError::InvalidField { field, .. }) if field == "cursor")
    );
}

#[test]
fn limits() {
    assert_eq!(clamp_limit(None).unwrap(), 100);
    assert_eq!(clamp_limit(Some(5000)).unwrap(), 1000);
    assert!(clamp_limit(Some(0)).is_err());
}
