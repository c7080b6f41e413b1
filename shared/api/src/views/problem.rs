//! The problem answer (RFC 9457) and the one mapping from domain errors to it.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use stamp_domain::{DomainError, ErrorKind, ErrorRecord};

/// An `application/problem+json` answer. `code` is stable; `field` names the request field
/// at fault for bad input.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// `https://stamp.invalid/problems/{code}`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable, machine-readable: `invalid_field`, `missing_field`, `unauthenticated`,
    /// `forbidden`, `not_found`, `batch_conflict`, `last_company_admin`,
    /// `payload_too_large`, `unsupported_media_type`, `unavailable`, `internal`, ….
    #[schema(example = "invalid_field")]
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// With a refused upload (`GET /partner/v1/batches/{batch_id}`): which batch…
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_id: Option<String>,
    /// …and which upload.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload_id: Option<String>,
}

/// The HTTP status of a kind of domain error.
pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden | ErrorKind::NotActivated => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::InvalidField | ErrorKind::MissingField => StatusCode::BAD_REQUEST,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn title_of(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Unauthenticated => "Authentication required",
        ErrorKind::Forbidden => "Not allowed",
        ErrorKind::NotFound => "Not found",
        ErrorKind::NotActivated => "Company not activated",
        ErrorKind::InvalidField => "Invalid field",
        ErrorKind::MissingField => "Missing field",
        ErrorKind::Conflict => "Conflict",
        ErrorKind::PayloadTooLarge => "Payload too large",
        ErrorKind::Unavailable => "Temporarily unavailable",
        ErrorKind::Internal => "Internal error",
    }
}

impl Problem {
    pub fn new(
        status: StatusCode,
        code: &str,
        title: &str,
        detail: &str,
        field: Option<&str>,
    ) -> Self {
        Problem {
            kind: format!("https://stamp.invalid/problems/{code}"),
            title: title.into(),
            status: status.as_u16(),
            detail: detail.into(),
            code: code.into(),
            field: field.map(str::to_string),
            batch_id: None,
            upload_id: None,
        }
    }

    /// A domain error as answered. What went wrong inside (unavailable storage, internal
    /// errors) is logged, and the answer says only that.
    pub fn of(e: &DomainError) -> Self {
        let record = ErrorRecord::from(e);
        match record.kind {
            ErrorKind::Unavailable => {
                tracing::warn!(error = %record.detail, "dependency unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    title_of(record.kind),
                    "a storage service is unavailable; retry later",
                    None,
                )
            }
            ErrorKind::Internal => {
                tracing::error!(error = %record.detail, "internal error");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    title_of(record.kind),
                    "something went wrong on our side",
                    None,
                )
            }
            _ => Self::of_record(&record, title_of(record.kind)),
        }
    }

    /// An error kept on record (a refused upload), with the title it is shown under.
    pub fn of_record(r: &ErrorRecord, title: &str) -> Self {
        Self::new(
            status_of(r.kind),
            &r.code,
            title,
            &r.detail,
            r.field.as_deref(),
        )
    }

    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = serde_json::to_string(&self).unwrap_or_default();
        (
            self.status_code(),
            [(header::CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response()
    }
}
