//! The audit log (spec §3): every request — reads and refusals included — appends who
//! did what to which company and target, when, with what outcome and request id.
//!
//! Tamper-evident without a single point every request waits on (the model is
//! CloudTrail's log-file integrity digests):
//!
//! - **Append** is one create-only write of an entry under a key no other request shares:
//!   `AUDIT#{chain}` / `{time, µs}#{random}`. There is no chain head and no
//!   read-modify-write; each entry carries the SHA-256 of its own content.
//! - **Sealing** ([`AuditTrail::seal`], the `audit-seal` job, every 5 minutes) takes each
//!   chain's unsealed entries in key order, links them by hash and writes a [`Digest`] to
//!   the archive (under object lock), then moves the chain's seal pointer by a
//!   conditional write. Two sealers at once: one pointer write wins, the other's digest
//!   object stays in the archive unreferenced (named by its hash, so it overwrites
//!   nothing) and is ignored by verification.
//! - **Verification** ([`AuditTrail::verify`]) walks the digests in the archive and names
//!   every entry changed, removed or inserted and every digest removed or altered;
//!   entries newer than the last seal are counted as unsealed, not broken.

use crate::error::DomainError;
use crate::pagination::{Cursor, Page};
use crate::ports::{
    Archive, ArchiveError, Condition, Item, ItemStore, Query, SkRange, StoreError, WriteOp,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// The chain of entries that concern no single company or partner (operators,
/// employees, anonymous callers, scheduled jobs) — shard 0 of the service chains.
pub const SERVICE_CHAIN: &str = "service";
/// Service entries are spread over this many chains, so that one partition key of the
/// table takes at most a quarter of them (DynamoDB: ~1,000 writes/s per key).
pub const SERVICE_SHARDS: u32 = 4;
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// Sealing leaves entries this recent alone: a request may have taken its entry's time
/// but not yet written it (bounded by the API functions' 29 s timeout and the SDK's
/// retries). A late entry inside a sealed range would be reported as inserted.
pub const SETTLE: chrono::Duration = chrono::Duration::minutes(2);
/// At most this many entries per digest (a chain with more unsealed gets several).
pub const MAX_DIGEST_ENTRIES: usize = 1000;
pub const DIGEST_FORMAT: &str = "stamp-audit-digest/1";
const DIGEST_PREFIX: &str = "audit/digests";

const CHAINS_PK: &str = "AUDITCHAINS";
const POINTER_PK: &str = "AUDITSEAL";

/// The service chain for a request: spread by its request id.
pub fn service_shard(request_id: &str) -> String {
    let h = Sha256::digest(request_id.as_bytes());
    match u32::from(h[0]) % SERVICE_SHARDS {
        0 => SERVICE_CHAIN.to_string(),
        n => format!("{SERVICE_CHAIN}-{n}"),
    }
}

/// What a request did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub actor: String,
    pub role: String,
    /// The company's organisationsnummer when the action concerned one.
    pub company: Option<String>,
    /// `METHOD /route/{template}`: never a raw path (paths can hold personal data).
    pub action: String,
    /// What was acted on: a person_ref, site ID, user, extract or batch id — never a
    /// personnummer.
    pub target: Option<String>,
    /// `success`, `refused`, `rejected` or `failed`.
    pub outcome: String,
    pub status: u16,
    pub request_id: String,
}

/// An entry as stored: `id` is its sort key (time-ordered, unique).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: String,
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub record: AuditRecord,
    /// SHA-256 of the entry's content (id, time, record).
    pub hash: String,
}

#[derive(Serialize)]
struct HashBody<'a> {
    id: &'a str,
    at: String,
    record: &'a AuditRecord,
}

