//! `POST /partner/v1/batches` — the partner-import function.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use stamp_domain::import::{DeliveryFormat, MAX_BATCH_BYTES};
use stamp_domain::DomainError;

use crate::claims::Caller;
use crate::params::Params;
use crate::problem::{problem, ApiResult};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/partner/v1/batches", post(push))
        // Read a little past the 6 MB limit so an oversized push gets our 413 problem.
        .layer(DefaultBodyLimit::max(MAX_BATCH_BYTES * 2))
}

// The Err is the ready answer (a problem response), used once per request.
#[allow(clippy::result_large_err)]
fn format_of(headers: &HeaderMap) -> Result<DeliveryFormat, Response> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_ascii_lowercase();
    let essence = ct.split(';').next().unwrap_or("").trim();
    match essence {
        "text/csv" => Ok(DeliveryFormat::Csv),
        "application/json" | "" => Ok(DeliveryFormat::Json),
        e if e.ends_with("+json") => Ok(DeliveryFormat::Json),
        other => Err(problem(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Unsupported media type",
            &format!("Content-Type must be application/json or text/csv, got {other}"),
            Some("Content-Type"),
        )),
    }
}

async fn push(
    State(state): State<AppState>,
    Caller(claims): Caller,
    params: Params,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let body = match body {
        Ok(b) => b,
        Err(_) => {
            return Err(DomainError::PayloadTooLarge(format!(
                "the body is over {MAX_BATCH_BYTES} bytes; larger deliveries go through /partner/v1/uploads"
            ))
            .into())
        }
    };
    let format = match format_of(&headers) {
        Ok(f) => f,
        Err(r) => return Ok(r),
    };
    let answer = state
        .import
        .push(&claims, format, &body, params.get("batch_id"))
        .await?;
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    Ok((status, axum::Json(answer.body)).into_response())
}
