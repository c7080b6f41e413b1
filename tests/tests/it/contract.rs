//! The API document as the judge of every answer: each response an HTTP scenario receives
//! (through `TestServer::call`) is checked against docs' OpenAPI document — the operation
//! and its status must be documented and the body must validate against the schema of
//! that status and content type. Also: docs/openapi.json is current, and it documents
//! exactly the routes of infra/aws/routes.json.

use reqwest::Method;
use serde_json::{json, Value};
use std::sync::LazyLock;

static DOC: LazyLock<Value> = LazyLock::new(stamp_api::openapi::document);

/// The documented path template a request path matches, preferring literal segments.
fn template_of(path: &str) -> Option<&'static str> {
    let segs: Vec<&str> = path.split('/').collect();
    let paths = DOC["paths"].as_object()?;
    paths
        .keys()
        .filter_map(|t| {
            let ts: Vec<&str> = t.split('/').collect();
            if ts.len() != segs.len() {
                return None;
            }
            let mut literal = 0;
            for (a, b) in ts.iter().zip(&segs) {
                if a.starts_with('{') {
                    if b.is_empty() {
                        return None;
                    }
                } else if a == b {
                    literal += 1;
                } else {
                    return None;
                }
            }
            Some((literal, t.as_str()))
        })
        .max_by_key(|(l, _)| *l)
        .map(|(_, t)| t)
}

/// Panics unless the answer is what the document says `method path` answers.
#[track_caller]
pub fn check(method: &Method, path_and_query: &str, status: u16, content_type: &str, raw: &[u8]) {
    let path = path_and_query.split('?').next().unwrap_or("");
    // Routes of stamp-local alone (uploads' PUT, downloads, jobs) are not the API's.
    let Some(template) = template_of(path) else {
        return;
    };
    let method_key = method.as_str().to_ascii_lowercase();
    let Some(op) = DOC["paths"][template].get(&method_key) else {
        assert_eq!(
            status, 405,
            "{method} {template} is not in the API document but answered {status}"
        );
        return;
    };
    let responses = &op["responses"];
    let Some(response) = responses
        .get(status.to_string())
        .or_else(|| responses.get("default"))
    else {
        panic!(
            "{method} {template} answered {status}, which the API document does not list: {}",
            String::from_utf8_lossy(raw)
        );
    };
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let Some(content) = response.get("content") else {
        assert!(
            raw.is_empty(),
            "{method} {template} {status} is documented without a body, but has one"
        );
        return;
    };
    let Some(media) = content.get(&essence) else {
        panic!("{method} {template} {status} answered {essence:?}, not documented");
    };
    if !essence.ends_with("json") {
        return;
    }
    let body: Value = serde_json::from_slice(raw)
        .unwrap_or_else(|e| panic!("{method} {template} {status}: the body is not JSON ({e})"));
    let mut schema = media["schema"].clone();
    // Refs point into the document's components: give the schema the document's.
    schema["components"] = DOC["components"].clone();
    schema["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
    let validator = jsonschema::draft202012::new(&schema)
        .unwrap_or_else(|e| panic!("{method} {template} {status}: bad schema: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(&body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {template} {status}: the answer does not match the API document:\n  {}\nbody: {body}",
        errors.join("\n  ")
    );
}

#[test]
fn docs_openapi_json_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.json");
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        checked_in == stamp_api::openapi::document_text(),
        "docs/openapi.json is stale: run `cargo run -p stamp-local -- openapi > docs/openapi.json`"
    );
}

#[test]
fn the_document_has_exactly_the_routes_of_routes_json() {
    let routes: Vec<Value> =
        serde_json::from_str(include_str!("../../../infra/aws/routes.json")).unwrap();
    let mut listed = std::collections::BTreeSet::new();
    for r in &routes {
        let method = r["method"].as_str().unwrap().to_ascii_lowercase();
        let path = r["path"].as_str().unwrap();
        assert!(
            DOC["paths"][path].get(&method).is_some(),
            "{method} {path} (infra/aws/routes.json) is missing from the API document"
        );
        // A route with a token is documented with a security requirement, one without
        // with none.
        let security = &DOC["paths"][path][&method]["security"];
        assert_eq!(
            security.as_array().is_some_and(|s| !s.is_empty()),
            r["auth"].as_bool().unwrap(),
            "{method} {path}: security does not match routes.json's auth"
        );
        listed.insert((method, path.to_string()));
    }
    for (path, item) in DOC["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            assert!(
                listed.contains(&(method.clone(), path.clone())),
                "{method} {path} is documented but not in infra/aws/routes.json"
            );
        }
    }
    assert_eq!(DOC["openapi"], "3.1.0");
}

#[test]
fn every_schema_reference_resolves_and_every_problem_is_problem_json() {
    let text = DOC.to_string();
    let schemas = DOC["components"]["schemas"].as_object().unwrap();
    for part in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = part.split('"').next().unwrap();
        assert!(schemas.contains_key(name), "unresolved $ref {name}");
    }
    for (path, item) in DOC["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (status, r) in op["responses"].as_object().unwrap() {
                if status.starts_with('4') || status.starts_with('5') {
                    assert!(
                        r["content"]["application/problem+json"].is_object(),
                        "{method} {path} {status} is not problem+json"
                    );
                }
            }
        }
    }
    // The partner push shows a delivery both ways.
    let push = &DOC["paths"]["/partner/v1/batches"]["post"]["requestBody"]["content"];
    assert!(push["application/json"]["example"]["events"].is_array());
    assert!(push["text/csv"]["example"]
        .as_str()
        .unwrap()
        .starts_with("event_id,"));
}

#[test]
fn the_check_refuses_an_answer_that_breaks_the_document() {
    // An answer with a field of the wrong type, and an undocumented status, must fail.
    let wrong = serde_json::to_vec(&json!({"sites": [{"site_id": 7}]})).unwrap();
    let r = std::panic::catch_unwind(|| {
        check(
            &Method::GET,
            "/v1/companies/5569999997/sites",
            200,
            "application/json",
            &wrong,
        )
    });
    assert!(r.is_err(), "a wrong answer passed the check");
    let r =
        std::panic::catch_unwind(|| check(&Method::GET, "/health", 418, "application/json", b"{}"));
    assert!(r.is_err(), "an undocumented status passed the check");
    check(
        &Method::GET,
        "/health",
        200,
        "application/json",
        br#"{"status":"ok"}"#,
    );
}

async fn served_document_is_the_generated_one(s: &crate::server::TestServer) {
    let a = s.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(a.expect(200), stamp_api::openapi::document());
}

crate::on_every_store!(served_document_is_the_generated_one);
