//! The operator's side: accrediting and suspending partners, and announcements.

use super::{required_text, Admin};
use crate::auth::{require_operator, Claims};
use crate::error::DomainError;
use crate::identity::PartnerId;
use crate::model::Partner;
use crate::pagination::{Cursor, Page};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewPartner {
    pub partner_id: Option<String>,
    pub name: Option<String>,
    pub feed_url: Option<String>,
}

/// Whether `id` is a valid partner id ([`PartnerId::parse`]), as a field error.
pub fn validate_partner_id(id: &str) -> Result<(), DomainError> {
    parse_partner_id(id).map(|_| ())
}

/// `id` as a [`PartnerId`], or the field error [`validate_partner_id`] gives.
fn parse_partner_id(id: &str) -> Result<PartnerId, DomainError> {
    PartnerId::parse(id).map_err(|e| DomainError::invalid("partner_id", e.0))
}

/// A service announcement (a notice or a planned outage), as kept and as answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Announcement {
    pub id: String,
    /// `notice` or `planned_outage`.
    pub kind: String,
    pub title: String,
    pub message: String,
    /// RFC 3339.
    pub starts_at: String,
    pub ends_at: Option<String>,
    pub published_at: chrono::DateTime<chrono::Utc>,
    pub published_by: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AnnouncementRequest {
    pub title: Option<String>,
    pub message: Option<String>,
    /// `planned_outage` or `notice`.
    pub kind: Option<String>,
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
}

impl Admin {
    pub async fn accredit_partner(
        &self,
        claims: &Claims,
        req: NewPartner,
    ) -> Result<Partner, DomainError> {
        require_operator(claims)?;
        let partner_id = required_text("partner_id", req.partner_id, 64)?;
        let partner_id = parse_partner_id(&partner_id)?;
        let name = required_text("name", req.name, 200)?;
        let feed_url = req.feed_url.filter(|u| !u.is_empty());
        if let Some(u) = &feed_url {
            if !(u.starts_with("http://") || u.starts_with("https://")) || u.len() > 2000 {
                return Err(DomainError::invalid("feed_url", "must be an http(s) URL"));
            }
        }
        let p = Partner {
            partner_id,
            name,
            feed_url,
            accredited_at: self.clock.now(),
            accredited_by: claims.sub.clone(),
            suspended: false,
        };
        if !self.ledger.create_partner(&p).await? {
            return Err(DomainError::Conflict {
                code: "partner_exists",
                detail: format!("partner_id {:?} is already accredited", p.partner_id),
            });
        }
        tracing::info!(partner_id = %p.partner_id, "partner accredited");
        Ok(p)
    }

    pub async fn partners(
        &self,
        claims: &Claims,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> Result<Page<Partner>, DomainError> {
        require_operator(claims)?;
        self.ledger.partners(cursor, limit).await
    }

    /// Suspends or reinstates a partner; a suspended partner's deliveries are refused.
    pub async fn set_partner_suspended(
        &self,
        claims: &Claims,
        partner_id: &PartnerId,
        suspended: bool,
    ) -> Result<Partner, DomainError> {
        require_operator(claims)?;
        let mut p = self
            .ledger
            .partner(partner_id)
            .await?
            .ok_or_else(|| DomainError::NotFound("no such partner".into()))?;
        p.suspended = suspended;
        if !self.ledger.update_partner(&p).await? {
            return Err(DomainError::NotFound("no such partner".into()));
        }
        Ok(p)
    }

    pub async fn announce(
        &self,
        claims: &Claims,
        req: AnnouncementRequest,
    ) -> Result<Announcement, DomainError> {
        require_operator(claims)?;
        let title = required_text("title", req.title, 200)?;
        let message = required_text("message", req.message, 4000)?;
        let kind = req.kind.unwrap_or_else(|| "notice".into());
        if kind != "notice" && kind != "planned_outage" {
            return Err(DomainError::invalid(
                "kind",
                "must be notice or planned_outage",
            ));
        }
        let time = |field: &str, v: Option<String>| {
            v.filter(|s| !s.is_empty())
                .map(|s| crate::time::parse_rfc3339(&s).map_err(|e| DomainError::invalid(field, e)))
                .transpose()
        };
        let now = self.clock.now();
        let starts_at =
            time("starts_at", req.starts_at)?.unwrap_or_else(|| crate::time::to_fixed(now));
        let ends_at = time("ends_at", req.ends_at)?;
        if ends_at.is_some_and(|e| e <= starts_at) {
            return Err(DomainError::invalid("ends_at", "must be after starts_at"));
        }
        let id = format!("ann-{}", uuid::Uuid::new_v4().simple());
        let a = Announcement {
            id: id.clone(),
            kind,
            title,
            message,
            starts_at: crate::time::format_rfc3339(&starts_at),
            ends_at: ends_at.as_ref().map(crate::time::format_rfc3339),
            published_at: now,
            published_by: claims.sub.clone(),
        };
        self.ledger
            .save_announcement(&a, format!("{}#{id}", crate::time::sortable(&starts_at)))
            .await?;
        Ok(a)
    }

    /// Current and planned announcements: those not yet ended.
    pub async fn announcements(&self) -> Result<Vec<Announcement>, DomainError> {
        let now = crate::time::to_fixed(self.clock.now());
        Ok(self
            .ledger
            .announcements()
            .await?
            .into_iter()
            .filter(|a| {
                a.ends_at
                    .as_deref()
                    .and_then(|e| crate::time::parse_rfc3339(e).ok())
                    .is_none_or(|e| e > now)
            })
            .collect())
    }
}
