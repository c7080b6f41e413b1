//! In-memory implementations of the storage ports, for unit tests.
//!
//! They follow the same semantics as the DynamoDB and embedded stores (the conformance
//! suite in tests/ runs against all of them): conditions are checked against the state
//! before a transaction and every failing operation is reported; a query examines at most
//! `limit` items of the range, then filters, and returns `last_sk` only when another item
//! of the range follows; requests DynamoDB refuses (empty keys, an item twice in one
//! transaction, a filter on a key, ...) are refused with `StoreError::Unavailable`.

use std::collections::{BTreeMap, HashSet};
use std::ops::Bound;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::NaiveDate;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::ports::{
    Archive, ArchiveError, ArchivedObject, Condition, Item, ItemStore, Query, QueryPage, SkRange,
    StoreError, WriteOp, MAX_TRANSACTION_OPS,
};

const PK: &str = "pk";
const SK: &str = "sk";

type Attrs = Map<String, Value>;
type Items = BTreeMap<(String, String), Attrs>;

/// An [`ItemStore`] in a `BTreeMap` ordered by `(pk, sk)`, i.e. DynamoDB's order.
#[derive(Debug, Default)]
pub struct MemoryItemStore {
    items: Mutex<Items>,
}

impl MemoryItemStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> Result<MutexGuard<'_, Items>, StoreError> {
        self.items
            .lock()
            .map_err(|_| StoreError::Unavailable("memory store lock poisoned".into()))
    }

    /// Every stored item, in key order (for assertions in tests).
    pub fn dump(&self) -> Vec<Item> {
        match self.items.lock() {
            Ok(items) => items
                .iter()
                .map(|((pk, sk), attrs)| Item {
                    pk: pk.clone(),
                    sk: sk.clone(),
                    attrs: attrs.clone(),
                })
                .collect(),
            Err(_) => Vec::new(),
        }
    }
}

fn invalid(msg: String) -> StoreError {
    StoreError::Unavailable(format!("invalid request: {msg}"))
}

fn check_key(pk: &str, sk: &str) -> Result<(), StoreError> {
    if pk.is_empty() || sk.is_empty() {
        return Err(invalid(format!("empty key value in {pk:?}/{sk:?}")));
    }
    Ok(())
}

fn check_transaction(ops: &[WriteOp]) -> Result<(), StoreError> {
    if ops.len() > MAX_TRANSACTION_OPS {
        return Err(invalid(format!(
            "{} operations in one transaction, at most {MAX_TRANSACTION_OPS}",
            ops.len()
        )));
    }
    let mut seen = HashSet::new();
    for op in ops {
        let (pk, sk) = op.keys();
        check_key(pk, sk)?;
        if !seen.insert((pk, sk)) {
            return Err(invalid(format!(
                "item {pk}/{sk} appears twice in one transaction"
            )));
        }
        if let WriteOp::Put { item, .. } = op {
            for reserved in [PK, SK] {
                if item.attrs.contains_key(reserved) {
                    return Err(invalid(format!(
                        "item {pk}/{sk}: attribute name {reserved:?} is reserved for the key"
                    )));
                }
            }
        }
    }
    Ok(())
}

fn check_query(query: &Query) -> Result<(), StoreError> {
    if query.pk.is_empty() {
        return Err(invalid("empty partition key".into()));
    }
    if query.limit == 0 {
        return Err(invalid("query limit must be at least 1".into()));
    }
    if let SkRange::Between(lo, hi) = &query.range {
        if lo > hi {
            return Err(invalid(format!(
                "query range lower bound {lo:?} is above upper bound {hi:?}"
            )));
        }
    }
    if let Some((attr, _)) = &query.filter_contains {
        if attr == PK || attr == SK {
            return Err(invalid(format!(
                "a filter cannot use the key attribute {attr:?}"
            )));
        }
    }
    Ok(())
}

