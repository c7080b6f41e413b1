//! The one place that turns a domain error into an HTTP answer: RFC 9457
//! `application/problem+json` with a stable `code` (the mapping is `views::Problem::of`).

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
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

/// A whole HTTP/1.1 answer for a refusal made before the router runs (the server edge:
/// hyper refuses a request line over its fixed ~64 KB limit or a head over its buffer by
/// itself, with an empty body): the same problem+json, with the same code by status, as
/// [`refusals_as_problems`] gives. The connection is closed after it, as hyper does.
pub fn edge_refusal(status: StatusCode, detail: &str) -> Vec<u8> {
    let title = status.canonical_reason().unwrap_or("Refused");
    let body = serde_json::to_vec(&Problem::new(status, code_of(status), title, detail, None))
        .unwrap_or_default();
    let mut out = format!(
        "HTTP/1.1 {} {title}\r\ncontent-type: application/problem+json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        status.as_u16(),
        body.len()
    )
    .into_bytes();
    out.extend(body);
    out
}
