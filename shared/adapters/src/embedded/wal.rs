//! The embedded store's write-ahead log: what makes a group commit durable without a
//! durable redb commit.
//!
//! A redb commit that is durable writes every page the transaction touched, wherever it
//! lies in the file, and syncs; an event's items land all over the file (`EV#…` keys are
//! random by design), so that is the disk's random-write speed. Instead, each group's
//! writes — only those of the transactions that succeeded, as the final puts and
//! deletes, not the conditional requests — are appended here and synced (one sequential
//! write) before anyone is answered; redb commits them without syncing, and a
//! *checkpoint* now and then (one durable redb commit, then this log emptied) bounds the
//! log. At open, the complete records are applied again, in order. That is safe even
//! for writes redb already holds: each record sets items to absolute values, so applying
//! the whole log again to any state that already holds a prefix of it ends in the same
//! state as applying it once.
//!
//! A record is `[payload length: u32 LE][CRC-32 of the payload: u32 LE][payload]`, the
//! payload one `[kind: u8 (1 put, 2 delete)][pk][sk]([value])` per write, each part as
//! `[length: u32 LE][bytes]`. A record cut short or failing its checksum — a crash
//! during its append, before its group was answered — ends the log.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

const PUT: u8 = 1;
const DELETE: u8 = 2;
const HEADER: usize = 8;

/// One write as the log keeps it: the item's key and its new bytes (`None` deletes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Logged {
    pub pk: String,
    pub sk: String,
    pub bytes: Option<Vec<u8>>,
}

/// The log file, opened for appending after its complete records.
pub(super) struct Wal {
    file: File,
    path: PathBuf,
    len: u64,
}

impl Wal {
    /// Opens (or creates) the log at `path` and reads its complete records, each one
    /// group's writes in order; anything after the last complete record is cut off.
    pub(super) fn open(path: &Path) -> std::io::Result<(Wal, Vec<Vec<Logged>>)> {
        let existed = path.exists();
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        if !existed {
            // The new file's name must survive a crash too.
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                File::open(dir)?.sync_all()?;
            }
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        let (groups, good) = parse(&bytes);
        if good < bytes.len() {
            file.set_len(good as u64)?;
            file.sync_data()?;
        }
        file.seek(SeekFrom::Start(good as u64))?;
        Ok((
            Wal {
                file,
                path: path.to_path_buf(),
                len: good as u64,
            },
            groups,
        ))
    }

    pub(super) fn len(&self) -> u64 {
        self.len
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one group's writes as one record and syncs it: when this returns `Ok`,
    /// the writes survive a crash.
    pub(super) fn append<'a>(
        &mut self,
        writes: impl Iterator<Item = (&'a str, &'a str, Option<&'a [u8]>)>,
    ) -> std::io::Result<()> {
        let mut payload = Vec::new();
        for (pk, sk, bytes) in writes {
            payload.push(if bytes.is_some() { PUT } else { DELETE });
            for part in [Some(pk.as_bytes()), Some(sk.as_bytes()), bytes]
                .into_iter()
                .flatten()
            {
                payload.extend_from_slice(&len32(part.len())?.to_le_bytes());
                payload.extend_from_slice(part);
            }
        }
        let mut record = Vec::with_capacity(HEADER + payload.len());
        record.extend_from_slice(&len32(payload.len())?.to_le_bytes());
        record.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        record.extend_from_slice(&payload);
        self.file.write_all(&record)?;
        self.file.sync_data()?;
        self.len += record.len() as u64;
        Ok(())
    }

    /// Cuts the log back to `len` bytes (a group whose redb commit failed after its
    /// append: its callers are told it failed, so it must not come back at the next open).
    pub(super) fn truncate_to(&mut self, len: u64) -> std::io::Result<()> {
        self.file.set_len(len)?;
        self.file.sync_data()?;
        self.file.seek(SeekFrom::Start(len))?;
        self.len = len;
        Ok(())
    }
}

fn len32(n: usize) -> std::io::Result<u32> {
    u32::try_from(n).map_err(|_| std::io::Error::other("write-ahead log record over 4 GiB"))
}

/// The complete records of `bytes` and how many bytes they take.
fn parse(bytes: &[u8]) -> (Vec<Vec<Logged>>, usize) {
    let mut groups = Vec::new();
    let mut at = 0usize;
    while let Some((group, next)) = record(bytes, at) {
        groups.push(group);
        at = next;
    }
    (groups, at)
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(b))
}

