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

#[test]
fn stored_ids_read_back_unchecked_and_unchanged() {
    #[derive(serde::Serialize, serde::Deserialize)]
    struct Stored {
        #[serde(deserialize_with = "PartnerId::deserialize_stored")]
        partner_id: PartnerId,
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "PartnerId::deserialize_stored_option"
        )]
        also: Option<PartnerId>,
    }
    // Written before the alphabet was enforced: still read, and written back the same.
    let json = r#"{"partner_id":"old id","also":".."}"#;
    let s: Stored = serde_json::from_str(json).unwrap();
    assert_eq!(s.partner_id, PartnerId::from_stored("old id"));
    assert_eq!(serde_json::to_string(&s).unwrap(), json);
    let s: Stored = serde_json::from_str(r#"{"partner_id":"ledger-1"}"#).unwrap();
    assert!(s.also.is_none());
    assert_eq!(
        serde_json::to_string(&s).unwrap(),
        r#"{"partner_id":"ledger-1"}"#
    );
}
