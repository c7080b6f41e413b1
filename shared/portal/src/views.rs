//! The domain's answers as typed values for the pages (the same JSON the API answers,
//! read back into structs so templates never index into untyped values).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use stamp_domain::DomainError;

/// Any answer of a domain service (a typed value or JSON) as a view struct. Only for the
/// answers that are still JSON on main (statistics, registrations, anomalies, extracts,
/// own data); typed answers (grants, holds, activation, partners, notification settings,
/// deliveries, verification) are rendered from `stamp_api::views` or the domain's types.
pub fn typed<T: DeserializeOwned, S: Serialize>(v: S) -> Result<T, DomainError> {
    serde_json::to_value(v)
        .and_then(serde_json::from_value)
        .map_err(|e| DomainError::Internal(format!("portal view: {e}")))
}

/// A domain's registrations answer as the portal reads it (through the API's view, so
/// the page shows what the API answers).
pub fn registrations(
    r: &stamp_domain::reads::queries::Registrations,
) -> Result<Registrations, DomainError> {
    typed(stamp_api::views::reads::Registrations::from(r))
}

/// A page of anomalies as the portal reads it (through the API's view).
pub fn anomalies(
    page: stamp_domain::pagination::Page<stamp_domain::reads::queries::FoundAnomaly>,
) -> Result<Anomalies, DomainError> {
    typed(stamp_api::views::reads::AnomalyList::from(page))
}

#[derive(Debug, Clone, Deserialize)]
pub struct Announcement {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub kind: String,
    pub title: String,
    pub message: String,
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EventKey {
    pub partner_id: String,
    pub event_id: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Correction {
    pub seq: u32,
    pub corrects: String,
    pub received_at: String,
    #[serde(default)]
    pub recorded_by: Option<String>,
    #[serde(default)]
    pub void: bool,
    #[serde(default)]
    pub changes: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Event {
    pub partner_id: String,
    pub event_id: String,
    pub site_id: String,
    pub direction: String,
    pub occurred_at: String,
    #[serde(default)]
    pub recorded_at: String,
    #[serde(default)]
    pub person_ref: String,
    #[serde(default)]
    pub person_name: Option<String>,
    #[serde(default)]
    pub corrected: bool,
    #[serde(default)]
    pub recorded_by: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub duplicate_of: Option<EventKey>,
    #[serde(default)]
    pub corrections: Vec<Correction>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WorkSession {
    pub site_id: String,
    #[serde(default)]
    pub person_ref: String,
    pub check_in: Event,
    pub check_out: Event,
    pub duration_minutes: i64,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct Registrations {
    #[serde(default)]
    pub sessions: Vec<WorkSession>,
    #[serde(default)]
    pub unpaired: Vec<Event>,
    #[serde(default)]
    pub duplicates: Vec<Event>,
    #[serde(default)]
    pub withdrawn: Vec<Event>,
    #[serde(default)]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AnomalyItem {
    pub kind: String,
    pub event: EventKey,
    #[serde(default)]
    pub person_ref: String,
    #[serde(default)]
    pub person_name: Option<String>,
    pub site_id: String,
    pub occurred_at: String,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct Anomalies {
    #[serde(default)]
    pub anomalies: Vec<AnomalyItem>,
    #[serde(default)]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StatRow {
    pub period: String,
    pub site_id: Option<String>,
    pub persons: u64,
    pub sessions: u64,
    pub hours: f64,
    pub check_ins: u64,
    pub check_outs: u64,
    #[serde(default)]
    pub anomalies: std::collections::BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PartnerHealth {
    pub partner_id: String,
    #[serde(default)]
    pub events_received: i64,
    #[serde(default)]
    pub events_rejected: i64,
    #[serde(default)]
    pub last_delivery: Option<String>,
    /// Since when the partner has been silent for the company (spec §11).
    #[serde(default)]
    pub silent_since: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Stats {
    pub granularity: String,
    pub from: String,
    pub to: String,
    #[serde(default)]
    pub rows: Vec<StatRow>,
    #[serde(default)]
    pub partners: Vec<PartnerHealth>,
    #[serde(default)]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Extract {
    pub id: String,
    pub kind: String,
    pub format: String,
    pub status: String,
    #[serde(default)]
    pub sha256: Option<String>,
    #[serde(default)]
    pub bytes: Option<u64>,
    #[serde(default)]
    pub file_name: Option<String>,
    #[serde(default)]
    pub download_url: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct OwnCompany {
    pub company_orgnr: String,
    #[serde(default)]
    pub company_name: Option<String>,
    #[serde(flatten)]
    pub registrations: Registrations,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Own {
    pub companies: Vec<OwnCompany>,
}
