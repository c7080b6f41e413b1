//! What a delivery is answered (spec §5) and what is archived beside it: the batch answer,
//! the receipt, and why an import failed.

use super::RejectionCode;
use crate::error::DomainError;
use crate::identity::pseudonym::id_fragment;
use crate::identity::PartnerId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where each delivery's receipt is archived.
pub const RECEIPTS_PREFIX: &str = "receipts/";

/// An upload's answer lists at most this many rejections (with `rejected_count` the
/// total): the answer is kept in one table item, which DynamoDB caps at 400 KB.
pub const UPLOAD_REJECTED_LISTED: usize = 500;

/// The answer to a delivery (spec §5), also when some events were rejected; kept with
/// the batch so that a replay of the same bytes gets exactly the same one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchAnswer {
    pub batch_id: String,
    pub archive: ArchivedDelivery,
    pub accepted: u64,
    pub duplicates: u64,
    /// The rejected events in delivery order; an upload lists at most
    /// [`UPLOAD_REJECTED_LISTED`] of them.
    pub rejected: Vec<Rejected>,
    /// The number of rejected events, when `rejected` was cut short (uploads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected_count: Option<u64>,
}

/// Where a delivery's exact bytes were archived.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArchivedDelivery {
    pub key: String,
    /// Lowercase hex SHA-256 of the bytes received.
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rejected {
    pub index: usize,
    pub event_id: Option<String>,
    pub code: RejectionCode,
    pub field: String,
    pub message: String,
}

/// The archive's own account of a delivery, archived (locked like the delivery) before
/// anything of it is indexed: what a rebuild needs to replay it exactly as it was
/// received — which partner, which batch id, which envelope, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Receipt {
    #[serde(deserialize_with = "PartnerId::deserialize_stored")]
    pub partner_id: PartnerId,
    pub batch_id: String,
    /// `json`, `csv` or `feed_page`.
    pub format: String,
    pub received_at: DateTime<Utc>,
    pub sha256: String,
    pub archive_key: String,
    /// `push`, `upload` or `pull`.
    pub via: String,
    /// The (pseudonymous) keys of the companies the delivery names, so that rebuilding
    /// one company skips the deliveries of others.
    #[serde(default)]
    pub companies: Vec<String>,
}

pub fn receipt_key(
    partner_id: &PartnerId,
    received_at: DateTime<Utc>,
    batch_id: &str,
    sha256: &str,
) -> String {
    format!(
        "{RECEIPTS_PREFIX}{partner_id}/{}/{}-{}.json",
        received_at.format("%Y-%m-%d"),
        id_fragment(batch_id),
        &sha256[..16]
    )
}

/// Why a delivery was not imported, and where its bytes were archived if they were
/// (an unreadable delivery is kept as it came).
#[derive(Debug)]
pub struct ImportFailure {
    pub error: DomainError,
    pub archived: Option<String>,
}

impl From<DomainError> for ImportFailure {
    fn from(error: DomainError) -> Self {
        ImportFailure {
            error,
            archived: None,
        }
    }
}

impl From<crate::ports::ArchiveError> for ImportFailure {
    fn from(e: crate::ports::ArchiveError) -> Self {
        ImportFailure {
            error: e.into(),
            archived: None,
        }
    }
}
