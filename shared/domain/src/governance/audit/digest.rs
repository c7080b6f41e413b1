//! The sealed digests: each covers a run of a chain's entries with their hashes, links to
//! the digest before it, and is kept under object lock; and what checking them reports.

use super::DIGEST_PREFIX;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

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

pub(super) fn digest_key(chain: &str, n: u64, hash: &str) -> String {
    format!("{DIGEST_PREFIX}/{chain}/{n:010}-{}.json", &hash[..16])
}

pub(super) fn digest_no_of(key: &str) -> Option<u64> {
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
