//! Spec §12, proving the archive: every receipt's delivery exists, its SHA-256 equals the
//! receipt's and the batch answer's, its object lock lasts at least to the latest
//! `retention_until` of its events, and every indexed event's delivery is archived.
//! The report (counts and each mismatch) is written to the archive and returned.
//!
//! The receipts are found through the retention index (no listing of the bucket); the
//! events through the company's day partitions. An event names the partner and the
//! instant its delivery was received, and each receipt names the same of its delivery,
//! so an event's delivery is found among the receipts already read: the work follows
//! the deliveries, not the events. Only an event no single receipt of its company
//! matches (two deliveries of one partner at the same instant, or a receipt gone) is
//! looked up by its record, as before. Each object is read once: an event's delivery
//! that its receipt's check already found (or missed) costs no further request.

use crate::error::DomainError;
use crate::governance::retention::{retention_until, FiscalYearEnd};
use crate::identity::pseudonym::CompanyKey;
use crate::identity::PartnerId;
use crate::intake::Receipt;
use crate::ports::{Archive, ArchiveError, Clock, LockProbe};
use crate::table::{keys, ArchivedEntry, Ledger};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// What is wrong with one archived object or event.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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
            fy.insert(ck.to_string(), f);
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
            .filter(|e| e.key.starts_with(crate::intake::RECEIPTS_PREFIX))
            .filter(|e| {
                only.as_ref()
                    .is_none_or(|ck| e.companies.iter().any(|(c, _, _)| c == ck))
            })
            .collect();

        let results: Vec<Checked> = futures::stream::iter(receipts.iter().copied())
            .map(|r| self.check_receipt(r, &deliveries, &fy))
            .buffer_unordered(self.concurrency.max(1))
            .collect()
            .await;
        let mut mismatches = Vec::new();
        let mut bytes = 0;
        let mut verified = 0;
        // What the receipts say was received, and whether each delivery was found.
        let mut received: Received = HashMap::new();
        let mut present: HashMap<String, bool> = HashMap::new();
        for c in results {
            mismatches.extend(c.mismatches);
            bytes += c.bytes;
            verified += usize::from(c.verified);
            if let Some(r) = c.receipt {
                if let Some(found) = c.present {
                    present.insert(r.archive_key.clone(), found);
                }
                received
                    .entry((r.partner_id, r.received_at))
                    .or_default()
                    .push((r.archive_key, r.companies));
            }
        }

        // Every indexed event's delivery is archived.
        let (events, keys_of_events) = self
            .event_deliveries(&companies, only.as_deref(), &received)
            .await?;
        let event_deliveries = keys_of_events.len();
        for k in &keys_of_events {
            if present.get(k) == Some(&false) {
                mismatches.push(Mismatch {
                    kind: MismatchKind::EventDeliveryMissing,
                    detail: "an indexed event's delivery is not in the archive".into(),
                    key: k.clone(),
                });
            }
        }
        // Deliveries no receipt led to: one HeadObject each.
        let unread: Vec<String> = keys_of_events
            .into_iter()
            .filter(|k| !present.contains_key(k))
            .collect();
        let missing: Vec<Option<Mismatch>> = futures::stream::iter(unread)
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
    ) -> Checked {
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
                    return Checked::failed(m(
                        MismatchKind::UnreadableReceipt,
                        &r.key,
                        e.to_string(),
                    ))
                }
            },
            Err(e) => {
                return Checked::failed(m(MismatchKind::UnreadableReceipt, &r.key, e.to_string()))
            }
        };
        let key = receipt.archive_key.as_str();
        let (sha, n) = match self.sha256_of(key).await {
            Ok(x) => x,
            Err(ArchiveError::NotFound(_)) => {
                let miss = m(
                    MismatchKind::MissingDelivery,
                    key,
                    format!("receipt {} names it; it is not in the archive", r.key),
                );
                return Checked {
                    present: Some(false),
                    receipt: Some(receipt),
                    ..Checked::failed(miss)
                };
            }
            Err(e) => {
                let miss = m(
                    MismatchKind::MissingDelivery,
                    key,
                    format!("cannot be read: {e}"),
                );
                // Unknown, not absent: the events' check asks the lock probe itself.
                return Checked {
                    receipt: Some(receipt),
                    ..Checked::failed(miss)
                };
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
                let answered = b.answer.archive.sha256.as_str();
                if b.sha256 != receipt.sha256 || answered != receipt.sha256 {
                    out.push(m(
                        MismatchKind::AnswerMismatch,
                        key,
                        format!("the batch answer names SHA-256 {answered}"),
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
        Checked {
            mismatches: out,
            bytes: n,
            verified: true,
            present: Some(true),
            receipt: Some(receipt),
        }
    }

    /// The number of indexed events and the distinct archive keys of their deliveries.
    /// An event's delivery is the one receipt of its partner, receipt instant and company
    /// (`received`); with none or several, its record says.
    async fn event_deliveries(
        &self,
        companies: &[(CompanyKey, crate::identity::Orgnr, bool)],
        only: Option<&str>,
        received: &Received,
    ) -> Result<(usize, BTreeSet<String>), DomainError> {
        let mut n = 0;
        let mut keys_of: BTreeSet<String> = BTreeSet::new();
        for (ck, _, _) in companies {
            if only.is_some_and(|o| o != ck.as_str()) {
                continue;
            }
            let days = self.ledger.data_days(ck, None, None).await?;
            let per_day: Vec<Result<Vec<crate::model::LedgerEvent>, DomainError>> =
                futures::stream::iter(days)
                    .map(|day| self.ledger.day_events(ck, day))
                    .buffer_unordered(self.concurrency.max(1))
                    .collect()
                    .await;
            let mut unmatched = Vec::new();
            for events in per_day {
                let events = events?;
                n += events.len();
                for e in events {
                    match delivery_of(received, ck, &e.partner_id, e.received_at) {
                        Some(k) => {
                            keys_of.insert(k.to_string());
                        }
                        None => unmatched.push(e),
                    }
                }
            }
            let found: Vec<Result<Option<String>, DomainError>> = futures::stream::iter(unmatched)
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
        Ok((n, keys_of))
    }
}

/// What the receipts say was received: by (partner, receipt instant), each delivery's
/// archive key and the keys of the companies it names.
type Received = HashMap<(PartnerId, DateTime<Utc>), Vec<(String, Vec<String>)>>;

/// What checking one receipt found.
struct Checked {
    mismatches: Vec<Mismatch>,
    bytes: u64,
    verified: bool,
    /// Whether its delivery is in the archive (`None`: not known).
    present: Option<bool>,
    receipt: Option<Receipt>,
}

impl Checked {
    fn failed(m: Mismatch) -> Self {
        Checked {
            mismatches: vec![m],
            bytes: 0,
            verified: false,
            present: None,
            receipt: None,
        }
    }
}

/// The delivery of an event received from `partner` at `at` for company `ck`: the one
/// receipt that says so, or `None` when none or several do.
fn delivery_of<'a>(
    received: &'a Received,
    ck: &CompanyKey,
    partner: &PartnerId,
    at: DateTime<Utc>,
) -> Option<&'a str> {
    let candidates = received.get(&(partner.clone(), at))?;
    let mut of_company = candidates
        .iter()
        .filter(|(_, cks)| cks.iter().any(|c| c == ck))
        .map(|(k, _)| k.as_str());
    let first = of_company.next()?;
    of_company.all(|k| k == first).then_some(first)
}
