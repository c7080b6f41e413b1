//! The ledger's records and indexes on an [`ItemStore`]: one repository that knows the
//! keys and item shapes, used by import and queries alike.

mod extracts;
mod ingest;
mod inspections;
pub mod keys;

pub use ingest::{FeedCursor, PullStatus, Upload, UploadStatus};

use crate::error::DomainError;
use crate::identity::Orgnr;
use crate::model::{Activation, EventRecord, LedgerEvent, Partner};
use crate::pagination::{Cursor, Page};
use crate::ports::{Condition, Item, ItemStore, Query, SkRange, StoreError, WriteOp};
use crate::identity::pseudonym::PseudonymKey;
use crate::time::{local_date, sortable, Instant};
use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;

/// How many partitions one answer reads at once (day partitions, person timelines,
/// companies, correction histories): enough that a month of days is one round trip,
/// bounded so that one request cannot flood the table or the connection pool.
pub const PARTITION_READS: usize = 48;

/// A user's roles in one company, as the company_admin granted them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grant {
    pub sub: String,
    pub roles: Vec<String>,
    pub granted_at: DateTime<Utc>,
    pub granted_by: String,
}

/// What Stamp answered to a batch, kept so that a replay gets the same answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchRecord {
    pub partner_id: String,
    pub batch_id: String,
    pub sha256: String,
    pub archive_key: String,
    pub received_at: DateTime<Utc>,
    pub answer: crate::intake::BatchAnswer,
}

/// One entry in a person's directory of a company.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonEntry {
    pub person_ref: String,
    pub person_name: String,
    pub person_id_masked: String,
    pub person: crate::identity::PersonId,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteEntry {
    pub site_id: String,
    pub first_seen: Instant,
    pub last_seen: Instant,
}

/// An archived object as the retention purge sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArchivedEntry {
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    pub retain_until: chrono::NaiveDate,
    /// Company keys whose events it holds, with the first and last local day of each.
    pub companies: Vec<(String, chrono::NaiveDate, chrono::NaiveDate)>,
    /// `(partner_id, batch_id)` of the batch answer kept with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<(String, String)>,
}

/// A legal hold: data it covers is not purged, whatever its retention.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LegalHold {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Instant>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Instant>,
    pub reason: String,
    pub placed_by: String,
    pub placed_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifted_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifted_at: Option<DateTime<Utc>>,
}

impl LegalHold {
    pub fn active(&self) -> bool {
        self.lifted_at.is_none()
    }

    /// Whether this hold keeps an event.
    pub fn covers(&self, e: &LedgerEvent) -> bool {
        self.active()
            && self
                .site_id
                .as_deref()
                .is_none_or(|s| s == e.site_id.as_str())
            && self.person_ref.as_deref().is_none_or(|p| p == e.person_ref)
            && self.from.is_none_or(|f| e.occurred_at >= f)
            && self.to.is_none_or(|t| e.occurred_at < t)
    }

    /// Whether this hold may cover anything in local days `[first, last]` (for archived
    /// deliveries, whose events are not read one by one: any overlap keeps them).
    pub fn may_cover_days(&self, first: chrono::NaiveDate, last: chrono::NaiveDate) -> bool {
        self.active()
            && self.from.is_none_or(|f| local_date(&f) <= last)
            && self.to.is_none_or(|t| local_date(&t) >= first)
    }
}

/// A correction as history shows it: which record, when and by whom, what changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CorrectionEntry {
    pub seq: u32,
    pub partner_id: String,
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

fn to_attrs<T: Serialize>(value: &T) -> Result<serde_json::Map<String, Value>, DomainError> {
    match serde_json::to_value(value) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(DomainError::Internal("item body must be an object".into())),
        Err(e) => Err(DomainError::Internal(format!("cannot encode item: {e}"))),
    }
}

pub(crate) fn item_of<T: Serialize>(
    pk: String,
    sk: String,
    value: &T,
) -> Result<Item, DomainError> {
    Ok(Item {
        pk,
        sk,
        attrs: to_attrs(value)?,
    })
}

pub(crate) fn from_item<T: DeserializeOwned>(item: &Item) -> Result<T, DomainError> {
    serde_json::from_value(Value::Object(item.attrs.clone())).map_err(|e| {
        DomainError::Internal(format!(
            "stored item {}/{} is unreadable: {e}",
            item.pk, item.sk
        ))
    })
}

fn nested<T: DeserializeOwned>(item: &Item, attr: &str) -> Result<T, DomainError> {
    let v = item.attrs.get(attr).cloned().ok_or_else(|| {
        DomainError::Internal(format!("stored item {}/{} lacks {attr}", item.pk, item.sk))
    })?;
    serde_json::from_value(v).map_err(|e| {
        DomainError::Internal(format!(
            "stored item {}/{} is unreadable: {e}",
            item.pk, item.sk
        ))
    })
}

/// An effective event's entry in its person's timeline.
fn person_key(ck: &str, e: &LedgerEvent) -> (String, String) {
    (
        keys::person_timeline(ck, &e.person_ref),
        keys::at(&e.occurred_at, &e.partner_id, &e.event_id),
    )
}

/// The partition of the local day an event falls on.
fn day_pk(ck: &str, at: &Instant) -> String {
    keys::day_timeline(ck, &local_date(at).to_string())
}

/// A corrected event's own entry in its day's timeline (an uncorrected one is in a
/// day chunk instead).
fn day_key(ck: &str, e: &LedgerEvent) -> (String, String) {
    (
        day_pk(ck, &e.occurred_at),
        keys::at(&e.occurred_at, &e.partner_id, &e.event_id),
    )
}

