//! Spec §12, proving the archive: every receipt's delivery exists, its SHA-256 equals the
//! receipt's and the batch answer's, its object lock lasts at least to the latest
//! `retention_until` of its events, and every indexed event's delivery is archived.
//! The report (counts and each mismatch) is written to the archive and returned.
//!
//! The receipts are found through the retention index (no listing of the bucket); the
//! events through the company's day partitions and each event's record (its archive key).

use crate::error::DomainError;
use crate::import::Receipt;
use crate::ledger::{keys, ArchivedEntry, Ledger};
use crate::ports::{Archive, ArchiveError, Clock, LockProbe};
use crate::retention::{retention_until, FiscalYearEnd};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use futures::{StreamExt, TryStreamExt};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// What is wrong with one archived object or event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MismatchKind {
    /// The receipt itself cannot be read.
    UnreadableReceipt,
    /// The receipt's delivery is not in the archive.
    MissingDelivery,
    /// The delivery's bytes no longer hash to the receipt's SHA-256.
    ChangedDelivery,
    /// The batch answer kept for replays names another SHA-256 (or none is kept).
    AnswerMismatch,
    /// The delivery's object lock ends before the latest retention of its events.
    ShortLock,
    /// An indexed event's delivery is not in the archive.
    EventDeliveryMissing,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    pub kind: MismatchKind,
    /// The archive key concerned (for an event, its delivery's key).
    pub key: String,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerificationReport {
    pub run_at: DateTime<Utc>,
    /// The company verified (its organisationsnummer), or every company.
    pub company: Option<String>,
    pub receipts: usize,
    pub deliveries_verified: usize,
    pub bytes_hashed: u64,
    pub events: usize,
    pub event_deliveries: usize,
    pub mismatches: Vec<Mismatch>,
    pub ok: bool,
    pub seconds: f64,
    /// Where this report was written in the archive.
    pub report_key: Option<String>,
}

/// How long a verification report is kept (like the purge receipts).
pub const REPORT_YEARS: i32 = 3;

#[derive(Clone)]
pub struct Verifier {
    ledger: Ledger,
    archive: Arc<dyn Archive>,
    locks: Arc<dyn LockProbe>,
    clock: Arc<dyn Clock>,
    /// Objects hashed and events looked up at the same time.
    pub concurrency: usize,
}

impl Verifier {
    pub fn new(
        ledger: Ledger,
        archive: Arc<dyn Archive>,
        locks: Arc<dyn LockProbe>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Verifier {
            ledger,
            archive,
            locks,
            clock,
            concurrency: 16,
        }
    }

    async fn sha256_of(&self, key: &str) -> Result<(String, u64), ArchiveError> {
        let stream = self.archive.read(key).await?;
        let mut h = Sha256::new();
        let mut n = 0u64;
        let mut chunks = stream.chunks;
        while let Some(c) = chunks.try_next().await? {
            n += c.len() as u64;
            h.update(&c);
        }
        Ok((hex::encode(h.finalize()), n))
    }

