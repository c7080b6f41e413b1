//! What a partner (a ledger system) is answered: the push answer and the upload ticket.

use serde::Serialize;
use stamp_domain::intake::{BatchAnswer, RejectionCode};
use utoipa::ToSchema;

/// Where the exact bytes of the delivery were archived.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArchiveRef {
    pub key: String,
    /// Lowercase hex SHA-256 of the exact bytes received.
    #[schema(example = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")]
    pub sha256: String,
}

/// One rejected event of a delivery.
#[derive(Debug, Serialize, ToSchema)]
pub struct RejectedView {
    /// Its position in the delivery (0-based).
    pub index: usize,
    pub event_id: Option<String>,
    pub code: RejectionCode,
    pub field: String,
    pub message: String,
}

/// The answer to a delivery (spec §5), also when some events were rejected; a replay of
/// the same bytes gets the same answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "batch_id": "2026-11-26-0001",
    "archive": {"key": "batches/demo-ledger/2026/11/26/2026-11-26-0001", "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
    "accepted": 1, "duplicates": 0, "rejected": []
}))]
pub struct PushAnswer {
    pub batch_id: String,
    pub archive: ArchiveRef,
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: Vec<RejectedView>,
    /// An upload lists at most 500 rejections; this is the total.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejected_count: Option<u64>,
}

impl From<BatchAnswer> for PushAnswer {
    fn from(a: BatchAnswer) -> Self {
        PushAnswer {
            batch_id: a.batch_id,
            archive: ArchiveRef {
                key: a.archive.key,
                sha256: a.archive.sha256,
            },
            accepted: a.accepted,
            duplicates: a.duplicates,
            rejected: a
                .rejected
                .into_iter()
                .map(|r| RejectedView {
                    index: r.index,
                    event_id: r.event_id,
                    code: r.code,
                    field: r.field,
                    message: r.message,
                })
                .collect(),
            rejected_count: a.rejected_count,
        }
    }
}

/// One event of a delivery (spec §5). In CSV these are the header columns.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryEvent {
    /// The partner's id for the event, 1–128 printable characters.
    #[schema(example = "ev-0001")]
    pub event_id: String,
    #[schema(example = "5569999997")]
    pub company_orgnr: String,
    pub company_name: String,
    /// 13 characters A–Z0–9.
    #[schema(example = "STH2026000001")]
    pub site_id: String,
    /// Personnummer or samordningsnummer (12 digits), or a foreign id.
    #[schema(example = "19811218-9876")]
    pub person_id: String,
    /// `personnummer` (default) or `foreign`.
    pub person_id_kind: Option<String>,
    /// ISO 3166 alpha-2, with `foreign`.
    pub person_country: Option<String>,
    pub person_name: String,
    pub employer_orgnr: Option<String>,
    pub card_number: Option<String>,
    /// `in` or `out`.
    #[schema(example = "in")]
    pub direction: String,
    /// RFC 3339 with offset.
    #[schema(example = "2026-11-26T07:00:00+01:00")]
    pub occurred_at: String,
    pub recorded_at: Option<String>,
    /// `card` (default), `app` or `manual`.
    pub source: Option<String>,
    /// Who entered it, with `manual`.
    pub recorded_by: Option<String>,
    /// The `event_id` this event corrects.
    pub corrects: Option<String>,
    /// With `corrects`: the corrected event is withdrawn.
    pub void: Option<bool>,
}

/// A pushed delivery in JSON (at most 10,000 events or 6 MB).
#[derive(Debug, Serialize, ToSchema)]
pub struct Delivery {
    pub batch_id: String,
    pub events: Vec<DeliveryEvent>,
}
