//! The import path every delivery takes — pushed, uploaded, pulled, or replayed from the
//! archive: archive the exact bytes first, then validate each event on its own and index
//! the valid ones.
//!
//! One core serves them all. A delivery's events go through two phases, in chunks: the
//! *plain* phase validates every event and stores the uncorrected ones; the *corrections*
//! phase then applies the corrections in delivery order (spec §5: the latest received
//! counts; a correction may come before the event it corrects in the same batch). A push
//! is one chunk; an upload or a replay streams its events from the archive in chunks of
//! [`STREAM_CHUNK_EVENTS`], so its size is bounded by the archive, not by memory.

use super::parse::{parse_delivery, DeliveryFormat, EnvelopeError, RawEvent, MAX_BATCH_BYTES};
use super::stream::{read_chunks, OwnedRule, StreamPhase};
use super::validate::{validate_event, within_bounds, Rejection, RejectionCode};
use crate::auth::{require_partner, Claims};
use crate::error::DomainError;
use crate::governance::retention::{retention_until, FiscalYearEnd};
use crate::identity::pseudonym::{id_fragment, sha256_hex};
use crate::identity::Orgnr;
use crate::model::{Activation, EventFields, EventRecord, LedgerEvent};
use crate::ports::{Archive, ArchivedObject, Clock, StoreError, WriteOp, MAX_TRANSACTION_OPS};
use crate::table::{ArchivedEntry, BatchRecord, CorrectionEntry, Ledger};
use crate::table::{WRITES_PER_DAY_CHUNK, WRITES_PER_EVENT};
use crate::time::{format_rfc3339, local_date, Instant};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use futures::stream::{self, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

const PARALLEL_TRANSACTIONS: usize = 4;
/// Uploads and replays keep as many transactions in flight as pushes: more buys little
/// on DynamoDB (a 500,000-event upload is ~25,000 transactions, minutes at this pace,
/// well within the function's 15) and makes DynamoDB Local time out on its locks.
pub(crate) const STREAM_PARALLEL_TRANSACTIONS: usize = PARALLEL_TRANSACTIONS;
/// Events per chunk when a delivery is streamed from the archive.
pub const STREAM_CHUNK_EVENTS: usize = 1000;
/// An upload's answer lists at most this many rejections (with `rejected_count` the
/// total): the answer is kept in one table item, which DynamoDB caps at 400 KB.
pub const UPLOAD_REJECTED_LISTED: usize = 500;
/// Where each delivery's receipt is archived.
pub const RECEIPTS_PREFIX: &str = "receipts/";

/// The answer to a delivery (spec §5), also when some events were rejected; kept with
/// the batch so that a replay of the same bytes gets exactly the same one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchAnswer {
    pub batch_id: String,
    pub archive: ArchivedDelivery,
    pub accepted: u64,
    pub duplicates: u64,
    /// The rejected events in delivery order; an upload lists at most
    /// [`UPLOAD_REJECTED_LISTED`] of them.
    pub rejected: Vec<Rejected>,
    /// The number of rejected events, when `rejected` was cut short (uploads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected_count: Option<u64>,
}

/// Where a delivery's exact bytes were archived.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArchivedDelivery {
    pub key: String,
    /// Lowercase hex SHA-256 of the bytes received.
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rejected {
    pub index: usize,
    pub event_id: Option<String>,
    pub code: RejectionCode,
    pub field: String,
    pub message: String,
}

/// The archive's own account of a delivery, archived (locked like the delivery) before
/// anything of it is indexed: what a rebuild needs to replay it exactly as it was
/// received — which partner, which batch id, which envelope, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Receipt {
    pub partner_id: String,
    pub batch_id: String,
    /// `json`, `csv` or `feed_page`.
    pub format: String,
    pub received_at: DateTime<Utc>,
    pub sha256: String,
    pub archive_key: String,
    /// `push`, `upload` or `pull`.
    pub via: String,
    /// The (pseudonymous) keys of the companies the delivery names, so that rebuilding
    /// one company skips the deliveries of others.
    #[serde(default)]
    pub companies: Vec<String>,
}

pub fn receipt_key(
    partner_id: &str,
    received_at: DateTime<Utc>,
    batch_id: &str,
    sha256: &str,
) -> String {
    format!(
        "{RECEIPTS_PREFIX}{partner_id}/{}/{}-{}.json",
        received_at.format("%Y-%m-%d"),
        id_fragment(batch_id),
        &sha256[..16]
    )
}

/// Why a delivery was not imported, and where its bytes were archived if they were
/// (an unreadable delivery is kept as it came).
#[derive(Debug)]
pub struct ImportFailure {
    pub error: DomainError,
    pub archived: Option<String>,
}

impl From<DomainError> for ImportFailure {
    fn from(error: DomainError) -> Self {
        ImportFailure {
            error,
            archived: None,
        }
    }
}

impl From<crate::ports::ArchiveError> for ImportFailure {
    fn from(e: crate::ports::ArchiveError) -> Self {
        ImportFailure {
            error: e.into(),
            archived: None,
        }
    }
}

#[derive(Clone)]
pub struct ImportService {
    pub(crate) ledger: Ledger,
    pub(crate) archive: Arc<dyn Archive>,
    pub(crate) clock: Arc<dyn Clock>,
}

/// What became of one valid event.
enum Fate {
    Stored(LedgerEvent),
    /// Stored by an earlier, interrupted run of this same delivery.
    Resumed(LedgerEvent),
    /// A correction: the event as it stood before and after.
    Corrected {
        before: Box<LedgerEvent>,
        after: Box<LedgerEvent>,
    },
    Duplicate(LedgerEvent),
    Rejected(Rejection),
}

/// Who and when, for every record a run writes.
#[derive(Clone)]
struct Ctx {
    partner_id: String,
    batch_id: String,
    archive_key: String,
    received_at: DateTime<Utc>,
}

