//! What a company reads: sites, people, registrations, anomalies, statistics.

use serde::{Deserialize, Serialize};
use stamp_domain::model::{Direction, LedgerEvent, Source};
use stamp_domain::pagination::Page;
use stamp_domain::reads::analysis::{AnomalyKind, Unpaired};
use stamp_domain::reads::queries::{self, FoundAnomaly, Shown};
use stamp_domain::reads::statistics::{StatisticsPage, StatisticsRow};
use stamp_domain::table::{CorrectionEntry, PersonEntry, SiteEntry};
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
            person_ref: e.person_ref.to_string(),
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
    pub corrections: Option<Vec<CorrectionEntry>>,
}

impl From<&Shown> for EventView {
    fn from(s: &Shown) -> Self {
        let e = &s.event;
        EventView {
            partner_id: e.partner_id.to_string(),
            event_id: e.event_id.clone(),
            site_id: e.site_id.to_string(),
            direction: e.direction,
            occurred_at: format_rfc3339(&e.occurred_at),
            recorded_at: format_rfc3339(&e.recorded_at),
            source: e.source,
            person_ref: e.person_ref.to_string(),
            person_name: e.person_name.clone(),
            corrected: e.corrections > 0,
            recorded_by: e.recorded_by.clone(),
            employer_orgnr: e.employer_orgnr.as_ref().map(|o| o.to_string()),
            withdrawn: e.withdrawn.then_some(true),
            corrections: s.corrections.clone(),
        }
    }
}

/// `partner_id` and `event_id` of an event.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventKey {
    pub partner_id: String,
    pub event_id: String,
}

/// A check-in and the check-out that closes it (spec §6 pairing).
impl From<&LedgerEvent> for EventKey {
    fn from(e: &LedgerEvent) -> Self {
        EventKey {
            partner_id: e.partner_id.to_string(),
            event_id: e.event_id.clone(),
        }
    }
}

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
    pub reason: Unpaired,
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

impl From<&queries::Registrations> for Registrations {
    fn from(r: &queries::Registrations) -> Self {
        Registrations {
            sessions: r
                .sessions
                .iter()
                .map(|(i, o)| SessionView {
                    site_id: i.event.site_id.to_string(),
                    person_ref: i.event.person_ref.to_string(),
                    check_in: EventView::from(i),
                    check_out: EventView::from(o),
                    duration_minutes: (o.event.occurred_at - i.event.occurred_at).num_minutes(),
                })
                .collect(),
            unpaired: r
                .unpaired
                .iter()
                .map(|(e, reason)| UnpairedView {
                    event: EventView::from(e),
                    reason: *reason,
                })
                .collect(),
            duplicates: r
                .duplicates
                .iter()
                .map(|(e, of)| DuplicateView {
                    event: EventView::from(e),
                    duplicate_of: EventKey::from(of),
                })
                .collect(),
            withdrawn: r
                .withdrawn
                .as_ref()
                .map(|w| w.iter().map(EventView::from).collect()),
            next_cursor: r.next.as_ref().map(|c| c.encode()),
        }
    }
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

impl From<&FoundAnomaly> for AnomalyView {
    fn from(a: &FoundAnomaly) -> Self {
        let e = &a.event;
        AnomalyView {
            kind: a.kind,
            event: EventKey::from(e),
            related: a
                .related
                .iter()
                .map(|(p, id)| EventKey {
                    partner_id: p.to_string(),
                    event_id: id.clone(),
                })
                .collect(),
            person_ref: e.person_ref.to_string(),
            person_name: e.person_name.clone(),
            site_id: e.site_id.to_string(),
            occurred_at: format_rfc3339(&e.occurred_at),
            detail: a.detail.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AnomalyList {
    pub anomalies: Vec<AnomalyView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl From<Page<FoundAnomaly>> for AnomalyList {
    fn from(page: Page<FoundAnomaly>) -> Self {
        AnomalyList {
            anomalies: page.items.iter().map(AnomalyView::from).collect(),
            next_cursor: page.next.map(|c| c.encode()),
        }
    }
}

/// Delivery health of one partner for the company.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerHealth {
    pub partner_id: String,
    pub events_received: i64,
    pub events_rejected: i64,
    pub last_delivery: Option<String>,
    /// Since when the partner has been silent for the company (spec §11); `null` when
    /// it is not.
    #[schema(value_type = Option<String>)]
    pub silent_since: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<&stamp_domain::table::PartnerHealth> for PartnerHealth {
    fn from(h: &stamp_domain::table::PartnerHealth) -> Self {
        PartnerHealth {
            partner_id: h.partner_id.to_string(),
            events_received: h.events_received,
            events_rejected: h.events_rejected,
            last_delivery: h.last_delivery.clone(),
            silent_since: h.silent_since,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Statistics {
    /// `day`, `week` or `month`.
    pub granularity: &'static str,
    pub from: String,
    pub to: String,
    pub rows: Vec<StatisticsRow>,
    pub partners: Vec<PartnerHealth>,
    /// The `employer=` filter, when one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub employer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// When the stored aggregates were last refreshed by the scheduled job (RFC 3339;
    /// `null` before the first refresh). The figures are current either way: days that
    /// imports changed since are computed for the answer.
    pub refreshed_at: Option<String>,
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

impl From<StatisticsPage> for Statistics {
    fn from(p: StatisticsPage) -> Self {
        Statistics {
            granularity: p.granularity.as_str(),
            from: p.from.to_string(),
            to: p.to.to_string(),
            rows: p.rows,
            partners: p.partners.iter().map(PartnerHealth::from).collect(),
            employer: p.employer,
            next_cursor: p.next.map(|c| c.encode()),
            refreshed_at: p
                .refreshed_at
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        }
    }
}