/// Equality as DynamoDB compares values: numbers by value, the rest structurally.
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => match (x.as_u64(), y.as_u64()) {
                (Some(x), Some(y)) => x == y,
                _ => x.as_f64() == y.as_f64(),
            },
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_eq(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

fn condition_holds(condition: &Condition, pk: &str, sk: &str, existing: Option<&Attrs>) -> bool {
    match condition {
        Condition::None => true,
        Condition::NotExists => existing.is_none(),
        Condition::AttrEquals(name, expected) => {
            let Some(attrs) = existing else { return false };
            match name.as_str() {
                PK => json_eq(&Value::String(pk.to_string()), expected),
                SK => json_eq(&Value::String(sk.to_string()), expected),
                _ => attrs
                    .get(name)
                    .is_some_and(|actual| json_eq(actual, expected)),
            }
        }
    }
}

/// DynamoDB's `contains(#a, :v)` with a string operand: substring of a string attribute, or
/// an element of a list attribute.
fn contains_matches(attrs: &Attrs, attr: &str, needle: &str) -> bool {
    match attrs.get(attr) {
        Some(Value::String(s)) => s.contains(needle),
        Some(Value::Array(items)) => items.iter().any(|v| v.as_str() == Some(needle)),
        _ => false,
    }
}

fn in_range(range: &SkRange, sk: &str) -> bool {
    match range {
        SkRange::All => true,
        SkRange::Prefix(p) => sk.starts_with(p.as_str()),
        SkRange::Between(lo, hi) => lo.as_str() <= sk && sk <= hi.as_str(),
    }
}

#[async_trait]
impl ItemStore for MemoryItemStore {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        check_key(pk, sk)?;
        let items = self.lock()?;
        Ok(items
            .get(&(pk.to_string(), sk.to_string()))
            .map(|attrs| Item {
                pk: pk.to_string(),
                sk: sk.to_string(),
                attrs: attrs.clone(),
            }))
    }

    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        if ops.is_empty() {
            return Ok(());
        }
        check_transaction(&ops)?;
        let mut items = self.lock()?;
        let failed: Vec<usize> = ops
            .iter()
            .enumerate()
            .filter(|(_, op)| {
                let (pk, sk) = op.keys();
                let condition = match op {
                    WriteOp::Put { condition, .. } | WriteOp::Delete { condition, .. } => condition,
                };
                let existing = items.get(&(pk.to_string(), sk.to_string()));
                !condition_holds(condition, pk, sk, existing)
            })
            .map(|(i, _)| i)
            .collect();
        if !failed.is_empty() {
            return Err(StoreError::ConditionFailed(failed));
        }
        for op in ops {
            match op {
                WriteOp::Put { item, .. } => {
                    items.insert((item.pk, item.sk), item.attrs);
                }
                WriteOp::Delete { pk, sk, .. } => {
                    items.remove(&(pk, sk));
                }
            }
        }
        Ok(())
    }

    async fn query(&self, query: Query) -> Result<QueryPage, StoreError> {
        check_query(&query)?;
        let items = self.lock()?;
        let pk = query.pk.clone();
        let lower = match &query.start_after {
            Some(after) => Bound::Excluded((pk.clone(), after.clone())),
            None => Bound::Included((pk.clone(), String::new())),
        };
        let mut page = QueryPage::default();
        let mut last = None;
        let in_partition = items
            .range((lower, Bound::Unbounded))
            .take_while(|((p, _), _)| *p == pk)
            .filter(|((_, sk), _)| in_range(&query.range, sk));
        for (examined, ((_, sk), attrs)) in in_partition.enumerate() {
            if examined == query.limit {
                // At least one more item is in range: the page is not the last.
                page.last_sk = last;
                return Ok(page);
            }
            last = Some(sk.clone());
            let keep = match &query.filter_contains {
                Some((attr, needle)) => contains_matches(attrs, attr, needle),
                None => true,
            };
            if keep {
                page.items.push(Item {
                    pk: pk.clone(),
                    sk: sk.clone(),
                    attrs: attrs.clone(),
                });
            }
        }
        Ok(page)
    }
}

