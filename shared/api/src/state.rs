//! What every handler can reach: the domain services, built once per process from the
//! ports (DynamoDB/S3 in Lambda, redb/a folder in stamp-local).

use stamp_domain::extracts::{Dispatch, Extracts};
use stamp_domain::governance::admin::Admin;
use stamp_domain::governance::audit::{AuditTrail, ItemAuditTrail};
use stamp_domain::governance::inspection::Inspections;
use stamp_domain::governance::purge::Purge;
use stamp_domain::governance::verify::Verifier;
use stamp_domain::identity::pseudonym::PseudonymKey;
use stamp_domain::identity::Orgnr;
use stamp_domain::intake::pull::Puller;
use stamp_domain::intake::ImportService;
use stamp_domain::notify::{Notifications, WebhookPolicy};
use stamp_domain::ports::{
    Archive, ArchiveError, Clock, ExtractFiles, FeedClient, ItemStore, LockProbe, Mailer,
    UploadUrls, WebhookSender,
};
use stamp_domain::reads::queries::Queries;
use stamp_domain::reads::statistics::Statistics;
use stamp_domain::table::Ledger;
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
    /// Notification settings, digests, webhooks (spec §11).
    pub notifications: Notifications,
    /// How archived objects' locks are read (archive verification, spec §12).
    pub locks: Option<Arc<dyn LockProbe>>,
    /// Inspection links (spec §10).
    pub inspections: Inspections,
    /// The base URL users reach Stamp at (links handed out: inspection links); env
    /// `STAMP_PUBLIC_URL` in Lambda, `http://<addr>` in stamp-local serve.
    pub public_url: String,
    /// The rate budget of requests without a verified token (stamp-local); `None`: the
    /// gateway's route throttles do it (AWS).
    pub anonymous_budget: Option<Arc<crate::budget::AnonymousBudget>>,
}

impl AppState {
    pub fn new(
        store: Arc<dyn ItemStore>,
        archive: Arc<dyn Archive>,
        key: PseudonymKey,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let audit: Arc<dyn AuditTrail> =
            Arc::new(ItemAuditTrail::new(store.clone(), archive.clone()));
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
            inspections: Inspections::new(ledger.clone(), clock.clone()),
            statistics: Statistics::new(ledger.clone(), clock.clone()),
            audit,
            extracts: Extracts::new(
                ledger.clone(),
                Arc::new(NoExtractFiles),
                clock.clone(),
                Dispatch::Stream,
            ),
            notifications: Notifications::new(ledger.clone(), clock.clone()),
            locks: None,
            clock,
            ledger,
            uploads: None,
            feeds: None,
            on_activated: None,
            anonymous_budget: None,
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

    /// Requests without a verified token share this budget (see [`crate::budget`]).
    pub fn with_anonymous_budget(mut self, budget: crate::budget::AnonymousBudget) -> Self {
        self.anonymous_budget = Some(Arc::new(budget));
        self
    }

    pub fn with_public_url(mut self, url: impl Into<String>) -> Self {
        self.public_url = url.into().trim_end_matches('/').to_string();
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

    pub fn with_activation_hook(mut self, hook: ActivationHook) -> Self {
        self.on_activated = Some(hook);
        self
    }

    /// Where webhook messages are posted from.
    pub fn with_webhooks(mut self, sender: Arc<dyn WebhookSender>) -> Self {
        self.notifications = self.notifications.with_sender(sender);
        self
    }

    /// Which webhook targets are accepted: in AWS public HTTPS only; stamp-local also
    /// loopback (a setting, so tests and a developer's receiver on 127.0.0.1 work).
    pub fn with_webhook_policy(mut self, policy: WebhookPolicy) -> Self {
        self.notifications = self.notifications.with_policy(policy);
        self
    }

    /// How e-mail is sent (SES in AWS, the outbox folder locally), and from whom.
    pub fn with_mailer(mut self, mailer: Arc<dyn Mailer>, from: Option<String>) -> Self {
        self.notifications = self.notifications.with_mailer(mailer, from);
        self
    }

    pub fn with_locks(mut self, locks: Arc<dyn LockProbe>) -> Self {
        self.locks = Some(locks);
        self
    }

    /// Archive verification on this state's ports (`None` without a lock probe).
    pub fn verifier(&self) -> Option<Verifier> {
        let locks = self.locks.clone()?;
        Some(Verifier::new(
            self.ledger.clone(),
            self.archive.clone(),
            locks,
            self.clock.clone(),
        ))
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
