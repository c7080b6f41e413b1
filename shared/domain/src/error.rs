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
