//! [`ItemStore`] in one redb file, for running Stamp on a single machine.
//!
//! One table maps the tuple key `(pk, sk)` to the item's attributes as JSON. redb orders
//! `&str` by bytes and tuples element by element, which is exactly DynamoDB's order within
//! a partition, so a query is one range scan. Every commit is durable (fsync) before it
//! returns. The blocking redb calls run on tokio's blocking pool.
//!
//! Requests DynamoDB would refuse (empty keys, duplicate items in a transaction, more than
//! [`MAX_TRANSACTION_OPS`](stamp_domain::ports::MAX_TRANSACTION_OPS), a filter on a key, ...)
//! are refused here too, with [`StoreError::Unavailable`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde_json::{Map, Value};
use stamp_domain::ports::{Item, ItemStore, Query, QueryPage, StoreError, WriteOp};

use crate::rules::{self, Position};

const ITEMS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("items");

/// The file name [`EmbeddedItemStore::open_in_dir`] uses.
pub const LEDGER_FILE: &str = "ledger.redb";

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error("creating {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("opening {path}: {message}")]
    Open { path: PathBuf, message: String },
}

/// The ledger in a redb file. Cloning shares the open database.
#[derive(Clone)]
pub struct EmbeddedItemStore {
    db: Arc<Database>,
    path: PathBuf,
}

impl std::fmt::Debug for EmbeddedItemStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedItemStore")
            .field("path", &self.path)
            .finish()
    }
}

fn redb_err(what: &str, err: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(format!("embedded store {what}: {err}"))
}

fn decode(pk: &str, sk: &str, bytes: &[u8]) -> Result<Map<String, Value>, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| redb_err(&format!("decoding {pk}/{sk}"), e))
}

impl EmbeddedItemStore {
    /// Opens the database file, creating it (and its folder) if missing. redb locks the
    /// file: one process at a time.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, EmbeddedError> {
        let path = path.as_ref().to_path_buf();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| EmbeddedError::Io {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let open_err = |message: String| EmbeddedError::Open {
            path: path.clone(),
            message,
        };
        let db = Database::create(&path).map_err(|e| open_err(e.to_string()))?;
        // Create the table now so that readers never meet a missing table.
        let txn = db.begin_write().map_err(|e| open_err(e.to_string()))?;
        txn.open_table(ITEMS).map_err(|e| open_err(e.to_string()))?;
        txn.commit().map_err(|e| open_err(e.to_string()))?;
        Ok(EmbeddedItemStore {
            db: Arc::new(db),
            path,
        })
    }

    /// Opens `<dir>/ledger.redb`.
    pub fn open_in_dir(dir: impl AsRef<Path>) -> Result<Self, EmbeddedError> {
        Self::open(dir.as_ref().join(LEDGER_FILE))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    async fn blocking<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Database) -> Result<T, StoreError> + Send + 'static,
    {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || f(&db))
            .await
            .map_err(|e| redb_err("task", e))?
    }
}

fn get_blocking(db: &Database, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
    let txn = db.begin_read().map_err(|e| redb_err("read", e))?;
    let table = txn.open_table(ITEMS).map_err(|e| redb_err("read", e))?;
    let Some(value) = table.get((pk, sk)).map_err(|e| redb_err("read", e))? else {
        return Ok(None);
    };
    let attrs = decode(pk, sk, value.value())?;
    Ok(Some(Item {
        pk: pk.to_string(),
        sk: sk.to_string(),
        attrs,
    }))
}

fn transact_blocking(db: &Database, ops: Vec<WriteOp>) -> Result<(), StoreError> {
    let txn = db.begin_write().map_err(|e| redb_err("write", e))?;
    {
        let mut table = txn.open_table(ITEMS).map_err(|e| redb_err("write", e))?;
        // Every condition is checked against the state before the transaction, as DynamoDB
        // does (each item appears at most once, so no op can see another's write anyway).
        let mut failed = Vec::new();
        for (i, op) in ops.iter().enumerate() {
            let (pk, sk, condition) = match op {
                WriteOp::Put { item, condition } => (item.pk.as_str(), item.sk.as_str(), condition),
                WriteOp::Delete { pk, sk, condition } => (pk.as_str(), sk.as_str(), condition),
            };
            let existing = match table.get((pk, sk)).map_err(|e| redb_err("read", e))? {
                Some(v) => Some(decode(pk, sk, v.value())?),
                None => None,
            };
            if !rules::condition_holds(condition, pk, sk, existing.as_ref()) {
                failed.push(i);
            }
        }
        if !failed.is_empty() {
            // Dropping the uncommitted transaction discards it.
            return Err(StoreError::ConditionFailed(failed));
        }
        for op in &ops {
            match op {
                WriteOp::Put { item, .. } => {
                    let bytes =
                        serde_json::to_vec(&item.attrs).map_err(|e| redb_err("encode", e))?;
                    table
                        .insert((item.pk.as_str(), item.sk.as_str()), bytes.as_slice())
                        .map_err(|e| redb_err("write", e))?;
                }
                WriteOp::Delete { pk, sk, .. } => {
                    table
                        .remove((pk.as_str(), sk.as_str()))
                        .map_err(|e| redb_err("write", e))?;
                }
            }
        }
    }
    txn.commit().map_err(|e| redb_err("commit", e))
}

fn query_blocking(db: &Database, query: &Query) -> Result<QueryPage, StoreError> {
    let txn = db.begin_read().map_err(|e| redb_err("read", e))?;
    let table = txn.open_table(ITEMS).map_err(|e| redb_err("read", e))?;
    let (start, inclusive) = rules::start_bound(&query.range, query.start_after.as_deref());
    let pk = query.pk.as_str();
    let lower = if inclusive {
        std::ops::Bound::Included((pk, start))
    } else {
        std::ops::Bound::Excluded((pk, start))
    };
    let iter = table
        .range::<(&str, &str)>((lower, std::ops::Bound::Unbounded))
        .map_err(|e| redb_err("read", e))?;
    let mut page = QueryPage::default();
    let mut examined = 0usize;
    let mut last = None;
    for entry in iter {
        let (key, value) = entry.map_err(|e| redb_err("read", e))?;
        let (item_pk, sk) = key.value();
        if item_pk != pk {
            break;
        }
        match rules::position(&query.range, sk) {
            Position::Before => continue,
            Position::After => break,
            Position::In => {}
        }
        if examined == query.limit {
            // At least one more item is in range: the page is not the last.
            page.last_sk = last;
            return Ok(page);
        }
        examined += 1;
        last = Some(sk.to_string());
        let attrs = decode(pk, sk, value.value())?;
        let keep = match &query.filter_contains {
            Some((attr, needle)) => rules::contains_matches(&attrs, attr, needle),
            None => true,
        };
        if keep {
            page.items.push(Item {
                pk: pk.to_string(),
                sk: sk.to_string(),
                attrs,
            });
        }
    }
    Ok(page)
}

#[async_trait]
impl ItemStore for EmbeddedItemStore {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        rules::check_key(pk, sk)?;
        let (pk, sk) = (pk.to_string(), sk.to_string());
        self.blocking(move |db| get_blocking(db, &pk, &sk)).await
    }

    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        if ops.is_empty() {
            return Ok(());
        }
        rules::check_transaction(&ops)?;
        self.blocking(move |db| transact_blocking(db, ops)).await
    }

    async fn query(&self, query: Query) -> Result<QueryPage, StoreError> {
        rules::check_query(&query)?;
        self.blocking(move |db| query_blocking(db, &query)).await
    }
}
