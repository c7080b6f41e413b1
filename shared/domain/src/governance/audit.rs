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
use crate::ports::{Archive, Item, ItemStore, Query, SkRange, StoreError, WriteOp};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

mod append;
mod digest;
mod seal;

pub use digest::link_entries;
use digest::{digest_key, digest_no_of};
pub use digest::{ChainReport, Digest, DigestEntry, SealState, SealSummary, Tamper};

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
        self.verify_chain(chain).await
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