/// One delivery being indexed: its context and what has come of its events so far.
pub(crate) struct Run {
    ctx: Ctx,
    sha256: String,
    parallel: usize,
    /// A replay indexes only this company's events, judged as they were when received.
    replay_of: Option<Orgnr>,
    activations: HashMap<Orgnr, Option<Activation>>,
    /// The first occurrence of each event id in the delivery: its index and whether it
    /// is a correction (hashes, so a 500,000-event upload needs a few MB for this).
    first: HashMap<u64, (usize, bool)>,
    accepted: usize,
    duplicates: usize,
    rejected: Vec<Rejected>,
    rejected_total: usize,
    /// `None`: list every rejection (a push); `Some(n)`: the first `n` by index.
    rejected_cap: Option<usize>,
    /// The directory entry each person gets: from their last event by index.
    people: BTreeMap<(String, String), (usize, LedgerEvent)>,
    sites: BTreeMap<(String, String), (Instant, Instant)>,
    /// Events received and refused per named company (kept for activated ones).
    health: BTreeMap<Orgnr, (u64, u64)>,
}

impl Run {
    pub(crate) fn new(
        partner_id: &str,
        batch_id: &str,
        sha256: &str,
        received_at: DateTime<Utc>,
    ) -> Self {
        Run {
            ctx: Ctx {
                partner_id: partner_id.to_string(),
                batch_id: batch_id.to_string(),
                archive_key: String::new(),
                received_at,
            },
            sha256: sha256.to_string(),
            parallel: PARALLEL_TRANSACTIONS,
            replay_of: None,
            activations: HashMap::new(),
            first: HashMap::new(),
            accepted: 0,
            duplicates: 0,
            rejected: Vec::new(),
            rejected_total: 0,
            rejected_cap: None,
            people: BTreeMap::new(),
            sites: BTreeMap::new(),
            health: BTreeMap::new(),
        }
    }

    /// A streamed run: more transactions in flight, a bounded list of rejections.
    pub(crate) fn streamed(mut self, cap: usize) -> Self {
        self.parallel = STREAM_PARALLEL_TRANSACTIONS;
        self.rejected_cap = Some(cap);
        self
    }

    pub(crate) fn replaying(mut self, company: Orgnr) -> Self {
        self.replay_of = Some(company);
        self
    }

    pub(crate) fn set_archive_key(&mut self, key: &str) {
        self.ctx.archive_key = key.to_string();
    }

    pub(crate) fn set_received_at(&mut self, at: DateTime<Utc>) {
        self.ctx.received_at = at;
    }

    pub(crate) fn archive_key(&self) -> &str {
        &self.ctx.archive_key
    }

    fn marker(&self) -> String {
        format!(
            "{}:{}:{}",
            self.ctx.partner_id, self.ctx.batch_id, self.sha256
        )
    }

    /// Whether an activation lets this run index the company's events: now, or for a
    /// replay, at the time the delivery was received.
    fn active(&self, a: &Activation) -> bool {
        match self.replay_of {
            None => a.is_active(),
            Some(_) => {
                a.activated_at <= self.ctx.received_at
                    && a.deregistered_at.is_none_or(|d| self.ctx.received_at < d)
            }
        }
    }

    fn reject(&mut self, index: usize, raw: &RawEvent, r: Rejection) {
        self.rejected_total += 1;
        if let Some(o) = raw_orgnr(raw) {
            self.health.entry(o).or_default().1 += 1;
        }
        if self.rejected_cap == Some(0) {
            return;
        }
        self.rejected.push(Rejected {
            index,
            event_id: event_id_of(raw),
            code: r.code,
            field: r.field,
            message: r.message,
        });
        if let Some(cap) = self.rejected_cap {
            if self.rejected.len() > 2 * cap {
                self.rejected.sort_by_key(|r| r.index);
                self.rejected.truncate(cap);
            }
        }
    }

    fn note(&mut self, index: usize, e: &LedgerEvent, ledger: &Ledger) {
        let ck = ledger.company_key(&e.company_orgnr);
        let slot = self
            .people
            .entry((ck.clone(), e.person_ref.clone()))
            .or_insert_with(|| (index, e.clone()));
        if slot.0 <= index {
            *slot = (index, e.clone());
        }
        let span = self
            .sites
            .entry((ck, e.site_id.to_string()))
            .or_insert((e.occurred_at, e.occurred_at));
        span.0 = span.0.min(e.occurred_at);
        span.1 = span.1.max(e.occurred_at);
    }
}

/// The local days a chunk's events touched, per company key.
type Touched = BTreeMap<String, BTreeSet<NaiveDate>>;

fn touch(touched: &mut Touched, ledger: &Ledger, e: &LedgerEvent) {
    touched
        .entry(ledger.company_key(&e.company_orgnr))
        .or_default()
        .insert(local_date(&e.occurred_at));
}

/// An event id as a compact key of the run's first-occurrence map.
fn id_hash(id: &str) -> u64 {
    let d = Sha256::digest(id.as_bytes());
    u64::from_be_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}

pub(crate) fn raw_orgnr(raw: &RawEvent) -> Option<Orgnr> {
    raw.as_ref()
        .ok()
        .and_then(|m| m.get("company_orgnr"))
        .and_then(Value::as_str)
        .and_then(|o| Orgnr::parse(o).ok())
}

/// What the envelope-level reading of a whole delivery found out, before any of it is
/// stored: enough to lock its archived copy for as long as its events need.
#[derive(Debug, Default, Clone)]
pub(crate) struct Survey {
    /// When the delivery was received: events outside the ledger's time bounds from it
    /// are rejected, so they lock nothing.
    pub received: Option<DateTime<Utc>>,
    /// The latest local day of a valid event, per company.
    pub latest_day: HashMap<Orgnr, NaiveDate>,
    /// The earliest local day of a valid event, per company.
    pub earliest_day: HashMap<Orgnr, NaiveDate>,
    /// Every company a readable event names.
    pub companies: BTreeSet<Orgnr>,
}