impl AuditEntry {
    /// The hash this entry's content has (what its `hash` and its digest must say).
    pub fn compute_hash(&self) -> String {
        let body = HashBody {
            id: &self.id,
            at: self.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            record: &self.record,
        };
        sha256_hex(&serde_json::to_vec(&body).unwrap_or_default())
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// One entry as a digest lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DigestEntry {
    pub id: String,
    pub hash: String,
}

/// A sealed run of one chain's entries, written to the archive under object lock at
/// `audit/digests/{chain}/{digest_no:010}-{first 16 hex of its SHA-256}.json`. Its hash is
/// the SHA-256 of the object's bytes; the next digest names it as `previous_hash`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Digest {
    pub format: String,
    pub chain: String,
    /// 1, 2, 3… per chain.
    pub digest_no: u64,
    pub first_entry: String,
    pub last_entry: String,
    pub count: u64,
    /// The chain position of `first_entry` (1-based, over every digest of the chain).
    pub first_seq: u64,
    /// `h_0 = previous_hash`, `h_i = SHA-256(h_{i-1} ‖ id_i ‖ hash_i)`; this is `h_count`.
    pub entries_hash: String,
    /// The previous digest's hash ([`GENESIS`] for the first).
    pub previous_hash: String,
    /// The previous digest's archive key.
    pub previous_digest: Option<String>,
    pub sealed_at: DateTime<Utc>,
    pub entries: Vec<DigestEntry>,
}

/// The link hash over a run of entries, starting from the previous digest's hash.
pub fn link_entries(previous_hash: &str, entries: &[DigestEntry]) -> String {
    let mut h = previous_hash.to_string();
    for e in entries {
        let mut s = Sha256::new();
        s.update(h.as_bytes());
        s.update(e.id.as_bytes());
        s.update(e.hash.as_bytes());
        h = hex::encode(s.finalize());
    }
    h
}

fn digest_key(chain: &str, n: u64, hash: &str) -> String {
    format!("{DIGEST_PREFIX}/{chain}/{n:010}-{}.json", &hash[..16])
}

fn digest_no_of(key: &str) -> Option<u64> {
    key.rsplit('/').next()?.split('-').next()?.parse().ok()
}

/// What one sealing round did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SealSummary {
    pub chains: usize,
    pub digests: usize,
    pub entries: u64,
    /// Digests another sealer wrote first (this one's copy stays unreferenced).
    pub lost_races: usize,
}

/// A way an audit chain does not match its digests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Tamper {
    /// The entry's content no longer has the hash its digest sealed.
    EntryChanged { entry: String, digest_no: u64 },
    /// A digest lists the entry; the store no longer holds it.
    EntryRemoved { entry: String, digest_no: u64 },
    /// The entry sits in a sealed range, but no digest lists it.
    EntryInserted { entry: String, digest_no: u64 },
    /// A digest the chain had is gone from the archive.
    DigestRemoved { digest_no: u64 },
    /// A digest does not hold together (its hash over entries or its link to the
    /// previous digest is wrong).
    DigestAltered { digest_no: u64, reason: String },
}

impl std::fmt::Display for Tamper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Tamper::EntryChanged { entry, digest_no } => {
                write!(f, "entry {entry} changed (sealed by digest {digest_no})")
            }
            Tamper::EntryRemoved { entry, digest_no } => {
                write!(f, "entry {entry} removed (sealed by digest {digest_no})")
            }
            Tamper::EntryInserted { entry, digest_no } => write!(
                f,
                "entry {entry} inserted (inside the range of digest {digest_no}, not listed)"
            ),
            Tamper::DigestRemoved { digest_no } => write!(f, "digest {digest_no} removed"),
            Tamper::DigestAltered { digest_no, reason } => {
                write!(f, "digest {digest_no} altered: {reason}")
            }
        }
    }
}

/// What verification found for one chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    pub chain: String,
    pub digests: u64,
    /// Entries that match their digest.
    pub sealed: u64,
    /// Entries newer than the last digest: not yet sealed, not broken.
    pub unsealed: u64,
    pub problems: Vec<Tamper>,
}

