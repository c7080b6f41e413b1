use super::*;
use serde_json::json;

fn base() -> Map<String, Value> {
    json!({
        "event_id": "e1", "company_orgnr": "5560360793", "company_name": "Bygg AB",
        "site_id": "ABC123DEF4567", "person_id": "198112189876", "person_name": "Åsa Öberg",
        "direction": "in", "occurred_at": "2026-03-02T07:00:00+01:00"
    })
    .as_object()
    .unwrap()
    .clone()
}

fn with(field: &str, v: Value) -> Map<String, Value> {
    let mut m = base();
    m.insert(field.into(), v);
    m
}

fn rejected(m: Map<String, Value>) -> Rejection {
    validate_event(&m).unwrap_err()
}

#[test]
fn a_good_event() {
    let e = validate_event(&base()).unwrap();
    assert_eq!(e.source, Source::Card);
    assert!(e.recorded_at.is_none());
    assert!(e.person.valid());
}

#[test]
fn every_required_field() {
    for f in [
        "event_id",
        "company_orgnr",
        "company_name",
        "site_id",
        "person_id",
        "person_name",
        "direction",
        "occurred_at",
    ] {
        let mut m = base();
        m.remove(f);
        let r = rejected(m);
        assert_eq!((r.code, r.field.as_str()), (RejectionCode::MissingField, f));
        let r = rejected(with(f, json!("")));
        assert_eq!(r.code, RejectionCode::MissingField, "{f} empty");
        let r = rejected(with(f, json!(12)));
        assert_eq!(
            (r.code, r.field.as_str()),
            (RejectionCode::InvalidField, f),
            "{f} mistyped"
        );
    }
}

#[test]
fn bad_values_name_their_field() {
    let cases = [
        ("site_id", json!("ABC123")),
        ("site_id", json!("abc123def4567")),
        ("person_id", json!("8112189876")),
        ("person_id", json!("19811218987")),
        ("person_id", json!("1981121898760")),
        ("occurred_at", json!("2026-03-02T07:00:00")),
        ("occurred_at", json!("2026-02-30T07:00:00Z")),
        ("recorded_at", json!("yesterday")),
        ("direction", json!("IN")),
        ("source", json!("fax")),
        ("company_orgnr", json!("5560360794")),
        ("person_id_kind", json!("martian")),
        ("void", json!("maybe")),
    ];
    for (f, v) in cases {
        let r = rejected(with(f, v.clone()));
        assert_eq!(r.code, RejectionCode::InvalidField, "{f}={v}");
        assert_eq!(r.field, f, "{f}={v}");
        assert!(r.message.starts_with(f));
    }
}

#[test]
fn manual_needs_recorded_by_and_void_needs_corrects() {
    let r = rejected(with("source", json!("manual")));
    assert_eq!(
        (r.code, r.field.as_str()),
        (RejectionCode::MissingField, "recorded_by")
    );
    let r = rejected(with("void", json!(true)));
    assert_eq!(r.field, "void");
    let mut m = with("void", json!("true"));
    m.insert("corrects".into(), json!("e0"));
    assert!(validate_event(&m).unwrap().void);
}

#[test]
fn invalid_checksum_is_kept() {
    let e = validate_event(&with("person_id", json!("19811218-9877"))).unwrap();
    assert!(!e.person.valid());
}

#[test]
fn foreign_ids() {
    let mut m = with("person_id_kind", json!("foreign"));
    m.insert("person_id".into(), json!("AB123456"));
    let r = validate_event(&m).unwrap_err();
    assert_eq!(
        (r.code, r.field.as_str()),
        (RejectionCode::MissingField, "person_country")
    );
    m.insert("person_country".into(), json!("ZZ"));
    assert_eq!(validate_event(&m).unwrap_err().field, "person_country");
    m.insert("person_country".into(), json!("PL"));
    assert!(validate_event(&m).is_ok());
}

#[test]
fn sameness_ignores_a_defaulted_recorded_at_and_compares_instants() {
    let a = validate_event(&base()).unwrap();
    let b = validate_event(&with("occurred_at", json!("2026-03-02T06:00:00Z"))).unwrap();
    assert!(a.same_delivery_as(&b));
    let c = validate_event(&with("recorded_at", json!("2026-03-02T06:00:00Z"))).unwrap();
    assert!(a.same_delivery_as(&c));
    let d = validate_event(&with("site_id", json!("ABC123DEF4568"))).unwrap();
    assert!(!a.same_delivery_as(&d));
    let e = validate_event(&with("card_number", json!(""))).unwrap();
    assert!(a.same_delivery_as(&e));
}