impl Survey {
    pub(crate) fn add(&mut self, raw: &RawEvent) {
        if let Some(o) = raw_orgnr(raw) {
            self.companies.insert(o);
        }
        if let Ok(m) = raw {
            let checked = validate_event(m).and_then(|f| match self.received {
                Some(at) => within_bounds(f, at),
                None => Ok(f),
            });
            if let Ok(f) = checked {
                let day = local_date(&f.occurred_at);
                let first = self
                    .earliest_day
                    .entry(f.company_orgnr.clone())
                    .or_insert(day);
                *first = (*first).min(day);
                let slot = self.latest_day.entry(f.company_orgnr).or_insert(day);
                *slot = (*slot).max(day);
            }
        }
    }
}

impl ImportService {
    pub fn new(ledger: Ledger, archive: Arc<dyn Archive>, clock: Arc<dyn Clock>) -> Self {
        ImportService {
            ledger,
            archive,
            clock,
        }
    }

    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    pub fn archive(&self) -> &Arc<dyn Archive> {
        &self.archive
    }

    /// Receives one pushed delivery from the partner the claims name.
    pub async fn push(
        &self,
        claims: &Claims,
        format: DeliveryFormat,
        body: &[u8],
        batch_id_param: Option<&str>,
    ) -> Result<BatchAnswer, DomainError> {
        let partner_id = require_partner(claims)?.to_string();
        self.require_accredited(&partner_id).await?;
        if body.len() > MAX_BATCH_BYTES {
            return Err(DomainError::PayloadTooLarge(format!(
                "the body is {} bytes; at most {MAX_BATCH_BYTES} may be pushed, larger deliveries go through /partner/v1/uploads",
                body.len()
            )));
        }
        self.import(&partner_id, format, body, batch_id_param).await
    }

    pub(crate) async fn require_accredited(&self, partner_id: &str) -> Result<(), DomainError> {
        match self.ledger.partner(partner_id).await? {
            None => Err(DomainError::Forbidden(
                "the partner is not accredited by Stamp".into(),
            )),
            Some(p) if p.suspended => Err(DomainError::Forbidden(
                "the partner's accreditation is suspended".into(),
            )),
            Some(_) => Ok(()),
        }
    }

    /// The shared path of every delivery from an accredited partner that arrives whole
    /// (a push, a pulled page).
    pub async fn import(
        &self,
        partner_id: &str,
        format: DeliveryFormat,
        body: &[u8],
        batch_id_param: Option<&str>,
    ) -> Result<BatchAnswer, DomainError> {
        self.import_detailed(partner_id, format, body, batch_id_param)
            .await
            .map_err(|f| f.error)
    }

    /// [`ImportService::import`], telling also where a refused delivery was archived.
    pub async fn import_detailed(
        &self,
        partner_id: &str,
        format: DeliveryFormat,
        body: &[u8],
        batch_id_param: Option<&str>,
    ) -> Result<BatchAnswer, ImportFailure> {
        let received_at = self.clock.now();
        let sha256 = sha256_hex(body);
        let delivery = match parse_delivery(format, body, batch_id_param) {
            Ok(d) => d,
            Err(EnvelopeError::TooManyEvents(n)) => {
                return Err(DomainError::PayloadTooLarge(
                    EnvelopeError::TooManyEvents(n).to_string(),
                )
                .into())
            }
            Err(e) => {
                // Even an unreadable delivery is kept as it came: it is what the partner sent.
                let key = unreadable_key(partner_id, received_at, &sha256, format);
                let retain_until = fallback_retention(received_at);
                let archived = self
                    .archive
                    .put(&key, body, format.content_type(), retain_until)
                    .await?;
                self.ledger
                    .note_archived(&ArchivedEntry {
                        key: archived.key,
                        version_id: archived.version_id,
                        retain_until,
                        companies: Vec::new(),
                        batch: None,
                    })
                    .await?;
                tracing::info!(partner_id, archive_key = %key, "unreadable delivery archived and refused");
                return Err(ImportFailure {
                    error: envelope_error(e),
                    archived: Some(key),
                });
            }
        };
        let batch_id = delivery.batch_id.clone();
        if let Some(previous) = self.previous_answer(partner_id, &batch_id, &sha256).await? {
            return Ok(previous);
        }

        let mut run = Run::new(partner_id, &batch_id, &sha256, received_at);
        let mut survey = Survey {
            received: Some(received_at),
            ..Survey::default()
        };
        for raw in &delivery.events {
            survey.add(raw);
        }
        let retain_until = self.retention(&mut run, &survey).await?;
        let archive_key = batch_key(partner_id, received_at, &batch_id, &sha256, format);
        self.begin(&mut run, &archive_key).await?;

        // Archive first: the locked copy must outlive every event it holds.
        let archived = self
            .archive
            .put(
                &run.ctx.archive_key,
                body,
                format.content_type(),
                retain_until,
            )
            .await?;
        let via = if format == DeliveryFormat::FeedPage {
            "pull"
        } else {
            "push"
        };
        self.write_receipt(&run, format, &archived, via, &survey, retain_until)
            .await?;

        let chunk: Vec<(usize, RawEvent)> = delivery.events.into_iter().enumerate().collect();
        self.plain_phase(&mut run, &chunk).await?;
        self.correction_phase(&mut run, &chunk).await?;
        let answer = self.finish(&mut run).await?;
        Ok(self.keep_answer(&run, answer).await?)
    }

