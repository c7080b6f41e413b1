//! What every handler can reach: the domain services, built once per process from the
//! ports (DynamoDB/S3 in Lambda, redb/a folder in stamp-local).

use stamp_domain::admin::Admin;
use stamp_domain::audit::{AuditTrail, ItemAuditTrail};
use stamp_domain::extracts::{Dispatch, Extracts};
use stamp_domain::feeds::Puller;
use stamp_domain::identity::Orgnr;
use stamp_domain::import::ImportService;
use stamp_domain::ledger::Ledger;
use stamp_domain::ports::{
    Archive, ArchiveError, Clock, ExtractFiles, FeedClient, ItemStore, UploadUrls,
};
use stamp_domain::privacy::PseudonymKey;
use stamp_domain::purge::Purge;
use stamp_domain::queries::Queries;
use stamp_domain::statistics::Statistics;
use std::sync::Arc;

/// Called after a company was activated (stamp-local starts its backfill pull at once;
/// in AWS the next scheduled pull round does).
pub type ActivationHook = Arc<dyn Fn(&Orgnr) + Send + Sync>;

#[derive(Clone)]
pub struct AppState {
    pub ledger: Ledger,
    pub import: ImportService,
    pub queries: Queries,
    pub admin: Admin,
    pub statistics: Statistics,
    pub audit: Arc<dyn AuditTrail>,
    pub purge: Purge,
    pub archive: Arc<dyn Archive>,
    pub clock: Arc<dyn Clock>,
    /// Extracts (spec §8); its files are configured by [`AppState::with_extract_files`].
    pub extracts: Extracts,
    /// Where partners upload large deliveries; `None`: uploads are not offered here.
    pub uploads: Option<Arc<dyn UploadUrls>>,
    /// How partners' feeds are read; `None`: this process does not pull.
    pub feeds: Option<Arc<dyn FeedClient>>,
    pub on_activated: Option<ActivationHook>,
    /// The base URL clients reach this service at (`https://api.example`, no trailing
    /// slash): links Stamp hands out are built from it, never from a request's Host.
    /// Set by [`AppState::with_public_url`] (Lambda: env `STAMP_PUBLIC_URL`;
    /// stamp-local serve: `http://<addr>`).
    pub public_url: String,
}

impl AppState {
    pub fn new(
        store: Arc<dyn ItemStore>,
        archive: Arc<dyn Archive>,
        key: PseudonymKey,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let audit: Arc<dyn AuditTrail> = Arc::new(ItemAuditTrail::new(store.clone()));
        let ledger = Ledger::new(store, key);
        AppState {
            import: ImportService::new(ledger.clone(), archive.clone(), clock.clone()),
            purge: Purge::new(
                ledger.clone(),
                archive.clone(),
                audit.clone(),
                clock.clone(),
            ),
            archive,
            queries: Queries::new(ledger.clone(), clock.clone()),
            admin: Admin::new(ledger.clone(), clock.clone()),
            statistics: Statistics::new(ledger.clone(), clock.clone()),
            audit,
            extracts: Extracts::new(
                ledger.clone(),
                Arc::new(NoExtractFiles),
                clock.clone(),
                Dispatch::Stream,
            ),
            clock,
            ledger,
            uploads: None,
            feeds: None,
            on_activated: None,
            public_url: std::env::var("STAMP_PUBLIC_URL")
                .unwrap_or_else(|_| "http://localhost".into())
                .trim_end_matches('/')
                .to_string(),
        }
    }

    /// Where rendered extracts go, and who renders them: the extract-rendering function
    /// (triggered by the table's stream) in AWS, this process locally.
    pub fn with_extract_files(mut self, files: Arc<dyn ExtractFiles>, dispatch: Dispatch) -> Self {
        self.extracts = Extracts::new(self.ledger.clone(), files, self.clock.clone(), dispatch);
        self
    }

    pub fn with_uploads(mut self, urls: Arc<dyn UploadUrls>) -> Self {
        self.uploads = Some(urls);
        self
    }

    pub fn with_feeds(mut self, client: Arc<dyn FeedClient>) -> Self {
        self.feeds = Some(client);
        self
    }

    pub fn with_public_url(mut self, url: impl Into<String>) -> Self {
        self.public_url = url.into().trim_end_matches('/').to_string();
        self
    }

    pub fn with_activation_hook(mut self, hook: ActivationHook) -> Self {
        self.on_activated = Some(hook);
        self
    }

    /// The pull job on this state's ports (`None` without a feed client).
    pub fn puller(&self) -> Option<Puller> {
        let client = self.feeds.clone()?;
        Some(Puller::new(self.import.clone(), client, self.clock.clone()))
    }
}

/// The extract files of a function that has none configured: every use is refused.
struct NoExtractFiles;

#[async_trait::async_trait]
impl ExtractFiles for NoExtractFiles {
    async fn put(&self, _: &str, _: &[u8], _: &str, _: &str) -> Result<(), ArchiveError> {
        Err(ArchiveError::Unavailable(
            "this function has no extract files configured".into(),
        ))
    }
    async fn get(&self, key: &str) -> Result<Vec<u8>, ArchiveError> {
        Err(ArchiveError::NotFound(key.into()))
    }
    async fn download_url(
        &self,
        _: &str,
        _: &str,
        _: chrono::DateTime<chrono::Utc>,
        _: std::time::Duration,
    ) -> Result<String, ArchiveError> {
        Err(ArchiveError::Unavailable(
            "this function has no extract files configured".into(),
        ))
    }
}
