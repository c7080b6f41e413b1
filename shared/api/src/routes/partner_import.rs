//! `POST /partner/v1/batches`, `POST /partner/v1/uploads`, `GET /partner/v1/batches/{batch_id}`
//! — the partner-import function.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use stamp_domain::intake::{BatchStatus, DeliveryFormat, NewUpload, MAX_BATCH_BYTES};
use stamp_domain::DomainError;

use crate::claims::Caller;
use crate::params::{json_body, Params};
use crate::problem::{problem, ApiResult};
use crate::state::AppState;
use crate::views::partner::PushAnswer;
use crate::views::Problem;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/partner/v1/batches", post(push))
        .route("/partner/v1/batches/{batch_id}", get(batch))
        .route("/partner/v1/uploads", post(upload))
        // Read a little past the 6 MB limit so an oversized push gets our 413 problem.
        .layer(DefaultBodyLimit::max(MAX_BATCH_BYTES * 2))
}

/// The delivery format from Content-Type; `Err` holds the unsupported type.
fn format_of(headers: &HeaderMap) -> Result<DeliveryFormat, String> {
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
        other => Err(other.to_string()),
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
        Err(other) => {
            return Ok(problem(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Unsupported media type",
                &format!("Content-Type must be application/json or text/csv, got {other}"),
                Some("Content-Type"),
            ))
        }
    };
    let answer = state
        .import
        .push(&claims, format, &body, params.get("batch_id"))
        .await?;
    Ok(axum::Json(PushAnswer::from(answer)).into_response())
}

/// `POST /partner/v1/uploads` with `{"batch_id", "format": "json"|"csv"}` (or the same as
/// query parameters): a URL to PUT one large delivery to.
async fn upload(
    State(state): State<AppState>,
    Caller(claims): Caller,
    params: Params,
    body: Bytes,
) -> ApiResult<Response> {
    let mut req: NewUpload = if body.iter().all(u8::is_ascii_whitespace) {
        NewUpload::default()
    } else {
        json_body(&body)?
    };
    if req.batch_id.is_none() {
        req.batch_id = params.get("batch_id").map(str::to_string);
    }
    if req.format.is_none() {
        req.format = params.get("format").map(str::to_string);
    }
    let Some(urls) = state.uploads.clone() else {
        return Err(
            DomainError::Unavailable("uploads are not configured on this server".into()).into(),
        );
    };
    let answer = state
        .import
        .create_upload(&claims, req, urls.as_ref())
        .await?;
    Ok((StatusCode::CREATED, axum::Json(answer)).into_response())
}

/// `GET /partner/v1/batches/{batch_id}`: the answer a batch got (202 while an upload is
/// still on its way, its problem if it was refused).
async fn batch(
    State(state): State<AppState>,
    Caller(claims): Caller,
    Path(batch_id): Path<String>,
) -> ApiResult<Response> {
    Ok(match state.import.batch_status(&claims, &batch_id).await? {
        BatchStatus::Answered(a) => axum::Json(PushAnswer::from(a)).into_response(),
        BatchStatus::InProgress(body) => (StatusCode::ACCEPTED, axum::Json(body)).into_response(),
        BatchStatus::Failed {
            batch_id,
            upload_id,
            error,
        } => {
            let mut p = Problem::of_record(&error, "The upload was not imported");
            p.batch_id = Some(batch_id);
            p.upload_id = Some(upload_id);
            p.into_response()
        }
    })
}
