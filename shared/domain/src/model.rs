//! The ledger's nouns: partners, companies, events as delivered (records) and events as
//! they stand after corrections (the effective view).

use crate::identity::pseudonym::PersonRef;
use crate::identity::PartnerId;
use crate::identity::{Orgnr, PersonId, SiteId};
use crate::time::Instant;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    In,
    Out,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    #[default]
    Card,
    App,
    Manual,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Card => "card",
            Source::App => "app",
            Source::Manual => "manual",
        }
    }
}

/// An accredited ledger-system supplier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Partner {
    #[serde(deserialize_with = "PartnerId::deserialize_stored")]
    pub partner_id: PartnerId,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feed_url: Option<String>,
    pub accredited_at: DateTime<Utc>,
    pub accredited_by: String,
    #[serde(default)]
    pub suspended: bool,
}

/// A company's activation of Stamp (the terms it accepted and its fiscal year).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Activation {
    pub company_orgnr: Orgnr,
    pub company_name: String,
    pub fiscal_year_end_month: u32,
    pub terms_version: String,
    pub activated_at: DateTime<Utc>,
    /// When the current terms version was accepted (each PUT accepts it again).
    #[serde(default)]
    pub terms_accepted_at: Option<DateTime<Utc>>,
    pub activated_by: String,
    /// Set when the company deregistered; imports stop, data is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deregistered_at: Option<DateTime<Utc>>,
}

impl Activation {
    pub fn is_active(&self) -> bool {
        self.deregistered_at.is_none()
    }
}

/// One event exactly as a partner delivered it, validated and normalised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventFields {
    pub event_id: String,
    pub company_orgnr: Orgnr,
    pub company_name: String,
    pub site_id: SiteId,
    pub person: PersonId,
    pub person_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub employer_orgnr: Option<Orgnr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_number: Option<String>,
    pub direction: Direction,
    pub occurred_at: Instant,
    /// As sent; `None` when the partner left it out (then the receipt time applies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_at: Option<Instant>,
    pub source: Source,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrects: Option<String>,
    #[serde(default)]
    pub void: bool,
}

impl EventFields {
    /// The fields that decide whether two deliveries are the same event (spec §5): times
    /// as instants, absent = empty, a defaulted `recorded_at` not compared.
    fn comparable(&self) -> BTreeMap<&'static str, String> {
        let mut m = BTreeMap::new();
        m.insert("event_id", self.event_id.clone());
        m.insert("company_orgnr", self.company_orgnr.to_string());
        m.insert("company_name", self.company_name.clone());
        m.insert("site_id", self.site_id.to_string());
        m.insert("person_id", self.person.canonical());
        m.insert("person_name", self.person_name.clone());
        m.insert(
            "employer_orgnr",
            self.employer_orgnr
                .as_ref()
                .map(|o| o.to_string())
                .unwrap_or_default(),
        );
        m.insert("card_number", self.card_number.clone().unwrap_or_default());
        m.insert("direction", self.direction.as_str().to_string());
        m.insert("occurred_at", crate::time::sortable(&self.occurred_at));
        m.insert("source", self.source.as_str().to_string());
        m.insert("recorded_by", self.recorded_by.clone().unwrap_or_default());
        m.insert("corrects", self.corrects.clone().unwrap_or_default());
        m.insert("void", self.void.to_string());
        m
    }

    pub fn same_delivery_as(&self, other: &EventFields) -> bool {
        let recorded_same = match (&self.recorded_at, &other.recorded_at) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        };
        recorded_same && self.comparable() == other.comparable()
    }
}

/// A stored record: an event as delivered, with where and when it came in. Never
/// changed once written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    #[serde(deserialize_with = "PartnerId::deserialize_stored")]
    pub partner_id: PartnerId,
    pub fields: EventFields,
    pub received_at: DateTime<Utc>,
    pub batch_id: String,
    pub archive_key: String,
}

impl EventRecord {
    /// `recorded_at` as it applies: as sent, or the receipt time.
    pub fn recorded_at(&self) -> Instant {
        self.fields
            .recorded_at
            .unwrap_or_else(|| crate::time::to_fixed(self.received_at))
    }
}

/// `(partner_id, event_id)`: how an event is named everywhere.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EventKey {
    #[serde(deserialize_with = "PartnerId::deserialize_stored")]
    pub partner_id: PartnerId,
    pub event_id: String,
}

/// An event as it stands after its corrections: its own identity and first `recorded_at`,
/// every other field from its latest correction (spec §6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerEvent {
    #[serde(deserialize_with = "PartnerId::deserialize_stored")]
    pub partner_id: PartnerId,
    pub event_id: String,
    pub company_orgnr: Orgnr,
    pub company_name: String,
    pub person_ref: PersonRef,
    pub person: PersonId,
    pub person_name: String,
    pub site_id: SiteId,
    pub direction: Direction,
    pub occurred_at: Instant,
    pub source: Source,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub employer_orgnr: Option<Orgnr>,
    /// The event's own `recorded_at`, as first delivered.
    pub recorded_at: Instant,
    /// `occurred_at` as first delivered (rules 4 and 5 judge the first recording).
    pub first_occurred_at: Instant,
    pub received_at: DateTime<Utc>,
    /// Withdrawn by a `void` correction: kept for history, not in the effective view.
    #[serde(default)]
    pub withdrawn: bool,
    /// How many corrections have been applied, in order of receipt.
    #[serde(default)]
    pub corrections: u32,
}

impl LedgerEvent {
    pub fn key(&self) -> EventKey {
        EventKey {
            partner_id: self.partner_id.clone(),
            event_id: self.event_id.clone(),
        }
    }

    /// The effective event of a record nobody has corrected yet.
    pub fn first(record: &EventRecord, person_ref: PersonRef) -> Self {
        let f = &record.fields;
        let mut e = LedgerEvent {
            partner_id: record.partner_id.clone(),
            event_id: f.event_id.clone(),
            company_orgnr: f.company_orgnr.clone(),
            company_name: String::new(),
            person_ref: PersonRef::default(),
            person: f.person.clone(),
            person_name: String::new(),
            site_id: f.site_id.clone(),
            direction: f.direction,
            occurred_at: f.occurred_at,
            source: f.source,
            recorded_by: None,
            card_number: None,
            employer_orgnr: None,
            recorded_at: record.recorded_at(),
            first_occurred_at: f.occurred_at,
            received_at: record.received_at,
            withdrawn: false,
            corrections: 0,
        };
        e.take_fields(f, person_ref);
        e
    }

    /// This event after `correction` (received later than any before it): its identity
    /// and first recording stay, everything else comes from the correction.
    pub fn corrected_by(&self, correction: &EventRecord, person_ref: PersonRef) -> Self {
        let mut e = self.clone();
        e.take_fields(&correction.fields, person_ref);
        e.withdrawn = correction.fields.void;
        e.corrections = self.corrections + 1;
        e
    }

    fn take_fields(&mut self, f: &EventFields, person_ref: PersonRef) {
        self.company_orgnr = f.company_orgnr.clone();
        self.company_name = f.company_name.clone();
        self.person_ref = person_ref;
        self.person = f.person.clone();
        self.person_name = f.person_name.clone();
        self.site_id = f.site_id.clone();
        self.direction = f.direction;
        self.occurred_at = f.occurred_at;
        self.source = f.source;
        self.recorded_by = f.recorded_by.clone();
        self.card_number = f.card_number.clone();
        self.employer_orgnr = f.employer_orgnr.clone();
    }
}
