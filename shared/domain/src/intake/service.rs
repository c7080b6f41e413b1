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

use super::directories::Listed;
use super::parse::{parse_delivery, DeliveryFormat, EnvelopeError, RawEvent, MAX_BATCH_BYTES};
use super::stream::{read_chunks, OwnedRule, StreamPhase};
use super::validate::{validate_event, within_bounds, Rejection, RejectionCode};
use crate::auth::{require_partner, Claims};
use crate::error::DomainError;
use crate::identity::pseudonym::sha256_hex;
use crate::identity::pseudonym::CompanyKey;
use crate::identity::pseudonym::PersonRef;
use crate::identity::Orgnr;
use crate::identity::PartnerId;
use crate::model::{Activation, LedgerEvent};
use crate::ports::{Archive, Clock};
use crate::table::{ArchivedEntry, Ledger};
use crate::time::{local_date, Instant};
use chrono::{DateTime, NaiveDate, Utc};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

mod answer;
mod batch;
mod phases;
mod store;

use super::survey::{raw_orgnr, Survey};
pub use answer::{
    receipt_key, ArchivedDelivery, BatchAnswer, ImportFailure, Receipt, Rejected, RECEIPTS_PREFIX,
    UPLOAD_REJECTED_LISTED,
};
pub(super) use store::{batch_key, envelope_error, fallback_retention, unreadable_key};
use store::{conflict, event_id_of, raw_at};

const PARALLEL_TRANSACTIONS: usize = 4;
/// Uploads and replays keep as many transactions in flight as pushes: more buys little
/// on DynamoDB (a 500,000-event upload is ~25,000 transactions, minutes at this pace,
/// well within the function's 15) and makes DynamoDB Local time out on its locks.
pub(crate) const STREAM_PARALLEL_TRANSACTIONS: usize = PARALLEL_TRANSACTIONS;
/// Events per chunk when a delivery is streamed from the archive.
pub const STREAM_CHUNK_EVENTS: usize = 1000;
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
    partner_id: PartnerId,
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
    people: BTreeMap<(CompanyKey, PersonRef), (usize, LedgerEvent)>,
    sites: BTreeMap<(CompanyKey, String), (Instant, Instant)>,
    /// What the run wrote to the directories before storing events.
    listed: Listed,
    /// Events received and refused per named company (kept for activated ones).
    health: BTreeMap<Orgnr, (u64, u64)>,
}

impl Run {
    pub(crate) fn new(
        partner_id: &PartnerId,
        batch_id: &str,
        sha256: &str,
        received_at: DateTime<Utc>,
    ) -> Self {
        Run {
            ctx: Ctx {
                partner_id: partner_id.clone(),
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
            listed: Listed::default(),
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
type Touched = BTreeMap<CompanyKey, BTreeSet<NaiveDate>>;

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
        let partner_id = require_partner(claims)?;
        self.require_accredited(&partner_id).await?;
        if body.len() > MAX_BATCH_BYTES {
            return Err(DomainError::PayloadTooLarge(format!(
                "the body is {} bytes; at most {MAX_BATCH_BYTES} may be pushed, larger deliveries go through /partner/v1/uploads",
                body.len()
            )));
        }
        self.import(&partner_id, format, body, batch_id_param).await
    }

    pub(crate) async fn require_accredited(
        &self,
        partner_id: &PartnerId,
    ) -> Result<(), DomainError> {
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
        partner_id: &PartnerId,
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
        partner_id: &PartnerId,
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
                tracing::info!(partner_id = %partner_id, archive_key = %key, "unreadable delivery archived and refused");
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
}
