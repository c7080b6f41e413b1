//! In-memory implementations of the storage ports, for unit tests.
//!
//! They follow the same semantics as the DynamoDB and embedded stores (the conformance
//! suite in tests/ runs against all of them): conditions are checked against the state
//! before a transaction and every failing operation is reported; a query examines at most
//! `limit` items of the range, then filters, and returns `last_sk` only when another item
//! of the range follows; requests DynamoDB refuses (empty keys, an item twice in one
//! transaction, a filter on a key, ...) are refused with `StoreError::Unavailable`.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::NaiveDate;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::ports::{
    Archive, ArchiveError, ArchivedObject, Item, ItemStore, Query, QueryPage, StoreError, WriteOp,
};
use crate::store_rules::{
    check_key, check_query, check_transaction, condition_holds, contains_matches, position,
    Position,
};

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
            .filter(|((_, sk), _)| position(&query.range, sk) == Position::In);
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

    /// Removes an object whatever its lock (tests of tamper detection).
    pub fn tamper_remove(&self, key: &str) {
        if let Ok(mut o) = self.objects.lock() {
            o.remove(key);
        }
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

    async fn delete(
        &self,
        key: &str,
        _version_id: Option<&str>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), ArchiveError> {
        let mut objects = self.lock()?;
        match objects.get(key) {
            None => Err(ArchiveError::NotFound(key.to_string())),
            // The lock holds through the whole retain-until day.
            Some(o) if o.retain_until >= now.date_naive() => {
                Err(ArchiveError::Locked(key.to_string()))
            }
            Some(_) => {
                objects.remove(key);
                Ok(())
            }
        }
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

type StoredFile = (Vec<u8>, String, String);

/// [`ExtractFiles`](crate::ports::ExtractFiles) in memory. Its links are
/// `memory:{key}@{expiry unix seconds}`, opened by `open_link` until they expire.
#[derive(Debug, Default)]
pub struct MemoryExtractFiles {
    /// key → (bytes, content type, file name)
    files: Mutex<BTreeMap<String, StoredFile>>,
}

impl MemoryExtractFiles {
    pub fn new() -> Self {
        Self::default()
    }

    /// The stored keys, in order (for assertions in tests).
    pub fn keys(&self) -> Vec<String> {
        self.files
            .lock()
            .map(|f| f.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// A stored file's bytes (empty if absent), for assertions in tests.
    pub fn get_for_test(&self, key: &str) -> Vec<u8> {
        self.files
            .lock()
            .ok()
            .and_then(|f| f.get(key).map(|x| x.0.clone()))
            .unwrap_or_default()
    }
}

#[async_trait]
impl crate::ports::ExtractFiles for MemoryExtractFiles {
    async fn put(
        &self,
        key: &str,
        bytes: &[u8],
        content_type: &str,
        file_name: &str,
    ) -> Result<(), ArchiveError> {
        self.files
            .lock()
            .map_err(|_| ArchiveError::Unavailable("memory files lock poisoned".into()))?
            .insert(
                key.to_string(),
                (
                    bytes.to_vec(),
                    content_type.to_string(),
                    file_name.to_string(),
                ),
            );
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>, ArchiveError> {
        self.files
            .lock()
            .map_err(|_| ArchiveError::Unavailable("memory files lock poisoned".into()))?
            .get(key)
            .map(|f| f.0.clone())
            .ok_or_else(|| ArchiveError::NotFound(key.to_string()))
    }

    async fn download_url(
        &self,
        key: &str,
        _file_name: &str,
        now: chrono::DateTime<chrono::Utc>,
        ttl: std::time::Duration,
    ) -> Result<String, ArchiveError> {
        Ok(format!(
            "memory:{key}@{}",
            now.timestamp() + ttl.as_secs() as i64
        ))
    }

    async fn open_link(
        &self,
        token: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<crate::ports::DownloadedFile, crate::ports::LinkError> {
        use crate::ports::LinkError;
        let (key, expiry) = token
            .strip_prefix("memory:")
            .and_then(|t| t.rsplit_once('@'))
            .ok_or(LinkError::Invalid)?;
        let expiry: i64 = expiry.parse().map_err(|_| LinkError::Invalid)?;
        if now.timestamp() >= expiry {
            return Err(LinkError::Expired);
        }
        let files = self.files.lock().map_err(|_| LinkError::Invalid)?;
        let (bytes, content_type, file_name) = files.get(key).ok_or(LinkError::Invalid)?;
        Ok(crate::ports::DownloadedFile {
            bytes: bytes.clone(),
            content_type: content_type.clone(),
            file_name: file_name.clone(),
        })
    }
}
