//! The one place that turns a domain error into an HTTP answer: RFC 9457
//! `application/problem+json` with a stable `code` (the mapping is `views::Problem::of`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use stamp_domain::DomainError;

use crate::views::Problem;

#[derive(Debug)]
pub struct ApiError(pub DomainError);

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        ApiError(e)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// A problem answer that is not a domain error (unknown route, wrong media type).
pub fn problem(
    status: StatusCode,
    code: &str,
    title: &str,
    detail: &str,
    field: Option<&str>,
) -> Response {
    Problem::new(status, code, title, detail, field).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        Problem::of(&self.0).into_response()
    }
}
