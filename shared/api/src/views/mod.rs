//! The wire format: every answer as a Rust type that serializes to exactly what the API
//! sends and describes itself to the OpenAPI document (`crate::openapi`). Handlers map
//! domain values into these; nothing else in the API builds answer JSON.

pub mod admin;
pub mod extracts;
pub mod partner;
pub mod problem;
pub mod reads;

use serde::Serialize;
use stamp_domain::pagination::Page;

pub use problem::Problem;

/// The `next_cursor` of a page, as the API writes it.
pub fn next_cursor<T>(page: &Page<T>) -> Option<String> {
    page.next.as_ref().map(|c| c.encode())
}

/// A page's items as their views.
pub fn items<'a, T, V: From<&'a T>>(page: &'a Page<T>) -> Vec<V> {
    page.items.iter().map(V::from).collect()
}

/// An answer with no fields of its own, e.g. `GET /health`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// Always `ok`.
    #[schema(example = "ok")]
    pub status: &'static str,
}