    /// The first answer to `(partner, batch_id)`: again for the same bytes, a conflict for
    /// other bytes, `None` for a new batch.
    pub(crate) async fn previous_answer(
        &self,
        partner_id: &str,
        batch_id: &str,
        sha256: &str,
    ) -> Result<Option<BatchAnswer>, DomainError> {
        match self.ledger.batch(partner_id, batch_id).await? {
            None => Ok(None),
            Some(previous) if previous.sha256 == sha256 => Ok(Some(previous.answer)),
            Some(previous) => Err(DomainError::Conflict {
                code: "batch_conflict",
                detail: format!(
                    "batch_id {batch_id:?} was delivered before with different content (sha256 {}); a batch is never replaced",
                    previous.sha256
                ),
            }),
        }
    }

    /// The retention of a delivery's archived copy: the latest `retention_until` of its
    /// valid events of activated companies.
    pub(crate) async fn retention(
        &self,
        run: &mut Run,
        survey: &Survey,
    ) -> Result<NaiveDate, DomainError> {
        let mut latest: Option<NaiveDate> = None;
        for (orgnr, day) in &survey.latest_day {
            if !self.is_active(run, orgnr).await? {
                continue;
            }
            let fy = run.activations[orgnr]
                .as_ref()
                .and_then(|a| FiscalYearEnd::new(a.fiscal_year_end_month).ok())
                .unwrap_or_default();
            let until = retention_until(*day, fy);
            latest = Some(latest.map_or(until, |l| l.max(until)));
        }
        Ok(latest
            .unwrap_or_else(|| fallback_retention(run.ctx.received_at))
            // A lock cannot end in the past (S3 refuses it): old events are kept a day.
            .max(
                run.ctx
                    .received_at
                    .date_naive()
                    .succ_opt()
                    .unwrap_or(NaiveDate::MAX),
            ))
    }

    /// Claims the batch id for these bytes. An earlier attempt at the same delivery that
    /// was interrupted left its receipt time and archive key: they are taken over, so the
    /// records it already wrote and the ones written now are alike.
    pub(crate) async fn begin(&self, run: &mut Run, archive_key: &str) -> Result<(), DomainError> {
        let (received_at, key) = self
            .ledger
            .begin_batch(
                &run.ctx.partner_id,
                &run.ctx.batch_id,
                &run.sha256,
                run.ctx.received_at,
                archive_key,
            )
            .await?;
        run.set_received_at(received_at);
        run.set_archive_key(&key);
        Ok(())
    }

    pub(crate) async fn write_receipt(
        &self,
        run: &Run,
        format: DeliveryFormat,
        archived: &ArchivedObject,
        via: &str,
        survey: &Survey,
        retain_until: NaiveDate,
    ) -> Result<(), DomainError> {
        let receipt = Receipt {
            partner_id: run.ctx.partner_id.clone(),
            batch_id: run.ctx.batch_id.clone(),
            format: format.as_str().into(),
            received_at: run.ctx.received_at,
            sha256: run.sha256.clone(),
            archive_key: archived.key.clone(),
            via: via.into(),
            companies: survey
                .companies
                .iter()
                .map(|o| self.ledger.company_key(o))
                .collect(),
        };
        let bytes = serde_json::to_vec(&receipt)
            .map_err(|e| DomainError::Internal(format!("receipt: {e}")))?;
        let key = receipt_key(
            &run.ctx.partner_id,
            run.ctx.received_at,
            &run.ctx.batch_id,
            &run.sha256,
        );
        let receipt_object = self
            .archive
            .put(&key, &bytes, "application/json", retain_until)
            .await?;
        // The retention purge finds both through the retention index, not by listing.
        let companies: Vec<(String, NaiveDate, NaiveDate)> = survey
            .latest_day
            .iter()
            .map(|(o, last)| {
                let first = survey.earliest_day.get(o).copied().unwrap_or(*last);
                (self.ledger.company_key(o), first, *last)
            })
            .collect();
        for (object, batch) in [
            (
                archived,
                Some((run.ctx.partner_id.clone(), run.ctx.batch_id.clone())),
            ),
            (&receipt_object, None),
        ] {
            self.ledger
                .note_archived(&ArchivedEntry {
                    key: object.key.clone(),
                    version_id: object.version_id.clone(),
                    retain_until,
                    companies: companies.clone(),
                    batch,
                })
                .await?;
        }
        Ok(())
    }

    /// Keeps the answer so that a replay of the batch gets it again.
    pub(crate) async fn keep_answer(
        &self,
        run: &Run,
        answer: BatchAnswer,
    ) -> Result<BatchAnswer, DomainError> {
        let Ctx {
            partner_id,
            batch_id,
            archive_key,
            received_at,
        } = &run.ctx;
        let record = BatchRecord {
            partner_id: partner_id.clone(),
            batch_id: batch_id.clone(),
            sha256: run.sha256.clone(),
            archive_key: archive_key.clone(),
            received_at: *received_at,
            answer: answer.clone(),
        };
        if !self.ledger.save_batch(&record).await? {
            // A concurrent delivery of the same batch id answered first; answer as it did.
            if let Some(first) = self.ledger.batch(partner_id, batch_id).await? {
                if first.sha256 == record.sha256 {
                    return Ok(first.answer);
                }
                return Err(DomainError::Conflict {
                    code: "batch_conflict",
                    detail: format!(
                        "batch_id {batch_id:?} was delivered concurrently with different content"
                    ),
                });
            }
        }
        tracing::info!(
            partner_id = %partner_id,
            archive_key = %archive_key,
            accepted = run.accepted,
            duplicates = run.duplicates,
            rejected = run.rejected_total,
            "batch imported"
        );
        Ok(answer)
    }

