use super::*;

#[test]
fn secrets_are_long_random_and_hashed() {
    let (id1, s1) = new_secret().unwrap();
    let (id2, s2) = new_secret().unwrap();
    assert_ne!(s1, s2);
    assert_ne!(id1, id2);
    assert!(s1.starts_with(&format!("{id1}.")));
    let verifier = s1.split_once('.').unwrap().1;
    // 32 bytes in unpadded base64url: 43 characters, 256 bits.
    assert_eq!(verifier.len(), 43);
    assert_eq!(hash(&s1).len(), 64);
    assert_ne!(hash(&s1), hash(&s2));
}

#[test]
fn valid_hours_bounds() {
    use serde_json::json;
    assert_eq!(valid_hours(None).unwrap(), 72);
    assert_eq!(valid_hours(Some(&json!(1))).unwrap(), 1);
    assert_eq!(valid_hours(Some(&json!(336))).unwrap(), 336);
    for bad in [json!(0), json!(337), json!(-1), json!("5"), json!(1.5)] {
        assert!(matches!(
            valid_hours(Some(&bad)),
            Err(DomainError::InvalidField { ref field, .. }) if field == "valid_hours"
        ));
    }
}
