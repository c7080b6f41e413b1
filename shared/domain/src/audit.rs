//! The audit log (spec §3): every request — reads and refusals included — appends who
//! did what to which company and target, when, with what outcome and request id.
//!
//! Append-only by construction: the trail has no update or delete; each entry is
//! created only if absent, and the chain head only moves forward from the version it was
//! read at. Tamper-evident: each entry carries the SHA-256 of the previous entry's hash
//! and its own content, per chain (one chain per company, one for the rest of the
//! service); `verify` recomputes the chain.

use crate::error::DomainError;
use crate::pagination::{Cursor, Page};
use crate::ports::{Condition, Item, ItemStore, Query, SkRange, StoreError, WriteOp};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// The chain of entries that concern no single company (operators, partners).
pub const SERVICE_CHAIN: &str = "service";
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What a request did, before it is chained.
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
    /// `success`, `refused` or `failed`.
    pub outcome: String,
    pub status: u16,
    pub request_id: String,
}

/// A chained entry as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: u64,
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub record: AuditRecord,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEntry {
    /// The hash this entry must carry: over the previous hash and everything else.
    pub fn compute_hash(&self) -> String {
        let body = serde_json::json!({
            "seq": self.seq,
            "at": self.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "record": self.record,
            "prev_hash": self.prev_hash,
        });
        let mut h = Sha256::new();
        h.update(self.prev_hash.as_bytes());
        h.update(body.to_string().as_bytes());
        hex::encode(h.finalize())
    }
}

/// What verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainCheck {
    Intact { entries: u64 },
    Broken { seq: u64, reason: String },
}

