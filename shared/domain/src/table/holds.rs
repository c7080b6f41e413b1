//! Legal holds per company, and the operator's announcements.

use super::{from_item, item_of, keys, Ledger};
use crate::error::DomainError;
use crate::identity::pseudonym::CompanyKey;
use crate::identity::pseudonym::PersonRef;
use crate::model::LedgerEvent;
use crate::ports::{SkRange, WriteOp};
use crate::time::{local_date, Instant};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A legal hold: data it covers is not purged, whatever its retention.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LegalHold {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_ref: Option<PersonRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Instant>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Instant>,
    pub reason: String,
    pub placed_by: String,
    pub placed_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifted_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifted_at: Option<DateTime<Utc>>,
}

impl LegalHold {
    pub fn active(&self) -> bool {
        self.lifted_at.is_none()
    }

    /// Whether this hold keeps an event.
    pub fn covers(&self, e: &LedgerEvent) -> bool {
        self.active()
            && self
                .site_id
                .as_deref()
                .is_none_or(|s| s == e.site_id.as_str())
            && self
                .person_ref
                .as_deref()
                .is_none_or(|p| p == e.person_ref.as_str())
            && self.from.is_none_or(|f| e.occurred_at >= f)
            && self.to.is_none_or(|t| e.occurred_at < t)
    }

    /// Whether this hold may cover anything in local days `[first, last]` (for archived
    /// deliveries, whose events are not read one by one: any overlap keeps them).
    pub fn may_cover_days(&self, first: chrono::NaiveDate, last: chrono::NaiveDate) -> bool {
        self.active()
            && self.from.is_none_or(|f| local_date(&f) <= last)
            && self.to.is_none_or(|t| local_date(&t) >= first)
    }
}

impl Ledger {
    // --- legal holds ---------------------------------------------------------------------

    pub async fn holds(&self, ck: &CompanyKey) -> Result<Vec<LegalHold>, DomainError> {
        let items = self.store.query_all(&keys::holds(ck), SkRange::All).await?;
        items.iter().map(from_item).collect()
    }

    pub async fn hold(&self, ck: &CompanyKey, id: &str) -> Result<Option<LegalHold>, DomainError> {
        self.store
            .get(&keys::holds(ck), id)
            .await?
            .map(|i| from_item(&i))
            .transpose()
    }

    pub async fn save_hold(&self, ck: &CompanyKey, h: &LegalHold) -> Result<(), DomainError> {
        Ok(self
            .store
            .transact(vec![WriteOp::put(item_of(
                keys::holds(ck),
                h.id.clone(),
                h,
            )?)])
            .await?)
    }

    // --- announcements -------------------------------------------------------------------

    pub async fn save_announcement(
        &self,
        a: &crate::governance::admin::Announcement,
        sk: String,
    ) -> Result<(), DomainError> {
        let item = item_of(keys::ANNOUNCEMENTS.into(), sk, a)?;
        Ok(self.store.transact(vec![WriteOp::create(item)]).await?)
    }

    pub async fn announcements(
        &self,
    ) -> Result<Vec<crate::governance::admin::Announcement>, DomainError> {
        let items = self
            .store
            .query_all(keys::ANNOUNCEMENTS, SkRange::All)
            .await?;
        items.iter().map(from_item).collect()
    }
}
