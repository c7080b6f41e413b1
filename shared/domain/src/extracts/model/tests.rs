use super::*;
use crate::time::format_rfc3339;
use serde_json::{json, Value};

fn body(v: Value) -> OrderBody {
    let m = v.as_object().unwrap();
    let s = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
    OrderBody {
        kind: s("kind"),
        format: s("format"),
        person_ref: s("person_ref"),
        from: s("from"),
        to: s("to"),
        site_id: s("site_id"),
        employer: s("employer"),
    }
}

fn field_of(e: DomainError) -> String {
    match e {
        DomainError::InvalidField { field, .. } | DomainError::MissingField { field, .. } => field,
        other => panic!("{other}"),
    }
}

#[test]
fn orders_are_validated_field_by_field() {
    let ok = body(json!({"kind": "authority", "format": "csv", "from": "2026-03-01", "to": "2026-04-01T00:00:00+02:00"})).validate().unwrap();
    assert_eq!(
        format_rfc3339(&ok.from.unwrap()),
        "2026-03-01T00:00:00+01:00"
    );
    assert_eq!(ok.to.unwrap().to_rfc3339(), "2026-04-01T00:00:00+02:00");
    let ok = body(json!({"kind": "register_extract", "format": "pdf", "person_ref": "pabc123"}))
        .validate()
        .unwrap();
    assert_eq!(ok.person_ref.as_deref(), Some("pabc123"));

    let cases = [
        (json!({"format": "pdf"}), "kind"),
        (json!({"kind": "everything", "format": "pdf"}), "kind"),
        (
            json!({"kind": "register_extract", "format": "csv", "person_ref": "p1"}),
            "format",
        ),
        (
            json!({"kind": "register_extract", "format": "pdf"}),
            "person_ref",
        ),
        (
            json!({"kind": "register_extract", "format": "pdf", "person_ref": "p/../x"}),
            "person_ref",
        ),
        (
            json!({"kind": "register_extract", "format": "json", "person_ref": "p1", "from": "2026-01-01"}),
            "from",
        ),
        (
            json!({"kind": "authority", "format": "xml", "from": "2026-01-01", "to": "2026-02-01"}),
            "format",
        ),
        (
            json!({"kind": "authority", "format": "csv", "to": "2026-02-01"}),
            "from",
        ),
        (
            json!({"kind": "authority", "format": "csv", "from": "2026-02-01", "to": "2026-02-01"}),
            "to",
        ),
        (
            json!({"kind": "authority", "format": "csv", "from": "yesterday", "to": "2026-02-01"}),
            "from",
        ),
        (
            json!({"kind": "authority", "format": "csv", "from": "2026-01-01", "to": "2026-02-01", "site_id": "sth"}),
            "site_id",
        ),
    ];
    for (b, field) in cases {
        assert_eq!(
            field_of(body(b.clone()).validate().unwrap_err()),
            field,
            "{b}"
        );
    }
}

#[test]
fn a_pending_extract_past_its_deadline_is_failed() {
    let at = "2026-03-01T10:00:00Z".parse::<DateTime<Utc>>().unwrap();
    let r = ExtractRecord {
        id: "x".into(),
        item_type: ITEM_TYPE.into(),
        kind: ExtractKind::Authority,
        format: ExtractFormat::Csv,
        status: ExtractStatus::Pending,
        request: body(
            json!({"kind": "authority", "format": "csv", "from": "2026-03-01", "to": "2026-03-02"}),
        )
        .validate()
        .unwrap(),
        company_orgnr: None,
        subject: None,
        ordered_by: Actor {
            sub: "u".into(),
            role: "company_user".into(),
            at,
        },
        file: None,
        error: None,
        finished_at: None,
        downloads: vec![],
        version: 0,
    };
    assert_eq!(
        r.status_at(at + chrono::Duration::minutes(5)),
        ExtractStatus::Pending
    );
    assert_eq!(
        r.status_at(at + chrono::Duration::minutes(61)),
        ExtractStatus::Failed
    );
}
