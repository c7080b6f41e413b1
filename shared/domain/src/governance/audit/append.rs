//! Appending: each entry create-only and linked to the one before it in its chain, many
//! refused or anonymous requests' entries committed in one write (group commit).

use super::{
    entries_pk, internal, stamp, AuditEntry, AuditRecord, GroupFailure, ItemAuditTrail, Pending,
    Pointer, CHAINS_PK, GENESIS, POINTER_PK,
};
use crate::error::DomainError;
use crate::ports::{Item, ItemStore, Query, SkRange, StoreError, WriteOp};
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::sync::Arc;

impl ItemAuditTrail {
    /// A fresh entry of `record` at `now` under a new time-ordered id, as its item.
    pub(super) fn new_entry(
        chain: &str,
        record: &AuditRecord,
        now: DateTime<Utc>,
    ) -> Result<(AuditEntry, Item), DomainError> {
        let mut entry = AuditEntry {
            id: format!(
                "{}#{:016x}",
                stamp(&now),
                uuid::Uuid::new_v4().as_u128() as u64
            ),
            at: now,
            record: record.clone(),
            hash: String::new(),
        };
        entry.hash = entry.compute_hash();
        let Value::Object(attrs) = serde_json::to_value(&entry).map_err(internal)? else {
            return Err(internal("audit entry must be an object"));
        };
        let item = Item {
            pk: entries_pk(chain),
            sk: entry.id.clone(),
            attrs,
        };
        Ok((entry, item))
    }

    /// Commits one group: every entry create-only, in as few transactions as the store
    /// allows; an entry whose key is taken is answered `Taken`, the rest written again.
    pub(super) async fn commit_group(store: Arc<dyn ItemStore>, mut batch: Vec<Pending>) {
        while !batch.is_empty() {
            let ops: Vec<WriteOp> = batch
                .iter()
                .map(|p| WriteOp::create(p.item.clone()))
                .collect();
            match store.transact(ops).await {
                Ok(()) => {
                    for p in batch.drain(..) {
                        let _ = p.done.send(Ok(()));
                    }
                }
                Err(StoreError::ConditionFailed(failed)) if !failed.is_empty() => {
                    let mut rest = Vec::with_capacity(batch.len());
                    for (i, p) in batch.drain(..).enumerate() {
                        if failed.contains(&i) {
                            let _ = p.done.send(Err(GroupFailure::Taken));
                        } else {
                            rest.push(p);
                        }
                    }
                    batch = rest;
                }
                Err(e) => {
                    let why = e.to_string();
                    for p in batch.drain(..) {
                        let _ = p.done.send(Err(GroupFailure::Store(why.clone())));
                    }
                }
            }
        }
    }

    pub(super) async fn register(&self, chain: &str) -> Result<(), DomainError> {
        let known = self
            .known
            .lock()
            .map(|k| k.contains(chain))
            .unwrap_or(false);
        if known {
            return Ok(());
        }
        // One registration at a time in this process: concurrent writes of the same item
        // would conflict (DynamoDB's TransactionConflict) and fail the requests.
        let _one = self.group.registering.lock().await;
        if self
            .known
            .lock()
            .map(|k| k.contains(chain))
            .unwrap_or(false)
        {
            return Ok(());
        }
        let item = Item::new(CHAINS_PK, chain).with("chain", chain);
        self.store.transact(vec![WriteOp::put(item)]).await?;
        if let Ok(mut k) = self.known.lock() {
            k.insert(chain.to_string());
        }
        Ok(())
    }

    pub(super) async fn pointer(&self, chain: &str) -> Result<Pointer, DomainError> {
        Ok(match self.store.get(POINTER_PK, chain).await? {
            None => Pointer {
                digest_no: 0,
                last_entry: String::new(),
                total: 0,
                hash: GENESIS.into(),
                key: None,
            },
            Some(p) => Pointer {
                digest_no: p.i64("digest_no").unwrap_or(0) as u64,
                last_entry: p.str("last_entry").unwrap_or_default().to_string(),
                total: p.i64("total").unwrap_or(0) as u64,
                hash: p.str("hash").unwrap_or(GENESIS).to_string(),
                key: p.str("archive_key").map(str::to_string),
            },
        })
    }

    /// Up to `limit` entries after `after` (exclusive) and before `before` (exclusive).
    pub(super) async fn entries_between(
        &self,
        chain: &str,
        after: &str,
        before: &str,
        limit: usize,
    ) -> Result<Vec<Item>, DomainError> {
        let mut q = Query::new(
            entries_pk(chain),
            SkRange::Between("0".into(), before.into()),
        );
        q.start_after = (!after.is_empty()).then(|| after.to_string());
        q.limit = limit;
        let mut found = Vec::new();
        loop {
            let page = self.store.query(q.clone()).await?;
            found.extend(page.items.into_iter().filter(|i| i.sk.as_str() < before));
            match page.last_sk {
                Some(sk) if found.len() < limit => {
                    q.start_after = Some(sk);
                    q.limit = limit - found.len();
                }
                _ => break,
            }
        }
        found.truncate(limit);
        Ok(found)
    }
}
