use super::*;

#[test]
fn accepts_the_forms_of_spec_1() {
    assert_eq!(Orgnr::parse("5560360793").unwrap().as_str(), "5560360793");
    assert_eq!(Orgnr::parse("556036-0793").unwrap().as_str(), "5560360793");
    assert_eq!(Orgnr::parse("165560360793").unwrap().as_str(), "5560360793");
    // sole trader: personnummer 19811218-9876
    assert_eq!(Orgnr::parse("198112189876").unwrap().as_str(), "8112189876");
}

#[test]
fn rejects_bad_forms() {
    for bad in [
        "5560360794",
        "556036079",
        "55603607930",
        "abcdefghij",
        "",
        "175560360793",
        "198113329876",
    ] {
        assert!(Orgnr::parse(bad).is_err(), "{bad}");
    }
}
