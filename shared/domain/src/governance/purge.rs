//! The retention purge (spec §2.3): once an event's `retention_until` has passed it is
//! erased from the index, and an archived delivery is deleted once its lock has ended —
//! unless a legal hold covers them. Every purge is written to the audit log.

use crate::error::DomainError;
use crate::governance::audit::{AuditRecord, AuditTrail, SERVICE_CHAIN};
use crate::governance::retention::{retention_until, FiscalYearEnd};
use crate::identity::pseudonym::CompanyKey;
use crate::ports::{Archive, ArchiveError, Clock};
use crate::table::{Ledger, LegalHold};
use chrono::{DateTime, Datelike, Utc};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// How long a purge receipt is locked (spec §12).
pub const RECEIPT_YEARS: i32 = 3;

/// One deleted archived object: its key and the SHA-256 of the bytes deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletedObject {
    pub key: String,
    pub sha256: String,
}

/// What one legal hold kept from this run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldKept {
    pub hold_id: String,
    pub events: usize,
    pub objects: usize,
}

/// One company's part of a purge run. The company is named by its pseudonymous key
/// (a sole trader's organisationsnummer is a personnummer; the receipt holds no
/// personal data); `None` gathers objects no company's events were found in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompanyPurge {
    pub company_key: Option<String>,
    pub events_deleted: usize,
    pub objects_deleted: usize,
    pub deleted_objects: Vec<DeletedObject>,
    pub holds_kept: Vec<HoldKept>,
}