/// Where an event stood in the site timelines that older versions of Stamp wrote.
fn legacy_site_key(ck: &str, e: &LedgerEvent) -> (String, String) {
    (
        keys::site_timeline(ck, e.site_id.as_str()),
        keys::at(&e.occurred_at, &e.partner_id, &e.event_id),
    )
}

/// The events of one day partition, in timeline order: the chunked first versions not
/// superseded by a correction, and the entries of their own (corrected events, and
/// events stored before chunks were written). Each event appears once.
fn day_partition_events(items: &[Item]) -> Result<Vec<LedgerEvent>, DomainError> {
    let superseded: std::collections::HashSet<&str> = items
        .iter()
        .filter(|i| i.sk.starts_with(keys::SUPERSEDED_PREFIX))
        .map(|i| i.sk.as_str())
        .collect();
    let mut out = Vec::new();
    for i in items {
        if i.sk.starts_with(keys::DAY_CHUNK_PREFIX) {
            let events: Vec<LedgerEvent> = nested(i, "events")?;
            out.extend(events.into_iter().filter(|e| {
                !superseded.contains(keys::superseded(&e.partner_id, &e.event_id).as_str())
            }));
        } else if !i.sk.starts_with(keys::SUPERSEDED_PREFIX) {
            out.push(nested(i, "event")?);
        }
    }
    out.sort_by_cached_key(|e| keys::at(&e.occurred_at, &e.partner_id, &e.event_id));
    Ok(out)
}

/// A partner's delivery health for one company (statistics' `partners`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartnerHealth {
    pub partner_id: String,
    pub events_received: i64,
    pub events_rejected: i64,
    /// RFC 3339, as written.
    pub last_delivery: Option<String>,
    /// Since when the partner is silent for the company (spec §11); `None` when it is not.
    pub silent_since: Option<DateTime<Utc>>,
    #[serde(skip)]
    last_at: Option<DateTime<Utc>>,
    #[serde(skip)]
    last_events_at: Option<DateTime<Utc>>,
    #[serde(skip)]
    delivery_days: std::collections::BTreeSet<chrono::NaiveDate>,
}

#[derive(Clone)]
pub struct Ledger {
    store: Arc<dyn ItemStore>,
    keys: PseudonymKey,
}

impl Ledger {
    pub fn new(store: Arc<dyn ItemStore>, keys: PseudonymKey) -> Self {
        Ledger { store, keys }
    }

    /// The item store itself, for services that keep their own items (notifications).
    pub fn store(&self) -> &Arc<dyn ItemStore> {
        &self.store
    }

    pub fn pseudonyms(&self) -> &PseudonymKey {
        &self.keys
    }

    pub fn company_key(&self, orgnr: &Orgnr) -> String {
        self.keys.company_key(orgnr)
    }

    async fn page<T: DeserializeOwned>(
        &self,
        pk: String,
        range: SkRange,
        cursor: Option<&Cursor>,
        limit: usize,
        filter: Option<(String, String)>,
    ) -> Result<Page<T>, DomainError> {
        let mut found: Vec<Item> = Vec::new();
        let mut q = Query::new(pk, range);
        q.start_after = cursor.map(|c| c.key.clone());
        q.filter_contains = filter;
        // Read one item past the page so that `next_cursor` is only given when more
        // follow; a filter may thin pages out, so keep reading until full or done.
        loop {
            q.limit = limit + 1 - found.len();
            let page = self.store.query(q.clone()).await?;
            found.extend(page.items);
            match page.last_sk {
                Some(sk) if found.len() <= limit => q.start_after = Some(sk),
                _ => break,
            }
        }
        let next = (found.len() > limit).then(|| Cursor::after(found[limit - 1].sk.clone()));
        found.truncate(limit);
        let items = found.iter().map(from_item).collect::<Result<Vec<T>, _>>()?;
        Ok(Page { items, next })
    }

    // --- partners -------------------------------------------------------------------

    /// Accredits a partner; `false` if the id is taken.
    pub async fn create_partner(&self, p: &Partner) -> Result<bool, DomainError> {
        let item = item_of(keys::PARTNERS.into(), p.partner_id.clone(), p)?;
        created(self.store.transact(vec![WriteOp::create(item)]).await)
    }

    pub async fn partner(&self, partner_id: &str) -> Result<Option<Partner>, DomainError> {
        self.store
            .get(keys::PARTNERS, partner_id)
            .await?
            .map(|i| from_item(&i))
            .transpose()
    }

