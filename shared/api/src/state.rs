//! What every handler can reach: the domain services, built once per process from the
//! ports (DynamoDB/S3 in Lambda, redb/a folder in stamp-local).

use stamp_domain::admin::Admin;
use stamp_domain::audit::{AuditTrail, ItemAuditTrail};
use stamp_domain::extracts::{Dispatch, Extracts};
use stamp_domain::import::ImportService;
use stamp_domain::ledger::Ledger;
use stamp_domain::ports::{Archive, ArchiveError, Clock, ExtractFiles, ItemStore};
use stamp_domain::privacy::PseudonymKey;
use stamp_domain::purge::Purge;
use stamp_domain::queries::Queries;
use stamp_domain::statistics::Statistics;
use std::sync::Arc;

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
        }
    }

    /// Where rendered extracts go, and who renders them: the extract-rendering function
    /// (triggered by the table's stream) in AWS, this process locally.
    pub fn with_extract_files(mut self, files: Arc<dyn ExtractFiles>, dispatch: Dispatch) -> Self {
        self.extracts = Extracts::new(self.ledger.clone(), files, self.clock.clone(), dispatch);
        self
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
