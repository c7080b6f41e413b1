//! The domain's errors. The HTTP layer maps each to one status and problem `code`, in
//! one place (`stamp-api`'s `problem` module).

use crate::ports::{ArchiveError, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// No valid credentials.
    #[error("{0}")]
    Unauthenticated(String),
    /// Authenticated, but this role or company may not do this.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// The company is not (or no longer) activated: it has deregistered (spec §3).
    #[error("{0}")]
    NotActivated(String),
    /// A request field is missing or wrong; `field` names it.
    #[error("{field}: {reason}")]
    InvalidField { field: String, reason: String },
    #[error("{field}: {reason}")]
    MissingField { field: String, reason: String },
    /// The request conflicts with what Stamp holds; `code` is the stable problem code.
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl DomainError {
    pub fn invalid(field: &str, reason: impl Into<String>) -> Self {
        DomainError::InvalidField {
            field: field.into(),
            reason: reason.into(),
        }
    }
    pub fn missing(field: &str) -> Self {
        DomainError::MissingField {
            field: field.into(),
            reason: "is required".into(),
        }
    }

    /// What kind of error this is; the HTTP layer gives each kind its status.
    pub fn kind(&self) -> ErrorKind {
        match self {
            DomainError::Unauthenticated(_) => ErrorKind::Unauthenticated,
            DomainError::Forbidden(_) => ErrorKind::Forbidden,
            DomainError::NotFound(_) => ErrorKind::NotFound,
            DomainError::NotActivated(_) => ErrorKind::NotActivated,
            DomainError::InvalidField { .. } => ErrorKind::InvalidField,
            DomainError::MissingField { .. } => ErrorKind::MissingField,
            DomainError::Conflict { .. } => ErrorKind::Conflict,
            DomainError::PayloadTooLarge(_) => ErrorKind::PayloadTooLarge,
            DomainError::Unavailable(_) => ErrorKind::Unavailable,
            DomainError::Internal(_) => ErrorKind::Internal,
        }
    }

    /// The stable problem `code` (spec §4).
    pub fn code(&self) -> &'static str {
        match self {
            DomainError::Conflict { code, .. } => code,
            other => other.kind().code(),
        }
    }

    /// The request field at fault, for bad input.
    pub fn field(&self) -> Option<&str> {
        match self {
            DomainError::InvalidField { field, .. } | DomainError::MissingField { field, .. } => {
                Some(field)
            }
            _ => None,
        }
    }
}

/// The kinds of [`DomainError`], as kept on record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    Unauthenticated,
    Forbidden,
    NotFound,
    NotActivated,
    InvalidField,
    MissingField,
    Conflict,
    PayloadTooLarge,
    Unavailable,
    Internal,
}

impl ErrorKind {
    /// The problem code of the kind (a conflict names its own).
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::Unauthenticated => "unauthenticated",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::NotFound => "not_found",
            ErrorKind::NotActivated => "company_not_activated",
            ErrorKind::InvalidField => "invalid_field",
            ErrorKind::MissingField => "missing_field",
            ErrorKind::Conflict => "conflict",
            ErrorKind::PayloadTooLarge => "payload_too_large",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Internal => "internal",
        }
    }
}

/// A domain error kept on record (why an upload was refused): kind, code, the message
/// and the field at fault.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ErrorRecord {
    pub kind: ErrorKind,
    pub code: String,
    pub detail: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl From<&DomainError> for ErrorRecord {
    fn from(e: &DomainError) -> Self {
        ErrorRecord {
            kind: e.kind(),
            code: e.code().to_string(),
            detail: e.to_string(),
            field: e.field().map(str::to_string),
        }
    }
}

impl From<StoreError> for DomainError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::ConditionFailed(ops) => {
                DomainError::Internal(format!("unexpected condition failure on {ops:?}"))
            }
            StoreError::Unavailable(m) => DomainError::Unavailable(m),
        }
    }
}

impl From<ArchiveError> for DomainError {
    fn from(e: ArchiveError) -> Self {
        match e {
            ArchiveError::NotFound(k) => DomainError::NotFound(format!("no archived object {k}")),
            ArchiveError::Locked(k) => DomainError::Conflict {
                code: "archive_locked",
                detail: format!("archived object {k} is still locked"),
            },
            ArchiveError::Unavailable(m) => DomainError::Unavailable(m),
        }
    }
}
