//! The partners' slice of the table: the accredited ledger-system suppliers (their
//! delivery health per company is in `health`).

use super::{created, from_item, item_of, keys, Ledger};
use crate::error::DomainError;
use crate::identity::PartnerId;
use crate::model::Partner;
use crate::pagination::{Cursor, Page};
use crate::ports::{Condition, SkRange, WriteOp};
use serde_json::Value;

impl Ledger {
    // --- partners -------------------------------------------------------------------

    /// Accredits a partner; `false` if the id is taken.
    pub async fn create_partner(&self, p: &Partner) -> Result<bool, DomainError> {
        let item = item_of(keys::PARTNERS.into(), p.partner_id.to_string(), p)?;
        created(self.store.transact(vec![WriteOp::create(item)]).await)
    }

    pub async fn partner(&self, partner_id: &PartnerId) -> Result<Option<Partner>, DomainError> {
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
        let item = item_of(keys::PARTNERS.into(), p.partner_id.to_string(), p)?;
        created(
            self.store
                .transact(vec![WriteOp::Put {
                    item,
                    condition: Condition::AttrEquals(
                        "partner_id".into(),
                        Value::from(&p.partner_id),
                    ),
                }])
                .await,
        )
    }
}
