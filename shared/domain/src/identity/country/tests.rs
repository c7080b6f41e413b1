#[test]
fn sorted_and_known() {
    assert!(super::CODES.windows(2).all(|w| w[0] < w[1]));
    assert!(super::is_iso3166_alpha2("SE"));
    assert!(!super::is_iso3166_alpha2("se"));
    assert!(!super::is_iso3166_alpha2("XX"));
}
