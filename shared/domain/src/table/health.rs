//! Partners' delivery health per company (statistics' `partners`, spec §11 silence).
//!
//! An import notes one row per batch (`{partner_id}#{batch_id}`), written whole, so a
//! retried batch writes the same row again and counts once, and no push waits on a
//! shared counter. The scheduled statistics job folds rows into one rollup per partner
//! (`#R#{partner_id}`), so a read costs the partners and the batches since the last fold,
//! not every batch ever delivered.
//!
//! A row is folded only once its batch's answer is stored: from then on a retry of the
//! batch is answered from that answer and never notes the row again, so a folded batch
//! cannot come back and count twice. Each fold is one transaction (the rollup's put,
//! conditional on the version it read, and the rows' deletes), so a read sees a batch
//! either as its row or inside the rollup, and two folds at once cannot both apply.

use super::{keys, Ledger, PARTITION_READS};
use crate::error::DomainError;
use crate::identity::pseudonym::CompanyKey;
use crate::identity::PartnerId;
use crate::notify::silence;
use crate::ports::{Condition, Item, SkRange, StoreError, WriteOp, MAX_TRANSACTION_OPS};
use chrono::{DateTime, NaiveDate, Utc};
use futures::{StreamExt, TryStreamExt};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Sort-key prefix of a partner's rollup; partner ids never start with `#`.
const ROLLUP: &str = "#R#";

/// A partner's delivery health for one company (statistics' `partners`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartnerHealth {
    pub partner_id: PartnerId,
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
    delivery_days: BTreeSet<NaiveDate>,
}

impl PartnerHealth {
    fn new(partner_id: &PartnerId) -> Self {
        PartnerHealth {
            partner_id: partner_id.clone(),
            events_received: 0,
            events_rejected: 0,
            last_delivery: None,
            silent_since: None,
            last_at: None,
            last_events_at: None,
            delivery_days: BTreeSet::new(),
        }
    }

    /// Adds one batch row, or a rollup of earlier ones.
    fn add(&mut self, i: &Item) {
        let received = i.i64("events_received").unwrap_or(0);
        self.events_received += received;
        self.events_rejected += i.i64("events_rejected").unwrap_or(0);
        let at = time_of(i, "last_delivery");
        if at > self.last_at {
            self.last_at = at;
            self.last_delivery = i.str("last_delivery").map(str::to_string);
        }
        if i.sk.starts_with(ROLLUP) {
            self.last_events_at = self.last_events_at.max(time_of(i, "last_events_at"));
            let days = i.attrs.get("delivery_days").and_then(Value::as_array);
            for d in days.into_iter().flatten() {
                if let Some(d) = d.as_str().and_then(|d| d.parse().ok()) {
                    self.delivery_days.insert(d);
                }
            }
        } else if let Some(at) = at.filter(|_| received > 0) {
            self.delivery_days.insert(silence::local_day(at));
            self.last_events_at = self.last_events_at.max(Some(at));
        }
    }

    /// The rollup item holding this sum, at `version`.
    fn rollup_item(&self, ck: &CompanyKey, version: i64) -> Item {
        // Silence looks at the last 10 weekdays only; the newest kept days cover them.
        let mut days = self.delivery_days.clone();
        while days.len() > silence::KEPT_DELIVERY_DAYS {
            days.pop_first();
        }
        let mut item = Item::new(
            keys::partner_health(ck),
            format!("{ROLLUP}{}", self.partner_id),
        )
        .with("partner_id", self.partner_id.as_str())
        .with("events_received", self.events_received)
        .with("events_rejected", self.events_rejected)
        .with("version", version)
        .with(
            "delivery_days",
            days.iter()
                .map(|d| Value::from(d.to_string()))
                .collect::<Vec<_>>(),
        );
        if let Some(l) = &self.last_delivery {
            item = item.with("last_delivery", l.as_str());
        }
        if let Some(t) = self.last_events_at {
            item = item.with("last_events_at", t.to_rfc3339());
        }
        item
    }
}

fn time_of(i: &Item, attr: &str) -> Option<DateTime<Utc>> {
    i.str(attr)
        .and_then(|a| DateTime::parse_from_rfc3339(a).ok())
        .map(|a| a.with_timezone(&Utc))
}

/// What one fold did, for the job's summary.
#[derive(Debug, Default, Clone, Copy, PartialEq, Serialize)]
pub struct Folded {
    /// Batch rows folded into rollups.
    pub rows: usize,
    /// Partners whose fold met a concurrent one and waits for the next round.
    pub deferred: usize,
}

