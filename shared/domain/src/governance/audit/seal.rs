//! Sealing a chain's settled entries into a digest in the archive, reading one back, and
//! verifying a chain against its digests.

use super::{
    decode, digest_key, digest_no_of, entries_pk, internal, link_entries, seals_pk, sha256_hex,
    AuditEntry, ChainReport, Digest, DigestEntry, ItemAuditTrail, Tamper, DIGEST_FORMAT,
    DIGEST_PREFIX, GENESIS, MAX_DIGEST_ENTRIES, POINTER_PK,
};
use crate::error::DomainError;
use crate::ports::{ArchiveError, Condition, Item, SkRange, StoreError, WriteOp};
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};

impl ItemAuditTrail {
    /// Seals one chain; answers (digests written, entries sealed, races lost).
    pub(super) async fn seal_chain(
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

    pub(super) async fn load_digest(
        &self,
        key: &str,
    ) -> Result<Option<(Digest, String)>, DomainError> {
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

    /// [`AuditTrail::verify`]: every entry of the chain against its digests and links.
    pub(super) async fn verify_chain(&self, chain: &str) -> Result<ChainReport, DomainError> {
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
}