impl ChainReport {
    pub fn intact(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Where an entry stands against the digests, for the API's audit read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SealState {
    /// Listed by a digest with the hash its content has.
    Sealed { seq: u64 },
    /// Newer than the chain's last digest.
    Unsealed,
    /// Inside a sealed range but not matching (changed or inserted).
    Mismatch,
}

#[async_trait]
pub trait AuditTrail: Send + Sync {
    async fn append(
        &self,
        chain: &str,
        record: AuditRecord,
        now: DateTime<Utc>,
    ) -> Result<AuditEntry, DomainError>;
    /// Appends an entry that may share its write with other such entries (anonymous and
    /// refused requests): one transaction commits many of them (group commit), each
    /// still its own create-only entry; answers once the entry is durable. A flood of
    /// such requests then costs the store one commit per group, not one per request.
    async fn append_grouped(
        &self,
        chain: &str,
        record: AuditRecord,
        now: DateTime<Utc>,
    ) -> Result<AuditEntry, DomainError> {
        self.append(chain, record, now).await
    }
    async fn entries(
        &self,
        chain: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> Result<Page<AuditEntry>, DomainError>;
    /// Every chain that has had an entry.
    async fn chains(&self) -> Result<Vec<String>, DomainError>;
    /// Seals every chain's entries older than `now - settle`.
    async fn seal(
        &self,
        now: DateTime<Utc>,
        settle: chrono::Duration,
    ) -> Result<SealSummary, DomainError>;
    async fn verify(&self, chain: &str) -> Result<ChainReport, DomainError>;
    /// Each entry's standing against the digests (entries of one chain, in key order).
    async fn seal_states(
        &self,
        chain: &str,
        entries: &[AuditEntry],
    ) -> Result<Vec<SealState>, DomainError>;
}

/// The audit trail on the ledger's item store, its digests in the archive.
#[derive(Clone)]
pub struct ItemAuditTrail {
    store: Arc<dyn ItemStore>,
    archive: Arc<dyn Archive>,
    /// Chains this process has registered (one idempotent write per chain and process).
    known: Arc<Mutex<HashSet<String>>>,
    group: Arc<GroupCommit>,
}

/// Entries waiting for a group commit ([`AuditTrail::append_grouped`]). Whoever holds
/// `writer` commits what is pending (up to a transaction's worth) and hands each its
/// result; the others wait for the lock, and usually find their entry written by then.
/// The queue is bounded by the requests in flight that wait on it.
#[derive(Default)]
struct GroupCommit {
    pending: Mutex<Vec<Pending>>,
    writer: tokio::sync::Mutex<()>,
    /// Held while a chain new to this process is registered.
    registering: tokio::sync::Mutex<()>,
}

struct Pending {
    item: Item,
    done: tokio::sync::oneshot::Sender<Result<(), GroupFailure>>,
}

/// Why a grouped entry was not written: its key was taken (try another), or the store.
#[derive(Debug, Clone)]
enum GroupFailure {
    Taken,
    Store(String),
}

fn entries_pk(chain: &str) -> String {
    format!("AUDIT#{chain}")
}

fn seals_pk(chain: &str) -> String {
    format!("AUDITSEALS#{chain}")
}

fn stamp(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn decode(item: &Item) -> Result<AuditEntry, DomainError> {
    let mut attrs = item.attrs.clone();
    attrs
        .entry("id".to_string())
        .or_insert_with(|| Value::from(item.sk.clone()));
    serde_json::from_value(Value::Object(attrs))
        .map_err(|e| DomainError::Internal(format!("audit entry {} unreadable: {e}", item.sk)))
}

fn internal(e: impl std::fmt::Display) -> DomainError {
    DomainError::Internal(e.to_string())
}

/// The chain's seal pointer: the last digest written.
struct Pointer {
    digest_no: u64,
    last_entry: String,
    total: u64,
    hash: String,
    key: Option<String>,
}

impl ItemAuditTrail {
    pub fn new(store: Arc<dyn ItemStore>, archive: Arc<dyn Archive>) -> Self {
        ItemAuditTrail {
            store,
            archive,
            known: Arc::new(Mutex::new(HashSet::new())),
            group: Arc::new(GroupCommit::default()),
        }
    }

    /// A fresh entry of `record` at `now` under a new time-ordered id, as its item.
    fn new_entry(
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
    async fn commit_group(store: Arc<dyn ItemStore>, mut batch: Vec<Pending>) {
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

    async fn register(&self, chain: &str) -> Result<(), DomainError> {
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

    async fn pointer(&self, chain: &str) -> Result<Pointer, DomainError> {
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
    async fn entries_between(
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

    /// Seals one chain; answers (digests written, entries sealed, races lost).
    async fn seal_chain(
        &self,
        chain: &str,
        now: DateTime<Utc>,
        cutoff: &str,
    ) -> Result<(usize, u64, usize), DomainError> {
        let (mut digests, mut entries, mut lost) = (0, 0, 0);
        // Bounded: each round seals or loses to a sealer that did.
        for _ in 0..10_000 {
            let p = self.pointer(chain).await?;
            let items = self
                .entries_between(chain, &p.last_entry, cutoff, MAX_DIGEST_ENTRIES)
                .await?;
            let (Some(first), Some(last)) = (items.first(), items.last()) else {
                break;
            };
            let listed: Vec<DigestEntry> = items
                .iter()
                .map(|i| {
                    decode(i).map(|e| DigestEntry {
                        hash: e.compute_hash(),
                        id: e.id,
                    })
                })
                .collect::<Result<_, _>>()?;
            let digest = Digest {
                format: DIGEST_FORMAT.into(),
                chain: chain.into(),
                digest_no: p.digest_no + 1,
                first_entry: first.sk.clone(),
                last_entry: last.sk.clone(),
                count: listed.len() as u64,
                first_seq: p.total + 1,
                entries_hash: link_entries(&p.hash, &listed),
                previous_hash: p.hash.clone(),
                previous_digest: p.key.clone(),
                sealed_at: now,
                entries: listed,
            };
            let bytes = serde_json::to_vec(&digest).map_err(internal)?;
            let hash = sha256_hex(&bytes);
            let key = digest_key(chain, digest.digest_no, &hash);
            // Kept as long as the longest-kept ledger entry it could concern.
            let retain = chrono::NaiveDate::from_ymd_opt(chrono::Datelike::year(&now) + 3, 12, 31)
                .unwrap_or_else(|| now.date_naive());
            self.archive
                .put(&key, &bytes, "application/json", retain)
                .await?;
            let condition = if p.digest_no == 0 {
                Condition::NotExists
            } else {
                Condition::AttrEquals("digest_no".into(), Value::from(p.digest_no))
            };
            let pointer = Item::new(POINTER_PK, chain)
                .with("chain", chain)
                .with("digest_no", digest.digest_no)
                .with("last_entry", digest.last_entry.clone())
                .with("total", p.total + digest.count)
                .with("hash", hash.clone())
                .with("archive_key", key.clone());
            let index = Item::new(seals_pk(chain), digest.last_entry.clone())
                .with("digest_no", digest.digest_no)
                .with("first_entry", digest.first_entry.clone())
                .with("archive_key", key.clone())
                .with("hash", hash.clone());
            match self
                .store
                .transact(vec![
                    WriteOp::Put {
                        item: pointer,
                        condition,
                    },
                    WriteOp::create(index),
                ])
                .await
            {
                Ok(()) => {
                    digests += 1;
                    entries += digest.count;
                    tracing::info!(
                        digest_no = digest.digest_no,
                        count = digest.count,
                        "audit chain sealed"
                    );
                }
                Err(StoreError::ConditionFailed(_)) => {
                    // Another sealer moved the pointer first; its digest stands.
                    lost += 1;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok((digests, entries, lost))
    }

    async fn load_digest(&self, key: &str) -> Result<Option<(Digest, String)>, DomainError> {
        match self.archive.get(key).await {
            Ok(bytes) => {
                let hash = sha256_hex(&bytes);
                let d: Digest = serde_json::from_slice(&bytes)
                    .map_err(|e| internal(format!("digest {key} unreadable: {e}")))?;
                Ok(Some((d, hash)))
            }
            Err(ArchiveError::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

#[async_trait]
impl AuditTrail for ItemAuditTrail {
    async fn append(
        &self,
        chain: &str,
        record: AuditRecord,
        now: DateTime<Utc>,
    ) -> Result<AuditEntry, DomainError> {
        self.register(chain).await?;
        // A second try only if the random part collided (never in practice).
        for _ in 0..2 {
            let (entry, item) = Self::new_entry(chain, &record, now)?;
            match self.store.transact(vec![WriteOp::create(item)]).await {
                Ok(()) => return Ok(entry),
                Err(StoreError::ConditionFailed(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(DomainError::Unavailable(
            "the audit entry could not be written; retry".into(),
        ))
    }

    async fn append_grouped(
        &self,
        chain: &str,
        record: AuditRecord,
        now: DateTime<Utc>,
    ) -> Result<AuditEntry, DomainError> {
        self.register(chain).await?;
        for _ in 0..2 {
            let (entry, item) = Self::new_entry(chain, &record, now)?;
            let (tx, mut rx) = tokio::sync::oneshot::channel();
            self.group
                .pending
                .lock()
                .map_err(|_| internal("audit group poisoned"))?
                .push(Pending { item, done: tx });
            let outcome = loop {
                let writer = self.group.writer.lock().await;
                match rx.try_recv() {
                    Ok(r) => break r,
                    Err(tokio::sync::oneshot::error::TryRecvError::Closed) => {
                        break Err(GroupFailure::Store("the group commit was abandoned".into()))
                    }
                    Err(tokio::sync::oneshot::error::TryRecvError::Empty) => {}
                }
                let batch: Vec<Pending> = {
                    let mut p = self
                        .group
                        .pending
                        .lock()
                        .map_err(|_| internal("audit group poisoned"))?;
                    let n = p.len().min(crate::ports::MAX_TRANSACTION_OPS);
                    p.drain(..n).collect()
                };
                // On its own task: a caller that goes away mid-commit cannot strand the
                // entries of the others it carries.
                let _ = tokio::spawn(Self::commit_group(self.store.clone(), batch)).await;
                drop(writer);
            };
            match outcome {
                Ok(()) => return Ok(entry),
                Err(GroupFailure::Taken) => continue,
                Err(GroupFailure::Store(why)) => {
                    return Err(DomainError::Unavailable(format!(
                        "the audit entry could not be written: {why}"
                    )))
                }
            }
        }
        Err(DomainError::Unavailable(
            "the audit entry could not be written; retry".into(),
        ))
    }

    async fn entries(
        &self,
        chain: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> Result<Page<AuditEntry>, DomainError> {
        // `{to}` sorts after every entry key at an earlier instant and before those at `to`.
        let mut q = Query::new(
            entries_pk(chain),
            SkRange::Between(stamp(&from), stamp(&to)),
        );
        q.start_after = cursor.map(|c| c.key.clone());
        q.limit = limit + 1;
        let mut found = Vec::new();
        loop {
            let page = self.store.query(q.clone()).await?;
            found.extend(page.items);
            match page.last_sk {
                Some(sk) if found.len() <= limit => {
                    q.start_after = Some(sk);
                    q.limit = limit + 1 - found.len();
                }
                _ => break,
            }
        }
        let next = (found.len() > limit).then(|| Cursor::after(found[limit - 1].sk.clone()));
        found.truncate(limit);
        Ok(Page {
            items: found.iter().map(decode).collect::<Result<_, _>>()?,
            next,
        })
    }

    async fn chains(&self) -> Result<Vec<String>, DomainError> {
        Ok(self
            .store
            .query_all(CHAINS_PK, SkRange::All)
            .await?
            .into_iter()
            .map(|i| i.sk)
            .collect())
    }

    async fn seal(
        &self,
        now: DateTime<Utc>,
        settle: chrono::Duration,
    ) -> Result<SealSummary, DomainError> {
        let cutoff = stamp(&(now - settle));
        let mut summary = SealSummary::default();
        for chain in self.chains().await? {
            let (d, e, l) = self.seal_chain(&chain, now, &cutoff).await?;
            summary.chains += 1;
            summary.digests += d;
            summary.entries += e;
            summary.lost_races += l;
        }
        Ok(summary)
    }

    async fn verify(&self, chain: &str) -> Result<ChainReport, DomainError> {
        let mut problems = Vec::new();
        // The archive is the truth (object lock); the store's index only breaks ties
        // between the digests of two sealers that raced for the same number.
        let mut by_no: BTreeMap<u64, Vec<(String, Digest, String)>> = BTreeMap::new();
        for key in self
            .archive
            .list(&format!("{DIGEST_PREFIX}/{chain}/"))
            .await?
        {
            let Some(n) = digest_no_of(&key) else {
                continue;
            };
            if let Some((d, hash)) = self.load_digest(&key).await? {
                if !hash.starts_with(
                    key.rsplit('-')
                        .next()
                        .unwrap_or("")
                        .trim_end_matches(".json"),
                ) {
                    problems.push(Tamper::DigestAltered {
                        digest_no: n,
                        reason: "its content does not match the hash in its name".into(),
                    });
                }
                by_no.entry(n).or_default().push((key, d, hash));
            }
        }
        let indexed: HashMap<u64, String> = self
            .store
            .query_all(&seals_pk(chain), SkRange::All)
            .await?
            .iter()
            .filter_map(|i| {
                Some((
                    i.i64("digest_no")? as u64,
                    i.str("archive_key")?.to_string(),
                ))
            })
            .collect();
        let pointer = self.pointer(chain).await?;
        let last_no = by_no
            .keys()
            .next_back()
            .copied()
            .unwrap_or(0)
            .max(pointer.digest_no);

        let stored: Vec<AuditEntry> = self
            .store
            .query_all(&entries_pk(chain), SkRange::All)
            .await?
            .iter()
            .map(decode)
            .collect::<Result<_, _>>()?;
        let mut at = 0usize; // next stored entry to look at
        let (mut prev_hash, mut prev_last) = (GENESIS.to_string(), String::new());
        let (mut sealed, mut digests) = (0u64, 0u64);
        let mut after_gap = false;
        for n in 1..=last_no {
            let candidates = by_no.remove(&n).unwrap_or_default();
            let chosen = candidates
                .iter()
                .position(|(k, _, _)| indexed.get(&n) == Some(k))
                .or_else(|| {
                    candidates
                        .iter()
                        .position(|(_, d, _)| d.previous_hash == prev_hash)
                })
                .or((!candidates.is_empty()).then_some(0));
            let Some(i) = chosen else {
                problems.push(Tamper::DigestRemoved { digest_no: n });
                after_gap = true;
                continue;
            };
            let (_, d, hash) = &candidates[i];
            digests += 1;
            if after_gap {
                // The removed digest's entries cannot be checked: skip to this one's range.
                while at < stored.len() && stored[at].id < d.first_entry {
                    at += 1;
                }
            } else if d.previous_hash != prev_hash {
                problems.push(Tamper::DigestAltered {
                    digest_no: n,
                    reason: format!("does not link to digest {}", n - 1),
                });
            }
            if link_entries(&d.previous_hash, &d.entries) != d.entries_hash
                || d.count != d.entries.len() as u64
            {
                problems.push(Tamper::DigestAltered {
                    digest_no: n,
                    reason: "its hash over the entries does not match them".into(),
                });
            }
            // Stored entries in (prev_last, last_entry] against the digest's list.
            let listed: HashMap<&str, &str> = d
                .entries
                .iter()
                .map(|e| (e.id.as_str(), e.hash.as_str()))
                .collect();
            let mut seen = HashSet::new();
            while at < stored.len() && stored[at].id <= d.last_entry {
                let e = &stored[at];
                at += 1;
                if e.id <= prev_last {
                    continue;
                }
                match listed.get(e.id.as_str()) {
                    Some(h) if *h == e.compute_hash() => sealed += 1,
                    Some(_) => problems.push(Tamper::EntryChanged {
                        entry: e.id.clone(),
                        digest_no: n,
                    }),
                    None => problems.push(Tamper::EntryInserted {
                        entry: e.id.clone(),
                        digest_no: n,
                    }),
                }
                seen.insert(e.id.as_str());
            }
            for e in &d.entries {
                if !seen.contains(e.id.as_str()) {
                    problems.push(Tamper::EntryRemoved {
                        entry: e.id.clone(),
                        digest_no: n,
                    });
                }
            }
            prev_hash = hash.clone();
            prev_last = d.last_entry.clone();
            after_gap = false;
        }
        if after_gap {
            // The last digest(s) were removed: their entries are unaccounted for.
            while at < stored.len() && stored[at].id <= pointer.last_entry {
                at += 1;
            }
        }
        Ok(ChainReport {
            chain: chain.to_string(),
            digests,
            sealed,
            unsealed: (stored.len() - at) as u64,
            problems,
        })
    }

    async fn seal_states(
        &self,
        chain: &str,
        entries: &[AuditEntry],
    ) -> Result<Vec<SealState>, DomainError> {
        let Some(first) = entries.first() else {
            return Ok(Vec::new());
        };
        let pointer = self.pointer(chain).await?;
        // The digests whose ranges hold the page: index items from the first entry on.
        let mut q = Query::new(
            seals_pk(chain),
            SkRange::Between(first.id.clone(), "~".into()),
        );
        q.limit = entries.len() + 1;
        let index = self.store.query(q).await?.items;
        let mut digests: Vec<(String, HashMap<String, (String, u64)>)> = Vec::new();
        let mut out = Vec::with_capacity(entries.len());
        for e in entries {
            if e.id > pointer.last_entry {
                out.push(SealState::Unsealed);
                continue;
            }
            let Some(ix) = index.iter().find(|i| i.sk >= e.id) else {
                out.push(SealState::Mismatch);
                continue;
            };
            if !digests.iter().any(|(k, _)| *k == ix.sk) {
                let listed = match ix.str("archive_key") {
                    Some(key) => match self.load_digest(key).await? {
                        Some((d, _)) => d
                            .entries
                            .iter()
                            .enumerate()
                            .map(|(i, x)| (x.id.clone(), (x.hash.clone(), d.first_seq + i as u64)))
                            .collect(),
                        None => HashMap::new(),
                    },
                    None => HashMap::new(),
                };
                digests.push((ix.sk.clone(), listed));
            }
            let listed = digests.iter().find(|(k, _)| *k == ix.sk).map(|(_, l)| l);
            out.push(match listed.and_then(|l| l.get(&e.id)) {
                Some((h, seq)) if *h == e.compute_hash() => SealState::Sealed { seq: *seq },
                _ => SealState::Mismatch,
            });
        }
        Ok(out)
    }
}

/// The daily export of the audit log to the archive: each chain's entries of one local
/// day as JSON lines under `audit/{chain}/{day}.jsonl`, locked like the ledger.
pub async fn export_day(
    trail: &dyn AuditTrail,
    archive: &dyn crate::ports::Archive,
    chains: &[String],
    day: chrono::NaiveDate,
) -> Result<usize, DomainError> {
    let from = crate::time::local_day_start(day).with_timezone(&Utc);
    let to = crate::time::local_day_start(day.succ_opt().unwrap_or(day)).with_timezone(&Utc);
    let mut written = 0;
    for chain in chains {
        let mut lines = String::new();
        let mut cursor = None;
        loop {
            let page = trail
                .entries(chain, from, to, cursor.as_ref(), 1000)
                .await?;
            for e in &page.items {
                lines.push_str(&serde_json::to_string(e).map_err(internal)?);
                lines.push('\n');
            }
            match page.next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        if lines.is_empty() {
            continue;
        }
        // Kept as long as the longest-kept ledger entry it could concern.
        let retain = chrono::NaiveDate::from_ymd_opt(chrono::Datelike::year(&day) + 3, 12, 31)
            .unwrap_or(day);
        archive
            .put(
                &format!("audit/{chain}/{day}.jsonl"),
                lines.as_bytes(),
                "application/x-ndjson",
                retain,
            )
            .await?;
        written += 1;
    }
    Ok(written)
}

#[cfg(test)]
mod tests;
