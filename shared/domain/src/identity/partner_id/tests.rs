use super::*;

#[test]
fn path_like_and_unsafe_ids_are_refused() {
    for ok in ["ledger-1", "a", "Acme_2.0", &"x".repeat(64)] {
        assert_eq!(PartnerId::parse(ok).map(String::from), Ok(ok.to_string()));
    }
    for bad in [
        "",
        ".",
        "..",
        ".hidden",
        "-x",
        "_x",
        "a/b",
        "a b",
        "å",
        &"x".repeat(65),
    ] {
        assert!(PartnerId::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn reads_back_only_what_parses() {
    let ok: PartnerId = serde_json::from_str("\"ledger-1\"").unwrap();
    assert_eq!(ok.as_str(), "ledger-1");
    assert!(serde_json::from_str::<PartnerId>("\"..\"").is_err());
}
