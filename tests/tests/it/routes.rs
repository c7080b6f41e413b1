//! infra/aws/routes.json is the one list of routes: template.yaml is checked against it
//! (infra/scripts/check_template_resources.py), and here each function's router is.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::Value;
use stamp_api::{AppState, Function};
use stamp_domain::identity::pseudonym::PseudonymKey;
use stamp_domain::memory::{MemoryArchive, MemoryItemStore};
use stamp_domain::ports::SystemClock;
use std::sync::Arc;
use tower::ServiceExt;

/// Who serves a route: one of the API's functions, or the portal.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Owner {
    Api(Function),
    Portal,
}

fn function(name: &str) -> Owner {
    if name == "portal" {
        return Owner::Portal;
    }
    Owner::Api(match name {
        "partner-import" => Function::PartnerImport,
        "company-query" => Function::CompanyQuery,
        "administration" => Function::Administration,
        "extracts" => Function::Extracts,
        "inspection" => Function::Inspection,
        other => panic!("routes.json names an unknown function {other}"),
    })
}

fn all_owners() -> Vec<Owner> {
    Function::ALL
        .into_iter()
        .map(Owner::Api)
        .chain([Owner::Portal])
        .collect()
}

fn concrete(path: &str) -> String {
    path.replace("{orgnr}", "5569999997")
        .replace("{person_ref}", "p0")
        .replace("{site_id}", "STH2026000001")
        .replace("{sub}", "u1")
        .replace("{id}", "x1")
        .replace("{batch_id}", "b1")
        .replace("{partner_id}", "pa1")
        .replace("{proxy+}", "style.css")
        .replace("{secret}", "s1")
}

async fn answers(owner: Owner, method: &str, path: &str) -> bool {
    let state = AppState::new(
        Arc::new(MemoryItemStore::default()),
        Arc::new(MemoryArchive::default()),
        PseudonymKey::new(b"k".to_vec()),
        Arc::new(SystemClock),
    );
    let req = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).unwrap())
        .uri(concrete(path))
        .body(Body::empty())
        .unwrap();
    let f = match owner {
        Owner::Api(f) => f,
        Owner::Portal => {
            // The portal's own routes, without its 404 page: an unrouted request answers
            // axum's empty 404 or 405.
            let cfg = stamp_local::portal_config(b"k", false);
            let res = stamp_portal::routes(state, cfg).oneshot(req).await.unwrap();
            let status = res.status();
            let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
                .await
                .unwrap();
            let unrouted = (status == StatusCode::NOT_FOUND && bytes.is_empty())
                || status == StatusCode::METHOD_NOT_ALLOWED;
            return !unrouted;
        }
    };
    let res = stamp_api::router(&[f], state).oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let unrouted = (status == StatusCode::NOT_FOUND && body["detail"] == "no such route")
        || status == StatusCode::METHOD_NOT_ALLOWED;
    !unrouted
}

#[tokio::test]
async fn each_function_serves_exactly_its_routes_in_routes_json() {
    let routes: Vec<Value> =
        serde_json::from_str(include_str!("../../../infra/aws/routes.json")).unwrap();
    assert!(routes.len() >= 15);
    for r in &routes {
        let (f, method, path) = (
            r["function"].as_str().unwrap(),
            r["method"].as_str().unwrap(),
            r["path"].as_str().unwrap(),
        );
        let owner = function(f);
        assert!(
            answers(owner, method, path).await,
            "{f} does not serve {method} {path}"
        );
        for other in all_owners().into_iter().filter(|x| *x != owner) {
            assert!(
                !answers(other, method, path).await,
                "{other:?} also serves {method} {path}"
            );
        }
    }
}