    /// Verifies the archive (one company's deliveries and events with `company`), writes
    /// the report to the archive and answers it.
    pub async fn run(
        &self,
        company: Option<&crate::identity::Orgnr>,
    ) -> Result<VerificationReport, DomainError> {
        let started = std::time::Instant::now();
        let now = self.clock.now();
        let companies = self.ledger.companies().await?;
        let mut fy: BTreeMap<String, FiscalYearEnd> = BTreeMap::new();
        for (ck, orgnr, _) in &companies {
            let f = self
                .ledger
                .activation(orgnr)
                .await?
                .and_then(|a| FiscalYearEnd::new(a.fiscal_year_end_month).ok())
                .unwrap_or_default();
            fy.insert(ck.clone(), f);
        }
        let only = company.map(|o| self.ledger.company_key(o));
        let entries = self.archived_entries(now).await?;
        // Each delivery's index entry (its companies and days), by key.
        let deliveries: BTreeMap<&str, &ArchivedEntry> = entries
            .iter()
            .filter(|e| e.batch.is_some())
            .map(|e| (e.key.as_str(), e))
            .collect();
        let receipts: Vec<&ArchivedEntry> = entries
            .iter()
            .filter(|e| e.key.starts_with(crate::import::RECEIPTS_PREFIX))
            .filter(|e| {
                only.as_ref()
                    .is_none_or(|ck| e.companies.iter().any(|(c, _, _)| c == ck))
            })
            .collect();

        let results: Vec<(Vec<Mismatch>, u64, bool)> =
            futures::stream::iter(receipts.iter().copied())
                .map(|r| self.check_receipt(r, &deliveries, &fy))
                .buffer_unordered(self.concurrency.max(1))
                .collect()
                .await;
        let mut mismatches = Vec::new();
        let mut bytes = 0;
        let mut verified = 0;
        for (m, b, v) in results {
            mismatches.extend(m);
            bytes += b;
            verified += usize::from(v);
        }

        // Every indexed event's delivery is archived.
        let (events, keys_of_events) = self.event_deliveries(&companies, only.as_deref()).await?;
        let keys_list: Vec<String> = keys_of_events.into_iter().collect();
        let event_deliveries = keys_list.len();
        let missing: Vec<Option<Mismatch>> = futures::stream::iter(keys_list)
            .map(|k| async move {
                match self.locks.locked_until(&k).await {
                    Ok(_) => None,
                    Err(ArchiveError::NotFound(_)) => Some(Mismatch {
                        kind: MismatchKind::EventDeliveryMissing,
                        detail: "an indexed event's delivery is not in the archive".into(),
                        key: k,
                    }),
                    Err(e) => Some(Mismatch {
                        kind: MismatchKind::EventDeliveryMissing,
                        detail: format!("the delivery of indexed events cannot be read: {e}"),
                        key: k,
                    }),
                }
            })
            .buffer_unordered(self.concurrency.max(1))
            .collect()
            .await;
        mismatches.extend(missing.into_iter().flatten());
        mismatches.sort_by(|a, b| a.kind.cmp(&b.kind).then(a.key.cmp(&b.key)));

        let mut report = VerificationReport {
            run_at: now,
            company: company.map(|o| o.to_string()),
            receipts: receipts.len(),
            deliveries_verified: verified,
            bytes_hashed: bytes,
            events,
            event_deliveries,
            ok: mismatches.is_empty(),
            mismatches,
            seconds: started.elapsed().as_secs_f64(),
            report_key: None,
        };
        let key = keys::verification_report(&now);
        report.report_key = Some(key.clone());
        let body =
            serde_json::to_vec_pretty(&report).map_err(|e| DomainError::Internal(e.to_string()))?;
        let until = now
            .date_naive()
            .with_year(now.year() + REPORT_YEARS)
            .unwrap_or(now.date_naive() + chrono::Duration::days(3 * 366));
        self.archive
            .put(&key, &body, "application/json", until)
            .await?;
        tracing::info!(
            receipts = report.receipts,
            events = report.events,
            mismatches = report.mismatches.len(),
            seconds = report.seconds,
            "archive verified"
        );
        Ok(report)
    }

