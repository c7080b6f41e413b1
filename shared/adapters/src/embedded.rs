//! [`ItemStore`] in one redb file, for running Stamp on a single machine.
//!
//! One table maps the tuple key `(pk, sk)` to the item's attributes as JSON. redb orders
//! `&str` by bytes and tuples element by element, which is exactly DynamoDB's order within
//! a partition, so a query is one range scan. Every transaction is durable before it is
//! answered. The blocking redb reads run on tokio's blocking pool; writes go to one
//! writer thread that commits the transactions waiting for it together (group commit,
//! [`CommitMode`]): redb has one writer at a time, so concurrent pushes would otherwise
//! queue one commit each. A group is made durable by one sequential append to a
//! write-ahead log ([`wal`], `ledger.redb.wal` beside the file), not by a durable redb
//! commit, which writes pages all over the file; a checkpoint (a durable redb commit,
//! then the log emptied) follows every [`CHECKPOINT_BYTES`] of log or
//! [`CHECKPOINT_EVERY`], when the store is idle, and when it closes.
//!
//! Requests DynamoDB would refuse (empty keys, duplicate items in a transaction, more than
//! [`MAX_TRANSACTION_OPS`](stamp_domain::ports::MAX_TRANSACTION_OPS), a filter on a key, ...)
//! are refused here too, with [`StoreError::Unavailable`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde_json::{Map, Value};
use stamp_domain::ports::{Condition, Item, ItemStore, Query, QueryPage, StoreError, WriteOp};

use crate::rules::{self, Position};

mod wal;
use wal::Wal;

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

/// How [`EmbeddedItemStore`] commits transactions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CommitMode {
    /// One writer thread commits the transactions waiting for it together: each is
    /// checked and applied in turn, all or nothing on its own, inside one redb write
    /// transaction, and none is answered before the group's writes are durable in the
    /// write-ahead log (group commit: one sequential sync for many callers); redb's
    /// file is synced at checkpoints. The default.
    #[default]
    Logged,
    /// Group commit as [`CommitMode::Logged`], each group made durable by a durable
    /// redb commit instead of the log (the path before the log; kept to measure the
    /// difference, `stamp-load --commit grouped`).
    Grouped,
    /// One redb write transaction (one durable commit) per call, as before group
    /// commit; kept to measure the difference (`stamp-load --commit single`).
    Single,
}

/// At most this many callers' transactions share one commit (each holds at most
/// [`MAX_TRANSACTION_OPS`](stamp_domain::ports::MAX_TRANSACTION_OPS) writes).
const MAX_GROUP: usize = 128;

/// A checkpoint once the write-ahead log holds this much (it bounds the log, the
/// replay at the next open, and the redb pages a non-durable commit keeps from reuse).
const CHECKPOINT_BYTES: u64 = 64 << 20;

/// A checkpoint at least this often while writes come, and after this long idle.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// The ledger in a redb file. Cloning shares the open database.
#[derive(Clone)]
pub struct EmbeddedItemStore {
    inner: Arc<Inner>,
}