    async fn is_active(&self, run: &mut Run, orgnr: &Orgnr) -> Result<bool, DomainError> {
        if !run.activations.contains_key(orgnr) {
            let a = self.ledger.activation(orgnr).await?;
            run.activations.insert(orgnr.clone(), a);
        }
        Ok(run.activations[orgnr]
            .as_ref()
            .is_some_and(|a| run.active(a)))
    }

    /// Validates one event on its own; `None` when a replay of another company skips it.
    async fn check(
        &self,
        run: &mut Run,
        raw: &RawEvent,
    ) -> Result<Option<Result<EventFields, Rejection>>, DomainError> {
        if let Some(only) = &run.replay_of {
            if raw_orgnr(raw).as_ref() != Some(only) {
                return Ok(None);
            }
        }
        let fields = match raw {
            Err(reason) => Err(Rejection::invalid("event", reason)),
            Ok(m) => validate_event(m),
        };
        let f = match fields.and_then(|f| within_bounds(f, run.ctx.received_at)) {
            Ok(f) => f,
            Err(r) => return Ok(Some(Err(r))),
        };
        if !self.is_active(run, &f.company_orgnr).await? {
            return Ok(Some(Err(Rejection {
                code: RejectionCode::CompanyNotActivated,
                field: "company_orgnr".into(),
                message: "company_orgnr: the company has not activated Stamp".into(),
            })));
        }
        Ok(Some(Ok(f)))
    }

    fn apply(
        &self,
        run: &mut Run,
        touched: &mut Touched,
        index: usize,
        raw: &RawEvent,
        fate: Fate,
    ) {
        match fate {
            Fate::Stored(e) | Fate::Resumed(e) => {
                run.accepted += 1;
                touch(touched, &self.ledger, &e);
                run.note(index, &e, &self.ledger);
            }
            Fate::Corrected { before, after } => {
                run.accepted += 1;
                touch(touched, &self.ledger, &before);
                touch(touched, &self.ledger, &after);
                run.note(index, &after, &self.ledger);
            }
            Fate::Duplicate(e) => {
                run.duplicates += 1;
                run.note(index, &e, &self.ledger);
            }
            Fate::Rejected(r) => run.reject(index, raw, r),
        }
    }

    async fn mark(&self, run: &Run, touched: Touched) -> Result<(), DomainError> {
        let marker = run.marker();
        for (ck, days) in touched {
            self.ledger
                .mark_dirty(&ck, &days.into_iter().collect::<Vec<_>>(), &marker)
                .await?;
        }
        Ok(())
    }

    /// Validates a chunk's events and stores its uncorrected ones; corrections wait for
    /// [`ImportService::correction_phase`].
    pub(crate) async fn plain_phase(
        &self,
        run: &mut Run,
        chunk: &[(usize, RawEvent)],
    ) -> Result<(), DomainError> {
        let mut firsts: HashMap<usize, EventFields> = HashMap::new();
        let mut to_store: Vec<(usize, EventFields)> = Vec::new();
        let mut repeats: Vec<(usize, EventFields)> = Vec::new();
        let mut fates: Vec<(usize, Fate)> = Vec::new();
        for (i, raw) in chunk {
            let Some(checked) = self.check(run, raw).await? else {
                continue;
            };
            if let Some(o) = raw_orgnr(raw) {
                run.health.entry(o).or_default().0 += 1;
            }
            let f = match checked {
                Err(r) => {
                    fates.push((*i, Fate::Rejected(r)));
                    continue;
                }
                Ok(f) => f,
            };
            let h = id_hash(&f.event_id);
            match run.first.get(&h).copied() {
                None => {
                    run.first.insert(h, (*i, f.corrects.is_some()));
                    if f.corrects.is_none() {
                        to_store.push((*i, f.clone()));
                    }
                    firsts.insert(*i, f);
                }
                // The same event id again in this delivery: a correction is judged in its
                // phase; a plain event against the first occurrence.
                Some(_) if f.corrects.is_some() => {}
                Some((_, true)) => fates.push((*i, Fate::Rejected(conflict()))),
                Some((j, false)) => match firsts.get(&j) {
                    Some(first) if first.same_delivery_as(&f) => {
                        fates.push((*i, Fate::Duplicate(self.first_effective(&run.ctx, &f))))
                    }
                    Some(_) => fates.push((*i, Fate::Rejected(conflict()))),
                    // The first is in an earlier chunk and stored by now: judge against it.
                    None => repeats.push((*i, f)),
                },
            }
        }

        // The day index first: a reader finds every stored event's day at every moment.
        let mut days: Touched = Touched::new();
        for (_, f) in &to_store {
            days.entry(self.ledger.company_key(&f.company_orgnr))
                .or_default()
                .insert(local_date(&f.occurred_at));
        }
        for (ck, d) in &days {
            self.ledger.note_days(ck, d).await?;
        }
        let ctx = run.ctx.clone();
        let chunks = self.transactions(to_store);
        let stored: Vec<Vec<(usize, Fate)>> = stream::iter(chunks)
            .map(|c| self.store_plain(&ctx, c))
            .buffer_unordered(run.parallel)
            .try_collect()
            .await?;
        fates.extend(stored.into_iter().flatten());
        for (i, f) in repeats {
            fates.push((i, self.judge_existing(&ctx, &f, false).await?));
        }

        let mut touched = Touched::new();
        for (i, fate) in fates {
            let raw = raw_at(chunk, i);
            self.apply(run, &mut touched, i, raw, fate);
        }
        self.mark(run, touched).await
    }

