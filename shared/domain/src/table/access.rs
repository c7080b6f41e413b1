//! Companies' activation and the users' grants: who may act for a company.

use super::{created, from_item, item_of, keys, Ledger};
use crate::error::DomainError;
use crate::identity::pseudonym::CompanyKey;
use crate::identity::Orgnr;
use crate::model::Activation;
use crate::pagination::{Cursor, Page};
use crate::ports::{Condition, Item, SkRange, WriteOp};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A user's roles in one company, as the company_admin granted them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grant {
    pub sub: String,
    pub roles: Vec<String>,
    pub granted_at: DateTime<Utc>,
    pub granted_by: String,
}

impl Ledger {
    // --- companies --------------------------------------------------------------------

    pub async fn activation(&self, orgnr: &Orgnr) -> Result<Option<Activation>, DomainError> {
        let ck = self.company_key(orgnr);
        self.store
            .get(&keys::company(&ck), keys::ACTIVATION)
            .await?
            .map(|i| from_item(&i))
            .transpose()
    }

    /// The activation with its optimistic-concurrency version (`None` on items written
    /// before versions were kept).
    pub async fn activation_versioned(
        &self,
        orgnr: &Orgnr,
    ) -> Result<Option<(Activation, Option<i64>)>, DomainError> {
        let ck = self.company_key(orgnr);
        self.store
            .get(&keys::company(&ck), keys::ACTIVATION)
            .await?
            .map(|i| Ok((from_item(&i)?, i.i64("version"))))
            .transpose()
    }

    /// Records an activation, with the activating admin as the company's first grant.
    /// `expected`: `None` for the first activation (the item must not exist, so of many
    /// admins activating at once exactly one becomes the first administrator), else the
    /// version read. `Ok(false)` when another change got there first.
    pub async fn save_activation(
        &self,
        a: &Activation,
        first_admin: Option<&Grant>,
        expected: Option<Option<i64>>,
    ) -> Result<bool, DomainError> {
        let ck = self.company_key(&a.company_orgnr);
        let (condition, version) = match expected {
            None => (Condition::NotExists, 1),
            Some(Some(v)) => (
                Condition::AttrEquals("version".into(), Value::from(v)),
                v + 1,
            ),
            Some(None) => (Condition::None, 1),
        };
        let mut ops = vec![
            WriteOp::Put {
                item: item_of(keys::company(&ck), keys::ACTIVATION.into(), a)?
                    .with("version", version),
                condition,
            },
            WriteOp::put(
                Item::new(keys::COMPANIES, ck.clone())
                    .with("company_orgnr", a.company_orgnr.to_string())
                    .with("active", a.is_active()),
            ),
        ];
        if let Some(g) = first_admin {
            ops.push(WriteOp::put(item_of(keys::users(&ck), g.sub.clone(), g)?));
        }
        created(self.store.transact(ops).await)
    }

    // --- grants -----------------------------------------------------------------------

    pub async fn grant(&self, orgnr: &Orgnr, sub: &str) -> Result<Option<Grant>, DomainError> {
        let ck = self.company_key(orgnr);
        self.store
            .get(&keys::users(&ck), sub)
            .await?
            .map(|i| from_item(&i))
            .transpose()
    }

    pub async fn grants(
        &self,
        orgnr: &Orgnr,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> Result<Page<Grant>, DomainError> {
        let ck = self.company_key(orgnr);
        self.page(keys::users(&ck), SkRange::All, cursor, limit, None)
            .await
    }

    pub async fn all_grants(&self, orgnr: &Orgnr) -> Result<Vec<Grant>, DomainError> {
        let ck = self.company_key(orgnr);
        let items = self
            .store
            .query_all(&keys::users(&ck), SkRange::All)
            .await?;
        items.iter().map(from_item).collect()
    }

    /// Writes a grant and, when the change takes a company_admin away, re-asserts
    /// `witness` — another company_admin's grant as it was read — in the same
    /// transaction: two admins demoting or removing each other at once cannot both
    /// succeed, so the company always keeps one. `Ok(false)` when a condition failed.
    pub async fn put_grant(
        &self,
        orgnr: &Orgnr,
        g: &Grant,
        witness: Option<&Grant>,
    ) -> Result<bool, DomainError> {
        let ck = self.company_key(orgnr);
        let mut ops = vec![WriteOp::put(item_of(keys::users(&ck), g.sub.clone(), g)?)];
        if let Some(w) = witness {
            ops.push(self.witness_op(&ck, w)?);
        }
        created(self.store.transact(ops).await)
    }

    /// Removes a grant (it must still exist), re-asserting `witness` as
    /// [`Ledger::put_grant`] does. `Ok(false)` when a condition failed.
    pub async fn delete_grant(
        &self,
        orgnr: &Orgnr,
        sub: &str,
        witness: Option<&Grant>,
    ) -> Result<bool, DomainError> {
        let ck = self.company_key(orgnr);
        let mut ops = vec![WriteOp::Delete {
            pk: keys::users(&ck),
            sk: sub.to_string(),
            condition: Condition::AttrEquals("sub".into(), Value::String(sub.into())),
        }];
        if let Some(w) = witness {
            ops.push(self.witness_op(&ck, w)?);
        }
        created(self.store.transact(ops).await)
    }

    /// Puts a grant back unchanged, on condition that it is unchanged.
    pub(super) fn witness_op(&self, ck: &CompanyKey, w: &Grant) -> Result<WriteOp, DomainError> {
        let granted_at = serde_json::to_value(w.granted_at)
            .map_err(|e| DomainError::Internal(format!("cannot encode a grant: {e}")))?;
        Ok(WriteOp::Put {
            item: item_of(keys::users(ck), w.sub.clone(), w)?,
            condition: Condition::AttrEquals("granted_at".into(), granted_at),
        })
    }

    /// Active companies (for scheduled jobs): one partition, read with Query.
    pub async fn companies(&self) -> Result<Vec<(CompanyKey, Orgnr, bool)>, DomainError> {
        let items = self.store.query_all(keys::COMPANIES, SkRange::All).await?;
        Ok(items
            .iter()
            .filter_map(|i| {
                let orgnr = Orgnr::parse(i.str("company_orgnr")?).ok()?;
                Some((
                    CompanyKey::from_stored(i.sk.clone()),
                    orgnr,
                    i.attrs
                        .get("active")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                ))
            })
            .collect())
    }
}
