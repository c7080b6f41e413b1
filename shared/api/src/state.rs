//! What every handler can reach: the domain services, built once per process from the
//! ports (DynamoDB/S3 in Lambda, redb/a folder in stamp-local).

use stamp_domain::admin::Admin;
use stamp_domain::audit::{AuditTrail, ItemAuditTrail};
use stamp_domain::import::ImportService;
use stamp_domain::ledger::Ledger;
use stamp_domain::ports::{Archive, Clock, ItemStore};
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
            clock,
            ledger,
        }
    }
}
