//! The retention purge (spec §2.3): once an event's `retention_until` has passed it is
//! erased from the index, and an archived delivery is deleted once its lock has ended —
//! unless a legal hold covers them. Every purge is written to the audit log.

use crate::audit::{AuditRecord, AuditTrail, SERVICE_CHAIN};
use crate::error::DomainError;
use crate::ledger::{Ledger, LegalHold};
use crate::ports::{Archive, ArchiveError, Clock};
use crate::retention::{retention_until, FiscalYearEnd};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PurgeSummary {
    pub companies: usize,
    /// Companies whose purge failed this round (retried at the next).
    pub companies_failed: usize,
    pub events_purged: usize,
    pub events_held: usize,
    pub objects_deleted: usize,
    pub objects_held: usize,
    /// Objects whose lock the archive itself still enforces; tried again next round.
    pub objects_locked: usize,
}

#[derive(Clone)]
pub struct Purge {
    ledger: Ledger,
    archive: Arc<dyn Archive>,
    audit: Arc<dyn AuditTrail>,
    clock: Arc<dyn Clock>,
}

fn system_record(company: Option<String>, action: &str, target: String) -> AuditRecord {
    AuditRecord {
        actor: "stamp-retention-purge".into(),
        role: "system".into(),
        company,
        action: action.into(),
        target: Some(target),
        outcome: "success".into(),
        status: 200,
        request_id: uuid::Uuid::new_v4().to_string(),
    }
}

impl Purge {
    pub fn new(
        ledger: Ledger,
        archive: Arc<dyn Archive>,
        audit: Arc<dyn AuditTrail>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Purge {
            ledger,
            archive,
            audit,
            clock,
        }
    }

    pub async fn run_once(&self) -> Result<PurgeSummary, DomainError> {
        let now = self.clock.now();
        let today = now
            .with_timezone(&chrono_tz::Europe::Stockholm)
            .date_naive();
        let mut summary = PurgeSummary::default();
        let mut holds_of: BTreeMap<String, Vec<LegalHold>> = BTreeMap::new();
        // One company's failure never stops the purge for the others (it is retried at
        // the next run); its holds stay unknown, so its archived objects are kept.
        let mut failed: BTreeSet<String> = BTreeSet::new();
        for (ck, orgnr, _) in self.ledger.companies().await? {
            summary.companies += 1;
            match self
                .purge_company(&ck, &orgnr, today, now, &mut summary)
                .await
            {
                Ok(holds) => {
                    holds_of.insert(ck, holds);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "retention purge of one company failed; the others go on");
                    summary.companies_failed += 1;
                    failed.insert(ck);
                }
            }
        }

        for entry in self.ledger.expired_archive_objects(today).await? {
            let held = entry.companies.iter().any(|(ck, first, last)| {
                failed.contains(ck)
                    || holds_of
                        .get(ck)
                        .is_some_and(|hs| hs.iter().any(|h| h.may_cover_days(*first, *last)))
            });
            if held {
                summary.objects_held += 1;
                continue;
            }
            match self
                .archive
                .delete(&entry.key, entry.version_id.as_deref(), now)
                .await
            {
                Ok(()) | Err(ArchiveError::NotFound(_)) => {
                    self.ledger.forget_archived(&entry).await?;
                    summary.objects_deleted += 1;
                    let target =
                        format!("archive:{} retain_until:{}", entry.key, entry.retain_until);
                    self.audit
                        .append(
                            SERVICE_CHAIN,
                            system_record(None, "PURGE archived delivery", target),
                            now,
                        )
                        .await?;
                }
                Err(ArchiveError::Locked(_)) => summary.objects_locked += 1,
                Err(e) => return Err(e.into()),
            }
        }
        tracing::info!(
            companies = summary.companies,
            events_purged = summary.events_purged,
            events_held = summary.events_held,
            objects_deleted = summary.objects_deleted,
            objects_held = summary.objects_held,
            objects_locked = summary.objects_locked,
            "retention purge"
        );
        Ok(summary)
    }

    /// Purges one company's events whose retention ended, walking only the days that
    /// hold data (oldest first, stopping at the first whose retention has not ended).
    /// Answers the company's holds.
    async fn purge_company(
        &self,
        ck: &str,
        orgnr: &crate::identity::Orgnr,
        today: chrono::NaiveDate,
        now: chrono::DateTime<chrono::Utc>,
        summary: &mut PurgeSummary,
    ) -> Result<Vec<LegalHold>, DomainError> {
        let holds = self.ledger.holds(ck).await?;
        let fy = self
            .ledger
            .activation(orgnr)
            .await?
            .and_then(|a| FiscalYearEnd::new(a.fiscal_year_end_month).ok())
            .unwrap_or_default();
        for day in self.ledger.data_days(ck, None, None).await? {
            if retention_until(day, fy) >= today {
                break;
            }
            let events = self.ledger.day_events(ck, day).await?;
            let mut purged = 0;
            let mut people = BTreeSet::new();
            for e in &events {
                if holds.iter().any(|h| h.covers(e)) {
                    summary.events_held += 1;
                    continue;
                }
                self.ledger.purge_event(ck, e).await?;
                people.insert(e.person_ref.clone());
                purged += 1;
            }
            for p in people {
                self.ledger.forget_person_if_gone(ck, &p).await?;
            }
            if purged == events.len() {
                self.ledger.forget_day_stats(ck, day).await?;
                self.ledger.forget_day(ck, day).await?;
            }
            if purged > 0 {
                summary.events_purged += purged;
                let target = format!(
                    "day:{day} events:{purged} retention_until:{}",
                    retention_until(day, fy)
                );
                self.audit
                    .append(
                        ck,
                        system_record(Some(orgnr.to_string()), "PURGE ledger events", target),
                        now,
                    )
                    .await?;
            }
        }
        Ok(holds)
    }
}