#[derive(Debug, Clone)]
struct StoredObject {
    bytes: Vec<u8>,
    sha256: String,
    #[allow(dead_code)]
    content_type: String,
    retain_until: NaiveDate,
}

/// An [`Archive`] in a map: write-once (the same bytes again return the stored object,
/// other bytes are refused), no version ids.
#[derive(Debug, Default)]
pub struct MemoryArchive {
    objects: Mutex<BTreeMap<String, StoredObject>>,
}

impl MemoryArchive {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> Result<MutexGuard<'_, BTreeMap<String, StoredObject>>, ArchiveError> {
        self.objects
            .lock()
            .map_err(|_| ArchiveError::Unavailable("memory archive lock poisoned".into()))
    }

    /// The retention date an object was stored with (for assertions in tests).
    pub fn retain_until(&self, key: &str) -> Option<NaiveDate> {
        self.objects.lock().ok()?.get(key).map(|o| o.retain_until)
    }

    /// The stored keys, in order.
    pub fn keys(&self) -> Vec<String> {
        self.objects
            .lock()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    }
}

#[async_trait]
impl Archive for MemoryArchive {
    async fn put(
        &self,
        key: &str,
        bytes: &[u8],
        content_type: &str,
        retain_until: NaiveDate,
    ) -> Result<ArchivedObject, ArchiveError> {
        let sha256 = hex::encode(Sha256::digest(bytes));
        let mut objects = self.lock()?;
        if let Some(existing) = objects.get(key) {
            if existing.bytes != bytes {
                return Err(ArchiveError::Unavailable(format!(
                    "archive object {key} already exists with different content (write-once)"
                )));
            }
            return Ok(ArchivedObject {
                key: key.to_string(),
                sha256: existing.sha256.clone(),
                version_id: None,
            });
        }
        objects.insert(
            key.to_string(),
            StoredObject {
                bytes: bytes.to_vec(),
                sha256: sha256.clone(),
                content_type: content_type.to_string(),
                retain_until,
            },
        );
        Ok(ArchivedObject {
            key: key.to_string(),
            sha256,
            version_id: None,
        })
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>, ArchiveError> {
        self.lock()?
            .get(key)
            .map(|o| o.bytes.clone())
            .ok_or_else(|| ArchiveError::NotFound(key.to_string()))
    }

    async fn copy_from(
        &self,
        source: &str,
        _source_version: Option<&str>,
        key: &str,
        content_type: &str,
        retain_until: NaiveDate,
        sha256: &str,
    ) -> Result<ArchivedObject, ArchiveError> {
        let bytes = self.get(source).await?;
        if hex::encode(Sha256::digest(&bytes)) != sha256 {
            return Err(ArchiveError::Unavailable(format!(
                "staged object {source} changed while it was imported"
            )));
        }
        self.put(key, &bytes, content_type, retain_until).await
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, ArchiveError> {
        Ok(self
            .lock()?
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect())
    }

    async fn remove_staged(&self, key: &str) -> Result<(), ArchiveError> {
        if key.starts_with(crate::ports::UPLOADS_PREFIX) {
            self.lock()?.remove(key);
        }
        Ok(())
    }
}

impl MemoryArchive {
    /// Stages an upload (what a partner's PUT does).
    pub fn stage(&self, key: &str, bytes: Vec<u8>) {
        if let Ok(mut o) = self.objects.lock() {
            let sha256 = hex::encode(Sha256::digest(&bytes));
            o.insert(
                key.to_string(),
                StoredObject {
                    bytes,
                    sha256,
                    content_type: "application/octet-stream".into(),
                    retain_until: NaiveDate::MIN,
                },
            );
        }
    }
}
