use super::*;

#[test]
fn personnummer_forms() {
    let p = PersonId::parse("198112189876", None, None).unwrap();
    assert!(p.valid());
    assert_eq!(p.kind(), PersonIdKind::Personnummer);
    assert_eq!(p.masked(), "19811218-XXXX");
    assert_eq!(
        PersonId::parse("19811218-9876", None, None)
            .unwrap()
            .value(),
        "198112189876"
    );
    assert_eq!(
        PersonId::parse("19811218+9876", None, None)
            .unwrap()
            .value(),
        "198112189876"
    );
}

#[test]
fn wrong_length_is_rejected() {
    for bad in [
        "8112189876",
        "19811218987",
        "1981121898760",
        "19811218-98760",
        "abcdefghijkl",
    ] {
        assert!(PersonId::parse(bad, None, None).is_err(), "{bad}");
    }
}

#[test]
fn bad_checksum_or_date_is_kept_but_flagged() {
    let p = PersonId::parse("198112189877", None, None).unwrap();
    assert!(!p.valid());
    let p = PersonId::parse("198113189876", None, None).unwrap();
    assert!(!p.valid());
    let p = PersonId::parse("199002301234", None, None).unwrap();
    assert!(!p.valid());
}

#[test]
fn samordningsnummer_is_day_plus_60() {
    // 1981-12-18 + 60 => day 78; recompute the check digit for 8112789876's first nine
    let base = "811278987";
    let check = (0..10).find(|d| luhn_ok(&format!("{base}{d}"))).unwrap();
    let id = format!("19{base}{check}");
    let p = PersonId::parse(&id, None, None).unwrap();
    assert_eq!(p.kind(), PersonIdKind::Samordningsnummer);
    assert!(p.valid());
    // day 92 = 32 + 60 does not exist
    let base = "811292987";
    let check = (0..10).find(|d| luhn_ok(&format!("{base}{d}"))).unwrap();
    assert!(!PersonId::parse(&format!("19{base}{check}"), None, None)
        .unwrap()
        .valid());
}

#[test]
fn foreign_ids_need_a_country() {
    let p = PersonId::parse("X1234567", Some("foreign"), Some("PL")).unwrap();
    assert_eq!(p.kind(), PersonIdKind::Foreign);
    assert!(p.valid());
    assert!(PersonId::parse("X1234567", Some("foreign"), None).is_err());
    assert!(PersonId::parse("X1234567", Some("foreign"), Some("XX")).is_err());
    assert!(PersonId::parse(&"a".repeat(33), Some("foreign"), Some("PL")).is_err());
    assert!(PersonId::parse("1", Some("alien"), None).is_err());
}