    /// Applies a chunk's corrections in delivery order (after every plain event of the
    /// delivery has been stored).
    pub(crate) async fn correction_phase(
        &self,
        run: &mut Run,
        chunk: &[(usize, RawEvent)],
    ) -> Result<(), DomainError> {
        let mut firsts: HashMap<usize, EventFields> = HashMap::new();
        let mut touched = Touched::new();
        let ctx = run.ctx.clone();
        for (i, raw) in chunk {
            let Some(Ok(f)) = self.check(run, raw).await? else {
                continue;
            };
            if f.corrects.is_none() {
                continue;
            }
            let (j, first_is_correction) = run
                .first
                .get(&id_hash(&f.event_id))
                .copied()
                .unwrap_or((*i, true));
            let fate = if j == *i {
                let fate = self.store_correction(&ctx, &f).await?;
                firsts.insert(*i, f);
                fate
            } else if !first_is_correction {
                Fate::Rejected(conflict())
            } else {
                match firsts.get(&j) {
                    Some(first) if first.same_delivery_as(&f) => {
                        Fate::Duplicate(self.first_effective(&ctx, &f))
                    }
                    Some(_) => Fate::Rejected(conflict()),
                    None => self.judge_existing(&ctx, &f, false).await?,
                }
            };
            self.apply(run, &mut touched, *i, raw, fate);
        }
        self.mark(run, touched).await
    }

    /// Notes the delivery's people, sites and partner health, and answers it.
    pub(crate) async fn finish(&self, run: &mut Run) -> Result<BatchAnswer, DomainError> {
        let people: Vec<(String, LedgerEvent)> = std::mem::take(&mut run.people)
            .into_iter()
            .map(|((ck, _), (_, e))| (ck, e))
            .collect();
        let sites: Vec<(String, String, Instant, Instant)> = std::mem::take(&mut run.sites)
            .into_iter()
            .map(|((ck, site), (first, last))| (ck, site, first, last))
            .collect();
        self.ledger.note_people_and_sites(&people, &sites).await?;
        // Delivery health per company that has activated Stamp.
        for (orgnr, (received, refused)) in std::mem::take(&mut run.health) {
            let active = run
                .activations
                .get(&orgnr)
                .and_then(Option::as_ref)
                .is_some_and(|a| run.active(a));
            if active {
                let ck = self.ledger.company_key(&orgnr);
                // Bookkeeping, not the delivery: its events are stored, so a failure here
                // does not fail the push (a rebuild derives the row again from the archive).
                if let Err(e) = self
                    .ledger
                    .note_delivery(
                        &ck,
                        &run.ctx.partner_id,
                        &run.ctx.batch_id,
                        received,
                        refused,
                        run.ctx.received_at,
                    )
                    .await
                {
                    tracing::warn!(partner_id = %run.ctx.partner_id, error = %e, "partner health not noted");
                }
            }
        }
        run.rejected.sort_by_key(|r| r.index);
        if let Some(cap) = run.rejected_cap {
            run.rejected.truncate(cap);
        }
        Ok(BatchAnswer {
            batch_id: run.ctx.batch_id.clone(),
            archive: ArchivedDelivery {
                key: run.ctx.archive_key.clone(),
                sha256: run.sha256.clone(),
            },
            accepted: run.accepted as u64,
            duplicates: run.duplicates as u64,
            rejected: std::mem::take(&mut run.rejected),
            rejected_count: run.rejected_cap.map(|_| run.rejected_total as u64),
        })
    }

    // --- streamed deliveries ------------------------------------------------------------

    /// Indexes an archived delivery by streaming it twice at most: the plain phase over
    /// every chunk, then (only if it holds any) the corrections phase.
    pub(crate) async fn index_archived(
        &self,
        run: &mut Run,
        key: &str,
        format: DeliveryFormat,
        rule: &OwnedRule,
    ) -> Result<(), DomainError> {
        let corrections = self
            .stream_phase(run, key, format, rule, StreamPhase::Plain)
            .await?;
        if corrections > 0 {
            self.stream_phase(run, key, format, rule, StreamPhase::Corrections)
                .await?;
        }
        Ok(())
    }

    /// One pass over an archived delivery; answers how many of its events name a
    /// `corrects`.
    async fn stream_phase(
        &self,
        run: &mut Run,
        key: &str,
        format: DeliveryFormat,
        rule: &OwnedRule,
        phase: StreamPhase,
    ) -> Result<usize, DomainError> {
        let object = self.archive.read(key).await?;
        let mut reading = read_chunks(object, format, rule.clone(), STREAM_CHUNK_EVENTS, phase);
        while let Some(chunk) = reading.chunks.recv().await {
            match phase {
                StreamPhase::Plain => self.plain_phase(run, &chunk).await?,
                StreamPhase::Corrections => self.correction_phase(run, &chunk).await?,
            }
        }
        let done = reading.finished().await?;
        match done.envelope {
            Ok(_) => {}
            Err(EnvelopeError::Aborted(why)) => {
                return Err(DomainError::Unavailable(format!(
                    "reading archived {key}: {why}"
                )))
            }
            Err(e) => {
                return Err(DomainError::Internal(format!(
                    "archived delivery {key} became unreadable: {e}"
                )))
            }
        }
        if done.sha256 != run.sha256 {
            return Err(DomainError::Internal(format!(
                "archived delivery {key} has sha256 {}, expected {}",
                done.sha256, run.sha256
            )));
        }
        Ok(done.corrections)
    }

    /// Replays one archived delivery into this service's (rebuilt) index: only the
    /// company's events, with the receipt's time, batch id and archive key, so the
    /// records come out as they were written when it was received.
    pub async fn replay(&self, receipt: &Receipt, company: &Orgnr) -> Result<(), DomainError> {
        let format = DeliveryFormat::parse(&receipt.format).ok_or_else(|| {
            DomainError::Internal(format!(
                "receipt names an unknown format {:?}",
                receipt.format
            ))
        })?;
        let rule = match format {
            DeliveryFormat::Json => OwnedRule::Declared(receipt.batch_id.clone()),
            _ => OwnedRule::Given(receipt.batch_id.clone()),
        };
        let mut run = Run::new(
            &receipt.partner_id,
            &receipt.batch_id,
            &receipt.sha256,
            receipt.received_at,
        )
        .streamed(0)
        .replaying(company.clone());
        run.set_archive_key(&receipt.archive_key);
        self.index_archived(&mut run, &receipt.archive_key, format, &rule)
            .await?;
        self.finish(&mut run).await?;
        Ok(())
    }

