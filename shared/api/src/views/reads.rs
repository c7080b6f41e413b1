//! What a company reads: sites, people, registrations, anomalies, statistics.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use stamp_domain::analysis::AnomalyKind;
use stamp_domain::ledger::{PersonEntry, SiteEntry};
use stamp_domain::model::{Direction, Source};
use stamp_domain::time::format_rfc3339;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct SiteView {
    #[schema(example = "STH2026000001")]
    pub site_id: String,
    pub first_seen: String,
    pub last_seen: String,
}

impl From<&SiteEntry> for SiteView {
    fn from(e: &SiteEntry) -> Self {
        SiteView {
            site_id: e.site_id.clone(),
            first_seen: format_rfc3339(&e.first_seen),
            last_seen: format_rfc3339(&e.last_seen),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SiteList {
    pub sites: Vec<SiteView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A person as a company sees them: never the full personnummer.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonView {
    /// Opaque, assigned by Stamp; addresses the person in URLs.
    pub person_ref: String,
    pub person_name: String,
    #[schema(example = "19811218-****")]
    pub person_id_masked: String,
}

impl From<&PersonEntry> for PersonView {
    fn from(e: &PersonEntry) -> Self {
        PersonView {
            person_ref: e.person_ref.clone(),
            person_name: e.person_name.clone(),
            person_id_masked: e.person_id_masked.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PeopleList {
    pub people: Vec<PersonView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// An event as answered (`partner_id` and `event_id` identify it).
#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub partner_id: String,
    pub event_id: String,
    pub site_id: String,
    pub direction: Direction,
    pub occurred_at: String,
    pub recorded_at: String,
    pub source: Source,
    pub person_ref: String,
    pub person_name: String,
    /// Whether a correction has replaced some of its fields.
    pub corrected: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub employer_orgnr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<bool>,
    /// With `history=true`: each correction, oldest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corrections: Option<Vec<CorrectionView>>,
}

/// One correction of an event.
#[derive(Debug, Serialize, ToSchema)]
pub struct CorrectionView {
    pub seq: u32,
    pub partner_id: String,
    pub event_id: String,
    /// The `event_id` it corrects.
    pub corrects: String,
    pub received_at: String,
    pub recorded_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded_by: Option<String>,
    pub source: Source,
    pub void: bool,
    pub batch_id: String,
    /// Field name → `{"from", "to"}` for each field the correction changed.
    #[schema(value_type = Object)]
    pub changes: serde_json::Map<String, Value>,
}

/// `partner_id` and `event_id` of an event.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventKey {
    pub partner_id: String,
    pub event_id: String,
}

/// A check-in and the check-out that closes it (spec §6 pairing).
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    pub site_id: String,
    pub person_ref: String,
    pub check_in: EventView,
    pub check_out: EventView,
    pub duration_minutes: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnpairedView {
    #[serde(flatten)]
    pub event: EventView,
    /// `missing_check_out` or `missing_check_in`.
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DuplicateView {
    #[serde(flatten)]
    pub event: EventView,
    pub duplicate_of: EventKey,
}

/// Every effective event in the range once: in a session, unpaired, or a duplicate.
#[derive(Debug, Serialize, ToSchema)]
pub struct Registrations {
    pub sessions: Vec<SessionView>,
    pub unpaired: Vec<UnpairedView>,
    pub duplicates: Vec<DuplicateView>,
    /// With `history=true`: the events a correction withdrew.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<Vec<EventView>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// One anomaly (spec §6).
#[derive(Debug, Serialize, ToSchema)]
pub struct AnomalyView {
    pub kind: AnomalyKind,
    pub event: EventKey,
    pub related: Vec<EventKey>,
    pub person_ref: String,
    pub person_name: String,
    pub site_id: String,
    pub occurred_at: String,
    pub detail: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AnomalyList {
    pub anomalies: Vec<AnomalyView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// One statistics row (spec §7).
#[derive(Debug, Serialize, ToSchema)]
pub struct StatisticsRow {
    /// `YYYY-MM-DD`, `YYYY-Www` or `YYYY-MM`.
    pub period: String,
    /// `null` for the company total.
    pub site_id: Option<String>,
    pub persons: u64,
    pub sessions: u64,
    pub hours: f64,
    pub check_ins: u64,
    pub check_outs: u64,
    /// Count by anomaly kind; every kind present.
    pub anomalies: std::collections::BTreeMap<String, u64>,
}

/// Delivery health of one partner for the company.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerHealth {
    pub partner_id: Option<String>,
    pub events_received: i64,
    pub events_rejected: i64,
    pub last_delivery: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Statistics {
    /// `day`, `week` or `month`.
    pub granularity: String,
    pub from: String,
    pub to: String,
    pub rows: Vec<StatisticsRow>,
    pub partners: Vec<PartnerHealth>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// `POST …/people/search`: the full person id, in the body so it never lands in a URL.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PersonSearch {
    #[schema(example = "19811218-9876")]
    pub person_id: Option<String>,
    /// `personnummer` (default) or `foreign`.
    pub person_id_kind: Option<String>,
    /// ISO 3166 alpha-2, with `foreign`.
    pub person_country: Option<String>,
}
