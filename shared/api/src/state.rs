//! What every handler can reach: the domain services, built once per process from the
//! ports (DynamoDB/S3 in Lambda, redb/a folder in stamp-local).

use stamp_domain::admin::Admin;
use stamp_domain::feeds::Puller;
use stamp_domain::identity::Orgnr;
use stamp_domain::import::ImportService;
use stamp_domain::ledger::Ledger;
use stamp_domain::ports::{Archive, Clock, FeedClient, ItemStore, UploadUrls};
use stamp_domain::privacy::PseudonymKey;
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
    pub clock: Arc<dyn Clock>,
    /// Where partners upload large deliveries; `None`: uploads are not offered here.
    pub uploads: Option<Arc<dyn UploadUrls>>,
    /// How partners' feeds are read; `None`: this process does not pull.
    pub feeds: Option<Arc<dyn FeedClient>>,
    pub on_activated: Option<ActivationHook>,
}

impl AppState {
    pub fn new(
        store: Arc<dyn ItemStore>,
        archive: Arc<dyn Archive>,
        key: PseudonymKey,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let ledger = Ledger::new(store, key);
        AppState {
            import: ImportService::new(ledger.clone(), archive, clock.clone()),
            queries: Queries::new(ledger.clone(), clock.clone()),
            admin: Admin::new(ledger.clone(), clock.clone()),
            statistics: Statistics::new(ledger.clone(), clock.clone()),
            ledger,
            clock,
            uploads: None,
            feeds: None,
            on_activated: None,
        }
    }

    pub fn with_uploads(mut self, urls: Arc<dyn UploadUrls>) -> Self {
        self.uploads = Some(urls);
        self
    }

    pub fn with_feeds(mut self, client: Arc<dyn FeedClient>) -> Self {
        self.feeds = Some(client);
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
