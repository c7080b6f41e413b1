//! The ports: what the domain needs from storage and time. Adapters (DynamoDB, S3, the
//! embedded redb store, a local folder, in-memory fakes for unit tests) implement them.
//!
//! The ledger is a single-table design: every record and every index entry is an
//! [`Item`] under a partition key `pk` and sort key `sk`. The domain decides the keys
//! (see `table::keys` and docs/data-model.md); a store only needs conditional
//! transactional writes and key-range queries on one partition. There is deliberately
//! no scan.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value};

/// One stored item: its keys and its other attributes (JSON values; numbers, strings,
/// booleans, lists and maps).
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub pk: String,
    pub sk: String,
    pub attrs: Map<String, Value>,
}

impl Item {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Item {
            pk: pk.into(),
            sk: sk.into(),
            attrs: Map::new(),
        }
    }

    pub fn with(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.attrs.insert(name.to_string(), value.into());
        self
    }

    pub fn str(&self, name: &str) -> Option<&str> {
        self.attrs.get(name).and_then(Value::as_str)
    }

    pub fn i64(&self, name: &str) -> Option<i64> {
        self.attrs.get(name).and_then(Value::as_i64)
    }
}

/// A precondition on the item a write touches.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    None,
    /// The item must not exist (create-only: how records stay immutable).
    NotExists,
    /// The item must exist and `attr` must equal the value (optimistic concurrency).
    AttrEquals(String, Value),
}

#[derive(Debug, Clone, PartialEq)]
pub enum WriteOp {
    Put {
        item: Item,
        condition: Condition,
    },
    Delete {
        pk: String,
        sk: String,
        condition: Condition,
    },
}

impl WriteOp {
    pub fn put(item: Item) -> Self {
        WriteOp::Put {
            item,
            condition: Condition::None,
        }
    }
    pub fn create(item: Item) -> Self {
        WriteOp::Put {
            item,
            condition: Condition::NotExists,
        }
    }
    pub fn keys(&self) -> (&str, &str) {
        match self {
            WriteOp::Put { item, .. } => (&item.pk, &item.sk),
            WriteOp::Delete { pk, sk, .. } => (pk, sk),
        }
    }
}

/// Which sort keys of the partition a query reads.
#[derive(Debug, Clone, PartialEq)]
pub enum SkRange {
    All,
    Prefix(String),
    /// `lo <= sk <= hi`
    Between(String, String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub pk: String,
    pub range: SkRange,
    /// Continue after this sort key (exclusive), from a previous page.
    pub start_after: Option<String>,
    /// Items examined per call, before the filter (as DynamoDB's `Limit`).
    pub limit: usize,
    /// Keep only items whose string attribute contains this text.
    pub filter_contains: Option<(String, String)>,
}

impl Query {
    pub fn new(pk: impl Into<String>, range: SkRange) -> Self {
        Query {
            pk: pk.into(),
            range,
            start_after: None,
            limit: 1000,
            filter_contains: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct QueryPage {
    pub items: Vec<Item>,
    /// Set when more items may follow: the sort key to continue after.
    pub last_sk: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The transaction was not applied because these operations' conditions failed.
    #[error("condition failed on operations {0:?}")]
    ConditionFailed(Vec<usize>),
    #[error("storage unavailable: {0}")]
    Unavailable(String),
}

/// The most operations one transaction may hold (DynamoDB's TransactWriteItems limit).
pub const MAX_TRANSACTION_OPS: usize = 100;

#[async_trait]
pub trait ItemStore: Send + Sync {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError>;

    /// Applies all operations or none. At most [`MAX_TRANSACTION_OPS`], each item once.
    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError>;

    /// One page of a partition in ascending sort-key order.
    async fn query(&self, query: Query) -> Result<QueryPage, StoreError>;

    /// Every item of a range, following pages.
    async fn query_all(&self, pk: &str, range: SkRange) -> Result<Vec<Item>, StoreError> {
        let mut out = Vec::new();
        let mut q = Query::new(pk, range);
        loop {
            let page = self.query(q.clone()).await?;
            out.extend(page.items);
            match page.last_sk {
                Some(sk) => q.start_after = Some(sk),
                None => return Ok(out),
            }
        }
    }
}

/// Where an archived object went.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ArchivedObject {
    pub key: String,
    pub sha256: String,
    pub version_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("archive unavailable: {0}")]
    Unavailable(String),
    #[error("no archived object {0}")]
    NotFound(String),
    /// The object's retention has not ended: it cannot be deleted yet.
    #[error("archived object {0} is still locked")]
    Locked(String),
}

/// The system of record: deliveries stored byte for byte, write-once, locked until
/// their retention ends.
#[async_trait]
pub trait Archive: Send + Sync {
    async fn put(
        &self,
        key: &str,
        bytes: &[u8],
        content_type: &str,
        retain_until: NaiveDate,
    ) -> Result<ArchivedObject, ArchiveError>;

