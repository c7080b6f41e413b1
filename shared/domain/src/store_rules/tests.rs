use super::*;
use serde_json::json;

#[test]
fn numbers_compare_by_value() {
    assert!(json_eq(&json!(1), &json!(1.0)));
    assert!(json_eq(&json!({"a": [1, 2.5]}), &json!({"a": [1.0, 2.5]})));
    assert!(!json_eq(&json!(1), &json!("1")));
    assert!(!json_eq(&json!(i64::MAX), &json!(i64::MAX - 1)));
}

#[test]
fn prefix_positions() {
    let r = SkRange::Prefix("b#".into());
    assert_eq!(position(&r, "a#9"), Position::Before);
    assert_eq!(position(&r, "b#"), Position::In);
    assert_eq!(position(&r, "b#zz"), Position::In);
    assert_eq!(position(&r, "b$"), Position::After);
}

#[test]
fn contains_on_strings_and_lists() {
    let attrs = json!({"s": "hello", "l": ["ab", "cd"], "n": 5});
    let attrs = attrs.as_object().unwrap();
    assert!(contains_matches(attrs, "s", "ell"));
    assert!(contains_matches(attrs, "l", "cd"));
    assert!(!contains_matches(attrs, "l", "c"));
    assert!(!contains_matches(attrs, "n", "5"));
    assert!(!contains_matches(attrs, "missing", ""));
}