impl Ledger {
    /// Notes one batch in a partner's delivery health for the company (see the module).
    pub async fn note_delivery(
        &self,
        ck: &CompanyKey,
        partner_id: &PartnerId,
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

    /// Each partner's delivery health for the company at `now`: its rollup plus the rows
    /// noted since. `last_delivery` is the latest batch's receipt time, so it never moves
    /// backwards; `silent_since` (spec §11) comes from the local days of the batches that
    /// carried events, so no ledger scan is needed.
    pub async fn partner_health(
        &self,
        ck: &CompanyKey,
        now: DateTime<Utc>,
    ) -> Result<Vec<PartnerHealth>, DomainError> {
        let items = self
            .store
            .query_all(&keys::partner_health(ck), SkRange::All)
            .await?;
        Ok(sum_by_partner(&items)
            .into_values()
            .map(|mut h| {
                h.silent_since = h
                    .last_events_at
                    .and_then(|last| silence::silent_since(&h.delivery_days, last, now));
                h
            })
            .collect())
    }

    /// Folds every batch row whose answer is stored into its partner's rollup. Safe to
    /// run twice at once: the loser of a race defers that partner to the next round.
    pub async fn fold_partner_health(&self, ck: &CompanyKey) -> Result<Folded, DomainError> {
        let items = self
            .store
            .query_all(&keys::partner_health(ck), SkRange::All)
            .await?;
        let mut rollups: BTreeMap<&str, &Item> = BTreeMap::new();
        let mut rows: BTreeMap<&str, Vec<&Item>> = BTreeMap::new();
        for i in &items {
            let Some(pid) = i.str("partner_id") else {
                continue;
            };
            if i.sk.starts_with(ROLLUP) {
                rollups.insert(pid, i);
            } else {
                rows.entry(pid).or_default().push(i);
            }
        }
        let mut done = Folded::default();
        for (stored_pid, rows) in rows {
            let pid = &PartnerId::from_stored(stored_pid);
            // Only batches whose answer is stored (see the module).
            let batches: Vec<String> = rows
                .iter()
                .map(|i| i.str("batch_id").unwrap_or_default().to_string())
                .collect();
            let stored: Vec<bool> = futures::stream::iter(batches)
                .map(|b| async move { Ok::<_, DomainError>(self.batch(pid, &b).await?.is_some()) })
                .buffered(PARTITION_READS)
                .try_collect()
                .await?;
            let answered: Vec<&Item> = rows
                .into_iter()
                .zip(stored)
                .filter_map(|(i, stored)| stored.then_some(i))
                .collect();
            let mut rollup = rollups.get(stored_pid).copied().cloned();
            for chunk in answered.chunks(MAX_TRANSACTION_OPS - 1) {
                let mut sum = PartnerHealth::new(pid);
                let version = match &rollup {
                    Some(r) => {
                        sum.add(r);
                        r.i64("version").unwrap_or(0)
                    }
                    None => 0,
                };
                for i in chunk {
                    sum.add(i);
                }
                let next = sum.rollup_item(ck, version + 1);
                let mut ops = vec![WriteOp::Put {
                    item: next.clone(),
                    condition: match rollup {
                        Some(_) => Condition::AttrEquals("version".into(), Value::from(version)),
                        None => Condition::NotExists,
                    },
                }];
                ops.extend(chunk.iter().map(|i| WriteOp::Delete {
                    pk: i.pk.clone(),
                    sk: i.sk.clone(),
                    // The row as read: a fold that already took it makes this one fail.
                    condition: Condition::AttrEquals(
                        "batch_id".into(),
                        i.attrs.get("batch_id").cloned().unwrap_or(Value::Null),
                    ),
                }));
                match self.store.transact(ops).await {
                    Ok(()) => {
                        done.rows += chunk.len();
                        rollup = Some(next);
                    }
                    Err(StoreError::ConditionFailed(_)) => {
                        done.deferred += 1;
                        break;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Ok(done)
    }
}

/// Rows and rollups summed per partner.
fn sum_by_partner(items: &[Item]) -> BTreeMap<PartnerId, PartnerHealth> {
    let mut by_partner: BTreeMap<PartnerId, PartnerHealth> = BTreeMap::new();
    for i in items {
        let Some(pid) = i.str("partner_id") else {
            continue;
        };
        let pid = PartnerId::from_stored(pid);
        by_partner
            .entry(pid.clone())
            .or_insert_with(|| PartnerHealth::new(&pid))
            .add(i);
    }
    by_partner
}
