//! The partners' slice of the table: accredited ledger-system suppliers and each one's
//! delivery health per company (statistics' `partners`, the silence notices).

use super::{created, from_item, item_of, keys, Ledger};
use crate::error::DomainError;
use crate::model::Partner;
use crate::pagination::{Cursor, Page};
use crate::ports::{Condition, Item, SkRange, WriteOp};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

/// A partner's delivery health for one company (statistics' `partners`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartnerHealth {
    pub partner_id: String,
    pub events_received: i64,
    pub events_rejected: i64,
    /// RFC 3339, as written.
    pub last_delivery: Option<String>,
    /// Since when the partner is silent for the company (spec §11); `None` when it is not.
    pub silent_since: Option<DateTime<Utc>>,
    #[serde(skip)]
    last_at: Option<DateTime<Utc>>,
    #[serde(skip)]
    last_events_at: Option<DateTime<Utc>>,
    #[serde(skip)]
    delivery_days: std::collections::BTreeSet<chrono::NaiveDate>,
}

impl Ledger {
    // --- partners -------------------------------------------------------------------

    /// Accredits a partner; `false` if the id is taken.
    pub async fn create_partner(&self, p: &Partner) -> Result<bool, DomainError> {
        let item = item_of(keys::PARTNERS.into(), p.partner_id.clone(), p)?;
        created(self.store.transact(vec![WriteOp::create(item)]).await)
    }

    pub async fn partner(&self, partner_id: &str) -> Result<Option<Partner>, DomainError> {
        self.store
            .get(keys::PARTNERS, partner_id)
            .await?
            .map(|i| from_item(&i))
            .transpose()
    }

    pub async fn partners(
        &self,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> Result<Page<Partner>, DomainError> {
        self.page(keys::PARTNERS.into(), SkRange::All, cursor, limit, None)
            .await
    }

    /// Updates a partner (suspension); the partner must exist.
    pub async fn update_partner(&self, p: &Partner) -> Result<bool, DomainError> {
        let item = item_of(keys::PARTNERS.into(), p.partner_id.clone(), p)?;
        created(
            self.store
                .transact(vec![WriteOp::Put {
                    item,
                    condition: Condition::AttrEquals(
                        "partner_id".into(),
                        Value::String(p.partner_id.clone()),
                    ),
                }])
                .await,
        )
    }

    /// Notes one batch in a partner's delivery health for the company: one row per
    /// batch, written whole (a retry of the batch writes the same row again), so each
    /// batch counts once and nothing waits on a shared counter.
    pub async fn note_delivery(
        &self,
        ck: &str,
        partner_id: &str,
        batch_id: &str,
        received: u64,
        rejected: u64,
        at: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        let item = Item::new(keys::partner_health(ck), format!("{partner_id}#{batch_id}"))
            .with("partner_id", partner_id)
            .with("batch_id", batch_id)
            .with("events_received", received as i64)
            .with("events_rejected", rejected as i64)
            .with("last_delivery", at.to_rfc3339());
        self.store.transact(vec![WriteOp::put(item)]).await?;
        Ok(())
    }

    /// Each partner's delivery health for the company at `now`, summed over its batch
    /// rows; `last_delivery` is the latest batch's receipt time, so it never moves
    /// backwards; `silent_since` (spec §11) comes from the local days of the batches that
    /// carried events, so no ledger scan is needed.
    pub async fn partner_health(
        &self,
        ck: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<PartnerHealth>, DomainError> {
        let items = self
            .store
            .query_all(&keys::partner_health(ck), SkRange::All)
            .await?;
        let mut by_partner: std::collections::BTreeMap<String, PartnerHealth> =
            std::collections::BTreeMap::new();
        for i in items {
            let Some(pid) = i.str("partner_id") else {
                continue;
            };
            let h = by_partner
                .entry(pid.to_string())
                .or_insert_with(|| PartnerHealth {
                    partner_id: pid.to_string(),
                    events_received: 0,
                    events_rejected: 0,
                    last_delivery: None,
                    silent_since: None,
                    last_at: None,
                    last_events_at: None,
                    delivery_days: Default::default(),
                });
            h.events_received += i.i64("events_received").unwrap_or(0);
            h.events_rejected += i.i64("events_rejected").unwrap_or(0);
            let at = i
                .str("last_delivery")
                .and_then(|a| DateTime::parse_from_rfc3339(a).ok())
                .map(|a| a.with_timezone(&Utc));
            if at > h.last_at {
                h.last_at = at;
                h.last_delivery = i.str("last_delivery").map(str::to_string);
            }
            if let Some(at) = at.filter(|_| i.i64("events_received").unwrap_or(0) > 0) {
                h.delivery_days
                    .insert(crate::notify::silence::local_day(at));
                h.last_events_at = h.last_events_at.max(Some(at));
            }
        }
        Ok(by_partner
            .into_values()
            .map(|mut h| {
                h.silent_since = h.last_events_at.and_then(|last| {
                    crate::notify::silence::silent_since(&h.delivery_days, last, now)
                });
                h
            })
            .collect())
    }
}
