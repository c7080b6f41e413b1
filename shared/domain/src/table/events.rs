//! The records as delivered (create-only), a batch's kept answer, the effective head of
//! each event with its version, and corrections as new records.

use super::{
    created, day_key, day_pk, from_item, item_of, keys, legacy_site_key, nested, person_key,
    to_attrs, Ledger,
};
use crate::error::DomainError;
use crate::identity::PartnerId;
use crate::model::{EventRecord, LedgerEvent};
use crate::ports::{Condition, Item, SkRange, WriteOp};
use crate::time::Instant;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What Stamp answered to a batch, kept so that a replay gets the same answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchRecord {
    #[serde(deserialize_with = "PartnerId::deserialize_stored")]
    pub partner_id: PartnerId,
    pub batch_id: String,
    pub sha256: String,
    pub archive_key: String,
    pub received_at: DateTime<Utc>,
    pub answer: crate::intake::BatchAnswer,
}

/// A correction as history shows it: which record, when and by whom, what changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CorrectionEntry {
    pub seq: u32,
    #[schema(value_type = String)]
    #[serde(deserialize_with = "PartnerId::deserialize_stored")]
    pub partner_id: PartnerId,
    pub event_id: String,
    pub corrects: String,
    pub received_at: DateTime<Utc>,
    #[schema(value_type = String, format = DateTime)]
    pub recorded_at: Instant,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_by: Option<String>,
    pub source: crate::model::Source,
    pub void: bool,
    pub batch_id: String,
    /// field name → `{"from", "to"}` for each field the correction changed.
    #[schema(value_type = Object)]
    pub changes: serde_json::Map<String, Value>,
}

/// The effective state of an event, with its optimistic-concurrency version.
#[derive(Debug, Clone)]
pub struct Head {
    pub event: LedgerEvent,
    pub version: i64,
    /// Whether it is stored as an item of its own; `false`: nobody has corrected the
    /// event and its state is derived from its record.
    pub stored: bool,
}

/// Writes [`Ledger::new_events_ops`] makes per new event: its record and its person-timeline
/// entry (below). Beside them, one day chunk per (company, local day) of the transaction
/// ([`WRITES_PER_DAY_CHUNK`]). The import budgets its transactions with these.
pub const WRITES_PER_EVENT: usize = 2;
/// Writes per (company, local day) of a transaction of new events: the day chunk.
pub const WRITES_PER_DAY_CHUNK: usize = 1;

impl Ledger {
    // --- batches ----------------------------------------------------------------------

    pub async fn batch(
        &self,
        partner_id: &PartnerId,
        batch_id: &str,
    ) -> Result<Option<BatchRecord>, DomainError> {
        self.store
            .get(&keys::batch(partner_id, batch_id), keys::BATCH)
            .await?
            .map(|i| from_item(&i))
            .transpose()
    }

    /// Keeps a batch's answer; `false` if a concurrent delivery of it got there first.
    pub async fn save_batch(&self, b: &BatchRecord) -> Result<bool, DomainError> {
        let item = item_of(
            keys::batch(&b.partner_id, &b.batch_id),
            keys::BATCH.into(),
            b,
        )?;
        created(self.store.transact(vec![WriteOp::create(item)]).await)
    }

    // --- records and effective events -------------------------------------------------

    /// The record a partner delivered under `event_id`, with the root of its correction
    /// chain (its own id unless it is a correction).
    pub async fn record(
        &self,
        partner_id: &PartnerId,
        event_id: &str,
    ) -> Result<Option<(EventRecord, String)>, DomainError> {
        let Some(item) = self
            .store
            .get(&keys::event(partner_id, event_id), keys::RECORD)
            .await?
        else {
            return Ok(None);
        };
        let record: EventRecord = nested(&item, "record")?;
        let root = item
            .str("root")
            .map(str::to_string)
            .unwrap_or_else(|| record.fields.event_id.clone());
        Ok(Some((record, root)))
    }

    pub(super) fn record_item(record: &EventRecord, root: &str) -> Result<Item, DomainError> {
        Ok(Item::new(
            keys::event(&record.partner_id, &record.fields.event_id),
            keys::RECORD,
        )
        .with("record", Value::Object(to_attrs(record)?))
        .with("root", root.to_string()))
    }

    pub(super) fn event_item(pk: String, sk: String, e: &LedgerEvent) -> Result<Item, DomainError> {
        Ok(Item::new(pk, sk).with("event", Value::Object(to_attrs(e)?)))
    }

