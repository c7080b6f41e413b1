//! Counts what reaches an archive: object writes, object reads and lock probes
//! (HeadObject on S3), for benches that print requests beside time.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use stamp_domain::ports::{Archive, ArchiveError, ArchivedObject, LockProbe, ObjectStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

pub(crate) struct CountingArchive {
    inner: Arc<dyn Archive>,
    locks: Arc<dyn LockProbe>,
    pub(crate) writes: AtomicU64,
    pub(crate) reads: AtomicU64,
    pub(crate) probes: AtomicU64,
}

impl CountingArchive {
    pub(crate) fn new(inner: Arc<dyn Archive>, locks: Arc<dyn LockProbe>) -> Self {
        CountingArchive {
            inner,
            locks,
            writes: AtomicU64::new(0),
            reads: AtomicU64::new(0),
            probes: AtomicU64::new(0),
        }
    }
}

#[async_trait]
impl Archive for CountingArchive {
    async fn put(
        &self,
        key: &str,
        bytes: &[u8],
        content_type: &str,
        retain_until: NaiveDate,
    ) -> Result<ArchivedObject, ArchiveError> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        self.inner.put(key, bytes, content_type, retain_until).await
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>, ArchiveError> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.inner.get(key).await
    }

    async fn delete(
        &self,
        key: &str,
        version_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), ArchiveError> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        self.inner.delete(key, version_id, now).await
    }

    async fn read(&self, key: &str) -> Result<ObjectStream, ArchiveError> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.inner.read(key).await
    }
}

#[async_trait]
impl LockProbe for CountingArchive {
    async fn locked_until(&self, key: &str) -> Result<Option<NaiveDate>, ArchiveError> {
        self.probes.fetch_add(1, Ordering::Relaxed);
        self.locks.locked_until(key).await
    }
}
