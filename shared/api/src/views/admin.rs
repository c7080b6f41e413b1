//! Partners, activation, users, audit, legal holds, announcements, the privacy notice.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use stamp_domain::governance::audit::{AuditEntry, SealState};
use stamp_domain::model::{Activation, Partner};
use stamp_domain::table::{Grant, LegalHold};
use stamp_domain::time::format_rfc3339;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerView {
    #[schema(example = "demo-ledger")]
    pub partner_id: String,
    pub name: String,
    /// Where Stamp pulls the partner's feed; `null` for a pushing partner.
    pub feed_url: Option<String>,
    pub accredited_at: DateTime<Utc>,
    /// A suspended partner's deliveries are refused.
    pub suspended: bool,
}

impl From<&Partner> for PartnerView {
    fn from(p: &Partner) -> Self {
        PartnerView {
            partner_id: p.partner_id.to_string(),
            name: p.name.clone(),
            feed_url: p.feed_url.clone(),
            accredited_at: p.accredited_at,
            suspended: p.suspended,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerList {
    pub partners: Vec<PartnerView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActivationView {
    #[schema(value_type = String, example = "5569999997")]
    pub company_orgnr: String,
    pub company_name: String,
    pub fiscal_year_end_month: u32,
    pub terms_version: String,
    pub activated_at: DateTime<Utc>,
    pub activated_by: String,
    pub terms_accepted_at: DateTime<Utc>,
    /// `active` or `deregistered`.
    pub status: &'static str,
    pub deregistered_at: Option<DateTime<Utc>>,
}

impl From<&Activation> for ActivationView {
    fn from(a: &Activation) -> Self {
        ActivationView {
            company_orgnr: a.company_orgnr.to_string(),
            company_name: a.company_name.clone(),
            fiscal_year_end_month: a.fiscal_year_end_month,
            terms_version: a.terms_version.clone(),
            activated_at: a.activated_at,
            activated_by: a.activated_by.clone(),
            terms_accepted_at: a.terms_accepted_at.unwrap_or(a.activated_at),
            status: if a.is_active() {
                "active"
            } else {
                "deregistered"
            },
            deregistered_at: a.deregistered_at,
        }
    }
}

/// The receipt of a deregistration.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeregistrationReceipt {
    pub company_orgnr: String,
    pub deregistered_at: Option<DateTime<Utc>>,
    pub deregistered_by: String,
    pub imports: &'static str,
    pub data: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Deregistration {
    pub receipt: DeregistrationReceipt,
    pub activation: ActivationView,
}

impl Deregistration {
    pub fn of(a: &Activation, by: &str) -> Self {
        Deregistration {
            receipt: DeregistrationReceipt {
                company_orgnr: a.company_orgnr.to_string(),
                deregistered_at: a.deregistered_at,
                deregistered_by: by.to_string(),
                imports: "refused from now on",
                data: "kept until each event's retention_until (two years after the end of the calendar year in which its fiscal year ends), then purged",
            },
            activation: ActivationView::from(a),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GrantView {
    pub sub: String,
    #[schema(example = json!(["company_user"]))]
    pub roles: Vec<String>,
    pub granted_at: DateTime<Utc>,
    pub granted_by: String,
}

impl From<&Grant> for GrantView {
    fn from(g: &Grant) -> Self {
        GrantView {
            sub: g.sub.clone(),
            roles: g.roles.clone(),
            granted_at: g.granted_at,
            granted_by: g.granted_by.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    pub users: Vec<GrantView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// `PUT …/users/{sub}` answers `{sub, roles}` (spec §4).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserRoles {
    pub sub: String,
    pub roles: Vec<String>,
}

/// One audit entry as the API shows it. `seq` is its position in the company's chain
/// once sealed (`null` before); `sealed` says it matches the digest that sealed it, and
/// `seal` is `sealed`, `unsealed` (newer than the last seal) or `mismatch` (inside a
/// sealed range but changed or inserted since).
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryView {
    pub id: String,
    pub seq: Option<u64>,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub role: String,
    pub company: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub outcome: String,
    pub status: u16,
    pub request_id: String,
    /// SHA-256 of the entry's content.
    pub hash: String,
    pub sealed: bool,
    /// `sealed`, `unsealed` or `mismatch`.
    pub seal: &'static str,
}

impl AuditEntryView {
    pub fn new(e: &AuditEntry, st: SealState) -> Self {
        let (seq, seal) = match st {
            SealState::Sealed { seq } => (Some(seq), "sealed"),
            SealState::Unsealed => (None, "unsealed"),
            SealState::Mismatch => (None, "mismatch"),
        };
        AuditEntryView {
            id: e.id.clone(),
            seq,
            at: e.at,
            actor: e.record.actor.clone(),
            role: e.record.role.clone(),
            company: e.record.company.clone(),
            action: e.record.action.clone(),
            target: e.record.target.clone(),
            outcome: e.record.outcome.clone(),
            status: e.record.status,
            request_id: e.record.request_id.clone(),
            hash: e.hash.clone(),
            sealed: seq.is_some(),
            seal,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditList {
    pub entries: Vec<AuditEntryView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HoldView {
    pub id: String,
    pub site_id: Option<String>,
    pub person_ref: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub reason: String,
    pub placed_by: String,
    pub placed_at: DateTime<Utc>,
    pub lifted_by: Option<String>,
    pub lifted_at: Option<DateTime<Utc>>,
    pub active: bool,
}

impl From<&LegalHold> for HoldView {
    fn from(h: &LegalHold) -> Self {
        HoldView {
            id: h.id.clone(),
            site_id: h.site_id.clone(),
            person_ref: h.person_ref.as_ref().map(|p| p.to_string()),
            from: h.from.as_ref().map(format_rfc3339),
            to: h.to.as_ref().map(format_rfc3339),
            reason: h.reason.clone(),
            placed_by: h.placed_by.clone(),
            placed_at: h.placed_at,
            lifted_by: h.lifted_by.clone(),
            lifted_at: h.lifted_at,
            active: h.active(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HoldList {
    pub legal_holds: Vec<HoldView>,
}

/// A service announcement.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnnouncementView {
    pub id: String,
    /// `notice` or `planned_outage`.
    pub kind: String,
    pub title: String,
    pub message: String,
    pub starts_at: String,
    pub ends_at: Option<String>,
    #[schema(value_type = String)]
    pub published_at: chrono::DateTime<chrono::Utc>,
    pub published_by: String,
}

impl From<stamp_domain::governance::admin::Announcement> for AnnouncementView {
    fn from(a: stamp_domain::governance::admin::Announcement) -> Self {
        AnnouncementView {
            id: a.id,
            kind: a.kind,
            title: a.title,
            message: a.message,
            starts_at: a.starts_at,
            ends_at: a.ends_at,
            published_at: a.published_at,
            published_by: a.published_by,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AnnouncementList {
    pub announcements: Vec<AnnouncementView>,
}

/// `PUT …/users/{sub}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Roles {
    #[schema(example = json!(["company_user"]))]
    pub roles: Option<Vec<String>>,
}

/// `PATCH /v1/partners/{partner_id}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PartnerChange {
    /// `true` refuses the partner's deliveries.
    pub suspended: Option<bool>,
}