    /// Every retention-index entry (every archived delivery and receipt), all years.
    async fn archived_entries(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<ArchivedEntry>, DomainError> {
        self.ledger.archived_entries(2000..=now.year() + 30).await
    }

    async fn check_receipt(
        &self,
        r: &ArchivedEntry,
        deliveries: &BTreeMap<&str, &ArchivedEntry>,
        fy: &BTreeMap<String, FiscalYearEnd>,
    ) -> (Vec<Mismatch>, u64, bool) {
        let mut out = Vec::new();
        let m = |kind, key: &str, detail: String| Mismatch {
            kind,
            key: key.to_string(),
            detail,
        };
        let receipt: Receipt = match self.archive.get(&r.key).await {
            Ok(b) => match serde_json::from_slice(&b) {
                Ok(x) => x,
                Err(e) => {
                    return (
                        vec![m(MismatchKind::UnreadableReceipt, &r.key, e.to_string())],
                        0,
                        false,
                    )
                }
            },
            Err(e) => {
                return (
                    vec![m(MismatchKind::UnreadableReceipt, &r.key, e.to_string())],
                    0,
                    false,
                )
            }
        };
        let key = receipt.archive_key.as_str();
        let (sha, n) = match self.sha256_of(key).await {
            Ok(x) => x,
            Err(ArchiveError::NotFound(_)) => {
                return (
                    vec![m(
                        MismatchKind::MissingDelivery,
                        key,
                        format!("receipt {} names it; it is not in the archive", r.key),
                    )],
                    0,
                    false,
                )
            }
            Err(e) => {
                return (
                    vec![m(
                        MismatchKind::MissingDelivery,
                        key,
                        format!("cannot be read: {e}"),
                    )],
                    0,
                    false,
                )
            }
        };
        if sha != receipt.sha256 {
            out.push(m(
                MismatchKind::ChangedDelivery,
                key,
                format!("SHA-256 is {sha}; the receipt says {}", receipt.sha256),
            ));
        }
        match self
            .ledger
            .batch(&receipt.partner_id, &receipt.batch_id)
            .await
        {
            Ok(Some(b)) => {
                let answered = b
                    .answer
                    .get("archive")
                    .and_then(|a| a.get("sha256"))
                    .and_then(|s| s.as_str());
                if b.sha256 != receipt.sha256 || answered.is_some_and(|a| a != receipt.sha256) {
                    out.push(m(
                        MismatchKind::AnswerMismatch,
                        key,
                        format!(
                            "the batch answer names SHA-256 {}",
                            answered.unwrap_or(&b.sha256)
                        ),
                    ));
                }
            }
            // An interrupted import may not have answered yet; its replay will.
            Ok(None) => {}
            Err(e) => out.push(m(
                MismatchKind::AnswerMismatch,
                key,
                format!("the batch answer cannot be read: {e}"),
            )),
        }
        // The latest retention of its events: from the index entry's companies and days.
        let entry = deliveries.get(key).copied().unwrap_or(r);
        let needed: Option<NaiveDate> = entry
            .companies
            .iter()
            .map(|(ck, _, last)| retention_until(*last, fy.get(ck).copied().unwrap_or_default()))
            .max();
        if let Some(needed) = needed {
            match self.locks.locked_until(key).await {
                Ok(Some(until)) if until >= needed => {}
                Ok(Some(until)) => out.push(m(
                    MismatchKind::ShortLock,
                    key,
                    format!("locked until {until}; its events are kept until {needed}"),
                )),
                Ok(None) => out.push(m(
                    MismatchKind::ShortLock,
                    key,
                    format!("not locked; its events are kept until {needed}"),
                )),
                Err(e) => out.push(m(
                    MismatchKind::ShortLock,
                    key,
                    format!("the lock cannot be read: {e}"),
                )),
            }
        }
        (out, n, true)
    }

    /// The number of indexed events and the distinct archive keys of their deliveries.
    async fn event_deliveries(
        &self,
        companies: &[(String, crate::identity::Orgnr, bool)],
        only: Option<&str>,
    ) -> Result<(usize, BTreeSet<String>), DomainError> {
        let mut n = 0;
        let mut keys_of: BTreeSet<String> = BTreeSet::new();
        for (ck, _, _) in companies {
            if only.is_some_and(|o| o != ck) {
                continue;
            }
            // The days that hold events, not every calendar day of the company's span.
            for day in self.ledger.data_days(ck, None, None).await? {
                let events = self.ledger.day_events(ck, day).await?;
                n += events.len();
                let found: Vec<Result<Option<String>, DomainError>> = futures::stream::iter(events)
                    .map(|e| async move {
                        Ok(self
                            .ledger
                            .record(&e.partner_id, &e.event_id)
                            .await?
                            .map(|(r, _)| r.archive_key))
                    })
                    .buffer_unordered(self.concurrency.max(1))
                    .collect()
                    .await;
                for k in found {
                    if let Some(k) = k? {
                        keys_of.insert(k);
                    }
                }
            }
        }
        Ok((n, keys_of))
    }
}