struct Inner {
    db: Arc<Database>,
    path: PathBuf,
    /// The group writer's queue (`None` in [`CommitMode::Single`]).
    writer: Option<std::sync::mpsc::Sender<Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Close the queue and wait for the writer, so that the file is unlocked when the
        // last handle is gone (a reopen right after must succeed).
        self.writer.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One caller's transaction waiting for the group writer.
struct Job {
    ops: Vec<Prepared>,
    done: tokio::sync::oneshot::Sender<Result<(), StoreError>>,
}

/// A write with its value already encoded (on the caller's thread, not the writer's).
struct Prepared {
    pk: String,
    sk: String,
    condition: Condition,
    /// `None` deletes.
    bytes: Option<Vec<u8>>,
}

impl std::fmt::Debug for EmbeddedItemStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedItemStore")
            .field("path", &self.inner.path)
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
        Self::open_with(path, CommitMode::default())
    }

    /// [`EmbeddedItemStore::open`] with the commit mode chosen.
    pub fn open_with(path: impl AsRef<Path>, mode: CommitMode) -> Result<Self, EmbeddedError> {
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
        // The log's complete records, applied again (whatever the mode: a store last run
        // grouped may be opened single), then the table created if new, in one durable
        // commit; the log is emptied only after it.
        let (mut log, groups) =
            Wal::open(&wal_path(&path)).map_err(|e| open_err(format!("write-ahead log: {e}")))?;
        let txn = db.begin_write().map_err(|e| open_err(e.to_string()))?;
        {
            // Create the table now so that readers never meet a missing table.
            let mut table = txn.open_table(ITEMS).map_err(|e| open_err(e.to_string()))?;
            for w in groups.iter().flatten() {
                let key = (w.pk.as_str(), w.sk.as_str());
                match &w.bytes {
                    Some(b) => table.insert(key, b.as_slice()).map(|_| ()),
                    None => table.remove(key).map(|_| ()),
                }
                .map_err(|e| open_err(format!("replaying the write-ahead log: {e}")))?;
            }
        }
        txn.commit().map_err(|e| open_err(e.to_string()))?;
        if !groups.is_empty() {
            tracing::info!(
                groups = groups.len(),
                "embedded store: write-ahead log replayed"
            );
        }
        log.truncate_to(0)
            .map_err(|e| open_err(format!("write-ahead log: {e}")))?;
        let db = Arc::new(db);
        let (writer, thread) = match mode {
            CommitMode::Single => (None, None),
            CommitMode::Logged | CommitMode::Grouped => {
                let log = (mode == CommitMode::Logged).then_some(log);
                let (tx, rx) = std::sync::mpsc::channel::<Job>();
                let db = db.clone();
                let thread = std::thread::Builder::new()
                    .name("redb-writer".into())
                    .spawn(move || group_writer(&db, &rx, log))
                    .map_err(|source| EmbeddedError::Io {
                        path: path.clone(),
                        source,
                    })?;
                (Some(tx), Some(thread))
            }
        };
        Ok(EmbeddedItemStore {
            inner: Arc::new(Inner {
                db,
                path,
                writer,
                thread,
            }),
        })
    }

    /// Opens `<dir>/ledger.redb`.
    pub fn open_in_dir(dir: impl AsRef<Path>) -> Result<Self, EmbeddedError> {
        Self::open(dir.as_ref().join(LEDGER_FILE))
    }

    /// [`EmbeddedItemStore::open_in_dir`] with the commit mode chosen.
    pub fn open_in_dir_with(
        dir: impl AsRef<Path>,
        mode: CommitMode,
    ) -> Result<Self, EmbeddedError> {
        Self::open_with(dir.as_ref().join(LEDGER_FILE), mode)
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    async fn blocking<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Database) -> Result<T, StoreError> + Send + 'static,
    {
        let db = self.inner.db.clone();
        tokio::task::spawn_blocking(move || f(&db))
            .await
            .map_err(|e| redb_err("task", e))?
    }
}

/// Where the write-ahead log of the store at `path` lives.
fn wal_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".wal");
    path.with_file_name(name)
}

