use super::*;

#[test]
fn decodes_query_values() {
    assert_eq!(
        decode("2026-03-01T00%3A00%3A00%2B01%3A00"),
        "2026-03-01T00:00:00+01:00"
    );
    assert_eq!(decode("a+b"), "a b");
    assert_eq!(decode("100%"), "100%");
    assert_eq!(decode("%4"), "%4");
    assert_eq!(
        pairs("a=1&&b&c=%FF"),
        vec![
            ("a".into(), "1".into()),
            ("b".into(), "".into()),
            ("c".into(), "\u{fffd}".into())
        ]
    );
}