    /// The writes that store new (uncorrected) events in one transaction, with the
    /// event (index into `events`) each write belongs to — `None` for a chunk shared by
    /// several. Per new event, 2 items:
    /// - its record, created only if absent: the one condition that keeps an event id
    ///   from being taken twice (a retry of the delivery fails on it and is judged
    ///   against what is stored, so nothing doubles); while nobody corrects the event,
    ///   its effective state is derived from the record, not stored;
    /// - its entry in its person's timeline;
    ///
    /// and one *day chunk* per (company, local day) of the transaction, holding those
    /// events' day-timeline entries in one item (created only if absent; its key is
    /// unique to this receipt and first event). In DynamoDB capacity: 2 × 2 WCU per
    /// event plus 2 WCU per KB of chunk (≈ 0.6–0.8 KB per event) — ≈ 5.5 WCU where five
    /// items per event took ≈ 10.2.
    pub fn new_events_ops(
        &self,
        events: &[(EventRecord, LedgerEvent)],
    ) -> Result<(Vec<WriteOp>, Vec<Option<usize>>), DomainError> {
        let capacity = events.len() * WRITES_PER_EVENT + WRITES_PER_DAY_CHUNK;
        let mut ops = Vec::with_capacity(capacity);
        let mut owners = Vec::with_capacity(capacity);
        let mut chunks: std::collections::BTreeMap<String, Vec<&LedgerEvent>> =
            std::collections::BTreeMap::new();
        for (i, (record, event)) in events.iter().enumerate() {
            let ck = self.company_key(&event.company_orgnr);
            ops.push(WriteOp::create(Self::record_item(
                record,
                &record.fields.event_id,
            )?));
            owners.push(Some(i));
            let (pk, sk) = person_key(&ck, event);
            ops.push(WriteOp::put(Self::event_item(pk, sk, event)?));
            owners.push(Some(i));
            chunks
                .entry(day_pk(&ck, &event.occurred_at))
                .or_default()
                .push(event);
        }
        for (pk, mut events) in chunks {
            events.sort_by_cached_key(|e| keys::at(&e.occurred_at, &e.partner_id, &e.event_id));
            let first = keys::at(
                &events[0].occurred_at,
                &events[0].partner_id,
                &events[0].event_id,
            );
            let list = events
                .iter()
                .map(|e| to_attrs(e).map(Value::Object))
                .collect::<Result<Vec<_>, _>>()?;
            let sk = keys::day_chunk(&events[0].received_at, &first);
            ops.push(WriteOp::create(
                Item::new(pk, sk).with("events", Value::Array(list)),
            ));
            owners.push(None);
        }
        Ok((ops, owners))
    }

    pub async fn head(
        &self,
        partner_id: &PartnerId,
        event_id: &str,
    ) -> Result<Option<Head>, DomainError> {
        let pk = keys::event(partner_id, event_id);
        let (effective, record) = futures::try_join!(
            self.store.get(&pk, keys::EFFECTIVE),
            self.store.get(&pk, keys::RECORD),
        )?;
        if let Some(item) = effective {
            return Ok(Some(Head {
                event: nested(&item, "event")?,
                version: item.i64("version").unwrap_or(0),
                stored: true,
            }));
        }
        let Some(item) = record else {
            return Ok(None);
        };
        let record: EventRecord = nested(&item, "record")?;
        let person_ref = self
            .keys
            .person_ref(&record.fields.company_orgnr, &record.fields.person);
        Ok(Some(Head {
            event: LedgerEvent::first(&record, person_ref),
            version: 0,
            stored: false,
        }))
    }

    /// The writes that apply a correction: its record (operation 0, create-only), the
    /// root's new effective state (operation 1, only if still at `old.version`, or only
    /// if absent when it was derived from the record), the history entry, and the moved
    /// timeline entries: the person's, and the day's — the event's own entry there, and
    /// when its first version was in a day chunk, the mark that supersedes it.
    pub fn correction_ops(
        &self,
        record: &EventRecord,
        root: &str,
        old: &Head,
        new: &LedgerEvent,
        entry: &CorrectionEntry,
    ) -> Result<Vec<WriteOp>, DomainError> {
        let pk = keys::event(&new.partner_id, &new.event_id);
        let mut ops = vec![
            WriteOp::create(Self::record_item(record, root)?),
            WriteOp::Put {
                item: Self::event_item(pk.clone(), keys::EFFECTIVE.into(), new)?
                    .with("version", old.version + 1),
                condition: if old.stored {
                    Condition::AttrEquals("version".into(), Value::from(old.version))
                } else {
                    Condition::NotExists
                },
            },
            WriteOp::create(item_of(pk, keys::correction(entry.seq), entry)?),
        ];
        let old_ck = self.company_key(&old.event.company_orgnr);
        let new_ck = self.company_key(&new.company_orgnr);
        let mut old_keys = vec![person_key(&old_ck, &old.event)];
        if old.stored {
            old_keys.push(day_key(&old_ck, &old.event));
            old_keys.push(legacy_site_key(&old_ck, &old.event));
        } else {
            ops.push(WriteOp::put(Item::new(
                day_pk(&old_ck, &old.event.occurred_at),
                keys::superseded(&old.event.partner_id, &old.event.event_id),
            )));
        }
        let new_keys = [person_key(&new_ck, new), day_key(&new_ck, new)];
        for k in &old_keys {
            if !new_keys.contains(k) {
                ops.push(WriteOp::Delete {
                    pk: k.0.clone(),
                    sk: k.1.clone(),
                    condition: Condition::None,
                });
            }
        }
        for (pk, sk) in new_keys {
            ops.push(WriteOp::put(Self::event_item(pk, sk, new)?));
        }
        Ok(ops)
    }

    pub async fn corrections(
        &self,
        partner_id: &PartnerId,
        event_id: &str,
    ) -> Result<Vec<CorrectionEntry>, DomainError> {
        let items = self
            .store
            .query_all(
                &keys::event(partner_id, event_id),
                SkRange::Prefix(keys::CORRECTION_PREFIX.into()),
            )
            .await?;
        items.iter().map(from_item).collect()
    }
}
