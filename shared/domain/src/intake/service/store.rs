//! Storing the events themselves: their records and effective heads, grouped into
//! transactions within the store's limit, and judging an event id already taken.

use super::{
    Ctx, DeliveryFormat, EnvelopeError, Fate, ImportService, RawEvent, Rejection, RejectionCode,
};
use crate::error::DomainError;
use crate::identity::pseudonym::id_fragment;
use crate::identity::PartnerId;
use crate::model::{EventFields, EventRecord, LedgerEvent};
use crate::ports::{StoreError, WriteOp, MAX_TRANSACTION_OPS};
use crate::table::CorrectionEntry;
use crate::table::{WRITES_PER_DAY_CHUNK, WRITES_PER_EVENT};
use crate::time::{format_rfc3339, local_date};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde_json::{json, Value};

/// The raw event at delivery index `i` of a chunk (chunks are in index order).
pub(super) fn raw_at(chunk: &[(usize, RawEvent)], i: usize) -> &RawEvent {
    let at = chunk.binary_search_by_key(&i, |(k, _)| *k).unwrap_or(0);
    &chunk[at].1
}

/// Where a readable delivery is archived.
pub(crate) fn batch_key(
    partner_id: &PartnerId,
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
    partner_id: &PartnerId,
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

pub(super) fn conflict() -> Rejection {
    Rejection {
        code: RejectionCode::EventConflict,
        field: "event_id".into(),
        message: "event_id: Stamp already holds this event with different content; it is never overwritten (send a correction instead)".into(),
    }
}

pub(super) fn event_id_of(raw: &RawEvent) -> Option<String> {
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
pub(super) fn changes(old: &LedgerEvent, new: &LedgerEvent) -> serde_json::Map<String, Value> {
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

impl ImportService {
    // --- storing ------------------------------------------------------------------------

    pub(super) fn record_of(ctx: &Ctx, f: &EventFields) -> EventRecord {
        EventRecord {
            partner_id: ctx.partner_id.clone(),
            fields: f.clone(),
            received_at: ctx.received_at,
            batch_id: ctx.batch_id.clone(),
            archive_key: ctx.archive_key.clone(),
        }
    }

    pub(super) fn first_effective(&self, ctx: &Ctx, f: &EventFields) -> LedgerEvent {
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
    pub(super) fn transactions(
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
    pub(super) async fn store_plain(
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
    pub(super) async fn judge_existing(
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

    pub(super) async fn store_correction(
        &self,
        ctx: &Ctx,
        f: &EventFields,
    ) -> Result<Fate, DomainError> {
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