    pub async fn partners(
        &self,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> Result<Page<Partner>, DomainError> {
        self.page(keys::PARTNERS.into(), SkRange::All, cursor, limit, None)
            .await
    }

    // --- companies --------------------------------------------------------------------

    pub async fn activation(&self, orgnr: &Orgnr) -> Result<Option<Activation>, DomainError> {
        let ck = self.company_key(orgnr);
        self.store
            .get(&keys::company(&ck), keys::ACTIVATION)
            .await?
            .map(|i| from_item(&i))
            .transpose()
    }

    /// The activation with its optimistic-concurrency version (`None` on items written
    /// before versions were kept).
    pub async fn activation_versioned(
        &self,
        orgnr: &Orgnr,
    ) -> Result<Option<(Activation, Option<i64>)>, DomainError> {
        let ck = self.company_key(orgnr);
        self.store
            .get(&keys::company(&ck), keys::ACTIVATION)
            .await?
            .map(|i| Ok((from_item(&i)?, i.i64("version"))))
            .transpose()
    }

    /// Records an activation, with the activating admin as the company's first grant.
    /// `expected`: `None` for the first activation (the item must not exist, so of many
    /// admins activating at once exactly one becomes the first administrator), else the
    /// version read. `Ok(false)` when another change got there first.
    pub async fn save_activation(
        &self,
        a: &Activation,
        first_admin: Option<&Grant>,
        expected: Option<Option<i64>>,
    ) -> Result<bool, DomainError> {
        let ck = self.company_key(&a.company_orgnr);
        let (condition, version) = match expected {
            None => (Condition::NotExists, 1),
            Some(Some(v)) => (
                Condition::AttrEquals("version".into(), Value::from(v)),
                v + 1,
            ),
            Some(None) => (Condition::None, 1),
        };
        let mut ops = vec![
            WriteOp::Put {
                item: item_of(keys::company(&ck), keys::ACTIVATION.into(), a)?
                    .with("version", version),
                condition,
            },
            WriteOp::put(
                Item::new(keys::COMPANIES, ck.clone())
                    .with("company_orgnr", a.company_orgnr.to_string())
                    .with("active", a.is_active()),
            ),
        ];
        if let Some(g) = first_admin {
            ops.push(WriteOp::put(item_of(keys::users(&ck), g.sub.clone(), g)?));
        }
        created(self.store.transact(ops).await)
    }

    // --- grants -----------------------------------------------------------------------

    pub async fn grant(&self, orgnr: &Orgnr, sub: &str) -> Result<Option<Grant>, DomainError> {
        let ck = self.company_key(orgnr);
        self.store
            .get(&keys::users(&ck), sub)
            .await?
            .map(|i| from_item(&i))
            .transpose()
    }

    pub async fn grants(
        &self,
        orgnr: &Orgnr,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> Result<Page<Grant>, DomainError> {
        let ck = self.company_key(orgnr);
        self.page(keys::users(&ck), SkRange::All, cursor, limit, None)
            .await
    }

    pub async fn all_grants(&self, orgnr: &Orgnr) -> Result<Vec<Grant>, DomainError> {
        let ck = self.company_key(orgnr);
        let items = self
            .store
            .query_all(&keys::users(&ck), SkRange::All)
            .await?;
        items.iter().map(from_item).collect()
    }

    /// Writes a grant and, when the change takes a company_admin away, re-asserts
    /// `witness` — another company_admin's grant as it was read — in the same
    /// transaction: two admins demoting or removing each other at once cannot both
    /// succeed, so the company always keeps one. `Ok(false)` when a condition failed.
    pub async fn put_grant(
        &self,
        orgnr: &Orgnr,
        g: &Grant,
        witness: Option<&Grant>,
    ) -> Result<bool, DomainError> {
        let ck = self.company_key(orgnr);
        let mut ops = vec![WriteOp::put(item_of(keys::users(&ck), g.sub.clone(), g)?)];
        if let Some(w) = witness {
            ops.push(self.witness_op(&ck, w)?);
        }
        created(self.store.transact(ops).await)
    }

    /// Removes a grant (it must still exist), re-asserting `witness` as
    /// [`Ledger::put_grant`] does. `Ok(false)` when a condition failed.
    pub async fn delete_grant(
        &self,
        orgnr: &Orgnr,
        sub: &str,
        witness: Option<&Grant>,
    ) -> Result<bool, DomainError> {
        let ck = self.company_key(orgnr);
        let mut ops = vec![WriteOp::Delete {
            pk: keys::users(&ck),
            sk: sub.to_string(),
            condition: Condition::AttrEquals("sub".into(), Value::String(sub.into())),
        }];
        if let Some(w) = witness {
            ops.push(self.witness_op(&ck, w)?);
        }
        created(self.store.transact(ops).await)
    }

    /// Puts a grant back unchanged, on condition that it is unchanged.
    fn witness_op(&self, ck: &str, w: &Grant) -> Result<WriteOp, DomainError> {
        let granted_at = serde_json::to_value(w.granted_at)
            .map_err(|e| DomainError::Internal(format!("cannot encode a grant: {e}")))?;
        Ok(WriteOp::Put {
            item: item_of(keys::users(ck), w.sub.clone(), w)?,
            condition: Condition::AttrEquals("granted_at".into(), granted_at),
        })
    }

    // --- batches ----------------------------------------------------------------------

    pub async fn batch(
        &self,
        partner_id: &str,
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
        partner_id: &str,
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

    fn record_item(record: &EventRecord, root: &str) -> Result<Item, DomainError> {
        Ok(Item::new(
            keys::event(&record.partner_id, &record.fields.event_id),
            keys::RECORD,
        )
        .with("record", Value::Object(to_attrs(record)?))
        .with("root", root.to_string()))
    }

    fn event_item(pk: String, sk: String, e: &LedgerEvent) -> Result<Item, DomainError> {
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
        let mut ops = Vec::with_capacity(events.len() * 2 + 1);
        let mut owners = Vec::with_capacity(events.len() * 2 + 1);
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

    pub async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        self.store.transact(ops).await
    }

    pub async fn head(
        &self,
        partner_id: &str,
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
        partner_id: &str,
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

    // --- timelines ----------------------------------------------------------------------

    async fn timeline(
        &self,
        pk: String,
        from: &Instant,
        to: &Instant,
    ) -> Result<Vec<LedgerEvent>, DomainError> {
        let (lo, hi) = keys::time_range(from, to);
        let items = self.store.query_all(&pk, SkRange::Between(lo, hi)).await?;
        items.iter().map(|i| nested(i, "event")).collect()
    }

    /// A person's events (withdrawn ones included) with `occurred_at` in `[from, to)`.
    pub async fn person_events(
        &self,
        ck: &str,
        person_ref: &str,
        from: &Instant,
        to: &Instant,
    ) -> Result<Vec<LedgerEvent>, DomainError> {
        self.timeline(keys::person_timeline(ck, person_ref), from, to)
            .await
    }

    /// A site's events (withdrawn included) with `occurred_at` in `[from, to)`: the
    /// company's day partitions of the range, read at once, kept to the site.
    pub async fn site_events(
        &self,
        ck: &str,
        site_id: &str,
        from: &Instant,
        to: &Instant,
    ) -> Result<Vec<LedgerEvent>, DomainError> {
        let mut events = self.company_events(ck, from, to).await?;
        events.retain(|e| e.site_id.as_str() == site_id);
        Ok(events)
    }

    /// The company's events (withdrawn included) with `occurred_at` in `[from, to)`,
    /// read from the day partitions that hold data in the range: one query for the
    /// day index, then every day with events at once (at most [`PARTITION_READS`] in
    /// flight), in day order — two round trips whatever the span.
    pub async fn company_events(
        &self,
        ck: &str,
        from: &Instant,
        to: &Instant,
    ) -> Result<Vec<LedgerEvent>, DomainError> {
        if to <= from {
            return Ok(Vec::new());
        }
        let days = self
            .data_days(ck, Some(local_date(from)), Some(local_date(to)))
            .await?;
        let parts: Vec<Vec<LedgerEvent>> = futures::stream::iter(days)
            .map(|day| self.day_events(ck, day))
            .buffered(PARTITION_READS)
            .try_collect()
            .await?;
        Ok(parts
            .into_iter()
            .flatten()
            .filter(|e| e.occurred_at >= *from && e.occurred_at < *to)
            .collect())
    }

    /// Notes local days as holding events (idempotent). Written before the events
    /// themselves, so a reader never misses a stored event's day.
    pub async fn note_days(
        &self,
        ck: &str,
        days: &std::collections::BTreeSet<chrono::NaiveDate>,
    ) -> Result<(), DomainError> {
        let ops: Vec<WriteOp> = days
            .iter()
            .map(|d| WriteOp::put(Item::new(keys::data_days(ck), d.to_string())))
            .collect();
        for chunk in ops.chunks(25) {
            self.store.transact(chunk.to_vec()).await?;
        }
        Ok(())
    }

    /// The local days in `[from, to]` (open ends: all) that hold events, in order.
    pub async fn data_days(
        &self,
        ck: &str,
        from: Option<chrono::NaiveDate>,
        to: Option<chrono::NaiveDate>,
    ) -> Result<Vec<chrono::NaiveDate>, DomainError> {
        let range = match (from, to) {
            (None, None) => SkRange::All,
            (f, t) => {
                let lo = f.map(|d| d.to_string()).unwrap_or_else(|| "0".into());
                let hi = t.map(|d| d.to_string()).unwrap_or_else(|| "9".into());
                if lo > hi {
                    return Ok(Vec::new());
                }
                SkRange::Between(lo, hi)
            }
        };
        let items = self.store.query_all(&keys::data_days(ck), range).await?;
        Ok(items.iter().filter_map(|i| i.sk.parse().ok()).collect())
    }

    /// Forgets a day whose events have all been purged.
    pub async fn forget_day(&self, ck: &str, day: chrono::NaiveDate) -> Result<(), DomainError> {
        Ok(self
            .store
            .transact(vec![WriteOp::Delete {
                pk: keys::data_days(ck),
                sk: day.to_string(),
                condition: Condition::None,
            }])
            .await?)
    }

    /// The span of the company's activity, from its site directory (`None` if empty).
    pub async fn company_span(&self, ck: &str) -> Result<Option<(Instant, Instant)>, DomainError> {
        let items = self.store.query_all(&keys::sites(ck), SkRange::All).await?;
        let sites: Vec<SiteEntry> = items.iter().map(from_item).collect::<Result<_, _>>()?;
        let first = sites.iter().map(|s| s.first_seen).min();
        let last = sites.iter().map(|s| s.last_seen).max();
        Ok(first.zip(last))
    }

    // --- retention -------------------------------------------------------------------

    /// Notes an archived object under the year its retention ends, with the companies
    /// and local days it holds, so the purge can find it without listing the archive.
    pub async fn note_archived(&self, entry: &ArchivedEntry) -> Result<(), DomainError> {
        let item = item_of(
            keys::retention(chrono::Datelike::year(&entry.retain_until)),
            format!("{}#{}", entry.retain_until, entry.key),
            entry,
        )?;
        Ok(self.store.transact(vec![WriteOp::put(item)]).await?)
    }

    /// Archived objects whose retention ended before `today`.
    pub async fn expired_archive_objects(
        &self,
        today: chrono::NaiveDate,
    ) -> Result<Vec<ArchivedEntry>, DomainError> {
        let mut out = Vec::new();
        // Sort keys are `{retain_until}#{key}`: every one dated before today sorts below
        // the bare date. Retention years start with the service.
        for year in 2000..=chrono::Datelike::year(&today) {
            let items = self
                .store
                .query_all(
                    &keys::retention(year),
                    SkRange::Between("0".to_string(), today.to_string()),
                )
                .await?;
            for i in &items {
                let e: ArchivedEntry = from_item(i)?;
                if e.retain_until < today {
                    out.push(e);
                }
            }
        }
        Ok(out)
    }

    /// Every entry of the retention index whose retention ends in one of `years`.
    pub async fn archived_entries(
        &self,
        years: std::ops::RangeInclusive<i32>,
    ) -> Result<Vec<ArchivedEntry>, DomainError> {
        let mut out = Vec::new();
        for year in years {
            for i in self
                .store
                .query_all(&keys::retention(year), SkRange::All)
                .await?
            {
                out.push(from_item(&i)?);
            }
        }
        Ok(out)
    }

    pub async fn forget_archived(&self, entry: &ArchivedEntry) -> Result<(), DomainError> {
        let mut ops = vec![WriteOp::Delete {
            pk: keys::retention(chrono::Datelike::year(&entry.retain_until)),
            sk: format!("{}#{}", entry.retain_until, entry.key),
            condition: Condition::None,
        }];
        if let Some((partner, batch)) = &entry.batch {
            ops.push(WriteOp::Delete {
                pk: keys::batch(partner, batch),
                sk: keys::BATCH.into(),
                condition: Condition::None,
            });
        }
        Ok(self.store.transact(ops).await?)
    }

    /// The company's events on one local day (withdrawn included), in timeline order.
    pub async fn day_events(
        &self,
        ck: &str,
        day: chrono::NaiveDate,
    ) -> Result<Vec<LedgerEvent>, DomainError> {
        let items = self
            .store
            .query_all(&keys::day_timeline(ck, &day.to_string()), SkRange::All)
            .await?;
        day_partition_events(&items)
    }

    /// Erases events whose retention has ended (spec §2.3: purged from the index once
    /// kept as long as the law requires): their timeline entries (and day-chunk
    /// entries), effective state, record, and every correction with its record. The
    /// writes go in an order after which an interruption leaves each event still
    /// visible in its day, so the next run finds it again: uncorrected events lose
    /// their other items before their chunk entry; corrected ones lose their chunked
    /// first version (hidden already) before their own entries.
    pub async fn purge_events(&self, ck: &str, events: &[LedgerEvent]) -> Result<(), DomainError> {
        use std::collections::{BTreeMap, HashSet};
        let mut first: Vec<WriteOp> = Vec::new();
        let mut last: Vec<WriteOp> = Vec::new();
        let mut chunked: BTreeMap<String, HashSet<(String, String)>> = BTreeMap::new();
        for e in events {
            let ops = if e.corrections == 0 {
                &mut first
            } else {
                &mut last
            };
            let delete = |(pk, sk): (String, String)| WriteOp::Delete {
                pk,
                sk,
                condition: Condition::None,
            };
            ops.push(delete(person_key(ck, e)));
            ops.push(delete(day_key(ck, e)));
            ops.push(delete(legacy_site_key(ck, e)));
            let pk = keys::event(&e.partner_id, &e.event_id);
            ops.push(delete((pk.clone(), keys::EFFECTIVE.into())));
            ops.push(delete((pk.clone(), keys::RECORD.into())));
            for c in self.corrections(&e.partner_id, &e.event_id).await? {
                ops.push(delete((pk.clone(), keys::correction(c.seq))));
                ops.push(delete((
                    keys::event(&c.partner_id, &c.event_id),
                    keys::RECORD.into(),
                )));
            }
            // The first version's day holds it in a chunk (superseded once corrected).
            let first_pk = day_pk(ck, &e.first_occurred_at);
            if e.corrections > 0 {
                ops.push(delete((
                    first_pk.clone(),
                    keys::superseded(&e.partner_id, &e.event_id),
                )));
            }
            chunked
                .entry(first_pk)
                .or_default()
                .insert((e.partner_id.clone(), e.event_id.clone()));
        }
        let mut chunk_ops = Vec::new();
        for (pk, gone) in chunked {
            let chunks = self
                .store
                .query_all(&pk, SkRange::Prefix(keys::DAY_CHUNK_PREFIX.into()))
                .await?;
            for chunk in chunks {
                let events: Vec<Value> = nested(&chunk, "events")?;
                let kept: Vec<Value> = events
                    .iter()
                    .filter(|e| {
                        let key = (
                            e["partner_id"].as_str().unwrap_or_default().to_string(),
                            e["event_id"].as_str().unwrap_or_default().to_string(),
                        );
                        !gone.contains(&key)
                    })
                    .cloned()
                    .collect();
                if kept.len() == events.len() {
                    continue;
                }
                chunk_ops.push(if kept.is_empty() {
                    WriteOp::Delete {
                        pk: chunk.pk,
                        sk: chunk.sk,
                        condition: Condition::None,
                    }
                } else {
                    WriteOp::put(Item::new(chunk.pk, chunk.sk).with("events", Value::Array(kept)))
                });
            }
        }
        // Chunks go one per transaction: each may be large.
        for chunk in first.chunks(25) {
            self.store.transact(chunk.to_vec()).await?;
        }
        for op in chunk_ops {
            self.store.transact(vec![op]).await?;
        }
        for chunk in last.chunks(25) {
            self.store.transact(chunk.to_vec()).await?;
        }
        Ok(())
    }

    /// Removes a person from the directory once no event of theirs is left.
    pub async fn forget_person_if_gone(
        &self,
        ck: &str,
        person_ref: &str,
    ) -> Result<bool, DomainError> {
        let mut q = Query::new(keys::person_timeline(ck, person_ref), SkRange::All);
        q.limit = 1;
        if !self.store.query(q).await?.items.is_empty() {
            return Ok(false);
        }
        let mut ops = vec![WriteOp::Delete {
            pk: keys::people(ck),
            sk: person_ref.into(),
            condition: Condition::None,
        }];
        let employers = self
            .store
            .query_all(&keys::person_employers(ck, person_ref), SkRange::All)
            .await?;
        for e in employers {
            ops.push(WriteOp::Delete {
                pk: keys::employer_people(ck, &e.sk),
                sk: person_ref.into(),
                condition: Condition::None,
            });
            ops.push(WriteOp::Delete {
                pk: e.pk,
                sk: e.sk,
                condition: Condition::None,
            });
        }
        for chunk in ops.chunks(25) {
            self.store.transact(chunk.to_vec()).await?;
        }
        Ok(true)
    }

    /// Drops the aggregate rows of a purged day.
    pub async fn forget_day_stats(
        &self,
        ck: &str,
        day: chrono::NaiveDate,
    ) -> Result<(), DomainError> {
        self.replace_day_stats(ck, day, Vec::new()).await
    }

    // --- legal holds ---------------------------------------------------------------------

    pub async fn holds(&self, ck: &str) -> Result<Vec<LegalHold>, DomainError> {
        let items = self.store.query_all(&keys::holds(ck), SkRange::All).await?;
        items.iter().map(from_item).collect()
    }

    pub async fn hold(&self, ck: &str, id: &str) -> Result<Option<LegalHold>, DomainError> {
        self.store
            .get(&keys::holds(ck), id)
            .await?
            .map(|i| from_item(&i))
            .transpose()
    }

    pub async fn save_hold(&self, ck: &str, h: &LegalHold) -> Result<(), DomainError> {
        Ok(self
            .store
            .transact(vec![WriteOp::put(item_of(
                keys::holds(ck),
                h.id.clone(),
                h,
            )?)])
            .await?)
    }

    // --- announcements -------------------------------------------------------------------

    pub async fn save_announcement(
        &self,
        a: &crate::governance::admin::Announcement,
        sk: String,
    ) -> Result<(), DomainError> {
        let item = item_of(keys::ANNOUNCEMENTS.into(), sk, a)?;
        Ok(self.store.transact(vec![WriteOp::create(item)]).await?)
    }

    pub async fn announcements(&self) -> Result<Vec<crate::governance::admin::Announcement>, DomainError> {
        let items = self
            .store
            .query_all(keys::ANNOUNCEMENTS, SkRange::All)
            .await?;
        items.iter().map(from_item).collect()
    }

    /// Updates a partner (suspension); the partner must exist.
    pub async fn update_partner(&self, p: &Partner) -> Result<bool, DomainError> {
        let item = item_of(keys::PARTNERS.into(), p.partner_id.clone(), p)?;
        created(
            self.store
                .transact(vec![WriteOp::Put {
                    item,
                    condition: Condition::AttrEquals(
                        "partner_id".into(),
                        Value::String(p.partner_id.clone()),
                    ),
                }])
                .await,
        )
    }

    // --- statistics bookkeeping ---------------------------------------------------------

    /// Marks local days whose aggregates an import changed.
    pub async fn mark_dirty(
        &self,
        ck: &str,
        days: &[chrono::NaiveDate],
        marker: &str,
    ) -> Result<(), DomainError> {
        // A day an import touched holds data (or held it: a stale day entry costs one
        // empty query, a missing one would hide events).
        let mut ops: Vec<WriteOp> = days
            .iter()
            .map(|d| {
                WriteOp::put(
                    Item::new(keys::dirty_days(ck), d.to_string())
                        .with("marker", marker.to_string()),
                )
            })
            .collect();
        ops.extend(
            days.iter()
                .map(|d| WriteOp::put(Item::new(keys::data_days(ck), d.to_string()))),
        );
        for chunk in ops.chunks(25) {
            self.store.transact(chunk.to_vec()).await?;
        }
        Ok(())
    }

    /// The dirty days of a company, each with the marker it was last marked with.
    pub async fn dirty_days(
        &self,
        ck: &str,
    ) -> Result<Vec<(chrono::NaiveDate, String)>, DomainError> {
        let items = self
            .store
            .query_all(&keys::dirty_days(ck), SkRange::All)
            .await?;
        Ok(items
            .iter()
            .filter_map(|i| Some((i.sk.parse().ok()?, i.str("marker")?.to_string())))
            .collect())
    }

    /// Clears a dirty mark unless it was marked again since it was read.
    pub async fn clear_dirty(
        &self,
        ck: &str,
        day: chrono::NaiveDate,
        marker: &str,
    ) -> Result<(), DomainError> {
        let op = WriteOp::Delete {
            pk: keys::dirty_days(ck),
            sk: day.to_string(),
            condition: Condition::AttrEquals("marker".into(), Value::String(marker.into())),
        };
        match self.store.transact(vec![op]).await {
            Ok(()) | Err(StoreError::ConditionFailed(_)) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Replaces one day's aggregate rows (a row per site and `None` for the total).
    pub async fn replace_day_stats(
        &self,
        ck: &str,
        day: chrono::NaiveDate,
        rows: Vec<(Option<String>, Value)>,
    ) -> Result<(), DomainError> {
        let pk = keys::day_stats(ck);
        let prefix = format!("{day}#");
        let existing = self.store.query_all(&pk, SkRange::Prefix(prefix)).await?;
        let mut ops = Vec::new();
        let new_keys: Vec<String> = rows
            .iter()
            .map(|(site, _)| keys::stats_row(&day.to_string(), site.as_deref()))
            .collect();
        for it in existing {
            if !new_keys.contains(&it.sk) {
                ops.push(WriteOp::Delete {
                    pk: pk.clone(),
                    sk: it.sk,
                    condition: Condition::None,
                });
            }
        }
        for ((_, row), sk) in rows.into_iter().zip(new_keys) {
            let Value::Object(attrs) = row else {
                return Err(DomainError::Internal(
                    "a statistics row must be an object".into(),
                ));
            };
            ops.push(WriteOp::put(Item {
                pk: pk.clone(),
                sk,
                attrs,
            }));
        }
        for chunk in ops.chunks(25) {
            self.store.transact(chunk.to_vec()).await?;
        }
        Ok(())
    }

    /// When the company's stored aggregates were last refreshed: the start of the last
    /// complete refresh (`None` before the first).
    pub async fn stats_refreshed_at(&self, ck: &str) -> Result<Option<DateTime<Utc>>, DomainError> {
        Ok(self
            .store
            .get(&keys::day_stats(ck), keys::STATS_REFRESHED)
            .await?
            .and_then(|i| DateTime::parse_from_rfc3339(i.str("refreshed_at")?).ok())
            .map(|t| t.with_timezone(&Utc)))
    }

    /// Notes a complete refresh that started at `at`.
    pub async fn set_stats_refreshed_at(
        &self,
        ck: &str,
        at: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        let item = Item::new(keys::day_stats(ck), keys::STATS_REFRESHED).with(
            "refreshed_at",
            at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        );
        Ok(self.store.transact(vec![WriteOp::put(item)]).await?)
    }

    /// Stored aggregate rows for local days `[from, to]`, with their sort keys.
    pub async fn day_stats(
        &self,
        ck: &str,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> Result<Vec<(String, Value)>, DomainError> {
        let items = self
            .store
            .query_all(
                &keys::day_stats(ck),
                // `~~` also covers the per-employer rows (`{day}#~E{orgnr}#…`).
                SkRange::Between(format!("{from}#"), format!("{to}#~~")),
            )
            .await?;
        Ok(items
            .into_iter()
            .map(|i| (i.sk, Value::Object(i.attrs)))
            .collect())
    }

    /// Notes one batch in a partner's delivery health for the company: one row per
    /// batch, written whole (a retry of the batch writes the same row again), so each
    /// batch counts once and nothing waits on a shared counter.
    pub async fn note_delivery(
        &self,
        ck: &str,
        partner_id: &str,
        batch_id: &str,
        received: u64,
        rejected: u64,
        at: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        let item = Item::new(keys::partner_health(ck), format!("{partner_id}#{batch_id}"))
            .with("partner_id", partner_id)
            .with("batch_id", batch_id)
            .with("events_received", received as i64)
            .with("events_rejected", rejected as i64)
            .with("last_delivery", at.to_rfc3339());
        self.store.transact(vec![WriteOp::put(item)]).await?;
        Ok(())
    }

    /// Each partner's delivery health for the company at `now`, summed over its batch
    /// rows; `last_delivery` is the latest batch's receipt time, so it never moves
    /// backwards; `silent_since` (spec §11) comes from the local days of the batches that
    /// carried events, so no ledger scan is needed.
    pub async fn partner_health(
        &self,
        ck: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<PartnerHealth>, DomainError> {
        let items = self
            .store
            .query_all(&keys::partner_health(ck), SkRange::All)
            .await?;
        let mut by_partner: std::collections::BTreeMap<String, PartnerHealth> =
            std::collections::BTreeMap::new();
        for i in items {
            let Some(pid) = i.str("partner_id") else {
                continue;
            };
            let h = by_partner
                .entry(pid.to_string())
                .or_insert_with(|| PartnerHealth {
                    partner_id: pid.to_string(),
                    events_received: 0,
                    events_rejected: 0,
                    last_delivery: None,
                    silent_since: None,
                    last_at: None,
                    last_events_at: None,
                    delivery_days: Default::default(),
                });
            h.events_received += i.i64("events_received").unwrap_or(0);
            h.events_rejected += i.i64("events_rejected").unwrap_or(0);
            let at = i
                .str("last_delivery")
                .and_then(|a| DateTime::parse_from_rfc3339(a).ok())
                .map(|a| a.with_timezone(&Utc));
            if at > h.last_at {
                h.last_at = at;
                h.last_delivery = i.str("last_delivery").map(str::to_string);
            }
            if let Some(at) = at.filter(|_| i.i64("events_received").unwrap_or(0) > 0) {
                h.delivery_days
                    .insert(crate::notify::silence::local_day(at));
                h.last_events_at = h.last_events_at.max(Some(at));
            }
        }
        Ok(by_partner
            .into_values()
            .map(|mut h| {
                h.silent_since = h.last_events_at.and_then(|last| {
                    crate::notify::silence::silent_since(&h.delivery_days, last, now)
                });
                h
            })
            .collect())
    }

    /// Active companies (for scheduled jobs): one partition, read with Query.
    pub async fn companies(&self) -> Result<Vec<(String, Orgnr, bool)>, DomainError> {
        let items = self.store.query_all(keys::COMPANIES, SkRange::All).await?;
        Ok(items
            .iter()
            .filter_map(|i| {
                let orgnr = Orgnr::parse(i.str("company_orgnr")?).ok()?;
                Some((
                    i.sk.clone(),
                    orgnr,
                    i.attrs
                        .get("active")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                ))
            })
            .collect())
    }

    // --- directories --------------------------------------------------------------------

    /// Notes the people and sites of newly stored events in the company's directories.
    /// Idempotent, so a replayed batch mends what an interrupted one left out.
    pub async fn note_in_directories(&self, events: &[LedgerEvent]) -> Result<(), DomainError> {
        use std::collections::BTreeMap;
        let mut people: BTreeMap<(String, String), &LedgerEvent> = BTreeMap::new();
        let mut employed: BTreeMap<(String, String, String), &LedgerEvent> = BTreeMap::new();
        let mut sites: BTreeMap<(String, String), (Instant, Instant)> = BTreeMap::new();
        for e in events {
            let ck = self.company_key(&e.company_orgnr);
            people.insert((ck.clone(), e.person_ref.clone()), e);
            if let Some(o) = &e.employer_orgnr {
                employed.insert((ck.clone(), o.to_string(), e.person_ref.clone()), e);
            }
            let span = sites
                .entry((ck, e.site_id.to_string()))
                .or_insert((e.occurred_at, e.occurred_at));
            if e.occurred_at < span.0 {
                span.0 = e.occurred_at;
            }
            if e.occurred_at > span.1 {
                span.1 = e.occurred_at;
            }
        }
        let mut ops: Vec<WriteOp> = Vec::new();
        for ((ck, person_ref), e) in people {
            let entry = PersonEntry {
                person_ref: person_ref.clone(),
                person_name: e.person_name.clone(),
                person_id_masked: e.person.masked(),
                person: e.person.clone(),
            };
            let item = item_of(keys::people(&ck), person_ref, &entry)?
                .with("name_lc", e.person_name.to_lowercase());
            ops.push(WriteOp::put(item));
        }
        for ((ck, _, _), e) in employed {
            ops.extend(employer_directory_ops(&ck, e)?);
        }
        for chunk in ops.chunks(25) {
            self.store.transact(chunk.to_vec()).await?;
        }
        for ((ck, site), (first, last)) in sites {
            self.widen_site(&ck, &site, first, last).await?;
        }
        Ok(())
    }

    /// Widens a site's first/last activity, retrying when a concurrent import got there.
    async fn widen_site(
        &self,
        ck: &str,
        site: &str,
        first: Instant,
        last: Instant,
    ) -> Result<(), DomainError> {
        for _ in 0..10 {
            let existing = self.store.get(&keys::sites(ck), site).await?;
            let (entry, condition, version) = match &existing {
                None => (
                    SiteEntry {
                        site_id: site.into(),
                        first_seen: first,
                        last_seen: last,
                    },
                    Condition::NotExists,
                    0,
                ),
                Some(item) => {
                    let mut e: SiteEntry = from_item(item)?;
                    let v = item.i64("version").unwrap_or(0);
                    if first >= e.first_seen && last <= e.last_seen {
                        return Ok(());
                    }
                    if first < e.first_seen {
                        e.first_seen = first;
                    }
                    if last > e.last_seen {
                        e.last_seen = last;
                    }
                    (
                        e,
                        Condition::AttrEquals("version".into(), Value::from(v)),
                        v + 1,
                    )
                }
            };
            let item = item_of(keys::sites(ck), site.into(), &entry)?
                .with("version", version)
                .with("first_sort", sortable(&entry.first_seen));
            match self
                .store
                .transact(vec![WriteOp::Put { item, condition }])
                .await
            {
                Ok(()) => return Ok(()),
                Err(StoreError::ConditionFailed(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(DomainError::Unavailable(
            "site directory is busy; retry".into(),
        ))
    }

    /// The company's people; with `employer`, those whose events name that employer.
    pub async fn people(
        &self,
        ck: &str,
        q: Option<&str>,
        employer: Option<&Orgnr>,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> Result<Page<PersonEntry>, DomainError> {
        let filter = q
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| ("name_lc".to_string(), s.to_lowercase()));
        let pk = match employer {
            Some(o) => keys::employer_people(ck, &o.to_string()),
            None => keys::people(ck),
        };
        self.page(pk, SkRange::All, cursor, limit, filter).await
    }

    pub async fn person(
        &self,
        ck: &str,
        person_ref: &str,
    ) -> Result<Option<PersonEntry>, DomainError> {
        self.store
            .get(&keys::people(ck), person_ref)
            .await?
            .map(|i| from_item(&i))
            .transpose()
    }

    pub async fn sites(
        &self,
        ck: &str,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> Result<Page<SiteEntry>, DomainError> {
        self.page(keys::sites(ck), SkRange::All, cursor, limit, None)
            .await
    }

    pub async fn site(&self, ck: &str, site_id: &str) -> Result<Option<SiteEntry>, DomainError> {
        self.store
            .get(&keys::sites(ck), site_id)
            .await?
            .map(|i| from_item(&i))
            .transpose()
    }
}

/// The writes that note a person in the directory of the employer their event names
/// (none without `employer_orgnr`), and the employer on the person for the purge.
pub(crate) fn employer_directory_ops(
    ck: &str,
    e: &LedgerEvent,
) -> Result<Vec<WriteOp>, DomainError> {
    let Some(employer) = e.employer_orgnr.as_ref().map(|o| o.to_string()) else {
        return Ok(Vec::new());
    };
    let entry = PersonEntry {
        person_ref: e.person_ref.clone(),
        person_name: e.person_name.clone(),
        person_id_masked: e.person.masked(),
        person: e.person.clone(),
    };
    let item = item_of(
        keys::employer_people(ck, &employer),
        e.person_ref.clone(),
        &entry,
    )?
    .with("name_lc", e.person_name.to_lowercase());
    Ok(vec![
        WriteOp::put(item),
        WriteOp::put(Item::new(
            keys::person_employers(ck, &e.person_ref),
            employer,
        )),
    ])
}

/// `Ok(true)` when a conditional write went through, `Ok(false)` when its condition failed.
fn created(r: Result<(), StoreError>) -> Result<bool, DomainError> {
    match r {
        Ok(()) => Ok(true),
        Err(StoreError::ConditionFailed(_)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}
