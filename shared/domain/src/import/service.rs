//! The import path every delivery takes (push now; uploads and pulls later): archive the
//! exact bytes first, then validate each event on its own and index the valid ones.

use super::parse::{parse_delivery, DeliveryFormat, EnvelopeError, MAX_BATCH_BYTES};
use super::validate::{validate_event, Rejection, RejectionCode};
use crate::auth::{require_partner, Claims};
use crate::error::DomainError;
use crate::identity::Orgnr;
use crate::ledger::{BatchRecord, CorrectionEntry, Ledger};
use crate::model::{Activation, EventFields, EventRecord, LedgerEvent};
use crate::ports::{Archive, Clock, StoreError, WriteOp};
use crate::privacy::{id_fragment, sha256_hex};
use crate::retention::{retention_until, FiscalYearEnd};
use crate::time::{format_rfc3339, local_date};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use futures::stream::{self, StreamExt, TryStreamExt};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// New events per transaction: each takes 5 operations (record, effective state, three
/// timeline entries), and a transaction holds at most 100.
const EVENTS_PER_TRANSACTION: usize = 20;
const PARALLEL_TRANSACTIONS: usize = 4;

/// The answer to a delivery, kept so that a replay gets exactly the same one.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchAnswer {
    pub status: u16,
    pub body: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejected {
    pub index: usize,
    pub event_id: Option<String>,
    pub code: RejectionCode,
    pub field: String,
    pub message: String,
}

#[derive(Clone)]
pub struct ImportService {
    ledger: Ledger,
    archive: Arc<dyn Archive>,
    clock: Arc<dyn Clock>,
}

/// What became of one valid event.
enum Fate {
    Stored(LedgerEvent),
    /// A correction: the event as it stood before and after.
    Corrected {
        before: Box<LedgerEvent>,
        after: Box<LedgerEvent>,
    },
    Duplicate(LedgerEvent),
    Rejected(Rejection),
}

impl ImportService {
    pub fn new(ledger: Ledger, archive: Arc<dyn Archive>, clock: Arc<dyn Clock>) -> Self {
        ImportService {
            ledger,
            archive,
            clock,
        }
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
        match self.ledger.partner(&partner_id).await? {
            None => {
                return Err(DomainError::Forbidden(
                    "the partner is not accredited by Stamp".into(),
                ))
            }
            Some(p) if p.suspended => {
                return Err(DomainError::Forbidden(
                    "the partner's accreditation is suspended".into(),
                ))
            }
            Some(_) => {}
        }
        if body.len() > MAX_BATCH_BYTES {
            return Err(DomainError::PayloadTooLarge(format!(
                "the body is {} bytes; at most {MAX_BATCH_BYTES} may be pushed, larger deliveries go through /partner/v1/uploads",
                body.len()
            )));
        }
        self.import(&partner_id, format, body, batch_id_param).await
    }

