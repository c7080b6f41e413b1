use super::validate_partner_id;

#[test]
fn partner_ids_that_look_like_paths_are_refused() {
    for ok in ["ledger-1", "a", "Acme_2.0", &"x".repeat(64)] {
        assert!(validate_partner_id(ok).is_ok(), "{ok}");
    }
    for bad in [
        ".",
        "..",
        ".hidden",
        "-x",
        "_x",
        "a/b",
        "a b",
        "",
        &"x".repeat(65),
        "å",
    ] {
        assert!(validate_partner_id(bad).is_err(), "{bad:?}");
    }
}
