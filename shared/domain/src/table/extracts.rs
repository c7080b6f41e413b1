//! Extract records (spec §8) in the ledger's table: `CO#{ck}#EXTRACTS / {id}` for a
//! company's, `ME#{subject}#EXTRACTS / {id}` for an employee's own. Created once
//! (create-only), then changed only conditionally on their `version`.

use super::{created, from_item, item_of, keys, Ledger};
use crate::error::DomainError;
use crate::extracts::ExtractRecord;
use crate::ports::{Condition, WriteOp};
use serde_json::Value;

impl Ledger {
    /// The partition of a company's extracts.
    pub fn company_extracts_pk(&self, orgnr: &crate::identity::Orgnr) -> String {
        keys::extracts(&self.company_key(orgnr))
    }

    /// The partition of an employee's own extracts.
    pub fn own_extracts_pk(&self, person: &crate::identity::PersonId) -> String {
        keys::own_extracts(&self.pseudonyms().subject_key(person))
    }

    /// Stores a new extract; `false` if the id is taken.
    pub async fn create_extract(&self, pk: &str, r: &ExtractRecord) -> Result<bool, DomainError> {
        let item = item_of(pk.to_string(), r.id.clone(), r)?;
        created(self.store.transact(vec![WriteOp::create(item)]).await)
    }

    pub async fn extract(&self, pk: &str, id: &str) -> Result<Option<ExtractRecord>, DomainError> {
        self.store
            .get(pk, id)
            .await?
            .map(|i| from_item(&i))
            .transpose()
    }

    /// Replaces an extract unless it changed since it was read at version `r.version - 1`;
    /// `false` when it did.
    pub async fn update_extract(&self, pk: &str, r: &ExtractRecord) -> Result<bool, DomainError> {
        let item = item_of(pk.to_string(), r.id.clone(), r)?;
        let op = WriteOp::Put {
            item,
            condition: Condition::AttrEquals("version".into(), Value::from(r.version - 1)),
        };
        created(self.store.transact(vec![op]).await)
    }
}