    // --- storing ------------------------------------------------------------------------

    fn record_of(ctx: &Ctx, f: &EventFields) -> EventRecord {
        EventRecord {
            partner_id: ctx.partner_id.clone(),
            fields: f.clone(),
            received_at: ctx.received_at,
            batch_id: ctx.batch_id.clone(),
            archive_key: ctx.archive_key.clone(),
        }
    }

    fn first_effective(&self, ctx: &Ctx, f: &EventFields) -> LedgerEvent {
        let person_ref = self
            .ledger
            .pseudonyms()
            .person_ref(&f.company_orgnr, &f.person);
        LedgerEvent::first(&Self::record_of(ctx, f), person_ref)
    }

    /// Groups new events into transactions as full as [`MAX_TRANSACTION_OPS`] allows
    /// ([`WRITES_PER_EVENT`] writes per event, [`WRITES_PER_DAY_CHUNK`] per (company, day)
    /// chunk, both counted where [`Ledger::new_events_ops`] writes them), by company
    /// and day so that each day's events share as few chunks as possible.
    fn transactions(
        &self,
        mut to_store: Vec<(usize, EventFields)>,
    ) -> Vec<Vec<(usize, EventFields)>> {
        let day = |f: &EventFields| (f.company_orgnr.to_string(), local_date(&f.occurred_at));
        to_store.sort_by_cached_key(|(i, f)| (day(f), *i));
        let mut out: Vec<Vec<(usize, EventFields)>> = Vec::new();
        let mut current: Vec<(usize, EventFields)> = Vec::new();
        let mut ops = 0;
        for (i, f) in to_store {
            let new_day = current.last().is_none_or(|(_, l)| day(l) != day(&f));
            let chunk = |starts: bool| if starts { WRITES_PER_DAY_CHUNK } else { 0 };
            let needs = WRITES_PER_EVENT + chunk(new_day);
            if ops + needs > MAX_TRANSACTION_OPS {
                out.push(std::mem::take(&mut current));
                ops = 0;
            }
            ops += WRITES_PER_EVENT + chunk(current.is_empty() || new_day);
            current.push((i, f));
        }
        if !current.is_empty() {
            out.push(current);
        }
        out
    }

