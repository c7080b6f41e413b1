//! The one place that turns a domain error into an HTTP answer: RFC 9457
//! `application/problem+json` with a stable `code`.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use stamp_domain::DomainError;

#[derive(Debug)]
pub struct ApiError(pub DomainError);

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        ApiError(e)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

pub fn problem(
    status: StatusCode,
    code: &str,
    title: &str,
    detail: &str,
    field: Option<&str>,
) -> Response {
    let mut body = json!({
        "type": format!("https://stamp.invalid/problems/{code}"),
        "title": title,
        "status": status.as_u16(),
        "detail": detail,
        "code": code,
    });
    if let Some(f) = field {
        body["field"] = json!(f);
    }
    (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        body.to_string(),
    )
        .into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let detail = self.0.to_string();
        match &self.0 {
            DomainError::Unauthenticated(_) => problem(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Authentication required",
                &detail,
                None,
            ),
            DomainError::Forbidden(_) => problem(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Not allowed",
                &detail,
                None,
            ),
            DomainError::NotFound(_) => problem(
                StatusCode::NOT_FOUND,
                "not_found",
                "Not found",
                &detail,
                None,
            ),
            DomainError::InvalidField { field, .. } => problem(
                StatusCode::BAD_REQUEST,
                "invalid_field",
                "Invalid field",
                &detail,
                Some(field),
            ),
            DomainError::MissingField { field, .. } => problem(
                StatusCode::BAD_REQUEST,
                "missing_field",
                "Missing field",
                &detail,
                Some(field),
            ),
            DomainError::Conflict { code, .. } => {
                problem(StatusCode::CONFLICT, code, "Conflict", &detail, None)
            }
            DomainError::PayloadTooLarge(_) => problem(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "Payload too large",
                &detail,
                None,
            ),
            DomainError::Unavailable(_) => {
                tracing::warn!(error = %detail, "dependency unavailable");
                problem(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "Temporarily unavailable",
                    "a storage service is unavailable; retry later",
                    None,
                )
            }
            DomainError::Internal(_) => {
                tracing::error!(error = %detail, "internal error");
                problem(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Internal error",
                    "something went wrong on our side",
                    None,
                )
            }
        }
    }
}
