//! The table: the ledger's records and indexes on an [`ItemStore`] (docs/data-model.md).
//! [`Ledger`] is the handle; each file below owns one slice of the items and the methods
//! that read and write it: `events` (records, heads, corrections), `timelines`,
//! `directory`, `days` (data days, dirty days, statistics rows), `partners`, `access`
//! (activation, grants), `health` (partners' delivery health), `holds`, `archive`, `erase`, `ingest` (batches' starts,
//! uploads, feed cursors), `extracts` and `inspections`. `keys` names every key.

mod access;
mod archive;
mod days;
mod directory;
mod erase;
mod events;
mod extracts;
mod health;
mod holds;
mod ingest;
mod inspections;
pub mod keys;
mod partners;
mod timelines;

pub use access::Grant;
pub use archive::ArchivedEntry;
pub(crate) use directory::employer_directory_ops;
pub use directory::{PersonEntry, SiteEntry};
pub use events::{BatchRecord, CorrectionEntry, Head, WRITES_PER_DAY_CHUNK, WRITES_PER_EVENT};
pub use health::{Folded, PartnerHealth};
pub use holds::LegalHold;
pub use ingest::{FeedCursor, PullStatus, Upload, UploadStatus};
use timelines::{day_key, day_pk, legacy_site_key, person_key};

use crate::error::DomainError;
use crate::identity::pseudonym::{CompanyKey, PseudonymKey};
use crate::identity::Orgnr;
use crate::pagination::{Cursor, Page};
use crate::ports::{Item, ItemStore, Query, SkRange, StoreError, WriteOp};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;
use std::sync::Arc;

/// How many partitions one answer reads at once (day partitions, person timelines,
/// companies, correction histories): enough that a month of days is one round trip,
/// bounded so that one request cannot flood the table or the connection pool.
pub const PARTITION_READS: usize = 48;

fn to_attrs<T: Serialize>(value: &T) -> Result<serde_json::Map<String, Value>, DomainError> {
    match serde_json::to_value(value) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(DomainError::Internal("item body must be an object".into())),
        Err(e) => Err(DomainError::Internal(format!("cannot encode item: {e}"))),
    }
}

pub(crate) fn item_of<T: Serialize>(
    pk: String,
    sk: String,
    value: &T,
) -> Result<Item, DomainError> {
    Ok(Item {
        pk,
        sk,
        attrs: to_attrs(value)?,
    })
}

pub(crate) fn from_item<T: DeserializeOwned>(item: &Item) -> Result<T, DomainError> {
    serde_json::from_value(Value::Object(item.attrs.clone())).map_err(|e| {
        DomainError::Internal(format!(
            "stored item {}/{} is unreadable: {e}",
            item.pk, item.sk
        ))
    })
}

fn nested<T: DeserializeOwned>(item: &Item, attr: &str) -> Result<T, DomainError> {
    let v = item.attrs.get(attr).cloned().ok_or_else(|| {
        DomainError::Internal(format!("stored item {}/{} lacks {attr}", item.pk, item.sk))
    })?;
    serde_json::from_value(v).map_err(|e| {
        DomainError::Internal(format!(
            "stored item {}/{} is unreadable: {e}",
            item.pk, item.sk
        ))
    })
}

#[derive(Clone)]
pub struct Ledger {
    store: Arc<dyn ItemStore>,
    keys: PseudonymKey,
}

impl Ledger {
    pub fn new(store: Arc<dyn ItemStore>, keys: PseudonymKey) -> Self {
        Ledger { store, keys }
    }

    /// The item store itself, for services that keep their own items (notifications).
    pub fn store(&self) -> &Arc<dyn ItemStore> {
        &self.store
    }

    pub fn pseudonyms(&self) -> &PseudonymKey {
        &self.keys
    }

    pub fn company_key(&self, orgnr: &Orgnr) -> CompanyKey {
        self.keys.company_key(orgnr)
    }

    async fn page<T: DeserializeOwned>(
        &self,
        pk: String,
        range: SkRange,
        cursor: Option<&Cursor>,
        limit: usize,
        filter: Option<(String, String)>,
    ) -> Result<Page<T>, DomainError> {
        let mut found: Vec<Item> = Vec::new();
        let mut q = Query::new(pk, range);
        q.start_after = cursor.map(|c| c.key.clone());
        q.filter_contains = filter;
        // Read one item past the page so that `next_cursor` is only given when more
        // follow; a filter may thin pages out, so keep reading until full or done.
        loop {
            q.limit = limit + 1 - found.len();
            let page = self.store.query(q.clone()).await?;
            found.extend(page.items);
            match page.last_sk {
                Some(sk) if found.len() <= limit => q.start_after = Some(sk),
                _ => break,
            }
        }
        let next = (found.len() > limit).then(|| Cursor::after(found[limit - 1].sk.clone()));
        found.truncate(limit);
        let items = found.iter().map(from_item).collect::<Result<Vec<T>, _>>()?;
        Ok(Page { items, next })
    }

    pub async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        self.store.transact(ops).await
    }
}

/// `Ok(true)` when a conditional write went through, `Ok(false)` when its condition failed.
fn created(r: Result<(), StoreError>) -> Result<bool, DomainError> {
    match r {
        Ok(()) => Ok(true),
        Err(StoreError::ConditionFailed(_)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}