    /// The shared path of every delivery from an accredited partner.
    pub async fn import(
        &self,
        partner_id: &str,
        format: DeliveryFormat,
        body: &[u8],
        batch_id_param: Option<&str>,
    ) -> Result<BatchAnswer, DomainError> {
        let received_at = self.clock.now();
        let sha256 = sha256_hex(body);
        let delivery = match parse_delivery(format, body, batch_id_param) {
            Ok(d) => d,
            Err(EnvelopeError::TooManyEvents(n)) => {
                return Err(DomainError::PayloadTooLarge(
                    EnvelopeError::TooManyEvents(n).to_string(),
                ))
            }
            Err(e) => {
                // Even an unreadable delivery is kept as it came: it is what the partner sent.
                let key = format!(
                    "batches/{partner_id}/{}/unreadable-{}.{}",
                    received_at.format("%Y-%m-%d"),
                    &sha256[..32],
                    format.extension()
                );
                self.archive
                    .put(
                        &key,
                        body,
                        format.content_type(),
                        fallback_retention(received_at),
                    )
                    .await?;
                tracing::info!(partner_id, archive_key = %key, "unreadable delivery archived and refused");
                return Err(match e {
                    EnvelopeError::Missing { field, reason } => DomainError::MissingField {
                        field: field.into(),
                        reason,
                    },
                    EnvelopeError::Malformed { field, reason } => DomainError::InvalidField {
                        field: field.into(),
                        reason,
                    },
                    EnvelopeError::TooManyEvents(_) => unreachable!("handled above"),
                });
            }
        };
        let batch_id = delivery.batch_id.clone();

        if let Some(previous) = self.ledger.batch(partner_id, &batch_id).await? {
            return if previous.sha256 == sha256 {
                Ok(BatchAnswer {
                    status: previous.status,
                    body: previous.answer,
                })
            } else {
                Err(DomainError::Conflict {
                    code: "batch_conflict",
                    detail: format!(
                        "batch_id {batch_id:?} was delivered before with different content (sha256 {}); a batch is never replaced",
                        previous.sha256
                    ),
                })
            };
        }

        // Validate each event on its own, and look up each company's activation once.
        let mut activations: HashMap<Orgnr, Option<Activation>> = HashMap::new();
        let mut checked: Vec<Result<EventFields, Rejection>> =
            Vec::with_capacity(delivery.events.len());
        for raw in &delivery.events {
            let fields = match raw {
                Err(reason) => Err(Rejection::invalid("event", reason)),
                Ok(m) => validate_event(m),
            };
            if let Ok(f) = &fields {
                if !activations.contains_key(&f.company_orgnr) {
                    let a = self.ledger.activation(&f.company_orgnr).await?;
                    activations.insert(f.company_orgnr.clone(), a.filter(Activation::is_active));
                }
            }
            checked.push(
                fields.and_then(|f| match activations.get(&f.company_orgnr) {
                    Some(Some(_)) => Ok(f),
                    _ => Err(Rejection {
                        code: RejectionCode::CompanyNotActivated,
                        field: "company_orgnr".into(),
                        message: "company_orgnr: the company has not activated Stamp".into(),
                    }),
                }),
            );
        }

        // Archive first: the locked copy must outlive every event it holds.
        let retain_until = checked
            .iter()
            .filter_map(|c| c.as_ref().ok())
            .map(|f| {
                let fy = activations
                    .get(&f.company_orgnr)
                    .and_then(|a| a.as_ref())
                    .and_then(|a| FiscalYearEnd::new(a.fiscal_year_end_month).ok())
                    .unwrap_or_default();
                retention_until(local_date(&f.occurred_at), fy)
            })
            .max()
            .unwrap_or_else(|| fallback_retention(received_at));
        let archive_key = format!(
            "batches/{partner_id}/{}/{}-{}.{}",
            received_at.format("%Y-%m-%d"),
            id_fragment(&batch_id),
            &sha256[..16],
            format.extension()
        );
        let archived = self
            .archive
            .put(&archive_key, body, format.content_type(), retain_until)
            .await?;

        let ctx = Ctx {
            partner_id,
            batch_id: &batch_id,
            archive_key: &archived.key,
            received_at,
        };
        let fates = self.store_events(&ctx, checked).await?;

        let mut accepted = 0usize;
        let mut duplicates = 0usize;
        let mut rejected = Vec::new();
        let mut noted = Vec::new();
        let mut touched: BTreeMap<String, BTreeSet<NaiveDate>> = BTreeMap::new();
        let mut touch = |e: &LedgerEvent| {
            touched
                .entry(self.ledger.company_key(&e.company_orgnr))
                .or_default()
                .insert(local_date(&e.occurred_at));
        };
        for (index, fate) in fates.into_iter().enumerate() {
            match fate {
                Fate::Stored(e) => {
                    accepted += 1;
                    touch(&e);
                    noted.push(e);
                }
                Fate::Corrected { before, after } => {
                    accepted += 1;
                    touch(&before);
                    touch(&after);
                    noted.push(*after);
                }
                Fate::Duplicate(e) => {
                    duplicates += 1;
                    noted.push(e);
                }
                Fate::Rejected(r) => rejected.push(Rejected {
                    index,
                    event_id: event_id_of(&delivery.events[index]),
                    code: r.code,
                    field: r.field,
                    message: r.message,
                }),
            }
        }
        self.ledger.note_in_directories(&noted).await?;
        let marker = format!("{partner_id}:{batch_id}:{sha256}");
        for (ck, days) in touched {
            self.ledger
                .mark_dirty(&ck, &days.into_iter().collect::<Vec<_>>(), &marker)
                .await?;
        }
        // Delivery health per company that has activated Stamp.
        let refused_at: BTreeSet<usize> = rejected.iter().map(|r| r.index).collect();
        let mut health: BTreeMap<Orgnr, (u64, u64)> = BTreeMap::new();
        for (i, raw) in delivery.events.iter().enumerate() {
            let Some(orgnr) = raw
                .as_ref()
                .ok()
                .and_then(|m| m.get("company_orgnr"))
                .and_then(Value::as_str)
                .and_then(|o| Orgnr::parse(o).ok())
            else {
                continue;
            };
            if !matches!(activations.get(&orgnr), Some(Some(_))) {
                continue;
            }
            let h = health.entry(orgnr).or_default();
            h.0 += 1;
            if refused_at.contains(&i) {
                h.1 += 1;
            }
        }
        for (orgnr, (received, refused)) in health {
            let ck = self.ledger.company_key(&orgnr);
            self.ledger
                .note_delivery(&ck, partner_id, received, refused, received_at)
                .await?;
        }

        let answer = json!({
            "batch_id": batch_id,
            "archive": { "key": archived.key, "sha256": archived.sha256 },
            "accepted": accepted,
            "duplicates": duplicates,
            "rejected": rejected,
        });
        let record = BatchRecord {
            partner_id: partner_id.to_string(),
            batch_id: batch_id.clone(),
            sha256,
            archive_key: archived.key.clone(),
            received_at,
            status: 200,
            answer: answer.clone(),
        };
        if !self.ledger.save_batch(&record).await? {
            // A concurrent delivery of the same batch id answered first; answer as it did.
            if let Some(first) = self.ledger.batch(partner_id, &batch_id).await? {
                if first.sha256 == record.sha256 {
                    return Ok(BatchAnswer {
                        status: first.status,
                        body: first.answer,
                    });
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
            partner_id,
            archive_key = %archived.key,
            accepted,
            duplicates,
            rejected = rejected.len(),
            "batch imported"
        );
        Ok(BatchAnswer {
            status: 200,
            body: answer,
        })
    }

    async fn store_events(
        &self,
        ctx: &Ctx<'_>,
        checked: Vec<Result<EventFields, Rejection>>,
    ) -> Result<Vec<Fate>, DomainError> {
        let mut fates: Vec<Option<Fate>> = Vec::with_capacity(checked.len());
        let mut first_in_batch: HashMap<&str, usize> = HashMap::new();
        let mut plain = Vec::new();
        let mut corrections = Vec::new();
        for (i, c) in checked.iter().enumerate() {
            match c {
                Err(r) => fates.push(Some(Fate::Rejected(r.clone()))),
                Ok(f) => {
                    // The same event twice in one batch: judge the repeat against the first.
                    if let Some(&j) = first_in_batch.get(f.event_id.as_str()) {
                        let Ok(first) = &checked[j] else {
                            unreachable!("only valid events are noted")
                        };
                        fates.push(Some(if first.same_delivery_as(f) {
                            Fate::Duplicate(self.first_effective(ctx, f))
                        } else {
                            Fate::Rejected(conflict())
                        }));
                        continue;
                    }
                    first_in_batch.insert(&f.event_id, i);
                    fates.push(None);
                    if f.corrects.is_some() {
                        corrections.push(i);
                    } else {
                        plain.push(i);
                    }
                }
            }
        }

        let chunks: Vec<Vec<usize>> = plain
            .chunks(EVENTS_PER_TRANSACTION)
            .map(<[usize]>::to_vec)
            .collect();
        let results: Vec<Vec<(usize, Fate)>> = stream::iter(chunks)
            .map(|chunk| self.store_plain(ctx, &checked, chunk))
            .buffer_unordered(PARALLEL_TRANSACTIONS)
            .try_collect()
            .await?;
        for (i, fate) in results.into_iter().flatten() {
            fates[i] = Some(fate);
        }
        // Corrections in delivery order: the latest received is the one that counts.
        for i in corrections {
            let Ok(f) = &checked[i] else { continue };
            fates[i] = Some(self.store_correction(ctx, f).await?);
        }
        Ok(fates
            .into_iter()
            .map(|f| {
                f.unwrap_or_else(|| {
                    Fate::Rejected(Rejection::invalid("event", "was not processed"))
                })
            })
            .collect())
    }

    fn record_of(ctx: &Ctx<'_>, f: &EventFields) -> EventRecord {
        EventRecord {
            partner_id: ctx.partner_id.to_string(),
            fields: f.clone(),
            received_at: ctx.received_at,
            batch_id: ctx.batch_id.to_string(),
            archive_key: ctx.archive_key.to_string(),
        }
    }

    fn first_effective(&self, ctx: &Ctx<'_>, f: &EventFields) -> LedgerEvent {
        let person_ref = self
            .ledger
            .pseudonyms()
            .person_ref(&f.company_orgnr, &f.person);
        LedgerEvent::first(&Self::record_of(ctx, f), person_ref)
    }

    /// Stores uncorrected events in one transaction; events whose id is already taken
    /// are judged duplicate or conflicting, and the rest retried without them.
    async fn store_plain(
        &self,
        ctx: &Ctx<'_>,
        checked: &[Result<EventFields, Rejection>],
        mut chunk: Vec<usize>,
    ) -> Result<Vec<(usize, Fate)>, DomainError> {
        let mut out = Vec::new();
        while !chunk.is_empty() {
            let mut ops = Vec::new();
            let mut staged = Vec::new();
            for &i in &chunk {
                let Ok(f) = &checked[i] else { continue };
                let record = Self::record_of(ctx, f);
                let event = self.first_effective(ctx, f);
                ops.extend(self.ledger.new_event_ops(&record, &event)?);
                staged.push((i, event));
            }
            let per_event = ops.len() / staged.len().max(1);
            match self.ledger.transact(ops).await {
                Ok(()) => {
                    out.extend(staged.into_iter().map(|(i, e)| (i, Fate::Stored(e))));
                    return Ok(out);
                }
                Err(StoreError::ConditionFailed(failed)) => {
                    let mut taken: Vec<usize> =
                        failed.iter().map(|op| staged[op / per_event].0).collect();
                    taken.dedup();
                    for &i in &taken {
                        let Ok(f) = &checked[i] else { continue };
                        out.push((i, self.judge_existing(ctx, f).await?));
                    }
                    chunk.retain(|i| !taken.contains(i));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(out)
    }

    /// An event id Stamp already holds: the same delivery again, or a conflict.
    async fn judge_existing(&self, ctx: &Ctx<'_>, f: &EventFields) -> Result<Fate, DomainError> {
        match self.ledger.record(ctx.partner_id, &f.event_id).await? {
            Some((existing, _)) if existing.fields.same_delivery_as(f) => {
                Ok(Fate::Duplicate(self.first_effective(ctx, f)))
            }
            Some(_) => Ok(Fate::Rejected(conflict())),
            // Its record is absent but its effective state exists: an interrupted write
            // is not something to overwrite blindly.
            None => Ok(Fate::Rejected(conflict())),
        }
    }

    async fn store_correction(&self, ctx: &Ctx<'_>, f: &EventFields) -> Result<Fate, DomainError> {
        let corrects = f.corrects.as_deref().unwrap_or_default();
        let Some((target, root)) = self.ledger.record(ctx.partner_id, corrects).await? else {
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
            if self
                .ledger
                .record(ctx.partner_id, &f.event_id)
                .await?
                .is_some()
            {
                return self.judge_existing(ctx, f).await;
            }
            let Some(head) = self.ledger.head(ctx.partner_id, &root).await? else {
                return Err(DomainError::Internal(
                    "a corrected event has no effective state".into(),
                ));
            };
            let new = head.event.corrected_by(&record, person_ref.clone());
            let entry = CorrectionEntry {
                seq: new.corrections,
                partner_id: ctx.partner_id.to_string(),
                event_id: f.event_id.clone(),
                corrects: corrects.to_string(),
                received_at: ctx.received_at,
                recorded_at: record.recorded_at(),
                recorded_by: f.recorded_by.clone(),
                source: f.source,
                void: f.void,
                batch_id: ctx.batch_id.to_string(),
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

struct Ctx<'a> {
    partner_id: &'a str,
    batch_id: &'a str,
    archive_key: &'a str,
    received_at: DateTime<Utc>,
}

fn conflict() -> Rejection {
    Rejection {
        code: RejectionCode::EventConflict,
        field: "event_id".into(),
        message: "event_id: Stamp already holds this event with different content; it is never overwritten (send a correction instead)".into(),
    }
}

fn event_id_of(raw: &super::parse::RawEvent) -> Option<String> {
    raw.as_ref()
        .ok()
        .and_then(|m| m.get("event_id"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// Retention for a delivery none of whose events could be read: the longest any event
/// received that day could need (a fiscal year can end in the following calendar year).
fn fallback_retention(received_at: DateTime<Utc>) -> NaiveDate {
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
