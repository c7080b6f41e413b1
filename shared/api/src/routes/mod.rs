//! One module per Lambda function; each builds the router that function serves.
//! stamp-local merges them all, so the local server cannot drift from AWS.

pub mod administration;
pub mod employee_query;
pub mod extracts;
pub mod inspection;
pub mod partner_import;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use stamp_domain::pagination::Page;

/// A list answer: `{key: [...], next_cursor?}`.
pub(crate) fn list<T>(key: &str, page: Page<T>, view: impl Fn(&T) -> Value) -> Response {
    let mut body = json!({ key: page.items.iter().map(view).collect::<Vec<_>>() });
    if let Some(c) = page.next {
        body["next_cursor"] = json!(c.encode());
    }
    (StatusCode::OK, axum::Json(body)).into_response()
}