/// The receipt every purge run writes to the archive, locked for three years (spec §12).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurgeReceipt {
    pub run_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub companies: Vec<CompanyPurge>,
    pub objects_locked: usize,
    pub receipt_key: String,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PurgeSummary {
    /// Companies whose purge failed this round (retried at the next).
    pub companies_failed: usize,
    pub companies: usize,
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
        Ok(self.run_with_receipt().await?.0)
    }

    async fn sha256_of(&self, key: &str) -> Result<String, ArchiveError> {
        let mut chunks = self.archive.read(key).await?.chunks;
        let mut h = Sha256::new();
        while let Some(c) = chunks.try_next().await? {
            h.update(&c);
        }
        Ok(hex::encode(h.finalize()))
    }

    /// One purge run; answers its summary and the receipt it wrote to the archive.
    pub async fn run_with_receipt(&self) -> Result<(PurgeSummary, PurgeReceipt), DomainError> {
        let now = self.clock.now();
        let today = now
            .with_timezone(&chrono_tz::Europe::Stockholm)
            .date_naive();
        let mut summary = PurgeSummary::default();
        let mut holds_of: BTreeMap<String, Vec<LegalHold>> = BTreeMap::new();
        let mut parts: BTreeMap<Option<String>, CompanyPurge> = BTreeMap::new();
        // One company's failure never stops the purge for the others (it is retried at
        // the next run); its holds stay unknown, so its archived objects are kept.
        let mut failed: BTreeSet<String> = BTreeSet::new();
        for (ck, orgnr, _) in self.ledger.companies().await? {
            summary.companies += 1;
            let part = parts
                .entry(Some(ck.to_string()))
                .or_insert_with(|| CompanyPurge {
                    company_key: Some(ck.to_string()),
                    ..Default::default()
                });
            match self
                .purge_company(&ck, &orgnr, today, now, &mut summary, part)
                .await
            {
                Ok(holds) => {
                    holds_of.insert(ck.into(), holds);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "retention purge of one company failed; the others go on");
                    summary.companies_failed += 1;
                    failed.insert(ck.into());
                }
            }
        }

        for entry in self.ledger.expired_archive_objects(today).await? {
            let mut held = entry.companies.iter().any(|(ck, _, _)| failed.contains(ck));
            for (ck, first, last) in &entry.companies {
                for h in holds_of.get(ck).into_iter().flatten() {
                    if h.may_cover_days(*first, *last) {
                        held = true;
                        let part = parts.entry(Some(ck.clone())).or_default();
                        part.company_key = Some(ck.clone());
                        kept(&mut part.holds_kept, &h.id).objects += 1;
                    }
                }
            }
            if held {
                summary.objects_held += 1;
                continue;
            }
            // The digest of what is about to go, for the receipt.
            let sha256 = match self.sha256_of(&entry.key).await {
                Ok(h) => h,
                Err(ArchiveError::NotFound(_)) => String::new(),
                Err(e) => return Err(e.into()),
            };
            match self
                .archive
                .delete(&entry.key, entry.version_id.as_deref(), now)
                .await
            {
                Ok(()) | Err(ArchiveError::NotFound(_)) => {
                    self.ledger.forget_archived(&entry).await?;
                    summary.objects_deleted += 1;
                    let owners: Vec<Option<String>> = if entry.companies.is_empty() {
                        vec![None]
                    } else {
                        entry
                            .companies
                            .iter()
                            .map(|(ck, _, _)| Some(ck.clone()))
                            .collect()
                    };
                    for owner in owners {
                        let part = parts.entry(owner.clone()).or_default();
                        part.company_key = owner;
                        part.objects_deleted += 1;
                        part.deleted_objects.push(DeletedObject {
                            key: entry.key.clone(),
                            sha256: sha256.clone(),
                        });
                    }
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
        let finished_at = self.clock.now();
        let receipt_key = crate::table::keys::purge_receipt(&now);
        let receipt = PurgeReceipt {
            run_at: now,
            finished_at,
            companies: parts.into_values().collect(),
            objects_locked: summary.objects_locked,
            receipt_key: receipt_key.clone(),
        };
        let body = serde_json::to_vec_pretty(&receipt)
            .map_err(|e| DomainError::Internal(format!("purge receipt: {e}")))?;
        let until = today
            .with_year(today.year() + RECEIPT_YEARS)
            .unwrap_or(today + chrono::Duration::days(3 * 366));
        self.archive
            .put(&receipt_key, &body, "application/json", until)
            .await?;
        tracing::info!(
            receipt = %receipt_key,
            companies = summary.companies,
            events_purged = summary.events_purged,
            events_held = summary.events_held,
            objects_deleted = summary.objects_deleted,
            objects_held = summary.objects_held,
            objects_locked = summary.objects_locked,
            "retention purge"
        );
        Ok((summary, receipt))
    }

    /// Purges one company's events whose retention ended, walking only the days that
    /// hold data (oldest first, stopping at the first whose retention has not ended).
    /// Answers the company's holds; what went and what holds kept go into `part`.
    async fn purge_company(
        &self,
        ck: &CompanyKey,
        orgnr: &crate::identity::Orgnr,
        today: chrono::NaiveDate,
        now: DateTime<Utc>,
        summary: &mut PurgeSummary,
        part: &mut CompanyPurge,
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
            let mut people = BTreeSet::new();
            let mut gone = Vec::new();
            for e in &events {
                if let Some(h) = holds.iter().find(|h| h.covers(e)) {
                    summary.events_held += 1;
                    kept(&mut part.holds_kept, &h.id).events += 1;
                    continue;
                }
                people.insert(e.person_ref.clone());
                gone.push(e.clone());
            }
            self.ledger.purge_events(ck, &gone).await?;
            let purged = gone.len();
            for p in people {
                self.ledger.forget_person_if_gone(ck, &p).await?;
            }
            if purged == events.len() {
                self.ledger.forget_day_stats(ck, day).await?;
                self.ledger.forget_day(ck, day).await?;
            }
            if purged > 0 {
                summary.events_purged += purged;
                part.events_deleted += purged;
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

fn kept<'a>(list: &'a mut Vec<HoldKept>, id: &str) -> &'a mut HoldKept {
    match list.iter().position(|k| k.hold_id == id) {
        Some(i) => &mut list[i],
        None => {
            list.push(HoldKept {
                hold_id: id.to_string(),
                ..Default::default()
            });
            list.last_mut().expect("just pushed")
        }
    }
}