    async fn get(&self, key: &str) -> Result<Vec<u8>, ArchiveError>;

    /// Deletes an object whose retention has ended (the retention purge). `now` is the
    /// caller's time; a store that enforces locks itself (S3 object lock) uses its own.
    async fn delete(
        &self,
        key: &str,
        version_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), ArchiveError>;
    /// Reads an object (archived, or a staged upload under `uploads/`) chunk by chunk,
    /// so a large delivery never has to fit in memory.
    async fn read(&self, key: &str) -> Result<ObjectStream, ArchiveError> {
        let bytes = self.get(key).await?;
        let size = bytes.len() as u64;
        Ok(ObjectStream {
            version_id: None,
            size: Some(size),
            chunks: Box::pin(futures::stream::once(async move {
                Ok(bytes::Bytes::from(bytes))
            })),
        })
    }

    /// Archives the staged upload `source` (at `source_version` when given) under `key`,
    /// write-once and locked like [`Archive::put`], without the bytes passing through
    /// the caller (S3: a server-side CopyObject). `sha256` is the hex digest the caller
    /// read from the source.
    async fn copy_from(
        &self,
        _source: &str,
        _source_version: Option<&str>,
        _key: &str,
        _content_type: &str,
        _retain_until: NaiveDate,
        _sha256: &str,
    ) -> Result<ArchivedObject, ArchiveError> {
        Err(ArchiveError::Unavailable(
            "this archive cannot archive staged uploads".into(),
        ))
    }

    /// Every key under `prefix`, in key order.
    async fn list(&self, _prefix: &str) -> Result<Vec<String>, ArchiveError> {
        Err(ArchiveError::Unavailable(
            "this archive cannot list its objects".into(),
        ))
    }

    /// Removes a staged upload once it has been archived (only keys under `uploads/`;
    /// archived objects are never removed by Stamp's code).
    async fn remove_staged(&self, _key: &str) -> Result<(), ArchiveError> {
        Ok(())
    }
}

/// An object's bytes as a stream of chunks.
pub type ByteChunks =
    std::pin::Pin<Box<dyn futures::Stream<Item = Result<bytes::Bytes, ArchiveError>> + Send>>;

/// An object being read: which version, how large (when known), and its bytes.
pub struct ObjectStream {
    pub version_id: Option<String>,
    pub size: Option<u64>,
    pub chunks: ByteChunks,
}

/// The prefix under which partners' large uploads are staged before they are archived.
pub const UPLOADS_PREFIX: &str = "uploads/";

/// Hands out URLs through which a partner uploads a large delivery straight to storage
/// (S3: a presigned PUT; stamp-local: its own signed upload route).
#[async_trait]
pub trait UploadUrls: Send + Sync {
    /// A URL that lets its holder PUT the object `key` (under [`UPLOADS_PREFIX`]) for
    /// `expires`.
    async fn presign_put(
        &self,
        key: &str,
        expires: std::time::Duration,
    ) -> Result<String, ArchiveError>;
}

/// Why a partner's feed could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeedError {
    /// Network trouble, a timeout, or a 5xx/429 answer: worth retrying.
    #[error("feed unavailable: {0}")]
    Unavailable(String),
    /// The feed refused the request (another 4xx): retrying will not help.
    #[error("feed refused the request with status {status}: {detail}")]
    Refused { status: u16, detail: String },
}

/// One request to a partner's feed (spec §5 Pull).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedRequest<'a> {
    pub feed_url: &'a str,
    /// The company's organisationsnummer as the path names it.
    pub orgnr: &'a str,
    /// The cursor to continue after; `None` from the start of the history.
    pub after: Option<&'a str>,
    pub limit: usize,
}

