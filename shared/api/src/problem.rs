//! The one place that turns a domain error into an HTTP answer: RFC 9457
//! `application/problem+json` with a stable `code`.

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
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
            DomainError::NotActivated(_) => problem(
                StatusCode::FORBIDDEN,
                "company_not_activated",
                "Company not activated",
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

/// The stable problem code of a refusal that no handler chose (an extractor's rejection,
/// the body limit, an unknown route).
fn code_of(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "invalid_request",
        401 => "unauthenticated",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        406 => "not_acceptable",
        408 => "request_timeout",
        409 => "conflict",
        411 => "length_required",
        413 => "payload_too_large",
        414 => "uri_too_long",
        415 => "unsupported_media_type",
        422 => "invalid_body",
        429 => "too_many_requests",
        431 => "headers_too_large",
        503 => "unavailable",
        s if s >= 500 => "internal",
        _ => "invalid_request",
    }
}

/// Refusals whose bodies are larger than this are not read back (their text is only
/// the detail).
const MAX_REFUSAL_TEXT: usize = 4096;

/// The one rejection handler of the whole router: any error answer that is not already
/// problem+json (axum's extractor rejections — a body over the limit, a path that is not
/// UTF-8, a JSON or query extractor's refusal — and anything else) is turned into one,
/// with a stable `code` by status and the refusal's text as `detail`.
pub async fn refusals_as_problems(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/problem+json"));
    if is_problem {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = match axum::body::to_bytes(body, MAX_REFUSAL_TEXT).await {
        Ok(b) => String::from_utf8_lossy(&b).trim().to_string(),
        Err(_) => String::new(),
    };
    let title = status.canonical_reason().unwrap_or("Refused");
    let detail = if text.is_empty() || status.is_server_error() {
        title.to_string()
    } else {
        text
    };
    let mut answer = problem(status, code_of(status), title, &detail, None);
    // Keep what the refusal said besides its body (Allow, Retry-After, …).
    for (name, value) in parts.headers.iter() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            answer.headers_mut().insert(name.clone(), value.clone());
        }
    }
    answer
}
