//! Inspection links (spec §10): each kept twice, written together in one transaction —
//! under the company (`CO#{ck}#INSPECTIONS / {id}`, the admin's list) and under its id
//! (`INSPECTION#{id} / LINK`, where a presented secret is checked). Changed only
//! conditionally on their `version`, so a revocation is never lost to a race.

use super::{created, from_item, item_of, keys, Ledger};
use crate::error::DomainError;
use crate::governance::inspection::InspectionLink;
use crate::identity::pseudonym::CompanyKey;
use crate::ports::{Condition, SkRange, WriteOp};
use serde_json::Value;

impl Ledger {
    /// Stores a link: new (`previous_version` `None`, create-only) or a change of the
    /// one read at that version. `false` when the condition failed.
    pub async fn save_inspection(
        &self,
        link: &InspectionLink,
        previous_version: Option<i64>,
    ) -> Result<bool, DomainError> {
        let ck = self.company_key(&link.company_orgnr);
        let condition = match previous_version {
            None => Condition::NotExists,
            Some(v) => Condition::AttrEquals("version".into(), Value::from(v)),
        };
        let ops = vec![
            WriteOp::Put {
                item: item_of(keys::inspections(&ck), link.id.clone(), link)?,
                condition: condition.clone(),
            },
            WriteOp::Put {
                item: item_of(keys::inspection(&link.id), keys::LINK.into(), link)?,
                condition,
            },
        ];
        created(self.store.transact(ops).await)
    }

    pub async fn inspection(&self, id: &str) -> Result<Option<InspectionLink>, DomainError> {
        self.store
            .get(&keys::inspection(id), keys::LINK)
            .await?
            .map(|i| from_item(&i))
            .transpose()
    }

    pub async fn inspections(&self, ck: &CompanyKey) -> Result<Vec<InspectionLink>, DomainError> {
        let items = self
            .store
            .query_all(&keys::inspections(ck), SkRange::All)
            .await?;
        items.iter().map(from_item).collect()
    }
}