/// Reads pages of a partner's feed: `GET {feed_url}/companies/{orgnr}/events?after=&limit=`.
#[async_trait]
pub trait FeedClient: Send + Sync {
    /// The page's body exactly as the partner sent it (it is archived byte for byte).
    async fn fetch(&self, request: &FeedRequest<'_>) -> Result<Vec<u8>, FeedError>;
}

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A rendered extract as the link that [`ExtractFiles::download_url`] made serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadedFile {
    pub bytes: Vec<u8>,
    pub content_type: String,
    pub file_name: String,
}

/// Why a download link does not open.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("the download link is not valid")]
    Invalid,
    #[error("the download link has expired")]
    Expired,
    #[error(transparent)]
    Storage(#[from] ArchiveError),
}

/// Where rendered extracts go (spec §8): under the `extracts/` prefix, kept 7 days, and
/// — unlike every object of the [`Archive`], which is locked COMPLIANCE until its
/// retention ends — written without any retention, so that they can expire.
#[async_trait]
pub trait ExtractFiles: Send + Sync {
    async fn put(
        &self,
        key: &str,
        bytes: &[u8],
        content_type: &str,
        file_name: &str,
    ) -> Result<(), ArchiveError>;

    async fn get(&self, key: &str) -> Result<Vec<u8>, ArchiveError>;

    /// A URL that lets its holder download the file from `now` until `now + ttl`
    /// (an S3 presigned URL; locally a signed link the local server serves). A URL
    /// starting with `/` is relative to the server that answered.
    async fn download_url(
        &self,
        key: &str,
        file_name: &str,
        now: DateTime<Utc>,
        ttl: std::time::Duration,
    ) -> Result<String, ArchiveError>;

    /// Opens a link of [`ExtractFiles::download_url`], for ports whose links the server
    /// itself serves (the local folder); S3 serves its presigned URLs on its own.
    async fn open_link(
        &self,
        _token: &str,
        _now: DateTime<Utc>,
    ) -> Result<DownloadedFile, LinkError> {
        Err(LinkError::Invalid)
    }
}

/// Posts a webhook message (spec §11). Answers the HTTP status, or why no answer came
/// (connection refused, timeout, a refused address).
#[async_trait]
pub trait WebhookSender: Send + Sync {
    async fn post(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: &[u8],
        timeout: std::time::Duration,
    ) -> Result<u16, String>;
}

/// One e-mail, already built as a MIME message (RFC 5322 bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    pub raw: Vec<u8>,
}

/// Sends e-mail: Amazon SES in AWS, `.eml` files under `DATA/outbox/` locally.
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Answers an id for the message (SES message id, or the file's name).
    async fn send(&self, mail: &OutgoingMail) -> Result<String, String>;
}

/// How long an archived object is locked (S3: HeadObject's object-lock retain-until
/// date; the folder: its sidecar). Used by archive verification (spec §12).
#[async_trait]
pub trait LockProbe: Send + Sync {
    /// `Ok(None)`: the object exists but carries no lock.
    async fn locked_until(&self, key: &str) -> Result<Option<NaiveDate>, ArchiveError>;
}