    /// Stores uncorrected events in one transaction; events whose id is already taken
    /// are judged duplicate or conflicting, and the rest retried without them.
    async fn store_plain(
        &self,
        ctx: &Ctx,
        mut chunk: Vec<(usize, EventFields)>,
    ) -> Result<Vec<(usize, Fate)>, DomainError> {
        let mut out = Vec::new();
        while !chunk.is_empty() {
            let mut staged = Vec::new();
            let mut new = Vec::new();
            for (i, f) in &chunk {
                let record = Self::record_of(ctx, f);
                let event = self.first_effective(ctx, f);
                new.push((record, event.clone()));
                staged.push((*i, event));
            }
            let (ops, owners) = self.ledger.new_events_ops(&new)?;
            match self.ledger.transact(ops).await {
                Ok(()) => {
                    out.extend(staged.into_iter().map(|(i, e)| (i, Fate::Stored(e))));
                    return Ok(out);
                }
                Err(StoreError::ConditionFailed(failed)) => {
                    // A chunk fails with its events' records (its key is unique to the
                    // receipt and its first event): the records say which events are taken.
                    let mut taken: Vec<usize> = failed
                        .iter()
                        .filter_map(|op| owners.get(*op).copied().flatten())
                        .map(|e| staged[e].0)
                        .collect();
                    if taken.is_empty() {
                        return Err(DomainError::Internal(
                            "a day chunk of new events already exists".into(),
                        ));
                    }
                    taken.dedup();
                    for (i, f) in chunk.iter().filter(|(i, _)| taken.contains(i)) {
                        out.push((*i, self.judge_existing(ctx, f, true).await?));
                    }
                    chunk.retain(|(i, _)| !taken.contains(i));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(out)
    }

    /// An event id Stamp already holds: the same delivery again, or a conflict — or, when
    /// `resume` and the record was written by an interrupted run of this very delivery,
    /// stored after all.
    async fn judge_existing(
        &self,
        ctx: &Ctx,
        f: &EventFields,
        resume: bool,
    ) -> Result<Fate, DomainError> {
        match self.ledger.record(&ctx.partner_id, &f.event_id).await? {
            Some((existing, _)) if existing.fields.same_delivery_as(f) => {
                if resume
                    && existing.batch_id == ctx.batch_id
                    && existing.received_at == ctx.received_at
                {
                    Ok(Fate::Resumed(self.first_effective(ctx, f)))
                } else {
                    Ok(Fate::Duplicate(self.first_effective(ctx, f)))
                }
            }
            Some(_) => Ok(Fate::Rejected(conflict())),
            // Its record is absent but its effective state exists: an interrupted write
            // is not something to overwrite blindly.
            None => Ok(Fate::Rejected(conflict())),
        }
    }

    async fn store_correction(&self, ctx: &Ctx, f: &EventFields) -> Result<Fate, DomainError> {
        let corrects = f.corrects.as_deref().unwrap_or_default();
        let Some((target, root)) = self.ledger.record(&ctx.partner_id, corrects).await? else {
            return Ok(Fate::Rejected(Rejection::invalid(
                "corrects",
                "names no event Stamp holds from this partner",
            )));
        };
        if target.fields.company_orgnr != f.company_orgnr {
            return Ok(Fate::Rejected(Rejection::invalid(
                "corrects",
                "names an event of another company",
            )));
        }
        let record = Self::record_of(ctx, f);
        let person_ref = self
            .ledger
            .pseudonyms()
            .person_ref(&f.company_orgnr, &f.person);
        for _ in 0..10 {
            if let Some((existing, _)) = self.ledger.record(&ctx.partner_id, &f.event_id).await? {
                let ours =
                    existing.batch_id == ctx.batch_id && existing.received_at == ctx.received_at;
                if ours && existing.fields.same_delivery_as(f) {
                    if let Some(head) = self.ledger.head(&ctx.partner_id, &root).await? {
                        return Ok(Fate::Resumed(head.event));
                    }
                }
                return self.judge_existing(ctx, f, false).await;
            }
            let Some(head) = self.ledger.head(&ctx.partner_id, &root).await? else {
                return Err(DomainError::Internal(
                    "a corrected event has no effective state".into(),
                ));
            };
            let new = head.event.corrected_by(&record, person_ref.clone());
            let entry = CorrectionEntry {
                seq: new.corrections,
                partner_id: ctx.partner_id.clone(),
                event_id: f.event_id.clone(),
                corrects: corrects.to_string(),
                received_at: ctx.received_at,
                recorded_at: record.recorded_at(),
                recorded_by: f.recorded_by.clone(),
                source: f.source,
                void: f.void,
                batch_id: ctx.batch_id.clone(),
                changes: changes(&head.event, &new),
            };
            let ops: Vec<WriteOp> = self
                .ledger
                .correction_ops(&record, &root, &head, &new, &entry)?;
            match self.ledger.transact(ops).await {
                Ok(()) => {
                    return Ok(Fate::Corrected {
                        before: Box::new(head.event),
                        after: Box::new(new),
                    })
                }
                // Another correction of the same event landed first: read again and retry.
                Err(StoreError::ConditionFailed(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(DomainError::Unavailable(
            "the event is being corrected concurrently; retry".into(),
        ))
    }
}

/// The raw event at delivery index `i` of a chunk (chunks are in index order).
fn raw_at(chunk: &[(usize, RawEvent)], i: usize) -> &RawEvent {
    let at = chunk.binary_search_by_key(&i, |(k, _)| *k).unwrap_or(0);
    &chunk[at].1
}

/// Where a readable delivery is archived.
pub(crate) fn batch_key(
    partner_id: &str,
    received_at: DateTime<Utc>,
    batch_id: &str,
    sha256: &str,
    format: DeliveryFormat,
) -> String {
    format!(
        "batches/{partner_id}/{}/{}-{}.{}",
        received_at.format("%Y-%m-%d"),
        id_fragment(batch_id),
        &sha256[..16],
        format.extension()
    )
}

/// Where an unreadable delivery is archived (it has no batch id one could trust).
pub(crate) fn unreadable_key(
    partner_id: &str,
    received_at: DateTime<Utc>,
    sha256: &str,
    format: DeliveryFormat,
) -> String {
    format!(
        "batches/{partner_id}/{}/unreadable-{}.{}",
        received_at.format("%Y-%m-%d"),
        &sha256[..32],
        format.extension()
    )
}

pub(crate) fn envelope_error(e: EnvelopeError) -> DomainError {
    match e {
        EnvelopeError::Missing { field, reason } => DomainError::MissingField {
            field: field.into(),
            reason,
        },
        EnvelopeError::Malformed { field, reason } => DomainError::InvalidField {
            field: field.into(),
            reason,
        },
        EnvelopeError::TooManyEvents(n) => {
            DomainError::PayloadTooLarge(EnvelopeError::TooManyEvents(n).to_string())
        }
        EnvelopeError::Aborted(why) => DomainError::Unavailable(why),
    }
}

fn conflict() -> Rejection {
    Rejection {
        code: RejectionCode::EventConflict,
        field: "event_id".into(),
        message: "event_id: Stamp already holds this event with different content; it is never overwritten (send a correction instead)".into(),
    }
}

fn event_id_of(raw: &RawEvent) -> Option<String> {
    raw.as_ref()
        .ok()
        .and_then(|m| m.get("event_id"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// Retention for a delivery none of whose events could be read: the longest any event
/// received that day could need (a fiscal year can end in the following calendar year).
pub(crate) fn fallback_retention(received_at: DateTime<Utc>) -> NaiveDate {
    NaiveDate::from_ymd_opt(received_at.year() + 3, 12, 31).unwrap_or(NaiveDate::MAX)
}

/// What a correction changed, field by field, for the history view.
fn changes(old: &LedgerEvent, new: &LedgerEvent) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    let mut diff = |name: &str, a: Value, b: Value| {
        if a != b {
            m.insert(name.to_string(), json!({ "from": a, "to": b }));
        }
    };
    diff("person_ref", json!(old.person_ref), json!(new.person_ref));
    diff(
        "person_name",
        json!(old.person_name),
        json!(new.person_name),
    );
    diff("site_id", json!(old.site_id), json!(new.site_id));
    diff("direction", json!(old.direction), json!(new.direction));
    diff(
        "occurred_at",
        json!(format_rfc3339(&old.occurred_at)),
        json!(format_rfc3339(&new.occurred_at)),
    );
    diff("source", json!(old.source), json!(new.source));
    diff(
        "recorded_by",
        json!(old.recorded_by),
        json!(new.recorded_by),
    );
    diff(
        "card_number",
        json!(old.card_number),
        json!(new.card_number),
    );
    diff(
        "employer_orgnr",
        json!(old.employer_orgnr),
        json!(new.employer_orgnr),
    );
    diff(
        "company_name",
        json!(old.company_name),
        json!(new.company_name),
    );
    diff("withdrawn", json!(old.withdrawn), json!(new.withdrawn));
    m
}