/// The record starting at `at`, if it is whole and its checksum holds.
fn record(bytes: &[u8], at: usize) -> Option<(Vec<Logged>, usize)> {
    let len = u32_at(bytes, at)? as usize;
    let crc = u32_at(bytes, at + 4)?;
    let start = at + HEADER;
    let payload = bytes.get(start..start.checked_add(len)?)?;
    if crc32fast::hash(payload) != crc {
        return None;
    }
    let mut writes = Vec::new();
    let mut p = 0usize;
    let part = |p: &mut usize| -> Option<Vec<u8>> {
        let n = u32_at(payload, *p)? as usize;
        let v = payload.get(*p + 4..(*p + 4).checked_add(n)?)?.to_vec();
        *p += 4 + n;
        Some(v)
    };
    while p < payload.len() {
        let kind = payload[p];
        p += 1;
        let pk = String::from_utf8(part(&mut p)?).ok()?;
        let sk = String::from_utf8(part(&mut p)?).ok()?;
        let bytes = match kind {
            PUT => Some(part(&mut p)?),
            DELETE => None,
            _ => return None,
        };
        writes.push(Logged { pk, sk, bytes });
    }
    Some((writes, start + len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(pk: &str, sk: &str, v: &str) -> (String, String, Option<Vec<u8>>) {
        (pk.into(), sk.into(), Some(v.as_bytes().to_vec()))
    }

    fn append(wal: &mut Wal, writes: &[(String, String, Option<Vec<u8>>)]) {
        wal.append(
            writes
                .iter()
                .map(|(p, s, b)| (p.as_str(), s.as_str(), b.as_deref())),
        )
        .expect("append");
    }

    /// Records come back whole and in order; a torn last record (a crash during its
    /// append) and a corrupted one end the log, and are cut off so appends go on after
    /// the last good record.
    #[test]
    fn complete_records_come_back_and_a_torn_tail_is_cut() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("ledger.redb.wal");
        let (mut wal, groups) = Wal::open(&path).expect("open");
        assert!(groups.is_empty());
        let first = vec![
            put("a", "1", "x"),
            (String::from("b"), String::from("2"), None),
        ];
        let second = vec![put("a", "1", "ÿ ü")];
        append(&mut wal, &first);
        let after_first = wal.len();
        append(&mut wal, &second);
        drop(wal);
        let as_writes = |g: &[(String, String, Option<Vec<u8>>)]| -> Vec<Logged> {
            g.iter()
                .map(|(pk, sk, bytes)| Logged {
                    pk: pk.clone(),
                    sk: sk.clone(),
                    bytes: bytes.clone(),
                })
                .collect()
        };
        let (_, groups) = Wal::open(&path).expect("reopen");
        assert_eq!(groups, vec![as_writes(&first), as_writes(&second)]);

        // Torn: the second record loses its last byte.
        let full = std::fs::read(&path).expect("read");
        std::fs::write(&path, &full[..full.len() - 1]).expect("tear");
        let (mut wal, groups) = Wal::open(&path).expect("open torn");
        assert_eq!(groups, vec![as_writes(&first)]);
        assert_eq!(std::fs::metadata(&path).expect("meta").len(), after_first);
        append(&mut wal, &second);
        drop(wal);
        let (_, groups) = Wal::open(&path).expect("reopen");
        assert_eq!(groups.len(), 2);

        // Corrupted: a flipped byte in the first record's payload ends the log there.
        let mut bytes = std::fs::read(&path).expect("read");
        bytes[HEADER + 2] ^= 0xff;
        std::fs::write(&path, &bytes).expect("corrupt");
        let (wal, groups) = Wal::open(&path).expect("open corrupted");
        assert!(groups.is_empty());
        assert_eq!(wal.len(), 0);
    }
}