#[async_trait]
pub trait AuditTrail: Send + Sync {
    async fn append(
        &self,
        chain: &str,
        record: AuditRecord,
        now: DateTime<Utc>,
    ) -> Result<AuditEntry, DomainError>;
    async fn entries(
        &self,
        chain: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> Result<Page<AuditEntry>, DomainError>;
    async fn verify(&self, chain: &str) -> Result<ChainCheck, DomainError>;
}

/// The audit trail on the ledger's item store: entries under `AUDIT#{chain}` sorted by
/// time then sequence, the chain head under `AUDITHEAD#{chain}`.
#[derive(Clone)]
pub struct ItemAuditTrail {
    store: Arc<dyn ItemStore>,
}

fn entries_pk(chain: &str) -> String {
    format!("AUDIT#{chain}")
}

fn head_pk(chain: &str) -> String {
    format!("AUDITHEAD#{chain}")
}

fn stamp(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn decode(item: &Item) -> Result<AuditEntry, DomainError> {
    serde_json::from_value(Value::Object(item.attrs.clone()))
        .map_err(|e| DomainError::Internal(format!("audit entry {} unreadable: {e}", item.sk)))
}

impl ItemAuditTrail {
    pub fn new(store: Arc<dyn ItemStore>) -> Self {
        ItemAuditTrail { store }
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
        for attempt in 0..50u64 {
            let head = self.store.get(&head_pk(chain), "HEAD").await?;
            let (seq, prev_hash, last_at, condition) = match &head {
                None => (1, GENESIS.to_string(), None, Condition::NotExists),
                Some(h) => {
                    let seq = h.i64("seq").unwrap_or(0) as u64;
                    let last_at = h.str("at").and_then(|a| a.parse::<DateTime<Utc>>().ok());
                    (
                        seq + 1,
                        h.str("hash").unwrap_or(GENESIS).to_string(),
                        last_at,
                        Condition::AttrEquals("seq".into(), Value::from(seq)),
                    )
                }
            };
            // Entries are ordered by time: never before the previous one.
            let at = last_at.map_or(now, |l| l.max(now));
            let mut entry = AuditEntry {
                seq,
                at,
                record: record.clone(),
                prev_hash,
                hash: String::new(),
            };
            entry.hash = entry.compute_hash();
            let Value::Object(attrs) =
                serde_json::to_value(&entry).map_err(|e| DomainError::Internal(e.to_string()))?
            else {
                return Err(DomainError::Internal(
                    "audit entry must be an object".into(),
                ));
            };
            let ops = vec![
                WriteOp::create(Item {
                    pk: entries_pk(chain),
                    sk: format!("{}#{seq:012}", stamp(&at)),
                    attrs,
                }),
                WriteOp::Put {
                    item: Item::new(head_pk(chain), "HEAD")
                        .with("seq", seq)
                        .with("hash", entry.hash.clone())
                        .with(
                            "at",
                            at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                        ),
                    condition,
                },
            ];
            match self.store.transact(ops).await {
                Ok(()) => return Ok(entry),
                Err(StoreError::ConditionFailed(_)) => {
                    // Another request appended first; back off a little and chain after it.
                    tokio::time::sleep(std::time::Duration::from_millis(2 + (attempt * 7) % 23))
                        .await;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(DomainError::Unavailable(
            "the audit log is busy; retry".into(),
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

    async fn verify(&self, chain: &str) -> Result<ChainCheck, DomainError> {
        let mut entries: Vec<AuditEntry> = self
            .store
            .query_all(&entries_pk(chain), SkRange::All)
            .await?
            .iter()
            .map(decode)
            .collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.seq);
        let mut prev = GENESIS.to_string();
        for (i, e) in entries.iter().enumerate() {
            let expected_seq = i as u64 + 1;
            if e.seq != expected_seq {
                return Ok(ChainCheck::Broken {
                    seq: expected_seq,
                    reason: format!("entry {expected_seq} is missing"),
                });
            }
            if e.prev_hash != prev {
                return Ok(ChainCheck::Broken {
                    seq: e.seq,
                    reason: "does not link to the previous entry".into(),
                });
            }
            if e.compute_hash() != e.hash {
                return Ok(ChainCheck::Broken {
                    seq: e.seq,
                    reason: "its content does not match its hash".into(),
                });
            }
            prev = e.hash.clone();
        }
        let head = self.store.get(&head_pk(chain), "HEAD").await?;
        let head_seq = head.as_ref().and_then(|h| h.i64("seq")).unwrap_or(0) as u64;
        if head_seq != entries.len() as u64
            || head.as_ref().and_then(|h| h.str("hash")).unwrap_or(GENESIS) != prev
        {
            return Ok(ChainCheck::Broken {
                seq: head_seq,
                reason: format!(
                    "the chain head says {head_seq} entries, {} are stored",
                    entries.len()
                ),
            });
        }
        Ok(ChainCheck::Intact {
            entries: entries.len() as u64,
        })
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
                lines.push_str(
                    &serde_json::to_string(e).map_err(|e| DomainError::Internal(e.to_string()))?,
                );
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
mod tests {
    use super::*;
    use crate::memory::MemoryItemStore;

    fn record(n: u16) -> AuditRecord {
        AuditRecord {
            actor: "u1".into(),
            role: "company_user".into(),
            company: Some("5569999997".into()),
            action: "GET /v1/companies/{orgnr}/people".into(),
            target: None,
            outcome: "success".into(),
            status: n,
            request_id: format!("r{n}"),
        }
    }

    #[tokio::test]
    async fn a_chain_verifies_until_an_entry_is_changed() {
        let store = Arc::new(MemoryItemStore::new());
        let trail = ItemAuditTrail::new(store.clone());
        let t0: DateTime<Utc> = "2026-03-02T07:00:00Z".parse().unwrap();
        for n in 0..5 {
            trail
                .append(
                    "c1",
                    record(200 + n),
                    t0 + chrono::Duration::seconds(n as i64),
                )
                .await
                .unwrap();
        }
        trail.append("c2", record(403), t0).await.unwrap();
        assert_eq!(
            trail.verify("c1").await.unwrap(),
            ChainCheck::Intact { entries: 5 }
        );
        assert_eq!(
            trail.verify("c2").await.unwrap(),
            ChainCheck::Intact { entries: 1 }
        );

        // Paging by time, half-open.
        let p = trail
            .entries("c1", t0, t0 + chrono::Duration::seconds(3), None, 2)
            .await
            .unwrap();
        assert_eq!(
            p.items.iter().map(|e| e.seq).collect::<Vec<_>>(),
            vec![1, 2]
        );
        let p2 = trail
            .entries(
                "c1",
                t0,
                t0 + chrono::Duration::seconds(3),
                p.next.as_ref(),
                2,
            )
            .await
            .unwrap();
        assert_eq!(p2.items.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![3]);
        assert!(p2.next.is_none());

        // Tamper with entry 3 behind the trail's back.
        let items = store
            .query_all(&entries_pk("c1"), SkRange::All)
            .await
            .unwrap();
        let mut victim = items[2].clone();
        victim
            .attrs
            .insert("outcome".into(), Value::from("refused"));
        store.transact(vec![WriteOp::put(victim)]).await.unwrap();
        assert_eq!(
            trail.verify("c1").await.unwrap(),
            ChainCheck::Broken {
                seq: 3,
                reason: "its content does not match its hash".into()
            }
        );
    }

    #[tokio::test]
    async fn concurrent_appends_all_land_in_one_chain() {
        let trail = Arc::new(ItemAuditTrail::new(Arc::new(MemoryItemStore::new())));
        let now = Utc::now();
        let tasks: Vec<_> = (0..20)
            .map(|n| {
                let t = trail.clone();
                tokio::spawn(async move { t.append("c", record(n), now).await.unwrap() })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(
            trail.verify("c").await.unwrap(),
            ChainCheck::Intact { entries: 20 }
        );
    }
}