/// The group writer: takes every transaction waiting (up to [`MAX_GROUP`]), applies
/// them in arrival order in one redb write transaction — each all or nothing, its
/// conditions checked against what the ones before it left — logs and commits once,
/// then answers each, and checkpoints now and then. Runs until the last store handle
/// closes the queue, then checkpoints a last time. Without a log
/// ([`CommitMode::Grouped`]) each group's commit is durable itself.
fn group_writer(db: &Database, rx: &std::sync::mpsc::Receiver<Job>, mut log: Option<Wal>) {
    use std::sync::mpsc::RecvTimeoutError;
    let mut checkpointed = std::time::Instant::now();
    loop {
        let first = match rx.recv_timeout(CHECKPOINT_EVERY) {
            Ok(job) => job,
            Err(RecvTimeoutError::Timeout) => {
                checkpoint(db, log.as_mut());
                checkpointed = std::time::Instant::now();
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => break,
        };
        let mut jobs = vec![first];
        while jobs.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let outcomes = commit_group(db, &jobs, log.as_mut());
        for (job, outcome) in jobs.into_iter().zip(outcomes) {
            // A caller that went away no longer needs its answer.
            let _ = job.done.send(outcome);
        }
        let logged = log.as_ref().map_or(0, Wal::len);
        if logged >= CHECKPOINT_BYTES || checkpointed.elapsed() >= CHECKPOINT_EVERY {
            checkpoint(db, log.as_mut());
            checkpointed = std::time::Instant::now();
        }
    }
    checkpoint(db, log.as_mut());
}

/// Makes every commit so far durable in the redb file (an empty durable commit persists
/// the non-durable ones before it), then empties the log. If either fails, the log is
/// kept — it still holds every write since the last checkpoint — and the next one tries
/// again.
fn checkpoint(db: &Database, log: Option<&mut Wal>) {
    let Some(log) = log.filter(|l| l.len() > 0) else {
        return;
    };
    let done = db
        .begin_write()
        .map_err(|e| e.to_string())
        .and_then(|txn| txn.commit().map_err(|e| e.to_string()))
        .and_then(|()| log.truncate_to(0).map_err(|e| e.to_string()));
    if let Err(e) = done {
        tracing::error!(error = %e, wal = %log.path().display(), "embedded store: checkpoint failed; the write-ahead log is kept");
    }
}

/// One write transaction for `jobs`: each job's answer, given only once its writes are
/// durable in the log. If the store fails anywhere, nothing of the group is committed and
/// every job is answered with that failure (a job whose condition failed may have failed
/// on an earlier job's write that is now not stored; its retry is judged anew).
fn commit_group(db: &Database, jobs: &[Job], log: Option<&mut Wal>) -> Vec<Result<(), StoreError>> {
    let fail_all = |e: StoreError| {
        let why = match e {
            StoreError::Unavailable(why) => why,
            other => other.to_string(),
        };
        jobs.iter()
            .map(|_| Err(StoreError::Unavailable(why.clone())))
            .collect()
    };
    let mut txn = match db.begin_write() {
        Ok(t) => t,
        Err(e) => return fail_all(redb_err("write", e)),
    };
    // The log makes the group durable; redb's own sync waits for the next checkpoint.
    if log.is_some() {
        if let Err(e) = txn.set_durability(redb::Durability::None) {
            return fail_all(redb_err("write", e));
        }
    }
    let mut outcomes = Vec::with_capacity(jobs.len());
    {
        let mut table = match txn.open_table(ITEMS) {
            Ok(t) => t,
            Err(e) => return fail_all(redb_err("write", e)),
        };
        for job in jobs {
            match apply(&mut table, &job.ops) {
                Ok(outcome) => outcomes.push(outcome),
                // The table may hold part of this job: drop the whole transaction.
                Err(e) => return fail_all(e),
            }
        }
    }
    let Some(log) = log else {
        return match txn.commit() {
            Ok(()) => outcomes,
            Err(e) => fail_all(redb_err("commit", e)),
        };
    };
    let writes: Vec<(&str, &str, Option<&[u8]>)> = jobs
        .iter()
        .zip(&outcomes)
        .filter(|(_, o)| o.is_ok())
        .flat_map(|(job, _)| job.ops.iter())
        .map(|op| (op.pk.as_str(), op.sk.as_str(), op.bytes.as_deref()))
        .collect();
    if writes.is_empty() {
        // Nothing to store (every condition failed): nothing to log or commit.
        return outcomes;
    }
    let logged_at = log.len();
    if let Err(e) = log.append(writes.into_iter()) {
        // Dropping the uncommitted transaction discards the group; a partly written
        // record fails its checksum, but cut it off so later records stay readable.
        let _ = log.truncate_to(logged_at);
        return fail_all(redb_err("write-ahead log", e));
    }
    match txn.commit() {
        Ok(()) => outcomes,
        Err(e) => {
            // Its callers hear it failed: it must not come back at the next open.
            if let Err(t) = log.truncate_to(logged_at) {
                tracing::error!(error = %t, "embedded store: a failed group stays in the write-ahead log");
            }
            fail_all(redb_err("commit", e))
        }
    }
}

fn prepare(ops: Vec<WriteOp>) -> Result<Vec<Prepared>, StoreError> {
    ops.into_iter()
        .map(|op| match op {
            WriteOp::Put { item, condition } => Ok(Prepared {
                bytes: Some(serde_json::to_vec(&item.attrs).map_err(|e| redb_err("encode", e))?),
                pk: item.pk,
                sk: item.sk,
                condition,
            }),
            WriteOp::Delete { pk, sk, condition } => Ok(Prepared {
                pk,
                sk,
                condition,
                bytes: None,
            }),
        })
        .collect()
}

/// Checks every condition of one transaction against the table as it stands (each
/// item appears at most once, so no op can see another's write, as in DynamoDB), then
/// writes all of it, or nothing if a condition fails (`Ok(Err(..))` names them).
/// `Err` is the store's own failure, possibly after part of the writes.
fn apply(
    table: &mut redb::Table<(&str, &str), &[u8]>,
    ops: &[Prepared],
) -> Result<Result<(), StoreError>, StoreError> {
    let mut failed = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        let (pk, sk) = (op.pk.as_str(), op.sk.as_str());
        let holds = match &op.condition {
            Condition::None => true,
            // Existence is enough: no need to decode the item.
            Condition::NotExists => table
                .get((pk, sk))
                .map_err(|e| redb_err("read", e))?
                .is_none(),
            condition => {
                let existing = match table.get((pk, sk)).map_err(|e| redb_err("read", e))? {
                    Some(v) => Some(decode(pk, sk, v.value())?),
                    None => None,
                };
                rules::condition_holds(condition, pk, sk, existing.as_ref())
            }
        };
        if !holds {
            failed.push(i);
        }
    }
    if !failed.is_empty() {
        return Ok(Err(StoreError::ConditionFailed(failed)));
    }
    for op in ops {
        let key = (op.pk.as_str(), op.sk.as_str());
        match &op.bytes {
            Some(bytes) => {
                table
                    .insert(key, bytes.as_slice())
                    .map_err(|e| redb_err("write", e))?;
            }
            None => {
                table.remove(key).map_err(|e| redb_err("write", e))?;
            }
        }
    }
    Ok(Ok(()))
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

/// [`CommitMode::Single`]: one write transaction of its own.
fn transact_blocking(db: &Database, ops: Vec<Prepared>) -> Result<(), StoreError> {
    let txn = db.begin_write().map_err(|e| redb_err("write", e))?;
    {
        let mut table = txn.open_table(ITEMS).map_err(|e| redb_err("write", e))?;
        // Dropping the uncommitted transaction discards it.
        apply(&mut table, &ops)??;
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
        let ops = prepare(ops)?;
        let Some(writer) = &self.inner.writer else {
            return self.blocking(move |db| transact_blocking(db, ops)).await;
        };
        let (done, answer) = tokio::sync::oneshot::channel();
        writer
            .send(Job { ops, done })
            .map_err(|_| redb_err("writer", "stopped"))?;
        answer
            .await
            .map_err(|_| redb_err("writer", "dropped the transaction"))?
    }

    async fn query(&self, query: Query) -> Result<QueryPage, StoreError> {
        rules::check_query(&query)?;
        self.blocking(move |db| query_blocking(db, &query)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create(pk: &str, sk: &str) -> WriteOp {
        WriteOp::create(Item::new(pk, sk).with("v", 1))
    }

    /// A process that dies without closing the store (no checkpoint: `abort`) loses no
    /// answered write: they are in the write-ahead log, and the next open applies it.
    /// The test runs itself again as the process that dies.
    #[test]
    fn a_crash_loses_no_answered_write() {
        const CHILD: &str = "STAMP_EMBEDDED_CRASH_DIR";
        const WRITES: usize = 20;
        if let Ok(dir) = std::env::var(CHILD) {
            let rt = tokio::runtime::Runtime::new().expect("runtime");
            rt.block_on(async {
                let store = EmbeddedItemStore::open_in_dir(&dir).expect("open");
                for i in 0..WRITES {
                    store
                        .transact(vec![create("crash", &format!("{i:02}"))])
                        .await
                        .expect("answered");
                }
                // A delete and a replaced value must come back as such too.
                store
                    .transact(vec![
                        WriteOp::Delete {
                            pk: "crash".into(),
                            sk: "00".into(),
                            condition: Condition::None,
                        },
                        WriteOp::put(Item::new("crash", "01").with("v", 2)),
                    ])
                    .await
                    .expect("answered");
                std::process::abort();
            });
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let status = std::process::Command::new(std::env::current_exe().expect("test binary"))
            .args([
                "--exact",
                "embedded::tests::a_crash_loses_no_answered_write",
            ])
            .args(["--test-threads", "1", "--nocapture"])
            .env(CHILD, dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .expect("child");
        assert!(
            !status.success(),
            "the child dies without closing the store"
        );
        let log = std::fs::metadata(dir.path().join(format!("{LEDGER_FILE}.wal")))
            .expect("the log")
            .len();
        assert!(
            log > 0,
            "the answered writes wait in the log, not checkpointed"
        );
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        rt.block_on(async {
            let store = EmbeddedItemStore::open_in_dir(dir.path()).expect("reopen");
            let items = store
                .query_all("crash", stamp_domain::ports::SkRange::All)
                .await
                .expect("query");
            assert_eq!(
                items.len(),
                WRITES - 1,
                "every answered create, less the deleted one"
            );
            assert!(items.iter().all(|i| i.sk != "00"));
            let replaced = store.get("crash", "01").await.expect("get").expect("item");
            assert_eq!(replaced.attrs["v"], 2);
        });
        assert_eq!(
            std::fs::metadata(dir.path().join(format!("{LEDGER_FILE}.wal")))
                .expect("the log")
                .len(),
            0,
            "applied at open, the log is emptied"
        );
    }

    /// Many transactions at once share commits; each stays all or nothing on its own:
    /// of 32 racing creates of one key exactly one wins, and a transaction that fails
    /// its condition stores none of its other writes while the ones beside it in the
    /// group are stored whole.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn grouped_transactions_stay_all_or_nothing_each() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = EmbeddedItemStore::open_in_dir(dir.path()).expect("open");
        let mut tasks = Vec::new();
        for i in 0..64 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let own = create("own", &format!("{i:02}"));
                let ops = if i % 2 == 0 {
                    vec![own, create("race", "x")]
                } else {
                    vec![own]
                };
                store.transact(ops).await
            }));
        }
        let mut won = 0;
        for (i, t) in tasks.into_iter().enumerate() {
            match t.await.expect("task") {
                Ok(()) => won += usize::from(i % 2 == 0),
                Err(StoreError::ConditionFailed(ops)) => {
                    assert_eq!((i % 2, ops), (0, vec![1]), "transaction {i}")
                }
                Err(e) => panic!("transaction {i}: {e}"),
            }
        }
        assert_eq!(won, 1, "one create of the raced key");
        let own = store
            .query_all("own", stamp_domain::ports::SkRange::All)
            .await
            .expect("query");
        // The 32 odd ones and the one even winner; no loser's own item.
        assert_eq!(own.len(), 33);
        drop(store);
        // The last handle gone, the file is unlocked and everything is there.
        let again = EmbeddedItemStore::open_in_dir(dir.path()).expect("reopen");
        assert!(again.get("race", "x").await.expect("get").is_some());
    }
}
